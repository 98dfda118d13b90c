//! The benchmark's backend: far faster than any proxy in front of it, so
//! the proxy is what gets measured. One thread (pin it with taskset).
//! `POST /v1/*` answers a fixed chat completion, or with `"stream": true`,
//! `--chunks` SSE events `--interval-ms` apart, then `data: [DONE]`;
//! `GET /health` answers `ok`.
//!
//! It speaks just enough HTTP/1.1 for that (keep-alive, Content-Length
//! request bodies, canned answers written in one go): it shares its core
//! with the load generator, so every microsecond it spends is one the
//! load generator cannot. TCP_NODELAY is on, as in LLM servers (vLLM's
//! uvicorn gets it from asyncio).
//!
//! cargo run --release --example bench-upstream -- --port 9000 [--chunks 32] [--interval-ms 5]

use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{REPLY}",
            REPLY.len()
        );
        let reply: &'static [u8] = Box::leak(reply.into_bytes().into_boxed_slice());
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = serve(stream, reply, chunks, interval).await;
            });
        }
    })
}

/// Answer requests on one connection until the client closes it.
async fn serve(
    mut stream: TcpStream,
    reply: &[u8],
    chunks: u64,
    interval: Duration,
) -> std::io::Result<()> {
    let mut buf = BytesMut::with_capacity(4096);
    loop {
        // A whole head, then the body its Content-Length announces.
        let (head_len, body_len, get) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut request = httparse::Request::new(&mut headers);
            match request.parse(&buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let body = request
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                        .and_then(|h| std::str::from_utf8(h.value).ok())
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break (len, body, request.method == Some("GET"));
                }
                Ok(httparse::Status::Partial) => {}
                Err(_) => return stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await,
            }
            if stream.read_buf(&mut buf).await? == 0 {
                return Ok(());
            }
        };
        while buf.len() < head_len + body_len {
            buf.reserve(head_len + body_len - buf.len());
            if stream.read_buf(&mut buf).await? == 0 {
                return Ok(());
            }
        }
        let body = &buf[head_len..head_len + body_len];
        let streamed = body
            .windows(14)
            .any(|w| w == b"\"stream\": true" || w.starts_with(b"\"stream\":true"));
        if get {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await?;
        } else if streamed {
            sse(&mut stream, chunks, interval).await?;
        } else {
            stream.write_all(reply).await?;
        }
        buf.advance(head_len + body_len);
    }
}

/// `chunks` SSE events `interval` apart, then `[DONE]`, each its own chunk.
async fn sse(stream: &mut TcpStream, chunks: u64, interval: Duration) -> std::io::Result<()> {
    let mut out =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    for i in 0..=chunks {
        if i > 0 {
            tokio::time::sleep(interval).await;
        }
        let event = if i == chunks {
            "data: [DONE]\n\n".to_string()
        } else {
            format!("data: {{\"id\":\"bench\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"tok{i} \"}}}}]}}\n\n")
        };
        out.extend_from_slice(format!("{:x}\r\n{event}\r\n", event.len()).as_bytes());
        if i == chunks {
            out.extend_from_slice(b"0\r\n\r\n");
        }
        stream.write_all(&out).await?;
        out.clear();
    }
    Ok(())
}
