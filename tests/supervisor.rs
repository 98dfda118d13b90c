//! The supervisor through the real binary with mock engines: start, status,
//! requests through the proxy, logs, stop; crashes, restarts, reload.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helper::{
    alive, children, fake_vllm, free_port, http, kill, start_with_vllm, wait_for, Env, Started,
};

/// Whether config "c"'s `state.json` comes to show `models` ready (it is
/// written just after the change), within 5 s.
fn state_file_says_ready(env: &Env, models: &[&str]) -> bool {
    let path = env.home().join("run/c/state.json");
    wait_for(Duration::from_secs(5), || {
        std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .is_some_and(|state| {
                models
                    .iter()
                    .all(|m| Started::model(&state, m)["state"] == "ready")
            })
    })
}

/// A model's `last_error` in a status, or "" when it has none.
fn last_error(model: &Value) -> &str {
    model["last_error"].as_str().unwrap_or("")
}

/// The status once `model` has crashed and is ready again, within 10 s.
/// Until the runner notices the exit, status may still show it ready.
fn ready_after_one_restart(started: &Started<'_>, model: &str) -> Value {
    let restarted = || {
        let status = started.try_status();
        let m = Started::model(&status, model);
        m["restarts"] == 1 && m["state"] == "ready"
    };
    assert!(wait_for(Duration::from_secs(10), restarted));
    started.status()
}

/// The guard pids and their engine pids of every model in a status.
fn all_pids(status: &Value) -> Vec<u32> {
    let guards: Vec<u32> = status["models"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .filter_map(|m| m["pid"].as_u64())
                .map(|p| p as u32)
                .collect()
        })
        .unwrap_or_default();
    let mut pids = guards.clone();
    for guard in guards {
        pids.extend(children(guard));
    }
    pids
}

#[test]
fn full_lifecycle_of_three_models() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "a", &["--alias", "gpt-4o-mini"]);
    env.add_mock("c", "b", &[]);
    env.add_mock("c", "e", &["--lora", "sql=/m/sql"]);
    let started = env.start("c", port);
    let status = started.status();
    assert_eq!(status["config"], "c");
    assert_eq!(status["proxy"]["url"], format!("http://127.0.0.1:{port}"));
    for name in ["a", "b", "e"] {
        assert_eq!(
            Started::model(&status, name)["state"],
            "ready",
            "{status:#}"
        );
    }
    let pids = all_pids(&status);
    assert_eq!(pids.len(), 6, "three guards and three engines: {pids:?}");

    let reply: Value = started.chat("gpt-4o-mini").json().expect("json");
    assert_eq!(
        reply["model"], "a",
        "the alias is rewritten to the served name"
    );
    assert_eq!(reply["choices"][0]["message"]["content"], "tok0 tok1 ");
    assert_eq!(started.chat("b").status(), 200);
    assert_eq!(
        started.chat("sql").status(),
        200,
        "a LoRA name routes to its model"
    );
    let models: Value = http()
        .get(started.url("/v1/models"))
        .send()
        .expect("models")
        .json()
        .expect("json");
    let ids = crate::helper::model_ids(&models);
    assert_eq!(ids, ["a", "gpt-4o-mini", "b", "e", "sql"]);

    let status = started.status();
    assert_eq!(Started::model(&status, "a")["requests"], 1);
    assert_eq!(Started::model(&status, "a")["errors"], 0);
    assert!(Started::model(&status, "a")["p50_ms"].is_number());

    let logs = env.ok(&["--config", "c", "logs", "a"]);
    assert!(
        logs.contains("starting → ready") && logs.contains("POST /v1/chat/completions"),
        "{logs}"
    );
    let all = env.ok(&["--config", "c", "logs", "all", "-n", "200"]);
    assert!(all.contains("proxy |") && all.contains("b |"), "{all}");
    let unknown = env.fails(&["--config", "c", "logs", "zzz"], 2);
    assert!(
        unknown.contains("hint: use proxy, all, or one of: a, "),
        "{unknown}"
    );
    let table = env.ok(&["--config", "c", "status"]);
    assert!(
        table.contains("ready") && table.contains("MODEL"),
        "{table}"
    );

    env.ok(&["--config", "c", "stop"]);
    assert!(
        wait_for(Duration::from_secs(5), || pids.iter().all(|p| !alive(*p))),
        "processes left after stop"
    );
    assert_eq!(env.run(&["--config", "c", "status"]).code, 3);
    assert!(
        !env.home().join("run/c/supervisor.sock").exists(),
        "socket removed on stop"
    );
}

#[test]
fn priority_groups_start_in_order() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "last", &[]);
    env.add_mock("c", "second", &["--priority", "2"]);
    env.add_mock(
        "c",
        "first",
        &["--priority", "1", "--set", "startup_delay_ms=1000"],
    );
    let started = env.started("c", port);
    env.ok(&["--config", "c", "start", "--no-wait"]);
    // While `first` loads, status says what the others wait for.
    let why = "waits for first to be ready or failed first (loading priority)";
    assert!(
        wait_for(Duration::from_secs(5), || {
            Started::model(&started.status(), "second")["detail"] == why
        }),
        "{}",
        started.status()
    );
    let table = env.ok(&["--config", "c", "status"]);
    assert!(
        table.contains(&format!("second  pending: {why}")),
        "{table}"
    );
    env.ok(&["--config", "c", "wait"]);
    let log = std::fs::read_to_string(env.home().join("logs/c/proxy.log")).expect("proxy.log");
    let line = |needle: &str| {
        log.lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no '{needle}' in\n{log}"))
    };
    assert!(
        line("'first': starting → ready") < line("'second': pending → starting"),
        "{log}"
    );
    assert!(
        line("'second': starting → ready") < line("'last': pending → starting"),
        "{log}"
    );
}

#[test]
fn a_crash_is_told_with_the_last_line_the_server_wrote() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "a", &["--set", "crash_after=1"]);
    let started = env.start("c", port);
    // It answers one request and crashes on the next: no answer, a 502.
    assert_eq!(started.chat("a").status(), 200);
    assert_eq!(started.chat("a").status(), 502);
    let status = ready_after_one_restart(&started, "a");
    let a = Started::model(&status, "a");
    assert!(
        last_error(a)
            .contains("exited with code 70; restarting in 1 s; its last line: mock-engine: crashing on request 2 (/v1/chat/completions) as asked (--crash-after 1)"),
        "{status:#}"
    );
}

#[test]
fn a_crash_after_a_long_run_still_tells_the_servers_last_line() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "a", &["--set", "crash_after=30"]);
    let started = env.start("c", port);
    // 30 answers, a log line each: the start line scrolls out of the
    // 20 lines the supervisor keeps in memory.
    for _ in 0..30 {
        assert_eq!(started.chat("a").status(), 200);
    }
    assert_eq!(started.chat("a").status(), 502);
    let status = ready_after_one_restart(&started, "a");
    assert!(
        last_error(Started::model(&status, "a"))
            .contains("; its last line: mock-engine: crashing on request 31"),
        "{status:#}"
    );
}

#[test]
fn a_killed_engine_is_restarted() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "a", &[]);
    let started = env.start("c", port);
    let guard = Started::model(&started.status(), "a")["pid"].as_u64();
    kill("-9", started.engine_pid("a"));
    let status = started.wait_state("a", "starting", Duration::from_secs(5));
    assert_eq!(Started::model(&status, "a")["restarts"], 1);
    assert!(
        last_error(Started::model(&status, "a")).contains("killed by signal 9"),
        "{status:#}"
    );
    let status = started.wait_state("a", "ready", Duration::from_secs(10));
    assert_ne!(
        Started::model(&status, "a")["pid"].as_u64(),
        guard,
        "a new process"
    );
    assert_eq!(started.chat("a").status(), 200);
}

#[test]
fn after_sigkill_of_the_supervisor_no_child_survives_status_says_so_and_start_works_again() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "a", &[]);
    env.add_mock("c", "b", &[]);
    let started = env.start("c", port);
    let pids = all_pids(&started.status());
    assert_eq!(pids.len(), 4);
    // While it runs, run/c/state.json holds its newest status report.
    let state_file = env.home().join("run/c/state.json");
    assert!(state_file_says_ready(&env, &["a", "b"]));
    let supervisor = env.supervisor_pid("c").expect("pid");
    kill("-9", supervisor);
    assert!(
        wait_for(Duration::from_secs(5), || pids.iter().all(|p| !alive(*p))),
        "children outlived the supervisor: {:?}",
        pids.iter().filter(|p| alive(**p)).collect::<Vec<_>>()
    );
    // The stale pidfile and socket are still there; status says not
    // running, and that it ended without a stop, with its models then.
    assert!(env.home().join("run/c/supervisor.pid").exists());
    let status = env.run(&["--config", "c", "status"]);
    assert_eq!(status.code, 3);
    assert!(
        status.stderr.contains(&format!("error: config 'c' is not running: its supervisor (pid {supervisor}) ended without being stopped"))
            && status.stderr.contains(": a ready, b ready\n")
            && status.stderr.contains("logs proxy"),
        "{}",
        status.stderr
    );
    let list = env.run(&["--config", "c", "--json", "list"]).json();
    assert_eq!(list[0]["ended_without_stop"], true, "{list}");
    // `stop` says it too, then clears it: the config is stopped now.
    let stderr = env.fails(&["--config", "c", "stop"], 3);
    assert!(stderr.contains("ended without being stopped"), "{stderr}");
    let list = env.run(&["--config", "c", "--json", "list"]).json();
    assert_eq!(list[0]["ended_without_stop"], false, "{list}");
    let again = env.start("c", port);
    assert_eq!(Started::model(&again.status(), "a")["state"], "ready");
    // A clean stop leaves nothing to be taken for a crash.
    env.ok(&["--config", "c", "stop"]);
    assert!(!state_file.exists());
    let status = env.run(&["--config", "c", "status"]);
    assert_eq!(status.code, 3);
    assert!(
        !status.stderr.contains("ended without"),
        "{}",
        status.stderr
    );
    drop(started);
}

/// Every descendant of `pid` (Linux), children first.
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut next = vec![pid];
    while let Some(p) = next.pop() {
        for child in children(p) {
            found.push(child);
            next.push(child);
        }
    }
    found
}

/// Issue 18: an engine that forks (as `vllm serve` forks EngineCore and
/// its workers) leaves no process behind when the supervisor is SIGKILLed.
/// The grandchild has no PDEATHSIG of ours: only the guard killing its
/// whole process group ends it.
#[test]
fn after_sigkill_of_the_supervisor_no_grandchild_of_an_engine_survives() {
    let env = Env::new();
    let port = env.init_fast("c");
    let command = format!(
        "sh -c '{bin} mock-engine --port {{port}} --served-model-name g & wait'",
        bin = crate::helper::BIN
    );
    let engine_port = crate::helper::free_port().to_string();
    env.ok(&[
        "--config",
        "c",
        "add-model",
        "g",
        "--engine",
        "command",
        "--model",
        "g",
        "--port",
        &engine_port,
        "--command",
        &command,
    ]);
    let started = env.start("c", port);
    let guard = Started::model(&started.status(), "g")["pid"]
        .as_u64()
        .expect("a guard pid") as u32;
    let mut pids = vec![guard];
    pids.extend(descendants(guard));
    assert!(
        pids.len() >= 3,
        "guard, sh and its mock engine child: {pids:?}"
    );
    let supervisor = env.supervisor_pid("c").expect("pid");
    kill("-9", supervisor);
    assert!(
        wait_for(Duration::from_secs(5), || pids.iter().all(|p| !alive(*p))),
        "outlived the supervisor: {:?}",
        pids.iter().filter(|p| alive(**p)).collect::<Vec<_>>()
    );
    drop(started);
}

#[test]
fn a_stale_pidfile_is_replaced() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "a", &[]);
    std::fs::create_dir_all(env.home().join("run/c")).expect("mkdir");
    std::fs::write(env.home().join("run/c/supervisor.pid"), "999999\n").expect("stale pidfile");
    std::fs::write(env.home().join("run/c/supervisor.sock"), "").expect("stale socket");
    let started = env.start("c", port);
    assert_eq!(Started::model(&started.status(), "a")["state"], "ready");
}

#[test]
fn a_second_start_says_it_is_running() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "a", &[]);
    let _started = env.start("c", port);
    let stderr = env.fails(&["--config", "c", "start"], 1);
    assert!(stderr.contains("already running (pid"), "{stderr}");
}

#[test]
fn a_model_that_exits_at_once_fails_start_with_its_log_lines() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "good", &[]);
    let bad_port = free_port().to_string();
    env.ok(&[
        "--config",
        "c",
        "add-model",
        "bad",
        "--engine",
        "command",
        "--port",
        &bad_port,
        "--command",
        "sh -c 'echo model weights not found >&2; exit 3' {port}",
    ]);
    let started = env.started("c", port);
    let run = env.run(&["--config", "c", "start"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("failed to start: bad"),
        "{}",
        run.stderr
    );
    let status = started.status();
    let bad = Started::model(&status, "bad");
    assert_eq!(bad["state"], "failed");
    assert!(
        last_error(bad).contains(
            "exited with code 3 before it was ready; its last line: model weights not found"
        ),
        "{status:#}"
    );
    let tail = bad["log_tail"].as_array().expect("log_tail");
    assert!(
        tail.iter()
            .any(|l| l.as_str().unwrap_or("").contains("model weights not found")),
        "{status:#}"
    );
    assert_eq!(
        Started::model(&status, "good")["state"],
        "ready",
        "the others keep serving"
    );
    assert_eq!(started.chat("bad").status(), 503);
}

#[test]
fn a_model_that_never_gets_healthy_fails_after_the_startup_timeout() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.set_config_key("c", "startup_timeout_s", json!(1));
    env.add_mock("c", "sick", &["--set", "fail_health=true"]);
    let started = env.started("c", port);
    assert_eq!(env.run(&["--config", "c", "start"]).code, 1);
    let status = started.status();
    assert!(
        last_error(Started::model(&status, "sick"))
            .contains("not ready after 1 s (startup_timeout_s); its health check never answered 200; its last line: mock-engine: serving 'sick'"),
        "{status:#}"
    );
    assert_eq!(
        Started::model(&status, "sick")["pid"],
        Value::Null,
        "its process was stopped"
    );
}

#[test]
fn a_port_in_use_is_a_clear_error_and_nothing_starts() {
    let env = Env::new();
    let port = env.init_fast("c");
    let holder = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let taken = holder.local_addr().expect("addr").port().to_string();
    env.ok(&[
        "--config",
        "c",
        "add-model",
        "a",
        "--engine",
        "mock",
        "--port",
        &taken,
    ]);
    let stderr = env.fails(&["--config", "c", "start"], 2);
    assert!(
        stderr.contains(&format!("model 'a': port: {taken} is already in use"))
            && stderr.contains("nothing was started"),
        "{stderr}"
    );
    assert!(
        env.supervisor_pid("c").is_none(),
        "no supervisor was started"
    );
    // The proxy's own port taken: the hint moves the proxy, models stay.
    env.ok(&[
        "--config",
        "c",
        "edit-model",
        "a",
        "--port",
        &free_port().to_string(),
    ]);
    env.ok(&["--config", "c", "edit-proxy", "--port", &taken]);
    let stderr = env.fails(&["--config", "c", "start"], 2);
    assert!(
        stderr.contains(&format!("port {taken} of the proxy"))
            && stderr.contains("vllm-mux --config c edit-proxy --port P"),
        "{stderr}"
    );
    env.ok(&["--config", "c", "edit-proxy", "--port", &port.to_string()]);
    let _started = env.start("c", port);
    let out = env.ok(&["--config", "c", "edit-proxy", "--set", "queue_timeout_s=7"]);
    assert!(
        out.contains("queue_timeout_s 7") && out.contains("at its next start"),
        "a running config is told when the change applies: {out}"
    );
}

#[test]
fn a_proxy_host_it_cannot_listen_on_is_named_and_nothing_starts() {
    let env = Env::new();
    env.init_fast("c");
    env.add_mock("c", "a", &[]);
    // Not a host at all: refused when saved.
    let stderr = env.fails(
        &["--config", "c", "edit-proxy", "--host", "0.0.0.0:8000"],
        2,
    );
    assert!(
        stderr.contains("'0.0.0.0:8000' is not an IP address or a host name")
            && stderr.contains("--port"),
        "{stderr}"
    );
    // An address, but not this machine's (192.0.2.0/24 is for documentation).
    env.ok(&["--config", "c", "edit-proxy", "--host", "192.0.2.1"]);
    let stderr = env.fails(&["--config", "c", "start"], 2);
    assert!(
        stderr.contains("the proxy's host 192.0.2.1 is not an address of this machine")
            && stderr.contains("edit-proxy --host H")
            && stderr.contains("nothing was started"),
        "{stderr}"
    );
    assert!(
        env.supervisor_pid("c").is_none(),
        "no supervisor was started"
    );
    // A hand-edited config that breaks a rule: the hint says where to mend it.
    let file = env.home().join("configs").join("c.json");
    let text = std::fs::read_to_string(&file).expect("config");
    let edited = text.replace("\"host\": \"192.0.2.1\"", "\"host\": \"\"");
    assert_ne!(text, edited, "the host is in the file");
    std::fs::write(&file, edited).expect("write");
    let stderr = env.fails(&["--config", "c", "start"], 2);
    assert!(
        stderr.contains("host: is empty")
            && stderr.contains("nothing was started")
            && stderr.contains(&file.display().to_string()),
        "{stderr}"
    );
}

#[test]
fn reload_adds_and_removes_without_touching_the_rest() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "keep", &[]);
    env.add_mock("c", "drop", &[]);
    let started = env.start("c", port);
    let status = started.status();
    let keep_pid = Started::model(&status, "keep")["pid"].clone();
    let drop_pids = all_pids(&json!({"models": [Started::model(&status, "drop")]}));
    env.ok(&["--config", "c", "remove-model", "drop"]);
    env.add_mock("c", "new", &[]);
    let summary = env.run(&["--config", "c", "--json", "reload"]).json();
    assert_eq!(summary["added"], json!(["new"]));
    assert_eq!(summary["removed"], json!(["drop"]));
    assert_eq!(summary["unchanged"], json!(["keep"]));
    let status = started.wait_state("new", "ready", Duration::from_secs(10));
    assert_eq!(
        Started::model(&status, "keep")["pid"],
        keep_pid,
        "keep was not restarted"
    );
    assert_eq!(Started::model(&status, "drop"), &Value::Null);
    assert!(wait_for(Duration::from_secs(5), || drop_pids
        .iter()
        .all(|p| !alive(*p))));
    assert_eq!(started.chat("new").status(), 200);
}

#[test]
fn reload_waits_for_the_models_it_started_and_fails_with_them() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "keep", &[]);
    let started = env.start("c", port);
    env.add_mock("c", "slow", &["--set", "startup_delay_ms=800"]);
    let out = env.ok(&["--config", "c", "reload"]);
    assert!(out.contains("added slow"), "{out}");
    assert_eq!(
        Started::model(&started.status(), "slow")["state"],
        "ready",
        "reload returned once the added model was ready: {out}"
    );
    assert!(
        out.contains(" slow ") && out.contains("ready"),
        "the table: {out}"
    );

    // --no-wait returns while the restarted model starts.
    env.ok(&["--config", "c", "edit-model", "slow", "--set", "tokens=3"]);
    let out = env.ok(&["--config", "c", "reload", "--no-wait"]);
    assert!(out.contains("restarted slow"), "{out}");
    let state = Started::model(&started.status(), "slow")["state"].clone();
    assert!(state == "pending" || state == "starting", "{state}");
    started.wait_state("slow", "ready", Duration::from_secs(10));

    // A model that fails to start fails the reload, as it fails start.
    env.ok(&[
        "--config",
        "c",
        "add-model",
        "bad",
        "--engine",
        "command",
        "--port",
        &free_port().to_string(),
        "--command",
        "sh -c 'echo weights not found >&2; exit 3' {port}",
    ]);
    let run = env.run(&["--config", "c", "--json", "reload"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("failed to start: bad"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.json()["added"],
        json!(["bad"]),
        "--json prints the summary"
    );
    assert_eq!(Started::model(&started.status(), "keep")["state"], "ready");
}

#[test]
fn reload_restarts_a_changed_model_and_refuses_an_invalid_config() {
    let env = Env::new();
    let port = env.init_fast("c");
    let a_port = free_port().to_string();
    let out = env.ok(&[
        "--config",
        "c",
        "add-model",
        "a",
        "--engine",
        "mock",
        "--port",
        &a_port,
    ]);
    assert!(
        !out.contains("reload"),
        "not running, nothing to reload: {out}"
    );
    env.add_mock("c", "b", &[]);
    let started = env.start("c", port);
    let before = started.status();
    // An edit of a running config says it needs a reload.
    let out = env.ok(&["--config", "c", "edit-model", "a", "--set", "tokens=3"]);
    assert!(
        out.contains("config 'c' is running; apply the change with 'vllm-mux --config c reload'"),
        "{out}"
    );
    let summary = env.run(&["--config", "c", "--json", "reload"]).json();
    assert_eq!(summary["restarted"], json!(["a"]));
    let after = started.wait_state("a", "ready", Duration::from_secs(10));
    assert_ne!(
        Started::model(&after, "a")["pid"],
        Started::model(&before, "a")["pid"]
    );
    assert_eq!(
        Started::model(&after, "b")["pid"],
        Started::model(&before, "b")["pid"]
    );
    // A model disabled by the edit is stopped, and said so, not "restarted".
    env.ok(&["--config", "c", "edit-model", "a", "--disabled"]);
    let run = env.run(&["--config", "c", "reload"]);
    assert!(
        run.stdout.contains("restarted none; stopped (disabled) a"),
        "{}",
        run.stdout
    );
    assert_eq!(Started::model(&started.status(), "a")["state"], "stopped");
    env.ok(&["--config", "c", "edit-model", "a", "--enabled"]);
    let summary = env.run(&["--config", "c", "--json", "reload"]).json();
    assert_eq!(summary["restarted"], json!(["a"]), "{summary}");
    // A hand edit that breaks a rule: reload refuses, models untouched.
    env.set_config_key(
        "c",
        "models",
        json!([{"name": "a", "engine": "mock", "port": 1}]),
    );
    let stderr = env.fails(&["--config", "c", "reload"], 2);
    assert!(stderr.contains("model 'a': port:"), "{stderr}");
    assert_eq!(
        Started::model(&started.status(), "b")["pid"],
        Started::model(&before, "b")["pid"]
    );
}

#[test]
fn stop_one_model_then_start_it_again() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "a", &[]);
    env.add_mock("c", "b", &[]);
    let started = env.start("c", port);
    let out = env.ok(&["--config", "c", "stop", "a"]);
    assert!(out.contains("stopped model 'a'"), "{out}");
    let out = env.ok(&["--config", "c", "stop", "a"]);
    assert!(out.contains("model 'a' was already stopped"), "{out}");
    std::thread::sleep(Duration::from_millis(1100));
    let status = started.status();
    assert_eq!(Started::model(&status, "a")["state"], "stopped");
    // How long each has been in its state, for the table and for scripts.
    let stopped_for = Started::model(&status, "a")["state_for_s"].as_u64();
    let ready_for = Started::model(&status, "b")["state_for_s"].as_u64();
    assert!(matches!(stopped_for, Some(s) if s >= 1), "{status}");
    assert!(ready_for >= stopped_for, "{status}");
    let table = env.ok(&["--config", "c", "status"]);
    let since = table
        .split("stopped ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default();
    assert!(
        since.ends_with('s') && since[..since.len() - 1].parse::<u64>().is_ok(),
        "the state with how long, e.g. 'stopped 1s': {table}"
    );
    assert_eq!(Started::model(&status, "b")["state"], "ready");
    let refused = started.chat("a");
    assert_eq!(refused.status(), 503);
    // Stopped stays stopped until someone starts it: no Retry-After.
    assert_eq!(refused.headers().get("retry-after"), None);
    let body: Value = refused.json().expect("json");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("is stopped: it takes no requests until it is started again"),
        "{body}"
    );
    env.ok(&["--config", "c", "start-model", "a"]);
    assert_eq!(Started::model(&started.status(), "a")["state"], "ready");
    assert_eq!(started.chat("a").status(), 200);
    let stderr = env.fails(&["--config", "c", "stop", "nope"], 2);
    assert!(stderr.contains("no model 'nope'"), "{stderr}");
}

#[test]
fn a_model_that_ignores_sigterm_is_killed_after_the_timeout() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "stubborn", &["--set", "ignore_sigterm=true"]);
    let started = env.start("c", port);
    let pids = all_pids(&started.status());
    env.ok(&["--config", "c", "stop", "stubborn", "--timeout", "1"]);
    // SIGKILL was sent before stop returned; dying takes the kernel a moment.
    assert!(
        wait_for(Duration::from_secs(2), || pids.iter().all(|p| !alive(*p))),
        "SIGKILL followed the timeout"
    );
    let log = env.ok(&["--config", "c", "logs", "stubborn"]);
    assert!(
        log.contains("did not exit within 1 s of SIGTERM; killed"),
        "{log}"
    );
}

#[test]
fn an_unreachable_remote_becomes_unhealthy_and_recovers() {
    let env = Env::new();
    let port = env.init_fast("c");
    let remote_port = free_port();
    let spawn_remote = || crate::helper::remote_mock(remote_port, "far", &[]);
    env.add_remote("c", "far", remote_port, &[]);
    // Down at start: `start` does not wait out startup_timeout_s for a
    // server it does not run; the model is unhealthy, with why, at once.
    env.set_config_key("c", "startup_timeout_s", json!(600));
    let started = env.start("c", port);
    let status = started.status();
    let far = Started::model(&status, "far");
    assert_eq!(far["state"], "unhealthy", "{status:#}");
    let why = last_error(far);
    assert!(
        why.contains(&format!("127.0.0.1:{remote_port}")) && why.contains("does not answer"),
        "{why}"
    );
    assert_eq!(started.chat("far").status(), 503);
    let remote = spawn_remote();
    started.wait_state("far", "ready", Duration::from_secs(10));
    assert_eq!(started.chat("far").status(), 200);
    drop(remote);
    let status = started.wait_state("far", "unhealthy", Duration::from_secs(10));
    assert!(last_error(Started::model(&status, "far")).contains("health checks failed"));
    assert_eq!(started.chat("far").status(), 503);
    let _remote = spawn_remote();
    started.wait_state("far", "ready", Duration::from_secs(10));
    assert_eq!(started.chat("far").status(), 200);
}

#[test]
fn commands_that_need_a_running_config_exit_3() {
    let env = Env::new();
    env.init_fast("c");
    for args in [
        &["--config", "c", "status"][..],
        &["--config", "c", "stop"],
        &["--config", "c", "logs", "-f"],
        &["--config", "c", "reload"],
    ] {
        let stderr = env.fails(args, 3);
        assert!(
            stderr.contains("is not running") && stderr.contains("start"),
            "{stderr}"
        );
    }
}

/// `start --foreground` of config `c`, a child the test kills if it fails.
fn foreground(
    env: &Env,
    stdout: std::process::Stdio,
    vars: &[(&str, &std::ffi::OsStr)],
) -> crate::helper::Child {
    let mut command = env.command(&["--config", "c", "start", "--foreground"]);
    command.stdout(stdout).envs(vars.iter().copied());
    crate::helper::Child(command.spawn().expect("spawn start --foreground"))
}

#[test]
fn foreground_runs_in_this_process_and_stops_cleanly_on_sigterm() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "a", &[]);
    let mut fg = foreground(&env, std::process::Stdio::piped(), &[]);
    let started = env.started("c", port);
    started.wait_state("a", "ready", Duration::from_secs(10));
    assert_eq!(
        env.supervisor_pid("c"),
        Some(fg.pid()),
        "the supervisor is this process"
    );
    let pids = all_pids(&started.status());
    kill("-TERM", fg.pid());
    assert_eq!(fg.wait_timeout(Duration::from_secs(10)), Some(0));
    assert!(pids.iter().all(|p| !alive(*p)), "models stopped with it");
    let out = fg.stdout_text();
    assert!(
        out.contains("'a': starting → ready") && out.contains("supervisor stopped"),
        "{out}"
    );
}

#[test]
fn foreground_stops_its_models_cleanly_when_its_terminal_hangs_up() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "a", &[]);
    let mut fg = foreground(&env, std::process::Stdio::null(), &[]);
    let started = env.started("c", port);
    started.wait_state("a", "ready", Duration::from_secs(10));
    let pids = all_pids(&started.status());
    kill("-HUP", fg.pid());
    assert_eq!(fg.wait_timeout(Duration::from_secs(15)), Some(0));
    assert!(pids.iter().all(|p| !alive(*p)), "models stopped with it");
    let log = env.ok(&["--config", "c", "logs", "a"]);
    assert!(
        log.contains("mock-engine: SIGTERM, shutting down") && log.contains("stopping → stopped"),
        "stopped by SIGTERM, not killed by the guard: {log}"
    );
}

#[test]
fn on_a_terminal_start_and_stop_say_what_they_wait_for() {
    use expectrl::Expect;
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "a", &["--set", "startup_delay_ms=300"]);
    let _started = env.started("c", port);
    let terminal = |args: &[&str]| {
        let mut session = expectrl::session::OsSession::spawn(env.command_for_terminal(args))
            .expect("spawn in a pseudo-terminal");
        session.set_expect_timeout(Some(Duration::from_secs(15)));
        session
    };
    let mut start = terminal(&["--config", "c", "start"]);
    for text in [
        format!("starting config 'c': proxy on http://127.0.0.1:{port}"),
        "starting".to_string(),
        "ready on port".to_string(),
    ] {
        if let Err(err) = start.expect(text.as_str()) {
            panic!("start never said {text:?}: {err}");
        }
    }
    start.expect(expectrl::Eof).expect("start ends");
    let mut stop = terminal(&["--config", "c", "stop", "--timeout", "3"]);
    for text in [
        "stopping config 'c': SIGTERM, then SIGKILL for what is still running after 3 s",
        "stopped config 'c'",
    ] {
        if let Err(err) = stop.expect(text) {
            panic!("stop never said {text:?}: {err}");
        }
    }
}

#[test]
fn on_a_terminal_start_shows_what_a_slow_model_is_doing() {
    use expectrl::Expect;
    let env = Env::new();
    let port = env.init_fast("c");
    // Longer than the 3 s between a starting model's log lines on screen.
    env.add_mock("c", "a", &["--set", "startup_delay_ms=4500"]);
    let _started = env.started("c", port);
    let mut start =
        expectrl::session::OsSession::spawn(env.command_for_terminal(&["--config", "c", "start"]))
            .expect("spawn in a pseudo-terminal");
    start.set_expect_timeout(Some(Duration::from_secs(20)));
    for text in [
        "starting",
        // The engine's own newest line, without its timestamp.
        "s: mock-engine: loading 'a' (startup delay 4500 ms)",
        "ready on port",
    ] {
        if let Err(err) = start.expect(text) {
            panic!("start never said {text:?}: {err}");
        }
    }
    start.expect(expectrl::Eof).expect("start ends");
}

#[test]
fn foreground_keeps_working_when_its_output_is_closed() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "a", &["--set", "startup_delay_ms=300"]);
    let mut fg = foreground(&env, std::process::Stdio::piped(), &[]);
    // As `start --foreground | head -1` does once head has its line.
    drop(fg.0.stdout.take());
    let started = env.started("c", port);
    started.wait_state("a", "ready", Duration::from_secs(10));
    // The model's runner still takes commands after logging into the closed pipe.
    env.ok(&["--config", "c", "stop", "a"]);
    env.ok(&["--config", "c", "start-model", "a"]);
    assert_eq!(started.chat("a").status(), 200);
    kill("-TERM", fg.pid());
    assert_eq!(fg.wait_timeout(Duration::from_secs(15)), Some(0));
    let log = env.ok(&["--config", "c", "logs", "proxy"]);
    assert!(log.contains("supervisor stopped"), "{log}");
}

/// Datagrams on a socket standing in for systemd's, until one has `until`.
fn notifications_until(socket: &std::os::unix::net::UnixDatagram, until: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen.iter().any(|m: &String| m.contains(until)) {
        let n = socket
            .recv(&mut buf)
            .unwrap_or_else(|err| panic!("no {until} after {seen:?}: {err}"));
        seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    seen
}

#[test]
fn foreground_under_systemd_tells_ready_status_watchdog_and_stopping() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "a", &["--set", "startup_delay_ms=500"]);
    let path = env.home().join("notify");
    let socket = std::os::unix::net::UnixDatagram::bind(&path).expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    let mut fg = foreground(
        &env,
        std::process::Stdio::null(),
        &[
            ("NOTIFY_SOCKET", path.as_os_str()),
            ("WATCHDOG_USEC", std::ffi::OsStr::new("400000")),
        ],
    );
    let started = env.started("c", port);

    let seen = notifications_until(&socket, "READY=1");
    let url = format!("http://127.0.0.1:{port}");
    assert!(
        seen.iter()
            .any(|m| m.contains(&format!("STATUS=proxy on {url}; models: 1 starting"))),
        "the start is told while it lasts: {seen:?}"
    );
    // `seen` ends with the first READY=1: the model was ready by then.
    assert!(
        seen.iter()
            .any(|m| m.contains(&format!("STATUS=proxy on {url}; models: 1 ready"))),
        "READY=1 waits for the model, as start does: {seen:?}"
    );
    assert_eq!(Started::model(&started.status(), "a")["state"], "ready");
    notifications_until(&socket, "WATCHDOG=1");

    // Engines do not inherit the service manager's variables.
    let engine = started.engine_pid("a");
    let environ = std::fs::read(format!("/proc/{engine}/environ")).expect("environ");
    let environ = String::from_utf8_lossy(&environ);
    assert!(
        !environ.contains("NOTIFY_SOCKET") && !environ.contains("WATCHDOG_USEC"),
        "{environ}"
    );

    kill("-TERM", fg.pid());
    notifications_until(&socket, "STOPPING=1");
    assert_eq!(fg.wait_timeout(Duration::from_secs(15)), Some(0));
}

#[test]
fn a_background_supervisor_does_not_answer_for_the_service_manager() {
    let env = Env::new();
    let port = env.init_fast("c");
    let path = env.home().join("notify");
    let socket = std::os::unix::net::UnixDatagram::bind(&path).expect("bind");
    socket.set_nonblocking(true).expect("nonblocking");
    let run = env
        .command(&["--config", "c", "start"])
        .env("NOTIFY_SOCKET", &path)
        .output()
        .expect("start");
    let _started = env.started("c", port);
    assert!(run.status.success(), "{run:?}");
    let mut buf = [0u8; 4096];
    let got = socket
        .recv(&mut buf)
        .map(|n| String::from_utf8_lossy(&buf[..n]).into_owned());
    assert!(
        got.is_err(),
        "the daemon is not the unit's main process: {got:?}"
    );
}

#[test]
fn no_wait_returns_while_models_start_and_timeout_gives_up_waiting() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "slow", &["--set", "startup_delay_ms=3000"]);
    let started = env.started("c", port);
    let out = env.ok(&["--config", "c", "start", "--no-wait"]);
    assert!(out.contains("started config 'c'"), "{out}");
    assert_eq!(
        Started::model(&started.status(), "slow")["state"],
        "starting"
    );
    // Status shows what a loading server last said.
    assert!(
        wait_for(Duration::from_secs(2), || {
            Started::model(&started.status(), "slow")["detail"]
                == "mock-engine: loading 'slow' (startup delay 3000 ms)"
        }),
        "{}",
        started.status()
    );
    // start-model of a model that is starting waits for it like start does.
    let out = env.ok(&["--config", "c", "start-model", "slow"]);
    assert!(out.contains("ready"), "{out}");
    assert!(
        out.starts_with("config c "),
        "no progress lines, so no blank line before the table: {out:?}"
    );
    env.ok(&["--config", "c", "stop"]);
    let stderr = env.fails(&["--config", "c", "start", "--timeout", "1"], 1);
    assert!(
        stderr.contains("gave up waiting after 1 s; still starting: slow"),
        "{stderr}"
    );
    started.wait_state("slow", "ready", Duration::from_secs(10));
    // start-model takes the same two flags.
    env.ok(&["--config", "c", "stop", "slow"]);
    let out = env.ok(&["--config", "c", "start-model", "slow", "--no-wait"]);
    assert!(out.contains("starting model 'slow'"), "{out}");
    let state = Started::model(&started.status(), "slow")["state"].clone();
    assert!(state == "stopped" || state == "starting", "{state}");
    started.wait_state("slow", "ready", Duration::from_secs(10));
    env.ok(&["--config", "c", "stop", "slow"]);
    let stderr = env.fails(
        &["--config", "c", "start-model", "slow", "--timeout", "1"],
        1,
    );
    assert!(
        stderr.contains("gave up waiting after 1 s; still starting: slow"),
        "{stderr}"
    );
}

#[test]
fn wait_waits_for_models_started_without_waiting() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "slow", &["--set", "startup_delay_ms=1500"]);
    env.add_mock("c", "spare", &[]);
    env.add_mock("c", "off", &["--disabled"]);
    let stderr = env.fails(&["--config", "c", "wait"], 3);
    assert!(stderr.contains("'c' is not running"), "{stderr}");
    let started = env.started("c", port);
    env.ok(&["--config", "c", "start", "--no-wait"]);
    let stderr = env.fails(&["--config", "c", "wait", "slow", "--timeout", "0"], 1);
    assert!(
        stderr.contains("gave up waiting after 0 s; still starting: slow"),
        "{stderr}"
    );
    let out = env.ok(&["--config", "c", "wait", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&out).expect("status JSON");
    for model in ["slow", "spare"] {
        assert_eq!(Started::model(&report, model)["state"], "ready", "{out}");
    }
    // A name that is not there is a usage error that lists what runs.
    let stderr = env.fails(&["--config", "c", "wait", "slow", "nosuch"], 2);
    assert!(
        stderr.contains("no model nosuch in the running config 'c'")
            && stderr.contains("it runs: slow, spare, off"),
        "{stderr}"
    );
    // A model stopped on purpose will never be ready: a script must not go on.
    env.ok(&["--config", "c", "stop", "spare"]);
    let status = started.status();
    for (model, why) in [
        ("spare", "stopped on request; start-model starts it again"),
        ("off", "disabled in the config (edit-model --enabled)"),
    ] {
        assert_eq!(Started::model(&status, model)["detail"], why);
    }
    let stderr = env.fails(&["--config", "c", "wait", "spare"], 1);
    assert!(
        stderr.contains("stopped, so not ready: spare")
            && stderr.contains("vllm-mux --config c start-model spare"),
        "{stderr}"
    );
    // Waiting for everything counts the stopped one as settled.
    env.ok(&["--config", "c", "wait", "-q"]);
}

#[test]
fn the_vllm_engine_runs_the_exact_command_line_with_its_gpus() {
    let env = Env::with_gpus(4);
    let port = env.init_fast("c");
    let (script, record) = fake_vllm(&env);
    let model_port = free_port().to_string();
    env.ok(&[
        "--config",
        "c",
        "add-model",
        "qwen",
        "--model",
        "Qwen/Qwen2.5-7B-Instruct",
        "--gpus",
        "2,3",
        "--port",
        &model_port,
        "--lora",
        "sql=/m/sql",
        "--profile",
        "low_memory",
        "--set",
        "max_model_len=2048",
    ]);
    let started = env.started("c", port);
    let run = start_with_vllm(&env, &script, &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let call = std::fs::read_to_string(&record).expect("vllm was called");
    assert_eq!(
        call,
        format!("serve Qwen/Qwen2.5-7B-Instruct --served-model-name qwen --host 127.0.0.1 --port {model_port} --tensor-parallel-size 2 --enable-lora --lora-modules sql=/m/sql --enforce-eager --gpu-memory-utilization 0.7 --max-model-len 2048 --max-num-seqs 64\nCUDA_VISIBLE_DEVICES=2,3\n")
    );
    assert_eq!(started.chat("qwen").status(), 200);
}

#[test]
fn a_missing_vllm_executable_refuses_the_start_before_anything_runs() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "other", &[]);
    env.ok(&[
        "--config",
        "c",
        "add-model",
        "qwen",
        "--model",
        "Qwen/Qwen2.5-7B-Instruct",
        "--port",
        &free_port().to_string(),
    ]);
    let _started = env.started("c", port);
    let run = start_with_vllm(&env, "/nonexistent/vllm", &[]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "error: model 'qwen' runs vLLM, but VLLM_MUX_VLLM=/nonexistent/vllm is not an executable file"
        ) && stderr.contains("hint: install vLLM")
            && stderr.contains("nothing was started"),
        "{stderr}"
    );
    assert_eq!(env.supervisor_pid("c"), None, "nothing runs");
    let run = env
        .command(&["--config", "c", "start"])
        .env_remove("VLLM_MUX_VLLM")
        .env("PATH", "/nonexistent")
        .output()
        .expect("start");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no 'vllm' executable is on PATH"),
        "{stderr}"
    );
}

#[test]
fn a_vllm_executable_gone_by_launch_fails_the_model_with_a_clear_line() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let port = env.init_fast("c");
    // The first group holds the second back while the executable goes away.
    env.add_mock(
        "c",
        "first",
        &["--priority", "0", "--set", "startup_delay_ms=1500"],
    );
    env.ok(&[
        "--config",
        "c",
        "add-model",
        "qwen",
        "--model",
        "Qwen/Qwen2.5-7B-Instruct",
        "--port",
        &free_port().to_string(),
        "--priority",
        "1",
    ]);
    let vllm = env.home().join("vllm");
    std::fs::write(&vllm, "#!/bin/sh\nexit 1\n").expect("write");
    std::fs::set_permissions(&vllm, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let started = env.started("c", port);
    let run = start_with_vllm(&env, &vllm, &["--no-wait"]);
    assert!(run.status.success(), "{run:?}");
    std::fs::remove_file(&vllm).expect("remove");
    started.wait_state("qwen", "failed", Duration::from_secs(15));
    let status = started.status();
    let qwen = Started::model(&status, "qwen");
    assert!(last_error(qwen).contains("could not be run"), "{status:#}");
    assert!(
        qwen["log_tail"]
            .to_string()
            .contains(&format!("cannot run '{}'", vllm.display())),
        "{status:#}"
    );
}

#[test]
fn status_watch_refreshes_and_logs_follow_new_lines() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "a", &[]);
    let started = env.start("c", port);
    let watch = env
        .command(&["--config", "c", "status", "--watch"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("watch");
    let follow = env
        .command(&["--config", "c", "logs", "a", "-f", "-n", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("follow");
    let json_watch = env
        .command(&["--config", "c", "--json", "status", "--watch"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("json watch");
    let follow_all = env
        .command(&["--config", "c", "logs", "all", "-f", "-n", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("follow all");
    let mut follow_all = crate::helper::Child(follow_all);
    let (mut watch, mut follow) = (crate::helper::Child(watch), crate::helper::Child(follow));
    let mut json_watch = crate::helper::Child(json_watch);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(started.chat("a").status(), 200);
    std::thread::sleep(Duration::from_millis(2600));
    env.ok(&["--config", "c", "stop"]);
    assert_eq!(
        follow.wait_timeout(Duration::from_secs(5)),
        Some(0),
        "logs -f ends when the config stops"
    );
    assert_eq!(
        watch.wait_timeout(Duration::from_secs(5)),
        Some(3),
        "status --watch ends with 3 when it stops"
    );
    let followed = follow.stdout_text();
    assert!(
        followed.contains("POST /v1/chat/completions") && followed.contains("stopped"),
        "{followed}"
    );
    assert_eq!(follow_all.wait_timeout(Duration::from_secs(5)), Some(0));
    let all = follow_all.stdout_text();
    // Both files, each line under its name, in time order across them.
    assert!(
        all.contains("proxy | ") && all.contains("supervisor stopped"),
        "{all}"
    );
    assert!(
        all.contains("a | ") && all.contains("mock-engine: stopped"),
        "{all}"
    );
    let stamps: Vec<&str> = all
        .lines()
        .filter_map(|l| l.split_once(" | "))
        .filter_map(|(_, rest)| rest.split(' ').next())
        .collect();
    assert!(stamps.len() >= 6, "{all}");
    assert!(
        stamps.windows(2).all(|w| w[0] <= w[1]),
        "in time order:\n{all}"
    );
    let watched = watch.stdout_text();
    assert!(
        watched.matches("MODEL").count() >= 2,
        "refreshed at least once:\n{watched}"
    );
    // For scripts: one report per line (JSON Lines), no screen clearing.
    assert_eq!(json_watch.wait_timeout(Duration::from_secs(5)), Some(3));
    let lines = json_watch.stdout_text();
    let reports: Vec<Value> = lines
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one report"))
        .collect();
    assert!(reports.len() >= 2, "{lines}");
    assert!(reports.iter().all(|r| r["models"].is_array()), "{lines}");
}

#[test]
fn the_command_engine_runs_a_template_and_checks_its_health_path() {
    let env = Env::new();
    let port = env.init_fast("c");
    let model_port = free_port().to_string();
    let template = format!(
        "{} mock-engine --port {{port}} --served-model-name {{name}}",
        crate::helper::BIN
    );
    env.ok(&[
        "--config",
        "c",
        "add-model",
        "cmd",
        "--engine",
        "command",
        "--command",
        &template,
        "--health-path",
        "/v1/models",
        "--port",
        &model_port,
        "--set",
        "tokens=3",
    ]);
    let started = env.start("c", port);
    let reply: Value = started.chat("cmd").json().expect("json");
    assert_eq!(
        reply["usage"]["completion_tokens"], 2,
        "max_tokens 2 caps --tokens 3"
    );
    let log = env.ok(&["--config", "c", "logs", "cmd"]);
    assert!(log.contains("mock-engine: serving 'cmd'"), "{log}");
}

#[test]
fn a_model_that_keeps_crashing_ends_failed_with_its_log_lines() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "flaky", &[]);
    let started = env.start("c", port);
    let mut killed_guard = None;
    for round in 1..=5 {
        // Until the runner notices a kill, status still shows the old guard.
        let moved_on = wait_for(Duration::from_secs(10), || {
            Started::model(&started.try_status(), "flaky")["pid"].as_u64() != killed_guard
        });
        assert!(moved_on, "round {round}: status kept the killed process");
        let status = started.wait_state("flaky", "ready", Duration::from_secs(20));
        let guard = Started::model(&status, "flaky")["pid"]
            .as_u64()
            .expect("pid") as u32;
        killed_guard = Some(u64::from(guard));
        let engine = children(guard)[0];
        kill("-9", engine);
        assert!(wait_for(Duration::from_secs(5), || !alive(engine)));
    }
    let status = started.wait_state("flaky", "failed", Duration::from_secs(10));
    let flaky = Started::model(&status, "flaky");
    assert_eq!(flaky["restarts"], 4);
    assert!(
        last_error(flaky).contains("crashed 5 times within 10 minutes"),
        "{status:#}"
    );
    assert!(
        flaky["log_tail"]
            .to_string()
            .contains("mock-engine: serving 'flaky'"),
        "{status:#}"
    );
    // A person can start it again, with a fresh count.
    env.ok(&["--config", "c", "start-model", "flaky"]);
    assert_eq!(Started::model(&started.status(), "flaky")["state"], "ready");
}

#[test]
fn replicas_share_the_load_and_stop_one_at_a_time() {
    let env = Env::new();
    let port = env.init_fast("c");
    let (r1, r2) = (free_port().to_string(), free_port().to_string());
    env.add_mock(
        "c",
        "m",
        &[
            "--set",
            "tokens=20",
            "--set",
            "token_delay_ms=100",
            "--replica",
            &format!(":{r1}"),
            "--replica",
            &format!(":{r2}"),
        ],
    );
    let show = env.ok(&["--config", "c", "show"]);
    assert!(show.contains(&format!("| {r1} | {r2}")), "{show}");
    let started = env.start("c", port);
    let status = started.status();
    let names: Vec<&str> = status["models"]
        .as_array()
        .expect("models")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(names, ["m", "m@1", "m@2"]);
    // Six streams at once: least outstanding requests spreads them over the copies.
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let url = started.url("/v1/chat/completions");
            std::thread::spawn(move || {
                http()
                    .post(url)
                    .json(&json!({"model": "m", "messages": [], "stream": true}))
                    .send()
                    .and_then(|r| {
                        // Read the whole stream, so all six are in flight together.
                        let status = r.status().as_u16();
                        r.text().map(|_| status)
                    })
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().expect("thread").expect("request"), 200);
    }
    let status = started.status();
    // Streams last 2 s, so they overlap and every copy gets some (2 each
    // when all six start together; a loaded machine may start them later).
    let served: Vec<u64> = ["m", "m@1", "m@2"]
        .iter()
        .filter_map(|c| Started::model(&status, c)["requests"].as_u64())
        .collect();
    assert_eq!(served.iter().sum::<u64>(), 6, "{status:#}");
    assert!(
        served.iter().all(|n| *n >= 1),
        "every copy served some: {served:?}"
    );
    // Logs: the model's name covers every copy, a copy's id only itself.
    let all_copies = env.ok(&["--config", "c", "logs", "m", "-n", "500"]);
    assert!(
        ["m |", "m@1 |", "m@2 |"]
            .iter()
            .all(|p| all_copies.contains(p)),
        "{all_copies}"
    );
    let one_copy = env.ok(&["--config", "c", "logs", "m@1", "-n", "500"]);
    assert!(
        one_copy.contains("serving 'm' on 127.0.0.1:") && !one_copy.contains(" | "),
        "{one_copy}"
    );
    assert!(env
        .ok(&["--config", "c", "logs", "all", "-n", "500"])
        .contains("m@2 |"));
    // One copy stopped: the others keep serving; the model name stops them all.
    env.ok(&["--config", "c", "stop", "m@1"]);
    assert_eq!(Started::model(&started.status(), "m@1")["state"], "stopped");
    assert_eq!(started.chat("m").status(), 200);
    env.ok(&["--config", "c", "stop", "m"]);
    let status = started.status();
    assert!(
        ["m", "m@1", "m@2"]
            .iter()
            .all(|c| Started::model(&status, c)["state"] == "stopped"),
        "{status:#}"
    );
    assert_eq!(started.chat("m").status(), 503);
    env.ok(&["--config", "c", "start-model", "m"]);
    let status = started.status();
    assert!(
        ["m", "m@1", "m@2"]
            .iter()
            .all(|c| Started::model(&status, c)["state"] == "ready"),
        "{status:#}"
    );
}

#[test]
fn engine_output_that_is_not_utf8_or_redrawn_is_logged_and_never_blocks_the_engine() {
    let env = Env::new();
    let port = env.init_fast("c");
    // A byte that is not UTF-8, a progress bar redrawn with \r, then more
    // output than a pipe holds: an engine whose output stopped being read
    // would block in it and never serve.
    let script = env.home().join("noisy.sh");
    std::fs::write(
        &script,
        format!(
            "printf 'bad \\377 byte\\n'\n\
             printf '\\rLoading 50%%\\rLoading 100%%\\n'\n\
             i=0; while [ $i -lt 4000 ]; do echo \"filler line $i, long enough to fill a pipe\"; i=$((i+1)); done\n\
             exec '{}' mock-engine --port \"$1\" --served-model-name \"$2\"\n",
            crate::helper::BIN
        ),
    )
    .expect("script");
    let command = format!("sh {} {{port}} {{name}}", script.display());
    let model_port = free_port().to_string();
    env.ok(&[
        "--config",
        "c",
        "add-model",
        "noisy",
        "--engine",
        "command",
        "--model",
        "x",
        "--port",
        &model_port,
        "--command",
        &command,
    ]);
    let started = env.start("c", port);
    assert_eq!(Started::model(&started.status(), "noisy")["state"], "ready");
    let log = env.ok(&["--config", "c", "logs", "noisy", "-n", "5000"]);
    assert!(log.contains("bad \u{fffd} byte"), "{log}");
    assert!(
        log.contains(" Loading 50%\n") && log.contains(" Loading 100%\n"),
        "each redraw its own line"
    );
    assert!(log.contains("filler line 3999,"), "nothing lost");
}

#[test]
fn a_supervisor_that_does_not_answer_is_still_stopped_and_leaves_nothing() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "a", &[]);
    let started = env.start("c", port);
    let pids = all_pids(&started.status());
    let supervisor = env.supervisor_pid("c").expect("running");
    assert!(state_file_says_ready(&env, &["a"]));
    // Frozen: it takes connections (the kernel does) but answers nothing.
    kill("-STOP", supervisor);
    let status = env.run(&["--config", "c", "status"]);
    assert_eq!(status.code, 1, "{}", status.stderr);
    assert!(
        status.stderr.contains("did not answer in time")
            && status.stderr.contains("; its last state, written ")
            && status.stderr.contains(": a ready\n")
            && status.stderr.contains("stop' stops it anyway"),
        "{}",
        status.stderr
    );
    let stop = env.run(&["--config", "c", "stop", "--timeout", "1"]);
    assert_eq!(stop.code, 0, "{}", stop.stderr);
    assert!(
        stop.stderr.contains("sending it SIGTERM, then SIGKILL"),
        "{}",
        stop.stderr
    );
    assert!(
        wait_for(Duration::from_secs(5), || !alive(supervisor)
            && pids.iter().all(|p| !alive(*p))),
        "the supervisor and every engine process are gone"
    );
    // Killed on request, so not reported as a supervisor that died.
    let stderr = env.fails(&["--config", "c", "status"], 3);
    assert!(!stderr.contains("ended without"), "{stderr}");
}

/// `KEY=VALUE` entries of a process's environment.
fn environ(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/environ"))
        .unwrap_or_default()
        .split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

#[test]
fn a_models_environment_reaches_its_server_and_a_change_restarts_it() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock(
        "c",
        "a",
        &[
            "--env",
            "MUX_TEST_MODE=fast=yes",
            "--env",
            "MUX_TEST_OTHER=1",
        ],
    );
    let shown = env.ok(&["--config", "c", "-v", "show"]);
    assert!(
        shown.contains("a: MUX_TEST_MODE=fast=yes MUX_TEST_OTHER=1"),
        "{shown}"
    );
    let started = env.start("c", port);
    let vars = environ(started.engine_pid("a"));
    assert!(
        vars.iter().any(|v| v == "MUX_TEST_MODE=fast=yes"),
        "{vars:?}"
    );

    env.ok(&[
        "--config",
        "c",
        "edit-model",
        "a",
        "--unset-env",
        "MUX_TEST_MODE",
    ]);
    let summary: Value = env.run(&["--config", "c", "--json", "reload"]).json();
    assert_eq!(summary["restarted"], json!(["a"]), "{summary}");
    let vars = environ(started.engine_pid("a"));
    assert!(
        !vars.iter().any(|v| v.starts_with("MUX_TEST_MODE=")),
        "{vars:?}"
    );
    assert!(vars.iter().any(|v| v == "MUX_TEST_OTHER=1"), "{vars:?}");

    let err = env.fails(
        &["--config", "c", "edit-model", "a", "--unset-env", "NOPE"],
        2,
    );
    assert!(
        err.contains("no environment variable 'NOPE'") && err.contains("MUX_TEST_OTHER"),
        "{err}"
    );
    let run = env.run(&["--config", "c", "edit-model", "a", "--env", "HF_TOKEN=hf_x"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("HF_TOKEN's value is saved in the config file"),
        "{}",
        run.stderr
    );
    let err = env.fails(
        &[
            "--config",
            "c",
            "edit-model",
            "a",
            "--env",
            "VLLM_API_KEY=sk",
        ],
        2,
    );
    assert!(err.contains("--backend-api-key-env"), "{err}");
}

/// Issue 21: a port held by one of our own running configs is named as
/// such, with the command that frees it.
#[test]
fn a_port_held_by_another_running_config_names_it() {
    let env = Env::new();
    let demo_port = env.init_fast("demo");
    env.add_mock("demo", "chat", &[]);
    let demo = env.start("demo", demo_port);
    let chat_port = Started::model(&demo.status(), "chat")["port"]
        .as_u64()
        .expect("a port")
        .to_string();
    env.init_fast("c");
    env.ok(&[
        "--config",
        "c",
        "add-model",
        "a",
        "--engine",
        "mock",
        "--port",
        &chat_port,
    ]);
    let err = env.fails(&["--config", "c", "start"], 2);
    assert!(
        err.contains(&format!(
            "model 'a': port: {chat_port} is already in use on this machine, by model 'chat' of running config 'demo'"
        )) && err.contains("hint: 'vllm-mux --config demo stop' frees its ports"),
        "{err}"
    );
    env.ok(&[
        "--config",
        "c",
        "edit-model",
        "a",
        "--port",
        &free_port().to_string(),
    ]);
    env.ok(&[
        "--config",
        "c",
        "edit-proxy",
        "--port",
        &demo_port.to_string(),
    ]);
    let err = env.fails(&["--config", "c", "start"], 2);
    assert!(
        err.contains(&format!(
            "port {demo_port} of the proxy (127.0.0.1) is already in use on this machine, by the proxy of running config 'demo'"
        )),
        "{err}"
    );
    drop(demo);
}
