//! `lora add|remove|list`: a model's LoRA adapters. The change is checked
//! as the config will be saved; on a running config the supervisor loads
//! (or unloads) the adapter on every ready copy first, and only then is the
//! config saved, so a path the server cannot load changes nothing.

use anyhow::Result;
use serde::Serialize;

use super::model_args::unknown_model;
use super::Ctx;
use crate::cli::LoraAction;
use crate::config::validate::check;
use crate::config::{Config, LoraAdapter};
use crate::control::client::{block_on, Client};
use crate::error::{Exit, Failure};
use crate::output::{print_json, print_table, table};
use crate::supervisor::lora::LoraReport;
use crate::supervisor::pidfile::running_pid;

pub fn run(ctx: &Ctx, action: LoraAction) -> Result<Exit> {
    match action {
        LoraAction::Add { model, name, path } => add(ctx, &model, LoraAdapter { name, path }),
        LoraAction::Remove { model, name } => remove(ctx, &model, &name),
        LoraAction::List { model } => list(ctx, model.as_deref()),
    }
}

/// What `lora add` and `lora remove` print with `--json`.
#[derive(Serialize)]
struct Changed<'a> {
    config: &'a str,
    model: &'a str,
    adapter: &'a str,
    /// The config was running: what the supervisor did.
    running: Option<LoraReport>,
}

fn add_to(
    config: &mut Config,
    config_name: &str,
    model: &str,
    adapter: &LoraAdapter,
) -> Result<()> {
    let unknown = unknown_model(config_name, config, model);
    let m = config.model_mut(model).ok_or(unknown)?;
    if let Some(had) = m.lora_adapters.iter().find(|l| l.name == adapter.name) {
        return Err(Failure::usage(format!(
            "model '{model}' already has LoRA adapter '{}' ({})",
            had.name, had.path
        ))
        .hint(format!(
            "remove it first: vllm-mux{} lora remove {model} {}",
            config_flag(config_name),
            had.name
        ))
        .into());
    }
    m.lora_adapters.push(adapter.clone());
    Ok(())
}

fn remove_from(config: &mut Config, config_name: &str, model: &str, name: &str) -> Result<()> {
    let unknown = unknown_model(config_name, config, model);
    let m = config.model_mut(model).ok_or(unknown)?;
    let before = m.lora_adapters.len();
    m.lora_adapters.retain(|l| l.name != name);
    if m.lora_adapters.len() == before {
        let names: Vec<&str> = m.lora_adapters.iter().map(|l| l.name.as_str()).collect();
        return Err(
            Failure::usage(format!("model '{model}' has no LoRA adapter '{name}'"))
                .hint(if names.is_empty() {
                    "it has none".to_string()
                } else {
                    format!("its adapters: {}", names.join(", "))
                })
                .into(),
        );
    }
    Ok(())
}

/// ` --config NAME`, or nothing for the default config: for hints to copy.
fn config_flag(config_name: &str) -> String {
    if config_name == super::DEFAULT_CONFIG {
        String::new()
    } else {
        format!(" --config {config_name}")
    }
}

/// The supervisor of `config_name`, if it runs.
fn running(ctx: &Ctx, config_name: &str) -> Result<Option<Client>> {
    if running_pid(&ctx.paths().run_dir(config_name)).is_none() {
        return Ok(None);
    }
    Ok(Some(Client::new(ctx.paths(), config_name)?))
}

fn add(ctx: &Ctx, model: &str, adapter: LoraAdapter) -> Result<Exit> {
    let config_name = ctx.config_name()?;
    let mut config = ctx.store.load(config_name)?;
    add_to(&mut config, config_name, model, &adapter)?;
    check(&config, ctx.paths())?;
    let report = match running(ctx, config_name)? {
        Some(client) => Some(block_on(client.add_lora(model, &adapter))??),
        None => None,
    };
    ctx.store
        .update(config_name, |c| add_to(c, config_name, model, &adapter))?;
    let said = format!(
        "added LoRA adapter '{}' ({}) to model '{model}' of config '{config_name}'",
        adapter.name, adapter.path
    );
    tell(
        ctx,
        config_name,
        model,
        &adapter.name,
        report,
        &said,
        "loaded",
    )
}

fn remove(ctx: &Ctx, model: &str, name: &str) -> Result<Exit> {
    let config_name = ctx.config_name()?;
    let mut config = ctx.store.load(config_name)?;
    remove_from(&mut config, config_name, model, name)?;
    let report = match running(ctx, config_name)? {
        Some(client) => Some(block_on(client.remove_lora(model, name))??),
        None => None,
    };
    ctx.store
        .update(config_name, |c| remove_from(c, config_name, model, name))?;
    let said =
        format!("removed LoRA adapter '{name}' from model '{model}' of config '{config_name}'");
    tell(ctx, config_name, model, name, report, &said, "unloaded")
}

/// Say what an adapter change did, on the config and on the servers.
fn tell(
    ctx: &Ctx,
    config_name: &str,
    model: &str,
    adapter: &str,
    report: Option<LoraReport>,
    said: &str,
    done: &str,
) -> Result<Exit> {
    if ctx.json {
        print_json(&Changed {
            config: config_name,
            model,
            adapter,
            running: report,
        })?;
        return Ok(Exit::Success);
    }
    ctx.say(said);
    match report {
        None => ctx.say("the config is not running; its next start applies it"),
        Some(r) if r.restart_needed => ctx.say(format!(
            "the model's server runs without LoRA (it had no adapter when it started); 'vllm-mux{} reload' restarts it with the change",
            config_flag(config_name)
        )),
        Some(r) => {
            if !r.applied.is_empty() {
                ctx.say(format!("{done} at once on {}", r.applied.join(", ")));
            }
            if !r.later.is_empty() {
                ctx.say(format!(
                    "not running now: {}; applied when each next runs",
                    r.later.join(", ")
                ));
            }
        }
    }
    Ok(Exit::Success)
}

/// One adapter in `lora list`.
#[derive(Serialize)]
struct Listed<'a> {
    model: &'a str,
    name: &'a str,
    path: &'a str,
    /// The copies whose running server has it loaded (empty when the
    /// config is not running; `null` then in JSON).
    loaded_on: Option<Vec<String>>,
}

fn list(ctx: &Ctx, only: Option<&str>) -> Result<Exit> {
    let config_name = ctx.config_name()?;
    let config = ctx.store.load(config_name)?;
    if let Some(model) = only {
        if config.model(model).is_none() {
            return Err(unknown_model(config_name, &config, model).into());
        }
    }
    let status = match running(ctx, config_name)? {
        Some(client) => block_on(client.status())?.ok(),
        None => None,
    };
    let mut rows = Vec::new();
    for m in config
        .models
        .iter()
        .filter(|m| only.is_none_or(|o| o == m.name))
    {
        for adapter in &m.lora_adapters {
            let loaded_on = status.as_ref().map(|s| {
                s.models
                    .iter()
                    .filter(|c| crate::config::schema::is_instance_of(&c.name, &m.name))
                    .filter(|c| c.lora_loaded.contains(&adapter.name))
                    .map(|c| c.name.clone())
                    .collect()
            });
            rows.push(Listed {
                model: &m.name,
                name: &adapter.name,
                path: &adapter.path,
                loaded_on,
            });
        }
    }
    if ctx.json {
        print_json(&rows)?;
        return Ok(Exit::Success);
    }
    if rows.is_empty() {
        ctx.say(format!(
            "no LoRA adapters in config '{config_name}'; add one with 'vllm-mux{} lora add MODEL NAME PATH'",
            config_flag(config_name)
        ));
        return Ok(Exit::Success);
    }
    let mut out = table(["MODEL", "ADAPTER", "LOADED ON", "PATH"]);
    for row in &rows {
        let loaded = match &row.loaded_on {
            None => "(not running)".to_string(),
            Some(on) if on.is_empty() => "-".to_string(),
            Some(on) => on.join(", "),
        };
        out.add_row([row.model, row.name, &loaded, row.path]);
    }
    print_table(out, &[3]);
    Ok(Exit::Success)
}
