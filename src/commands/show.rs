//! `show`: the config's proxy settings and a table of its models.

use anyhow::Result;
use serde::Serialize;

use super::Ctx;
use crate::config::Config;
use crate::error::Exit;
use crate::output::{
    join_or_dash, on_off, print_json, print_notes, print_table, short_duration, table, NO_WRAP,
};

#[derive(Serialize)]
struct Shown<'a> {
    name: &'a str,
    path: String,
    config: &'a Config,
}

pub fn run(ctx: &Ctx) -> Result<Exit> {
    let name = ctx.config_name()?;
    let config = ctx.store.load(name)?;
    let path = ctx.store.path(name);
    if ctx.json {
        print_json(&Shown {
            name,
            path: path.display().to_string(),
            config: &config,
        })?;
        return Ok(Exit::Success);
    }
    println!("config   {name} ({})", path.display());
    println!("proxy    http://{}", config.proxy_address());
    let key = match &config.api_key_env {
        Some(var) if std::env::var_os(var).is_some() => format!("from ${var} (set)"),
        Some(var) => format!("from ${var} (NOT set in this shell)"),
        None => "none (anyone who reaches the port may use it)".into(),
    };
    println!(
        "features cors {}, metrics {}, request log {}",
        on_off(config.enable_cors),
        on_off(config.enable_metrics),
        on_off(config.log_requests)
    );
    println!("api key  {key}");
    println!();
    if config.models.is_empty() {
        println!(
            "no models yet; add one with 'vllm-mux add-model NAME --model ID' (or --engine mock)"
        );
        return Ok(Exit::Success);
    }
    // A table that fits 80 columns; the long values (where the weights
    // come from, a command template, the names clients may send) under it.
    let prioritized = config.models.iter().any(|m| m.loading_priority.is_some());
    let mut headers = vec!["MODEL", "ENGINE", "PORT", "GPUS", "PROFILE"];
    if prioritized {
        headers.push("PRIORITY");
    }
    headers.push("ENABLED");
    let mut t = table(headers);
    let mut sources = Vec::new();
    let mut names = Vec::new();
    for m in &config.models {
        let mut row = vec![
            m.name.clone(),
            m.engine.as_str().into(),
            // With replicas, one value per copy: "8001 | 8002".
            per_copy(m, |i| i.model.port.map_or("-".into(), |p| p.to_string())),
            per_copy(m, |i| join_or_dash(&i.model.gpu_ids)),
            m.profile.clone().unwrap_or_else(|| "-".into()),
        ];
        if prioritized {
            row.push(m.loading_priority.map_or("-".into(), |p| p.to_string()));
        }
        row.push(if m.enabled { "yes".into() } else { "no".into() });
        t.add_row(row);
        let source = match (&m.url, &m.command) {
            (Some(url), _) => Some(url.clone()),
            (None, Some(cmd)) => Some(cmd.clone()),
            _ if m.model_path.is_empty() => None,
            _ => Some(m.model_path.clone()),
        };
        sources.extend(source.map(|s| (m.name.clone(), s)));
        let mut aliases = m.aliases.clone();
        aliases.extend(m.lora_adapters.iter().map(|l| format!("{} (LoRA)", l.name)));
        if !aliases.is_empty() {
            names.push((m.name.clone(), aliases.join(", ")));
        }
    }
    print_table(t, NO_WRAP);
    if !sources.is_empty() {
        println!();
        print_notes("sources:", &sources);
    }
    if !names.is_empty() {
        println!();
        print_notes("also answers to:", &names);
    }
    let keyed: Vec<String> = config
        .models
        .iter()
        .filter_map(|m| {
            let var = m.backend_api_key_env.as_deref()?;
            let set = if std::env::var_os(var).is_some() {
                "set"
            } else {
                "NOT set in this shell"
            };
            Some(format!("{} from ${var} ({set})", m.name))
        })
        .collect();
    let mut notes = Vec::new();
    if !keyed.is_empty() {
        notes.push(format!("backend keys  {}", keyed.join(", ")));
    }
    let idling: Vec<String> = config
        .models
        .iter()
        .filter_map(|m| {
            let secs = m.idle_timeout_s?;
            Some(format!("{} after {}", m.name, short_duration(secs)))
        })
        .collect();
    if !idling.is_empty() {
        notes.push(format!(
            "idle stop     {} without requests (the next request starts it)",
            idling.join(", ")
        ));
    }
    let mut groups: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for m in &config.models {
        if let Some(group) = &m.swap_group {
            groups.entry(group).or_default().push(&m.name);
        }
    }
    for (group, members) in groups {
        notes.push(format!(
            "swap group    {group}: {} (one runs at a time; a request swaps another in)",
            members.join(", ")
        ));
    }
    let sleepers: Vec<&str> = config
        .models
        .iter()
        .filter(|m| m.sleep_mode)
        .map(|m| m.name.as_str())
        .collect();
    if !sleepers.is_empty() {
        notes.push(format!(
            "sleep mode    {} (idle, the server sleeps instead of stopping)",
            sleepers.join(", ")
        ));
    }
    if !notes.is_empty() {
        println!("\n{}", notes.join("\n"));
    }
    let with_overrides: Vec<_> = config
        .models
        .iter()
        .filter(|m| !m.config_overrides.is_empty() || !m.environment.is_empty())
        .collect();
    if !with_overrides.is_empty() && ctx.verbose > 0 {
        println!();
        for m in with_overrides {
            // As a shell would run it: VAR=value … then the flags.
            let env = m.environment.iter().map(|(k, v)| format!("{k}={v}"));
            let flags = crate::engine::flags::to_flags(&m.config_overrides);
            let line: Vec<String> = env.chain(flags).collect();
            println!("{}: {}", m.name, line.join(" "));
        }
    }
    Ok(Exit::Success)
}

/// A value for each copy of the model, separated by " | ".
fn per_copy(
    model: &crate::config::ModelConfig,
    value: impl Fn(&crate::config::Instance) -> String,
) -> String {
    model
        .instances()
        .iter()
        .map(value)
        .collect::<Vec<_>>()
        .join(" | ")
}
