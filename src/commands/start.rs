//! `start`: validate, launch the supervisor, wait for the models.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::status::print_report;
use super::Ctx;
use crate::cli::StartArgs;
use crate::config::schema::is_instance_of;
use crate::config::validate::check;
use crate::config::{Config, Engine};
use crate::control::api::StatusReport;
use crate::control::client::{block_on, Client};
use crate::engine::program::locate;
use crate::engine::{Executables, VLLM_ENV};
use crate::error::{Exit, Failure};
use crate::output::print_json;
use crate::supervisor::daemonize;
use crate::supervisor::pidfile::running_pid;
use crate::supervisor::state::ModelState;

/// How long the supervisor gets to open its control socket.
const SOCKET_WAIT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(100);

pub fn run(ctx: &Ctx, args: StartArgs) -> Result<Exit> {
    let name = ctx.config_name()?;
    if let Some(pid) = running_pid(&ctx.paths().run_dir(name)) {
        return Err(Failure::runtime(format!("config '{name}' is already running (pid {pid})"))
            .hint(format!("see it with 'vllm-mux --config {name} status'; apply config changes with 'vllm-mux --config {name} reload'"))
            .into());
    }
    let config = ctx.store.load(name)?;
    check(&config, ctx.paths())?;
    preflight(ctx, name, &config)?;
    if config.models.iter().all(|m| !m.enabled) {
        ctx.say("note: no enabled models; the proxy will answer 404 until you add one and reload");
    }
    if args.foreground {
        return crate::supervisor::run(ctx.paths().clone(), name, true);
    }
    std::fs::create_dir_all(ctx.paths().run_dir(name)).map_err(|err| {
        Failure::runtime(format!(
            "cannot create {}: {err}",
            ctx.paths().run_dir(name).display()
        ))
    })?;
    let (mut child, out_path) = daemonize::spawn(ctx.paths(), name)?;
    let client = Client::new(ctx.paths(), name)?;
    let deadline = Instant::now() + SOCKET_WAIT;
    let mut report = loop {
        if let Ok(Ok(report)) = block_on(client.status()) {
            break report;
        }
        if let Ok(Some(_)) = child.try_wait() {
            let out = std::fs::read_to_string(&out_path).unwrap_or_default();
            let why = out
                .lines()
                .rfind(|l| l.starts_with("error:"))
                .unwrap_or("it exited at once")
                .to_string();
            return Err(Failure::runtime(format!(
                "the supervisor of '{name}' did not start: {}",
                why.trim_start_matches("error: ")
            ))
            .hint(format!("its output is in {}", out_path.display()))
            .into());
        }
        if Instant::now() > deadline {
            return Err(Failure::runtime(format!(
                "the supervisor of '{name}' did not answer within {} s",
                SOCKET_WAIT.as_secs()
            ))
            .hint(format!(
                "see {} and 'vllm-mux logs proxy'",
                out_path.display()
            ))
            .into());
        }
        std::thread::sleep(POLL);
    };
    let progress = !ctx.json && !ctx.quiet && std::io::stdout().is_terminal();
    if args.wait.no_wait {
        ctx.say(format!(
            "started config '{name}' (supervisor pid {}); follow it with 'vllm-mux status'",
            report.proxy.pid
        ));
        return Ok(Exit::Success);
    }
    if progress {
        println!("starting config '{name}': proxy on {}", report.proxy.url);
    }
    let timeout = args.wait.timeout.map(Duration::from_secs);
    report = wait_settled(&client, report, timeout, progress, Watched::All)?;
    finish(ctx, &report, Watched::All, progress)
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

/// What must hold for `config` to start here and now: its ports are free,
/// its API key variable is set, vLLM can be run if a model needs it, no
/// running config holds its GPUs.
pub fn preflight(ctx: &Ctx, name: &str, config: &Config) -> Result<()> {
    check_ports(config)?;
    check_api_key(config)?;
    check_vllm(config)?;
    crate::gpu::cross::check(
        &ctx.store,
        &crate::config::profiles::Profiles::load(ctx.paths())?,
        name,
        config,
    )
}

/// The proxy port and every enabled launched model's port must be free.
fn check_ports(config: &Config) -> Result<()> {
    let mut problems = Vec::new();
    let proxy_taken = TcpListener::bind(config.proxy_address()).is_err();
    if proxy_taken {
        problems.push(format!(
            "port {} of the proxy ({}) is already in use on this machine",
            config.port, config.host
        ));
    }
    let launched = config
        .models
        .iter()
        .filter(|m| m.enabled && m.engine.launches_process());
    for instance in launched.flat_map(|m| m.instances()) {
        if let Some(port) = instance.model.port {
            if !crate::config::ports::is_free_on_host(port) {
                problems.push(format!(
                    "model '{}': port: {port} is already in use on this machine",
                    instance.id
                ));
            }
        }
    }
    let hint = if proxy_taken {
        "stop what holds the port (see 'ss -ltnp'), or move the proxy with 'vllm-mux edit-proxy --port P' (a model with 'vllm-mux edit-model NAME --port P'); nothing was started"
    } else {
        "stop what holds the port (see 'ss -ltnp'), or pick another with 'vllm-mux edit-model NAME --port P'; nothing was started"
    };
    Ok(Failure::usage_if_any(problems, hint)?)
}

/// Enabled `vllm` models need the executable the guard will run: refused
/// here, before anything starts, rather than each model failing after.
fn check_vllm(config: &Config) -> Result<()> {
    let needing: Vec<String> = config
        .models
        .iter()
        .filter(|m| m.enabled && m.engine == Engine::Vllm)
        .map(|m| format!("'{}'", m.name))
        .collect();
    if needing.is_empty() {
        return Ok(());
    }
    let vllm = Executables::from_env()?.vllm;
    if locate(&vllm, std::env::var_os("PATH").as_deref()).is_some() {
        return Ok(());
    }
    let what = match std::env::var_os(VLLM_ENV).filter(|v| !v.is_empty()) {
        Some(set) => format!(
            "{VLLM_ENV}={} is not an executable file",
            set.to_string_lossy()
        ),
        None => "no 'vllm' executable is on PATH".to_string(),
    };
    let (models, verb) = if needing.len() == 1 {
        ("model", "runs")
    } else {
        ("models", "run")
    };
    Err(Failure::usage(format!(
        "{models} {} {verb} vLLM, but {what}",
        needing.join(", ")
    ))
    .hint("install vLLM where vllm-mux runs (pip install vllm; activate its virtualenv), or set VLLM_MUX_VLLM to its path; 'vllm-mux edit-model NAME --disabled' leaves a model out; nothing was started")
    .into())
}

fn check_api_key(config: &Config) -> Result<()> {
    let Some(var) = &config.api_key_env else {
        return Ok(());
    };
    if std::env::var(var)
        .map(|v| v.trim().is_empty())
        .unwrap_or(true)
    {
        return Err(Failure::usage(format!("api_key_env names ${var}, which is not set or empty in this environment"))
            .hint(format!("export {var}=KEY (several keys: comma-separated) before 'vllm-mux start'; without it every client would be refused"))
            .into());
    }
    Ok(())
}
