//! `export`: the config as canonical JSON, to stdout or a file.

use std::path::Path;

use anyhow::Result;

use super::Ctx;
use crate::config::store::{to_canonical_json, write_atomic};
use crate::error::Exit;

pub fn run(ctx: &Ctx, output: Option<&Path>) -> Result<Exit> {
    let name = ctx.config_name()?;
    let text = to_canonical_json(&ctx.store.load(name)?)?;
    match output {
        None => print!("{text}"),
        Some(path) => {
            write_atomic(path, &text)?;
            if !ctx.json {
                ctx.say(format!("exported config '{name}' to {}", path.display()));
            }
        }
    }
    Ok(Exit::Success)
}
