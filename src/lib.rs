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
pub mod mock_engine;
pub mod output;
pub mod supervisor;

use std::process::ExitCode;

/// Run the command line and turn the outcome into an exit code.
pub fn main_with(cli: cli::Cli) -> ExitCode {
    match commands::dispatch(cli) {
        Ok(exit) => exit.into(),
        Err(err) => error::report(&err).into(),
    }
}
