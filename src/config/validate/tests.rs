//! One test per rule of DESIGN.md section 3: each checks that the problem
//! names the model and the field.

use serde_json::json;

use super::*;
use crate::config::schema::{LoraAdapter, DEFAULT_PROXY_PORT};
use crate::gpu::GpuInfo;

fn gpus(n: u32) -> Inventory {
    Inventory::Detected(
        (0..n)
            .map(|index| GpuInfo {
                index,
                name: "Fake A100".into(),
                memory_total_mib: 81920,
                memory_used_mib: 0,
                utilization_percent: 0,
                temperature_c: None,
                power_w: None,
                processes: Vec::new(),
            })
            .collect(),
    )
}

fn model(name: &str, port: u16) -> ModelConfig {
    ModelConfig {
        model_path: format!("org/{name}"),
        port: Some(port),
        ..ModelConfig::new(name)
    }
}

fn config(models: Vec<ModelConfig>) -> Config {
    Config {
        models,
        ..Config::default()
    }
}

/// The problems of `cfg` on a machine with 4 GPUs. A model that names no
/// GPU runs without one on purpose here (`--gpus none`), so each rule's
/// test sees that rule's problem alone; the rule about GPUs left to chance
/// has its own test.
fn run(cfg: &Config) -> Vec<Problem> {
    let mut cfg = cfg.clone();
    for m in cfg
        .models
        .iter_mut()
        .filter(|m| m.gpu_ids.is_empty() && m.engine == Engine::Vllm)
    {
        m.environment
            .entry("CUDA_VISIBLE_DEVICES".into())
            .or_default();
    }
    let profiles = Profiles::builtin().expect("built-in profiles");
    problems(&cfg, &profiles, &gpus(4))
}

#[test]
fn a_vllm_model_without_gpus_on_a_machine_with_gpus_must_say_so() {
    let profiles = Profiles::builtin().expect("built-in profiles");
    let found = problems(&config(vec![model("a", 8001)]), &profiles, &gpus(2));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        (found[0].model.as_deref(), found[0].field),
        (Some("a"), "gpu_ids")
    );
    assert!(
        found[0]
            .message
            .contains("names no GPU on a machine with GPUs 0, 1"),
        "{}",
        found[0]
    );
    assert!(
        found[0]
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("--gpus none"),
        "{:?}",
        found[0].hint
    );
    // Said on purpose, or nothing to take: no problem.
    let mut cpu = model("a", 8001);
    cpu.environment
        .insert("CUDA_VISIBLE_DEVICES".into(), String::new());
    assert!(problems(&config(vec![cpu]), &profiles, &gpus(2)).is_empty());
    let none = Inventory::Detected(Vec::new());
    assert!(problems(&config(vec![model("a", 8001)]), &profiles, &none).is_empty());
    let mut mock = model("m", 8001);
    mock.engine = Engine::Mock;
    assert!(problems(&config(vec![mock]), &profiles, &gpus(2)).is_empty());
}

/// Exactly one problem, about `model` and `field`, whose text has `needle`.
fn only(cfg: &Config, model: &str, field: &str, needle: &str) {
    let found = run(cfg);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    let p = &found[0];
    assert_eq!(p.model.as_deref(), Some(model), "{p}");
    assert_eq!(p.field, field, "{p}");
    assert!(
        p.message.contains(needle),
        "'{}' lacks '{needle}'",
        p.message
    );
    let line = p.to_string();
    assert!(
        line.contains(&format!("model '{model}'")) && line.contains(field),
        "{line}"
    );
}

#[test]
fn a_good_config_has_no_problems() {
    let mut a = model("a", 8001);
    a.gpu_ids = vec![0, 1];
    a.aliases = vec!["gpt-4o-mini".into()];
    a.profile = Some("high_throughput".into());
    a.lora_adapters = vec![LoraAdapter {
        name: "sql".into(),
        path: "/m/sql".into(),
    }];
    let mut b = model("b", 8002);
    b.gpu_ids = vec![2];
    assert_eq!(run(&config(vec![a, b])), vec![]);
}

#[test]
fn model_names_must_be_unique() {
    only(
        &config(vec![model("a", 8001), model("a", 8002)]),
        "a",
        "name",
        "already named 'a'",
    );
}

#[test]
fn model_names_must_be_plain() {
    only(&config(vec![model("a/b", 8001)]), "a/b", "name", "'/'");
}

#[test]
fn model_names_proxy_and_all_are_reserved() {
    only(&config(vec![model("all", 8001)]), "all", "name", "reserved");
}

#[test]
fn alias_may_not_be_another_models_name() {
    let mut b = model("b", 8002);
    b.aliases = vec!["a".into()];
    only(
        &config(vec![model("a", 8001), b]),
        "b",
        "aliases",
        "the name of model 'a'",
    );
}

#[test]
fn alias_may_not_be_used_twice() {
    let mut a = model("a", 8001);
    a.aliases = vec!["x".into()];
    let mut b = model("b", 8002);
    b.aliases = vec!["x".into()];
    only(&config(vec![a, b]), "b", "aliases", "alias of model 'a'");
}

#[test]
fn alias_may_not_have_spaces() {
    let mut a = model("a", 8001);
    a.aliases = vec!["my model".into()];
    only(&config(vec![a]), "a", "aliases", "space");
}

#[test]
fn lora_name_may_not_clash_with_an_alias() {
    let mut a = model("a", 8001);
    a.aliases = vec!["sql".into()];
    let mut b = model("b", 8002);
    b.lora_adapters = vec![LoraAdapter {
        name: "sql".into(),
        path: "/m".into(),
    }];
    only(
        &config(vec![a, b]),
        "b",
        "lora_adapters",
        "alias of model 'a'",
    );
}

#[test]
fn lora_needs_a_path_and_a_lora_capable_engine() {
    let mut a = model("a", 8001);
    a.lora_adapters = vec![LoraAdapter {
        name: "sql".into(),
        path: " ".into(),
    }];
    only(&config(vec![a]), "a", "lora_adapters", "empty path");
    let mut b = model("b", 8001);
    b.engine = Engine::Command;
    b.command = Some("srv --port {port}".into());
    b.lora_adapters = vec![LoraAdapter {
        name: "sql".into(),
        path: "/m".into(),
    }];
    only(&config(vec![b]), "b", "lora_adapters", "vllm engine");
}

#[test]
fn ports_must_be_unique() {
    only(
        &config(vec![model("a", 8001), model("b", 8001)]),
        "b",
        "port",
        "already used by model 'a'",
    );
}

#[test]
fn port_may_not_be_the_proxy_port() {
    only(
        &config(vec![model("a", DEFAULT_PROXY_PORT)]),
        "a",
        "port",
        "proxy's own port",
    );
}

#[test]
fn port_must_be_at_least_1024() {
    only(&config(vec![model("a", 80)]), "a", "port", "below 1024");
}

#[test]
fn launched_models_need_a_port() {
    let mut a = model("a", 8001);
    a.port = None;
    only(&config(vec![a]), "a", "port", "missing");
}

#[test]
fn gpu_must_exist() {
    let mut a = model("a", 8001);
    a.gpu_ids = vec![7];
    only(&config(vec![a]), "a", "gpu_ids", "GPU 7 does not exist");
}

#[test]
fn gpu_existence_is_not_checked_without_an_inventory() {
    let mut a = model("a", 8001);
    a.gpu_ids = vec![7];
    let profiles = Profiles::builtin().expect("profiles");
    let found = problems(
        &config(vec![a]),
        &profiles,
        &Inventory::Unavailable("no driver".into()),
    );
    assert_eq!(found, vec![]);
}

#[test]
fn gpu_listed_twice_is_a_problem() {
    let mut a = model("a", 8001);
    a.gpu_ids = vec![1, 1];
    only(&config(vec![a]), "a", "gpu_ids", "listed twice");
}

#[test]
fn two_models_on_one_gpu_conflict() {
    let mut a = model("a", 8001);
    a.gpu_ids = vec![0];
    let mut b = model("b", 8002);
    b.gpu_ids = vec![0];
    only(
        &config(vec![a, b]),
        "b",
        "gpu_ids",
        "already used by model 'a'",
    );
}

#[test]
fn a_disabled_model_claims_no_gpu() {
    let mut a = model("a", 8001);
    a.gpu_ids = vec![0];
    a.enabled = false;
    let mut b = model("b", 8002);
    b.gpu_ids = vec![0];
    assert_eq!(run(&config(vec![a, b])), vec![]);
}

#[test]
fn sharing_a_gpu_by_memory_fraction_is_allowed() {
    let mut a = model("a", 8001);
    a.gpu_ids = vec![0];
    a.config_overrides.insert(GPU_MEMORY_KEY.into(), json!(0.5));
    let mut b = model("b", 8002);
    b.gpu_ids = vec![0];
    b.config_overrides
        .insert(GPU_MEMORY_KEY.into(), json!(0.45));
    assert_eq!(run(&config(vec![a, b])), vec![]);
}

#[test]
fn sharing_a_gpu_over_095_conflicts() {
    let mut a = model("a", 8001);
    a.gpu_ids = vec![0];
    a.config_overrides.insert(GPU_MEMORY_KEY.into(), json!(0.5));
    let mut b = model("b", 8002);
    b.gpu_ids = vec![0];
    b.config_overrides.insert(GPU_MEMORY_KEY.into(), json!(0.5));
    only(&config(vec![a, b]), "b", "gpu_ids", "adds up to 1.00");
}

#[test]
fn a_profile_memory_fraction_counts_toward_sharing() {
    // high_throughput sets 0.95, so it cannot share with anything.
    let mut a = model("a", 8001);
    a.gpu_ids = vec![0];
    a.profile = Some("high_throughput".into());
    let mut b = model("b", 8002);
    b.gpu_ids = vec![0];
    b.config_overrides.insert(GPU_MEMORY_KEY.into(), json!(0.3));
    only(&config(vec![a, b]), "b", "gpu_ids", "adds up to 1.25");
}

#[test]
fn memory_fraction_must_be_between_0_and_1() {
    let mut a = model("a", 8001);
    a.config_overrides.insert(GPU_MEMORY_KEY.into(), json!(1.5));
    only(&config(vec![a]), "a", GPU_MEMORY_KEY, "at most 1");
}

#[test]
fn tensor_parallel_size_must_match_the_gpu_count() {
    let mut a = model("a", 8001);
    a.gpu_ids = vec![0, 1];
    a.config_overrides
        .insert("tensor_parallel_size".into(), json!(4));
    only(
        &config(vec![a]),
        "a",
        "config_overrides",
        "number of GPUs (2)",
    );
    let mut ok = model("b", 8001);
    ok.gpu_ids = vec![0, 1];
    ok.config_overrides
        .insert("tensor_parallel_size".into(), json!(2));
    assert_eq!(run(&config(vec![ok])), vec![]);
}

#[test]
fn overrides_may_not_set_what_vllm_mux_sets() {
    let mut a = model("a", 8001);
    a.config_overrides.insert("port".into(), json!(9000));
    only(&config(vec![a]), "a", "config_overrides", "set by vllm-mux");
}

#[test]
fn override_keys_must_be_flag_names_and_set_once() {
    let mut a = model("a", 8001);
    a.config_overrides.insert("max model len".into(), json!(1));
    only(
        &config(vec![a]),
        "a",
        "config_overrides",
        "not an engine flag name",
    );
    let mut b = model("b", 8001);
    b.config_overrides.insert("max_model_len".into(), json!(1));
    b.config_overrides.insert("max-model-len".into(), json!(2));
    only(&config(vec![b]), "b", "config_overrides", "set twice");
}

#[test]
fn profile_must_exist() {
    let mut a = model("a", 8001);
    a.profile = Some("turbo".into());
    only(&config(vec![a]), "a", "profile", "'turbo' does not exist");
}

#[test]
fn vllm_needs_a_model_path() {
    let mut a = model("a", 8001);
    a.model_path.clear();
    only(&config(vec![a]), "a", "model_path", "empty");
}

#[test]
fn mock_needs_no_model_path() {
    let mut a = model("a", 8001);
    a.model_path.clear();
    a.engine = Engine::Mock;
    assert_eq!(run(&config(vec![a])), vec![]);
}

#[test]
fn command_engine_needs_a_template_with_port() {
    let mut a = model("a", 8001);
    a.engine = Engine::Command;
    only(&config(vec![a.clone()]), "a", "command", "missing");
    a.command = Some("llama-server --host {host}".into());
    only(&config(vec![a.clone()]), "a", "command", "{port}");
    a.command = Some("llama-server -m {model} --port {port}".into());
    a.model_path.clear();
    only(&config(vec![a]), "a", "model_path", "{model}");
}

#[test]
fn command_is_only_for_the_command_engine() {
    let mut a = model("a", 8001);
    a.command = Some("x --port {port}".into());
    only(&config(vec![a]), "a", "command", "not vllm");
}

#[test]
fn url_engine_needs_an_http_url_and_no_port_or_gpus() {
    let mut a = ModelConfig::new("remote");
    a.engine = Engine::Url;
    only(&config(vec![a.clone()]), "remote", "url", "missing");
    a.url = Some("ftp://x".into());
    only(&config(vec![a.clone()]), "remote", "url", "not an http");
    a.url = Some("https://10.0.0.5:8000".into());
    only(&config(vec![a.clone()]), "remote", "url", "https");
    a.url = Some("http://10.0.0.5:8000".into());
    assert_eq!(run(&config(vec![a.clone()])), vec![]);
    a.port = Some(8001);
    only(
        &config(vec![a.clone()]),
        "remote",
        "port",
        "launches nothing",
    );
    a.port = None;
    a.gpu_ids = vec![0];
    only(
        &config(vec![a.clone()]),
        "remote",
        "gpu_ids",
        "runs elsewhere",
    );
    a.gpu_ids.clear();
    a.config_overrides.insert("max_model_len".into(), json!(1));
    only(&config(vec![a]), "remote", "config_overrides", "no effect");
}

#[test]
fn url_is_only_for_the_url_engine() {
    let mut a = model("a", 8001);
    a.url = Some("http://x".into());
    only(&config(vec![a]), "a", "url", "not vllm");
}

#[test]
fn health_path_needs_a_slash_and_a_fitting_engine() {
    let mut a = model("a", 8001);
    a.health_path = Some("/ping".into());
    only(
        &config(vec![a]),
        "a",
        "health_path",
        "only for the command and url engines",
    );
    let mut b = model("b", 8001);
    b.engine = Engine::Command;
    b.command = Some("srv --port {port}".into());
    b.health_path = Some("ping".into());
    only(&config(vec![b]), "b", "health_path", "start with '/'");
}

#[test]
fn supervisor_timings_are_checked() {
    let cfg = Config {
        startup_timeout_s: 0,
        health_interval_ms: 10,
        unhealthy_after: 0,
        backend_timeout_s: 0,
        client_header_timeout_s: 0,
        min_residency_s: 31,
        ..Config::default()
    };
    let fields: Vec<&str> = run(&cfg).iter().map(|p| p.field).collect();
    assert_eq!(
        fields,
        [
            "startup_timeout_s",
            "health_interval_ms",
            "unhealthy_after",
            "backend_timeout_s",
            "client_header_timeout_s",
            "min_residency_s"
        ]
    );
    // Swap on every request: no residency, and a waiting model goes at once.
    let per_request = Config {
        min_residency_s: 0,
        max_wait_s: 0,
        ..Config::default()
    };
    assert!(run(&per_request).is_empty());
}

#[test]
fn proxy_settings_are_checked() {
    let cfg = Config {
        host: " ".into(),
        port: 0,
        api_key_env: Some("1BAD".into()),
        ..Config::default()
    };
    let found = run(&cfg);
    let fields: Vec<&str> = found.iter().map(|p| p.field).collect();
    assert_eq!(fields, ["host", "port", "api_key_env"]);
    assert!(found.iter().all(|p| p.model.is_none()));
}

#[test]
fn a_host_is_an_ip_address_or_a_host_name() {
    for good in [
        "0.0.0.0",
        "127.0.0.1",
        "::",
        "::1",
        "[::1]",
        "fe80::1",
        "localhost",
        "gpu-box-3",
        "gpu-box.example.org",
        "gpu-box.example.org.",
        "10-0-0-1.internal",
    ] {
        assert_eq!(host_problem(good), None, "{good}");
    }
    for (bad, says) in [
        ("", "is empty"),
        ("  ", "is empty"),
        ("999.1.1.1", "not an IP address or a host name"),
        ("10.0.0", "not an IP address or a host name"),
        ("nope!", "not an IP address or a host name"),
        ("my host", "not an IP address or a host name"),
        ("-box", "not an IP address or a host name"),
        ("a..b", "not an IP address or a host name"),
        ("http://gpu-box", "not a URL"),
        ("gpu-box:8000", "set on its own"),
        ("0.0.0.0:8000", "set on its own"),
    ] {
        let found = host_problem(bad).unwrap_or_default();
        assert!(found.contains(says), "{bad:?}: {found}");
    }
}

#[test]
fn an_engine_key_in_the_overrides_points_to_backend_api_key_env() {
    let mut m = model("a", 8001);
    m.config_overrides.insert("api-key".into(), json!("sk-1"));
    only(
        &config(vec![m]),
        "a",
        "config_overrides",
        "use --backend-api-key-env VAR",
    );
}

#[test]
fn a_backend_key_is_named_by_an_environment_variable() {
    let mut m = model("a", 8001);
    m.backend_api_key_env = Some("A_KEY".into());
    assert!(run(&config(vec![m.clone()])).is_empty());
    m.backend_api_key_env = Some("sk-123".into());
    only(
        &config(vec![m]),
        "a",
        "backend_api_key_env",
        "is not an environment variable name",
    );
}

#[test]
fn an_idle_timeout_is_positive_and_for_servers_vllm_mux_runs() {
    let mut m = model("a", 8001);
    m.idle_timeout_s = Some(300);
    assert!(run(&config(vec![m.clone()])).is_empty());
    m.idle_timeout_s = Some(0);
    only(&config(vec![m]), "a", "idle_timeout_s", "is 0");
    let mut remote = ModelConfig::new("r");
    remote.engine = Engine::Url;
    remote.url = Some("http://10.0.0.5:8000".into());
    assert!(run(&config(vec![remote.clone()])).is_empty());
    remote.idle_timeout_s = Some(60);
    only(
        &config(vec![remote]),
        "r",
        "idle_timeout_s",
        "a url server is not started or stopped here",
    );
}

#[test]
fn an_engine_environment_is_checked_and_leaves_gpus_and_keys_to_their_fields() {
    let mut m = model("a", 8001);
    m.environment
        .insert("VLLM_ATTENTION_BACKEND".into(), "FLASHINFER".into());
    m.environment
        .insert("CUDA_VISIBLE_DEVICES".into(), String::new());
    assert!(
        run(&config(vec![m.clone()])).is_empty(),
        "no GPUs: may hide them"
    );
    m.gpu_ids = vec![0];
    only(
        &config(vec![m.clone()]),
        "a",
        "environment",
        "comes from the model's GPUs",
    );
    m.environment.remove("CUDA_VISIBLE_DEVICES");
    for (key, value, says) in [
        ("VLLM_API_KEY", "sk-1", "the proxy must know"),
        ("1BAD", "x", "is not an environment variable name"),
        ("GOOD", "a\0b", "NUL byte"),
    ] {
        let mut bad = m.clone();
        bad.environment.insert(key.into(), value.into());
        only(&config(vec![bad]), "a", "environment", says);
    }
    let mut remote = ModelConfig::new("r");
    remote.engine = Engine::Url;
    remote.url = Some("http://10.0.0.5:8000".into());
    remote.environment.insert("X".into(), "1".into());
    only(&config(vec![remote]), "r", "environment", "url server");
}

#[test]
fn a_swap_group_shares_gpus_among_its_members_only() {
    let on_gpu0 = |name: &str, port: u16, group: Option<&str>| {
        let mut m = model(name, port);
        m.gpu_ids = vec![0];
        m.swap_group = group.map(String::from);
        m
    };
    let pair = vec![on_gpu0("a", 8001, Some("g")), on_gpu0("b", 8002, Some("g"))];
    assert!(run(&config(pair.clone())).is_empty());
    let mut three = pair.clone();
    three.push(on_gpu0("c", 8003, Some("other")));
    only(
        &config(three),
        "c",
        "gpu_ids",
        "GPU 0 is already used by model 'a'",
    );
    let mut bad = pair;
    bad[1].swap_group = Some("no space".into());
    bad[1].gpu_ids = vec![1];
    only(&config(bad), "b", "swap_group", "has ' '");
    let mut copies = on_gpu0("a", 8001, Some("g"));
    copies.replicas = vec![crate::config::Replica {
        gpu_ids: vec![0],
        port: Some(8011),
    }];
    only(&config(vec![copies]), "a", "swap_group", "replicas");
}

#[test]
fn sleep_mode_is_for_vllm_and_models_that_go_idle() {
    let mut m = model("a", 8001);
    m.sleep_mode = true;
    only(
        &config(vec![m.clone()]),
        "a",
        "sleep_mode",
        "never goes idle",
    );
    m.idle_timeout_s = Some(60);
    assert!(run(&config(vec![m.clone()])).is_empty());
    m.engine = Engine::Command;
    m.command = Some("srv --port {port}".into());
    only(
        &config(vec![m]),
        "a",
        "sleep_mode",
        "not the command engine's",
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let err = into_result(run(&config(vec![model("a", 80), model("a", 80)])), "fix it")
        .expect_err("invalid");
    let failure = err.downcast_ref::<Failure>().expect("Failure");
    assert_eq!(failure.exit, crate::error::Exit::Usage);
    assert!(failure.more.len() >= 2, "{failure:?}");
}

#[test]
fn a_replica_port_may_not_clash() {
    let mut a = model("a", 8001);
    a.replicas = vec![crate::config::Replica {
        gpu_ids: vec![],
        port: Some(8002),
    }];
    only(
        &config(vec![a, model("b", 8002)]),
        "b",
        "port",
        "already used by model 'a@1'",
    );
}

#[test]
fn a_replica_may_not_take_another_models_gpu() {
    let mut a = model("a", 8001);
    a.gpu_ids = vec![0];
    a.replicas = vec![crate::config::Replica {
        gpu_ids: vec![1],
        port: Some(8003),
    }];
    let mut b = model("b", 8002);
    b.gpu_ids = vec![1];
    only(
        &config(vec![a, b]),
        "b",
        "gpu_ids",
        "already used by model 'a@1'",
    );
}

#[test]
fn every_copy_needs_the_same_number_of_gpus() {
    let mut a = model("a", 8001);
    a.gpu_ids = vec![0];
    a.replicas = vec![crate::config::Replica {
        gpu_ids: vec![1, 2],
        port: Some(8002),
    }];
    only(
        &config(vec![a]),
        "a",
        "replicas",
        "replica 1 has 2 GPU(s) and the model 1",
    );
}

#[test]
fn the_url_engine_has_no_replicas() {
    let mut a = ModelConfig::new("far");
    a.engine = Engine::Url;
    a.url = Some("http://h:1".into());
    a.replicas = vec![crate::config::Replica {
        gpu_ids: vec![],
        port: None,
    }];
    only(&config(vec![a]), "far", "replicas", "url engine");
}

#[test]
fn vllm_flag_values_are_checked_where_their_type_is_known() {
    for (key, value, needle) in [
        (
            "max_model_len",
            json!("abc"),
            "whole number (vLLM also takes 32k or 32K)",
        ),
        ("max-model-len", json!(-5), "whole number"),
        ("max_num_seqs", json!("32k"), "whole number"),
        ("seed", json!(1.5), "whole number"),
        ("enforce_eager", json!("maybe"), "true or false"),
        (
            "dtype",
            json!("fp99"),
            "one of auto, half, float16, bfloat16, float, float32",
        ),
        ("swap_space", json!(-1), "number of at least 0"),
    ] {
        let mut a = model("a", 8001);
        a.config_overrides.insert(key.into(), value.clone());
        only(&config(vec![a]), "a", "config_overrides", needle);
        let found = run(&config(vec![{
            let mut a = model("a", 8001);
            a.config_overrides.insert(key.into(), value);
            a
        }]));
        assert!(
            found[0].message.starts_with(&format!("{key}: ")),
            "{}",
            found[0]
        );
    }
}

#[test]
fn vllm_flag_values_that_vllm_takes_pass() {
    let mut a = model("a", 8001);
    for (key, value) in [
        ("max_model_len", json!("32K")),
        ("max_num_batched_tokens", json!("25.6k")),
        ("max_num_seqs", json!(256)),
        ("enforce_eager", json!(true)),
        ("dtype", json!("bfloat16")),
        ("swap_space", json!(4.5)),
        ("seed", json!(null)),
        ("some_new_flag", json!("anything")),
    ] {
        a.config_overrides.insert(key.into(), value);
    }
    assert_eq!(run(&config(vec![a])), vec![]);
}

#[test]
fn flag_values_of_other_engines_are_theirs_to_check() {
    let mut a = model("a", 8001);
    a.engine = Engine::Command;
    a.command = Some("srv --port {port}".into());
    a.health_path = Some("/health".into());
    a.config_overrides
        .insert("max_model_len".into(), json!("abc"));
    assert_eq!(run(&config(vec![a])), vec![]);
}
