//! Issue 20: per-model admission. `max_concurrent` requests go to each
//! copy's server at once, `max_queue` more wait in the model's queue, and
//! beyond it a request gets 429 with Retry-After in OpenAI's shape; the
//! queue's length, waits and refusals show in /metrics and `status`.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helper::{http, wait_for, Env, Started};

#[test]
fn past_max_concurrent_requests_wait_and_past_max_queue_they_get_429() {
    let env = Env::new();
    let port = env.init_fast("c");
    // 10 tokens 100 ms apart: each request takes about a second.
    env.add_mock(
        "c",
        "m",
        &[
            "--max-concurrent",
            "1",
            "--max-queue",
            "1",
            "--set",
            "tokens=10",
            "--set",
            "token_delay_ms=100",
        ],
    );
    let started = env.start("c", port);
    let send = || {
        let begun = Instant::now();
        let response = started.chat_body(r#"{"model": "m", "messages": []}"#);
        let status = response.status().as_u16();
        let retry = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body: Value = response.json().unwrap_or_default();
        (status, retry, body, begun.elapsed())
    };
    std::thread::scope(|scope| {
        let first = scope.spawn(send);
        assert!(
            wait_for(Duration::from_secs(5), || Started::model(
                &started.status(),
                "m"
            )["in_flight"]
                == 1),
            "the first is in flight"
        );
        let second = scope.spawn(send);
        assert!(
            wait_for(Duration::from_secs(5), || Started::model(
                &started.status(),
                "m"
            )["queued"]
                == 1),
            "the second waits"
        );
        let status = started.status();
        assert_eq!(
            Started::model(&status, "m")["in_flight"],
            1,
            "never two at once: {status}"
        );
        let table = env.ok(&["--config", "c", "status"]);
        assert!(
            table.contains("queues:\n  m  1 waiting, 0 refused"),
            "{table}"
        );
        // The queue is full: refused at once.
        let (status, retry, body, _) = send();
        assert_eq!(status, 429, "{body}");
        assert_eq!(retry.as_deref(), Some("5"));
        assert_eq!(body["error"]["code"], "queue_full", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("model 'm' has 1 requests waiting already (its max_queue)"),
            "{body}"
        );
        let (first_status, ..) = first.join().expect("first");
        let (second_status, _, _, second_took) = second.join().expect("second");
        assert_eq!((first_status, second_status), (200, 200));
        assert!(
            second_took >= Duration::from_millis(900),
            "it waited its turn: {second_took:?}"
        );
    });
    let status = started.status();
    let m = Started::model(&status, "m");
    assert_eq!(
        (m["queued"].as_u64(), m["rejected"].as_u64()),
        (Some(0), Some(1)),
        "{status}"
    );
    let metrics = started.metrics();
    for line in [
        "vllm_mux_queue_rejected_total{model=\"m\"} 1",
        "vllm_mux_queue_length{model=\"m\"} 0",
        "vllm_mux_queue_wait_seconds_count{model=\"m\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} not in:\n{metrics}");
    }
    // The limits change with reload, without a restart.
    let pid = m["pid"].clone();
    env.ok(&[
        "--config",
        "c",
        "edit-model",
        "m",
        "--clear",
        "max-concurrent",
        "--clear",
        "max-queue",
    ]);
    let summary = env.run(&["--config", "c", "--json", "reload"]).json();
    assert_eq!(summary["updated"], serde_json::json!(["m"]), "{summary}");
    assert_eq!(Started::model(&started.status(), "m")["pid"], pid);
    let answers: Vec<u16> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..3)
            .map(|_| scope.spawn(|| http_status(&started)))
            .collect();
        calls.into_iter().map(|c| c.join().expect("call")).collect()
    });
    assert_eq!(answers, [200, 200, 200]);
}

fn http_status(started: &Started<'_>) -> u16 {
    http()
        .post(started.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(r#"{"model": "m", "messages": []}"#)
        .send()
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Read an event stream line by line: each line and when it came.
fn stream_lines(started: &Started<'_>, model: &str) -> (u16, Vec<(Duration, String)>) {
    use std::io::BufRead;
    let begun = Instant::now();
    let response = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
        .post(started.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"model": "{model}", "messages": [], "stream": true}}"#
        ))
        .send()
        .expect("stream");
    let status = response.status().as_u16();
    let lines = std::io::BufReader::new(response)
        .lines()
        .map_while(Result::ok)
        .filter(|l| !l.is_empty())
        .map(|l| (begun.elapsed(), l))
        .collect();
    (status, lines)
}

/// Issue 20: a streaming request that waits for a load gets its answer's
/// head and SSE comments meanwhile, so neither it nor a proxy in between
/// times out; then its events as usual, or an error event if the load fails.
#[test]
fn a_stream_waiting_for_a_load_gets_comments_then_its_events() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.set_config_key("c", "queue_timeout_s", serde_json::json!(30));
    env.set_config_key("c", "startup_timeout_s", serde_json::json!(5));
    env.add_mock(
        "c",
        "slow",
        &["--set", "startup_delay_ms=3000", "--set", "tokens=3"],
    );
    env.add_mock("c", "doomed", &["--set", "fail_health=true"]);
    let started = env.started("c", port);
    env.ok(&["--config", "c", "start", "--no-wait"]);
    let (doomed, slow) = std::thread::scope(|scope| {
        let doomed = scope.spawn(|| stream_lines(&started, "doomed"));
        let slow = scope.spawn(|| stream_lines(&started, "slow"));
        (doomed.join().expect("doomed"), slow.join().expect("slow"))
    });
    let (status, lines) = slow;
    assert_eq!(status, 200);
    let comments: Vec<&(Duration, String)> =
        lines.iter().filter(|(_, l)| l.starts_with(':')).collect();
    assert!(
        comments
            .first()
            .is_some_and(|(_, l)| l.starts_with(": loading slow, ")),
        "{lines:?}"
    );
    let first_data = lines
        .iter()
        .position(|(_, l)| l.starts_with("data: "))
        .expect("events");
    assert!(
        lines[..first_data].iter().all(|(_, l)| l.starts_with(':')),
        "comments come before the events: {lines:?}"
    );
    assert_eq!(
        lines.last().map(|(_, l)| l.as_str()),
        Some("data: [DONE]"),
        "{lines:?}"
    );
    // The load failed after the stream had begun: an error event ends it.
    let (status, lines) = doomed;
    assert_eq!(status, 200);
    assert!(
        lines.iter().any(|(_, l)| l.starts_with(": loading doomed")),
        "{lines:?}"
    );
    let last = lines.last().map(|(_, l)| l.clone()).unwrap_or_default();
    let event: Value =
        serde_json::from_str(last.strip_prefix("data: ").unwrap_or("{}")).unwrap_or_default();
    assert_eq!(event["error"]["code"], "model_not_ready", "{lines:?}");
    // A stream for a ready model gets no comment.
    let (_, lines) = stream_lines(&started, "slow");
    assert!(lines.iter().all(|(_, l)| !l.starts_with(':')), "{lines:?}");
}
