//! Free GPU memory when the running supervisor is asked to start vLLM
//! servers (`start-model`, `reload`), checked as `start` checks it. The
//! memory of a server of ours that stops first (a swap group's member that
//! gives way, a model the reload changes or removes) counts as free.

use anyhow::Result;

use super::registry::Registry;
use super::swap::takes_turn;
use crate::config::profiles::Profiles;
use crate::config::schema::Instance;
use crate::config::Engine;
use crate::error::Failure;
use crate::gpu::free::{shortages_for, HINT};
use crate::gpu::Inventory;

/// The copies about to start, and the process groups (guard pids) of our
/// servers that stop before they do.
#[derive(Debug, Default)]
pub struct Plan {
    pub starting: Vec<Instance>,
    pub stopping: Vec<u32>,
}

/// What `start-model` of the copies `ids` starts and stops: the copies
/// without a server start; in a swap group, each other member whose
/// server runs gives way.
pub fn for_start(reg: &Registry, ids: &[String]) -> Plan {
    let mut plan = Plan::default();
    for id in ids {
        let Some((model, pid)) = reg.with(id, |e| (e.config.clone(), e.pid)) else {
            continue;
        };
        if pid.is_some() {
            continue;
        }
        if let Some(group) = &model.swap_group {
            for (other, _) in reg.swap_members(group) {
                if !ids.contains(&other) {
                    plan.stopping.extend(reg.with(&other, |e| e.pid).flatten());
                }
            }
        }
        plan.starting.push(Instance {
            id: id.clone(),
            model,
        });
    }
    plan
}

/// At `reload`: whether a copy of a swap group that starts would instead
/// begin idle, because a member that keeps running holds the group's turn
/// (`swap::start_or_idle` decides the same). `staying` says whether a copy
/// is left as it is.
pub fn idles_at_reload(reg: &Registry, copy: &Instance, staying: &dyn Fn(&str) -> bool) -> bool {
    let Some(group) = &copy.model.swap_group else {
        return false;
    };
    reg.swap_members(group)
        .into_iter()
        .any(|(other, state)| other != copy.id && staying(&other) && takes_turn(state))
}

/// Refuse (a usage error; `nothing` says what was left undone) when the
/// vLLM copies of `plan` would not find the free memory they ask for.
pub async fn check(plan: Plan, profiles: &Profiles, nothing: &str) -> Result<()> {
    // Only vLLM asks for a share of each GPU: NVML is not asked otherwise.
    if !plan.starting.iter().any(|i| i.model.engine == Engine::Vllm) {
        return Ok(());
    }
    let inventory = tokio::task::spawn_blocking(Inventory::detect)
        .await
        .map_err(|err| Failure::runtime(format!("cannot read the GPUs: {err}")))??;
    let released = |pid: u32| group_of(pid).is_some_and(|g| plan.stopping.contains(&g));
    let problems = shortages_for(&plan.starting, profiles, inventory.gpus(), &released)
        .iter()
        .map(|short| short.message())
        .collect();
    Ok(Failure::usage_if_any(
        problems,
        &format!("{HINT}; {nothing}"),
    )?)
}

/// The process group of `pid`, if it still runs (vLLM's workers run in
/// the group of the guard that started it).
fn group_of(pid: u32) -> Option<u32> {
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
    let group = rustix::process::getpgid(Some(pid)).ok()?;
    u32::try_from(group.as_raw_nonzero().get()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_process_is_found_in_its_group() {
        let own = std::process::id();
        let group = rustix::process::getpgrp().as_raw_nonzero().get() as u32;
        assert_eq!(group_of(own), Some(group));
        assert_eq!(group_of(0), None);
        assert_eq!(group_of(u32::MAX), None);
    }
}
