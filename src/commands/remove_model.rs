//! `remove-model`: delete one model.

use anyhow::Result;
use serde::Serialize;

use super::model_args::unknown_model;
use super::Ctx;
use crate::error::Exit;
use crate::output::print_json;

#[derive(Serialize)]
struct Removed<'a> {
    config: &'a str,
    removed: &'a str,
    models: Vec<&'a str>,
}

pub fn run(ctx: &Ctx, name: &str) -> Result<Exit> {
    let config_name = ctx.config_name()?;
    let config = ctx.store.update(config_name, |config| {
        let before = config.models.len();
        config.models.retain(|m| m.name != name);
        if config.models.len() == before {
            return Err(unknown_model(config_name, config, name).into());
        }
        Ok(())
    })?;
    if ctx.json {
        print_json(&Removed {
            config: config_name,
            removed: name,
            models: config.model_names(),
        })?;
    } else {
        ctx.say(format!(
            "removed model '{name}' from config '{config_name}'"
        ));
    }
    ctx.say_reload_if_running(config_name);
    Ok(Exit::Success)
}
