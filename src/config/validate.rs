//! The rules of DESIGN.md section 3. Every problem names the model and the
//! field; all problems are reported at once. Run at `add-model`, `edit-model`,
//! `import`, `start` and `reload`.

mod flag_values;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use anyhow::Result;
use serde_json::Value;

use super::names::{check_alias, check_name, RESERVED_MODEL_NAMES};
use super::paths::Paths;
use super::ports::MIN_MODEL_PORT;
use super::profiles::Profiles;
use super::schema::{Config, Engine, ModelConfig, GPU_MEMORY_KEY};
use crate::engine::flags::{effective, normalize_key};
use crate::error::Failure;
use crate::gpu::assign::{conflicts, Claim};
use crate::gpu::Inventory;

/// Override keys vllm-mux sets itself.
const RESERVED_OVERRIDES: [(&str, &str); 5] = [
    ("port", "--port"),
    ("host", "nothing: backends always bind 127.0.0.1"),
    (
        "served_model_name",
        "the model's name (and --alias for more names)",
    ),
    ("model", "--model"),
    // The proxy must know the key to send it, and a key in the config
    // file (and in `ps`) is a key anyone who reads them has.
    (
        "api_key",
        "--backend-api-key-env VAR (the proxy sends it; vllm and mock engines get it as VLLM_API_KEY)",
    ),
];

const PORT_HINT: &str = "pick another --port, or leave it out to take the next free one from 8001";

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// `None` for the proxy settings.
    pub model: Option<String>,
    pub field: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.model {
            Some(model) => write!(f, "model '{model}': {}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

struct Found(Vec<Problem>);

impl Found {
    fn proxy(&mut self, field: &'static str, message: String) {
        self.0.push(Problem {
            model: None,
            field,
            message,
            hint: None,
        });
    }

    fn model(&mut self, model: &ModelConfig, field: &'static str, message: String) {
        self.model_hint(model, field, message, None);
    }

    fn model_hint(
        &mut self,
        model: &ModelConfig,
        field: &'static str,
        message: String,
        hint: Option<String>,
    ) {
        self.0.push(Problem {
            model: Some(model.name.clone()),
            field,
            message,
            hint,
        });
    }
}

/// The hint of a problem that brings none of its own, for a command about
/// to save a config.
const FIX_BEFORE_SAVING: &str =
    "nothing was saved; correct the value named above and run the command again";

/// Load what validation needs (profiles; GPUs only if a model names one) and
/// check `config` before it is saved. Returns a usage error listing every problem.
pub fn check(config: &Config, paths: &Paths) -> Result<()> {
    checked(config, paths).map(drop)
}

/// [`check`], handing back the GPU inventory it checked against, for a
/// start's free-memory check to use rather than read again.
pub fn checked(config: &Config, paths: &Paths) -> Result<Inventory> {
    let (problems, inventory) = find(config, paths)?;
    into_result(problems, FIX_BEFORE_SAVING)?;
    Ok(inventory)
}

/// Check a saved `config` (at `file`) before it runs: the same rules as
/// [`check`], with a hint that says how to mend a saved config.
pub fn check_saved(config: &Config, paths: &Paths, file: &std::path::Path) -> Result<Inventory> {
    let hint = format!(
        "nothing was started or changed; mend it with 'vllm-mux edit-proxy' or 'vllm-mux edit-model NAME', or in {}",
        file.display()
    );
    let (problems, inventory) = find(config, paths)?;
    into_result(problems, &hint)?;
    Ok(inventory)
}

/// The problems of `config`, and the GPU inventory they were found against
/// (read only if a model names a GPU).
fn find(config: &Config, paths: &Paths) -> Result<(Vec<Problem>, Inventory)> {
    let profiles = Profiles::load(paths)?;
    let inventory = if config
        .models
        .iter()
        .any(|m| !m.gpu_ids.is_empty() || gpus_left_to_chance(m))
    {
        Inventory::detect()?
    } else {
        Inventory::Unavailable("no model names a GPU".into())
    };
    Ok((problems(config, &profiles, &inventory), inventory))
}

/// Turn problems into one usage error (first problem, the rest as more
/// lines); `hint` when the first brings none of its own.
pub fn into_result(problems: Vec<Problem>, hint: &str) -> Result<()> {
    let mut iter = problems.into_iter();
    let Some(first) = iter.next() else {
        return Ok(());
    };
    let hint = first.hint.clone().unwrap_or_else(|| hint.to_string());
    Err(Failure::usage(first.to_string())
        .with_more(iter.map(|p| p.to_string()).collect())
        .hint(hint)
        .into())
}

/// Every problem in `config`.
pub fn problems(config: &Config, profiles: &Profiles, inventory: &Inventory) -> Vec<Problem> {
    let mut found = Found(Vec::new());
    check_proxy(config, &mut found);
    let mut names = BTreeSet::new();
    // Everything a client may send as `model`, with who owns it.
    let mut idents: BTreeMap<&str, String> = BTreeMap::new();
    let mut fractions = Vec::new();
    for model in &config.models {
        check_model_name(model, &mut names, &mut found);
        check_idents(model, &mut idents, &mut found);
        check_engine(model, &mut found);
        check_replicas(model, &mut found);
        check_swap_group(model, &mut found);
        check_admission(model, &mut found);
        check_sleep_mode(model, &mut found);
        check_lora(model, &mut found);
        let profile = check_profile(model, profiles, &mut found);
        let settings = effective(profile.map(|p| &p.spec.config), &model.config_overrides);
        check_overrides(model, &mut found);
        fractions.push(check_memory_fraction(
            model,
            settings.get(GPU_MEMORY_KEY),
            &mut found,
        ));
    }
    // Ports and GPUs belong to each running copy: the model and its replicas,
    // reported under the copy's id (`qwen@1`).
    let instances: Vec<(usize, ModelConfig)> = config
        .models
        .iter()
        .enumerate()
        .flat_map(|(i, m)| {
            m.instances().into_iter().map(move |inst| {
                (
                    i,
                    ModelConfig {
                        name: inst.id,
                        ..inst.model
                    },
                )
            })
        })
        .collect();
    let mut ports: BTreeMap<u16, String> = BTreeMap::new();
    let mut claims = Vec::new();
    for (i, instance) in &instances {
        check_port(config, instance, &mut ports, &mut found);
        check_gpus(instance, inventory, &mut found);
        if instance.enabled {
            claims.push(Claim {
                model: &instance.name,
                gpu_ids: &instance.gpu_ids,
                memory_fraction: fractions[*i],
                swap_group: instance.swap_group.as_deref(),
            });
        }
    }
    for conflict in conflicts(&claims) {
        if let Some((_, instance)) = instances.iter().find(|(_, m)| m.name == conflict.model()) {
            found.model_hint(
                instance,
                "gpu_ids",
                conflict.message(),
                Some("give each model its own GPUs (--gpus), set --gpu-memory-utilization on every model sharing one, or put them in one --swap-group to take turns".into()),
            );
        }
    }
    found.0
}

/// Replicas copy a launched model onto other GPUs; the GPU count sets
/// tensor parallelism, so every copy needs the same count.
fn check_sleep_mode(model: &ModelConfig, found: &mut Found) {
    if !model.sleep_mode {
        return;
    }
    if !matches!(model.engine, Engine::Vllm | Engine::Mock) {
        found.model(
            model,
            "sleep_mode",
            format!(
                "is vLLM's (and the mock engine's), not the {} engine's",
                model.engine.as_str()
            ),
        );
    } else if model.idle_timeout_s.is_none() && model.swap_group.is_none() {
        found.model_hint(
            model,
            "sleep_mode",
            "does nothing for a model that never goes idle".into(),
            Some("pass --idle-timeout SECS or --swap-group NAME with it".into()),
        );
    }
}

fn check_admission(model: &ModelConfig, found: &mut Found) {
    if let Some(gib) = model.gpu_memory_gib {
        if !(gib.is_finite() && gib > 0.0) {
            found.model(
                model,
                "gpu_memory_gib",
                format!("{gib} is not an amount of memory; give GiB above 0"),
            );
        }
    }
    if model.max_concurrent == Some(0) {
        found.model_hint(
            model,
            "max_concurrent",
            "0 would let no request through".into(),
            Some("use 1 or more, or --clear max-concurrent for no limit".into()),
        );
    }
}

fn check_swap_group(model: &ModelConfig, found: &mut Found) {
    let Some(group) = &model.swap_group else {
        return;
    };
    if let Err(message) = check_name("swap group", group) {
        found.model(model, "swap_group", message);
    } else if !model.engine.launches_process() {
        found.model(
            model,
            "swap_group",
            "is only for engines vllm-mux runs; a url server is not started or stopped here".into(),
        );
    } else if !model.replicas.is_empty() {
        found.model_hint(
            model,
            "swap_group",
            "a model with replicas cannot take turns as one".into(),
            Some("use --clear replicas, or leave the model out of the group".into()),
        );
    }
}

fn check_replicas(model: &ModelConfig, found: &mut Found) {
    if model.replicas.is_empty() {
        return;
    }
    if !model.engine.launches_process() {
        found.model(
            model,
            "replicas",
            "the url engine launches nothing to copy; add each remote server as a model of its own"
                .into(),
        );
        return;
    }
    for (i, replica) in model.replicas.iter().enumerate() {
        if replica.gpu_ids.len() != model.gpu_ids.len() {
            found.model(
                model,
                "replicas",
                format!(
                    "replica {} has {} GPU(s) and the model {}; every copy needs the same number (it sets tensor parallelism)",
                    i + 1,
                    replica.gpu_ids.len(),
                    model.gpu_ids.len()
                ),
            );
        }
    }
}

/// Why `host` cannot be listened on, by its form alone: it must be an IP
/// address (IPv6 with or without brackets) or a host name (RFC 1123).
/// Whether a name resolves, and to this machine, is for `start` to tell.
pub fn host_problem(host: &str) -> Option<String> {
    use std::net::IpAddr;
    if host.trim().is_empty() {
        return Some("is empty".into());
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if bare.parse::<IpAddr>().is_ok() {
        return None;
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let name = host.strip_suffix('.').unwrap_or(host);
    let labels: Vec<&str> = name.split('.').collect();
    let numeric = labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit()));
    if name.len() > 253 || !labels.iter().all(|l| label_ok(l)) || numeric {
        let what = if host.contains("://") || host.contains('/') {
            " (a host, not a URL)"
        } else if host.contains(':') {
            " (the port is set on its own, with --port)"
        } else {
            ""
        };
        return Some(format!(
            "'{host}' is not an IP address or a host name{what}"
        ));
    }
    None
}

fn check_proxy(config: &Config, found: &mut Found) {
    if let Some(why) = host_problem(&config.host) {
        found.proxy(
            "host",
            format!("{why}; use 0.0.0.0 for every interface or 127.0.0.1 for this machine only"),
        );
    }
    if config.port == 0 {
        found.proxy(
            "port",
            "0 is not a port; the proxy needs a fixed one (default 8000)".into(),
        );
    }
    if config.startup_timeout_s == 0 {
        found.proxy(
            "startup_timeout_s",
            "0 leaves no time to start; the default is 600".into(),
        );
    }
    if config.health_interval_ms < 50 {
        found.proxy(
            "health_interval_ms",
            format!(
                "{} ms is too often; use 50 or more (default 2000)",
                config.health_interval_ms
            ),
        );
    }
    if config.unhealthy_after == 0 {
        found.proxy("unhealthy_after", "must be at least 1 (default 3)".into());
    }
    if config.backend_timeout_s == 0 {
        found.proxy(
            "backend_timeout_s",
            "0 would time out every request; the default is 600".into(),
        );
    }
    if config.client_header_timeout_s == 0 {
        found.proxy(
            "client_header_timeout_s",
            "0 would close every connection at once; the default is 10".into(),
        );
    }
    if config.min_residency_s > config.max_wait_s {
        found.proxy(
            "min_residency_s",
            format!(
                "{} s is longer than max_wait_s ({} s), which wins: a model that waited max_wait_s goes next",
                config.min_residency_s, config.max_wait_s
            ),
        );
    }
    if let Some(var) = &config.api_key_env {
        if !is_env_name(var) {
            found.proxy(
                "api_key_env",
                format!("'{var}' is not an environment variable name"),
            );
        }
    }
}

/// Letters, digits and `_`, not starting with a digit.
fn is_env_name(var: &str) -> bool {
    var.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_model_name<'a>(model: &'a ModelConfig, names: &mut BTreeSet<&'a str>, found: &mut Found) {
    if let Err(message) = check_name("model", &model.name) {
        found.model(model, "name", message);
    }
    if RESERVED_MODEL_NAMES.contains(&model.name.as_str()) {
        found.model(
            model,
            "name",
            format!(
                "'{}' is reserved for 'vllm-mux logs'; pick another name",
                model.name
            ),
        );
    }
    if !names.insert(&model.name) {
        found.model(
            model,
            "name",
            format!("another model is already named '{}'", model.name),
        );
    }
}

/// Names, aliases and LoRA names share one namespace: the `model` field.
fn check_idents<'a>(
    model: &'a ModelConfig,
    idents: &mut BTreeMap<&'a str, String>,
    found: &mut Found,
) {
    // A duplicate model name is reported by check_model_name.
    idents
        .entry(&model.name)
        .or_insert_with(|| format!("the name of model '{}'", model.name));
    let mut wanted: Vec<(&'a str, &'static str, &'static str)> = Vec::new();
    for alias in &model.aliases {
        if let Err(message) = check_alias("alias", alias) {
            found.model(model, "aliases", message);
        }
        if alias == &model.name {
            found.model(
                model,
                "aliases",
                format!("alias '{alias}' is the model's own name"),
            );
        } else {
            wanted.push((alias, "alias", "aliases"));
        }
    }
    for adapter in &model.lora_adapters {
        if let Err(message) = check_alias("LoRA adapter name", &adapter.name) {
            found.model(model, "lora_adapters", message);
        }
        wanted.push((&adapter.name, "LoRA adapter", "lora_adapters"));
    }
    for (ident, what, field) in wanted {
        match idents.get(ident) {
            Some(owner) => {
                found.model(model, field, format!("{what} '{ident}' is already {owner}"))
            }
            None => {
                idents.insert(ident, format!("{what} of model '{}'", model.name));
            }
        }
    }
}

fn check_port(
    config: &Config,
    model: &ModelConfig,
    ports: &mut BTreeMap<u16, String>,
    found: &mut Found,
) {
    let Some(port) = model.port else {
        if model.engine.launches_process() {
            found.model_hint(
                model,
                "port",
                "is missing".into(),
                Some(format!(
                    "pass --port, or leave it out of add-model to take the next free one from {}",
                    super::schema::FIRST_MODEL_PORT
                )),
            );
        }
        return;
    };
    if !model.engine.launches_process() {
        found.model(model, "port", format!("the url engine launches nothing, so port {port} is unused; remove it (edit-model --clear port)"));
        return;
    }
    if port < MIN_MODEL_PORT {
        found.model_hint(
            model,
            "port",
            format!(
                "{port} is below {MIN_MODEL_PORT}; model ports must be in {MIN_MODEL_PORT}..65535"
            ),
            Some(PORT_HINT.into()),
        );
    }
    if port == config.port {
        found.model_hint(
            model,
            "port",
            format!("{port} is the proxy's own port"),
            Some(PORT_HINT.into()),
        );
    }
    match ports.get(&port) {
        Some(owner) => found.model_hint(
            model,
            "port",
            format!("{port} is already used by model '{owner}'"),
            Some(PORT_HINT.into()),
        ),
        None => {
            ports.insert(port, model.name.clone());
        }
    }
}

fn check_environment(model: &ModelConfig, found: &mut Found) {
    if !model.environment.is_empty() && !model.engine.launches_process() {
        found.model(
            model,
            "environment",
            "is only for engines vllm-mux runs; a url server has its own".into(),
        );
        return;
    }
    for (key, value) in &model.environment {
        if !is_env_name(key) {
            found.model(
                model,
                "environment",
                format!("'{key}' is not an environment variable name"),
            );
        } else if value.contains('\0') {
            found.model(
                model,
                "environment",
                format!("{key}'s value holds a NUL byte, which no environment can"),
            );
        } else if key == "CUDA_VISIBLE_DEVICES" && !model.gpu_ids.is_empty() {
            found.model_hint(
                model,
                "environment",
                "CUDA_VISIBLE_DEVICES comes from the model's GPUs".into(),
                Some("choose them with --gpus, and --unset-env CUDA_VISIBLE_DEVICES".into()),
            );
        } else if key == crate::engine::VLLM_API_KEY {
            found.model_hint(
                model,
                "environment",
                format!("{key} is the server's key, which the proxy must know to send"),
                Some("use --backend-api-key-env VAR, and --unset-env VLLM_API_KEY".into()),
            );
        }
    }
}

fn check_engine(model: &ModelConfig, found: &mut Found) {
    if let Some(var) = &model.backend_api_key_env {
        if !is_env_name(var) {
            found.model(
                model,
                "backend_api_key_env",
                format!("'{var}' is not an environment variable name"),
            );
        }
    }
    let engine = model.engine;
    check_environment(model, found);
    match model.idle_timeout_s {
        Some(0) => found.model_hint(
            model,
            "idle_timeout_s",
            "is 0; a server stopped as soon as it is idle would be started again for each request"
                .into(),
            Some(
                "pass --idle-timeout SECS, or --clear idle-timeout to keep the server running"
                    .into(),
            ),
        ),
        Some(_) if !engine.launches_process() => found.model(
            model,
            "idle_timeout_s",
            "is only for engines vllm-mux runs; a url server is not started or stopped here".into(),
        ),
        _ => {}
    }
    if engine == Engine::Vllm && model.model_path.trim().is_empty() {
        found.model_hint(
            model,
            "model_path",
            "is empty; vLLM needs a Hugging Face id or a local path".into(),
            Some("pass --model ID_OR_PATH".into()),
        );
    }
    match (&model.command, engine) {
        (None, Engine::Command) => found.model_hint(
            model,
            "command",
            "is missing; the command engine needs a template".into(),
            Some(
                "pass --command 'llama-server -m /models/x.gguf --host {host} --port {port}'"
                    .into(),
            ),
        ),
        (Some(template), Engine::Command) if !template.contains("{port}") => found.model(
            model,
            "command",
            "has no {port} placeholder, so the server cannot be told where to listen".into(),
        ),
        (Some(template), Engine::Command)
            if template.contains("{model}") && model.model_path.is_empty() =>
        {
            found.model_hint(
                model,
                "model_path",
                "is empty, but the command template uses {model}".into(),
                Some("pass --model ID_OR_PATH".into()),
            )
        }
        (Some(_), other) if other != Engine::Command => found.model(
            model,
            "command",
            format!("is only for the command engine, not {}", other.as_str()),
        ),
        _ => {}
    }
    match (&model.url, engine) {
        (None, Engine::Url) => found.model_hint(
            model,
            "url",
            "is missing; the url engine needs one".into(),
            Some("pass --url http://HOST:PORT".into()),
        ),
        (Some(url), Engine::Url) => {
            let rest = url.strip_prefix("http://");
            if url.starts_with("https://") {
                found.model_hint(
                    model,
                    "url",
                    format!("'{url}': https backends are not supported yet"),
                    Some("reach the remote server over http on a private network, or through a local TLS-terminating tunnel".into()),
                );
            } else if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
                found.model(
                    model,
                    "url",
                    format!("'{url}' is not an http:// URL with a host"),
                );
            }
        }
        (Some(_), other) => found.model(
            model,
            "url",
            format!("is only for the url engine, not {}", other.as_str()),
        ),
        _ => {}
    }
    if let Some(path) = &model.health_path {
        if !matches!(engine, Engine::Command | Engine::Url) {
            found.model(
                model,
                "health_path",
                format!(
                    "is only for the command and url engines; {} uses /health",
                    engine.as_str()
                ),
            );
        } else if !path.starts_with('/') {
            found.model(
                model,
                "health_path",
                format!("'{path}' must start with '/'"),
            );
        }
    }
    if engine == Engine::Url {
        if !model.gpu_ids.is_empty() {
            found.model(
                model,
                "gpu_ids",
                "the url engine's model runs elsewhere; vllm-mux cannot assign its GPUs".into(),
            );
        }
        if !model.config_overrides.is_empty() || model.profile.is_some() {
            found.model(
                model,
                "config_overrides",
                "the url engine launches nothing, so engine flags and profiles have no effect"
                    .into(),
            );
        }
    }
}

fn check_lora(model: &ModelConfig, found: &mut Found) {
    if model.lora_adapters.is_empty() {
        return;
    }
    // A url model's adapters are those its server was started with: routed
    // by name, never loaded from here.
    if !matches!(model.engine, Engine::Vllm | Engine::Mock | Engine::Url) {
        found.model(
            model,
            "lora_adapters",
            format!(
                "LoRA adapters are served by the vllm engine (or a url model's server), not {}",
                model.engine.as_str()
            ),
        );
    }
    for adapter in &model.lora_adapters {
        if adapter.path.trim().is_empty() {
            found.model(
                model,
                "lora_adapters",
                format!("adapter '{}' has an empty path", adapter.name),
            );
        }
    }
}

fn check_profile<'p>(
    model: &ModelConfig,
    profiles: &'p Profiles,
    found: &mut Found,
) -> Option<&'p super::profiles::Profile> {
    let name = model.profile.as_deref()?;
    let profile = profiles.get(name);
    if profile.is_none() {
        found.model_hint(
            model,
            "profile",
            format!("'{name}' does not exist"),
            Some(format!("known profiles: {} (see 'vllm-mux profiles'; add your own as profiles/{name}.json)", profiles.names().join(", "))),
        );
    }
    profile
}

fn check_overrides(model: &ModelConfig, found: &mut Found) {
    let mut seen = BTreeSet::new();
    for (key, value) in &model.config_overrides {
        let valid = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            found.model(
                model,
                "config_overrides",
                format!("'{key}' is not an engine flag name"),
            );
            continue;
        }
        let normal = normalize_key(key);
        if !seen.insert(normal.clone()) {
            found.model(
                model,
                "config_overrides",
                format!("'{key}' is set twice (with '_' and with '-')"),
            );
        }
        if let Some((_, instead)) = RESERVED_OVERRIDES.iter().find(|(k, _)| *k == normal) {
            found.model(
                model,
                "config_overrides",
                format!("'{key}' is set by vllm-mux; use {instead}"),
            );
        }
        if model.engine == Engine::Vllm {
            if let Some(why) = flag_values::problem(&normal, value) {
                found.model(model, "config_overrides", format!("{key}: {why}"));
            }
        }
        if normal == "tensor_parallel_size" && !model.gpu_ids.is_empty() {
            let size = value.as_u64();
            if size != Some(model.gpu_ids.len() as u64) {
                found.model(
                    model,
                    "config_overrides",
                    format!("tensor_parallel_size must equal the number of GPUs ({}); leave it out and vllm-mux sets it", model.gpu_ids.len()),
                );
            }
        }
    }
}

fn check_memory_fraction(
    model: &ModelConfig,
    value: Option<&Value>,
    found: &mut Found,
) -> Option<f64> {
    let value = value?;
    if value.is_null() {
        return None;
    }
    match value.as_f64() {
        Some(f) if f > 0.0 && f <= 1.0 => Some(f),
        _ => {
            found.model(
                model,
                GPU_MEMORY_KEY,
                format!("{value} must be a number above 0 and at most 1"),
            );
            None
        }
    }
}

/// An enabled vLLM model that names no GPU and does not hide them: its
/// server would take whatever CUDA_VISIBLE_DEVICES the supervisor has, on
/// GPUs the conflict checks cannot see.
fn gpus_left_to_chance(model: &ModelConfig) -> bool {
    model.engine == Engine::Vllm
        && model.enabled
        && model.gpu_ids.is_empty()
        && !model.environment.contains_key("CUDA_VISIBLE_DEVICES")
}

fn check_gpus(model: &ModelConfig, inventory: &Inventory, found: &mut Found) {
    // The machine's GPUs, by index, for the messages.
    let known: Vec<String> = inventory
        .gpus()
        .iter()
        .map(|g| g.index.to_string())
        .collect();
    if let (true, Some(first)) = (gpus_left_to_chance(model), known.first()) {
        found.model_hint(
            model,
            "gpu_ids",
            format!(
                "names no GPU on a machine with GPUs {}: its vLLM would take whichever CUDA_VISIBLE_DEVICES gives it, where no check can see it",
                known.join(", ")
            ),
            Some(format!(
                "pick its GPUs with --gpus (e.g. --gpus {first}; see 'vllm-mux gpus'), or --gpus none to run it without one"
            )),
        );
    }
    let mut seen = BTreeSet::new();
    for &gpu in &model.gpu_ids {
        if !seen.insert(gpu) {
            found.model(model, "gpu_ids", format!("GPU {gpu} is listed twice"));
        }
        if inventory.has(gpu) == Some(false) {
            found.model_hint(
                model,
                "gpu_ids",
                format!("GPU {gpu} does not exist on this machine"),
                Some(if known.is_empty() {
                    "this machine has no GPU; leave --gpus out".into()
                } else {
                    format!(
                        "this machine has GPUs {} (see 'vllm-mux gpus')",
                        known.join(", ")
                    )
                }),
            );
        }
    }
}

#[cfg(test)]
mod tests;
