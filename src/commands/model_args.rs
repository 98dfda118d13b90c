//! Flags of add-model and edit-model applied to a model entry, and the
//! automatic port: shared so the two commands cannot drift apart.

use anyhow::Result;
use serde::Serialize;
use serde_json::{Number, Value};

use crate::cli::{ClearField, EditArgs, ModelArgs};
use crate::commands::Ctx;
use crate::config::ports::assign_missing;
use crate::config::schema::GPU_MEMORY_KEY;
use crate::config::shortcuts::Shortcuts;
use crate::config::{Config, ModelConfig};
use crate::engine::flags::normalize_key;
use crate::error::Failure;
use crate::output::join_or_dash;

/// Apply the flags that were given; everything else stays as it is.
pub fn apply(ctx: &Ctx, model: &mut ModelConfig, args: ModelArgs) -> Result<()> {
    if let Some(name) = &args.shortcut {
        let shortcuts = Shortcuts::load(ctx.paths())?;
        let shortcut = shortcuts.get(name)?;
        model.model_path = shortcut.model.clone();
        model.profile = shortcut.profile.clone();
        for (key, value) in &shortcut.config_overrides {
            model
                .config_overrides
                .insert(normalize_key(key), value.clone());
        }
    }
    if let Some(path) = args.model {
        model.model_path = path;
    }
    if !args.aliases.is_empty() {
        model.aliases = args.aliases;
    }
    match args.gpus {
        Some(crate::cli::Gpus::Ids(gpus)) => {
            model.gpu_ids = gpus;
            // GPUs named: CUDA_VISIBLE_DEVICES comes from them again.
            if model
                .environment
                .get(CUDA_VISIBLE_DEVICES)
                .is_some_and(String::is_empty)
            {
                model.environment.remove(CUDA_VISIBLE_DEVICES);
            }
        }
        Some(crate::cli::Gpus::None) => {
            model.gpu_ids.clear();
            model
                .environment
                .insert(CUDA_VISIBLE_DEVICES.into(), String::new());
        }
        None => {}
    }
    if let Some(port) = args.port {
        model.port = Some(port);
    }
    if let Some(profile) = args.profile {
        model.profile = Some(profile);
    }
    if !args.loras.is_empty() {
        model.lora_adapters = args.loras;
    }
    if let Some(priority) = args.priority {
        model.loading_priority = Some(priority);
    }
    if let Some(engine) = args.engine {
        model.engine = engine;
    }
    if let Some(command) = args.command {
        model.command = Some(command);
    }
    if let Some(path) = args.health_path {
        model.health_path = Some(path);
    }
    if let Some(url) = args.url {
        model.url = Some(url);
    }
    if let Some(var) = args.backend_api_key_env {
        model.backend_api_key_env = Some(var);
    }
    if let Some(secs) = args.idle_timeout {
        model.idle_timeout_s = Some(secs);
    }
    if let Some(group) = args.swap_group {
        model.swap_group = Some(group);
    }
    if let Some(n) = args.max_concurrent {
        model.max_concurrent = Some(n);
    }
    if let Some(n) = args.max_queue {
        model.max_queue = Some(n);
    }
    if args.pinned {
        model.pinned = true;
    }
    if let Some(gib) = args.gpu_memory_gib {
        model.gpu_memory_gib = Some(gib);
    }
    if args.sleep_mode {
        model.sleep_mode = true;
    }
    for (key, value) in args.set {
        model.config_overrides.insert(key, value);
    }
    model.environment.extend(args.env);
    if !args.replicas.is_empty() {
        model.replicas = args.replicas;
    }
    if let Some(fraction) = args.gpu_memory_utilization {
        let number = Number::from_f64(fraction).ok_or_else(|| {
            Failure::usage(format!(
                "--gpu-memory-utilization {fraction} is not a number"
            ))
            .hint("pass a fraction such as 0.45")
        })?;
        model
            .config_overrides
            .insert(GPU_MEMORY_KEY.to_string(), Value::Number(number));
    }
    if args.disabled {
        model.enabled = false;
    }
    Ok(())
}

/// edit-model's own flags: --clear and --unset first (so flags given in the
/// same call win), --enabled last.
pub fn clear(model: &mut ModelConfig, edit: &EditArgs) -> Result<()> {
    for field in &edit.clear {
        match field {
            ClearField::Aliases => model.aliases.clear(),
            ClearField::Gpus => model.gpu_ids.clear(),
            ClearField::Port => model.port = None,
            ClearField::Profile => model.profile = None,
            ClearField::Loras => model.lora_adapters.clear(),
            ClearField::Priority => model.loading_priority = None,
            ClearField::Overrides => model.config_overrides.clear(),
            ClearField::HealthPath => model.health_path = None,
            ClearField::Replicas => model.replicas.clear(),
            ClearField::BackendApiKeyEnv => model.backend_api_key_env = None,
            ClearField::IdleTimeout => model.idle_timeout_s = None,
            ClearField::MaxConcurrent => model.max_concurrent = None,
            ClearField::MaxQueue => model.max_queue = None,
            ClearField::Pinned => model.pinned = false,
            ClearField::GpuMemoryGib => model.gpu_memory_gib = None,
            ClearField::Environment => model.environment.clear(),
            ClearField::SwapGroup => model.swap_group = None,
            ClearField::SleepMode => model.sleep_mode = false,
        }
    }
    for key in &edit.unset {
        let key = normalize_key(key);
        if model.config_overrides.remove(&key).is_none() {
            let set = model.config_overrides.keys();
            return Err(not_set(&model.name, "override", &key, "overrides", set));
        }
    }
    for key in &edit.unset_env {
        if model.environment.remove(key).is_none() {
            let set = model.environment.keys();
            return Err(not_set(
                &model.name,
                "environment variable",
                key,
                "variables",
                set,
            ));
        }
    }
    Ok(())
}

/// `--unset KEY` of something the model does not set: say what it sets.
fn not_set<'a>(
    model: &str,
    what: &str,
    key: &str,
    plural: &str,
    set: impl Iterator<Item = &'a String>,
) -> anyhow::Error {
    let set: Vec<&str> = set.map(String::as_str).collect();
    Failure::usage(format!("model '{model}' has no {what} '{key}' to unset"))
        .hint(format!("its {plural}: {}", join_or_dash(&set)))
        .into()
}

/// Fill in a missing port (next free from 8001, across all saved configs).
pub fn assign_port(ctx: &Ctx, config_name: &str, config: &mut Config) -> Result<()> {
    let others = ctx.store.ports_of_other_configs(config_name);
    assign_missing(config, &others)?;
    Ok(())
}

/// A model as `--json` prints it: the entry plus the config it belongs to.
#[derive(Serialize)]
pub struct ModelOutput<'a> {
    pub config: &'a str,
    pub model: &'a ModelConfig,
}

/// One line for people: "qwen (vllm, Qwen/Qwen2.5-7B, port 8001, GPUs 0)".
pub fn summary(model: &ModelConfig) -> String {
    let mut parts = vec![model.engine.as_str().to_string()];
    if !model.model_path.is_empty() {
        parts.push(model.model_path.clone());
    }
    if let Some(url) = &model.url {
        parts.push(url.clone());
    }
    if let Some(port) = model.port {
        parts.push(format!("port {port}"));
    }
    if !model.gpu_ids.is_empty() {
        parts.push(format!("GPUs {}", join_or_dash(&model.gpu_ids)));
    }
    if !model.enabled {
        parts.push("disabled".into());
    }
    format!("{} ({})", model.name, parts.join(", "))
}

/// Say on stderr (so `--json` output stays clean) when `model`'s GPUs were
/// saved without a check because this machine has no NVIDIA driver.
pub fn note_unchecked_gpus(ctx: &Ctx, model: &ModelConfig) {
    if model.gpu_ids.is_empty() || ctx.quiet {
        return;
    }
    if let Ok(crate::gpu::Inventory::Unavailable(why)) = crate::gpu::Inventory::detect() {
        eprintln!(
            "note: GPUs {} were not checked: {why}; VLLM_MUX_FAKE_GPUS=FILE checks them against the GPU box's list",
            join_or_dash(&model.gpu_ids)
        );
    }
}

/// Once saved: a variable that looks like a secret is in the config file
/// as it is; say so, and how to pass it without saving it.
pub fn note_saved_secrets(ctx: &Ctx, keys: &[String]) {
    if ctx.quiet {
        return;
    }
    for key in keys {
        let upper = key.to_ascii_uppercase();
        if ["TOKEN", "KEY", "SECRET", "PASSWORD"]
            .iter()
            .any(|word| upper.contains(word))
        {
            crate::output::warn(&format!("note: {key}'s value is saved in the config file as it is; exported where 'vllm-mux start' runs, it reaches every model without being saved"));
        }
    }
}

/// The name must be a model in `config`; else a usage error listing them.
/// Empty in a model's environment: it runs without a GPU on purpose.
pub const CUDA_VISIBLE_DEVICES: &str = "CUDA_VISIBLE_DEVICES";

pub fn unknown_model(config_name: &str, config: &Config, name: &str) -> Failure {
    let names = config.model_names();
    Failure::usage(format!("config '{config_name}' has no model '{name}'")).hint(
        if names.is_empty() {
            "it has no models yet; add one with 'vllm-mux add-model NAME --model ID'".to_string()
        } else {
            format!("its models: {}", names.join(", "))
        },
    )
}
