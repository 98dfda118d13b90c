//! Swap groups: models on the same GPU that take turns, one running at a
//! time, swapped in by the requests that want them.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helper::{alive, children, http, Env, Started};

/// Models `a` and `b` in swap group `g`, both on GPU 0; `b` loads slowly.
fn pair(a_extra: &[&str]) -> (Env, u16) {
    let env = Env::with_gpus(1);
    let port = env.init_fast("c");
    let mut args = vec!["--gpus", "0", "--swap-group", "g"];
    args.extend_from_slice(a_extra);
    env.add_mock("c", "a", &args);
    env.add_mock(
        "c",
        "b",
        &[
            "--gpus",
            "0",
            "--swap-group",
            "g",
            "--set",
            "startup_delay_ms=300",
        ],
    );
    (env, port)
}

fn state<'s>(status: &'s Value, model: &str) -> &'s str {
    Started::model(status, model)["state"]
        .as_str()
        .unwrap_or("")
}

/// The guard and engine pids of a running model.
fn pids(status: &Value, model: &str) -> Vec<u32> {
    let guard = Started::model(status, model)["pid"]
        .as_u64()
        .expect("a running model has a pid") as u32;
    let mut all = vec![guard];
    all.extend(children(guard));
    all
}

#[test]
fn one_member_runs_and_a_request_for_another_swaps_it_in() {
    let (env, port) = pair(&[]);
    // Outside the group, GPU 0 is taken.
    let err = env.fails(
        &[
            "--config",
            "c",
            "add-model",
            "x",
            "--engine",
            "mock",
            "--gpus",
            "0",
        ],
        2,
    );
    assert!(err.contains("--swap-group"), "{err}");
    let shown = env.ok(&["--config", "c", "show"]);
    assert!(
        shown.contains("swap group    g: a, b (one runs at a time"),
        "{shown}"
    );
    let started = env.start("c", port);
    let status = started.status();
    assert_eq!(
        (state(&status, "a"), state(&status, "b")),
        ("ready", "idle")
    );
    assert_eq!(Started::model(&status, "b")["pid"], Value::Null);
    let a_pids = pids(&status, "a");

    let begun = Instant::now();
    assert_eq!(started.chat("b").status(), 200, "swapped in and served");
    assert!(
        begun.elapsed() >= Duration::from_millis(300),
        "waited for b's load"
    );
    let status = started.status();
    assert_eq!(
        (state(&status, "a"), state(&status, "b")),
        ("idle", "ready")
    );
    assert!(
        a_pids.iter().all(|p| !alive(*p)),
        "a's server gave way before b started"
    );
    let b_pids = pids(&status, "b");

    assert_eq!(started.chat("a").status(), 200, "and back");
    let status = started.status();
    assert_eq!(
        (state(&status, "a"), state(&status, "b")),
        ("ready", "idle")
    );
    assert!(b_pids.iter().all(|p| !alive(*p)));
    assert_eq!(
        Started::model(&status, "a")["restarts"],
        0,
        "giving way is no crash"
    );
    // The table says which member holds the GPU now, and why b is idle.
    let table = env.ok(&["--config", "c", "status"]);
    for shown in [
        "a,b (idle)",
        "b  idle: gave way to another model of its swap group (to 'a': it has requests waiting",
    ] {
        assert!(table.contains(shown), "{shown:?} not in:\n{table}");
    }

    let health = http().get(started.url("/health")).send().expect("health");
    assert_eq!(health.status(), 200);
    let log = env.ok(&["--config", "c", "logs", "b"]);
    for line in [
        "idle → pending (waiting for its swap group's turn)",
        "ready → idle (gave way to another model of its swap group",
    ] {
        assert!(log.contains(line), "{line:?} not in:\n{log}");
    }
}

#[test]
fn a_member_giving_way_lets_its_streams_finish_first() {
    // 20 tokens 100 ms apart: a stream of about 2 s on `a`.
    let (env, port) = pair(&["--set", "tokens=20", "--set", "token_delay_ms=100"]);
    let started = env.start("c", port);
    let stream = http()
        .post(started.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(r#"{"model": "a", "messages": [], "stream": true}"#)
        .send()
        .expect("stream");
    let mut lines = BufReader::new(stream).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(first.starts_with("data: "), "{first}");

    let (b_status, b_took) = std::thread::scope(|scope| {
        let b = scope.spawn(|| {
            let begun = Instant::now();
            (started.chat("b").status(), begun.elapsed())
        });
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        assert!(
            rest.iter().any(|l| l == "data: [DONE]"),
            "a's stream was cut: {rest:?}"
        );
        b.join().expect("b's request")
    });
    assert_eq!(b_status, 200);
    assert!(
        b_took >= Duration::from_millis(1000),
        "b waited for a's stream: {b_took:?}"
    );
    let log = env.ok(&["--config", "c", "logs", "a"]);
    assert!(!log.contains("cut off"), "{log}");
}

#[test]
fn start_model_takes_the_turn_and_a_stopped_member_stays_stopped() {
    let (env, port) = pair(&[]);
    let started = env.start("c", port);
    env.ok(&["--config", "c", "start-model", "b"]);
    let status = started.status();
    assert_eq!(
        (state(&status, "a"), state(&status, "b")),
        ("idle", "ready")
    );

    env.ok(&["--config", "c", "stop", "b"]);
    assert_eq!(
        started.chat("b").status(),
        503,
        "stopped by hand: not swapped in"
    );
    assert_eq!(started.chat("a").status(), 200);
    let status = started.status();
    assert_eq!(
        (state(&status, "a"), state(&status, "b")),
        ("ready", "stopped")
    );
}

#[test]
fn reload_adds_a_member_idle_while_another_runs() {
    let env = Env::with_gpus(1);
    let port = env.init_fast("c");
    env.add_mock("c", "a", &["--gpus", "0", "--swap-group", "g"]);
    let started = env.start("c", port);
    let a_pid = Started::model(&started.status(), "a")["pid"].as_u64();
    env.add_mock("c", "b", &["--gpus", "0", "--swap-group", "g"]);
    let summary: Value = env.run(&["--config", "c", "--json", "reload"]).json();
    assert_eq!(summary["added"], serde_json::json!(["b"]), "{summary}");
    let status = started.status();
    assert_eq!(
        (state(&status, "a"), state(&status, "b")),
        ("ready", "idle")
    );
    assert_eq!(
        Started::model(&status, "a")["pid"].as_u64(),
        a_pid,
        "a kept running"
    );
    assert_eq!(
        started.chat("b").status(),
        200,
        "and b is swapped in on demand"
    );
    assert_eq!(state(&started.status(), "a"), "idle");
}

#[test]
fn in_sleep_mode_a_member_sleeps_instead_of_stopping_and_wakes_with_the_same_server() {
    let env = Env::with_gpus(1);
    let port = env.init_fast("c");
    for name in ["a", "b"] {
        env.add_mock(
            "c",
            name,
            &["--gpus", "0", "--swap-group", "g", "--sleep-mode"],
        );
    }
    let shown = env.ok(&["--config", "c", "show"]);
    assert!(
        shown.contains("sleep mode    a, b (idle, the server sleeps"),
        "{shown}"
    );
    let started = env.start("c", port);
    let a_guard = Started::model(&started.status(), "a")["pid"].as_u64();

    assert_eq!(started.chat("b").status(), 200);
    let status = started.status();
    assert_eq!(
        (state(&status, "a"), state(&status, "b")),
        ("idle", "ready")
    );
    // Asleep, not stopped: the same server, holding its weights in CPU memory.
    assert_eq!(Started::model(&status, "a")["pid"].as_u64(), a_guard);
    let a_engine = started.engine_pid("a");
    assert_eq!(started.chat("a").status(), 200, "woken, not started again");
    let status = started.status();
    assert_eq!(
        (state(&status, "a"), state(&status, "b")),
        ("ready", "idle")
    );
    assert_eq!(Started::model(&status, "a")["pid"].as_u64(), a_guard);
    assert_eq!(started.engine_pid("a"), a_engine);
    let log = env.ok(&["--config", "c", "logs", "a"]);
    for line in [
        "mock-engine: sleeping",
        "asleep after",
        "starting (waking its server up)",
        "mock-engine: awake",
        "starting → ready (awake in",
    ] {
        assert!(log.contains(line), "{line:?} not in:\n{log}");
    }
    assert_eq!(
        log.matches("vllm-mux: started ").count(),
        1,
        "one server: {log}"
    );
    // A sleeping server is stopped as any other.
    let b_pids = pids(&status, "b");
    env.ok(&["--config", "c", "stop"]);
    assert!(b_pids.iter().all(|p| !alive(*p)));
}

#[test]
fn a_llama_swap_config_imports_and_its_models_take_turns() {
    let env = Env::new();
    let file = env.home().join("config.yaml");
    let yaml = format!(
        r#"
healthCheckTimeout: 60
macros:
  mock: "{bin} mock-engine --port ${{PORT}}"
models:
  "qwen:7b":
    cmd: ${{mock}} --served-model-name ${{MODEL_ID}}
    ttl: 300
  llama:
    cmd: |
      # a comment line, as llama-swap allows
      ${{mock}}
      --served-model-name ${{MODEL_ID}}
    aliases: [gpt-4o-mini]
    useModelName: other
"#,
        bin = crate::helper::BIN
    );
    std::fs::write(&file, yaml).expect("write");
    let out = env.ok(&["import", file.to_str().expect("utf-8"), "--name", "c"]);
    for said in [
        "note: model 'llama': useModelName is not carried over",
        "note: models in no group are in swap group 'llama-swap'",
        "imported llama-swap config as config 'c'",
    ] {
        assert!(out.contains(said), "{said:?} not in:\n{out}");
    }
    let port = crate::helper::free_port();
    env.ok(&["--config", "c", "edit-proxy", "--port", &port.to_string()]);
    let started = env.start("c", port);
    let status = started.status();
    assert_eq!(
        (state(&status, "llama"), state(&status, "qwen-7b")),
        ("ready", "idle"),
        "one at a time, as llama-swap runs them"
    );
    // The llama-swap id works as it did: an alias of the model it became.
    assert_eq!(started.chat("qwen:7b").status(), 200);
    assert_eq!(started.chat("gpt-4o-mini").status(), 200, "and back");
    let status = started.status();
    assert_eq!(state(&status, "qwen-7b"), "idle");
    assert_eq!(Started::model(&status, "qwen-7b")["restarts"], 0);
}

/// Issue 23: two agents on two members of one swap group, 4 requests at a
/// time (a, b, a, b), 8 rounds. Every request is served by the load it
/// waited for (or sets off the next turn itself): none is left waiting
/// while its model is idle.
#[test]
fn alternating_requests_for_two_members_are_all_served() {
    let env = Env::with_gpus(1);
    let port = env.init_fast("c");
    for name in ["a", "b"] {
        env.add_mock(
            "c",
            name,
            &[
                "--gpus",
                "0",
                "--swap-group",
                "g",
                "--set",
                "startup_delay_ms=1500",
            ],
        );
    }
    let started = env.start("c", port);
    // The bound: a swap (the other gives way, 1.5 s of load) and the
    // requests, with room for a slow machine.
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let begun = Instant::now();
    for round in 0..8 {
        let answers: Vec<(String, Result<u16, String>)> = std::thread::scope(|scope| {
            let calls: Vec<_> = ["a", "b", "a", "b"]
                .into_iter()
                .map(|model| {
                    let client = &client;
                    let url = started.url("/v1/chat/completions");
                    scope.spawn(move || {
                        let body = format!(
                            r#"{{"model": "{model}", "messages": [{{"role": "user", "content": "hi"}}], "max_tokens": 2}}"#
                        );
                        let status = client
                            .post(url)
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .map(|r| r.status().as_u16())
                            .map_err(|e| e.to_string());
                        (model.to_string(), status)
                    })
                })
                .collect();
            calls
                .into_iter()
                .map(|c| c.join().expect("a request thread"))
                .collect()
        });
        for (model, status) in answers {
            assert_eq!(
                status,
                Ok(200),
                "round {round}, model {model}, after {:?}:\n{}",
                begun.elapsed(),
                env.ok(&["--config", "c", "logs", "proxy"])
            );
        }
    }
    // Served in batches: each round swaps once at most (the first start
    // and one swap a round), never once per request.
    let log = env.ok(&["--config", "c", "logs", "proxy", "-n", "1000"]);
    let loads = log.matches("starting → ready").count();
    assert!(loads <= 9, "{loads} loads for 8 rounds:\n{log}");
}

/// vLLM on CPU refuses `--enable-sleep-mode` at start ("Sleep mode is not
/// supported on current platform"): the member is started without it,
/// with one line saying so, and gives way by stopping instead of sleeping.
#[test]
fn a_platform_that_refuses_sleep_mode_gets_stopping_instead() {
    let env = Env::with_gpus(1);
    let port = env.init_fast("c");
    let script = env.script(
        "fake-vllm",
        &format!(
            "case \" $* \" in *' --enable-sleep-mode '*)\n  echo 'pydantic_core._pydantic_core.ValidationError: 1 validation error for ModelConfig' >&2\n  echo '  Value error, Sleep mode is not supported on current platform. [type=value_error]' >&2\n  exit 1;;\nesac\n{}",
            crate::helper::serve_as_vllm()
        ),
    );
    for name in ["a", "b"] {
        let model_port = crate::helper::free_port().to_string();
        env.ok(&[
            "--config",
            "c",
            "add-model",
            name,
            "--model",
            "org/m",
            "--gpus",
            "0",
            "--port",
            &model_port,
            "--swap-group",
            "g",
            "--sleep-mode",
        ]);
    }
    let started = env.started("c", port);
    let run = crate::helper::start_with_vllm(&env, &script, &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let status = started.status();
    assert_eq!(
        (state(&status, "a"), state(&status, "b")),
        ("ready", "idle")
    );
    assert_eq!(Started::model(&status, "a")["restarts"], 0, "no crash");
    assert_eq!(started.chat("b").status(), 200);
    let status = started.status();
    assert_eq!(
        (state(&status, "a"), state(&status, "b")),
        ("idle", "ready")
    );
    assert_eq!(
        Started::model(&status, "a")["pid"],
        Value::Null,
        "stopped, not asleep"
    );
    assert_eq!(started.chat("a").status(), 200);
    let log = env.ok(&["--config", "c", "logs", "a"]);
    assert_eq!(
        log.matches("vLLM refuses sleep mode here").count(),
        1,
        "said once, and remembered: {log}"
    );
    assert!(!log.contains("mock-engine: sleeping"), "{log}");
    let proxy_log = env.ok(&["--config", "c", "logs", "proxy"]);
    assert!(
        proxy_log.contains("model 'b': vLLM refuses sleep mode here"),
        "{proxy_log}"
    );
}

/// Issue 20: members whose GPU memory adds up run side by side; one that
/// does not fit evicts the least recently used, never a pinned one; and
/// `scheduler: llama-swap` brings back one at a time.
#[test]
fn members_run_side_by_side_as_far_as_their_gpu_memory_allows() {
    let env = Env::with_gpus(1);
    let port = env.init_fast("c");
    env.set_config_key("c", "min_residency_s", serde_json::json!(0));
    for (name, extra) in [("a", Some("--pinned")), ("b", None), ("c", None)] {
        let mut args = vec![
            "--gpus",
            "0",
            "--swap-group",
            "g",
            "--gpu-memory-utilization",
            "0.45",
        ];
        args.extend(extra);
        env.add_mock("c", name, &args);
    }
    let started = env.start("c", port);
    let a_pid = Started::model(&started.status(), "a")["pid"].clone();
    assert_eq!(started.chat("b").status(), 200);
    let status = started.status();
    assert_eq!(
        (
            state(&status, "a"),
            state(&status, "b"),
            state(&status, "c")
        ),
        ("ready", "ready", "idle"),
        "b fits beside a"
    );
    assert_eq!(Started::model(&status, "a")["pid"], a_pid, "a kept running");
    // c does not fit beside both: b gives way, not a (pinned), though a
    // has not been asked for since it started.
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(started.chat("c").status(), 200);
    let status = started.status();
    assert_eq!(
        (
            state(&status, "a"),
            state(&status, "b"),
            state(&status, "c")
        ),
        ("ready", "idle", "ready")
    );
    let log = env.ok(&["--config", "c", "logs", "b"]);
    assert!(
        log.contains("gives way to 'c': it has requests waiting and needs the GPU memory"),
        "{log}"
    );
    // llama-swap's way: one at a time, whatever the memory.
    env.set_config_key("c", "scheduler", serde_json::json!("llama-swap"));
    env.ok(&["--config", "c", "edit-model", "a", "--clear", "pinned"]);
    env.ok(&["--config", "c", "stop"]);
    let started = env.start("c", port);
    assert_eq!(started.chat("b").status(), 200);
    let status = started.status();
    assert_eq!(
        (state(&status, "a"), state(&status, "b")),
        ("idle", "ready"),
        "{status}"
    );
}

/// Issue 20: sleep mode is an eviction tier within a host-memory budget:
/// past `sleep_memory_gib`, a member giving way stops instead of sleeping.
#[test]
fn sleeping_members_stay_within_the_host_memory_budget() {
    let env = Env::with_gpus(1);
    let port = env.init_fast("c");
    // Each takes GPU 0 whole (about 80 GiB): one may sleep, not two.
    env.set_config_key("c", "sleep_memory_gib", serde_json::json!(100));
    env.set_config_key("c", "min_residency_s", serde_json::json!(0));
    for name in ["a", "b", "c"] {
        env.add_mock(
            "c",
            name,
            &["--gpus", "0", "--swap-group", "g", "--sleep-mode"],
        );
    }
    let started = env.start("c", port);
    assert_eq!(started.chat("b").status(), 200);
    let status = started.status();
    assert_eq!(state(&status, "a"), "idle");
    assert!(
        Started::model(&status, "a")["pid"].is_u64(),
        "a sleeps: {status}"
    );
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(started.chat("c").status(), 200);
    let status = started.status();
    assert_eq!(
        (
            state(&status, "a"),
            state(&status, "b"),
            state(&status, "c")
        ),
        ("idle", "idle", "ready")
    );
    assert!(
        Started::model(&status, "a")["pid"].is_u64(),
        "a still sleeps"
    );
    assert_eq!(
        Started::model(&status, "b")["pid"],
        Value::Null,
        "b stopped"
    );
    let log = env.ok(&["--config", "c", "logs", "b"]);
    assert!(
        log.contains("stopping instead of sleeping: its 80 GiB beside the 80 GiB of the servers asleep would pass sleep_memory_gib (100 GiB)"),
        "{log}"
    );
}
