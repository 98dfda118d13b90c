//! `start` re-executes this binary as the hidden `supervise` command in a
//! new session (no terminal can signal it), stdin from /dev/null, output to
//! `supervisor.out` in the run folder (the supervisor's own log lines go to
//! the rotating proxy.log; this file catches anything else, like a panic).

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::Result;

use crate::config::Paths;
use crate::error::Failure;

pub const OUT_FILE: &str = "supervisor.out";

pub fn spawn(paths: &Paths, config: &str) -> Result<(Child, PathBuf)> {
    let exe = std::env::current_exe()
        .map_err(|err| Failure::runtime(format!("cannot find the vllm-mux executable: {err}")))?;
    let run_dir = paths.run_dir(config);
    let out_path = run_dir.join(OUT_FILE);
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&out_path)
        .map_err(|err| Failure::runtime(format!("cannot open {}: {err}", out_path.display())))?;
    let err = out.try_clone()?;
    let mut command = Command::new(exe);
    command
        .args(["--config", config, "supervise"])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    // The background supervisor is not the process a service manager
    // started, so it must not answer for it (`start --foreground` does).
    for var in super::notify::ENV {
        command.env_remove(var);
    }
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(|| {
            rustix::process::setsid()
                .map(drop)
                .map_err(std::io::Error::from)
        });
    }
    let child = command
        .spawn()
        .map_err(|err| Failure::runtime(format!("cannot start the supervisor: {err}")))?;
    Ok((child, out_path))
}
