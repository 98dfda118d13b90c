//! `gpus`: the machine's GPUs and which configured models claim them.

use anyhow::Result;
use serde::Serialize;

use super::Ctx;
use crate::error::Exit;
use crate::gpu::{describe_processes, GpuInfo, Inventory};
use crate::output::{print_json, print_notes, print_table, table, NO_WRAP};
use crate::supervisor::pidfile::running_pid;

#[derive(Debug, Clone, Serialize)]
struct ClaimedBy {
    config: String,
    model: String,
    running: bool,
}

#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    gpu: GpuInfo,
    claimed_by: Vec<ClaimedBy>,
}

pub fn run(ctx: &Ctx) -> Result<Exit> {
    let mut inventory = Inventory::detect()?;
    crate::gpu::owners::label(inventory.gpus_mut(), &ctx.store);
    let claims = claims(ctx);
    let rows: Vec<Row> = inventory
        .gpus()
        .iter()
        .map(|gpu| Row {
            gpu: gpu.clone(),
            claimed_by: claims
                .iter()
                .filter(|(idx, _)| *idx == gpu.index)
                .map(|(_, c)| c.clone())
                .collect(),
        })
        .collect();
    if ctx.json {
        print_json(&rows)?;
        return Ok(Exit::Success);
    }
    if let Inventory::Unavailable(reason) = &inventory {
        println!("{reason}");
        println!("models on the mock, url or command engines need no GPU");
        return Ok(Exit::Success);
    }
    // A table that fits 80 columns; who claims each GPU and what runs on
    // it, which can be long, under it.
    let mut t = table(["GPU", "NAME", "MEMORY", "UTIL", "TEMP", "POWER"]);
    let mut claimed_by = Vec::new();
    let mut processes = Vec::new();
    for row in &rows {
        let g = &row.gpu;
        let claimed: Vec<String> = row
            .claimed_by
            .iter()
            .map(|c| {
                format!(
                    "{}/{}{}",
                    c.config,
                    c.model,
                    if c.running { " (running)" } else { "" }
                )
            })
            .collect();
        t.add_row([
            g.index.to_string(),
            g.name.clone(),
            format!("{} / {} MiB", g.memory_used_mib, g.memory_total_mib),
            format!("{}%", g.utilization_percent),
            g.temperature_c.map_or("-".into(), |t| format!("{t}°C")),
            g.power_w.map_or("-".into(), |p| format!("{p:.0} W")),
        ]);
        let label = format!("GPU {}", g.index);
        if !claimed.is_empty() {
            claimed_by.push((label.clone(), claimed.join(", ")));
        }
        if !g.processes.is_empty() {
            processes.push((label, describe_processes(&g.processes)));
        }
    }
    print_table(t, NO_WRAP);
    if !claimed_by.is_empty() {
        println!();
        print_notes("claimed by:", &claimed_by);
    }
    if !processes.is_empty() {
        println!();
        print_notes("processes:", &processes);
    }
    Ok(Exit::Success)
}

/// (GPU index, claim) for every enabled model of every readable saved config.
fn claims(ctx: &Ctx) -> Vec<(u32, ClaimedBy)> {
    let mut out = Vec::new();
    for name in ctx.store.list_names() {
        let Ok(config) = ctx.store.load(&name) else {
            continue;
        };
        let running = running_pid(&ctx.paths().run_dir(&name)).is_some();
        for instance in config
            .models
            .iter()
            .filter(|m| m.enabled)
            .flat_map(|m| m.instances())
        {
            for &gpu in &instance.model.gpu_ids {
                out.push((
                    gpu,
                    ClaimedBy {
                        config: name.clone(),
                        model: instance.id.clone(),
                        running,
                    },
                ));
            }
        }
    }
    out
}
