//! LoRA adapters at run time: `lora add` and `lora remove` load and unload
//! an adapter on every ready copy of a model through vLLM's
//! `/v1/load_lora_adapter` and `/v1/unload_lora_adapter` (which
//! `VLLM_ALLOW_RUNTIME_LORA_UPDATING` turns on), and the registry routes
//! its name at once. A copy that is not ready when an adapter is added,
//! or that starts again (a crash, an idle timeout, a swap), loads it when
//! the first request for it comes: a request for an adapter the config
//! lists never reaches a server that has not loaded it.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::registry::Registry;
use super::state::ModelState;
use crate::config::{Engine, LoraAdapter, ModelConfig};
use crate::engine::Launch;

/// How long a server may take to load or unload an adapter.
const LOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// What an adapter change did to a running model's copies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoraReport {
    pub model: String,
    pub adapter: String,
    /// Copies whose server loaded (or unloaded) it now.
    pub applied: Vec<String>,
    /// Copies not running now: they load it when a request for it comes.
    pub later: Vec<String>,
    /// The model's servers were started without LoRA: nothing changed in
    /// the supervisor, and `reload` restarts them with the adapter.
    pub restart_needed: bool,
}

/// Whether a copy's server loads and unloads adapters while it runs: vLLM
/// started with `--enable-lora` (the supervisor then also sets
/// `VLLM_ALLOW_RUNTIME_LORA_UPDATING`), and the mock engine.
pub fn hot(engine: Engine, launch: &Launch) -> bool {
    match (engine, launch) {
        (Engine::Mock, _) => true,
        (Engine::Vllm, Launch::Process(spec)) => spec.args.iter().any(|a| a == "--enable-lora"),
        _ => false,
    }
}

/// The adapters a server of `model` has once it is ready: those it is
/// started with.
pub fn at_launch(model: &ModelConfig) -> BTreeSet<String> {
    model.lora_adapters.iter().map(|l| l.name.clone()).collect()
}

/// POST `body` to `path` on copy `id`'s server, with its key; `Ok` for a
/// 2xx answer, else the server's own words.
async fn post(reg: &Registry, id: &str, path: &str, body: serde_json::Value) -> Result<(), String> {
    let Some((base, auth)) = reg.with(id, |e| (e.base_url.clone(), e.backend_auth.clone())) else {
        return Err(format!("model '{id}' is gone"));
    };
    let mut request = reg
        .http
        .post(format!("{base}{path}"))
        .json(&body)
        .timeout(LOAD_TIMEOUT);
    if let Some(auth) = auth {
        request = request.header(reqwest::header::AUTHORIZATION, &*auth);
    }
    let response = request
        .send()
        .await
        .map_err(|err| format!("its server did not answer: {err}"))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let text = response.text().await.unwrap_or_default();
    // vLLM's errors are JSON with a message; its successes plain text.
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("message")
                .or_else(|| v.pointer("/error/message"))
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or(text);
    Err(format!(
        "its server answered {}: {}",
        status.as_u16(),
        message.trim()
    ))
}

/// Load `adapter` on copy `id`'s server and note it there. One it has
/// already loaded counts as loaded.
pub async fn load(reg: &Registry, id: &str, adapter: &LoraAdapter) -> Result<(), String> {
    let body = serde_json::json!({"lora_name": adapter.name, "lora_path": adapter.path});
    match post(reg, id, "/v1/load_lora_adapter", body).await {
        Ok(()) => {}
        Err(why) if why.contains("already been loaded") => {}
        Err(why) => return Err(why),
    }
    reg.with(id, |e| e.loaded_loras.insert(adapter.name.clone()));
    reg.model_log(
        id,
        &format!(
            "loaded LoRA adapter '{}' from {}",
            adapter.name, adapter.path
        ),
    );
    Ok(())
}

/// Unload adapter `name` from copy `id`'s server. One it does not have
/// counts as unloaded.
pub async fn unload(reg: &Registry, id: &str, name: &str) -> Result<(), String> {
    let body = serde_json::json!({"lora_name": name});
    match post(reg, id, "/v1/unload_lora_adapter", body).await {
        Ok(()) => {}
        Err(why) if why.contains("cannot be found") || why.contains("answered 404") => {}
        Err(why) => return Err(why),
    }
    reg.with(id, |e| e.loaded_loras.remove(name));
    reg.model_log(id, &format!("unloaded LoRA adapter '{name}'"));
    Ok(())
}

/// Why an adapter change was refused, for the control API.
#[derive(Debug)]
pub enum Refused {
    UnknownModel,
    /// The user's to mend: message and hint.
    Usage(String, Option<String>),
}

/// The copies of `model`, if each runs on an engine that serves adapters,
/// and whether all of them load adapters while they run.
fn copies(reg: &Registry, model: &str) -> Result<(Vec<String>, bool), Refused> {
    // Adapters are a model's: every copy has them, none alone.
    let ids = reg.ids_of(model);
    if ids.is_empty() || model.contains(crate::config::schema::REPLICA_SEP) {
        return Err(Refused::UnknownModel);
    }
    let mut all_hot = true;
    for id in &ids {
        let (engine, is_hot) = reg
            .with(id, |e| (e.config.engine, hot(e.config.engine, &e.launch)))
            .ok_or(Refused::UnknownModel)?;
        if !matches!(engine, Engine::Vllm | Engine::Mock) {
            return Err(Refused::Usage(
                format!(
                    "model '{model}' runs on the {} engine, which serves no LoRA adapters",
                    engine.as_str()
                ),
                Some("LoRA adapters are for the vllm engine (and the mock engine)".into()),
            ));
        }
        all_hot &= is_hot;
    }
    Ok((ids, all_hot))
}

/// Add `adapter` to every copy of `model`: routed at once, loaded now on
/// the ready copies and by the first request on the others. A server that
/// refuses it (a path with no adapter) changes nothing anywhere.
pub async fn add(reg: &Registry, model: &str, adapter: LoraAdapter) -> Result<LoraReport, Refused> {
    let (ids, all_hot) = copies(reg, model)?;
    let mut report = LoraReport {
        model: model.to_string(),
        adapter: adapter.name.clone(),
        restart_needed: !all_hot,
        ..LoraReport::default()
    };
    if !all_hot {
        return Ok(report);
    }
    for id in &ids {
        if reg.state(id) != Some(ModelState::Ready) {
            report.later.push(id.clone());
            continue;
        }
        if let Err(why) = load(reg, id, &adapter).await {
            // Take back what the others loaded: all or nothing.
            for done in &report.applied {
                let _ = unload(reg, done, &adapter.name).await;
            }
            return Err(Refused::Usage(
                format!(
                    "model '{id}' could not load LoRA adapter '{}': {why}",
                    adapter.name
                ),
                Some("check the path: the server reads it on its own machine".into()),
            ));
        }
        report.applied.push(id.clone());
    }
    for id in &ids {
        reg.with(id, |e| {
            e.config.lora_adapters.retain(|l| l.name != adapter.name);
            e.config.lora_adapters.push(adapter.clone());
        });
    }
    reg.update_model_config(model, |m| {
        m.lora_adapters.retain(|l| l.name != adapter.name);
        m.lora_adapters.push(adapter.clone());
    });
    reg.log(&format!(
        "model '{model}': LoRA adapter '{}' added ({})",
        adapter.name, adapter.path
    ));
    Ok(report)
}

/// Remove adapter `name` from every copy of `model`: no longer routed, and
/// unloaded from the servers that have it.
pub async fn remove(reg: &Registry, model: &str, name: &str) -> Result<LoraReport, Refused> {
    let (ids, all_hot) = copies(reg, model)?;
    let mut report = LoraReport {
        model: model.to_string(),
        adapter: name.to_string(),
        restart_needed: !all_hot,
        ..LoraReport::default()
    };
    if !all_hot {
        return Ok(report);
    }
    // Routing first, so no new request goes to an adapter on its way out.
    for id in &ids {
        reg.with(id, |e| e.config.lora_adapters.retain(|l| l.name != name));
    }
    reg.update_model_config(model, |m| m.lora_adapters.retain(|l| l.name != name));
    for id in &ids {
        let loaded = reg
            .with(id, |e| e.loaded_loras.contains(name))
            .unwrap_or(false);
        if !loaded || reg.state(id) != Some(ModelState::Ready) {
            report.later.push(id.clone());
            continue;
        }
        match unload(reg, id, name).await {
            Ok(()) => report.applied.push(id.clone()),
            Err(why) => reg.model_log(
                id,
                &format!("could not unload LoRA adapter '{name}': {why}"),
            ),
        }
    }
    reg.log(&format!("model '{model}': LoRA adapter '{name}' removed"));
    Ok(report)
}
