//! GPUs across configs: a running config holds its models' GPUs, and another
//! config may not start a model on them unless the memory-fraction rule of
//! [`super::assign`] lets them share. Checked at `start` and `reload`.

use anyhow::Result;
use serde_json::Value;

use super::assign::{conflicts, Claim, Conflict, MAX_SHARED_FRACTION};
use crate::config::profiles::Profiles;
use crate::config::schema::GPU_MEMORY_KEY;
use crate::config::{Config, ModelConfig, Store};
use crate::engine::flags::effective;
use crate::error::Failure;
use crate::supervisor::pidfile::running_pid;

/// A model's effective `gpu_memory_utilization` (its overrides over its profile).
pub fn memory_fraction(model: &ModelConfig, profiles: &Profiles) -> Option<f64> {
    let profile = model.profile.as_deref().and_then(|p| profiles.get(p));
    effective(profile.map(|p| &p.spec.config), &model.config_overrides)
        .get(GPU_MEMORY_KEY)
        .and_then(Value::as_f64)
}

/// `Some((config, model))` for a label of another config's model.
fn elsewhere(label: &str) -> Option<(&str, &str)> {
    label.split_once('/')
}

/// Enabled models with GPUs of every other config that is running now.
fn held_elsewhere(store: &Store, this: &str) -> Vec<(String, ModelConfig)> {
    let mut held = Vec::new();
    for name in store.list_names().into_iter().filter(|n| n != this) {
        if running_pid(&store.paths().run_dir(&name)).is_none() {
            continue;
        }
        if let Ok(config) = store.load(&name) {
            held.extend(
                config
                    .models
                    .into_iter()
                    .filter(|m| m.enabled)
                    .flat_map(|m| m.instances())
                    .filter(|i| !i.model.gpu_ids.is_empty())
                    .map(|i| {
                        (
                            name.clone(),
                            ModelConfig {
                                name: i.id,
                                ..i.model
                            },
                        )
                    }),
            );
        }
    }
    held
}

/// Refuse `config`'s enabled models on GPUs that running configs hold.
pub fn check(store: &Store, profiles: &Profiles, this: &str, config: &Config) -> Result<()> {
    let others = held_elsewhere(store, this);
    if others.is_empty() {
        return Ok(());
    }
    // Others' models are labelled "config/model"; ours keep their names
    // (which cannot hold a '/'). Others come first, so they are "earlier".
    let labels: Vec<String> = others
        .iter()
        .map(|(c, m)| format!("{c}/{}", m.name))
        .collect();
    // Swap groups are a config's own: "config/group", which ours cannot be.
    let groups: Vec<Option<String>> = others
        .iter()
        .map(|(c, m)| m.swap_group.as_ref().map(|g| format!("{c}/{g}")))
        .collect();
    let mut claims: Vec<Claim<'_>> = others
        .iter()
        .zip(labels.iter().zip(&groups))
        .map(|((_, m), (label, group))| Claim {
            model: label,
            gpu_ids: &m.gpu_ids,
            memory_fraction: memory_fraction(m, profiles),
            swap_group: group.as_deref(),
        })
        .collect();
    // Ours, one claim per copy (`qwen`, `qwen@1`).
    let ours: Vec<ModelConfig> = config
        .models
        .iter()
        .filter(|m| m.enabled)
        .flat_map(|m| m.instances())
        .map(|i| ModelConfig {
            name: i.id,
            ..i.model
        })
        .collect();
    claims.extend(ours.iter().map(|m| Claim {
        model: &m.name,
        gpu_ids: &m.gpu_ids,
        memory_fraction: memory_fraction(m, profiles),
        swap_group: m.swap_group.as_deref(),
    }));
    let mut problems = Vec::new();
    for conflict in conflicts(&claims) {
        match conflict {
            Conflict::Shared {
                gpu,
                earlier,
                later,
            } if elsewhere(&later).is_none() => {
                if let Some((other_config, other_model)) = elsewhere(&earlier) {
                    problems.push(format!(
                        "model '{later}': gpu_ids: GPU {gpu} is held by model '{other_model}' of running config '{other_config}'; they may share it only if both set gpu_memory_utilization with a sum of at most {MAX_SHARED_FRACTION}"
                    ));
                }
            }
            Conflict::OverCommitted { gpu, models, total } => {
                let ours: Vec<&String> = models.iter().filter(|m| elsewhere(m).is_none()).collect();
                let theirs: Vec<String> = models
                    .iter()
                    .filter_map(|m| {
                        elsewhere(m).map(|(c, n)| format!("'{n}' of running config '{c}'"))
                    })
                    .collect();
                if let (Some(first), false) = (ours.first(), theirs.is_empty()) {
                    problems.push(format!(
                        "model '{first}': gpu_ids: GPU {gpu} is shared with {} and gpu_memory_utilization adds up to {total:.2}, more than {MAX_SHARED_FRACTION}",
                        theirs.join(", ")
                    ));
                }
            }
            // Conflicts within one config are validation's to report.
            _ => {}
        }
    }
    Ok(Failure::usage_if_any(problems, "pick other GPUs (vllm-mux edit-model NAME --gpus ...), stop the other config's model, or share by --gpu-memory-utilization; nothing was started")?)
}
