//! `edit-proxy`: change the proxy's settings of a config; only the flags
//! given change, and the models stay (`init --force` starts over).

use anyhow::Result;
use serde::Serialize;
use serde_json::{Map, Value};

use super::diff::changes;
use super::Ctx;
use crate::cli::EditProxyArgs;
use crate::config::validate::check;
use crate::config::Config;
use crate::error::{Exit, Failure};
use crate::output::print_json;
use crate::supervisor::pidfile::running_pid;

/// The proxy settings `--set` may change (the rest have their own flags).
const SETTABLE: [&str; 11] = [
    "startup_timeout_s",
    "health_interval_ms",
    "unhealthy_after",
    "queue_timeout_s",
    "backend_timeout_s",
    "client_header_timeout_s",
    "gpu_sample_interval_s",
    "min_residency_s",
    "max_wait_s",
    "scheduler",
    "sleep_memory_gib",
];

#[derive(Serialize)]
struct Edited<'a> {
    config: &'a str,
    path: String,
    settings: &'a Config,
}

pub fn run(ctx: &Ctx, args: EditProxyArgs) -> Result<Exit> {
    let name = ctx.config_name()?;
    let given = args.host.is_some()
        || args.port.is_some()
        || args.cors
        || args.no_cors
        || args.metrics
        || args.no_metrics
        || args.log_requests
        || args.no_log_requests
        || args.api_key_env.is_some()
        || args.no_api_key
        || !args.set.is_empty();
    if !given {
        return Err(
            Failure::usage("edit-proxy needs at least one setting to change")
                .hint("see 'vllm-mux edit-proxy --help'; 'vllm-mux show' prints the current ones")
                .into(),
        );
    }
    let mut before = None;
    let config = ctx.store.update(name, |config| {
        before = Some(settings(config)?);
        apply(config, args)?;
        check(config, ctx.paths())
    })?;
    let changed = changes(&before.unwrap_or_default(), &settings(&config)?);
    if ctx.json {
        print_json(&Edited {
            config: name,
            path: ctx.store.path(name).display().to_string(),
            settings: &config,
        })?;
    } else {
        if changed.is_empty() {
            ctx.say(format!(
                "the proxy of config '{name}' already had these settings; nothing changed"
            ));
        } else {
            ctx.say(format!(
                "changed the proxy of config '{name}': {}",
                changed.join(", ")
            ));
        }
        if running_pid(&ctx.paths().run_dir(name)).is_some() && !changed.is_empty() {
            ctx.say(format!(
                "it is running; the proxy takes this at its next start: vllm-mux --config {name} stop && vllm-mux --config {name} start"
            ));
        }
    }
    Ok(Exit::Success)
}

fn apply(config: &mut Config, args: EditProxyArgs) -> Result<()> {
    if let Some(host) = args.host {
        config.host = host;
    }
    if let Some(port) = args.port {
        config.port = port;
    }
    for (on, off, field) in [
        (args.cors, args.no_cors, &mut config.enable_cors),
        (args.metrics, args.no_metrics, &mut config.enable_metrics),
        (
            args.log_requests,
            args.no_log_requests,
            &mut config.log_requests,
        ),
    ] {
        if on || off {
            *field = on;
        }
    }
    if args.api_key_env.is_some() || args.no_api_key {
        config.api_key_env = args.api_key_env;
    }
    if args.set.is_empty() {
        return Ok(());
    }
    let mut value = serde_json::to_value(&*config)?;
    let Some(object) = value.as_object_mut() else {
        return Err(Failure::runtime("a config is not a JSON object").into());
    };
    for (key, new) in args.set {
        if !SETTABLE.contains(&key.as_str()) {
            return Err(Failure::usage(format!("'{key}' is not a proxy setting --set can change"))
                .hint(format!(
                    "these are: {}; host, port, CORS, metrics, request logs and keys have their own flags",
                    SETTABLE.join(", ")
                ))
                .into());
        }
        if key == "scheduler" {
            let known = ["batch", "llama-swap"];
            if !new.as_str().is_some_and(|v| known.contains(&v)) {
                return Err(Failure::usage(format!("scheduler: {new} is not one of batch, llama-swap"))
                    .hint("batch (the default) places swap group members by memory and serves in batches; llama-swap swaps on every request")
                    .into());
            }
            object.insert(key, new);
            continue;
        }
        if !new.is_u64() {
            let shown = match &new {
                Value::String(text) => format!("'{text}'"),
                other => other.to_string(),
            };
            return Err(
                Failure::usage(format!("{key}: {shown} is not a whole number"))
                    .hint(format!("e.g. --set {key}=30"))
                    .into(),
            );
        }
        object.insert(key, new);
    }
    *config = serde_json::from_value(value).map_err(|err| {
        Failure::usage(format!("proxy setting: {err}"))
            .hint("unhealthy_after is at most 4294967295")
    })?;
    Ok(())
}

/// The proxy's settings as saved: everything but the models (a setting
/// at its default is left out).
fn settings(config: &Config) -> Result<Map<String, Value>> {
    let Value::Object(mut map) = serde_json::to_value(config)? else {
        return Err(Failure::runtime("a config is not a JSON object").into());
    };
    map.remove("models");
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_each_setting_that_differs() {
        let before = settings(&Config::default()).expect("settings");
        let mut config = Config {
            port: 8080,
            api_key_env: Some("K".into()),
            ..Config::default()
        };
        config.queue_timeout_s = 30;
        let after = settings(&config).expect("settings");
        assert_eq!(
            changes(&before, &after),
            ["api_key_env K", "port 8080", "queue_timeout_s 30"]
        );
        assert!(changes(&after, &after).is_empty());
        assert_eq!(
            changes(&after, &before)[2],
            "queue_timeout_s back to its default"
        );
    }
}
