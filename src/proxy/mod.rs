//! The OpenAI-compatible proxy: routes each request by its `model` to a
//! ready backend and streams the answer back as it comes.

mod body;
mod error;
mod forward;
mod record;
pub mod serve;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tower_http::cors::{Any, CorsLayer};

pub use error::ProxyError;

use crate::config::Config;
use crate::supervisor::registry::Registry;

/// Largest request body accepted (embedding batches and images are big).
pub const MAX_BODY: usize = 64 * 1024 * 1024;

#[derive(Clone)]
pub struct ProxyState {
    reg: Arc<Registry>,
    client: Client,
    /// Accepted keys; `None` when the config names no `api_key_env`.
    keys: Option<Arc<Vec<String>>>,
    max_body: usize,
    queue_timeout: Duration,
    backend_timeout: Duration,
    log_requests: bool,
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
            client: backend_client(),
            keys,
            max_body: MAX_BODY,
            queue_timeout: Duration::from_secs(config.queue_timeout_s),
            backend_timeout: Duration::from_secs(config.backend_timeout_s),
            log_requests: config.log_requests,
        }
    }

    /// Constant-time check of `Authorization: Bearer KEY`.
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(keys) = &self.keys else {
            return true;
        };
        let Some(given) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return false;
        };
        // Check every key, so the time taken does not tell which one is close.
        keys.iter().fold(false, |found, key| {
            found | constant_time_eq(given.as_bytes(), key.as_bytes())
        })
    }
}

/// The HTTP/1 client to backends: keep-alive pool, no Nagle delay.
pub type Client = hyper_util::client::legacy::Client<HttpConnector, axum::body::Body>;

fn backend_client() -> Client {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .build(connector)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn app(state: ProxyState, config: &Config) -> Router {
    let mut router = Router::new()
        .route("/health", get(health))
        .route("/v1/models", get(models))
        .route("/v1/{*rest}", post(forward::forward));
    if config.enable_metrics {
        router = router.route("/metrics", get(metrics));
    }
    let mut router = router
        .fallback(unknown_path)
        .method_not_allowed_fallback(wrong_method)
        .with_state(state);
    if config.enable_cors {
        router = router.layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
                .allow_headers(Any)
                .max_age(Duration::from_secs(3600)),
        );
    }
    router
}

async fn health(State(state): State<ProxyState>) -> Response {
    let mut any_ready = false;
    let mut models = serde_json::Map::new();
    for name in state.reg.names() {
        if let Some(s) = state.reg.state(&name) {
            any_ready |= s.takes_traffic();
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

async fn models(State(state): State<ProxyState>, headers: HeaderMap) -> Response {
    if !state.authorized(&headers) {
        return ProxyError::Unauthorized.into_response();
    }
    let data: Vec<Value> = state
        .reg
        .served_names()
        .into_iter()
        .map(|(id, root)| json!({"id": id, "object": "model", "created": 0, "owned_by": "vllm-mux", "root": root}))
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}

async fn metrics(State(state): State<ProxyState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.reg.metrics.encode(),
    )
        .into_response()
}

async fn unknown_path(uri: Uri) -> ProxyError {
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
    fn constant_time_eq_compares_whole_keys() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
