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
    join_or_dash, print_json, print_json_line, print_lines, print_notes, print_table,
    short_duration, table, NO_WRAP,
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
            print_report(&report, ctx.verbose > 0);
        }
        warn_on_version_mismatch(&report);
        if !watch {
            return Ok(Exit::Success);
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// The status as people read it: a header, a table of models that fits
/// 80 columns, why the ones not ready are not and their last errors below
/// it, then GPUs. `verbose` adds each model's pid, requests in flight and
/// last error to the table, as it was before it had to fit.
pub fn print_report(report: &StatusReport, verbose: bool) {
    let up = humantime::format_duration(Duration::from_secs(report.proxy.uptime_s));
    println!(
        "config {}  proxy {}  supervisor pid {}  up {up}",
        report.config, report.proxy.url, report.proxy.pid
    );
    let mut headers = vec!["MODEL", "STATE", "PORT", "GPUS"];
    if verbose {
        headers.push("PID");
    }
    headers.extend(["RESTARTS", "REQUESTS", "ERRORS"]);
    if verbose {
        headers.push("IN-FLIGHT");
    }
    headers.push("P50 MS");
    if verbose {
        headers.push("LAST ERROR");
    }
    let mut t = table(headers);
    for m in &report.models {
        let mut row = vec![
            m.name.clone(),
            format!("{} {}", m.state, short_duration(m.state_for_s)),
            m.port.map_or("-".into(), |p| p.to_string()),
            join_or_dash(&m.gpu_ids),
        ];
        if verbose {
            row.push(m.pid.map_or("-".into(), |p| p.to_string()));
        }
        row.extend([
            m.restarts.to_string(),
            m.requests.to_string(),
            m.errors.to_string(),
        ]);
        if verbose {
            row.push(m.in_flight.to_string());
        }
        row.push(m.p50_ms.map_or("-".into(), |p| format!("{p:.1}")));
        if verbose {
            row.push(m.last_error.clone().unwrap_or_default());
        }
        t.add_row(row);
    }
    print_table(t, if verbose { &[] } else { NO_WRAP });
    let why = why_not_ready(report);
    if !why.is_empty() {
        println!();
        print_notes("why not ready:", &why);
    }
    // The last errors the lines above do not already say.
    let errors: Vec<(String, String)> = report
        .models
        .iter()
        .filter(|_| !verbose)
        .filter_map(|m| Some((m.name.clone(), m.last_error.clone()?)))
        .filter(|(name, error)| {
            !why.iter()
                .any(|(n, w)| n == name && w.ends_with(error.as_str()))
        })
        .collect();
    if !errors.is_empty() {
        println!();
        print_notes("last errors:", &errors);
    }
    let queues: Vec<(String, String)> = report
        .models
        .iter()
        .filter(|m| m.queued > 0 || m.rejected > 0)
        .map(|m| {
            (
                m.name.clone(),
                format!("{} waiting, {} refused (queue full)", m.queued, m.rejected),
            )
        })
        .collect();
    if !queues.is_empty() {
        println!();
        print_notes("queues:", &queues);
    }
    for m in report.models.iter().filter(|m| !m.log_tail.is_empty()) {
        println!("\nlast lines of {}'s log:", m.name);
        print_lines(&m.log_tail);
    }
    // GPUs only when the config's models use some: a config of mock or
    // remote models has nothing to read there.
    if !report.gpus.is_empty() && report.models.iter().any(|m| !m.gpu_ids.is_empty()) {
        let mut g = table(["GPU", "NAME", "MEMORY", "UTIL", "MODELS"]);
        let mut others = Vec::new();
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
            g.add_row([
                gpu.index.to_string(),
                gpu.name.clone(),
                format!("{} / {} MiB", gpu.memory_used_mib, gpu.memory_total_mib),
                format!("{}%", gpu.utilization_percent),
                join_or_dash(&holders),
            ]);
            // What holds the GPU besides the models of running configs: a
            // leftover server is the usual reason a model cannot load.
            let strangers: Vec<_> = gpu.processes.iter().filter(|p| p.owner.is_none()).collect();
            if !strangers.is_empty() {
                others.push((format!("GPU {}", gpu.index), describe_processes(strangers)));
            }
        }
        println!();
        print_table(g, &[4]);
        if !others.is_empty() {
            println!();
            print_notes("other processes on its GPUs:", &others);
        }
    }
}

/// Per model that is not ready, why (an idle timeout, its swap group, a
/// restart coming), unless its last error already says it: the model and
/// `STATE: why`.
fn why_not_ready(report: &StatusReport) -> Vec<(String, String)> {
    report
        .models
        .iter()
        .filter_map(|m| {
            let detail = m.detail.as_deref()?;
            (m.last_error.as_deref() != Some(detail))
                .then(|| (m.name.clone(), format!("{}: {detail}", m.state)))
        })
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
            vec![("llama-70b".to_string(), format!("idle: {idle}"))]
        );
    }
}
