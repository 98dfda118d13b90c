//! The proxy through the real binary: errors in OpenAI's shape, keys,
//! metrics, CORS, request logs, queueing, timeouts and broken streams.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helper::{http, kill, raw, Env, Started};

/// The status, and the error object of an OpenAI error body.
fn openai_error(response: reqwest::blocking::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().expect("an error body is JSON");
    let error = body["error"].clone();
    assert!(
        error["message"].is_string() && error["type"].is_string() && error["code"].is_string(),
        "{body}"
    );
    (status, error)
}

fn one_model(extra: &[&str]) -> (Env, u16) {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "m", extra);
    (env, port)
}

#[test]
fn client_mistakes_get_openai_errors_and_never_a_500() {
    let (env, port) = one_model(&["--alias", "alias-of-m"]);
    let started = env.start("c", port);
    let (status, error) = openai_error(started.chat_body("{not json"));
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("invalid_json"))
    );
    let (status, error) = openai_error(started.chat_body(r#"{"messages": []}"#));
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("missing_model"))
    );
    // Valid JSON that is not a request says so, rather than "not JSON".
    let (status, error) = openai_error(started.chat_body(r#"{"model": 42}"#));
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("invalid_request_body"))
    );
    let message = error["message"].as_str().unwrap_or("");
    assert!(message.contains("\"model\" must be a string"), "{message}");
    for body in [r#"["m", true]"#, "42", r#""m""#] {
        let (status, error) = openai_error(started.chat_body(body));
        assert_eq!(
            (status, error["code"].as_str()),
            (400, Some("invalid_request_body")),
            "{body}"
        );
        let message = error["message"].as_str().unwrap_or("");
        assert!(
            message.contains("must be a JSON object"),
            "{body}: {message}"
        );
    }
    let (status, _) = openai_error(started.chat_body("\u{0}\u{1}"));
    assert_eq!(status, 400);
    let (status, error) = openai_error(started.chat_body(r#"{"model": "gpt-5"}"#));
    assert_eq!(
        (status, error["code"].as_str()),
        (404, Some("model_not_found"))
    );
    let message = error["message"].as_str().unwrap_or("");
    assert!(
        message.contains("gpt-5") && message.contains("m, alias-of-m"),
        "{message}"
    );
    let (status, _) = openai_error(
        http()
            .post(started.url("/v2/whatever"))
            .body("{}")
            .send()
            .expect("request"),
    );
    assert_eq!(status, 404);
    let (status, error) = openai_error(
        http()
            .get(started.url("/v1/chat/completions"))
            .send()
            .expect("request"),
    );
    assert_eq!(
        (status, error["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
    let long = format!(r#"{{"model": "{}"}}"#, "x".repeat(100_000));
    let (status, _) = openai_error(started.chat_body(&long));
    assert_eq!(status, 404, "a very long model name is just unknown");
    // Still serving everyone else.
    assert_eq!(
        started
            .chat_body(r#"{"model": "alias-of-m", "messages": []}"#)
            .status(),
        200
    );
}

#[test]
fn vllm_apis_outside_v1_are_routed_by_model_too() {
    let (env, port) = one_model(&["--alias", "alias"]);
    let started = env.start("c", port);
    let call = |path: &str, body: Value| {
        http()
            .post(started.url(path))
            .json(&body)
            .send()
            .expect("request")
    };
    // By alias: rewritten to the served name, as on /v1/*.
    let tokens: Value = call("/tokenize", json!({"model": "alias", "prompt": "hi"}))
        .json()
        .expect("json");
    assert_eq!(tokens["tokens"], json!([104, 105]), "{tokens}");
    let text: Value = call("/detokenize", json!({"model": "m", "tokens": [104, 105]}))
        .json()
        .expect("json");
    assert_eq!(text["prompt"], "hi");
    // The server's bare 404 for a path it has no route for (the mock,
    // as vLLM, has no /score for this model, and says {"detail":"Not
    // Found"}) becomes an OpenAI error that names the model and the path.
    for path in ["/score", "/v1/audio/transcriptions"] {
        let (status, error) = openai_error(call(path, json!({"model": "alias", "text_1": "a"})));
        assert_eq!(
            (status, error["code"].as_str()),
            (404, Some("unknown_url")),
            "{path}: {error}"
        );
        let message = error["message"].as_str().unwrap_or("");
        assert!(
            message.contains(&format!("model 'm' does not serve POST {path}")),
            "{message}"
        );
    }
    // And the connection it came on serves on.
    assert_eq!(started.chat("m").status(), 200);
    // The proxy's own rules hold there too.
    let (status, error) = openai_error(call("/tokenize", json!({"prompt": "hi"})));
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("missing_model"))
    );
    let (status, error) = openai_error(call("/rerank", json!({"model": "nope"})));
    assert_eq!(
        (status, error["code"].as_str()),
        (404, Some("model_not_found"))
    );
    let log = env.ok(&["--config", "c", "logs", "m"]);
    assert!(log.contains("POST /tokenize model=m"), "{log}");
}

#[test]
fn a_body_over_the_limit_is_413_without_reading_it() {
    let (env, port) = one_model(&[]);
    let _started = env.start("c", port);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    stream
        .write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n{")
        .expect("write");
    let mut answer = vec![0u8; 4096];
    let n = stream.read(&mut answer).expect("an answer before the body");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("body_too_large"), "{answer}");
}

#[test]
fn api_keys_are_required_when_configured() {
    let (env, port) = one_model(&[]);
    env.set_config_key("c", "api_key_env", json!("MUX_TEST_KEYS"));
    let started = env.started("c", port);
    let stderr = env.fails(&["--config", "c", "start"], 2);
    assert!(
        stderr.contains("MUX_TEST_KEYS"),
        "an unset key variable is refused: {stderr}"
    );
    let run = env
        .command(&["--config", "c", "start"])
        .env("MUX_TEST_KEYS", "k1, k2")
        .output()
        .expect("start");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let body = r#"{"model": "m", "messages": []}"#;
    let send = |key: Option<&str>| {
        let mut request = http()
            .post(started.url("/v1/chat/completions"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send().expect("request")
    };
    let (status, error) = openai_error(send(None));
    assert_eq!(
        (status, error["code"].as_str()),
        (401, Some("invalid_api_key"))
    );
    assert_eq!(send(Some("k3")).status(), 401);
    // Refused before its body is read: the connection closes, so the body
    // is never taken for a next request.
    let refused = raw(
        port,
        format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}GET /health HTTP/1.1\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    assert!(
        refused.starts_with("HTTP/1.1 401") && refused.contains("connection: close\r\n"),
        "{refused}"
    );
    assert!(!refused.contains("HTTP/1.1 200"), "{refused}");
    assert_eq!(send(Some("k1")).status(), 200);
    assert_eq!(send(Some("k2")).status(), 200);
    for path in ["/v1/models", "/v1/models/m", "/upstream/m/health"] {
        assert_eq!(
            http()
                .get(started.url(path))
                .send()
                .expect("models")
                .status(),
            401,
            "{path}"
        );
    }
    // Scrapes and load balancers' checks need no key.
    for path in ["/metrics", "/health"] {
        let open = http().get(started.url(path)).send().expect("request");
        assert_eq!(open.status(), 200, "{path}");
    }
    let with_key = http()
        .get(started.url("/upstream/m/health"))
        .bearer_auth("k2")
        .send()
        .expect("upstream");
    assert_eq!(with_key.status(), 200);
}

#[test]
fn a_models_own_server_is_reached_through_upstream() {
    let replica = crate::helper::free_port().to_string();
    let (env, port) = one_model(&[
        "--alias",
        "al",
        "--alias",
        "Org/M",
        "--replica",
        &format!(":{replica}"),
    ]);
    let started = env.start("c", port);
    let get = |path: &str| http().get(started.url(path)).send().expect("request");
    // An empty answer says so, so the client does not wait for a close.
    let health = get("/upstream/m/health");
    assert_eq!(health.status(), 200);
    assert_eq!(
        health
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok()),
        Some("0")
    );
    // The engine's own model list (the proxy's says owned_by vllm-mux).
    let models: Value = get("/upstream/al/v1/models").json().expect("json");
    assert_eq!(models["data"][0]["id"], "m", "{models}");
    assert_eq!(
        get("/upstream/Org%2FM/health").status(),
        200,
        "an alias with a slash, encoded"
    );
    assert_eq!(models["data"][0]["owned_by"], "vllm-mux-mock", "{models}");
    // One copy by its id: put the replica to sleep behind the proxy's back.
    let direct = http()
        .post(format!("http://127.0.0.1:{replica}/sleep"))
        .send()
        .expect("sleep");
    assert_eq!(direct.status(), 200);
    let sleeping = |id: &str| {
        let answer: Value = get(&format!("/upstream/{id}/is_sleeping"))
            .json()
            .expect("json");
        answer["is_sleeping"].as_bool()
    };
    assert_eq!(sleeping("m@1"), Some(true), "the replica");
    assert_eq!(sleeping("m"), Some(false), "the first copy, by its id");
    // Read only: what changes an engine for every client stays behind 127.0.0.1.
    for (method, path) in [
        (reqwest::Method::POST, "/upstream/m@1/wake_up"),
        (reqwest::Method::DELETE, "/upstream/m/x"),
    ] {
        let answer = http()
            .request(method, started.url(path))
            .json(&json!({}))
            .send()
            .expect("request");
        let (status, error) = openai_error(answer);
        assert_eq!(
            (status, error["code"].as_str()),
            (405, Some("method_not_allowed")),
            "{path}"
        );
    }
    assert_eq!(sleeping("m@1"), Some(true), "not woken through the proxy");
    // Not model requests: the model's counters stay at zero.
    let status = started.status();
    for model in status["models"].as_array().expect("models") {
        assert_eq!(model["requests"], 0, "{model}");
    }
    // Status pages only: a server may show more than clients should see.
    let (status, error) = openai_error(get("/upstream/m/slots"));
    assert_eq!((status, error["code"].as_str()), (404, Some("unknown_url")));
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("only these are read: /metrics, /health"),
        "{error}"
    );
    let (status, error) = openai_error(get("/upstream/nope/metrics"));
    assert_eq!(
        (status, error["code"].as_str()),
        (404, Some("model_not_found"))
    );
    let (status, error) = openai_error(get("/upstream/"));
    assert_eq!((status, error["code"].as_str()), (404, Some("unknown_url")));
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("/upstream/MODEL/PATH"),
        "{error}"
    );
}

#[test]
fn models_are_listed_and_retrieved_by_id_as_openai_does() {
    let (env, port) = one_model(&["--alias", "alias-of-m", "--alias", "Org/Model-7B"]);
    let started = env.start("c", port);
    let get = |path: &str| http().get(started.url(path)).send().expect("request");
    for (path_id, id, root) in [
        ("m", "m", "m"),
        ("alias-of-m", "alias-of-m", "m"),
        ("Org/Model-7B", "Org/Model-7B", "m"),
        // Clients that encode the id.
        ("Org%2FModel-7B", "Org/Model-7B", "m"),
    ] {
        let response = get(&format!("/v1/models/{path_id}"));
        assert_eq!(response.status(), 200, "{path_id}");
        let model: Value = response.json().expect("json");
        assert_eq!(model["id"], id);
        assert_eq!(model["object"], "model");
        assert_eq!(model["owned_by"], "vllm-mux");
        assert_eq!(model["root"], root);
    }
    let (status, error) = openai_error(get("/v1/models/gpt-5"));
    assert_eq!(
        (status, error["code"].as_str()),
        (404, Some("model_not_found"))
    );
    let message = error["message"].as_str().unwrap_or("");
    assert!(message.contains("m, alias-of-m"), "{message}");
    let (status, _) = openai_error(get("/v1/models/%ZZ"));
    assert_eq!(status, 404, "a bad escape is just an unknown id");
    // The context length the engine reports (vLLM's list has it), asked
    // for in the background once the model is ready.
    let lens = || -> Vec<Value> {
        let list: Value = get("/v1/models").json().expect("json");
        list["data"]
            .as_array()
            .map(|models| models.iter().map(|m| m["max_model_len"].clone()).collect())
            .unwrap_or_default()
    };
    assert!(
        crate::helper::wait_for(Duration::from_secs(5), || lens()
            .iter()
            .all(|len| *len == json!(4096))),
        "{:?}",
        lens()
    );
    let one: Value = get("/v1/models/Org%2FModel-7B").json().expect("json");
    assert_eq!(one["max_model_len"], 4096);
}

#[test]
fn metrics_count_what_status_shows() {
    let (env, port) = one_model(&[]);
    let started = env.start("c", port);
    for _ in 0..3 {
        assert_eq!(
            started
                .chat_body(r#"{"model": "m", "messages": []}"#)
                .status(),
            200
        );
    }
    assert_eq!(started.chat_body(r#"{"model": "nope"}"#).status(), 404);
    let text = started.metrics();
    for line in [
        "vllm_mux_requests_total{model=\"m\",status=\"200\"} 3",
        "vllm_mux_requests_total{model=\"_unrouted\",status=\"404\"} 1",
        "vllm_mux_requests_in_flight{model=\"m\"} 0",
        "vllm_mux_request_duration_seconds_count{model=\"m\"} 3",
        "vllm_mux_time_to_first_byte_seconds_count{model=\"m\"} 3",
        "vllm_mux_backend_up{model=\"m\"} 1",
    ] {
        assert!(text.contains(line), "/metrics lacks {line}:\n{text}");
    }
    let status = started.status();
    assert_eq!(Started::model(&status, "m")["requests"], 3);
    assert_eq!(Started::model(&status, "m")["errors"], 0);
}

#[test]
fn metrics_and_cors_can_be_turned_off() {
    let env = Env::new();
    let port = env.init_fast_with("c", &["--no-metrics", "--no-cors"]);
    env.add_mock("c", "m", &[]);
    let started = env.start("c", port);
    assert_eq!(
        http()
            .get(started.url("/metrics"))
            .send()
            .expect("metrics")
            .status(),
        404
    );
    let preflight = http()
        .request(
            reqwest::Method::OPTIONS,
            started.url("/v1/chat/completions"),
        )
        .header("origin", "http://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .expect("preflight");
    assert!(preflight
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[test]
fn cors_answers_browsers() {
    let (env, port) = one_model(&[]);
    let started = env.start("c", port);
    let preflight = http()
        .request(
            reqwest::Method::OPTIONS,
            started.url("/v1/chat/completions"),
        )
        .header("origin", "http://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .expect("preflight");
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("*")
    );
    let answer = http()
        .post(started.url("/v1/chat/completions"))
        .header("origin", "http://app.example")
        .json(&json!({"model": "m", "messages": []}))
        .send()
        .expect("post");
    assert_eq!(
        answer
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("*")
    );
}

#[test]
fn log_requests_writes_one_line_per_request() {
    let env = Env::new();
    let port = env.init_fast_with("c", &["--log-requests"]);
    env.add_mock("c", "m", &[]);
    let started = env.start("c", port);
    assert_eq!(
        started
            .chat_body(r#"{"model": "m", "messages": [], "stream": true}"#)
            .status(),
        200
    );
    assert_eq!(started.chat_body(r#"{"model": "zzz"}"#).status(), 404);
    let log = env.ok(&["--config", "c", "logs", "proxy"]);
    assert!(
        log.contains("request model=m path=/v1/chat/completions status=200 stream=true"),
        "{log}"
    );
    assert!(log.contains("bytes_out="), "{log}");
    assert!(
        log.contains("request model=_unrouted path=/v1/chat/completions status=404"),
        "{log}"
    );
}

#[test]
fn a_request_for_a_starting_model_waits_for_it() {
    let (env, port) = one_model(&["--set", "startup_delay_ms=1500"]);
    let started = env.started("c", port);
    env.ok(&["--config", "c", "start", "--no-wait"]);
    let begun = Instant::now();
    let answer = started.chat_body(r#"{"model": "m", "messages": []}"#);
    assert_eq!(answer.status(), 200, "queued until ready");
    assert!(begun.elapsed() >= Duration::from_millis(500), "it did wait");
}

#[test]
fn without_a_queue_a_starting_model_is_503_with_retry_after() {
    let (env, port) = one_model(&["--set", "startup_delay_ms=3000"]);
    env.set_config_key("c", "queue_timeout_s", json!(0));
    let started = env.started("c", port);
    env.ok(&["--config", "c", "start", "--no-wait"]);
    let answer = started.chat_body(r#"{"model": "m", "messages": []}"#);
    assert_eq!(
        answer
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    let (status, error) = openai_error(answer);
    assert_eq!(
        (status, error["code"].as_str()),
        (503, Some("model_not_ready"))
    );
    assert!(error["message"].as_str().unwrap_or("").contains("starting"));
}

#[test]
fn a_backend_that_hangs_is_504_after_the_timeout() {
    let (env, port) = one_model(&["--set", "tokens=50", "--set", "token_delay_ms=100"]);
    env.set_config_key("c", "backend_timeout_s", json!(1));
    let started = env.start("c", port);
    let begun = Instant::now();
    let (status, error) = openai_error(started.chat_body(r#"{"model": "m", "messages": []}"#));
    assert_eq!(
        (status, error["code"].as_str()),
        (504, Some("backend_timeout"))
    );
    assert!(
        begun.elapsed() < Duration::from_secs(4),
        "{:?}",
        begun.elapsed()
    );
    assert_eq!(Started::model(&started.status(), "m")["errors"], 1);
    // Counted once: by the request's record, not again as an error answer.
    let metrics = started.metrics();
    assert!(
        metrics.contains("vllm_mux_requests_total{model=\"m\",status=\"504\"} 1\n"),
        "{metrics}"
    );
}

#[test]
fn a_backend_killed_mid_stream_ends_the_stream_with_an_error_event() {
    let (env, port) = one_model(&["--set", "tokens=200", "--set", "token_delay_ms=50"]);
    let started = env.start("c", port);
    let mut answer = started.chat_body(r#"{"model": "m", "messages": [], "stream": true}"#);
    assert_eq!(answer.status(), 200);
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&received).contains("tok2 ") {
        let n = answer.read(&mut buf).expect("read");
        assert!(n > 0, "the stream ended early");
        received.extend_from_slice(&buf[..n]);
    }
    let engine = started.engine_pid("m");
    kill("-9", engine);
    let begun = Instant::now();
    let _ = answer.read_to_end(&mut received);
    assert!(
        begun.elapsed() < Duration::from_secs(5),
        "no hang: {:?}",
        begun.elapsed()
    );
    let text = String::from_utf8_lossy(&received);
    let last = text.trim_end().rsplit("\n\n").next().unwrap_or("");
    assert!(
        last.starts_with("data: {\"error\"") && last.contains("backend_stream_error"),
        "{last}"
    );
    assert!(!text.contains("[DONE]"));
}

#[test]
fn streams_pass_every_event_through_with_no_buffering_header() {
    let (env, port) = one_model(&["--set", "tokens=32"]);
    let started = env.start("c", port);
    let body = r#"{"model": "m", "messages": [], "stream": true, "stream_options": {"include_usage": true}}"#;
    let answer = started.chat_body(body);
    assert_eq!(
        answer
            .headers()
            .get("x-accel-buffering")
            .and_then(|v| v.to_str().ok()),
        Some("no")
    );
    assert_eq!(
        answer
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let via_proxy = answer.text().expect("text");
    let status = started.status();
    let direct_port = Started::model(&status, "m")["port"].as_u64().expect("port");
    let direct = http()
        .post(format!(
            "http://127.0.0.1:{direct_port}/v1/chat/completions"
        ))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .expect("direct")
        .text()
        .expect("text");
    let events = |t: &str| t.split("\n\n").filter(|e| !e.is_empty()).count();
    assert_eq!(events(&via_proxy), 1 + 32 + 1 + 1 + 1);
    assert_eq!(events(&via_proxy), events(&direct));
}

#[test]
fn a_client_that_goes_away_ends_the_request() {
    let (env, port) = one_model(&["--set", "tokens=1000", "--set", "token_delay_ms=50"]);
    let started = env.start("c", port);
    let mut answer = started.chat_body(r#"{"model": "m", "messages": [], "stream": true}"#);
    let mut buf = [0u8; 1024];
    assert!(answer.read(&mut buf).expect("read") > 0);
    assert_eq!(Started::model(&started.status(), "m")["in_flight"], 1);
    drop(answer);
    let ended = crate::helper::wait_for(Duration::from_secs(5), || {
        Started::model(&started.status(), "m")["in_flight"] == 0
    });
    assert!(
        ended,
        "the proxy kept the upstream request after the client left"
    );
}

#[test]
fn a_client_that_leaves_before_the_answer_ends_the_request() {
    let (env, port) = one_model(&["--set", "tokens=1000", "--set", "token_delay_ms=50"]);
    let started = env.start("c", port);
    let body = r#"{"model": "m", "messages": []}"#;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("request");
    let waiting = crate::helper::wait_for(Duration::from_secs(5), || {
        Started::model(&started.status(), "m")["in_flight"] == 1
    });
    assert!(waiting, "the request reached the model");
    drop(stream);
    let ended = crate::helper::wait_for(Duration::from_secs(5), || {
        Started::model(&started.status(), "m")["in_flight"] == 0
    });
    assert!(ended, "the proxy kept waiting for a client that left");
    let metrics = started.metrics();
    assert!(
        metrics.contains("vllm_mux_requests_total{model=\"m\",status=\"499\"} 1"),
        "counted as nginx's 499: {metrics}"
    );
}

#[test]
fn malformed_requests_at_the_door_get_4xx_and_others_are_served() {
    let (env, port) = one_model(&[]);
    let started = env.start("c", port);
    // Content-Length and Transfer-Encoding together: chunked wins, the
    // connection closes, and the smuggled second request is never served.
    let smuggled = raw(
        port,
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert!(smuggled.starts_with("HTTP/1.1 400"), "{smuggled}");
    assert_eq!(
        smuggled.matches("HTTP/1.1").count(),
        1,
        "only one answer: {smuggled}"
    );
    let twice = raw(port, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\n{}{}");
    assert!(twice.starts_with("HTTP/1.1 400"), "{twice}");
    let not_utf8 = raw(port, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n\xff\xfe");
    assert!(
        not_utf8.starts_with("HTTP/1.1 400") && not_utf8.contains("invalid_json"),
        "{not_utf8}"
    );
    assert_eq!(
        started
            .chat_body(r#"{"model": "m", "messages": []}"#)
            .status(),
        200
    );
}

#[test]
fn a_client_that_stalls_in_its_headers_is_cut_off_and_others_are_served() {
    let (env, port) = one_model(&[]);
    env.set_config_key("c", "client_header_timeout_s", json!(1));
    let started = env.start("c", port);
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    slow.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    slow.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        .expect("half the headers");
    let begun = Instant::now();
    assert_eq!(
        started
            .chat_body(r#"{"model": "m", "messages": []}"#)
            .status(),
        200,
        "others are served meanwhile"
    );
    let mut answer = Vec::new();
    let _ = slow.read_to_end(&mut answer);
    let waited = begun.elapsed();
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(4),
        "closed after {waited:?}"
    );
}

#[test]
fn a_thousand_concurrent_streams_over_three_models_all_complete() {
    let env = Env::new();
    let port = env.init_fast("c");
    for name in ["a", "b", "c"] {
        env.add_mock(
            "c",
            name,
            &["--set", "tokens=8", "--set", "token_delay_ms=20"],
        );
    }
    let started = env.start("c", port);
    let supervisor = env.supervisor_pid("c").expect("pid");
    let rss = || crate::helper::rss_kib(supervisor);
    let idle = rss();
    let url = started.url("/v1/chat/completions");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (results, peak) = runtime.block_on(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let tasks: Vec<_> = (0..1000)
            .map(|i| {
                let (client, url) = (client.clone(), url.clone());
                let model = ["a", "b", "c"][i % 3];
                tokio::spawn(async move {
                    let body = json!({"model": model, "messages": [], "stream": true});
                    let text = client.post(url).json(&body).send().await?.text().await?;
                    Ok::<usize, reqwest::Error>(
                        text.split("\n\n").filter(|e| !e.is_empty()).count(),
                    )
                })
            })
            .collect();
        // Sample the supervisor's memory while the streams run.
        let mut peak = 0;
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(25)).await;
            peak = peak.max(rss());
        }
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("task"));
        }
        (results, peak)
    });
    let events: Vec<usize> = results
        .into_iter()
        .map(|r| r.expect("every stream completes"))
        .collect();
    // Role chunk, 8 tokens, the finish chunk, [DONE].
    assert!(
        events.iter().all(|n| *n == 1 + 8 + 1 + 1),
        "chunk counts: {:?}",
        &events[..10]
    );
    let status = started.status();
    for name in ["a", "b", "c"] {
        assert_eq!(Started::model(&status, name)["errors"], 0);
    }
    println!("supervisor RSS: idle {idle} KiB, peak with 1000 streams {peak} KiB");
    assert!(peak < 200 * 1024, "memory stays bounded: {peak} KiB");
}

#[test]
fn a_backend_gets_its_own_key_and_never_the_clients() {
    // A server run elsewhere that wants a key, the same one clients use
    // for the proxy: it must still not get the client's.
    let far_port = crate::helper::free_port();
    let _far = crate::helper::remote_mock(far_port, "far", &["--api-key", "k1"]);
    let (env, port) = one_model(&["--backend-api-key-env", "MUX_TEST_BACKEND_KEY"]);
    env.add_remote("c", "far", far_port, &[]);
    env.set_config_key("c", "api_key_env", json!("MUX_TEST_KEYS"));
    let started = env.started("c", port);
    let start = |backend_key: Option<&str>| {
        let mut command = env.command(&["--config", "c", "start"]);
        command.env("MUX_TEST_KEYS", "k1");
        if let Some(key) = backend_key {
            command.env("MUX_TEST_BACKEND_KEY", key);
        }
        crate::helper::Run::from(command.output().expect("start"))
    };
    let refused = start(None);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("model 'm': backend_api_key_env names $MUX_TEST_BACKEND_KEY"),
        "{}",
        refused.stderr
    );
    let run = start(Some("b-secret"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let send = |model: &str| {
        http()
            .post(started.url("/v1/chat/completions"))
            .bearer_auth("k1")
            .json(&json!({"model": model, "messages": []}))
            .send()
            .expect("request")
    };
    // The engine was started wanting the key, and the proxy sends it.
    assert_eq!(send("m").status(), 200);
    let model_port = Started::model(&started.status(), "m")["port"].clone();
    let direct = http()
        .post(format!("http://127.0.0.1:{model_port}/v1/chat/completions"))
        .json(&json!({"model": "m", "messages": []}))
        .send()
        .expect("direct");
    assert_eq!(direct.status(), 401, "the engine wants its key");
    // The client's key went no further than the proxy: the far server,
    // which would take it, got none and said so.
    let answer = send("far");
    assert_eq!(answer.status(), 401);
    let body: Value = answer.json().expect("json");
    assert_eq!(
        body,
        json!({"error": "Unauthorized"}),
        "the backend's own answer"
    );
    let show = env.ok(&["--config", "c", "show"]);
    assert!(show.contains("m from $MUX_TEST_BACKEND_KEY"), "{show}");
    // The key is no change: a reload leaves the model running.
    let summary = env.run(&["--config", "c", "--json", "reload"]).json();
    assert_eq!(summary["unchanged"], json!(["m", "far"]), "{summary}");
    // A key the supervisor's environment lacks is refused before anything changes.
    env.ok(&[
        "--config",
        "c",
        "edit-model",
        "far",
        "--backend-api-key-env",
        "MUX_TEST_NOT_THERE",
    ]);
    let refused = env.run(&["--config", "c", "reload"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("$MUX_TEST_NOT_THERE"),
        "{}",
        refused.stderr
    );
    assert_eq!(send("m").status(), 200, "the rest kept serving");
}

#[test]
fn upstream_reads_an_unhealthy_copy_that_takes_no_requests() {
    let far_port = crate::helper::free_port();
    let _far = crate::helper::remote_mock(far_port, "far", &[]);
    let env = Env::new();
    let port = env.init_fast("c");
    // Its health path answers 404: up, but unhealthy.
    env.add_remote("c", "far", far_port, &["--health-path", "/nope"]);
    let started = env.started("c", port);
    env.run(&["--config", "c", "start"]);
    assert!(
        crate::helper::wait_for(Duration::from_secs(5), || {
            Started::model(&started.status(), "far")["state"] == "unhealthy"
        }),
        "{}",
        started.status()
    );
    let (status, _) = openai_error(started.chat_body(r#"{"model": "far", "messages": []}"#));
    assert_eq!(status, 503, "no requests for an unhealthy copy");
    let models = http()
        .get(started.url("/upstream/far/v1/models"))
        .send()
        .expect("upstream");
    assert_eq!(models.status(), 200, "but its own endpoints can be read");
}
