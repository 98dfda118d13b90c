//! LoRA adapters at run time (issue 19), on the mock engine, which serves
//! vLLM's `/v1/load_lora_adapter` and `/v1/unload_lora_adapter`; the same
//! paths against real vLLM are in tests/real_vllm.

use std::path::PathBuf;

use serde_json::Value;

use crate::helper::{model_ids, Env, Started};

/// A folder standing for an adapter's weights (the mock wants the path
/// to be there, as vLLM does).
fn adapter_dir(env: &Env, name: &str) -> PathBuf {
    let dir = env.home().join("adapters").join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// `lora add MODEL NAME DIR` for a fresh adapter folder; what it printed
/// and the folder.
fn add_adapter(env: &Env, model: &str, name: &str) -> (String, PathBuf) {
    let dir = adapter_dir(env, name);
    let path = dir.to_str().expect("utf-8");
    let out = env.ok(&["--config", "c", "lora", "add", model, name, path]);
    (out, dir)
}

fn models(started: &Started<'_>) -> Value {
    crate::helper::http()
        .get(started.url("/v1/models"))
        .send()
        .and_then(|r| r.json())
        .expect("model list")
}

fn code_of(response: reqwest::blocking::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().unwrap_or_default();
    (
        status,
        body["error"]["code"].as_str().unwrap_or("").to_string(),
    )
}

fn saved_adapters(env: &Env) -> Vec<String> {
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(env.config_file("c")).expect("read"))
            .expect("json");
    config["models"][0]["lora_adapters"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_adapter_added_while_the_model_runs_is_loaded_routed_listed_and_removed() {
    let env = Env::new();
    let port = env.init_fast("c");
    let replica = format!(":{}", crate::helper::free_port());
    env.add_mock("c", "m", &["--replica", &replica]);
    let started = env.start("c", port);
    let status = started.status();
    let pid = Started::model(&status, "m")["pid"].clone();
    let (out, _) = add_adapter(&env, "m", "sql");
    assert!(out.contains("added LoRA adapter 'sql'"), "{out}");
    assert!(out.contains("loaded at once on m, m@1"), "{out}");
    // Routed at once, by every copy, and listed.
    for _ in 0..4 {
        assert_eq!(started.chat("sql").status(), 200);
    }
    assert!(model_ids(&models(&started)).contains(&"sql"));
    assert_eq!(saved_adapters(&env), ["sql"]);
    let listed = env.run(&["--config", "c", "--json", "lora", "list"]).json();
    assert_eq!(listed[0]["name"], "sql", "{listed}");
    assert_eq!(
        listed[0]["loaded_on"],
        serde_json::json!(["m", "m@1"]),
        "{listed}"
    );
    let table = env.ok(&["--config", "c", "lora", "list"]);
    assert!(table.contains("m      sql      m, m@1"), "{table}");
    // The change is in the config: reload has nothing to restart.
    let summary = env.run(&["--config", "c", "--json", "reload"]).json();
    assert_eq!(summary["unchanged"], serde_json::json!(["m"]), "{summary}");
    assert_eq!(Started::model(&started.status(), "m")["pid"], pid);
    assert_eq!(started.chat("sql").status(), 200);
    let log = env.ok(&["--config", "c", "logs", "m"]);
    assert!(log.contains("loaded LoRA adapter 'sql'"), "{log}");

    let out = env.ok(&["--config", "c", "lora", "remove", "m", "sql"]);
    assert!(out.contains("unloaded at once on m, m@1"), "{out}");
    assert_eq!(
        code_of(started.chat("sql")),
        (404, "model_not_found".into())
    );
    assert!(!model_ids(&models(&started)).contains(&"sql"));
    assert!(saved_adapters(&env).is_empty());
}

#[test]
fn an_adapter_its_server_cannot_load_changes_nothing() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "m", &[]);
    let started = env.start("c", port);
    let before = std::fs::read(env.config_file("c")).expect("read");
    let err = env.fails(
        &[
            "--config",
            "c",
            "lora",
            "add",
            "m",
            "bad",
            "/nonexistent/adapter",
        ],
        2,
    );
    assert!(
        err.contains("model 'm' could not load LoRA adapter 'bad'")
            && err.contains("No adapter found for /nonexistent/adapter"),
        "{err}"
    );
    assert_eq!(std::fs::read(env.config_file("c")).expect("read"), before);
    assert_eq!(
        code_of(started.chat("bad")),
        (404, "model_not_found".into())
    );
    // Mistakes the config's rules catch, before the supervisor is asked.
    let sql = adapter_dir(&env, "sql");
    let sql_path = sql.to_str().expect("utf-8");
    for (args, said) in [
        (
            vec!["lora", "add", "nope", "x", sql_path],
            "config 'c' has no model 'nope'",
        ),
        (vec!["lora", "add", "m", "m", sql_path], "'m'"),
        (vec!["lora", "add", "m", "bad name", sql_path], "bad name"),
        (
            vec!["lora", "remove", "m", "sql"],
            "model 'm' has no LoRA adapter 'sql'",
        ),
    ] {
        let mut full = vec!["--config", "c"];
        full.extend(args);
        let err = env.fails(&full, 2);
        assert!(err.contains(said), "{full:?}: {err}");
    }
    env.ok(&["--config", "c", "lora", "add", "m", "sql", sql_path]);
    let err = env.fails(&["--config", "c", "lora", "add", "m", "sql", sql_path], 2);
    assert!(err.contains("already has LoRA adapter 'sql'"), "{err}");
    assert!(
        err.contains("hint: remove it first: vllm-mux --config c lora remove m sql"),
        "{err}"
    );
}

#[test]
fn a_server_started_again_loads_its_adapters_when_a_request_wants_one() {
    let env = Env::new();
    let port = env.init_fast("c");
    env.add_mock("c", "m", &[]);
    let started = env.start("c", port);
    add_adapter(&env, "m", "sql");
    // A new server has only what it is started with (none here): the
    // first request for the adapter loads it, instead of a 404 from it.
    env.ok(&["--config", "c", "stop", "m"]);
    env.ok(&["--config", "c", "start-model", "m"]);
    let status = started.status();
    assert!(
        Started::model(&status, "m").get("lora_loaded").is_none(),
        "not loaded yet: {status}"
    );
    assert_eq!(started.chat("sql").status(), 200);
    let status = started.status();
    assert_eq!(
        Started::model(&status, "m")["lora_loaded"],
        serde_json::json!(["sql"])
    );
    // An adapter whose weights are gone by then: a clear 503, never the
    // engine's 404.
    let (_, gone) = add_adapter(&env, "m", "gone");
    env.ok(&["--config", "c", "stop", "m"]);
    std::fs::remove_dir(&gone).expect("rmdir");
    env.ok(&["--config", "c", "start-model", "m"]);
    let response = started.chat("gone");
    assert_eq!(response.status(), 503);
    let body: Value = response.json().expect("json");
    assert_eq!(body["error"]["code"], "adapter_not_loaded", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("could not load LoRA adapter 'gone'")
            && message.contains("No adapter found"),
        "{message}"
    );
}

#[test]
fn adapters_changed_in_the_config_are_applied_by_reload_without_a_restart() {
    let env = Env::new();
    let port = env.init_fast("c");
    let a = adapter_dir(&env, "a");
    let a_arg = format!("a={}", a.display());
    env.add_mock("c", "m", &["--lora", &a_arg]);
    let started = env.start("c", port);
    let pid = Started::model(&started.status(), "m")["pid"].clone();
    assert_eq!(started.chat("a").status(), 200);
    let b = adapter_dir(&env, "b");
    let b_arg = format!("b={}", b.display());
    env.ok(&["--config", "c", "edit-model", "m", "--lora", &b_arg]);
    let summary = env.run(&["--config", "c", "--json", "reload"]).json();
    assert_eq!(summary["updated"], serde_json::json!(["m"]), "{summary}");
    assert_eq!(
        Started::model(&started.status(), "m")["pid"],
        pid,
        "not restarted"
    );
    assert_eq!(started.chat("b").status(), 200);
    assert_eq!(code_of(started.chat("a")), (404, "model_not_found".into()));
}

#[test]
fn a_vllm_server_started_without_lora_takes_an_adapter_at_its_restart() {
    let env = Env::new();
    let port = env.init_fast("c");
    let record = env.home().join("vllm-calls.txt");
    let script = env.script(
        "fake-vllm",
        &format!(
            "echo \"$@ VLLM_ALLOW_RUNTIME_LORA_UPDATING=$VLLM_ALLOW_RUNTIME_LORA_UPDATING\" >> '{record}'\n{}",
            crate::helper::serve_as_vllm(),
            record = record.display(),
        ),
    );
    let model_port = crate::helper::free_port().to_string();
    env.ok(&[
        "--config",
        "c",
        "add-model",
        "v",
        "--model",
        "org/base",
        "--port",
        &model_port,
    ]);
    let started = env.started("c", port);
    let run = crate::helper::start_with_vllm(&env, &script, &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (out, sql) = add_adapter(&env, "v", "sql");
    assert!(
        out.contains("the model's server runs without LoRA")
            && out.contains("'vllm-mux --config c reload' restarts it"),
        "{out}"
    );
    assert_eq!(
        code_of(started.chat("sql")),
        (404, "model_not_found".into()),
        "not routed before"
    );
    let summary = env.run(&["--config", "c", "--json", "reload"]).json();
    assert_eq!(summary["restarted"], serde_json::json!(["v"]), "{summary}");
    let calls = std::fs::read_to_string(&record).expect("calls");
    let last = calls.lines().last().unwrap_or("");
    assert!(
        last.contains(&format!(
            "--enable-lora --lora-modules sql={}",
            sql.display()
        )) && last.ends_with("VLLM_ALLOW_RUNTIME_LORA_UPDATING=True"),
        "{calls}"
    );
}

#[test]
fn a_url_models_adapters_are_routed_to_the_server_that_serves_them() {
    // What `export --format kubernetes` writes for the router: the engine
    // in its pod is started with the adapter, so the router only routes.
    let env = Env::new();
    let port = env.init_fast("c");
    let remote_port = crate::helper::free_port();
    let _remote = crate::helper::remote_mock(remote_port, "base", &["--lora", "sql"]);
    // A path on the remote's side: this side never reads it or loads it.
    env.add_remote(
        "c",
        "base",
        remote_port,
        &["--lora", "sql=/on/the/server/sql-lora"],
    );
    let started = env.start("c", port);
    let (status, code) = code_of(started.chat("sql"));
    assert_eq!((status, code.as_str()), (200, ""), "routed, not loaded");
    assert!(model_ids(&models(&started)).contains(&"sql"));
    let log = env.ok(&["--config", "c", "logs", "base", "-n", "50"]);
    assert!(!log.contains("loaded LoRA adapter"), "{log}");
}
