//! The mock engine through the real binary: the OpenAI surface the proxy and
//! the supervisor tests rely on, and each knob.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helper::{free_port, http, wait_for, Child, Env};

struct Mock {
    child: Child,
    base: String,
    http: reqwest::blocking::Client,
}

fn start(extra: &[&str]) -> Mock {
    let env = Env::new();
    let port = free_port();
    let port_text = port.to_string();
    let mut args = vec![
        "mock-engine",
        "--port",
        &port_text,
        "--served-model-name",
        "m",
    ];
    args.extend_from_slice(extra);
    let child = env
        .command(&args)
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn mock-engine");
    let mock = Mock {
        child: Child(child),
        base: format!("http://127.0.0.1:{port}"),
        http: http(),
    };
    let up = wait_for(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "mock-engine did not open its port");
    mock
}

impl Mock {
    fn get(&self, path: &str) -> reqwest::blocking::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .expect("GET")
    }

    fn post(&self, path: &str, body: Value) -> reqwest::blocking::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .expect("POST")
    }
}

#[test]
fn health_models_and_chat() {
    let mock = start(&["--lora", "sql"]);
    assert_eq!(mock.get("/health").status(), 200);
    let models: Value = mock.get("/v1/models").json().expect("json");
    let ids = crate::helper::model_ids(&models);
    assert_eq!(ids, ["m", "sql"]);
    let reply: Value = mock
        .post("/v1/chat/completions", json!({"model": "m", "messages": [{"role": "user", "content": "hi there"}], "max_tokens": 3}))
        .json()
        .expect("json");
    assert_eq!(reply["object"], "chat.completion");
    assert_eq!(reply["choices"][0]["message"]["content"], "tok0 tok1 tok2 ");
    assert_eq!(
        reply["usage"],
        json!({"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5})
    );
    let lora: Value = mock
        .post("/v1/completions", json!({"model": "sql", "prompt": "x"}))
        .json()
        .expect("json");
    assert_eq!(lora["object"], "text_completion");
    assert_eq!(
        lora["choices"][0]["text"]
            .as_str()
            .map(|t| t.split_whitespace().count()),
        Some(16)
    );
}

#[test]
fn streaming_chat_sends_one_event_per_token_with_usage() {
    let mock = start(&["--tokens", "5"]);
    let body = mock
        .post("/v1/chat/completions", json!({"model": "m", "messages": [], "stream": true, "stream_options": {"include_usage": true}}))
        .text()
        .expect("text");
    let events: Vec<&str> = body.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(events.len(), 1 + 5 + 1 + 1 + 1, "{body}");
    assert_eq!(events.last().copied(), Some("data: [DONE]"));
    assert!(events[events.len() - 2].contains("\"completion_tokens\":5"));
}

#[test]
fn embeddings_are_deterministic() {
    let mock = start(&[]);
    let a: Value = mock
        .post(
            "/v1/embeddings",
            json!({"model": "m", "input": ["a b", "c"]}),
        )
        .json()
        .expect("json");
    let b: Value = mock
        .post(
            "/v1/embeddings",
            json!({"model": "m", "input": ["a b", "c"]}),
        )
        .json()
        .expect("json");
    assert_eq!(a["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(a["data"][0]["embedding"], b["data"][0]["embedding"]);
    assert_eq!(a["data"][0]["embedding"].as_array().map(Vec::len), Some(8));
}

#[test]
fn tokenize_and_detokenize_round_trip_in_bytes() {
    let mock = start(&[]);
    let tokens: Value = mock
        .post("/tokenize", json!({"model": "m", "prompt": "hé"}))
        .json()
        .expect("json");
    assert_eq!(tokens["count"], 3, "{tokens}");
    assert_eq!(tokens["tokens"], json!([104, 195, 169]));
    assert_eq!(tokens["max_model_len"], 4096);
    let chat: Value = mock
        .post(
            "/tokenize",
            json!({"model": "m", "messages": [{"role": "user", "content": "ab"}]}),
        )
        .json()
        .expect("json");
    assert_eq!(chat["tokens"], json!([97, 98]));
    let text: Value = mock
        .post(
            "/detokenize",
            json!({"model": "m", "tokens": tokens["tokens"]}),
        )
        .json()
        .expect("json");
    assert_eq!(text["prompt"], "hé");
    let bad = mock.post("/detokenize", json!({"model": "m", "tokens": [999]}));
    assert_eq!(bad.status(), 400);
    let bad = mock.post("/tokenize", json!({"model": "m"}));
    assert_eq!(bad.status(), 400);
    let unknown = mock.post("/tokenize", json!({"model": "x", "prompt": "a"}));
    assert_eq!(unknown.status(), 404);
}

#[test]
fn client_mistakes_get_openai_errors() {
    let mock = start(&[]);
    let unknown = mock.post(
        "/v1/chat/completions",
        json!({"model": "other", "messages": []}),
    );
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().expect("json");
    assert!(body["message"].as_str().unwrap_or("").contains("other"));
    let bad = mock
        .http
        .post(format!("{}/v1/completions", mock.base))
        .body("{not json")
        .send()
        .expect("POST");
    assert_eq!(bad.status(), 400);
}

#[test]
fn sleep_and_wake_up() {
    let mock = start(&[]);
    assert_eq!(
        mock.get("/is_sleeping").json::<Value>().expect("json"),
        json!({"is_sleeping": false})
    );
    assert_eq!(mock.post("/sleep", json!({})).status(), 200);
    assert_eq!(
        mock.get("/is_sleeping").json::<Value>().expect("json"),
        json!({"is_sleeping": true})
    );
    assert_eq!(
        mock.post("/v1/completions", json!({"model": "m", "prompt": "x"}))
            .status(),
        503
    );
    assert_eq!(mock.post("/wake_up", json!({})).status(), 200);
    assert_eq!(
        mock.post("/v1/completions", json!({"model": "m", "prompt": "x"}))
            .status(),
        200
    );
}

#[test]
fn failing_health_knob() {
    let mock = start(&["--fail-health"]);
    assert_eq!(mock.get("/health").status(), 503);
}

#[test]
fn startup_delay_keeps_the_port_closed() {
    let port = free_port();
    let env = Env::new();
    let started = Instant::now();
    let child = env
        .command(&[
            "mock-engine",
            "--port",
            &port.to_string(),
            "--served-model-name",
            "m",
            "--startup-delay-ms",
            "400",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let _child = Child(child);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port open before the delay"
    );
    assert!(wait_for(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    }));
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[test]
fn crash_after_n_requests() {
    let mut mock = start(&["--crash-after", "2"]);
    for _ in 0..2 {
        assert_eq!(
            mock.post("/v1/completions", json!({"model": "m", "prompt": "x"}))
                .status(),
            200
        );
    }
    let third = mock
        .http
        .post(format!("{}/v1/completions", mock.base))
        .json(&json!({"model": "m", "prompt": "x"}))
        .send();
    assert!(
        third.is_err(),
        "the third request must find the engine gone"
    );
    assert_eq!(mock.child.wait_timeout(Duration::from_secs(5)), Some(70));
}

#[test]
fn sigterm_stops_it_and_ignore_sigterm_does_not() {
    let mut polite = start(&[]);
    rustix::process::kill_process(pid(&polite.child), rustix::process::Signal::TERM).expect("kill");
    assert_eq!(polite.child.wait_timeout(Duration::from_secs(5)), Some(0));
    let mut stubborn = start(&["--ignore-sigterm"]);
    rustix::process::kill_process(pid(&stubborn.child), rustix::process::Signal::TERM)
        .expect("kill");
    assert_eq!(
        stubborn.child.wait_timeout(Duration::from_millis(500)),
        None,
        "it must ignore SIGTERM"
    );
    assert_eq!(stubborn.get("/health").status(), 200);
}

#[test]
fn vllm_flags_after_the_separator_are_ignored() {
    let mock = start(&["--", "--max-model-len", "8192", "--enable-prefix-caching"]);
    assert_eq!(mock.get("/health").status(), 200);
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    let env = Env::new();
    let stderr = env.fails(
        &["mock-engine", "--port", &port, "--served-model-name", "m"],
        1,
    );
    assert!(stderr.contains("cannot listen"), "{stderr}");
}

fn pid(child: &Child) -> rustix::process::Pid {
    rustix::process::Pid::from_raw(child.pid() as i32).expect("a pid")
}
