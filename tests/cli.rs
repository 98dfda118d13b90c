//! The command line as a user meets it: help, exit codes, JSON output.

use crate::helper::Env;

#[test]
fn help_lists_every_command_of_the_design() {
    let env = Env::new();
    let help = env.ok(&["--help"]);
    for command in [
        "init",
        "add-model",
        "edit-model",
        "edit-proxy",
        "remove-model",
        "list",
        "show",
        "gpus",
        "start",
        "status",
        "logs",
        "stop",
        "start-model",
        "reload",
        "export",
        "import",
        "profiles",
        "shortcuts",
        "completions",
        "mock-engine",
    ] {
        assert!(
            help.contains(&format!("  {command} ")),
            "help lacks {command}:\n{help}"
        );
    }
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let env = Env::new();
    let run = env.run(&["init", "--colour"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--colour"));
}

#[test]
fn init_then_add_models_then_show() {
    let env = Env::new();
    let out = env.ok(&["init"]);
    assert!(out.contains("created config 'default'"), "{out}");
    env.ok(&[
        "add-model",
        "chat",
        "--engine",
        "mock",
        "--alias",
        "gpt-4o-mini",
    ]);
    env.ok(&[
        "add-model",
        "qwen",
        "--model",
        "Qwen/Qwen2.5-7B-Instruct",
        "--profile",
        "low_memory",
        "--priority",
        "1",
    ]);
    // From 8001 up, past whatever else listens here (the demo, say).
    let json = env.run(&["--json", "show"]).json();
    let ports = crate::helper::auto_ports(1, &[8000]);
    assert_eq!(json["config"]["models"][0]["port"], ports[0]);
    let first = ports[0];
    let second = crate::helper::auto_ports(1, &[8000, first])[0];
    assert_eq!(json["config"]["models"][1]["port"], second);
    let show = env.ok(&["show"]);
    for needle in [
        "http://0.0.0.0:8000",
        "chat",
        "mock",
        "gpt-4o-mini",
        "qwen",
        "Qwen/Qwen2.5-7B-Instruct",
        "low_memory",
        &first.to_string(),
        &second.to_string(),
    ] {
        assert!(show.contains(needle), "show lacks {needle}:\n{show}");
    }
    assert_eq!(json["name"], "default");
    assert_eq!(json["config"]["models"][1]["loading_priority"], 1);
}

#[test]
fn init_takes_every_proxy_flag() {
    let env = Env::new();
    env.ok(&[
        "--config",
        "lab",
        "init",
        "--host",
        "127.0.0.1",
        "--port",
        "9000",
        "--no-cors",
        "--no-metrics",
        "--log-requests",
        "--api-key-env",
        "LAB_KEY",
    ]);
    let json = env.run(&["--config", "lab", "--json", "show"]).json();
    let c = &json["config"];
    assert_eq!(c["host"], "127.0.0.1");
    assert_eq!(c["port"], 9000);
    assert_eq!(c["enable_cors"], false);
    assert_eq!(c["enable_metrics"], false);
    assert_eq!(c["log_requests"], true);
    assert_eq!(c["api_key_env"], "LAB_KEY");
}

#[test]
fn init_twice_needs_force_and_keeps_a_backup() {
    let env = Env::new();
    env.ok(&["init"]);
    env.ok(&["add-model", "a", "--engine", "mock"]);
    let stderr = env.fails(&["init"], 2);
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    env.ok(&["init", "--force", "--port", "9100"]);
    let backup = env.home().join("configs").join("default.json.bak");
    let old = std::fs::read_to_string(backup).expect("backup kept");
    assert!(old.contains("\"a\""), "{old}");
}

#[test]
fn config_env_var_selects_the_config() {
    let env = Env::new();
    let run = env
        .command(&["init", "--port", "9200"])
        .env("VLLM_MUX_CONFIG", "team")
        .output()
        .expect("run");
    assert!(run.status.success());
    assert!(env.config_file("team").exists());
}

#[test]
fn edit_model_changes_only_what_is_given() {
    let env = Env::new();
    env.ok(&["init"]);
    env.ok(&[
        "add-model",
        "a",
        "--model",
        "org/a",
        "--alias",
        "x",
        "--set",
        "max_model_len=4096",
        "--set",
        "dtype=half",
    ]);
    let out = env.ok(&[
        "edit-model",
        "a",
        "--port",
        "8500",
        "--unset",
        "dtype",
        "--disabled",
    ]);
    // What changed, as edit-proxy says it.
    assert!(
        out.contains(
            "changed model 'a' of config 'default': config_overrides.dtype removed, enabled false, port 8500"
        ),
        "{out}"
    );
    let again = env.ok(&["edit-model", "a", "--port", "8500"]);
    assert!(
        again.contains("already had these settings; nothing changed"),
        "{again}"
    );
    let m = &env.run(&["--json", "show"]).json()["config"]["models"][0];
    assert_eq!(m["port"], 8500);
    assert_eq!(m["aliases"][0], "x");
    assert_eq!(m["model_path"], "org/a");
    assert_eq!(m["enabled"], false);
    assert_eq!(
        m["config_overrides"],
        serde_json::json!({"max_model_len": 4096})
    );
    env.ok(&[
        "edit-model",
        "a",
        "--enabled",
        "--clear",
        "aliases",
        "--clear",
        "port",
    ]);
    let m = &env.run(&["--json", "show"]).json()["config"]["models"][0];
    assert_eq!(m["enabled"], true);
    assert_eq!(m["aliases"], serde_json::json!([]));
    assert_eq!(
        m["port"],
        crate::helper::auto_ports(1, &[8000])[0],
        "a cleared port is assigned again"
    );
}

#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let env = Env::new();
    env.ok(&["init"]);
    for args in [
        &["show"][..],
        &["profiles", "--json"],
        &["completions", "bash"],
    ] {
        // The reader is gone before the command starts (`... | head -0`);
        // dropping it after the spawn would race the command's first print.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = env
            .command(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
        assert_eq!(out.status.signal(), Some(13), "{args:?}: SIGPIPE, as ls");
    }
}

fn saved(env: &Env) -> serde_json::Value {
    let text = std::fs::read_to_string(env.config_file("default")).expect("read");
    serde_json::from_str(&text).expect("json")
}

#[test]
fn edit_proxy_changes_only_the_settings_given_and_keeps_the_models() {
    let env = Env::new();
    env.ok(&["init", "--port", "8000", "--log-requests"]);
    env.ok(&["add-model", "a", "--engine", "mock"]);
    let out = env.ok(&[
        "edit-proxy",
        "--port",
        "8080",
        "--no-cors",
        "--set",
        "queue_timeout_s=30",
        "--set",
        "backend-timeout-s=120",
    ]);
    assert!(
        out.contains("port 8080") && out.contains("queue_timeout_s 30"),
        "{out}"
    );
    let config = saved(&env);
    assert_eq!(config["port"], 8080);
    assert_eq!(config["enable_cors"], false);
    assert_eq!(config["log_requests"], true, "not given, not changed");
    assert_eq!(config["queue_timeout_s"], 30);
    assert_eq!(config["backend_timeout_s"], 120);
    assert_eq!(config["models"][0]["name"], "a", "models are kept");
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["--json", "edit-proxy", "--api-key-env", "KEYS"]))
            .expect("json");
    assert_eq!(json["settings"]["api_key_env"], "KEYS");
    let again = env.ok(&["edit-proxy", "--port", "8080"]);
    assert!(again.contains("nothing changed"), "{again}");
    env.ok(&["edit-proxy", "--no-api-key", "--cors"]);
    let config = saved(&env);
    assert_eq!(config["api_key_env"], serde_json::Value::Null);
    assert_eq!(config["enable_cors"], true);
}

#[test]
fn edit_proxy_refuses_what_it_cannot_set_and_changes_nothing() {
    let env = Env::new();
    env.ok(&["init"]);
    let before = env.snapshot();
    for (args, needle) in [
        (&["edit-proxy"][..], "needs at least one setting"),
        (
            &["edit-proxy", "--set", "colour=blue"],
            "'colour' is not a proxy setting",
        ),
        (
            &["edit-proxy", "--set", "models=[]"],
            "'models' is not a proxy setting",
        ),
        (
            &["edit-proxy", "--set", "queue_timeout_s=soon"],
            "queue_timeout_s: 'soon' is not a whole number",
        ),
        (
            &["edit-proxy", "--set", "startup_timeout_s=0"],
            "startup_timeout_s",
        ),
        (&["edit-proxy", "--port", "0"], "port"),
    ] {
        let err = env.fails(args, 2);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    env.fails(&["edit-proxy", "--cors", "--no-cors"], 2);
    env.fails(&["--config", "nope", "edit-proxy", "--port", "9000"], 2);
    assert_eq!(env.snapshot(), before, "nothing was written");
}

#[test]
fn logs_of_an_unknown_model_say_what_there_is() {
    let env = Env::new();
    env.ok(&["init"]);
    let err = env.fails(&["logs", "nope"], 2);
    assert!(
        err.contains("hint: use proxy or all (the config has no models)"),
        "{err}"
    );
}

#[test]
fn logs_since_shows_only_the_lines_from_then_on() {
    let env = Env::new();
    env.ok(&["init"]);
    let stamp = |ago: u64| {
        let t = std::time::SystemTime::now() - std::time::Duration::from_secs(ago);
        humantime::format_rfc3339_millis(t).to_string()
    };
    let recent = stamp(60);
    let log = format!(
        "{} vllm-mux: two days ago\n{} vllm-mux: two hours ago\n{recent} vllm-mux: a minute ago\n",
        stamp(2 * 86400),
        stamp(2 * 3600),
    );
    let dir = env.home().join("logs/default");
    std::fs::create_dir_all(&dir).expect("logs dir");
    std::fs::write(dir.join("proxy.log"), log).expect("write log");
    // A rotated file holds what came before.
    let rotated = format!("{} vllm-mux: three hours ago\n", stamp(3 * 3600));
    std::fs::write(dir.join("proxy.log.1"), rotated).expect("write rotated log");
    let shown = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["logs", "proxy"];
        all.extend_from_slice(args);
        env.ok(&all)
            .lines()
            .map(|l| l.split_once(": ").map_or(l, |(_, t)| t).to_string())
            .collect()
    };
    assert_eq!(shown(&["--since", "3h"]), ["two hours ago", "a minute ago"]);
    assert_eq!(
        shown(&["--since", "4h"]),
        ["three hours ago", "two hours ago", "a minute ago"],
        "from the rotated file on"
    );
    assert_eq!(shown(&["--since", "1d", "-n", "1"]), ["a minute ago"]);
    let day_ago = stamp(86400);
    assert_eq!(
        shown(&["--since", &day_ago]),
        ["three hours ago", "two hours ago", "a minute ago"]
    );
    assert_eq!(
        shown(&[]).len(),
        3,
        "without --since, the current file's last 50"
    );
    let none = env.ok(&["logs", "--since", "30s"]);
    assert!(none.starts_with("no log lines since "), "{none}");
    // For scripts: one JSON object per line, its source and time apart.
    let json = env.ok(&["--json", "logs", "--since", "3h"]);
    let objects: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(objects.len(), 2, "{json}");
    assert_eq!(objects[1]["source"], "proxy");
    assert_eq!(objects[1]["line"], "vllm-mux: a minute ago");
    assert_eq!(objects[1]["time"], recent.as_str());
    let err = env.fails(&["logs", "--since", "yesterday-ish"], 2);
    assert!(
        err.contains("neither a duration (30m, 2h, 1d) nor a UTC time"),
        "{err}"
    );
}

#[test]
fn remove_model_removes_it() {
    let env = Env::new();
    env.ok(&["init"]);
    env.ok(&["add-model", "a", "--engine", "mock"]);
    env.ok(&["add-model", "b", "--engine", "mock"]);
    let json = env.run(&["--json", "remove-model", "a"]).json();
    assert_eq!(json["models"], serde_json::json!(["b"]));
}

#[test]
fn automatic_ports_skip_ports_of_other_configs() {
    let env = Env::new();
    env.ok(&["--config", "one", "init"]);
    let one = env
        .run(&[
            "--config",
            "one",
            "--json",
            "add-model",
            "a",
            "--engine",
            "mock",
        ])
        .json();
    let a = u16::try_from(one["model"]["port"].as_u64().expect("a port")).expect("a port");
    env.ok(&["--config", "two", "init", "--port", "9000"]);
    let json = env
        .run(&[
            "--config",
            "two",
            "--json",
            "add-model",
            "b",
            "--engine",
            "mock",
        ])
        .json();
    // Not a's, though nothing listens on it while 'one' is stopped.
    assert_eq!(
        json["model"]["port"],
        crate::helper::auto_ports(1, &[9000, a])[0]
    );
}

#[test]
fn list_shows_configs_with_model_counts() {
    let env = Env::new();
    assert!(env.ok(&["list"]).contains("no configs yet"));
    env.ok(&["--config", "one", "init"]);
    env.ok(&["--config", "one", "add-model", "a", "--engine", "mock"]);
    env.ok(&["--config", "two", "init", "--port", "9000"]);
    let json = env.run(&["--json", "list"]).json();
    assert_eq!(json[0]["name"], "one");
    assert_eq!(json[0]["models"], 1);
    assert_eq!(json[0]["running"], false);
    assert_eq!(json[1]["name"], "two");
    assert_eq!(json[1]["port"], 9000);
    let table = env.ok(&["list"]);
    assert!(table.contains("one") && table.contains("9000"), "{table}");
}

#[test]
fn profiles_lists_builtin_and_user_profiles() {
    let env = Env::new();
    let profiles_dir = env.home().join("profiles");
    std::fs::create_dir_all(&profiles_dir).expect("mkdir");
    std::fs::write(
        profiles_dir.join("tiny.json"),
        r#"{"description": "for tests", "config": {"max_model_len": 1024}}"#,
    )
    .expect("write");
    let json = env.run(&["--json", "profiles"]).json();
    let names: Vec<&str> = json
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in [
        "standard",
        "high_throughput",
        "low_memory",
        "long_context",
        "tiny",
    ] {
        assert!(names.contains(&name), "{names:?}");
    }
    let table = env.ok(&["profiles"]);
    assert!(
        table.contains("tiny") && table.contains("--max-model-len 1024"),
        "{table}"
    );
    env.ok(&["init"]);
    env.ok(&["add-model", "m", "--model", "org/m", "--profile", "tiny"]);
}

#[test]
fn shortcuts_save_and_fill_add_model() {
    let env = Env::new();
    assert!(env.ok(&["shortcuts"]).contains("no shortcuts yet"));
    env.ok(&[
        "shortcuts",
        "add",
        "qwen-fast",
        "--model",
        "Qwen/Qwen2.5-7B-Instruct",
        "--profile",
        "high_throughput",
        "--set",
        "max_model_len=16384",
        "--description",
        "our default chat model",
    ]);
    let json = env.run(&["--json", "shortcuts"]).json();
    assert_eq!(json["qwen-fast"]["model"], "Qwen/Qwen2.5-7B-Instruct");
    env.ok(&["init"]);
    env.ok(&[
        "add-model",
        "chat",
        "--shortcut",
        "qwen-fast",
        "--set",
        "seed=7",
    ]);
    let m = &env.run(&["--json", "show"]).json()["config"]["models"][0];
    assert_eq!(m["model_path"], "Qwen/Qwen2.5-7B-Instruct");
    assert_eq!(m["profile"], "high_throughput");
    assert_eq!(
        m["config_overrides"],
        serde_json::json!({"max_model_len": 16384, "seed": 7})
    );
    let stderr = env.fails(&["shortcuts", "add", "qwen-fast", "--model", "x"], 2);
    assert!(stderr.contains("--force"), "{stderr}");
    env.ok(&["shortcuts", "remove", "qwen-fast"]);
    env.fails(&["shortcuts", "remove", "qwen-fast"], 2);
}

#[test]
fn gpus_without_a_driver_is_not_an_error() {
    let env = Env::new();
    let run = env.run(&["--json", "gpus"]);
    // CI machines have no NVIDIA driver; a machine that has one lists its GPUs.
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.json().is_array());
}

#[test]
fn gpus_saved_on_a_machine_without_a_driver_come_with_a_note() {
    let env = Env::new();
    env.ok(&["init"]);
    let add = [
        "--json",
        "add-model",
        "m",
        "--engine",
        "mock",
        "--gpus",
        "0",
    ];
    let run = env.run(&add);
    if run.code != 0 {
        // A machine with an NVIDIA driver checks the id instead.
        assert!(run.stderr.contains("GPU 0"), "{}", run.stderr);
        return;
    }
    assert!(
        run.stderr.contains("note: GPUs 0 were not checked")
            && run.stderr.contains("VLLM_MUX_FAKE_GPUS"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["model"]["gpu_ids"], serde_json::json!([0]));
    // Only when GPUs are given, and not with --quiet.
    let run = env.run(&["edit-model", "m", "--alias", "mm"]);
    assert!(!run.stderr.contains("note:"), "{}", run.stderr);
    let run = env.run(&["-q", "edit-model", "m", "--gpus", "1"]);
    assert!(!run.stderr.contains("note:"), "{}", run.stderr);
    let run = env.run(&["edit-model", "m", "--gpus", "0"]);
    assert!(run.stderr.contains("note: GPUs 0"), "{}", run.stderr);
}

#[test]
fn gpus_shows_the_fake_inventory_and_claims() {
    let env = Env::with_gpus(4);
    env.ok(&["init"]);
    env.ok(&["add-model", "big", "--model", "org/big", "--gpus", "0,1"]);
    let json = env.run(&["--json", "gpus"]).json();
    assert_eq!(json.as_array().map(Vec::len), Some(4));
    assert_eq!(json[0]["name"], "Fake H100");
    assert_eq!(json[1]["claimed_by"][0]["model"], "big");
    assert_eq!(json[2]["claimed_by"], serde_json::json!([]));
    let table = env.ok(&["gpus"]);
    assert!(table.contains("default/big"), "{table}");
}

#[test]
fn concurrent_add_models_lose_nothing() {
    let env = Env::new();
    env.ok(&["init"]);
    let names: Vec<String> = (0..12).map(|i| format!("m{i}")).collect();
    let children: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let port = (9100 + i).to_string();
            env.command(&["add-model", name, "--engine", "mock", "--port", &port])
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().expect("wait").success());
    }
    let json = env.run(&["--json", "show"]).json();
    let mut saved: Vec<String> = json["config"]["models"]
        .as_array()
        .expect("models")
        .iter()
        .filter_map(|m| m["name"].as_str().map(str::to_string))
        .collect();
    saved.sort();
    let mut expected = names.clone();
    expected.sort();
    assert_eq!(saved, expected, "every concurrent add-model must be kept");
}

#[test]
fn models_lists_the_hugging_face_cache() {
    let env = Env::new();
    let hub = env.home().join("hub");
    let model = hub.join("models--Qwen--Qwen2.5-0.5B-Instruct");
    std::fs::create_dir_all(model.join("blobs")).expect("mkdir");
    std::fs::write(model.join("blobs/weights"), vec![0u8; 3 * 1024 * 1024]).expect("blob");
    std::fs::create_dir_all(model.join("snapshots/abc")).expect("mkdir");
    std::fs::write(model.join("snapshots/abc/config.json"), "{}").expect("config");
    let run = |args: &[&str]| {
        env.command(args)
            .env("HF_HUB_CACHE", &hub)
            .output()
            .expect("run")
    };
    let table = String::from_utf8_lossy(&run(&["models"]).stdout).into_owned();
    assert!(
        table.contains("Qwen/Qwen2.5-0.5B-Instruct")
            && table.contains("3.0 MiB")
            && table.contains("yes"),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&run(&["--json", "models"]).stdout).expect("json");
    assert_eq!(json[0]["id"], "Qwen/Qwen2.5-0.5B-Instruct");
    assert_eq!(json[0]["size_bytes"], 3 * 1024 * 1024);
    let empty = env
        .command(&["--json", "models"])
        .env("HF_HUB_CACHE", env.home().join("none"))
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&empty.stdout).trim(), "[]");
}

/// Issue 21: a hint a user copies acts on the config it is about: with
/// `--config NAME` in it, unless that is `default`.
#[test]
fn every_hint_to_copy_carries_the_config_it_is_about() {
    let env = Env::new();
    let out = env.ok(&[
        "--config",
        "bad",
        "init",
        "--port",
        &crate::helper::free_port().to_string(),
    ]);
    assert!(
        out.contains("next: vllm-mux --config bad add-model NAME"),
        "{out}"
    );
    let port = crate::helper::free_port().to_string();
    env.ok(&[
        "--config",
        "bad",
        "add-model",
        "broken",
        "--engine",
        "command",
        "--model",
        "x",
        "--port",
        &port,
        "--command",
        "sh -c 'echo no port {port}; exit 3'",
    ]);
    // The preflight's port hint.
    let holder = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let taken = holder.local_addr().expect("addr").port().to_string();
    env.ok(&["--config", "bad", "edit-model", "broken", "--port", &taken]);
    let err = env.fails(&["--config", "bad", "start"], 2);
    assert!(
        err.contains("'vllm-mux --config bad edit-model NAME --port P'"),
        "{err}"
    );
    drop(holder);
    // A model that failed: see why in its log, of this config.
    let started = env.started("bad", 0);
    let run = env.run(&["--config", "bad", "start"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("hint: see why with 'vllm-mux --config bad logs broken'"),
        "{}",
        run.stderr
    );
    // A running config reminded how to apply a change.
    let out = env.ok(&[
        "--config",
        "bad",
        "edit-proxy",
        "--set",
        "queue_timeout_s=7",
    ]);
    assert!(
        out.contains("vllm-mux --config bad stop && vllm-mux --config bad start"),
        "{out}"
    );
    let out = env.ok(&["--config", "bad", "edit-model", "broken", "--alias", "b2"]);
    assert!(out.contains("'vllm-mux --config bad reload'"), "{out}");
    drop(started);
    // llama-swap's notes are about the config it becomes.
    let file = env.home().join("swap.yaml");
    std::fs::write(&file, "models:\n  a:\n    cmd: server --port ${PORT}\n").expect("write");
    let out = env.ok(&["import", file.to_str().expect("utf-8"), "--name", "swapped"]);
    assert!(
        out.contains("'vllm-mux --config swapped edit-model NAME --clear swap-group'"),
        "{out}"
    );
    // The default config needs none.
    let out = env.ok(&["init", "--port", &crate::helper::free_port().to_string()]);
    assert!(out.contains("next: vllm-mux add-model NAME"), "{out}");
}

/// Issue 21: a typo in the config's name is said as such, with the names
/// there are, by every command, not "not running" and a hint to start it.
#[test]
fn a_config_that_does_not_exist_is_named_as_such_everywhere() {
    let env = Env::new();
    env.ok(&[
        "--config",
        "mocks",
        "init",
        "--port",
        &crate::helper::free_port().to_string(),
    ]);
    for args in [
        vec!["status"],
        vec!["stop"],
        vec!["logs"],
        vec!["logs", "-f"],
        vec!["logs", "proxy"],
        vec!["wait"],
        vec!["reload"],
        vec!["start-model", "m"],
        vec!["show"],
        vec!["start"],
        vec!["lora", "list"],
    ] {
        let mut full = vec!["--config", "mock"];
        full.extend(&args);
        let err = env.fails(&full, 2);
        assert!(
            err.contains("error: config 'mock' does not exist")
                && err.contains("pick one of: mocks"),
            "{args:?}: {err}"
        );
    }
    // One that exists and is not running is still "not running" (3).
    let err = env.fails(&["--config", "mocks", "status"], 3);
    assert!(err.contains("config 'mocks' is not running"), "{err}");
}
