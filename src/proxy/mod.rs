//! The OpenAI-compatible proxy: routes each request by its `model` to a
//! ready backend and streams the answer back as it comes.
//!
//! The hot path is its own HTTP/1.1 code (`conn`, `forward`, `relay`,
//! `upstream`, on `httparse`): one task per client connection reads the
//! request, drives a pooled backend connection itself and relays the
//! answer, so a request costs no task switch, channel or header map. What
//! the proxy answers itself goes through an axum router (`local`).

mod conn;
mod deadline;
mod error;
mod forward;
mod local;
mod passthrough;
mod record;
mod relay;
pub mod serve;
mod upstream;
mod waiting;
mod wire;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tower_http::cors::{Any, CorsLayer};
use tower_service::Service;

pub use error::ProxyError;

use crate::config::Config;
use crate::supervisor::registry::Registry;

/// Largest request body accepted (embedding batches and images are big).
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// What every client connection shares.
pub struct Shared {
    state: ProxyState,
    /// The proxy's own routes.
    router: Router,
    /// Idle keep-alive connections to backends.
    pool: upstream::Pool,
    /// Headers the CORS layer puts on answers, for forwarded ones.
    cors: Vec<(HeaderName, HeaderValue)>,
    /// For a client's request head, and for each read of its body.
    header_timeout: Duration,
    /// Set when the proxy stops: connections close between requests.
    stopping: AtomicBool,
    stop: tokio::sync::Notify,
}

impl Shared {
    pub async fn new(reg: Arc<Registry>, config: &Config) -> Arc<Shared> {
        let state = ProxyState::new(reg, config);
        let router = app(state.clone(), config);
        let cors = if config.enable_cors {
            cors_headers().await
        } else {
            Vec::new()
        };
        let shared = Arc::new(Shared {
            state,
            router,
            pool: upstream::Pool::default(),
            cors,
            header_timeout: Duration::from_secs(config.client_header_timeout_s),
            stopping: AtomicBool::new(false),
            stop: tokio::sync::Notify::new(),
        });
        tokio::spawn(expire_idle(Arc::downgrade(&shared)));
        shared
    }

    /// Close idle connections now, and the others after their request.
    fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.stop.notify_waiters();
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}

/// Close idle backend connections past their time, every idle timeout,
/// while the proxy lives.
async fn expire_idle(shared: std::sync::Weak<Shared>) {
    loop {
        let Some(every) = shared.upgrade().map(|s| s.pool.idle_timeout()) else {
            return;
        };
        tokio::time::sleep(every).await;
        match shared.upgrade() {
            Some(shared) => shared.pool.expire(),
            None => return,
        }
    }
}

fn cors_layer() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(Any)
        .max_age(Duration::from_secs(3600))
}

/// The headers the CORS layer adds to an answer that is not a preflight
/// (they do not depend on the request, as any origin is allowed).
async fn cors_headers() -> Vec<(HeaderName, HeaderValue)> {
    let mut probe = Router::new()
        .route("/", post(|| async { StatusCode::OK }))
        .layer(cors_layer());
    let request = Request::post("/")
        .header(header::ORIGIN, "http://example.invalid")
        .body(axum::body::Body::empty());
    let Ok(request) = request else {
        return Vec::new();
    };
    let Ok(response) = probe.call(request).await;
    response
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("access-control-") || *name == header::VARY)
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

#[derive(Clone)]
pub struct ProxyState {
    reg: Arc<Registry>,
    /// Accepted keys; `None` when the config names no `api_key_env`.
    keys: Option<Arc<Vec<String>>>,
    max_body: usize,
    queue_timeout: Duration,
    backend_timeout: Duration,
    log_requests: bool,
    /// The memory request bodies in flight may hold ([`conn::BODY_BUDGET`]).
    bodies: Arc<tokio::sync::Semaphore>,
}

impl ProxyState {
    /// Keys come from the variable `config.api_key_env` names
    /// (comma-separated for several keys).
    pub fn new(reg: Arc<Registry>, config: &Config) -> Self {
        let keys = config.api_key_env.as_ref().map(|var| {
            let value = std::env::var(var).unwrap_or_default();
            Arc::new(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_string)
                    .collect(),
            )
        });
        ProxyState {
            reg,
            keys,
            max_body: MAX_BODY,
            queue_timeout: Duration::from_secs(config.queue_timeout_s),
            backend_timeout: Duration::from_secs(config.backend_timeout_s),
            log_requests: config.log_requests,
            bodies: Arc::new(tokio::sync::Semaphore::new(conn::BODY_BUDGET)),
        }
    }

    /// The 404 for a model nothing here serves, listing what is served.
    fn unknown_model(&self, requested: &str) -> ProxyError {
        ProxyError::UnknownModel {
            model: requested.to_string(),
            known: self
                .reg
                .served_names()
                .into_iter()
                .map(|(id, _)| id)
                .collect(),
        }
    }

    /// [`ProxyState::authorized`] for the proxy's own routes.
    fn authorized_by(&self, headers: &HeaderMap) -> bool {
        self.authorized(
            headers
                .get(header::AUTHORIZATION)
                .map(HeaderValue::as_bytes),
        )
    }

    /// Whether clients must send one of the proxy's keys.
    fn checks_keys(&self) -> bool {
        self.keys.is_some()
    }

    /// Constant-time check of `Authorization: Bearer KEY`.
    fn authorized(&self, authorization: Option<&[u8]>) -> bool {
        let Some(keys) = &self.keys else {
            return true;
        };
        let Some(given) = authorization.and_then(bearer_token) else {
            return false;
        };
        // Check every key, so the time taken does not tell which one is close.
        keys.iter().fold(false, |found, key| {
            found | constant_time_eq(given, key.as_bytes())
        })
    }
}

/// The token of `Bearer TOKEN`: the scheme is case-insensitive and may be
/// followed by more than one space (RFC 9110 11.1, 11.4).
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") || rest.first() != Some(&b' ') {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some(token)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The routes the proxy answers itself; `POST /v1/*` never gets here.
fn app(state: ProxyState, config: &Config) -> Router {
    let mut router = Router::new()
        .route("/health", get(health))
        .route("/v1/models", get(models))
        .route("/v1/models/{*id}", get(model));
    if config.enable_metrics {
        router = router.route("/metrics", get(metrics));
    }
    let mut router = router
        .fallback(unknown_path)
        .method_not_allowed_fallback(wrong_method)
        .with_state(state);
    if config.enable_cors {
        router = router.layer(cors_layer());
    }
    router
}

async fn health(State(state): State<ProxyState>) -> Response {
    let mut any_ready = false;
    let mut models = serde_json::Map::new();
    for name in state.reg.names() {
        if let Some(s) = state.reg.state(&name) {
            // An idle model answers too: a request starts it.
            any_ready |= s.takes_traffic() || s == crate::supervisor::state::ModelState::Idle;
            models.insert(name, Value::String(s.to_string()));
        }
    }
    let status = if any_ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = if any_ready { "ok" } else { "unavailable" };
    (status, Json(json!({"status": word, "models": models}))).into_response()
}

/// `GET /v1/models`: every name, alias and adapter, as OpenAI lists models.
async fn models(State(state): State<ProxyState>, headers: HeaderMap) -> Response {
    if !state.authorized_by(&headers) {
        return ProxyError::Unauthorized.into_response();
    }
    let data: Vec<Value> = state
        .reg
        .served_names()
        .into_iter()
        .map(|(id, root)| model_object(&state, &id, &root))
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}

/// `GET /v1/models/{id}`: one of them, as the openai clients' `models.retrieve` asks.
async fn model(State(state): State<ProxyState>, headers: HeaderMap, uri: Uri) -> Response {
    if !state.authorized_by(&headers) {
        return ProxyError::Unauthorized.into_response();
    }
    let raw = uri.path().strip_prefix("/v1/models/").unwrap_or_default();
    // `Qwen%2FQwen2.5-7B` is `Qwen/Qwen2.5-7B`, as clients that encode the id send it.
    let id = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    let names = state.reg.served_names();
    match names.iter().find(|(name, _)| *name == id) {
        Some((id, root)) => Json(model_object(&state, id, root)).into_response(),
        None => state.unknown_model(&id).into_response(),
    }
}

/// One entry of the model list; with the context length its server
/// reports, as vLLM's own list has it.
fn model_object(state: &ProxyState, id: &str, root: &str) -> Value {
    let mut model =
        json!({"id": id, "object": "model", "created": 0, "owned_by": "vllm-mux", "root": root});
    if let Some(len) = state.reg.max_model_len(root) {
        model["max_model_len"] = json!(len);
    }
    model
}

async fn metrics(State(state): State<ProxyState>) -> Response {
    let held = conn::BODY_BUDGET.saturating_sub(state.bodies.available_permits());
    state
        .reg
        .metrics
        .body_bytes
        .set(i64::try_from(held).unwrap_or(i64::MAX));
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.reg.metrics.encode(),
    )
        .into_response()
}

/// No route: a wrong method under `/v1/` (where every POST is forwarded),
/// else an unknown path.
async fn unknown_path(method: Method, uri: Uri) -> ProxyError {
    if uri.path().starts_with("/v1/") && method != Method::POST {
        return wrong_method(method, uri).await;
    }
    // GET went to the model's server; nothing else passes there.
    if uri.path().starts_with(passthrough::PREFIX) {
        return wrong_method(method, uri).await;
    }
    ProxyError::UnknownPath(uri.path().to_string())
}

async fn wrong_method(method: Method, uri: Uri) -> ProxyError {
    ProxyError::WrongMethod {
        method: method.to_string(),
        path: uri.path().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token(b"Bearer k"), Some(&b"k"[..]));
        assert_eq!(bearer_token(b"bearer k"), Some(&b"k"[..]));
        assert_eq!(bearer_token(b"BEARER   k"), Some(&b"k"[..]));
        for refused in [&b"Bearerk"[..], b"Bearer ", b"Basic k", b"Bear", b""] {
            assert_eq!(bearer_token(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn constant_time_eq_compares_whole_keys() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
