//! `init`: create a config.

use anyhow::Result;
use serde::Serialize;

use crate::cli::InitArgs;
use crate::config::validate::check;
use crate::config::Config;
use crate::error::Exit;
use crate::output::print_json;

#[derive(Serialize)]
struct Created<'a> {
    config: &'a str,
    path: String,
    backup: Option<String>,
    settings: &'a Config,
}

pub fn run(ctx: &crate::commands::Ctx, args: InitArgs) -> Result<Exit> {
    let name = ctx.config_name()?;
    let defaults = Config::default();
    let config = Config {
        host: args.host.unwrap_or(defaults.host),
        port: args.port.unwrap_or(defaults.port),
        enable_cors: !args.no_cors,
        enable_metrics: !args.no_metrics,
        log_requests: args.log_requests,
        api_key_env: args.api_key_env,
        ..defaults
    };
    check(&config, ctx.paths())?;
    let backup = ctx.store.create(name, &config, args.force)?;
    let path = ctx.store.path(name);
    if ctx.json {
        print_json(&Created {
            config: name,
            path: path.display().to_string(),
            backup: backup.as_ref().map(|b| b.display().to_string()),
            settings: &config,
        })?;
    } else {
        if let Some(backup) = &backup {
            ctx.say(format!(
                "replaced config '{name}'; the old one is kept at {}",
                backup.display()
            ));
        }
        ctx.say(format!(
            "created config '{name}' at {} (proxy on {}:{})",
            path.display(),
            config.host,
            config.port
        ));
        ctx.say("next: vllm-mux add-model NAME --model HF_ID_OR_PATH   (or --engine mock to try it without a GPU)");
    }
    Ok(Exit::Success)
}
