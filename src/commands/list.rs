//! `list`: saved configs.

use anyhow::Result;
use serde::Serialize;

use super::Ctx;
use crate::error::{Exit, Failure};
use crate::output::{print_json, table};
use crate::supervisor::pidfile::running_pid;

#[derive(Serialize)]
struct Row {
    name: String,
    path: String,
    /// Number of models, `null` when the file cannot be read.
    models: Option<usize>,
    port: Option<u16>,
    running: bool,
    pid: Option<u32>,
    /// Why the file cannot be read, if it cannot.
    error: Option<String>,
}

pub fn run(ctx: &Ctx) -> Result<Exit> {
    let rows: Vec<Row> = ctx
        .store
        .list_names()
        .into_iter()
        .map(|name| {
            let path = ctx.store.path(&name).display().to_string();
            let pid = running_pid(&ctx.paths().run_dir(&name));
            let (models, port, error) = match ctx.store.load(&name) {
                Ok(config) => (Some(config.models.len()), Some(config.port), None),
                Err(err) => (
                    None,
                    None,
                    Some(
                        err.downcast_ref::<Failure>()
                            .map_or_else(|| format!("{err:#}"), |f| f.message.clone()),
                    ),
                ),
            };
            Row {
                name,
                path,
                models,
                port,
                running: pid.is_some(),
                pid,
                error,
            }
        })
        .collect();
    if ctx.json {
        print_json(&rows)?;
        return Ok(Exit::Success);
    }
    if rows.is_empty() {
        ctx.say("no configs yet; create one with 'vllm-mux init'");
        return Ok(Exit::Success);
    }
    let mut t = table(["CONFIG", "MODELS", "PORT", "RUNNING", "NOTE"]);
    for row in &rows {
        t.add_row([
            row.name.clone(),
            row.models.map_or("?".into(), |n| n.to_string()),
            row.port.map_or("?".into(), |p| p.to_string()),
            row.pid
                .map_or("no".into(), |pid| format!("yes (pid {pid})")),
            row.error.clone().unwrap_or_default(),
        ]);
    }
    println!("{t}");
    Ok(Exit::Success)
}
