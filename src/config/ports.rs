//! Port checks and automatic port assignment.

use std::collections::BTreeSet;
use std::io;
use std::net::{Ipv4Addr, TcpListener};

use super::schema::{Config, FIRST_MODEL_PORT};
use crate::error::Failure;

/// Lowest port a model may use (below needs root and clashes with system services).
pub const MIN_MODEL_PORT: u16 = 1024;

/// True when nothing listens on `port` on the loopback interface, where backends bind.
pub fn is_free_on_host(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// Why the proxy cannot listen on its address (`bind` failed with `err`),
/// and the hint that fixes it. `start` asks before it starts anything, the
/// supervisor again when it binds.
pub fn proxy_listen_problem(config: &Config, err: &io::Error) -> (String, &'static str) {
    let (host, port) = (&config.host, config.port);
    match err.kind() {
        io::ErrorKind::AddrInUse => (
            format!("port {port} of the proxy ({host}) is already in use on this machine"),
            "stop what holds the port (see 'ss -ltnp'), or move the proxy with 'vllm-mux edit-proxy --port P'",
        ),
        io::ErrorKind::AddrNotAvailable => (
            format!("the proxy's host {host} is not an address of this machine"),
            "use 0.0.0.0 for every interface, 127.0.0.1 for this machine only, or one of its addresses ('ip -brief address'): 'vllm-mux edit-proxy --host H'",
        ),
        io::ErrorKind::PermissionDenied => (
            format!("the proxy may not listen on port {port}: ports below 1024 need root or CAP_NET_BIND_SERVICE"),
            "use a port from 1024 up, e.g. 'vllm-mux edit-proxy --port 8000'",
        ),
        // A host name that does not resolve lands here, with the resolver's words.
        _ => (
            format!("the proxy cannot listen on {}: {err}", config.proxy_address()),
            "check the proxy's host and port ('vllm-mux show'); change them with 'vllm-mux edit-proxy --host H --port P'",
        ),
    }
}

/// The first port from 8001 up that is not in `taken` and passes `is_free`.
pub fn next_free(taken: &BTreeSet<u16>, is_free: impl Fn(u16) -> bool) -> Option<u16> {
    (FIRST_MODEL_PORT..=u16::MAX).find(|p| !taken.contains(p) && is_free(*p))
}

/// Ports a new model may not take: the proxy's, every copy's in `config`,
/// and `also_taken` (other configs').
pub fn taken_ports(config: &Config, also_taken: &BTreeSet<u16>) -> BTreeSet<u16> {
    let mut taken = also_taken.clone();
    taken.insert(config.port);
    taken.extend(
        config
            .models
            .iter()
            .flat_map(|m| m.instances())
            .filter_map(|i| i.model.port),
    );
    taken
}

/// Give every launching model without a port the next free one, skipping the
/// proxy port, ports in this config, `also_taken` (other configs) and ports
/// in use on the host. Returns the names and ports it assigned.
pub fn assign_missing(
    config: &mut Config,
    also_taken: &BTreeSet<u16>,
) -> Result<Vec<(String, u16)>, Failure> {
    let mut taken = taken_ports(config, also_taken);
    let mut assigned = Vec::new();
    let next = |taken: &mut BTreeSet<u16>| {
        let port = next_free(taken, is_free_on_host).ok_or_else(|| {
            Failure::runtime("no free port left from 8001 up").hint("pass --port explicitly")
        })?;
        taken.insert(port);
        Ok::<u16, Failure>(port)
    };
    for model in config
        .models
        .iter_mut()
        .filter(|m| m.engine.launches_process())
    {
        if model.port.is_none() {
            let port = next(&mut taken)?;
            model.port = Some(port);
            assigned.push((model.name.clone(), port));
        }
        for (i, replica) in model.replicas.iter_mut().enumerate() {
            if replica.port.is_none() {
                let port = next(&mut taken)?;
                replica.port = Some(port);
                assigned.push((
                    format!("{}{}{}", model.name, super::schema::REPLICA_SEP, i + 1),
                    port,
                ));
            }
        }
    }
    Ok(assigned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_get_ports_too() {
        let mut config = Config::default();
        let mut m = super::super::ModelConfig::new("m");
        m.engine = super::super::Engine::Mock;
        m.port = Some(8001);
        m.replicas = vec![super::super::Replica {
            gpu_ids: vec![],
            port: None,
        }];
        config.models.push(m);
        let assigned = assign_missing(&mut config, &BTreeSet::new()).expect("ports");
        assert_eq!(assigned.len(), 1);
        assert_eq!(assigned[0].0, "m@1");
        assert_ne!(config.models[0].replicas[0].port, Some(8001));
    }

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
    fn a_proxy_that_cannot_listen_is_told_why() {
        let config = Config {
            host: "192.0.2.1".into(),
            port: 8000,
            ..Config::default()
        };
        let says = |kind: io::ErrorKind| proxy_listen_problem(&config, &io::Error::from(kind));
        assert!(says(io::ErrorKind::AddrInUse).0.contains("already in use"));
        assert!(says(io::ErrorKind::AddrInUse).1.contains("--port"));
        let (message, hint) = says(io::ErrorKind::AddrNotAvailable);
        assert!(
            message.contains("192.0.2.1 is not an address of this machine"),
            "{message}"
        );
        assert!(hint.contains("--host"), "{hint}");
        assert!(says(io::ErrorKind::PermissionDenied)
            .0
            .contains("below 1024"));
        let (message, _) = says(io::ErrorKind::TimedOut);
        assert!(message.contains("192.0.2.1:8000"), "{message}");
    }

    #[test]
    fn a_test_net_address_is_not_on_this_machine() {
        // 192.0.2.0/24 is reserved for documentation: never a local address.
        let err = TcpListener::bind("192.0.2.1:0").expect_err("not local");
        assert_eq!(err.kind(), io::ErrorKind::AddrNotAvailable);
    }

    #[test]
    fn a_bound_port_is_not_free() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        assert!(!is_free_on_host(port));
    }
}
