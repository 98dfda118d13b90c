//! Waiting for models to settle, shared by `start`, `start-model`, `reload`
//! and `wait`: progress lines while it lasts, the status table and the exit
//! code after.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::follow::Follower;
use super::status::print_report;
use super::Ctx;
use crate::config::schema::is_instance_of;
use crate::control::api::{ModelStatus, StatusReport};
use crate::control::client::{block_on, Client};
use crate::error::{Exit, Failure};
use crate::output::print_json;
use crate::supervisor::logfile::{cut, newest_engine_line, since_last_start};
use crate::supervisor::state::ModelState;

/// How often the supervisor is asked while waiting.
pub const POLL: Duration = Duration::from_millis(100);
/// How often, at most, a starting model's newest log line is shown.
const NOTE_EVERY: Duration = Duration::from_secs(3);
/// Log lines are cut to this many characters on a progress line.
const NOTE_WIDTH: usize = 100;

/// Progress lines on a terminal: each state change, and, while a model
/// starts (loading weights can take minutes), its server's newest log line
/// every few seconds.
pub struct Progress {
    logs: PathBuf,
    /// The log of each model being followed while it starts.
    notes: BTreeMap<String, Note>,
}

struct Note {
    follower: Follower,
    newest: Option<String>,
    shown: Option<String>,
    at: Instant,
}

impl Progress {
    /// Progress for `config`'s models, when stdout is a terminal and
    /// neither `--json` nor `--quiet` asks for silence.
    pub fn on_terminal(ctx: &Ctx, config: &str) -> Option<Progress> {
        (!ctx.json && !ctx.quiet && std::io::stdout().is_terminal()).then(|| Progress {
            logs: ctx.paths().logs_dir(config),
            notes: BTreeMap::new(),
        })
    }

    /// The newest line `m`'s server wrote, when there is one not shown yet
    /// and the last was shown long enough ago. Only lines of this start
    /// count (after the supervisor's `→ starting` line), and none of
    /// vllm-mux's own.
    fn note(&mut self, m: &ModelStatus) -> Option<String> {
        if m.state != ModelState::Starting {
            self.notes.remove(&m.name);
            return None;
        }
        let note = self.notes.entry(m.name.clone()).or_insert_with(|| {
            let mut follower =
                Follower::new(m.name.clone(), self.logs.join(format!("{}.log", m.name)));
            let newest = newest_of_this_start(&follower.poll());
            Note {
                follower,
                newest,
                shown: None,
                at: Instant::now(),
            }
        });
        if let Some(newest) = newest_engine_line(&note.follower.poll()) {
            note.newest = Some(newest);
        }
        if note.newest == note.shown || note.at.elapsed() < NOTE_EVERY {
            return None;
        }
        note.shown.clone_from(&note.newest);
        note.at = Instant::now();
        note.newest.as_deref().map(|l| cut(l, NOTE_WIDTH))
    }
}

/// The newest server line after the supervisor's last `→ starting` line
/// (none if that line is not there: what is there is an earlier run's).
fn newest_of_this_start(lines: &[String]) -> Option<String> {
    since_last_start(lines).and_then(newest_engine_line)
}

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

/// Poll until every watched model is ready, failed or stopped; with
/// `progress`, print one line per state change, and a starting model's
/// newest log line now and then.
pub fn wait_settled(
    client: &Client,
    mut report: StatusReport,
    timeout: Option<Duration>,
    mut progress: Option<&mut Progress>,
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
        if let Some(progress) = progress.as_deref_mut() {
            for m in &watched {
                if let Some(line) = progress.note(m) {
                    println!(
                        "  {:<20} {} {}: {line}",
                        m.name,
                        m.state,
                        crate::output::short_duration(m.state_for_s)
                    );
                }
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
        print_report(report, ctx.verbose > 0);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_starts_server_lines_are_news() {
        let lines: Vec<String> = [
            "2026-11-26T07:00:00.000Z vllm-mux: pending → starting",
            "2026-11-26T07:00:01.000Z INFO old run",
            "2026-11-26T07:05:00.000Z vllm-mux: ready → starting (exited with code 1; restarting in 1 s)",
            "2026-11-26T07:05:01.000Z INFO Loading weights took 3.1 s",
            "2026-11-26T07:05:02.000Z vllm-mux: started vllm (pid 7)",
            "2026-11-26T07:05:03.000Z   ",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            newest_of_this_start(&lines).as_deref(),
            Some("INFO Loading weights took 3.1 s")
        );
        assert_eq!(newest_of_this_start(&lines[1..2]), None, "no start line");
        assert_eq!(newest_of_this_start(&lines[..3]), None, "nothing yet");
    }
}
