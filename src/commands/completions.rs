//! `completions SHELL`: print a completion script.

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::Exit;

/// The completion script for `shell`, as text.
pub fn script(shell: Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "vllm-mux", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

pub fn run(shell: Shell) -> Result<Exit> {
    print!("{}", script(shell));
    Ok(Exit::Success)
}
