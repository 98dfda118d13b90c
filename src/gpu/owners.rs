//! Whose is a process on a GPU: a model of a running config, or a
//! stranger. Each model's server runs in the process group its guard
//! leads, and each running config's `state.json` says which guard runs
//! which model, so a GPU process is matched by its group, without asking
//! any supervisor.

use std::collections::HashMap;

use super::GpuInfo;
use crate::config::Store;
use crate::supervisor::pidfile::running_pid;
use crate::supervisor::process::group_of;
use crate::supervisor::state_file;

/// Set `owner` (`CONFIG/MODEL`) on each process of `gpus` that belongs to
/// a model of a config running now.
pub fn label(gpus: &mut [GpuInfo], store: &Store) {
    let mut guards: HashMap<u32, String> = HashMap::new();
    for config in store.list_names() {
        let run_dir = store.paths().run_dir(&config);
        if running_pid(&run_dir).is_none() {
            continue;
        }
        let Some(report) = state_file::read(&run_dir) else {
            continue;
        };
        for model in report.models {
            if let Some(pid) = model.pid {
                guards.insert(pid, format!("{config}/{}", model.name));
            }
        }
    }
    if guards.is_empty() {
        return;
    }
    for process in gpus.iter_mut().flat_map(|g| g.processes.iter_mut()) {
        process.owner = group_of(process.pid).and_then(|group| guards.get(&group).cloned());
    }
}
