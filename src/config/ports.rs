//! Port checks and automatic port assignment.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, TcpListener};

use super::schema::{Config, FIRST_MODEL_PORT};
use crate::error::Failure;

/// Lowest port a model may use (below needs root and clashes with system services).
pub const MIN_MODEL_PORT: u16 = 1024;

/// True when nothing listens on `port` on the loopback interface, where backends bind.
pub fn is_free_on_host(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// The first port from 8001 up that is not in `taken` and passes `is_free`.
pub fn next_free(taken: &BTreeSet<u16>, is_free: impl Fn(u16) -> bool) -> Option<u16> {
    (FIRST_MODEL_PORT..=u16::MAX).find(|p| !taken.contains(p) && is_free(*p))
}

/// Give every launching model without a port the next free one, skipping the
/// proxy port, ports in this config, `also_taken` (other configs) and ports
/// in use on the host. Returns the names and ports it assigned.
pub fn assign_missing(
    config: &mut Config,
    also_taken: &BTreeSet<u16>,
) -> Result<Vec<(String, u16)>, Failure> {
    let mut taken: BTreeSet<u16> = also_taken.clone();
    taken.insert(config.port);
    taken.extend(config.models.iter().filter_map(|m| m.port));
    let mut assigned = Vec::new();
    for model in config.models.iter_mut() {
        if model.port.is_some() || !model.engine.launches_process() {
            continue;
        }
        let port = next_free(&taken, is_free_on_host).ok_or_else(|| {
            Failure::runtime("no free port left from 8001 up").hint("pass --port explicitly")
        })?;
        taken.insert(port);
        model.port = Some(port);
        assigned.push((model.name.clone(), port));
    }
    Ok(assigned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_taken_ports() {
        let taken: BTreeSet<u16> = [8001, 8002, 8004].into();
        assert_eq!(next_free(&taken, |_| true), Some(8003));
    }

    #[test]
    fn skips_ports_in_use_on_the_host() {
        let taken = BTreeSet::new();
        assert_eq!(next_free(&taken, |p| p != 8001), Some(8002));
    }

    #[test]
    fn a_bound_port_is_not_free() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        assert!(!is_free_on_host(port));
    }
}
