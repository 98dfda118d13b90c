//! `list`: saved configs.

use anyhow::Result;
use serde::Serialize;

use super::Ctx;
use crate::error::{Exit, Failure};
use crate::output::{print_json, print_table, table};
use crate::supervisor::pidfile::running_pid;
use crate::supervisor::state_file::left_behind;

#[derive(Serialize)]
struct Row {
    name: String,
    path: String,
    /// Number of models, `null` when the file cannot be read.
    models: Option<usize>,
    port: Option<u16>,
    running: bool,
    pid: Option<u32>,
    /// Not running, and its supervisor ended without being stopped
    /// (killed, crashed): `status` says more.
    ended_without_stop: bool,
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
            let run_dir = ctx.paths().run_dir(&name);
            let pid = running_pid(&run_dir);
            let ended_without_stop = left_behind(&run_dir).is_some();
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
                ended_without_stop,
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
            match (row.pid, row.ended_without_stop) {
                (Some(pid), _) => format!("yes (pid {pid})"),
                (None, true) => "no: ended without stop".into(),
                (None, false) => "no".into(),
            },
            row.error.clone().unwrap_or_default(),
        ]);
    }
    print_table(t, &[]);
    Ok(Exit::Success)
}
