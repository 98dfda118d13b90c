//! One file per subcommand; this is the one `match`.

mod add_model;
mod completions;
mod diff;
mod edit_model;
mod edit_proxy;
mod export;
mod follow;
mod gpus;
mod import;
mod init;
mod list;
mod logs;
mod lora;
mod model_args;
mod models;
mod preflight;
mod profiles;
mod reload;
mod remove_model;
mod settle;
mod shortcuts;
mod show;
mod start;
mod start_model;
mod status;
mod stop;
mod wait;

use std::io::IsTerminal;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::config::names::check_name;
use crate::config::{Paths, Store};
use crate::error::{Exit, Failure};
use crate::supervisor::pidfile::running_pid;

/// The default config name.
pub const DEFAULT_CONFIG: &str = "default";

/// What every command gets: where files are, which config, how to print.
pub struct Ctx {
    pub store: Store,
    config: Option<String>,
    pub json: bool,
    pub quiet: bool,
    pub verbose: u8,
    /// Prompts are allowed: stdin and stdout are terminals, and neither
    /// --no-input nor --yes was given.
    pub interactive: bool,
}

impl Ctx {
    pub fn paths(&self) -> &Paths {
        self.store.paths()
    }

    /// The config to work on (`--config`, `VLLM_MUX_CONFIG`, or "default").
    pub fn config_name(&self) -> Result<&str> {
        let name = self.config.as_deref().unwrap_or(DEFAULT_CONFIG);
        check_name("config", name).map_err(|msg| {
            Failure::usage(msg).hint("config names use letters, digits, '.', '_' and '-'")
        })?;
        Ok(name)
    }

    /// The config name only if the user chose one.
    pub fn explicit_config(&self) -> Option<&str> {
        self.config.as_deref()
    }

    /// A message for people: not with --json, not with --quiet. A
    /// command in it for the user to copy carries the config's name.
    pub fn say(&self, message: impl AsRef<str>) {
        if !self.json && !self.quiet {
            println!("{}", crate::output::for_config(message.as_ref()));
        }
    }

    /// After a change to `config`'s models: a running config takes it only
    /// on `reload`, which is easy to forget, so say so.
    pub fn say_reload_if_running(&self, config: &str) {
        if running_pid(&self.paths().run_dir(config)).is_some() {
            self.say(format!(
                "config '{config}' is running; apply the change with 'vllm-mux --config {config} reload'"
            ));
        }
    }
}

pub fn dispatch(cli: Cli) -> Result<Exit> {
    let Cli {
        config,
        json,
        yes,
        no_input,
        quiet,
        verbose,
        command,
    } = cli;
    // These two need no config and no files.
    let command = match command {
        Command::Completions { shell } => return completions::run(shell),
        Command::MockEngine(args) => return crate::mock_engine::run(args),
        other => other,
    };
    let interactive =
        !no_input && !yes && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if let Some(name) = config.as_deref() {
        crate::output::set_config(name);
    }
    let ctx = Ctx {
        store: Store::new(Paths::from_env()?),
        config,
        json,
        quiet,
        verbose,
        interactive,
    };
    match command {
        Command::Init(args) => init::run(&ctx, args),
        Command::AddModel { name, args } => add_model::run(&ctx, &name, args),
        Command::EditModel { name, args, edit } => edit_model::run(&ctx, &name, args, edit),
        Command::EditProxy(args) => edit_proxy::run(&ctx, args),
        Command::RemoveModel { name } => remove_model::run(&ctx, &name),
        Command::List => list::run(&ctx),
        Command::Show => show::run(&ctx),
        Command::Gpus => gpus::run(&ctx),
        Command::Models => models::run(&ctx),
        Command::Export(args) => export::run(&ctx, args),
        Command::Import { file, name, force } => import::run(&ctx, &file, name.as_deref(), force),
        Command::Lora { action } => lora::run(&ctx, action),
        Command::Profiles => profiles::run(&ctx),
        Command::Shortcuts { action } => shortcuts::run(&ctx, action),
        Command::Start(args) => start::run(&ctx, args),
        Command::Status { watch } => status::run(&ctx, watch),
        Command::Logs(args) => logs::run(&ctx, args),
        Command::Stop { model, timeout } => stop::run(&ctx, model.as_deref(), timeout),
        Command::StartModel { model, wait } => start_model::run(&ctx, &model, &wait),
        Command::Wait { models, timeout } => wait::run(&ctx, &models, timeout),
        Command::Reload(args) => reload::run(&ctx, &args),
        Command::Supervise => {
            crate::supervisor::run(ctx.paths().clone(), ctx.config_name()?, false)
        }
        // main_with runs the guard before dispatch (it passes its engine's
        // exit code on); this arm only keeps the match whole.
        Command::Guard { .. } => {
            Err(Failure::runtime("the guard runs before commands are dispatched").into())
        }
        Command::Completions { shell } => completions::run(shell),
        Command::MockEngine(args) => crate::mock_engine::run(args),
    }
}
