//! `add-model`: add a model to the config.

use anyhow::Result;

use super::model_args::{
    apply, assign_port, note_saved_secrets, note_unchecked_gpus, summary, ModelOutput,
};
use super::Ctx;
use crate::cli::ModelArgs;
use crate::config::names::check_name;
use crate::config::validate::check;
use crate::config::{Engine, ModelConfig};
use crate::error::{Exit, Failure};
use crate::output::print_json;

pub fn run(ctx: &Ctx, name: &str, args: ModelArgs) -> Result<Exit> {
    let config_name = ctx.config_name()?;
    let mut model = ModelConfig::new(name);
    // `add-model NAME` alone on a terminal: ask. With some flags but no
    // --model, say which flag is missing instead of ignoring the others.
    if ctx.interactive && args == ModelArgs::default() {
        let config = ctx.store.load(config_name)?;
        check_name("model", name).map_err(Failure::usage)?;
        let others = ctx.store.ports_of_other_configs(config_name);
        model = crate::prompts::add_model::ask(ctx.paths(), &config, Some(name), &others)?;
    } else {
        apply(ctx, &mut model, args)?;
    }
    let env_given: Vec<String> = model.environment.keys().cloned().collect();
    if model.engine == Engine::Vllm && model.model_path.is_empty() {
        return Err(Failure::usage(format!(
            "add-model {name} needs --model ID_OR_PATH (a Hugging Face id or a local folder)"
        ))
        .hint("or --shortcut NAME for a saved one, or --engine mock to try vllm-mux without a GPU")
        .into());
    }
    let config = ctx.store.update(config_name, |config| {
        if config.model(name).is_some() {
            return Err(Failure::usage(format!(
                "config '{config_name}' already has a model '{name}'"
            ))
            .hint(format!(
                "change it with 'vllm-mux edit-model {name} ...', or choose another name"
            ))
            .into());
        }
        config.models.push(model);
        assign_port(ctx, config_name, config)?;
        check(config, ctx.paths())
    })?;
    let added = config
        .model(name)
        .ok_or_else(|| Failure::runtime("the model vanished while saving"))?;
    note_unchecked_gpus(ctx, added);
    note_saved_secrets(ctx, &env_given);
    if ctx.json {
        print_json(&ModelOutput {
            config: config_name,
            model: added,
        })?;
    } else {
        ctx.say(format!(
            "added {} to config '{config_name}'",
            summary(added)
        ));
    }
    ctx.say_reload_if_running(config_name);
    Ok(Exit::Success)
}
