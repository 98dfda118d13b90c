//! vllm-mux: serve many language models behind one OpenAI-compatible endpoint.
//!
//! The binary is a thin `main`; everything lives here so tests reach it.

pub mod cli;
pub mod commands;
pub mod config;
pub mod control;
pub mod engine;
pub mod error;
pub mod gpu;
pub mod metrics;
pub mod mock_engine;
pub mod models;
pub mod output;
pub mod prompts;
pub mod proxy;
pub mod supervisor;

use std::process::ExitCode;

/// Run the command line and turn the outcome into an exit code.
pub fn main_with(cli: cli::Cli) -> ExitCode {
    // The guard passes its engine's exit code on, whatever it is.
    if let cli::Command::Guard { command } = &cli.command {
        return supervisor::guard::run(command);
    }
    match commands::dispatch(cli) {
        Ok(exit) => exit.into(),
        Err(err) => error::report(&err).into(),
    }
}
