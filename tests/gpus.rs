//! GPUs with a fake 4-GPU inventory: across configs, in status and metrics,
//! and free GPU memory before vLLM servers start.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::helper::{fake_vllm, free_port, start_with_vllm, wait_for, Env, Started};

/// A mock model on `gpus` (comma-separated), on a free port.
fn add(env: &Env, config: &str, name: &str, gpus: &str, extra: &[&str]) {
    let mut args = vec!["--gpus", gpus];
    args.extend_from_slice(extra);
    env.add_mock(config, name, &args);
}

#[test]
fn a_running_config_holds_its_gpus_against_another() {
    let env = Env::with_gpus(4);
    let port_a = env.init_fast("team-a");
    add(&env, "team-a", "a", "0", &[]);
    add(
        &env,
        "team-a",
        "half",
        "2",
        &["--gpu-memory-utilization", "0.5"],
    );
    let _a = env.start("team-a", port_a);

    let port_b = env.init_fast("team-b");
    add(&env, "team-b", "b", "0", &[]);
    let b = env.started("team-b", port_b);
    let stderr = env.fails(&["--config", "team-b", "start"], 2);
    assert!(
        stderr
            .contains("model 'b': gpu_ids: GPU 0 is held by model 'a' of running config 'team-a'"),
        "{stderr}"
    );
    assert!(
        env.supervisor_pid("team-b").is_none(),
        "nothing was started"
    );

    // Another GPU is fine; sharing GPU 2 by memory fraction is fine too.
    env.ok(&["--config", "team-b", "edit-model", "b", "--gpus", "1"]);
    add(
        &env,
        "team-b",
        "other-half",
        "2",
        &["--gpu-memory-utilization", "0.45"],
    );
    let run = env.run(&["--config", "team-b", "start"]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // But not beyond 0.95, and not by reload either.
    add(
        &env,
        "team-b",
        "greedy",
        "2",
        &["--gpu-memory-utilization", "0.4"],
    );
    let stderr = env.fails(&["--config", "team-b", "reload"], 2);
    assert!(
        stderr.contains("GPU 2") && stderr.contains("'half' of running config 'team-a'"),
        "{stderr}"
    );
    assert_eq!(
        Started::model(&b.status(), "greedy"),
        &serde_json::Value::Null,
        "the refused reload added nothing"
    );
}

#[test]
fn status_and_metrics_show_the_gpus_and_their_models() {
    let env = Env::with_gpus(4);
    let port = env.init_fast("c");
    env.set_config_key("c", "gpu_sample_interval_s", json!(1));
    add(&env, "c", "big", "1,2", &[]);
    let started = env.start("c", port);
    let status = started.status();
    assert_eq!(status["gpus"].as_array().map(Vec::len), Some(4));
    assert_eq!(status["gpus"][1]["utilization_percent"], 10);
    let table = env.ok(&["--config", "c", "status"]);
    let gpu_line = table
        .lines()
        .find(|l| l.trim_start().starts_with("2 ") && l.contains("Fake H100"))
        .unwrap_or("");
    assert!(
        gpu_line.contains("big"),
        "the GPU table names the model that holds it:\n{table}"
    );
    let metrics = reqwest::blocking::get(started.url("/metrics"))
        .expect("metrics")
        .text()
        .expect("text");
    assert!(
        metrics.contains("vllm_mux_gpu_utilization_percent{gpu=\"3\"} 30"),
        "{metrics}"
    );
    assert!(
        metrics.contains("vllm_mux_gpu_memory_used_bytes{gpu=\"1\"} 1073741824"),
        "{metrics}"
    );
}

#[test]
fn gpus_lists_the_processes_on_each_gpu() {
    let env = Env::with_gpus(1);
    env.write_fake_gpus(json!([{
        "index": 0, "name": "Fake A100", "memory_total_mib": 81920, "memory_used_mib": 70000,
        "utilization_percent": 93, "temperature_c": 61, "power_w": 312.5,
        "processes": [{"pid": 4242, "name": "python3", "used_memory_mib": 69000}]
    }]));
    let table = env.ok(&["gpus"]);
    assert!(
        table.contains("pid 4242 python3 (69000 MiB)")
            && table.contains("61°C")
            && table.contains("312 W"),
        "{table}"
    );
    let json = env.run(&["--json", "gpus"]).json();
    assert_eq!(json[0]["processes"][0]["pid"], 4242);
}

/// GPU 0 of 81559 MiB with `used` MiB held by `processes`.
fn gpu0(env: &Env, used: u64, processes: Value) {
    env.write_fake_gpus(json!([{
        "index": 0, "name": "Fake H100", "memory_total_mib": 81559, "memory_used_mib": used,
        "utilization_percent": 0, "processes": processes
    }]));
}

/// Config "c" on that one GPU, all free, with a stand-in for vLLM: the
/// environment, the proxy's port and the stand-in.
fn on_one_gpu() -> (Env, u16, PathBuf) {
    let env = Env::with_gpus(1);
    let port = env.init_fast("c");
    let (script, _) = fake_vllm(&env);
    gpu0(&env, 0, json!([]));
    (env, port, script)
}

/// A vLLM model of config "c" on GPU 0, asking for `fraction` of it.
fn add_vllm(env: &Env, name: &str, fraction: &str, extra: &[&str]) {
    let port = free_port().to_string();
    let mut args = vec![
        "--config",
        "c",
        "add-model",
        name,
        "--model",
        "Qwen/Qwen2.5-7B-Instruct",
        "--gpus",
        "0",
        "--port",
        &port,
        "--gpu-memory-utilization",
        fraction,
    ];
    args.extend_from_slice(extra);
    env.ok(&args);
}

fn set_fraction(env: &Env, name: &str, fraction: &str) {
    env.ok(&[
        "--config",
        "c",
        "edit-model",
        name,
        "--gpu-memory-utilization",
        fraction,
    ]);
}

/// `start` of config "c" with the stand-in; its stderr, and whether it succeeded.
fn start(env: &Env, script: &Path) -> (bool, i32, String) {
    let run = start_with_vllm(env, script, &[]);
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    (
        run.status.success(),
        run.status.code().unwrap_or(-1),
        stderr,
    )
}

#[test]
fn a_gpu_another_process_holds_refuses_the_start_and_says_who_holds_it() {
    let (env, port, script) = on_one_gpu();
    gpu0(
        &env,
        40000,
        json!([{"pid": 4242, "name": "python3", "used_memory_mib": 39500}]),
    );
    add_vllm(&env, "qwen", "0.9", &[]);
    let started = env.started("c", port);
    // vLLM's 0.9 of the GPU is not free: refused before a minute of loading.
    let (_, code, stderr) = start(&env, &script);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("GPU 0: 'qwen' need 73404 MiB free (gpu_memory_utilization of 81559 MiB) but only 41559 MiB are free, held by pid 4242 python3 (39500 MiB)")
            && stderr.contains("hint: free the GPU"),
        "{stderr}"
    );
    env.fails(&["--config", "c", "status"], 3);
    // Asking for what is free starts it.
    set_fraction(&env, "qwen", "0.45");
    let (ok, _, stderr) = start(&env, &script);
    assert!(ok, "{stderr}");
    assert_eq!(started.chat("qwen").status(), 200);
}

#[test]
fn reload_and_start_model_refuse_what_the_free_gpu_memory_cannot_hold() {
    let (env, port, script) = on_one_gpu();
    env.set_config_key("c", "gpu_sample_interval_s", json!(1));
    add_vllm(&env, "qwen", "0.45", &[]);
    let started = env.started("c", port);
    let (ok, _, stderr) = start(&env, &script);
    assert!(ok, "{stderr}");
    // qwen's server now holds 36702 MiB of GPU 0, a stranger 40000.
    let qwen = started.engine_pid("qwen");
    let holding = json!([
        {"pid": qwen, "name": "VLLM::EngineCore", "used_memory_mib": 36702},
        {"pid": 4242, "name": "python3", "used_memory_mib": 40000}
    ]);
    gpu0(&env, 76702, holding);

    // A second model does not fit next to both: refused, nothing changed.
    add_vllm(&env, "coder", "0.45", &[]);
    let stderr = env.fails(&["--config", "c", "reload"], 2);
    assert!(
        stderr.contains("GPU 0: 'coder' need 36702 MiB free (gpu_memory_utilization of 81559 MiB) but only 4857 MiB are free")
            && stderr.contains(&format!("pid {qwen} VLLM::EngineCore (36702 MiB, c/qwen)"))
            && stderr.contains("pid 4242 python3 (40000 MiB)")
            && stderr.contains("hint: free the GPU")
            && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    let status = started.status();
    assert!(
        status["models"].as_array().is_some_and(|m| m.len() == 1),
        "{status}"
    );
    // `gpus` tells the model's process from the stranger's.
    let gpus = env.run(&["--json", "gpus"]).json();
    assert_eq!(gpus[0]["processes"][0]["owner"], "c/qwen", "{gpus}");
    assert_eq!(gpus[0]["processes"][1]["owner"], Value::Null, "{gpus}");
    let table = env.ok(&["gpus"]);
    assert!(
        table.contains(&format!("pid {qwen} VLLM::EngineCore (36702 MiB, c/qwen)"))
            && table.contains("pid 4242 python3 (40000 MiB)"),
        "{table}"
    );
    // `status` points at what holds the GPU besides the models, once the
    // supervisor has sampled the GPUs again (every second here).
    let stranger_shown = || {
        let status = env.ok(&["--config", "c", "status"]);
        let row = status
            .split("other processes on its GPUs:\n")
            .nth(1)
            .and_then(|rest| rest.lines().next());
        row.is_some_and(|row| {
            row.starts_with("  GPU 0  pid 4242 python3 (40000 MiB)")
                && !row.contains(&qwen.to_string())
        })
    };
    assert!(wait_for(Duration::from_secs(5), stranger_shown));
    let json = started.status();
    assert_eq!(json["gpus"][0]["processes"][0]["owner"], "c/qwen", "{json}");
    assert_eq!(started.engine_pid("qwen"), qwen, "qwen kept running");

    // Restarting qwen frees what its own server holds: the change fits.
    env.ok(&["--config", "c", "remove-model", "coder"]);
    set_fraction(&env, "qwen", "0.5");
    let out = env.ok(&["--config", "c", "reload"]);
    assert!(out.contains("restarted qwen"), "{out}");
    assert_ne!(started.engine_pid("qwen"), qwen, "qwen restarted");

    // A stopped model is not started into memory a stranger took meanwhile.
    env.ok(&["--config", "c", "stop", "qwen"]);
    gpu0(
        &env,
        60000,
        json!([{"pid": 4242, "name": "python3", "used_memory_mib": 60000}]),
    );
    let stderr = env.fails(&["--config", "c", "start-model", "qwen"], 2);
    assert!(
        stderr.contains("GPU 0: 'qwen' need 40780 MiB free (gpu_memory_utilization of 81559 MiB) but only 21559 MiB are free, held by pid 4242 python3 (60000 MiB)")
            && stderr.contains("nothing was started"),
        "{stderr}"
    );
    assert_eq!(
        Started::model(&started.status(), "qwen")["state"],
        "stopped"
    );
    gpu0(&env, 0, json!([]));
    env.ok(&["--config", "c", "start-model", "qwen"]);
    assert_eq!(started.chat("qwen").status(), 200);
}

#[test]
fn a_swap_group_member_started_by_name_counts_the_memory_the_running_one_gives_back() {
    let (env, port, script) = on_one_gpu();
    add_vllm(&env, "qwen", "0.9", &["--swap-group", "g"]);
    add_vllm(&env, "coder", "0.9", &["--swap-group", "g"]);
    let started = env.started("c", port);
    let (ok, _, stderr) = start(&env, &script);
    assert!(ok, "{stderr}");
    let status = started.status();
    let running = if Started::model(&status, "qwen")["state"] == "ready" {
        "qwen"
    } else {
        "coder"
    };
    let other = if running == "qwen" { "coder" } else { "qwen" };
    // The member that runs holds 90% of the GPU; it gives way for the other.
    let pid = started.engine_pid(running);
    gpu0(
        &env,
        73404,
        json!([{"pid": pid, "name": "VLLM::EngineCore", "used_memory_mib": 73404}]),
    );
    env.ok(&["--config", "c", "start-model", other]);
    let status = started.status();
    assert_eq!(Started::model(&status, other)["state"], "ready", "{status}");
    assert_eq!(
        Started::model(&status, running)["state"],
        "idle",
        "{status}"
    );
}

/// Issue 21: on a machine with GPUs, a vLLM model that names none would
/// take whatever CUDA_VISIBLE_DEVICES the supervisor has, where no conflict
/// check can see it: refused, unless `--gpus none` says so on purpose.
#[test]
fn a_vllm_model_must_name_its_gpus_or_none_on_a_machine_with_gpus() {
    let env = Env::with_gpus(2);
    let port = env.init_fast("c");
    let model_port = free_port().to_string();
    let add = |extra: &[&str]| {
        let mut args = vec![
            "--config",
            "c",
            "add-model",
            "q",
            "--model",
            "org/q",
            "--port",
            &model_port,
        ];
        args.extend_from_slice(extra);
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>()
    };
    let args = add(&[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let err = env.fails(&args, 2);
    assert!(
        err.contains("model 'q': gpu_ids: names no GPU on a machine with GPUs 0, 1")
            && err.contains("--gpus 0")
            && err.contains("--gpus none to run it without one"),
        "{err}"
    );
    let args = add(&["--gpus", "none"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.ok(&args);
    let saved = &env.run(&["--config", "c", "--json", "show"]).json()["config"]["models"][0];
    assert_eq!(saved["gpu_ids"], serde_json::json!([]));
    assert_eq!(saved["environment"]["CUDA_VISIBLE_DEVICES"], "");
    // Its server sees no GPU.
    let (script, record) = fake_vllm(&env);
    let started = env.started("c", port);
    let run = start_with_vllm(&env, &script, &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let call = std::fs::read_to_string(&record).expect("recorded");
    assert!(call.contains("CUDA_VISIBLE_DEVICES=\n"), "{call}");
    drop(started);
    // Naming GPUs later takes the choice back.
    env.ok(&["--config", "c", "edit-model", "q", "--gpus", "1"]);
    let saved = &env.run(&["--config", "c", "--json", "show"]).json()["config"]["models"][0];
    assert_eq!(saved["gpu_ids"], serde_json::json!([1]));
    assert!(
        saved["environment"].get("CUDA_VISIBLE_DEVICES").is_none(),
        "{saved}"
    );
    let err = env.fails(&["--config", "c", "edit-model", "q", "--gpus", "x"], 2);
    assert!(err.contains("'x' is not a GPU index"), "{err}");
}

/// Issue 21: the GPU table is shown when the config's models use GPUs,
/// not for a config whose models use none.
#[test]
fn the_gpu_table_is_shown_only_when_a_model_uses_a_gpu() {
    let env = Env::with_gpus(2);
    let port = env.init_fast("c");
    env.add_mock("c", "chat", &[]);
    let started = env.start("c", port);
    let table = env.ok(&["--config", "c", "status"]);
    assert!(
        !table.contains("Fake H100") && !table.contains("GPU  NAME"),
        "{table}"
    );
    assert_eq!(
        started.status()["gpus"].as_array().map(Vec::len),
        Some(2),
        "still in --json"
    );
    env.add_mock("c", "gpu", &["--gpus", "1"]);
    env.ok(&["--config", "c", "reload"]);
    let table = env.ok(&["--config", "c", "status"]);
    assert!(
        table.contains("Fake H100") && table.contains("GPU  NAME"),
        "{table}"
    );
}
