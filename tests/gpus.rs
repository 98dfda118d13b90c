//! GPUs with a fake 4-GPU inventory: across configs, in status and metrics.

use serde_json::json;

use crate::helper::{Env, Started};

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
        table.contains("4242 python3 (69000 MiB)")
            && table.contains("61°C")
            && table.contains("312 W"),
        "{table}"
    );
    let json = env.run(&["--json", "gpus"]).json();
    assert_eq!(json[0]["processes"][0]["pid"], 4242);
}
