//! `reload`: apply the saved config to the running supervisor.

use anyhow::Result;

use super::Ctx;
use crate::control::client::{block_on, Client};
use crate::error::Exit;
use crate::output::print_json;

pub fn run(ctx: &Ctx) -> Result<Exit> {
    let name = ctx.config_name()?;
    let client = Client::new(ctx.paths(), name)?;
    let summary = block_on(client.reload())??;
    if ctx.json {
        print_json(&summary)?;
        return Ok(Exit::Success);
    }
    let list = |names: &[String]| {
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    ctx.say(format!(
        "reloaded config '{name}': added {}; removed {}; restarted {}; unchanged {}",
        list(&summary.added),
        list(&summary.removed),
        list(&summary.restarted),
        list(&summary.unchanged)
    ));
    if !summary.needs_restart.is_empty() {
        eprintln!(
            "warning: {} changed; the proxy applies that only on a restart (vllm-mux stop && vllm-mux start)",
            summary.needs_restart.join(", ")
        );
    }
    Ok(Exit::Success)
}
