//! `init`: create a config.

use anyhow::Result;
use serde::Serialize;

use crate::cli::{InitArgs, StartArgs, WaitArgs};
use crate::config::validate::{check, checked};
use crate::config::Config;
use crate::error::Exit;
use crate::output::print_json;
use crate::prompts::init::Then;

#[derive(Serialize)]
struct Created<'a> {
    config: &'a str,
    path: String,
    backup: Option<String>,
    settings: &'a Config,
}

pub fn run(ctx: &crate::commands::Ctx, args: InitArgs) -> Result<Exit> {
    let name = ctx.config_name()?;
    let no_flags = args.host.is_none()
        && args.port.is_none()
        && !args.no_cors
        && !args.no_metrics
        && !args.log_requests
        && args.api_key_env.is_none();
    if ctx.interactive && no_flags {
        return interactive(ctx, name, args.force);
    }
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
            "created config '{name}' at {} (proxy on {})",
            path.display(),
            config.proxy_address()
        ));
        ctx.say("next: vllm-mux add-model NAME --model HF_ID_OR_PATH   (or --engine mock to try it without a GPU)");
    }
    Ok(Exit::Success)
}

/// `init` on a terminal without flags: ask, then do what was chosen.
fn interactive(ctx: &crate::commands::Ctx, name: &str, force: bool) -> Result<Exit> {
    if ctx.store.exists(name) && !force {
        // The same refusal as without prompts, before any question.
        ctx.store.create(name, &Config::default(), false)?;
    }
    let other_ports = ctx.store.ports_of_other_configs(name);
    let (config, then) = crate::prompts::init::ask(ctx.paths(), &other_ports)?;
    match then {
        Then::Cancel => {
            ctx.say("cancelled; nothing was written");
            Ok(Exit::Success)
        }
        Then::StartWithoutSaving => {
            let inventory = checked(&config, ctx.paths())?;
            super::preflight::preflight(ctx, name, &config, &inventory)?;
            ctx.say(format!(
                "starting config '{name}' without saving it; Ctrl-C stops it"
            ));
            crate::supervisor::serve::run_with(ctx.paths().clone(), name, config, true)
        }
        Then::SaveForLater | Then::SaveAndStart => {
            check(&config, ctx.paths())?;
            ctx.store.create(name, &config, force)?;
            ctx.say(format!(
                "saved config '{name}' at {} ({})",
                ctx.store.path(name).display(),
                crate::output::plural(config.models.len(), "model")
            ));
            if then == Then::SaveForLater && config.models.is_empty() {
                ctx.say("next: vllm-mux add-model NAME --model HF_ID_OR_PATH   (or --engine mock to try it without a GPU)");
                return Ok(Exit::Success);
            }
            if then == Then::SaveForLater {
                ctx.say("start it with 'vllm-mux start'");
                return Ok(Exit::Success);
            }
            super::start::run(
                ctx,
                StartArgs {
                    foreground: false,
                    wait: WaitArgs::default(),
                },
            )
        }
    }
}
