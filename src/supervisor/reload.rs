//! `reload`: apply the saved config to the running supervisor. Added models
//! start, removed ones stop, changed ones restart, the rest are untouched.
//! An invalid config changes nothing.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::registry::Registry;
use super::runner::Command;
use super::serve::Launcher;
use super::state::ModelState;
use crate::config::profiles::Profiles;
use crate::config::schema::is_instance_of;
use crate::config::validate::check_saved;
use crate::config::{ModelConfig, Store};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReloadSummary {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub restarted: Vec<String>,
    /// Models the config now disables: stopped, and kept.
    #[serde(default)]
    pub stopped: Vec<String>,
    /// Changed only in settings the supervisor applies without a restart
    /// of the server (`idle_timeout_s`, `max_concurrent`, `max_queue`, and
    /// LoRA adapters on a server that loads them while it runs).
    #[serde(default)]
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    /// Proxy settings that changed but need a restart of the supervisor.
    pub needs_restart: Vec<String>,
}

pub async fn apply(
    reg: &Arc<Registry>,
    launcher: &Launcher,
    stop_timeout: Duration,
) -> Result<ReloadSummary> {
    let new = Store::new(reg.paths.clone()).load(&reg.config_name)?;
    check_saved(&new, &reg.paths, &reg.paths.config_file(&reg.config_name))?;
    crate::gpu::cross::check(
        &Store::new(reg.paths.clone()),
        &Profiles::load(&reg.paths)?,
        &reg.config_name,
        &new,
    )?;
    // Every key a model names must be here before anything changes.
    for model in new.models.iter().filter(|m| m.enabled) {
        crate::supervisor::serve::backend_key(model)?;
    }
    let old = reg.config();
    let mut summary = ReloadSummary::default();
    for (field, changed) in [
        ("host", old.host != new.host),
        ("port", old.port != new.port),
        ("enable_cors", old.enable_cors != new.enable_cors),
        ("enable_metrics", old.enable_metrics != new.enable_metrics),
        ("log_requests", old.log_requests != new.log_requests),
        ("api_key_env", old.api_key_env != new.api_key_env),
    ] {
        if changed {
            summary.needs_restart.push(field.to_string());
        }
    }
    // Profiles may have changed too: a changed profile restarts its models.
    let launcher = Launcher {
        profiles: Arc::new(Profiles::load(&reg.paths)?),
        ..launcher.clone()
    };
    // What changes is decided, and checked, before anything does.
    let changes: Vec<(&ModelConfig, Change<'_>)> = old
        .models
        .iter()
        .map(|model| (model, change(reg, &launcher, model, new.model(&model.name))))
        .collect();
    let added: Vec<&ModelConfig> = new
        .models
        .iter()
        .filter(|m| old.model(&m.name).is_none())
        .collect();
    let plan = memory_plan(reg, &changes, &added);
    super::gpu_memory::check(plan, &launcher.profiles, &reg.paths, "nothing was changed").await?;
    for (model, change) in changes {
        match change {
            Change::Remove => {
                remove(reg, &model.name, stop_timeout).await;
                summary.removed.push(model.name.clone());
            }
            Change::Same => summary.unchanged.push(model.name.clone()),
            Change::Retune(updated) => {
                set_idle_timeout(reg, updated);
                set_adapters(reg, model, updated).await;
                summary.updated.push(model.name.clone());
            }
            Change::Restart(updated) => {
                remove(reg, &model.name, stop_timeout).await;
                launcher.add(reg, updated)?;
                if updated.enabled || !model.enabled {
                    summary.restarted.push(model.name.clone());
                } else {
                    summary.stopped.push(model.name.clone());
                }
            }
        }
    }
    for model in added {
        launcher.add(reg, model)?;
        summary.added.push(model.name.clone());
    }
    for name in summary.added.iter().chain(&summary.restarted) {
        if new.model(name).is_some_and(|m| m.enabled) {
            for id in reg.ids_of(name) {
                // A swap group's member waits, idle, if another runs.
                super::swap::start_or_idle(reg, &id);
            }
        }
    }
    reg.set_config(new);
    reg.log(&format!(
        "reload: added {:?}, removed {:?}, restarted {:?}, stopped {:?}, updated {:?}, unchanged {:?}",
        summary.added,
        summary.removed,
        summary.restarted,
        summary.stopped,
        summary.updated,
        summary.unchanged
    ));
    Ok(summary)
}

/// What a reload does to a model of the running config.
enum Change<'a> {
    Remove,
    Same,
    /// Only its idle timeout or its adapters changed: set without a restart.
    Retune(&'a ModelConfig),
    Restart(&'a ModelConfig),
}

/// `model` as it runs, against `updated`, its entry in the saved config.
fn change<'a>(
    reg: &Registry,
    launcher: &Launcher,
    model: &ModelConfig,
    updated: Option<&'a ModelConfig>,
) -> Change<'a> {
    let Some(updated) = updated else {
        return Change::Remove;
    };
    // Same config and same launch plans (profiles may have changed) for
    // every copy. The plans are compared with the adapters each server was
    // started with: adapters added or removed since are loaded and unloaded
    // while it runs, when it can (`lora::hot`).
    let instances = updated.instances();
    let same_launch = reg.ids_of(&model.name).len() == instances.len()
        && instances.iter().all(|i| {
            reg.with(&i.id, |e| {
                let as_launched = ModelConfig {
                    lora_adapters: e.launch_loras.clone(),
                    ..i.model.clone()
                };
                crate::engine::plan(&as_launched, &launcher.profiles, &launcher.exes).ok()
                    == Some(e.launch.clone())
            })
            .unwrap_or(false)
        });
    let hot = reg
        .ids_of(&model.name)
        .iter()
        .all(|id| reg.with(id, |e| super::lora::hot(e.config.engine, &e.launch)) == Some(true));
    let retuned = ModelConfig {
        idle_timeout_s: model.idle_timeout_s,
        max_concurrent: model.max_concurrent,
        max_queue: model.max_queue,
        lora_adapters: if hot {
            model.lora_adapters.clone()
        } else {
            updated.lora_adapters.clone()
        },
        ..updated.clone()
    } == *model;
    if updated == model && same_launch {
        Change::Same
    } else if retuned && same_launch {
        Change::Retune(updated)
    } else {
        Change::Restart(updated)
    }
}

/// The servers a reload of `changes` and `added` starts (enabled copies
/// added or restarted, but not a swap group's member that will begin idle)
/// and stops (the copies of removed or restarted models).
fn memory_plan(
    reg: &Registry,
    changes: &[(&ModelConfig, Change<'_>)],
    added: &[&ModelConfig],
) -> super::gpu_memory::Plan {
    let mut plan = super::gpu_memory::Plan::default();
    let mut going = Vec::new();
    let mut coming: Vec<&ModelConfig> = added.to_vec();
    for (model, change) in changes {
        match change {
            Change::Remove => going.push(model.name.as_str()),
            Change::Restart(updated) => {
                going.push(model.name.as_str());
                coming.push(updated);
            }
            Change::Same | Change::Retune(_) => {}
        }
    }
    for name in &going {
        for id in reg.ids_of(name) {
            plan.stops(reg, &id);
        }
    }
    let staying = |id: &str| !going.iter().any(|name| is_instance_of(id, name));
    plan.starting = coming
        .into_iter()
        .filter(|m| m.enabled)
        .flat_map(|m| m.instances())
        .filter(|copy| !super::gpu_memory::idles_at_reload(reg, copy, &staying))
        .collect();
    plan
}

/// A new idle timeout, `max_concurrent` and `max_queue` for every copy of
/// `model`, taken up by its runner's next check and the next request. An
/// idle copy whose timeout is gone is started: nothing would start it on
/// demand any more.
fn set_idle_timeout(reg: &Registry, model: &ModelConfig) {
    for id in reg.ids_of(&model.name) {
        reg.with(&id, |e| {
            e.config.idle_timeout_s = model.idle_timeout_s;
            e.config.max_concurrent = model.max_concurrent;
            e.config.max_queue = model.max_queue;
        });
        let idle = reg.state(&id) == Some(ModelState::Idle);
        if model.idle_timeout_s.is_none() && model.swap_group.is_none() && idle {
            reg.send(&id, Command::Start);
        }
    }
}

/// The adapters of `updated` for every copy of `model`: routed at once;
/// each server loads an added one when the first request for it comes, and
/// unloads a removed one now.
async fn set_adapters(reg: &Registry, model: &ModelConfig, updated: &ModelConfig) {
    if model.lora_adapters == updated.lora_adapters {
        return;
    }
    let kept = |name: &str| updated.lora_adapters.iter().any(|l| l.name == name);
    for id in reg.ids_of(&model.name) {
        reg.with(&id, |e| {
            e.config.lora_adapters = updated.lora_adapters.clone()
        });
        for gone in model.lora_adapters.iter().filter(|l| !kept(&l.name)) {
            let loaded = reg.with(&id, |e| e.loaded_loras.contains(&gone.name)) == Some(true);
            if loaded {
                if let Err(why) = super::lora::unload(reg, &id, &gone.name).await {
                    reg.model_log(
                        &id,
                        &format!("could not unload LoRA adapter '{}': {why}", gone.name),
                    );
                }
            }
        }
    }
}

/// Stop every copy of a model and forget it.
async fn remove(reg: &Arc<Registry>, name: &str, timeout: Duration) {
    for id in reg.ids_of(name) {
        let (done, wait) = tokio::sync::oneshot::channel();
        if reg.send(
            &id,
            Command::Stop {
                timeout,
                done: Some(done),
            },
        ) {
            let _ = tokio::time::timeout(timeout + Duration::from_secs(5), wait).await;
        }
        reg.remove(&id);
    }
}
