//! `reload`: apply the saved config to the running supervisor, then wait,
//! as `start` does, until the models it added or restarted are ready or
//! failed.

use std::time::Duration;

use anyhow::Result;

use super::settle::{finish, verdict, wait_settled, Progress, Watched};
use super::Ctx;
use crate::cli::WaitArgs;
use crate::control::client::{block_on, Client};
use crate::error::Exit;
use crate::output::print_json;

pub fn run(ctx: &Ctx, args: &WaitArgs) -> Result<Exit> {
    let name = ctx.config_name()?;
    let client = Client::new(ctx.paths(), name)?;
    let summary = block_on(client.reload())??;
    if !ctx.json {
        let list = |names: &[String]| {
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        };
        let updated = if summary.updated.is_empty() {
            String::new()
        } else {
            format!("; updated without a restart {}", list(&summary.updated))
        };
        let stopped = if summary.stopped.is_empty() {
            String::new()
        } else {
            format!("; stopped (disabled) {}", list(&summary.stopped))
        };
        ctx.say(format!(
            "reloaded config '{name}': added {}; removed {}; restarted {}{stopped}{updated}; unchanged {}",
            list(&summary.added),
            list(&summary.removed),
            list(&summary.restarted),
            list(&summary.unchanged)
        ));
    }
    if !summary.needs_restart.is_empty() {
        crate::output::warn(&format!(
            "warning: {} changed; the proxy applies that only on a restart (vllm-mux stop && vllm-mux start)",
            summary.needs_restart.join(", ")
        ));
    }
    // The supervisor answers once removed and changed models are stopped and
    // the new copies registered (pending), so none of them looks settled yet.
    let started: Vec<String> = summary
        .added
        .iter()
        .chain(&summary.restarted)
        .cloned()
        .collect();
    if args.no_wait || started.is_empty() {
        if ctx.json {
            print_json(&summary)?;
        }
        return Ok(Exit::Success);
    }
    let mut progress = Progress::on_terminal(ctx, name);
    let report = block_on(client.status())??;
    let report = wait_settled(
        &client,
        report,
        args.timeout.map(Duration::from_secs),
        progress.as_mut(),
        Watched::Models(&started),
    )?;
    if ctx.json {
        print_json(&summary)?;
        return verdict(&report, Watched::Models(&started));
    }
    finish(ctx, &report, Watched::Models(&started), progress.is_some())
}
