//! Issue 18: what a hostile client tries against the proxy's HTTP/1.1
//! layer, each answered as nginx would or more strictly: no request is
//! smuggled to a backend, no path escapes the allow-lists, no body takes
//! memory it was not given, no line is forged in the log.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::helper::{raw, rss_kib, Env, Started};

/// A backend that reads request heads only, never a GET's body (as
/// cpp-httplib, under llama-server, does): what follows a GET's head is
/// taken for the next request. It answers every request with its path and
/// records each request line it reads.
struct NaiveBackend {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl NaiveBackend {
    fn start() -> NaiveBackend {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = Arc::clone(&log);
                std::thread::spawn(move || serve_naively(stream, &log));
            }
        });
        NaiveBackend { port, seen }
    }

    /// Every request line it read, but the supervisor's health checks.
    fn seen(&self) -> Vec<String> {
        let seen = self.seen.lock().map(|s| s.clone()).unwrap_or_default();
        seen.into_iter()
            .filter(|l| l != "GET /health HTTP/1.1")
            .collect()
    }
}

fn serve_naively(stream: TcpStream, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end().to_string();
        if line.is_empty() {
            continue;
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        // Only a POST's body is read.
        if line.starts_with("POST ") {
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
        }
        if let Ok(mut seen) = seen.lock() {
            seen.push(line.clone());
        }
        let path = line.split(' ').nth(1).unwrap_or("").to_string();
        let body = if path == "/v1/models" {
            r#"{"object":"list","data":[{"id":"m","object":"model"}]}"#.to_string()
        } else {
            format!(r#"{{"path":"{path}"}}"#)
        };
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// A config `c` whose model `m` is the naive backend (a url model).
fn behind_naive(env: &Env) -> (Started<'_>, NaiveBackend) {
    let backend = NaiveBackend::start();
    let port = env.init_fast("c");
    env.add_remote("c", "m", backend.port, &["--health-path", "/health"]);
    (env.start("c", port), backend)
}

fn status_of(answer: &str) -> &str {
    answer.get(9..12).unwrap_or("")
}

#[test]
fn a_get_through_upstream_with_a_body_is_refused_and_smuggles_nothing() {
    let env = Env::new();
    let (started, backend) = behind_naive(&env);
    let hidden = "GET /slots HTTP/1.1\r\nHost: x\r\n\r\n";
    let attack = format!(
        "GET /upstream/m/metrics HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{hidden}",
        hidden.len()
    );
    let answer = raw(started.proxy_port, attack.as_bytes());
    assert_eq!(status_of(&answer), "400", "{answer}");
    assert!(answer.contains("carries no body"), "{answer}");
    // The next client on the pooled connection gets its own answer.
    let next = raw(
        started.proxy_port,
        b"GET /upstream/m/metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(next.ends_with(r#"{"path":"/metrics"}"#), "{next}");
    let seen = backend.seen();
    assert!(
        !seen.iter().any(|l| l.contains("/slots")),
        "the backend saw: {seen:?}"
    );
}

#[test]
fn dot_segments_and_encoded_slashes_never_reach_a_backend() {
    let env = Env::new();
    let (started, backend) = behind_naive(&env);
    let body = r#"{"model": "m"}"#;
    for target in [
        "/upstream/m/v1/models/../../slots",
        "/upstream/m/v1/models/%2e%2e/%2E%2E/slots",
        "/upstream/m/v1/models/.%2e/.%2e/slots",
        "/upstream/m/v1/models/x%2F..%2F..%2Fslots",
    ] {
        let answer = raw(
            started.proxy_port,
            format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
        );
        assert_eq!(status_of(&answer), "400", "{target}: {answer}");
    }
    for target in [
        "/v1/../sleep",
        "/v1/%2e%2e/sleep",
        "/v1/chat/../../sleep",
        "/v1/x%2f..%2f..%2fsleep",
    ] {
        let request = format!(
            "POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let answer = raw(started.proxy_port, request.as_bytes());
        assert_eq!(status_of(&answer), "400", "{target}: {answer}");
        assert!(answer.contains("malformed_request"), "{answer}");
    }
    let seen = backend.seen();
    assert!(
        !seen
            .iter()
            .any(|l| l.contains("slots") || l.contains("sleep") || l.contains("..")),
        "the backend saw: {seen:?}"
    );
    // What is allowed still goes through.
    let fine = raw(
        started.proxy_port,
        b"GET /upstream/m/v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status_of(&fine), "200", "{fine}");
}

#[test]
fn an_absolute_target_is_served_as_its_path_and_other_forms_are_refused() {
    let env = Env::new();
    let (started, backend) = behind_naive(&env);
    let body = r#"{"model": "m"}"#;
    // RFC 9112 3.2.2: a server must accept the absolute form.
    let chat = raw(
        started.proxy_port,
        format!(
            "POST http://proxy.example/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert!(
        chat.ends_with(r#"{"path":"/v1/chat/completions"}"#),
        "{chat}"
    );
    let upstream = raw(
        started.proxy_port,
        b"GET HTTP://proxy.example:8000/upstream/m/metrics?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(
        upstream.ends_with(r#"{"path":"/metrics?x=1"}"#),
        "{upstream}"
    );
    let models = raw(
        started.proxy_port,
        b"GET http://proxy.example/v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status_of(&models), "200", "{models}");
    for request in [
        "CONNECT proxy.example:443 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET ftp://proxy.example/v1/models HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET http://proxy.example HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET v1/models HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let answer = raw(started.proxy_port, request.as_bytes());
        assert_eq!(status_of(&answer), "400", "{request:?}: {answer}");
        assert!(answer.contains("request target"), "{answer}");
    }
    // The backend only ever saw paths.
    let seen = backend.seen();
    for line in [
        "POST /v1/chat/completions HTTP/1.1",
        "GET /metrics?x=1 HTTP/1.1",
    ] {
        assert!(seen.iter().any(|l| l == line), "{line}: {seen:?}");
    }
    assert!(
        seen.iter()
            .all(|l| l.split(' ').nth(1).is_some_and(|t| t.starts_with('/'))),
        "the backend saw: {seen:?}"
    );
}

#[test]
fn framing_and_host_are_as_strict_as_nginx() {
    let env = Env::new();
    let (started, _backend) = behind_naive(&env);
    let chunked_body = "e\r\n{\"model\": \"m\"}\r\n0\r\n\r\n";
    for (coding, status) in [
        ("identity, chunked", "501"),
        ("gzip, chunked", "501"),
        ("chunked, gzip", "400"),
        ("chunked, chunked", "400"),
    ] {
        let request = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {coding}\r\n\r\n{chunked_body}"
        );
        let answer = raw(started.proxy_port, request.as_bytes());
        assert_eq!(status_of(&answer), status, "{coding}: {answer}");
        assert!(answer.contains("connection: close"), "{answer}");
    }
    for (request, why) in [
        ("GET /health HTTP/1.1\r\n\r\n", "no Host header"),
        (
            "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "more than one Host header",
        ),
    ] {
        let answer = raw(started.proxy_port, request.as_bytes());
        assert_eq!(status_of(&answer), "400", "{answer}");
        assert!(answer.contains(why), "{answer}");
    }
    // HTTP/1.0 may leave Host out.
    let old = raw(started.proxy_port, b"GET /health HTTP/1.0\r\n\r\n");
    assert_eq!(status_of(&old), "200", "{old}");
}

#[test]
fn the_bearer_scheme_is_case_insensitive() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "m", &[]);
    env.set_config_key("c", "api_key_env", json!("MUX_TEST_KEYS"));
    let started = env.start_with_env("c", port, &[("MUX_TEST_KEYS", "k1")]);
    let body = r#"{"model": "m", "messages": []}"#;
    for (auth, status) in [
        ("Bearer k1", "200"),
        ("bearer k1", "200"),
        ("BEARER  k1", "200"),
        ("Bearer k2", "401"),
        ("Basic k1", "401"),
        ("Bearerk1", "401"),
    ] {
        let request = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let answer = raw(port, request.as_bytes());
        assert_eq!(status_of(&answer), status, "{auth}: {answer}");
    }
    drop(started);
}

#[test]
fn a_body_for_a_route_of_the_proxy_is_never_read() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "m", &[]);
    env.set_config_key("c", "api_key_env", json!("MUX_TEST_KEYS"));
    let started = env.start_with_env("c", port, &[("MUX_TEST_KEYS", "k1")]);
    // 64 MiB announced and not sent: the answer comes at once, without
    // waiting for (or holding) the body, and the connection closes.
    for request in [
        "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n",
        "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n",
        "PUT /upstream/m/metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n",
        "GET /v1/models HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        let answer = raw(port, request.as_bytes());
        assert!(
            ["405", "401", "200"].contains(&status_of(&answer)),
            "{request:?}: {answer}"
        );
        assert!(answer.contains("connection: close\r\n"), "{answer}");
    }
    drop(started);
}

#[test]
fn a_model_name_with_a_newline_forges_no_log_line() {
    let env = Env::new();
    let port = env.init_fast_with("c", &["--log-requests"]);
    env.add_mock("c", "m", &[]);
    let started = env.start("c", port);
    let forged = "x\n2026-01-01T00:00:00.000Z model 'm': ready → stopped (forged)";
    let body = json!({"model": forged, "messages": []}).to_string();
    assert_eq!(started.chat_body(&body).status(), 404);
    let log = env.ok(&["--config", "c", "logs", "proxy", "-n", "1000"]);
    assert!(
        !log.lines()
            .any(|l| l.starts_with("2026-01-01T00:00:00.000Z")),
        "{log}"
    );
    assert!(log.contains(r"model 'x\n2026-01-01"), "escaped: {log}");
}

/// Write `len` bytes of a body on `stream` in 1 MiB pieces; stops at the
/// first write that fails or stalls.
fn send_body(stream: &mut TcpStream, len: usize) {
    let piece = vec![b' '; 1 << 20];
    let mut sent = 0;
    while sent < len {
        let n = piece.len().min(len - sent);
        if stream.write_all(&piece[..n]).is_err() {
            return;
        }
        sent += n;
    }
}

#[test]
fn the_bodies_in_flight_hold_a_bounded_amount_of_memory() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "m", &[]);
    env.set_config_key("c", "client_header_timeout_s", json!(4));
    let started = env.start("c", port);
    let supervisor = env.supervisor_pid("c").expect("a supervisor");
    let before = rss_kib(supervisor);
    // 16 clients each send 40 MiB of a 64 MiB body, then stall: 640 MiB,
    // far more than the 256 MiB that bodies in flight may hold.
    let (sent_tx, sent_rx) = std::sync::mpsc::channel();
    let clients: Vec<_> = (0..16)
        .map(|_| {
            let sent_tx = sent_tx.clone();
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
                let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
                let head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n";
                let _ = stream.write_all(head.as_bytes());
                send_body(&mut stream, 40 << 20);
                let _ = sent_tx.send(());
                let mut answer = Vec::new();
                let _ = stream.read_to_end(&mut answer);
                String::from_utf8_lossy(&answer).into_owned()
            })
        })
        .collect();
    for _ in 0..16 {
        sent_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("each client sent or stalled");
    }
    let peak = rss_kib(supervisor);
    // What the stalled bodies hold, as /metrics says while they wait.
    let held: u64 = started
        .metrics()
        .lines()
        .find_map(|l| l.strip_prefix("vllm_mux_request_body_bytes "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the body memory gauge");
    assert!(held <= 256 << 20, "bodies in flight hold {held} bytes");
    let answers: Vec<String> = clients
        .into_iter()
        .map(|c| c.join().expect("client"))
        .collect();
    // The allocator keeps some of what it freed (bodies refused half-way),
    // so the process grows by more than the budget, but far less than 640.
    let grown_mib = peak.saturating_sub(before) / 1024;
    assert!(
        grown_mib < 450,
        "the supervisor grew by {grown_mib} MiB holding partial bodies"
    );
    let busy = answers
        .iter()
        .filter(|a| a.starts_with("HTTP/1.1 503") && a.contains("proxy_busy"))
        .count();
    assert!(busy >= 1, "some were told to come back: {answers:?}");
    assert!(
        answers
            .iter()
            .filter(|a| a.starts_with("HTTP/1.1 503"))
            .all(|a| a.contains("retry-after: 5")),
        "{answers:?}"
    );
    // And the proxy serves on.
    assert_eq!(started.chat("m").status(), 200);
}

#[test]
fn an_announced_length_takes_no_memory_before_its_bytes_come() {
    // Under an address-space limit, reserving each announced 64 MiB up
    // front made an allocation fail, which aborts the supervisor and takes
    // every model with it.
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "m", &[]);
    let started = env.started("c", port);
    let limit_kib = 2 * 1024 * 1024;
    let run = std::process::Command::new("sh")
        .args([
            "-c",
            &format!("ulimit -v {limit_kib} && exec \"$0\" --config c start"),
            crate::helper::BIN,
        ])
        .env("VLLM_MUX_HOME", env.home())
        .env_remove("VLLM_MUX_CONFIG")
        .env_remove("VLLM_MUX_FAKE_GPUS")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("start");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let supervisor = env.supervisor_pid("c").expect("a supervisor");
    let streams: Vec<TcpStream> = (0..48)
        .filter_map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
            let head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n{";
            stream.write_all(head.as_bytes()).ok()?;
            Some(stream)
        })
        .collect();
    assert_eq!(streams.len(), 48);
    std::thread::sleep(Duration::from_millis(500));
    assert!(crate::helper::alive(supervisor), "the supervisor died");
    assert_eq!(started.chat("m").status(), 200);
    drop(streams);
}

/// Requests a mutation starts from: each is followed on its connection by
/// a request for `/smuggled`, which only the proxy may read (it answers it
/// itself): a backend that sees it was sent bytes past a request's end.
fn base_requests() -> Vec<Vec<u8>> {
    let body = r#"{"model": "m", "messages": []}"#;
    let smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    vec![
        format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}{smuggled}",
            body.len()
        ),
        format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n{smuggled}",
            body.len()
        ),
        format!(
            "GET /upstream/m/metrics HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{smuggled}",
            smuggled.len()
        ),
        format!("GET /upstream/m/v1/models HTTP/1.1\r\nHost: x\r\n\r\n{smuggled}"),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

/// One mutation: where, and what.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, u8),
    Insert(usize, &'static str),
    Delete(usize, usize),
}

fn apply(request: &mut Vec<u8>, mutation: &Mutation) {
    let len = request.len().max(1);
    match mutation {
        Mutation::Replace(at, byte) => {
            let at = at % len;
            if at < request.len() {
                request[at] = *byte;
            }
        }
        Mutation::Insert(at, text) => {
            let at = (at % len).min(request.len());
            request.splice(at..at, text.bytes());
        }
        Mutation::Delete(at, n) => {
            let at = (at % len).min(request.len());
            let end = (at + n).min(request.len());
            request.drain(at..end);
        }
    }
}

#[test]
fn mutated_requests_never_desync_a_backend_or_crash_the_proxy() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let env = Env::new();
    let (started, backend) = behind_naive(&env);
    let supervisor = env.supervisor_pid("c").expect("a supervisor");
    let interesting: &[u8] = b" \r\n:,;09aF\t\0";
    let mutation = prop_oneof![
        (any::<usize>(), proptest::sample::select(interesting))
            .prop_map(|(at, b)| Mutation::Replace(at, b)),
        (
            any::<usize>(),
            proptest::sample::select(vec![
                "Content-Length: 5\r\n",
                "Content-Length: 0\r\n",
                "Content-Length: 99999\r\n",
                "Transfer-Encoding: chunked\r\n",
                "Transfer-Encoding: gzip, chunked\r\n",
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                "Host: y\r\n",
                "\r\n",
                "0\r\n\r\n",
                "/../slots",
                "%2e%2e/",
                "Expect: 100-continue\r\n",
                "Connection: close\r\n",
            ]),
        )
            .prop_map(|(at, text)| Mutation::Insert(at, text)),
        (any::<usize>(), 1usize..8).prop_map(|(at, n)| Mutation::Delete(at, n)),
    ];
    let case = (
        proptest::sample::select(base_requests()),
        proptest::collection::vec(mutation, 1..4),
    );
    // The same 300 cases every run: a failure is seen again by running it again.
    let config = Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = proptest::test_runner::TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let port = started.proxy_port;
    let result = runner.run(&case, |(mut request, mutations)| {
        for m in &mutations {
            apply(&mut request, m);
        }
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = stream.write_all(&request);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        let status = answer.get(9..12).unwrap_or("");
        prop_assert!(
            answer.is_empty()
                || (answer.starts_with("HTTP/1.1 ") && status.bytes().all(|b| b.is_ascii_digit())),
            "{answer:?} for {:?}",
            String::from_utf8_lossy(&request)
        );
        prop_assert!(
            !answer.contains("HTTP/1.1 500"),
            "{answer:?} for {:?}",
            String::from_utf8_lossy(&request)
        );
        let seen = backend.seen();
        prop_assert!(
            !seen
                .iter()
                .any(|l| l.contains("smuggled") || l.contains("slots")),
            "the backend read {seen:?} after {:?}",
            String::from_utf8_lossy(&request)
        );
        prop_assert!(crate::helper::alive(supervisor));
        Ok(())
    });
    if let Err(err) = result {
        panic!("{err}");
    }
    // Enough of them were well-formed enough to reach the backend (with
    // these 300, about one in six) for the property to say something.
    assert!(
        backend.seen().len() > 30,
        "cases that reached the backend: {}",
        backend.seen().len()
    );
}
