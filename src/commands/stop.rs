//! `stop [MODEL]`: stop everything, or one model.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::Ctx;
use crate::control::client::{block_on, Client};
use crate::error::{Exit, Failure};
use crate::supervisor::pidfile::running_pid;

pub fn run(ctx: &Ctx, model: Option<&str>, timeout: u64) -> Result<Exit> {
    let name = ctx.config_name()?;
    let client = Client::new(ctx.paths(), name)?;
    let run_dir = ctx.paths().run_dir(name);
    if running_pid(&run_dir).is_none() {
        return Err(client.not_running().into());
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
    block_on(client.shutdown(timeout))??;
    // Every model gets `timeout`, then SIGKILL; allow a little more for that.
    let deadline = Instant::now() + timeout + Duration::from_secs(10);
    while running_pid(&run_dir).is_some() {
        if Instant::now() > deadline {
            return Err(Failure::runtime(format!(
                "the supervisor of '{name}' is still running after {} s",
                timeout.as_secs() + 10
            ))
            .hint("see 'vllm-mux logs proxy'; as a last resort kill it: its models die with it")
            .into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    ctx.say(format!("stopped config '{name}'"));
    Ok(Exit::Success)
}
