//! The answer's body as it streams from the backend to the client: every
//! frame is passed on as it comes (no copy, no relay channel), counted in
//! the request's record; a backend that breaks an SSE stream off gets an
//! OpenAI error event in its place, so clients see an error, not a hang.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use serde_json::json;

use super::record::RequestRecord;

pub struct RecordedBody {
    inner: hyper::body::Incoming,
    record: RequestRecord,
    model: String,
    event_stream: bool,
    done: bool,
}

impl RecordedBody {
    pub fn new(
        inner: hyper::body::Incoming,
        record: RequestRecord,
        model: String,
        event_stream: bool,
    ) -> Self {
        RecordedBody {
            inner,
            record,
            model,
            event_stream,
            done: false,
        }
    }
}

impl Body for RecordedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.record.chunk(data.len());
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(err))) => {
                this.record.broken();
                this.done = true;
                if this.event_stream {
                    Poll::Ready(Some(Ok(Frame::data(error_event(
                        &this.model,
                        &err.to_string(),
                    )))))
                } else {
                    Poll::Ready(Some(Err(err)))
                }
            }
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.done {
            SizeHint::with_exact(0)
        } else {
            self.inner.size_hint()
        }
    }
}

/// `data: {"error": {...}}` — what OpenAI's clients raise as an error mid-stream.
pub fn error_event(model: &str, detail: &str) -> Bytes {
    let body = json!({"error": {
        "message": format!("model '{model}' broke off its answer: {detail}"),
        "type": "bad_gateway",
        "code": "backend_stream_error",
    }});
    Bytes::from(format!("data: {body}\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_events_are_sse_with_openai_errors() {
        let event = error_event("m", "connection reset");
        let text = std::str::from_utf8(&event).unwrap_or_default();
        assert!(
            text.starts_with("data: {\"error\":") && text.ends_with("\n\n"),
            "{text}"
        );
        assert!(text.contains("backend_stream_error"));
    }
}
