//! The hidden `guard` subcommand: every engine runs under one.
//!
//! The supervisor starts the guard as the leader of a new process group,
//! with a pipe on its stdin. The guard runs the engine in that group and
//! waits. If the pipe closes (the supervisor is gone, even by SIGKILL), it
//! SIGKILLs the whole group: the engine and every process the engine forked
//! (vLLM's workers), which PDEATHSIG alone would not reach. The guard
//! outlives a group SIGTERM so it can report the engine's exit code.

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitCode, Stdio};

use tokio::io::AsyncReadExt;
use tokio::signal::unix::{signal, SignalKind};

/// Exit code when the engine cannot be run at all (as a shell says).
pub const CANNOT_RUN: u8 = 127;

pub fn run(command: &[String]) -> ExitCode {
    let Some((program, args)) = command.split_first() else {
        say("no command given");
        return ExitCode::from(CANNOT_RUN);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            say(&format!("cannot start: {err}"));
            return ExitCode::from(CANNOT_RUN);
        }
    };
    let code = runtime.block_on(guard(program, args));
    // The stdin reader is a blocking thread parked in read(2) on the
    // lifeline; a normal runtime drop would wait for it forever.
    runtime.shutdown_background();
    code
}

async fn guard(program: &str, args: &[String]) -> ExitCode {
    // Watch SIGTERM before the engine exists, so a group SIGTERM cannot kill
    // the guard first. A handler, not SIG_IGN: the engine must still get
    // SIGTERM's default.
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => Some(term),
        Err(err) => {
            say(&format!("cannot watch SIGTERM: {err}"));
            None
        }
    };
    let mut command = tokio::process::Command::new(program);
    command.args(args).stdin(Stdio::null());
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        command.pre_exec(|| {
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
                .map_err(std::io::Error::from)
        });
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => {
            say(&format!("cannot run '{program}': {err}"));
            return ExitCode::from(CANNOT_RUN);
        }
    };
    let mut stdin = tokio::io::stdin();
    let supervisor_gone = async move {
        let mut buf = [0u8; 64];
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    tokio::pin!(supervisor_gone);
    loop {
        tokio::select! {
            status = child.wait() => {
                return match status {
                    Ok(status) => match (status.code(), status.signal()) {
                        (Some(code), _) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
                        (None, Some(sig)) => ExitCode::from(128u8.saturating_add(u8::try_from(sig).unwrap_or(0))),
                        _ => ExitCode::from(1),
                    },
                    Err(err) => {
                        say(&format!("cannot wait for the engine: {err}"));
                        ExitCode::from(1)
                    }
                };
            }
            _ = &mut supervisor_gone => {
                // The group first, and nothing before it that could fail or
                // block: stderr is the dead supervisor's pipe. SIGKILL to
                // the group ends the guard too, which is all that is left.
                let _ = rustix::process::kill_process_group(rustix::process::getpgrp(), rustix::process::Signal::KILL);
                say("the supervisor is gone; killed the engine's process group");
                return ExitCode::from(1);
            }
            Some(()) = async { match term.as_mut() { Some(t) => t.recv().await, None => std::future::pending().await } } => {
                // The whole group got SIGTERM; the engine decides what to do.
            }
        }
    }
}

/// A line on stderr (the model's log, through the supervisor), if it can
/// be written: never a panic, as `eprintln!` would on a closed pipe.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "vllm-mux guard: {line}");
}
