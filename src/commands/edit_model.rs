//! `edit-model`: change one model; only the flags given change.

use anyhow::Result;

use super::diff::changes;
use super::model_args::{
    apply, assign_port, clear, note_saved_secrets, note_unchecked_gpus, summary, unknown_model,
    ModelOutput,
};
use super::Ctx;
use crate::cli::{EditArgs, ModelArgs};
use crate::config::validate::check;
use crate::error::{Exit, Failure};
use crate::output::print_json;

pub fn run(ctx: &Ctx, name: &str, args: ModelArgs, edit: EditArgs) -> Result<Exit> {
    let config_name = ctx.config_name()?;
    let gpus_given = args.gpus.is_some();
    let env_given: Vec<String> = args.env.iter().map(|(key, _)| key.clone()).collect();
    let mut before = None;
    let config = ctx.store.update(config_name, |config| {
        let Some(model) = config.model_mut(name) else {
            return Err(unknown_model(config_name, config, name).into());
        };
        before = Some(model.clone());
        clear(model, &edit)?;
        apply(ctx, model, args)?;
        if edit.enabled {
            model.enabled = true;
        }
        assign_port(ctx, config_name, config)?;
        check(config, ctx.paths())
    })?;
    let model = config
        .model(name)
        .ok_or_else(|| Failure::runtime("the model vanished while saving"))?;
    if gpus_given {
        note_unchecked_gpus(ctx, model);
    }
    note_saved_secrets(ctx, &env_given);
    if ctx.json {
        print_json(&ModelOutput {
            config: config_name,
            model,
        })?;
    } else {
        let as_map = |m: &crate::config::ModelConfig| match serde_json::to_value(m) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let changed = before
            .as_ref()
            .map(|b| changes(&as_map(b), &as_map(model)))
            .unwrap_or_default();
        if changed.is_empty() {
            ctx.say(format!(
                "model '{name}' of config '{config_name}' already had these settings; nothing changed"
            ));
        } else {
            ctx.say(format!(
                "changed model '{name}' of config '{config_name}': {}",
                changed.join(", ")
            ));
            ctx.say(format!("now: {}", summary(model)));
        }
    }
    ctx.say_reload_if_running(config_name);
    Ok(Exit::Success)
}
