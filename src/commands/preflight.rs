//! What must hold before a config starts (`start`, and `init` when it
//! starts what it saved): free ports, the API key's variable, vLLM where
//! a model needs it, GPUs no running config holds, and enough free memory
//! on them. Each failure is a usage error (exit 2) and nothing is started.

use std::net::TcpListener;

use anyhow::Result;

use super::Ctx;
use crate::config::ports::proxy_listen_problem;
use crate::config::profiles::Profiles;
use crate::config::{key_from_env, Config, Engine, Store};
use crate::engine::program::locate;
use crate::engine::{Executables, VLLM_ENV};
use crate::error::Failure;
use crate::gpu::free::{refuse, shortages};
use crate::gpu::Inventory;
use crate::supervisor::pidfile::running_pid;

/// What must hold for `config` to start here and now: its ports are free,
/// its API key variable is set, vLLM can be run if a model needs it, no
/// running config holds its GPUs.
/// `inventory` is the one validation read, so NVML is asked once.
pub fn preflight(ctx: &Ctx, name: &str, config: &Config, inventory: &Inventory) -> Result<()> {
    check_ports(&ctx.store, name, config)?;
    check_api_key(config)?;
    check_vllm(config)?;
    let profiles = Profiles::load(ctx.paths())?;
    crate::gpu::cross::check(&ctx.store, &profiles, name, config)?;
    check_free_memory(ctx, config, &profiles, inventory)
}

/// vLLM models need the GPU memory they ask for to be free: a GPU another
/// process holds is named here, with who holds it, instead of each model
/// failing minutes into its load.
fn check_free_memory(
    ctx: &Ctx,
    config: &Config,
    profiles: &Profiles,
    inventory: &Inventory,
) -> Result<()> {
    // No NVIDIA driver, or no model names a GPU: no GPUs, nothing to measure.
    let mut gpus = inventory.gpus().to_vec();
    crate::gpu::owners::label(&mut gpus, &ctx.store);
    Ok(refuse(
        &shortages(config, profiles, &gpus),
        "nothing was started",
    )?)
}

/// Who of ours holds `port`: ", by the proxy of running config 'demo'",
/// ", by model 'chat' of running config 'demo'", or nothing (a stranger,
/// whom 'ss -ltnp' names). The config being started is not asked.
fn holder(store: &Store, starting: &str, port: u16) -> (String, Option<String>) {
    for name in store.list_names().into_iter().filter(|n| n != starting) {
        if running_pid(&store.paths().run_dir(&name)).is_none() {
            continue;
        }
        let Ok(other) = store.load(&name) else {
            continue;
        };
        let by = if other.port == port {
            Some(format!("the proxy of running config '{name}'"))
        } else {
            other
                .models
                .iter()
                .filter(|m| m.enabled && m.engine.launches_process())
                .flat_map(|m| m.instances())
                .find(|i| i.model.port == Some(port))
                .map(|i| format!("model '{}' of running config '{name}'", i.id))
        };
        if let Some(by) = by {
            return (format!(", by {by}"), Some(name));
        }
    }
    (String::new(), None)
}

/// The proxy port and every enabled launched model's port must be free.
fn check_ports(store: &Store, name: &str, config: &Config) -> Result<()> {
    let mut problems = Vec::new();
    let mut holders = Vec::new();
    let proxy_hint = match TcpListener::bind(config.proxy_address()) {
        Ok(_) => None,
        Err(err) => {
            let (mut problem, hint) = proxy_listen_problem(config, &err);
            if err.kind() == std::io::ErrorKind::AddrInUse {
                let (by, other) = holder(store, name, config.port);
                problem.push_str(&by);
                holders.extend(other);
            }
            problems.push(problem);
            Some(hint)
        }
    };
    let launched = config
        .models
        .iter()
        .filter(|m| m.enabled && m.engine.launches_process());
    for instance in launched.flat_map(|m| m.instances()) {
        if let Some(port) = instance.model.port {
            if !crate::config::ports::is_free_on_host(port) {
                let (by, other) = holder(store, name, port);
                problems.push(format!(
                    "model '{}': port: {port} is already in use on this machine{by}",
                    instance.id
                ));
                holders.extend(other);
            }
        }
    }
    let mut hint = match proxy_hint {
        Some(hint) => format!("{hint}; nothing was started"),
        None => "stop what holds the port (see 'ss -ltnp'), or pick another with 'vllm-mux edit-model NAME --port P'; nothing was started".into(),
    };
    holders.dedup();
    for other in holders {
        hint = format!("'vllm-mux --config {other} stop' frees its ports; or {hint}");
    }
    Ok(Failure::usage_if_any(problems, &hint)?)
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
    let unset = |var: &str| key_from_env(var).is_none();
    if let Some(var) = config.api_key_env.as_deref().filter(|var| unset(var)) {
        return Err(Failure::usage(format!("api_key_env names ${var}, which is not set or empty in this environment"))
            .hint(format!("export {var}=KEY (several keys: comma-separated) before 'vllm-mux start'; without it every client would be refused"))
            .into());
    }
    let problems: Vec<String> = config
        .models
        .iter()
        .filter(|m| m.enabled)
        .filter_map(|m| Some((m, m.backend_api_key_env.as_deref()?)))
        .filter(|(_, var)| unset(var))
        .map(|(m, var)| {
            format!(
                "model '{}': backend_api_key_env names ${var}, which is not set or empty in this environment",
                m.name
            )
        })
        .collect();
    Ok(Failure::usage_if_any(
        problems,
        "export the variable with the key the model's server wants before 'vllm-mux start'; nothing was started",
    )?)
}
