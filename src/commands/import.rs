//! `import`: save a config from a file (ours, vllm-cli's proxy config, or
//! llama-swap's config.yaml).

use std::io::Read;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use super::model_args::assign_port;
use super::Ctx;
use crate::config::names::check_name;
use crate::config::schema::CONFIG_VERSION;
use crate::config::transfer::parse_import;
use crate::config::validate::check;
use crate::error::{Exit, Failure};
use crate::output::{plural, print_json};

#[derive(Serialize)]
struct Imported<'a> {
    config: &'a str,
    path: String,
    format: &'a str,
    models: Vec<&'a str>,
    assigned_ports: Vec<(String, u16)>,
    backup: Option<String>,
    /// What the file had that the config could not take (llama-swap).
    notes: &'a [String],
}

pub fn run(ctx: &Ctx, file: &Path, name: Option<&str>, force: bool) -> Result<Exit> {
    let stdin = file.as_os_str() == "-";
    let text = if stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|err| Failure::runtime(format!("cannot read standard input: {err}")))?;
        text
    } else {
        std::fs::read_to_string(file).map_err(|err| {
            Failure::usage(format!("cannot read {}: {err}", file.display())).hint("check the path")
        })?
    };
    let name = match name.or(ctx.explicit_config()) {
        Some(name) => name.to_string(),
        None if stdin => ctx.config_name()?.to_string(),
        None => file
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
            .ok_or_else(|| {
                Failure::usage(format!("cannot name a config after {}", file.display()))
                    .hint("pass --name NAME")
            })?,
    };
    check_name("config", &name).map_err(|msg| {
        Failure::usage(msg).hint("pass --name NAME with letters, digits, '.', '_' and '-'")
    })?;
    let parsed = parse_import(&text, if stdin { Path::new("<stdin>") } else { file })?;
    let (mut config, format, notes) = (parsed.config, parsed.format, parsed.notes);
    config.version = CONFIG_VERSION;
    let before: Vec<Option<u16>> = config.models.iter().map(|m| m.port).collect();
    assign_port(ctx, &name, &mut config)?;
    let assigned: Vec<(String, u16)> = config
        .models
        .iter()
        .zip(before)
        .filter(|(m, old)| old.is_none() && m.port.is_some())
        .filter_map(|(m, _)| m.port.map(|p| (m.name.clone(), p)))
        .collect();
    check(&config, ctx.paths())?;
    let backup = ctx.store.create(&name, &config, force)?;
    let path = ctx.store.path(&name);
    if ctx.json {
        print_json(&Imported {
            config: &name,
            path: path.display().to_string(),
            format: format.describe(),
            models: config.model_names(),
            assigned_ports: assigned,
            backup: backup.map(|b| b.display().to_string()),
            notes: &notes,
        })?;
        return Ok(Exit::Success);
    }
    // Its notes and hints are about the imported config.
    crate::output::set_config(&name);
    if let Some(backup) = backup {
        ctx.say(format!(
            "replaced config '{name}'; the old one is kept at {}",
            backup.display()
        ));
    }
    for (model, port) in &assigned {
        ctx.say(format!("model '{model}' had no port; assigned {port}"));
    }
    for note in &notes {
        ctx.say(format!("note: {note}"));
    }
    ctx.say(format!(
        "imported {} as config '{name}' ({}) at {}",
        format.describe(),
        plural(config.models.len(), "model"),
        path.display()
    ));
    ctx.say_reload_if_running(&name);
    Ok(Exit::Success)
}
