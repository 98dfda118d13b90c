//! Turning a model's config into what runs it: the argv, environment and
//! health URL of a process to launch, or the address of a remote server.
//! One file per engine; the supervisor only sees [`Launch`].

pub mod command;
pub mod flags;
pub mod mock;
pub mod program;
pub mod url;
pub mod vllm;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use serde_json::{Map, Value};

use crate::config::profiles::Profiles;
use crate::config::{Engine, ModelConfig};
use crate::error::Failure;

/// Backends bind here only: the proxy is the one door.
pub const BACKEND_HOST: &str = "127.0.0.1";
pub const DEFAULT_HEALTH_PATH: &str = "/health";
/// Environment variable naming the vllm executable (else `vllm` from PATH).
pub const VLLM_ENV: &str = "VLLM_MUX_VLLM";

/// What makes vLLM serve `/sleep`, `/wake_up` and `/is_sleeping`.
pub const VLLM_DEV_MODE: &str = "VLLM_SERVER_DEV_MODE";

/// Where vLLM (and the mock engine) read the key clients must send.
pub const VLLM_API_KEY: &str = "VLLM_API_KEY";

/// What turns on vLLM's `/v1/load_lora_adapter` and `/v1/unload_lora_adapter`.
pub const VLLM_RUNTIME_LORA: &str = "VLLM_ALLOW_RUNTIME_LORA_UPDATING";

/// A process to start for a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSpec {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Added to the supervisor's environment.
    pub env: BTreeMap<String, String>,
    /// Where the proxy sends requests: `http://127.0.0.1:PORT`.
    pub base_url: String,
    pub health_url: String,
}

impl ProcessSpec {
    /// The same server without vLLM's sleep mode: for a platform where
    /// vLLM refuses it at start.
    pub fn without_sleep_mode(&self) -> ProcessSpec {
        let mut spec = self.clone();
        spec.args.retain(|a| a != vllm::SLEEP_FLAG);
        spec.env.remove(VLLM_DEV_MODE);
        spec
    }
}

/// How a model is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    Process(ProcessSpec),
    /// Already served elsewhere: only health-checked and routed.
    Remote {
        base_url: String,
        health_url: String,
    },
}

impl Launch {
    pub fn base_url(&self) -> &str {
        match self {
            Launch::Process(spec) => &spec.base_url,
            Launch::Remote { base_url, .. } => base_url,
        }
    }

    pub fn health_url(&self) -> &str {
        match self {
            Launch::Process(spec) => &spec.health_url,
            Launch::Remote { health_url, .. } => health_url,
        }
    }
}

/// Where the executables come from; passed in so tests can pin them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executables {
    pub vllm: PathBuf,
    /// This binary, for the mock engine.
    pub vllm_mux: PathBuf,
}

impl Executables {
    /// `VLLM_MUX_VLLM` or `vllm` from PATH; this binary for the mock engine.
    pub fn from_env() -> Result<Self> {
        let vllm = std::env::var_os(VLLM_ENV)
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from("vllm"), PathBuf::from);
        let vllm_mux = std::env::current_exe().map_err(|err| {
            Failure::runtime(format!("cannot find the vllm-mux executable: {err}"))
        })?;
        Ok(Executables { vllm, vllm_mux })
    }
}

/// The launch plan for `model`, its server on [`BACKEND_HOST`].
pub fn plan(model: &ModelConfig, profiles: &Profiles, exes: &Executables) -> Result<Launch> {
    plan_on(model, profiles, exes, BACKEND_HOST)
}

/// The launch plan for `model`, its server listening on `host`: what
/// `export --format kubernetes` runs in a pod (`0.0.0.0`), from the same
/// flags as the supervisor's.
pub fn plan_on(
    model: &ModelConfig,
    profiles: &Profiles,
    exes: &Executables,
    host: &str,
) -> Result<Launch> {
    let profile = match model.profile.as_deref() {
        Some(name) => Some(profiles.get(name).ok_or_else(|| {
            Failure::usage(format!(
                "model '{}': profile: '{name}' does not exist",
                model.name
            ))
        })?),
        None => None,
    };
    let settings = flags::effective(profile.map(|p| &p.spec.config), &model.config_overrides);
    let mut env: BTreeMap<String, String> = profile
        .map(|p| p.spec.environment.clone())
        .unwrap_or_default();
    if model.engine == Engine::Url {
        return url::plan(model);
    }
    env.extend(model.environment.clone());
    let port = model.port.ok_or_else(|| {
        Failure::usage(format!("model '{}': port: is missing", model.name))
            .hint("run 'vllm-mux edit-model NAME --clear port' to assign one")
    })?;
    if !model.gpu_ids.is_empty() {
        env.insert("CUDA_VISIBLE_DEVICES".into(), gpu_list(&model.gpu_ids));
    }
    if !model.lora_adapters.is_empty() && model.engine == Engine::Vllm {
        // `lora add` and `lora remove` load and unload adapters while it runs.
        env.insert(VLLM_RUNTIME_LORA.into(), "True".into());
    }
    if model.sleep_mode && model.engine == Engine::Vllm {
        // vLLM serves /sleep and /wake_up only in its development mode.
        env.insert(VLLM_DEV_MODE.into(), "1".into());
    }
    let base_url = format!("http://{BACKEND_HOST}:{port}");
    let (program, args, health_path) = match model.engine {
        Engine::Vllm => (
            exes.vllm.clone(),
            vllm::args(model, host, port, &settings),
            DEFAULT_HEALTH_PATH,
        ),
        Engine::Mock => (
            exes.vllm_mux.clone(),
            mock::args(model, host, port, &settings),
            DEFAULT_HEALTH_PATH,
        ),
        Engine::Command => {
            let (program, args) = command::argv(model, port, &settings)?;
            (
                program,
                args,
                model.health_path.as_deref().unwrap_or(DEFAULT_HEALTH_PATH),
            )
        }
        Engine::Url => unreachable!("planned above"),
    };
    Ok(Launch::Process(ProcessSpec {
        program,
        args,
        env,
        health_url: format!("{base_url}{health_path}"),
        base_url,
    }))
}

/// `[0, 2]` → `"0,2"`, as CUDA_VISIBLE_DEVICES wants it.
pub fn gpu_list(ids: &[u32]) -> String {
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// Settings without the keys an engine file sets itself.
fn without(settings: &Map<String, Value>, keys: &[&str]) -> Map<String, Value> {
    settings
        .iter()
        .filter(|(k, _)| !keys.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
