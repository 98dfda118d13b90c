//! A streaming request that waits for its model (a load, a swap, a free
//! slot) is answered at once when the wait is long: a 200 event-stream
//! head, then an SSE comment every few seconds (`: loading qwen, 12 s`),
//! which clients ignore and which keep them, and proxies in between, from
//! timing out. The answer's events follow as they would have; a wait that
//! ends in an error ends the stream with an OpenAI error event instead of
//! an error status, which is too late to send.

use std::time::Duration;

use serde_json::json;

use super::local::{push_connection, push_header};
use super::wire::{encode_chunk, RequestHead, LAST_CHUNK};
use super::ProxyError;
use crate::supervisor::state::ModelState;

/// How long a streaming request waits before its answer begins.
pub const FIRST_NOTE: Duration = Duration::from_secs(2);
/// How often a comment goes out after that.
pub const EVERY: Duration = Duration::from_secs(5);

/// The head of an event stream whose events are still to come.
pub fn early_head(
    out: &mut Vec<u8>,
    head: &RequestHead,
    cors: &[(axum::http::HeaderName, axum::http::HeaderValue)],
) {
    out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    push_header(out, "content-type", b"text/event-stream");
    push_header(out, "cache-control", b"no-cache");
    push_header(out, "x-accel-buffering", b"no");
    for (name, value) in cors {
        push_header(out, name.as_str(), value.as_bytes());
    }
    push_header(out, "transfer-encoding", b"chunked");
    push_connection(out, Some(head), head.keep_alive);
    out.extend_from_slice(b"\r\n");
}

/// `: loading MODEL, 12 s`: what the model is doing, and how long the
/// request has waited, as an SSE comment in its own chunk.
pub fn note(out: &mut Vec<u8>, model: &str, state: Option<ModelState>, waited: Duration) {
    let doing = match state {
        Some(ModelState::Ready) => "waiting for a free slot of",
        Some(ModelState::Pending | ModelState::Idle) => "waiting for its turn to load",
        Some(ModelState::Stopping) => "waiting for",
        _ => "loading",
    };
    let line = format!(": {doing} {model}, {} s\n\n", waited.as_secs());
    encode_chunk(out, line.as_bytes());
}

/// The end of a stream whose answer went wrong: an OpenAI error event,
/// then the end of the chunked body.
pub fn error_event(out: &mut Vec<u8>, err: &ProxyError) {
    let (kind, code) = err.kind_and_code();
    let body = json!({"error": {"message": err.message(), "type": kind, "code": code}});
    encode_chunk(out, format!("data: {body}\n\n").as_bytes());
    out.extend_from_slice(LAST_CHUNK);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_comments_in_chunks() {
        let mut out = Vec::new();
        note(
            &mut out,
            "qwen",
            Some(ModelState::Starting),
            Duration::from_secs(12),
        );
        let line = ": loading qwen, 12 s\n\n";
        assert_eq!(out, format!("{:x}\r\n{line}\r\n", line.len()).into_bytes());
        let mut out = Vec::new();
        let err = ProxyError::NotReady {
            model: "qwen".into(),
            state: ModelState::Failed,
        };
        error_event(&mut out, &err);
        let text = String::from_utf8(out).unwrap_or_default();
        assert!(
            text.contains("data: {\"error\":") && text.ends_with("\r\n0\r\n\r\n"),
            "{text}"
        );
    }
}
