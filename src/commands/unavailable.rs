//! Commands whose implementation has not landed yet. They parse, show in the
//! help, and say so plainly instead of pretending.

use anyhow::Result;

use crate::error::{Exit, Failure};

pub fn run(command: &str) -> Result<Exit> {
    Err(Failure::runtime(format!(
        "'vllm-mux {command}' is not available in this version yet: the supervisor, proxy and mock engine are still being built"
    ))
    .hint("configs made now (init, add-model, import) will run unchanged once it lands; see README.md, 'Status'")
    .into())
}
