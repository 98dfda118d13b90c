//! `status`: the proxy and every model, from the running supervisor.

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Result;

use super::Ctx;
use crate::control::api::StatusReport;
use crate::control::client::{block_on, Client};
use crate::error::Exit;
use crate::gpu::describe_processes;
use crate::output::{
    join_or_dash, print_json, print_json_line, print_table, short_duration, table,
};
use crate::supervisor::state::ModelState;

pub fn run(ctx: &Ctx, watch: bool) -> Result<Exit> {
    let name = ctx.config_name()?;
    let client = Client::new(ctx.paths(), name)?;
    loop {
        let mut report = block_on(client.status())??;
        crate::gpu::owners::label(&mut report.gpus, &ctx.store);
        if watch && ctx.json {
            // For scripts: one report per line (JSON Lines), as it comes.
            print_json_line(&report)?;
        } else if ctx.json {
            print_json(&report)?;
        } else {
            if watch && std::io::stdout().is_terminal() {
                // Clear the screen and go home, like `watch`.
                print!("\x1b[2J\x1b[H");
            }
            print_report(&report);
        }
        warn_on_version_mismatch(&report);
        if !watch {
            return Ok(Exit::Success);
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// The status as people read it: a header, a table of models, GPUs.
pub fn print_report(report: &StatusReport) {
    let up = humantime::format_duration(Duration::from_secs(report.proxy.uptime_s));
    println!(
        "config {}  proxy {}  supervisor pid {}  up {up}",
        report.config, report.proxy.url, report.proxy.pid
    );
    let mut t = table([
        "MODEL",
        "STATE",
        "PORT",
        "GPUS",
        "PID",
        "RESTARTS",
        "REQUESTS",
        "ERRORS",
        "IN-FLIGHT",
        "P50",
        "LAST ERROR",
    ]);
    for m in &report.models {
        t.add_row([
            m.name.clone(),
            format!("{} {}", m.state, short_duration(m.state_for_s)),
            m.port.map_or("-".into(), |p| p.to_string()),
            join_or_dash(&m.gpu_ids),
            m.pid.map_or("-".into(), |p| p.to_string()),
            m.restarts.to_string(),
            m.requests.to_string(),
            m.errors.to_string(),
            m.in_flight.to_string(),
            m.p50_ms.map_or("-".into(), |p| format!("{p:.1} ms")),
            m.last_error.clone().unwrap_or_default(),
        ]);
    }
    print_table(t, &[]);
    let why = why_not_ready(report);
    if !why.is_empty() {
        println!("\nwhy not ready:");
        for line in why {
            println!("  {line}");
        }
    }
    for m in report.models.iter().filter(|m| !m.log_tail.is_empty()) {
        println!("\nlast lines of {}'s log:", m.name);
        for line in &m.log_tail {
            println!("  {line}");
        }
    }
    // GPUs only when the config's models use some: a config of mock or
    // remote models has nothing to read there.
    if !report.gpus.is_empty() && report.models.iter().any(|m| !m.gpu_ids.is_empty()) {
        let mut g = table(["GPU", "NAME", "MEMORY", "UTIL", "MODELS", "OTHER PROCESSES"]);
        for gpu in &report.gpus {
            // Models that share a GPU (a swap group) take turns: the ones
            // not running say so.
            let holders: Vec<String> = report
                .models
                .iter()
                .filter(|m| m.gpu_ids.contains(&gpu.index))
                .map(|m| match m.state {
                    ModelState::Ready => m.name.clone(),
                    state => format!("{} ({state})", m.name),
                })
                .collect();
            // What holds the GPU besides the models of running configs: a
            // leftover server is the usual reason a model cannot load.
            let others = describe_processes(gpu.processes.iter().filter(|p| p.owner.is_none()));
            g.add_row([
                gpu.index.to_string(),
                gpu.name.clone(),
                format!("{} / {} MiB", gpu.memory_used_mib, gpu.memory_total_mib),
                format!("{}%", gpu.utilization_percent),
                join_or_dash(&holders),
                others,
            ]);
        }
        println!();
        print_table(g, &[]);
    }
}

/// A line per model that is not ready and says why (an idle timeout, its
/// swap group, a restart coming), unless its last error already does.
fn why_not_ready(report: &StatusReport) -> Vec<String> {
    let explained: Vec<(&str, ModelState, &str)> = report
        .models
        .iter()
        .filter_map(|m| {
            let detail = m.detail.as_deref()?;
            (m.last_error.as_deref() != Some(detail)).then_some((m.name.as_str(), m.state, detail))
        })
        .collect();
    let width = explained
        .iter()
        .map(|(name, ..)| name.len())
        .max()
        .unwrap_or(0);
    explained
        .into_iter()
        .map(|(name, state, detail)| format!("{name:width$}  {state}: {detail}"))
        .collect()
}

fn warn_on_version_mismatch(report: &StatusReport) {
    let ours = env!("CARGO_PKG_VERSION");
    if report.version != ours {
        crate::output::warn(&format!(
            "warning: the running supervisor is version {}, this vllm-mux is {ours}; restart it to upgrade (vllm-mux stop && vllm-mux start)",
            report.version
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::api::ModelStatus;

    fn model(name: &str, state: ModelState, detail: &str, error: Option<&str>) -> ModelStatus {
        ModelStatus {
            detail: Some(detail.into()),
            last_error: error.map(Into::into),
            ..ModelStatus::bare(name, state)
        }
    }

    #[test]
    fn models_that_are_not_ready_say_why_once() {
        let idle = "no requests for 300 s, its idle_timeout_s; the next one starts it";
        let down = "http://127.0.0.1:9/health does not answer";
        let report = StatusReport::of(vec![
            ModelStatus::bare("qwen", ModelState::Ready),
            model("llama-70b", ModelState::Idle, idle, None),
            model("remote", ModelState::Unhealthy, down, Some(down)),
        ]);
        assert_eq!(
            why_not_ready(&report),
            vec![format!("llama-70b  idle: {idle}")]
        );
    }
}
