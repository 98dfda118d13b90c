//! Starting an engine under its guard and stopping its process group.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, ChildStdin};

use super::logfile::{Lines, LogFile};
use super::registry::stamp;
use crate::engine::{ProcessSpec, VLLM_API_KEY};

/// A running engine: the guard process (leader of the engine's group).
pub struct Running {
    pub child: Child,
    pub pid: u32,
    /// The write end of the guard's lifeline; closing it kills the group.
    _lifeline: Option<ChildStdin>,
    /// The tasks copying its stdout and stderr into its log.
    output: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Wait up to `within` for its output to be in its log to the last
    /// line (a process that exited may have written its last words just
    /// before). Call it once the group is gone, or a worker that holds the
    /// pipes keeps it waiting the whole time.
    pub async fn drained(&mut self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        for copy in &mut self.output {
            let _ = tokio::time::timeout_at(deadline, copy).await;
        }
    }
}

/// Start `spec` under `vllm-mux guard` in a new process group, its output
/// going line by line into `log`. Must be called from an async task (a
/// runtime worker thread), because PDEATHSIG follows the spawning thread.
pub fn spawn(
    spec: &ProcessSpec,
    vllm_mux: &Path,
    log: &Arc<Mutex<LogFile>>,
) -> std::io::Result<Running> {
    let mut command = tokio::process::Command::new(vllm_mux);
    command
        .arg("guard")
        .arg("--")
        .arg(&spec.program)
        .args(&spec.args)
        .envs(&spec.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        command.pre_exec(|| {
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM))
                .map_err(std::io::Error::from)
        });
    }
    for var in super::notify::ENV {
        command.env_remove(var);
    }
    // vllm-mux's own settings are not the engine's: vLLM warns at start
    // about every VLLM_* variable it does not know.
    for (var, _) in std::env::vars_os() {
        let ours = var.to_str().is_some_and(|v| v.starts_with("VLLM_MUX_"));
        if ours && !spec.env.contains_key(var.to_str().unwrap_or_default()) {
            command.env_remove(&var);
        }
    }
    // Only a key the config names reaches an engine: one the supervisor
    // happened to inherit would make vLLM refuse the proxy, which does
    // not know it.
    if !spec.env.contains_key(VLLM_API_KEY) {
        command.env_remove(VLLM_API_KEY);
    }
    let mut child = command.spawn()?;
    let pid = child
        .id()
        .ok_or_else(|| std::io::Error::other("the engine exited before it could be watched"))?;
    let mut output = Vec::new();
    if let Some(out) = child.stdout.take() {
        output.push(tokio::spawn(copy_lines(out, Arc::clone(log))));
    }
    if let Some(err) = child.stderr.take() {
        output.push(tokio::spawn(copy_lines(err, Arc::clone(log))));
    }
    let lifeline = child.stdin.take();
    Ok(Running {
        child,
        pid,
        _lifeline: lifeline,
        output,
    })
}

/// Copy a child's output into its log until the child closes it. Nothing
/// in the output stops the copy: a pipe left unread would block the child.
async fn copy_lines(mut stream: impl AsyncRead + Unpin, log: Arc<Mutex<LogFile>>) {
    let mut lines = Lines::default();
    let mut buf = vec![0u8; 8 * 1024];
    let write = |lines: Vec<String>| {
        let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
        for line in lines {
            let _ = log.write_line(&format!("{} {line}", stamp()));
        }
    };
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => write(lines.feed(&buf[..n])),
        }
    }
    write(lines.finish().into_iter().collect());
}

/// SIGTERM to the group, up to `timeout` to exit, then SIGKILL.
/// Returns how it ended and whether SIGKILL was needed.
pub async fn stop(running: &mut Running, timeout: Duration) -> (Option<ExitStatus>, bool) {
    let group = rustix::process::Pid::from_raw(running.pid as i32);
    if let Some(group) = group {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::TERM);
    }
    if let Ok(status) = tokio::time::timeout(timeout, running.child.wait()).await {
        kill_group(running.pid);
        return (status.ok(), false);
    }
    kill_group(running.pid);
    (running.child.wait().await.ok(), true)
}

/// SIGKILL whatever is left in the group (an engine's stray workers).
pub fn kill_group(pid: u32) {
    if let Some(group) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
}

/// The process group of `pid`, if it still runs (vLLM's workers run in
/// the group of the guard that started it).
pub fn group_of(pid: u32) -> Option<u32> {
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
    let group = rustix::process::getpgid(Some(pid)).ok()?;
    u32::try_from(group.as_raw_nonzero().get()).ok()
}

/// "exited with code 1", "killed by signal 9".
pub fn describe(status: Option<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) if code == i32::from(super::guard::CANNOT_RUN) => {
                "could not be run (see its log)".to_string()
            }
            (Some(code), _) if code > 128 => format!("killed by signal {}", code - 128),
            (Some(code), _) => format!("exited with code {code}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            _ => "exited".to_string(),
        },
        None => "exited (status unknown)".to_string(),
    }
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
