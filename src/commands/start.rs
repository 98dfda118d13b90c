//! `start`: validate, launch the supervisor, wait for the models.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::preflight::preflight;
use super::settle::{finish, wait_settled, Progress, Watched, POLL};
use super::Ctx;
use crate::cli::StartArgs;
use crate::config::validate::check_saved;
use crate::control::client::{block_on, Client};
use crate::error::{Exit, Failure};
use crate::supervisor::daemonize;
use crate::supervisor::pidfile::running_pid;

/// How long the supervisor gets to open its control socket.
const SOCKET_WAIT: Duration = Duration::from_secs(15);

pub fn run(ctx: &Ctx, args: StartArgs) -> Result<Exit> {
    let name = ctx.config_name()?;
    if let Some(pid) = running_pid(&ctx.paths().run_dir(name)) {
        return Err(Failure::runtime(format!("config '{name}' is already running (pid {pid})"))
            .hint(format!("see it with 'vllm-mux --config {name} status'; apply config changes with 'vllm-mux --config {name} reload'"))
            .into());
    }
    let config = ctx.store.load(name)?;
    let inventory = check_saved(&config, ctx.paths(), &ctx.store.path(name))?;
    preflight(ctx, name, &config, &inventory)?;
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
    let mut progress = Progress::on_terminal(ctx, name);
    if args.wait.no_wait {
        ctx.say(format!(
            "started config '{name}' (supervisor pid {}); follow it with 'vllm-mux status'",
            report.proxy.pid
        ));
        return Ok(Exit::Success);
    }
    if progress.is_some() {
        println!("starting config '{name}': proxy on {}", report.proxy.url);
    }
    let timeout = args.wait.timeout.map(Duration::from_secs);
    report = wait_settled(&client, report, timeout, progress.as_mut(), Watched::All)?;
    finish(ctx, &report, Watched::All, progress.is_some())
}
