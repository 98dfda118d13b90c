//! `stop [MODEL]`: stop everything, or one model.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::Ctx;
use crate::control::client::{block_on, Client, NoAnswer, ANSWER_TIMEOUT};
use crate::error::{Exit, Failure};
use crate::supervisor::pidfile::running_pid;
use crate::supervisor::state_file;

pub fn run(ctx: &Ctx, model: Option<&str>, timeout: u64) -> Result<Exit> {
    let name = ctx.config_name()?;
    let client = Client::new(ctx.paths(), name)?;
    let run_dir = ctx.paths().run_dir(name);
    if running_pid(&run_dir).is_none() {
        // It says so if the supervisor died; that said, `stop` clears it:
        // the config is as stopped as a stop leaves it.
        let not_running = client.not_running();
        state_file::forget(&run_dir);
        return Err(not_running.into());
    }
    let timeout = Duration::from_secs(timeout);
    // Engines may take the whole timeout: say what is being waited for.
    if !ctx.json && !ctx.quiet && std::io::stdout().is_terminal() {
        let what = match model {
            Some(model) => format!("model '{model}'"),
            None => format!("config '{name}'"),
        };
        println!(
            "stopping {what}: SIGTERM, then SIGKILL for what is still running after {} s",
            timeout.as_secs()
        );
    }
    if let Some(model) = model {
        let reply = block_on(client.stop_model(model, timeout))??;
        ctx.say(reply.message);
        return Ok(Exit::Success);
    }
    if let Err(err) = block_on(client.shutdown(timeout))? {
        if err.downcast_ref::<NoAnswer>().is_none() {
            return Err(err);
        }
        return kill_unanswering(ctx, name, &run_dir, timeout);
    }
    // Every model gets `timeout`, then SIGKILL; allow a little more for that.
    if !gone(&run_dir, timeout + Duration::from_secs(10)) {
        return Err(Failure::runtime(format!(
            "the supervisor of '{name}' is still running after {} s",
            timeout.as_secs() + 10
        ))
        .hint("see 'vllm-mux logs proxy'; as a last resort kill it: its models die with it")
        .into());
    }
    ctx.say(format!("stopped config '{name}'"));
    Ok(Exit::Success)
}

/// Whether the supervisor of `run_dir` is gone (its pidfile lock released)
/// within `within`.
fn gone(run_dir: &Path, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while running_pid(run_dir).is_some() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// A supervisor that does not answer is stopped by signals: SIGTERM (a
/// live one stops its models as on `stop`), then SIGKILL after `timeout`.
/// Its guards stop the engines once it is gone, so nothing is left behind.
fn kill_unanswering(ctx: &Ctx, name: &str, run_dir: &Path, timeout: Duration) -> Result<Exit> {
    use rustix::process::{kill_process, Pid, Signal};
    let Some(pid) = running_pid(run_dir) else {
        ctx.say(format!("stopped config '{name}'"));
        return Ok(Exit::Success);
    };
    let target = i32::try_from(pid).ok().and_then(Pid::from_raw);
    let Some(target) = target else {
        return Err(Failure::runtime(format!(
            "the pidfile of '{name}' holds no valid pid ({pid})"
        ))
        .into());
    };
    eprintln!(
        "warning: the supervisor of '{name}' (pid {pid}) did not answer within {} s: sending it SIGTERM, then SIGKILL after {} s; its engines stop with it",
        ANSWER_TIMEOUT.as_secs(),
        timeout.as_secs()
    );
    let _ = kill_process(target, Signal::TERM);
    if !gone(run_dir, timeout) {
        let _ = kill_process(target, Signal::KILL);
        if !gone(run_dir, Duration::from_secs(5)) {
            return Err(Failure::runtime(format!(
                "the supervisor of '{name}' (pid {pid}) is still there after SIGKILL"
            ))
            .hint("see 'ps -o pid,stat,cmd -p PID'; a process stuck in the kernel (state D) cannot be killed")
            .into());
        }
        // Killed on request: what it left is not a crash to report.
        state_file::forget(run_dir);
    }
    ctx.say(format!("stopped config '{name}'"));
    Ok(Exit::Success)
}
