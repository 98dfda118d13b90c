//! Models with an idle timeout: their server stops when no request came for
//! that long, and the next request starts it again and waits for it.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helper::{alive, http, Env, Started};

/// One mock model `m` with an idle timeout of `secs`, plus `extra` flags.
fn idling(secs: &str, extra: &[&str]) -> (Env, u16) {
    let env = Env::new();
    let port = env.init_fast("c");
    let mut args = vec!["--idle-timeout", secs];
    args.extend_from_slice(extra);
    env.add_mock("c", "m", &args);
    (env, port)
}

fn model_log(env: &Env) -> String {
    env.ok(&["--config", "c", "logs", "m", "-n", "200"])
}

#[test]
fn an_idle_server_is_stopped_and_the_next_request_starts_it_and_waits() {
    let (env, port) = idling("1", &["--set", "startup_delay_ms=800"]);
    // No queue for models started with the others: the wait below is the
    // on-demand one, as long as the load takes.
    env.set_config_key("c", "queue_timeout_s", json!(0));
    let started = env.start("c", port);
    let guard = Started::model(&started.status(), "m")["pid"]
        .as_u64()
        .expect("pid") as u32;
    let engine = started.engine_pid("m");

    started.wait_state("m", "idle", Duration::from_secs(10));
    // Marked idle first, then its server is stopped: the pid goes with it.
    assert!(
        crate::helper::wait_for(Duration::from_secs(5), || {
            Started::model(&started.status(), "m")["pid"] == Value::Null
        }),
        "an idle model without a server has no pid"
    );
    // Someone reading status at 3 a.m. is told why it is not ready.
    let why = "no requests for 1 s, its idle_timeout_s; the next one starts it";
    assert_eq!(Started::model(&started.status(), "m")["detail"], why);
    let table = env.ok(&["--config", "c", "status"]);
    assert!(
        table.contains(&format!("why not ready:\n  m  idle: {why}")),
        "{table}"
    );
    assert!(
        crate::helper::wait_for(Duration::from_secs(5), || !alive(guard) && !alive(engine)),
        "the idle model's server is still running"
    );
    // Idle is not down: a request would be served.
    let health = http().get(started.url("/health")).send().expect("health");
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().expect("json")["models"]["m"], "idle");
    // Alerts can tell idle from down.
    let metrics = started.metrics();
    for line in [
        "vllm_mux_model_state{model=\"m\",state=\"idle\"} 1",
        "vllm_mux_model_state{model=\"m\",state=\"ready\"} 0",
        "vllm_mux_backend_up{model=\"m\"} 0",
        "vllm_mux_model_load_seconds_count{model=\"m\",kind=\"load\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} not in:\n{metrics}");
    }

    let begun = Instant::now();
    let answer = started.chat_body(r#"{"model": "m", "messages": []}"#);
    assert_eq!(answer.status(), 200, "the request waited for the load");
    assert!(
        begun.elapsed() >= Duration::from_millis(800),
        "it was started by the request"
    );
    let status = started.status();
    let m = Started::model(&status, "m");
    assert_eq!(m["state"], "ready");
    assert_eq!(
        (m["requests"].as_u64(), m["errors"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(m["restarts"], 0, "going idle is no crash");
    assert_ne!(m["pid"].as_u64(), Some(u64::from(guard)), "a new server");
    // Each load is counted, with how long it took: what to weigh an idle
    // timeout against.
    let metrics = started.metrics();
    let loads = "vllm_mux_model_load_seconds_count{model=\"m\",kind=\"load\"} 2";
    assert!(metrics.contains(loads), "{loads} not in:\n{metrics}");
    let log = model_log(&env);
    for line in [
        "ready → idle (no requests for 1 s",
        "a request for it came while idle: starting it",
        "idle → starting",
    ] {
        assert!(log.contains(line), "{line:?} not in:\n{log}");
    }

    // Reading a server's status page never wakes it: a scraper would keep
    // it loaded for good.
    started.wait_state("m", "idle", Duration::from_secs(10));
    let page = http()
        .get(started.url("/upstream/m/metrics"))
        .send()
        .expect("upstream");
    assert_eq!(page.status(), 503);
    let error = page.json::<Value>().expect("json")["error"].clone();
    assert!(
        error["message"].as_str().is_some_and(
            |m| m.contains("is idle") && m.contains("a request for the model starts it")
        ),
        "{error}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(Started::model(&started.status(), "m")["state"], "idle");
}

#[test]
fn a_stream_longer_than_the_idle_timeout_keeps_its_server() {
    // 25 tokens 100 ms apart: the stream outlasts the 1 s timeout twice.
    let (env, port) = idling("1", &["--set", "tokens=25", "--set", "token_delay_ms=100"]);
    let started = env.start("c", port);
    let pid = Started::model(&started.status(), "m")["pid"].as_u64();
    let text = started
        .chat_body(r#"{"model": "m", "messages": [], "stream": true}"#)
        .text()
        .expect("the whole stream");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    let status = started.status();
    let m = Started::model(&status, "m");
    assert_eq!(
        (m["state"].as_str(), m["pid"].as_u64()),
        (Some("ready"), pid)
    );
    assert!(
        !model_log(&env).contains("→ idle"),
        "stopped under a stream"
    );
}

#[test]
fn start_model_wakes_an_idle_model_and_stop_keeps_it_stopped() {
    let (env, port) = idling("1", &[]);
    let started = env.start("c", port);
    started.wait_state("m", "idle", Duration::from_secs(10));
    env.ok(&["--config", "c", "start-model", "m"]);
    assert_eq!(Started::model(&started.status(), "m")["state"], "ready");
    started.wait_state("m", "idle", Duration::from_secs(10));
    env.ok(&["--config", "c", "stop", "m"]);
    assert_eq!(Started::model(&started.status(), "m")["state"], "stopped");
    let answer = started.chat_body(r#"{"model": "m", "messages": []}"#);
    assert_eq!(
        answer.status(),
        503,
        "a stopped model is not started by requests"
    );
    env.ok(&["--config", "c", "start-model", "m"]);
    assert_eq!(Started::model(&started.status(), "m")["state"], "ready");
}

#[test]
fn reload_changes_the_idle_timeout_without_restarting_the_server() {
    let (env, port) = idling("600", &[]);
    let started = env.start("c", port);
    let pid = Started::model(&started.status(), "m")["pid"].as_u64();

    env.ok(&["--config", "c", "edit-model", "m", "--idle-timeout", "1"]);
    let summary: Value = env.run(&["--config", "c", "--json", "reload"]).json();
    assert_eq!(summary["updated"], json!(["m"]), "{summary}");
    assert_eq!(summary["restarted"], json!([]), "{summary}");
    let status = started.wait_state("m", "idle", Duration::from_secs(10));
    assert_eq!(Started::model(&status, "m")["restarts"], 0);
    assert_ne!(pid, None);

    // Without a timeout nothing would start an idle model on demand: the
    // reload starts it.
    env.ok(&[
        "--config",
        "c",
        "edit-model",
        "m",
        "--clear",
        "idle-timeout",
    ]);
    let text = env.ok(&["--config", "c", "reload"]);
    assert!(text.contains("updated without a restart m"), "{text}");
    started.wait_state("m", "ready", Duration::from_secs(10));
}

#[test]
fn an_idle_timeout_is_refused_where_it_cannot_work() {
    let env = Env::new();
    env.init_fast("c");
    let err = env.fails(
        &[
            "--config",
            "c",
            "add-model",
            "far",
            "--engine",
            "url",
            "--url",
            "http://10.0.0.9:8000",
            "--idle-timeout",
            "60",
        ],
        2,
    );
    assert!(
        err.contains("idle_timeout_s") && err.contains("url server"),
        "{err}"
    );
    let err = env.fails(
        &[
            "--config",
            "c",
            "add-model",
            "m",
            "--engine",
            "mock",
            "--idle-timeout",
            "0",
        ],
        2,
    );
    assert!(err.contains("--clear idle-timeout"), "{err}");
    let shown = env.ok(&["--config", "c", "show"]);
    assert!(!shown.contains("idle stop"), "nothing was saved:\n{shown}");
}

#[test]
fn a_client_that_leaves_during_the_load_does_not_stop_it() {
    let (env, port) = idling("1", &["--set", "startup_delay_ms=1000"]);
    let started = env.start("c", port);
    started.wait_state("m", "idle", Duration::from_secs(10));
    {
        let body = r#"{"model": "m", "messages": []}"#;
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let request = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        std::io::Write::write_all(&mut stream, request.as_bytes()).expect("send");
        started.wait_state("m", "starting", Duration::from_secs(5));
    }
    // The client is gone; the model it woke still loads and serves.
    started.wait_state("m", "ready", Duration::from_secs(10));
    let answer = started.chat_body(r#"{"model": "m", "messages": []}"#);
    assert_eq!(answer.status(), 200);
}

#[test]
fn in_sleep_mode_an_idle_server_sleeps_and_the_next_request_wakes_it() {
    let (env, port) = idling("1", &["--sleep-mode"]);
    let started = env.start("c", port);
    let engine = started.engine_pid("m");
    started.wait_state("m", "idle", Duration::from_secs(10));
    assert!(alive(engine), "asleep, not stopped");
    assert!(
        crate::helper::wait_for(Duration::from_secs(5), || {
            Started::model(&started.status(), "m")["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("asleep (sleep mode)"))
        }),
        "status says it sleeps: {}",
        started.status()
    );
    assert_eq!(
        started
            .chat_body(r#"{"model": "m", "messages": []}"#)
            .status(),
        200
    );
    assert_eq!(started.engine_pid("m"), engine, "the same server, woken");
    let metrics = started.metrics();
    for line in [
        "vllm_mux_model_load_seconds_count{model=\"m\",kind=\"load\"} 1",
        "vllm_mux_model_load_seconds_count{model=\"m\",kind=\"wake\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} not in:\n{metrics}");
    }
    let err = env.fails(
        &[
            "--config",
            "c",
            "edit-model",
            "m",
            "--clear",
            "idle-timeout",
        ],
        2,
    );
    assert!(
        err.contains("sleep_mode") && err.contains("never goes idle"),
        "{err}"
    );
}
