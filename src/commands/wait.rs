//! Waiting for models to settle, shared by `start`, `start-model` and
//! `reload`: progress lines while it lasts, the status table and the exit
//! code after.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::status::print_report;
use super::Ctx;
use crate::config::schema::is_instance_of;
use crate::control::api::StatusReport;
use crate::control::client::{block_on, Client};
use crate::error::{Exit, Failure};
use crate::output::print_json;
use crate::supervisor::state::ModelState;

/// How often the supervisor is asked while waiting.
pub const POLL: Duration = Duration::from_millis(100);

/// Which models a wait, and the verdict after it, are about.
#[derive(Debug, Clone, Copy)]
pub enum Watched<'a> {
    All,
    /// These models, each with its replicas.
    Models(&'a [String]),
}

impl Watched<'_> {
    /// Whether the copy `instance` (`qwen`, `qwen@1`) is one of them.
    pub fn covers(self, instance: &str) -> bool {
        match self {
            Watched::All => true,
            Watched::Models(names) => names.iter().any(|name| is_instance_of(instance, name)),
        }
    }
}

/// Poll until every watched model is ready, failed or stopped; print one
/// line per state change when `progress`.
pub fn wait_settled(
    client: &Client,
    mut report: StatusReport,
    timeout: Option<Duration>,
    progress: bool,
    only: Watched<'_>,
) -> Result<StatusReport> {
    let started = Instant::now();
    let mut seen: BTreeMap<String, ModelState> = BTreeMap::new();
    loop {
        let watched: Vec<_> = report
            .models
            .iter()
            .filter(|m| only.covers(&m.name))
            .collect();
        if progress {
            for m in &watched {
                if seen.get(&m.name) != Some(&m.state) {
                    let extra = match (&m.state, &m.last_error) {
                        (ModelState::Failed | ModelState::Unhealthy, Some(e)) => format!(": {e}"),
                        (ModelState::Ready, _) => format!(
                            " on port {} after {:.1} s",
                            m.port.map_or("-".into(), |p| p.to_string()),
                            started.elapsed().as_secs_f64()
                        ),
                        _ => String::new(),
                    };
                    println!("  {:<20} {}{extra}", m.name, m.state);
                    seen.insert(m.name.clone(), m.state);
                }
            }
        }
        if watched.iter().all(|m| m.state.is_settled()) {
            return Ok(report);
        }
        if timeout.is_some_and(|t| started.elapsed() > t) {
            let waiting: Vec<&str> = watched
                .iter()
                .filter(|m| !m.state.is_settled())
                .map(|m| m.name.as_str())
                .collect();
            return Err(Failure::runtime(format!(
                "gave up waiting after {} s; still starting: {} (they keep starting in the background)",
                started.elapsed().as_secs(),
                waiting.join(", ")
            ))
            .hint("watch them with 'vllm-mux status --watch'")
            .into());
        }
        std::thread::sleep(POLL);
        report = block_on(client.status())??;
    }
}

/// Print the settled status (after a blank line when progress lines came
/// before it); exit 1 if a model failed.
pub fn finish(
    ctx: &Ctx,
    report: &StatusReport,
    only: Watched<'_>,
    after_progress: bool,
) -> Result<Exit> {
    if ctx.json {
        print_json(report)?;
    } else if !ctx.quiet {
        if after_progress {
            println!();
        }
        print_report(report);
    }
    verdict(report, only)
}

/// Success, or the error that names the watched models that failed.
pub fn verdict(report: &StatusReport, only: Watched<'_>) -> Result<Exit> {
    let failed: Vec<&str> = report
        .models
        .iter()
        .filter(|m| only.covers(&m.name) && m.state == ModelState::Failed)
        .map(|m| m.name.as_str())
        .collect();
    if failed.is_empty() {
        return Ok(Exit::Success);
    }
    Err(
        Failure::runtime(format!("model(s) failed to start: {}", failed.join(", ")))
            .hint(format!(
                "see why with 'vllm-mux logs {}'; the proxy keeps serving the others",
                failed[0]
            ))
            .into(),
    )
}
