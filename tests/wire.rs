//! The proxy's HTTP/1.1 on the wire, through raw sockets: well-formed
//! answers, keep-alive and pipelining, chunked bodies both ways,
//! `Expect: 100-continue`, HTTP/1.0 clients, and bad requests.

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::Value;

use crate::helper::{raw, Env, Started};

fn one_model(env: &Env) -> Started<'_> {
    let port = env.init_fast("c");
    env.add_mock("c", "m", &["--set", "tokens=3"]);
    env.start("c", port)
}

/// A POST of `body` to the chat endpoint, with extra header lines.
fn post(body: &str, extra: &str) -> String {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}\r\n{body}",
        body.len()
    )
}

/// Head and body of the first answer in `text`.
fn split(text: &str) -> (&str, &str) {
    text.split_once("\r\n\r\n")
        .expect("a head ending in a blank line")
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Decode a chunked body; returns the data and what follows the last chunk.
fn dechunk(mut body: &str) -> (String, &str) {
    let mut data = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").expect("a chunk size line");
        let size = usize::from_str_radix(size, 16).expect("a hex size");
        if size == 0 {
            let rest = rest
                .strip_prefix("\r\n")
                .expect("the end of the chunked body");
            return (data, rest);
        }
        data.push_str(&rest[..size]);
        body = rest[size..]
            .strip_prefix("\r\n")
            .expect("CRLF after a chunk");
    }
}

#[test]
fn a_forwarded_answer_is_well_formed_http11() {
    let env = Env::new();
    let started = one_model(&env);
    let answer = raw(
        started.proxy_port,
        post(r#"{"model": "m", "messages": []}"#, "Connection: close\r\n").as_bytes(),
    );
    let (head, body) = split(&answer);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.split("\r\n")
            .all(|line| !line.contains('\n') && !line.contains('\r')),
        "every head line ends in CRLF: {head:?}"
    );
    assert_eq!(
        header(head, "content-length"),
        Some(body.len().to_string().as_str())
    );
    assert_eq!(header(head, "x-accel-buffering"), Some("no"));
    assert_eq!(header(head, "connection"), Some("close"));
    assert_eq!(header(head, "access-control-allow-origin"), Some("*"));
    let body: Value = serde_json::from_str(body).expect("JSON body");
    assert_eq!(body["object"], "chat.completion");
}

#[test]
fn pipelined_requests_are_answered_in_order_on_one_connection() {
    let env = Env::new();
    let started = one_model(&env);
    let requests = [
        post(r#"{"model": "m", "messages": []}"#, ""),
        post(r#"{"model": "nope", "messages": []}"#, ""),
        "GET /health HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
        post(
            r#"{"model": "m", "messages": [], "stream": true}"#,
            "Connection: close\r\n",
        ),
    ]
    .concat();
    let answer = raw(started.proxy_port, requests.as_bytes());
    let statuses: Vec<&str> = answer
        .match_indices("HTTP/1.1 ")
        .map(|(at, _)| &answer[at + 9..at + 12])
        .collect();
    assert_eq!(statuses, ["200", "404", "200", "200"], "{answer}");
    let last = &answer[answer.rfind("HTTP/1.1 200").unwrap_or(0)..];
    let (head, body) = split(last);
    assert_eq!(header(head, "transfer-encoding"), Some("chunked"), "{head}");
    let (events, after) = dechunk(body);
    assert!(events.ends_with("data: [DONE]\n\n"), "{events}");
    assert_eq!(after, "", "nothing after the last chunk");
}

#[test]
fn a_chunked_request_body_is_forwarded() {
    let env = Env::new();
    let started = one_model(&env);
    let body = r#"{"model": "m", "messages": []}"#;
    let (a, b) = body.split_at(10);
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{a}\r\n{:x};ext=1\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    let answer = raw(started.proxy_port, request.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    let bad =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    let answer = raw(started.proxy_port, bad.as_bytes());
    assert!(
        answer.starts_with("HTTP/1.1 400") && answer.contains("malformed_request"),
        "{answer}"
    );
}

#[test]
fn expect_100_continue_is_honoured() {
    let env = Env::new();
    let started = one_model(&env);
    let body = r#"{"model": "m", "messages": []}"#;
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", started.proxy_port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("head");
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).expect("an interim answer");
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(body.as_bytes()).expect("body");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
}

#[test]
fn an_http10_client_gets_a_stream_delimited_by_close() {
    let env = Env::new();
    let started = one_model(&env);
    let body = r#"{"model": "m", "messages": [], "stream": true}"#;
    let request = format!(
        "POST /v1/chat/completions HTTP/1.0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = raw(started.proxy_port, request.as_bytes());
    let (head, body) = split(&answer);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(
        header(head, "transfer-encoding"),
        None,
        "1.0 has no chunking"
    );
    assert_eq!(header(head, "connection"), Some("close"));
    assert!(
        body.starts_with("data: ") && body.ends_with("data: [DONE]\n\n"),
        "{body}"
    );
}

#[test]
fn requests_that_are_not_http_get_400_and_the_connection_closes() {
    let env = Env::new();
    let started = one_model(&env);
    let answer = raw(
        started.proxy_port,
        b"HELLO\r\n\r\nGET /health HTTP/1.1\r\n\r\n",
    );
    let (head, body) = split(&answer);
    assert!(head.starts_with("HTTP/1.1 400"), "{answer}");
    assert_eq!(header(head, "connection"), Some("close"));
    let error: Value = serde_json::from_str(body).expect("an OpenAI error");
    assert_eq!(error["error"]["code"], "malformed_request");
    assert!(
        !answer.contains("HTTP/1.1 200"),
        "nothing after it is served: {answer}"
    );
    let huge = format!(
        "GET /health HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(70_000)
    );
    let answer = raw(started.proxy_port, huge.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
}

#[test]
fn stopping_closes_idle_keep_alive_connections_at_once() {
    let env = Env::new();
    let started = one_model(&env);
    let mut idle =
        std::net::TcpStream::connect(("127.0.0.1", started.proxy_port)).expect("connect");
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("request");
    let mut buf = [0u8; 4096];
    let n = idle.read(&mut buf).expect("an answer");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // The connection is kept alive and idle; stopping must not wait for it.
    idle.set_read_timeout(Some(Duration::from_secs(8)))
        .expect("timeout");
    env.ok(&["--config", "c", "stop"]);
    assert_eq!(idle.read(&mut buf).expect("closed, not timed out"), 0);
}

#[test]
fn big_bodies_pass_both_ways_on_one_connection() {
    let env = Env::new();
    let started = one_model(&env);
    // About 1.2 MB out and as many vectors back: many reads each way.
    let inputs: Vec<String> = (0..3000).map(|i| format!("{i:0>400}")).collect();
    let client = crate::helper::http();
    for _ in 0..2 {
        let answer: Value = client
            .post(started.url("/v1/embeddings"))
            .json(&serde_json::json!({"model": "m", "input": inputs}))
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .expect("embeddings");
        let data = answer["data"].as_array().expect("data");
        assert_eq!(data.len(), inputs.len());
        assert_eq!(data[2999]["index"], 2999);
    }
}
