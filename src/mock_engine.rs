//! The built-in OpenAI-compatible stand-in for vLLM (DESIGN.md section 5).
//!
//! It serves `/health`, `/v1/models`, chat and text completions (streaming,
//! with `usage` when `stream_options.include_usage`), embeddings, the
//! tokenizer API (`/tokenize`, `/detokenize`: a token per byte),
//! `/sleep`, `/wake_up`, `/is_sleeping`, and the runtime LoRA API
//! (`/v1/load_lora_adapter`, `/v1/unload_lora_adapter`); other paths get
//! FastAPI's bare 404, as from vLLM. Its output is deterministic, and
//! its knobs (startup delay, per-token delay, token count, failing health,
//! crash after N requests, ignoring SIGTERM) let tests make it misbehave on
//! purpose. It logs one line at start and one per request on stdout.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use futures_util::stream;
use serde_json::{json, Value};

use crate::cli::MockEngineArgs;
use crate::error::{Exit, Failure};

/// Everything a handler needs; shared by all requests.
pub struct Mock {
    pub args: MockEngineArgs,
    requests: AtomicU64,
    sleeping: AtomicBool,
    /// Adapters loaded at run time (`/v1/load_lora_adapter`), by name, with their path.
    loaded: std::sync::Mutex<std::collections::BTreeMap<String, String>>,
}

/// Run the mock engine until SIGTERM or Ctrl-C.
pub fn run(args: MockEngineArgs) -> Result<Exit> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Failure::runtime(format!("cannot start the async runtime: {err}")))?;
    runtime.block_on(serve(args))
}

async fn serve(args: MockEngineArgs) -> Result<Exit> {
    if !args.engine_flags.is_empty() {
        println!(
            "mock-engine: ignoring engine flags: {}",
            args.engine_flags.join(" ")
        );
    }
    // Watch the signals before anything else, so none is missed.
    let mut signals = Signals::new(args.ignore_sigterm)?;
    if args.startup_delay_ms > 0 {
        // Like vLLM loading weights: the port opens only when it is ready.
        println!(
            "mock-engine: loading '{}' (startup delay {} ms)",
            args.served_model_name, args.startup_delay_ms
        );
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(args.startup_delay_ms)) => {}
            () = signals.stop_requested() => {
                println!("mock-engine: stopped while starting");
                return Ok(Exit::Success);
            }
        }
    }
    let addr = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|err| {
        Failure::runtime(format!("mock-engine cannot listen on {addr}: {err}"))
            .hint("another process holds the port; pick another with --port")
    })?;
    println!(
        "mock-engine: serving '{}' on {addr} (tokens {}, token delay {} ms{}{})",
        args.served_model_name,
        args.tokens,
        args.token_delay_ms,
        if args.fail_health {
            ", failing health"
        } else {
            ""
        },
        args.crash_after
            .map_or(String::new(), |n| format!(", crash after {n} requests")),
    );
    let mock = Arc::new(Mock {
        args,
        requests: AtomicU64::new(0),
        sleeping: AtomicBool::new(false),
        loaded: std::sync::Mutex::new(std::collections::BTreeMap::new()),
    });
    // TCP_NODELAY, as vLLM has it (asyncio sets it): each token goes out
    // at once instead of waiting for the last one's acknowledgement.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app(mock))
        .with_graceful_shutdown(async move { signals.stop_requested().await })
        .await
        .map_err(|err| Failure::runtime(format!("mock-engine failed: {err}")))?;
    println!("mock-engine: stopped");
    Ok(Exit::Success)
}

/// SIGTERM and Ctrl-C, watched from the start.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    ignore_sigterm: bool,
}

impl Signals {
    fn new(ignore_sigterm: bool) -> Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        let watch = |kind| {
            signal(kind)
                .map_err(|err| Failure::runtime(format!("mock-engine cannot watch signals: {err}")))
        };
        Ok(Signals {
            term: watch(SignalKind::terminate())?,
            int: watch(SignalKind::interrupt())?,
            ignore_sigterm,
        })
    }

    /// Resolves on Ctrl-C, or on SIGTERM unless it is to be ignored.
    async fn stop_requested(&mut self) {
        loop {
            tokio::select! {
                _ = self.term.recv() => {
                    if !self.ignore_sigterm {
                        println!("mock-engine: SIGTERM, shutting down");
                        return;
                    }
                    println!("mock-engine: ignoring SIGTERM as asked (--ignore-sigterm)");
                }
                _ = self.int.recv() => return,
            }
        }
    }
}

/// The context length the mock reports, as vLLM reports its model's.
const MAX_MODEL_LEN: usize = 4096;

/// The router, apart from serving, so tests can drive it in-process.
pub fn app(mock: Arc<Mock>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/completions", post(completions))
        .route("/v1/embeddings", post(embeddings))
        .route("/tokenize", post(tokenize))
        .route("/detokenize", post(detokenize))
        .route("/sleep", post(sleep))
        .route("/wake_up", post(wake_up))
        .route("/is_sleeping", get(is_sleeping))
        .route("/v1/load_lora_adapter", post(load_lora_adapter))
        .route("/v1/unload_lora_adapter", post(unload_lora_adapter))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&mock),
            require_key,
        ))
        .with_state(mock)
}

/// With a key (`--api-key` or `VLLM_API_KEY`), `/v1/*` wants it as vLLM
/// does: 401 `{"error": "Unauthorized"}` without it. vLLM's other paths
/// take no key, and neither do the mock's.
async fn require_key(
    State(mock): State<Arc<Mock>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(key) = &mock.args.api_key {
        let given = request
            .headers()
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if request.uri().path().starts_with("/v1") && given != Some(key.as_str()) {
            println!(
                "mock-engine: {} {} status=401 (no key or a wrong one)",
                request.method(),
                request.uri().path()
            );
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "Unauthorized"})),
            )
                .into_response();
        }
    }
    next.run(request).await
}

async fn health(State(mock): State<Arc<Mock>>) -> StatusCode {
    if mock.args.fail_health {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

impl Mock {
    /// Names it answers to: the served name and its LoRA adapters, those
    /// it started with and those loaded since.
    fn names(&self) -> Vec<String> {
        let mut names = vec![self.args.served_model_name.clone()];
        names.extend(self.args.loras.iter().cloned());
        names.extend(self.loaded().keys().cloned());
        names
    }

    fn loaded(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, String>> {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Count a request; past `--crash-after N` the process exits at once,
    /// without answering, as a crashing engine would.
    fn count(&self, what: &str) {
        let n = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(limit) = self.args.crash_after {
            if n > limit {
                println!("mock-engine: crashing on request {n} ({what}) as asked (--crash-after {limit})");
                std::process::exit(70);
            }
        }
    }

    /// Parse the body and check the model; an OpenAI error response if not.
    fn request(&self, body: &Bytes, path: &str) -> Result<Value, ApiError> {
        self.count(path);
        let value: Value = serde_json::from_slice(body).map_err(|err| {
            error(
                StatusCode::BAD_REQUEST,
                &format!("invalid JSON body: {err}"),
                "BadRequestError",
            )
        })?;
        let model = value
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !self.names().iter().any(|n| n == model) {
            return Err(error(
                StatusCode::NOT_FOUND,
                &format!("The model `{model}` does not exist."),
                "NotFoundError",
            ));
        }
        if self.sleeping.load(Ordering::SeqCst) {
            return Err(error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the engine is sleeping; POST /wake_up first",
                "ServiceUnavailableError",
            ));
        }
        Ok(value)
    }

    /// How many tokens to produce: `--tokens`, capped by `max_tokens`.
    fn token_count(&self, request: &Value) -> u32 {
        let cap = request
            .get("max_tokens")
            .or_else(|| request.get("max_completion_tokens"))
            .and_then(Value::as_u64)
            .map_or(u32::MAX, |m| u32::try_from(m).unwrap_or(u32::MAX));
        self.args.tokens.min(cap)
    }
}

/// An error in vLLM's shape, which is OpenAI's with `object: "error"`.
struct ApiError {
    status: StatusCode,
    message: String,
    kind: &'static str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"object": "error", "message": self.message, "type": self.kind, "param": null, "code": self.status.as_u16()});
        (self.status, Json(body)).into_response()
    }
}

fn error(status: StatusCode, message: &str, kind: &'static str) -> ApiError {
    ApiError {
        status,
        message: message.to_string(),
        kind,
    }
}

/// The deterministic text of token `i`.
pub fn token(i: u32) -> String {
    format!("tok{i} ")
}

fn prompt_tokens(request: &Value) -> usize {
    let text = match request.get("messages") {
        Some(Value::Array(messages)) => messages
            .iter()
            .filter_map(|m| m.get("content").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => request
            .get("prompt")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    };
    text.split_whitespace().count()
}

fn usage(prompt: usize, completion: u32) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion as usize})
}

async fn models(State(mock): State<Arc<Mock>>) -> Json<Value> {
    let data: Vec<Value> = mock
        .names()
        .into_iter()
        .map(|id| json!({"id": id, "object": "model", "created": 0, "owned_by": "vllm-mux-mock", "root": id, "max_model_len": MAX_MODEL_LEN}))
        .collect();
    Json(json!({"object": "list", "data": data}))
}

#[derive(Clone, Copy)]
enum Kind {
    Chat,
    Text,
}

async fn chat_completions(State(mock): State<Arc<Mock>>, body: Bytes) -> Response {
    complete(mock, body, Kind::Chat).await
}

async fn completions(State(mock): State<Arc<Mock>>, body: Bytes) -> Response {
    complete(mock, body, Kind::Text).await
}

async fn complete(mock: Arc<Mock>, body: Bytes, kind: Kind) -> Response {
    let path = match kind {
        Kind::Chat => "/v1/chat/completions",
        Kind::Text => "/v1/completions",
    };
    let request = match mock.request(&body, path) {
        Ok(request) => request,
        Err(err) => {
            println!("mock-engine: POST {path} status={}", err.status.as_u16());
            return err.into_response();
        }
    };
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let stream = request
        .get("stream")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let include_usage = request
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let n = mock.token_count(&request);
    let prompt = prompt_tokens(&request);
    println!("mock-engine: POST {path} model={model} stream={stream} tokens={n} status=200");
    let id = format!("mock-{}", mock.requests.load(Ordering::SeqCst));
    if !stream {
        let delay = mock.args.token_delay_ms.saturating_mul(u64::from(n));
        tokio::time::sleep(Duration::from_millis(delay)).await;
        let text: String = (0..n).map(token).collect();
        let choice = match kind {
            Kind::Chat => {
                json!({"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "length", "logprobs": null})
            }
            Kind::Text => {
                json!({"index": 0, "text": text, "finish_reason": "length", "logprobs": null})
            }
        };
        let object = match kind {
            Kind::Chat => "chat.completion",
            Kind::Text => "text_completion",
        };
        return Json(json!({"id": id, "object": object, "created": 0, "model": model, "choices": [choice], "usage": usage(prompt, n)}))
            .into_response();
    }
    sse(SseStream {
        kind,
        id,
        model,
        n,
        include_usage,
        prompt,
        delay: Duration::from_millis(mock.args.token_delay_ms),
    })
}

/// One streamed completion: a role chunk (chat), one chunk per token, a
/// final chunk with `finish_reason`, an optional usage chunk, `[DONE]`.
struct SseStream {
    kind: Kind,
    id: String,
    model: String,
    n: u32,
    include_usage: bool,
    prompt: usize,
    delay: Duration,
}

impl SseStream {
    fn chunk(&self, choice: Value) -> Value {
        let object = match self.kind {
            Kind::Chat => "chat.completion.chunk",
            Kind::Text => "text_completion",
        };
        json!({"id": self.id, "object": object, "created": 0, "model": self.model, "choices": [choice]})
    }

    fn token_choice(&self, text: String, finish: Option<&str>) -> Value {
        match self.kind {
            Kind::Chat => {
                json!({"index": 0, "delta": {"content": text}, "finish_reason": finish, "logprobs": null})
            }
            Kind::Text => {
                json!({"index": 0, "text": text, "finish_reason": finish, "logprobs": null})
            }
        }
    }

    /// Event `step` of the stream, or `None` after `[DONE]`.
    fn event(&self, step: u32) -> Option<String> {
        let first_token = match self.kind {
            Kind::Chat => 1,
            Kind::Text => 0,
        };
        let finish = first_token + self.n;
        let data = if step < first_token {
            self.chunk(json!({"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null, "logprobs": null}))
                .to_string()
        } else if step < finish {
            self.chunk(self.token_choice(token(step - first_token), None))
                .to_string()
        } else if step == finish {
            self.chunk(self.token_choice(String::new(), Some("length")))
                .to_string()
        } else if step == finish + 1 && self.include_usage {
            let mut usage_chunk = self.chunk(json!(null));
            usage_chunk["choices"] = json!([]);
            usage_chunk["usage"] = usage(self.prompt, self.n);
            usage_chunk.to_string()
        } else if step == finish + 1 + u32::from(self.include_usage) {
            "[DONE]".to_string()
        } else {
            return None;
        };
        Some(format!("data: {data}\n\n"))
    }
}

fn sse(events: SseStream) -> Response {
    let body = stream::unfold((events, 0u32), |(events, step)| async move {
        let is_token = step > 0 && step <= events.n;
        if is_token && !events.delay.is_zero() {
            tokio::time::sleep(events.delay).await;
        }
        let event = events.event(step)?;
        Some((Ok::<_, Infallible>(Bytes::from(event)), (events, step + 1)))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn embeddings(State(mock): State<Arc<Mock>>, body: Bytes) -> Response {
    let request = match mock.request(&body, "/v1/embeddings") {
        Ok(request) => request,
        Err(err) => return err.into_response(),
    };
    let inputs: Vec<String> = match request.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect(),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "`input` must be a string or a list of strings",
                "BadRequestError",
            )
            .into_response()
        }
    };
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    println!(
        "mock-engine: POST /v1/embeddings model={model} inputs={} status=200",
        inputs.len()
    );
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| json!({"object": "embedding", "index": index, "embedding": embedding(text)}))
        .collect();
    let tokens: usize = inputs.iter().map(|t| t.split_whitespace().count()).sum();
    Json(json!({"object": "list", "model": model, "data": data, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}))
        .into_response()
}

/// vLLM's tokenizer API with bytes for tokens: each byte of `prompt` (or
/// of the messages' contents, a line each) is one token, its value the id.
async fn tokenize(State(mock): State<Arc<Mock>>, body: Bytes) -> Response {
    let request = match mock.request(&body, "/tokenize") {
        Ok(request) => request,
        Err(err) => return err.into_response(),
    };
    let text = match (request.get("prompt"), request.get("messages")) {
        (Some(Value::String(prompt)), _) => prompt.clone(),
        (None, Some(Value::Array(messages))) => messages
            .iter()
            .filter_map(|m| m.get("content").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "`prompt` (a string) or `messages` is required",
                "BadRequestError",
            )
            .into_response()
        }
    };
    let tokens = text.into_bytes();
    println!(
        "mock-engine: POST /tokenize model={} tokens={} status=200",
        request["model"].as_str().unwrap_or_default(),
        tokens.len()
    );
    Json(json!({"count": tokens.len(), "max_model_len": MAX_MODEL_LEN, "tokens": tokens, "token_strs": null}))
        .into_response()
}

/// The inverse of [`tokenize`]: ids (bytes) back to text.
async fn detokenize(State(mock): State<Arc<Mock>>, body: Bytes) -> Response {
    let request = match mock.request(&body, "/detokenize") {
        Ok(request) => request,
        Err(err) => return err.into_response(),
    };
    let bytes: Option<Vec<u8>> = request
        .get("tokens")
        .and_then(Value::as_array)
        .and_then(|ids| {
            ids.iter()
                .map(|id| id.as_u64().and_then(|id| u8::try_from(id).ok()))
                .collect()
        });
    let Some(bytes) = bytes else {
        return error(
            StatusCode::BAD_REQUEST,
            "`tokens` must be a list of token ids (0 to 255 here)",
            "BadRequestError",
        )
        .into_response();
    };
    println!(
        "mock-engine: POST /detokenize model={} tokens={} status=200",
        request["model"].as_str().unwrap_or_default(),
        bytes.len()
    );
    Json(json!({"prompt": String::from_utf8_lossy(&bytes)})).into_response()
}

/// A deterministic 8-dimensional unit vector from the text (FNV-1a seeded).
pub fn embedding(text: &str) -> Vec<f64> {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let raw: Vec<f64> = (0..8)
        .map(|_| {
            for byte in text.bytes() {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
            hash = hash.rotate_left(17);
            (hash % 2000) as f64 / 1000.0 - 1.0
        })
        .collect();
    let norm = raw
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::EPSILON);
    raw.iter().map(|x| x / norm).collect()
}

/// A path it does not serve: FastAPI's bare 404, as vLLM answers it.
async fn not_found() -> Response {
    let body = r#"{"detail":"Not Found"}"#;
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// vLLM's runtime LoRA API (with `VLLM_ALLOW_RUNTIME_LORA_UPDATING`),
/// answered as vLLM does: 200 and a line of text, or an error (400 for a
/// name loaded twice, 404 for a path with no adapter).
async fn load_lora_adapter(State(mock): State<Arc<Mock>>, body: Bytes) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    let (Some(name), Some(path)) = (
        request.get("lora_name").and_then(Value::as_str),
        request.get("lora_path").and_then(Value::as_str),
    ) else {
        let err = error(
            StatusCode::BAD_REQUEST,
            "Both 'lora_name' and 'lora_path' must be provided.",
            "BadRequestError",
        );
        return err.into_response();
    };
    println!("mock-engine: POST /v1/load_lora_adapter {name}={path}");
    if mock.names().iter().any(|n| n == name) {
        let message = format!("The lora adapter '{name}' has already been loaded.");
        return error(StatusCode::BAD_REQUEST, &message, "InvalidUserInput").into_response();
    }
    // The mock needs no weights, but a path must be there, as vLLM's must.
    if !std::path::Path::new(path).exists() {
        let message = format!("Loading lora {name} failed: No adapter found for {path}");
        return error(StatusCode::NOT_FOUND, &message, "NotFoundError").into_response();
    }
    mock.loaded().insert(name.to_string(), path.to_string());
    format!("Success: LoRA adapter '{name}' added successfully.").into_response()
}

async fn unload_lora_adapter(State(mock): State<Arc<Mock>>, body: Bytes) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    let name = request
        .get("lora_name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    println!("mock-engine: POST /v1/unload_lora_adapter {name}");
    if mock.loaded().remove(name).is_none() {
        let message = format!("The lora adapter '{name}' cannot be found.");
        return error(StatusCode::NOT_FOUND, &message, "NotFoundError").into_response();
    }
    format!("Success: LoRA adapter '{name}' removed successfully.").into_response()
}

async fn sleep(State(mock): State<Arc<Mock>>) -> StatusCode {
    mock.sleeping.store(true, Ordering::SeqCst);
    println!("mock-engine: sleeping");
    StatusCode::OK
}

async fn wake_up(State(mock): State<Arc<Mock>>) -> StatusCode {
    mock.sleeping.store(false, Ordering::SeqCst);
    println!("mock-engine: awake");
    StatusCode::OK
}

async fn is_sleeping(State(mock): State<Arc<Mock>>) -> Json<Value> {
    Json(json!({"is_sleeping": mock.sleeping.load(Ordering::SeqCst)}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(kind: Kind, n: u32, include_usage: bool) -> Vec<String> {
        let s = SseStream {
            kind,
            id: "x".into(),
            model: "m".into(),
            n,
            include_usage,
            prompt: 3,
            delay: Duration::ZERO,
        };
        (0..).map_while(|step| s.event(step)).collect()
    }

    #[test]
    fn chat_stream_has_role_tokens_finish_usage_and_done() {
        let events = stream(Kind::Chat, 3, true);
        assert_eq!(events.len(), 1 + 3 + 1 + 1 + 1);
        assert!(events[0].contains("\"role\":\"assistant\""));
        assert!(events[1].contains("tok0 ") && events[3].contains("tok2 "));
        assert!(events[4].contains("\"finish_reason\":\"length\""));
        assert!(
            events[5].contains("\"completion_tokens\":3") && events[5].contains("\"choices\":[]")
        );
        assert_eq!(events[6], "data: [DONE]\n\n");
        assert!(events
            .iter()
            .all(|e| e.starts_with("data: ") && e.ends_with("\n\n")));
    }

    #[test]
    fn text_stream_without_usage() {
        let events = stream(Kind::Text, 2, false);
        assert_eq!(events.len(), 2 + 1 + 1);
        assert!(events[0].contains("\"text\":\"tok0 \""));
        assert!(!events.iter().any(|e| e.contains("usage")));
    }

    #[test]
    fn embeddings_are_deterministic_unit_vectors() {
        let a = embedding("hello");
        assert_eq!(a, embedding("hello"));
        assert_ne!(a, embedding("world"));
        let norm: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-9);
    }
}
