//! vllm-mux: serve many language models behind one OpenAI-compatible endpoint.
//!
//! The binary is a thin `main`; everything lives here so tests reach it.

pub mod cli;
pub mod commands;
pub mod config;
pub mod control;
pub mod engine;
pub mod error;
pub mod export;
pub mod gpu;
pub mod metrics;
pub mod mock_engine;
pub mod models;
pub mod output;
pub mod prompts;
pub mod proxy;
pub mod supervisor;

use std::process::ExitCode;

/// Whether the command may run the supervisor or the mock engine in this
/// process (`init` can start without saving), which must outlive a peer
/// that goes away: there, a closed pipe stays an error to handle.
fn runs_a_server(command: &cli::Command) -> bool {
    matches!(
        command,
        cli::Command::Supervise
            | cli::Command::MockEngine(_)
            | cli::Command::Init(_)
            | cli::Command::Start(cli::StartArgs {
                foreground: true,
                ..
            })
    )
}

/// A command that prints and ends is stopped by a closed pipe
/// (`vllm-mux status | head -1`) as `ls` is, instead of panicking at its
/// next print: Rust ignores SIGPIPE, so put back the default.
fn quiet_on_closed_pipe() {
    // SAFETY: sets one signal's disposition to its default; no handler runs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Run the command line and turn the outcome into an exit code.
pub fn main_with(cli: cli::Cli) -> ExitCode {
    // The guard passes its engine's exit code on, whatever it is.
    if let cli::Command::Guard { command } = &cli.command {
        return supervisor::guard::run(command);
    }
    if !runs_a_server(&cli.command) {
        quiet_on_closed_pipe();
    }
    match commands::dispatch(cli) {
        Ok(exit) => exit.into(),
        Err(err) => error::report(&err).into(),
    }
}
