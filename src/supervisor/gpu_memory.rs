//! Free GPU memory when the running supervisor is asked to start vLLM
//! servers (`start-model`, `reload`), checked as `start` checks it. The
//! memory of a server of ours that stops first (a swap group's member that
//! gives way, a model the reload changes or removes) counts as free.

use anyhow::Result;

use super::process::group_of;
use super::registry::Registry;
use super::swap::takes_turn;
use crate::config::profiles::Profiles;
use crate::config::schema::Instance;
use crate::config::{Engine, Paths, Store};
use crate::error::Failure;
use crate::gpu::free::{refuse, shortages_for, Short};
use crate::gpu::{GpuInfo, Inventory};

/// The copies about to start, and the process groups (guard pids) of our
/// servers that stop before they do.
#[derive(Debug, Default)]
pub struct Plan {
    pub starting: Vec<Instance>,
    pub stopping: Vec<u32>,
    /// The GPUs of the servers that stop.
    pub stopping_gpus: Vec<u32>,
}

impl Plan {
    /// `id`'s server, if it runs, stops first.
    pub fn stops(&mut self, reg: &Registry, id: &str) {
        if let Some((Some(pid), gpus)) = reg.with(id, |e| (e.pid, e.config.gpu_ids.clone())) {
            self.stopping.push(pid);
            self.stopping_gpus.extend(gpus);
        }
    }
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
                    plan.stops(reg, &other);
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
pub async fn check(plan: Plan, profiles: &Profiles, paths: &Paths, nothing: &str) -> Result<()> {
    // Only vLLM asks for a share of each GPU: NVML is not asked otherwise.
    if !plan.starting.iter().any(|i| i.model.engine == Engine::Vllm) {
        return Ok(());
    }
    let mut inventory = tokio::task::spawn_blocking(Inventory::detect)
        .await
        .map_err(|err| Failure::runtime(format!("cannot read the GPUs: {err}")))??;
    crate::gpu::owners::label(inventory.gpus_mut(), &Store::new(paths.clone()));
    let short = shortages(&plan, profiles, inventory.gpus(), &group_of);
    Ok(refuse(&short, nothing)?)
}

/// The GPUs short of memory for `plan`; `group_of` finds a process's
/// group. A GPU where a server that stops runs, but none of whose
/// processes is found in that server's group, is not judged: NVML in a
/// container often lists no processes, or pids of another namespace, and
/// then what stops there cannot be told from a stranger. Better vLLM's
/// own refusal later than ours by mistake.
fn shortages(
    plan: &Plan,
    profiles: &Profiles,
    gpus: &[GpuInfo],
    group_of: &dyn Fn(u32) -> Option<u32>,
) -> Vec<Short> {
    let ours = |pid: u32| group_of(pid).is_some_and(|g| plan.stopping.contains(&g));
    shortages_for(&plan.starting, profiles, gpus, &ours)
        .into_iter()
        .filter(|short| {
            let releases_here = plan.stopping_gpus.contains(&short.gpu);
            let found = gpus
                .iter()
                .filter(|g| g.index == short.gpu)
                .any(|g| g.processes.iter().any(|p| ours(p.pid)));
            !releases_here || found
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::ModelConfig;
    use crate::gpu::GpuProcess;

    /// GPU 0, `used` MiB of it shared evenly by `pids`.
    fn gpu0(used: u64, pids: &[u32]) -> Vec<GpuInfo> {
        let processes = pids
            .iter()
            .map(|pid| GpuProcess {
                pid: *pid,
                name: None,
                used_memory_mib: Some(used / pids.len() as u64),
                owner: None,
            })
            .collect();
        vec![GpuInfo::fake(0, used, processes)]
    }

    /// `qwen` (0.9 of GPU 0) starts; the server of group 10 on GPU 0 stops.
    fn plan() -> Plan {
        let mut qwen = ModelConfig::new("qwen");
        qwen.gpu_ids = vec![0];
        Plan {
            starting: qwen.instances(),
            stopping: vec![10],
            stopping_gpus: vec![0],
        }
    }

    #[test]
    fn what_stops_first_counts_only_where_its_processes_are_found() {
        let profiles = Profiles::default();
        // Pid 11 is in group 10: its 72000 MiB are freed first.
        let group = |pid: u32| (pid == 11).then_some(10);
        assert!(shortages(&plan(), &profiles, &gpu0(72000, &[11]), &group).is_empty());
        // A stranger's memory is not: 40000 MiB freed, 40000 still held.
        let short = shortages(&plan(), &profiles, &gpu0(80000, &[11, 12]), &group);
        assert_eq!((short.len(), short[0].free_mib), (1, 40000));
        // NVML lists nothing (a container): what stops cannot be told
        // from a stranger, so the GPU is not judged.
        assert!(shortages(&plan(), &profiles, &gpu0(72000, &[]), &group).is_empty());
        // Nothing stops on the GPU: judged as `start` judges it.
        let alone = Plan {
            stopping_gpus: vec![],
            ..plan()
        };
        assert_eq!(
            shortages(&alone, &profiles, &gpu0(72000, &[]), &group).len(),
            1
        );
    }
}
