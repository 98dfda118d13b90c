//! `run/NAME/state.json`: the supervisor's newest status report (the shape
//! of `status --json`), rewritten on every change and every 10 s, and
//! removed when the supervisor stops cleanly. One left behind means the
//! supervisor ended without stopping (killed, out of memory, a crash), and
//! the CLI says so, with the states its models were last in.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use super::pidfile::running_pid;
use super::registry::Registry;
use crate::config::store::{read_json, write_atomic};
use crate::control::api::StatusReport;

pub const STATE_FILE: &str = "state.json";

/// How often the file is rewritten when nothing changes state (request
/// counters and latencies move all the time).
const REFRESH: Duration = Duration::from_secs(10);

/// Changes that come in a burst (a config loading) make one write.
const SETTLE: Duration = Duration::from_millis(100);

/// Keep `path` current until `stop` turns true: written at once, then at each
/// change (a burst of them, a config loading, makes one write per
/// `SETTLE`) and every `REFRESH`. A write that fails is logged once, and
/// tried again at the next change. No write is under way once this returns.
pub async fn keep(reg: Arc<Registry>, path: PathBuf, mut stop: watch::Receiver<bool>) {
    let mut changes = reg.changes();
    let mut warned = false;
    loop {
        match write(&reg, &path).await {
            Ok(()) => warned = false,
            Err(err) if !warned => {
                reg.log(&format!("cannot keep {}: {err:#}", path.display()));
                warned = true;
            }
            Err(_) => {}
        }
        tokio::select! {
            () = tokio::time::sleep(SETTLE) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            () = tokio::time::sleep(REFRESH) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}

async fn write(reg: &Registry, path: &Path) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(&reg.report())?;
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || write_atomic(&path, &text)).await?
}

/// The report a supervisor that did not stop cleanly left in `run_dir`,
/// and when it wrote it; `None` if none did, or one runs there now.
pub fn left_behind(run_dir: &Path) -> Option<(StatusReport, SystemTime)> {
    running_pid(run_dir)
        .is_none()
        .then(|| last_written(run_dir))?
}

/// Remove what a supervisor that did not stop cleanly left in `run_dir`:
/// a clean stop does it, and so does `stop` once it has reported it.
pub fn forget(run_dir: &Path) {
    let _ = std::fs::remove_file(run_dir.join(STATE_FILE));
}

/// The report in `run_dir`, and when it was written; `None` if there is none.
pub fn last_written(run_dir: &Path) -> Option<(StatusReport, SystemTime)> {
    let report = read(run_dir)?;
    let written = std::fs::metadata(run_dir.join(STATE_FILE))
        .ok()?
        .modified()
        .ok()?;
    Some((report, written))
}

/// The report in `run_dir`'s state file, if it has one that reads.
pub fn read(run_dir: &Path) -> Option<StatusReport> {
    read_json(&run_dir.join(STATE_FILE)).ok()?
}

/// One line on what a report left behind says: who ended, when, and the
/// states of its models then.
pub fn describe(report: &StatusReport, written: SystemTime) -> String {
    format!(
        "its supervisor (pid {}) ended without being stopped (killed or crashed); {}",
        report.proxy.pid,
        last_state(report, written)
    )
}

/// "last state, written 2026-11-26T03:12:07Z: qwen ready, coder starting".
pub fn last_state(report: &StatusReport, written: SystemTime) -> String {
    let models: Vec<String> = report
        .models
        .iter()
        .map(|m| format!("{} {}", m.name, m.state))
        .collect();
    let models = if models.is_empty() {
        "no models".to_string()
    } else {
        models.join(", ")
    };
    format!(
        "last state, written {}: {models}",
        humantime::format_rfc3339_seconds(written)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::api::ModelStatus;
    use crate::supervisor::state::ModelState;

    #[test]
    fn a_report_left_behind_is_read_back_and_described() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(left_behind(dir.path()).is_none(), "no file");
        let mut report = StatusReport::of(vec![
            ModelStatus::bare("qwen", ModelState::Ready),
            ModelStatus::bare("coder", ModelState::Starting),
        ]);
        report.proxy.pid = 4242;
        let text = serde_json::to_string(&report).expect("json");
        write_atomic(&dir.path().join(STATE_FILE), &text).expect("write");
        let (back, written) = left_behind(dir.path()).expect("left behind");
        assert_eq!(back, report);
        let line = describe(&back, written);
        assert!(
            line.starts_with("its supervisor (pid 4242) ended without being stopped (killed or crashed); last state, written 20")
                && line.ends_with("Z: qwen ready, coder starting"),
            "{line}"
        );
        // A file that is not a report says nothing.
        std::fs::write(dir.path().join(STATE_FILE), "{").expect("write");
        assert!(left_behind(dir.path()).is_none());
    }
}
