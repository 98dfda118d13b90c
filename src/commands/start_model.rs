//! `start-model MODEL`: start one stopped (or failed) model again.

use anyhow::Result;

use super::settle::{finish, wait_settled, Progress, Watched};
use super::Ctx;
use crate::cli::WaitArgs;
use crate::control::client::{block_on, Client};
use crate::error::Exit;

pub fn run(ctx: &Ctx, model: &str, wait: &WaitArgs) -> Result<Exit> {
    let name = ctx.config_name()?;
    let client = Client::new(ctx.paths(), name)?;
    block_on(client.start_model(model))??;
    if wait.no_wait {
        ctx.say(format!(
            "starting model '{model}'; follow it with 'vllm-mux status'"
        ));
        return Ok(Exit::Success);
    }
    // The runner picks the command up asynchronously; wait for it to leave
    // its settled state before waiting for it to settle again.
    let mut report = block_on(client.status())??;
    for _ in 0..50 {
        // Every copy (`MODEL`, `MODEL@1`, …) must have left stopped/failed.
        let still_down = report
            .models
            .iter()
            .filter(|m| crate::config::schema::is_instance_of(&m.name, model))
            .any(|m| {
                m.state.is_settled() && m.state != crate::supervisor::state::ModelState::Ready
            });
        if !still_down {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        report = block_on(client.status())??;
    }
    let mut progress = Progress::on_terminal(ctx, name);
    let only = [model.to_string()];
    let timeout = wait.timeout.map(std::time::Duration::from_secs);
    let watched = Watched::Models(&only);
    let report = wait_settled(&client, report, timeout, progress.as_mut(), watched)?;
    finish(ctx, &report, watched, progress.is_some())
}
