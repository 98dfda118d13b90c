//! A backend's answer on its way to the client: each read from the backend
//! becomes one write to the client as soon as it arrives (no buffering, no
//! coalescing, so every SSE event goes out on its own), with backpressure
//! both ways. A backend that breaks an event stream off gets an OpenAI
//! error event in its place; a client that goes away closes the backend
//! connection, which cancels the request there.

use axum::body::Bytes;
use bytes::Buf;
use serde_json::json;

use super::conn::Client;
use super::record::RequestRecord;
use super::upstream::Upstream;
use super::wire::{encode_chunk, ChunkedDecoder, Framing, LAST_CHUNK};

/// How an answer's relay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relayed {
    /// All of it reached the client; the backend connection is reusable.
    Whole,
    /// The backend broke it off; the client got an error event (when
    /// `ended` is set, its framing is whole and the connection reusable).
    Broken { ended: bool },
    /// The client went away, or the client connection broke.
    ClientGone,
}

/// Relay the body of an answer whose head is already in `client.out`.
/// `from` is how the backend frames it, `to` how the client gets it;
/// `events_for` names the model of an event stream (for its error event).
pub async fn relay(
    client: &mut Client,
    up: &mut Upstream,
    from: Framing,
    to: Framing,
    record: &mut RequestRecord,
    events_for: Option<&str>,
) -> Relayed {
    let mut left = match from {
        Framing::Length(len) => len,
        _ => u64::MAX,
    };
    let mut decoder = ChunkedDecoder::default();
    // Decoded pieces of one read, passed on as one chunk.
    let mut data = Vec::new();
    // The backend closed the connection (the end of a `Close` body).
    let mut eof = false;
    loop {
        // Move what the backend sent so far into the client's buffer.
        let done = match from {
            Framing::Empty => true,
            Framing::Length(_) => {
                let take = up
                    .buf
                    .len()
                    .min(usize::try_from(left).unwrap_or(usize::MAX));
                pass_on(&mut client.out, record, to, &up.buf[..take]);
                up.buf.advance(take);
                left -= take as u64;
                left == 0
            }
            Framing::Chunked => {
                match decoder.decode(&up.buf, |piece| data.extend_from_slice(piece)) {
                    Ok(used) => up.buf.advance(used),
                    Err(why) => return broken(client, to, record, events_for, why).await,
                }
                pass_on(&mut client.out, record, to, &data);
                data.clear();
                decoder.is_done()
            }
            Framing::Close => {
                pass_on(&mut client.out, record, to, &up.buf);
                up.buf.clear();
                eof
            }
        };
        if done && to == Framing::Chunked {
            client.out.extend_from_slice(LAST_CHUNK);
        }
        if !client.out.is_empty() && client.flush_out().await.is_err() {
            return Relayed::ClientGone;
        }
        if done {
            return Relayed::Whole;
        }
        let read = tokio::select! {
            biased;
            read = up.read() => read,
            () = client.gone() => return Relayed::ClientGone,
        };
        match read {
            Ok(0) if from == Framing::Close => eof = true,
            Ok(0) => {
                return broken(
                    client,
                    to,
                    record,
                    events_for,
                    "the connection closed mid-answer",
                )
                .await
            }
            Ok(_) => {}
            Err(err) => return broken(client, to, record, events_for, &err.to_string()).await,
        }
    }
}

/// Put body bytes in the client's buffer, as one chunk when it is chunked.
fn pass_on(out: &mut Vec<u8>, record: &mut RequestRecord, to: Framing, data: &[u8]) {
    record.chunk(data.len());
    if to == Framing::Chunked {
        encode_chunk(out, data);
    } else {
        out.extend_from_slice(data);
    }
}

/// The backend broke its answer off: tell an event-stream client with an
/// error event and end the stream properly when the framing allows.
async fn broken(
    client: &mut Client,
    to: Framing,
    record: &mut RequestRecord,
    events_for: Option<&str>,
    why: &str,
) -> Relayed {
    record.broken();
    let Some(event) = events_for.map(|model| error_event(model, why)) else {
        return Relayed::Broken { ended: false };
    };
    let ended = match to {
        Framing::Chunked => {
            encode_chunk(&mut client.out, &event);
            client.out.extend_from_slice(LAST_CHUNK);
            true
        }
        // The connection closes after, which ends the answer.
        Framing::Close => {
            client.out.extend_from_slice(&event);
            false
        }
        // A declared length cannot take an event it did not count.
        Framing::Length(_) | Framing::Empty => return Relayed::Broken { ended: false },
    };
    if client.flush_out().await.is_err() {
        return Relayed::ClientGone;
    }
    Relayed::Broken { ended }
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
