//! The control API's handlers, served on the config's Unix socket.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use tokio::sync::watch;

use super::api::{self, ActionReply, ApiError};
use crate::error::Failure;
use crate::supervisor::gpu_memory;
use crate::supervisor::registry::Registry;
use crate::supervisor::runner::Command;
use crate::supervisor::serve::{Launcher, DEFAULT_STOP_TIMEOUT};
use crate::supervisor::state::ModelState;

#[derive(Clone)]
pub struct ControlState {
    reg: Arc<Registry>,
    launcher: Launcher,
    shutdown: watch::Sender<Option<Duration>>,
    /// One reload at a time.
    reloading: Arc<tokio::sync::Mutex<()>>,
}

impl ControlState {
    pub fn new(
        reg: Arc<Registry>,
        launcher: Launcher,
        shutdown: watch::Sender<Option<Duration>>,
    ) -> Self {
        ControlState {
            reg,
            launcher,
            shutdown,
            reloading: Arc::new(tokio::sync::Mutex::new(())),
        }
    }
}

#[derive(Deserialize)]
pub struct TimeoutQuery {
    timeout: Option<u64>,
}

impl TimeoutQuery {
    fn get(&self) -> Duration {
        self.timeout
            .map_or(DEFAULT_STOP_TIMEOUT, Duration::from_secs)
    }
}

pub fn router(state: ControlState) -> Router {
    Router::new()
        .route(api::STATUS, get(status))
        .route(api::SHUTDOWN, post(shutdown))
        .route(api::RELOAD, post(reload))
        .route(api::MODEL_STOP, post(stop_model))
        .route(api::MODEL_START, post(start_model))
        .route(api::MODEL_LORAS, post(add_lora))
        .route(api::MODEL_LORA_REMOVE, post(remove_lora))
        .with_state(state)
}

fn reply(message: String) -> Response {
    Json(ActionReply { ok: true, message }).into_response()
}

fn error(status: StatusCode, error: String, hint: Option<String>) -> Response {
    (status, Json(ApiError { error, hint })).into_response()
}

fn unknown(state: &ControlState, name: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("the running config has no model '{name}'"),
        Some(format!("its models: {}", state.reg.names().join(", "))),
    )
}

async fn status(State(state): State<ControlState>) -> Response {
    Json(state.reg.report()).into_response()
}

/// Answer first, then shut down (the CLI waits for the pidfile to be released).
async fn shutdown(State(state): State<ControlState>, Query(q): Query<TimeoutQuery>) -> Response {
    let _ = state.shutdown.send(Some(q.get()));
    reply("shutting down".into())
}

/// `name` is a model (all its copies) or one replica (`qwen@1`).
async fn stop_model(
    State(state): State<ControlState>,
    Path(name): Path<String>,
    Query(q): Query<TimeoutQuery>,
) -> Response {
    let ids = state.reg.ids_of(&name);
    if ids.is_empty() {
        return unknown(&state, &name);
    }
    let stopped = |id: &String| state.reg.state(id) == Some(ModelState::Stopped);
    if ids.iter().all(stopped) {
        return reply(format!("model '{name}' was already stopped"));
    }
    let mut waits = Vec::new();
    for id in &ids {
        let (done, wait) = tokio::sync::oneshot::channel();
        if state.reg.send(
            id,
            Command::Stop {
                timeout: q.get(),
                done: Some(done),
            },
        ) {
            waits.push(wait);
        }
    }
    for wait in waits {
        let _ = wait.await;
    }
    reply(format!("stopped model '{name}'"))
}

async fn start_model(State(state): State<ControlState>, Path(name): Path<String>) -> Response {
    let ids = state.reg.ids_of(&name);
    if ids.is_empty() {
        return unknown(&state, &name);
    }
    let plan = gpu_memory::for_start(&state.reg, &ids);
    let profiles = &state.launcher.profiles;
    if let Err(err) =
        gpu_memory::check(plan, profiles, &state.reg.paths, "nothing was started").await
    {
        return failed(err);
    }
    for id in &ids {
        // A swap group's member takes the group's turn.
        crate::supervisor::swap::start(&state.reg, id);
    }
    reply(format!("starting model '{name}'"))
}

async fn add_lora(
    State(state): State<ControlState>,
    Path(name): Path<String>,
    Json(adapter): Json<crate::config::LoraAdapter>,
) -> Response {
    let added = crate::supervisor::lora::add(&state.reg, &name, adapter).await;
    lora_answer(&state, &name, added)
}

async fn remove_lora(
    State(state): State<ControlState>,
    Path((name, adapter)): Path<(String, String)>,
) -> Response {
    let removed = crate::supervisor::lora::remove(&state.reg, &name, &adapter).await;
    lora_answer(&state, &name, removed)
}

fn lora_answer(
    state: &ControlState,
    name: &str,
    answer: Result<crate::supervisor::lora::LoraReport, crate::supervisor::lora::Refused>,
) -> Response {
    use crate::supervisor::lora::Refused;
    match answer {
        Ok(report) => Json(report).into_response(),
        Err(Refused::UnknownModel) => unknown(state, name),
        Err(Refused::Usage(message, hint)) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, message, hint)
        }
    }
}

async fn reload(State(state): State<ControlState>, Query(q): Query<TimeoutQuery>) -> Response {
    let _one_at_a_time = state.reloading.lock().await;
    match crate::supervisor::reload::apply(&state.reg, &state.launcher, q.get()).await {
        Ok(summary) => Json(summary).into_response(),
        Err(err) => failed(err),
    }
}

/// A request the supervisor refused: the user's to mend (422, each line of
/// the message and the hint), or its own failure (500).
fn failed(err: anyhow::Error) -> Response {
    match err.downcast_ref::<Failure>() {
        Some(f) => {
            let mut message = f.message.clone();
            for more in &f.more {
                message.push('\n');
                message.push_str(more);
            }
            error(StatusCode::UNPROCESSABLE_ENTITY, message, f.hint.clone())
        }
        None => error(StatusCode::INTERNAL_SERVER_ERROR, format!("{err:#}"), None),
    }
}
