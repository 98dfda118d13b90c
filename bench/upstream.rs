//! The benchmark's backend: far faster than any proxy in front of it, so
//! the proxy is what gets measured. One thread (pin it with taskset).
//! `POST /v1/*` answers a fixed chat completion, or with `"stream": true`,
//! `--chunks` SSE events `--interval-ms` apart, then `data: [DONE]`.
//!
//! cargo run --release --example bench-upstream -- --port 9000 [--chunks 32] [--interval-ms 5]

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::Response;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;

const REPLY: &str = r#"{"id":"bench","object":"chat.completion","created":0,"model":"bench","choices":[{"index":0,"message":{"role":"assistant","content":"The quick brown fox jumps over the lazy dog."},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":10,"total_tokens":19}}"#;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> std::io::Result<()> {
    let port = arg("--port", 9000) as u16;
    let chunks = arg("--chunks", 32);
    let interval = Duration::from_millis(arg("--interval-ms", 5));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let app = Router::new()
            .route("/health", get(|| async { "ok" }))
            .route(
                "/v1/{*rest}",
                post(move |body: Bytes| async move {
                    let stream = body
                        .windows(14)
                        .any(|w| w == b"\"stream\": true" || w.starts_with(b"\"stream\":true"));
                    if stream {
                        sse(chunks, interval)
                    } else {
                        Response::builder()
                            .header(header::CONTENT_TYPE, "application/json")
                            .body(Body::from(REPLY))
                            .unwrap_or_default()
                    }
                }),
            );
        // TCP_NODELAY, as LLM servers have it (vLLM's uvicorn through
        // asyncio): without it, Nagle holds each event until the previous
        // one is acknowledged, and a delayed ACK turns 5 ms into 40.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await?
            .tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
        axum::serve(listener, app).await
    })
}

fn sse(chunks: u64, interval: Duration) -> Response {
    let events = futures_util::stream::unfold(0u64, move |i| async move {
        if i > chunks {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(interval).await;
        }
        let event = if i == chunks {
            "data: [DONE]\n\n".to_string()
        } else {
            format!("data: {{\"id\":\"bench\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"tok{i} \"}}}}]}}\n\n")
        };
        Some((Ok::<_, Infallible>(Bytes::from(event)), i + 1))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(events))
        .unwrap_or_default()
}
