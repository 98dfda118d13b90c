//! Every bad input of DESIGN.md section 3 through the real binary: the exact
//! exit code, a message that names the model and the field, and no file in
//! VLLM_MUX_HOME changed by the failed command.

use crate::helper::Env;

/// A config with model `a` (mock, port 8001, GPU 0) on a machine with 4 fake GPUs.
fn base() -> Env {
    let env = Env::with_gpus(4);
    env.ok(&["init"]);
    env.ok(&[
        "add-model",
        "a",
        "--engine",
        "mock",
        "--gpus",
        "0",
        "--alias",
        "alpha",
        "--lora",
        "sql=/m/sql",
        // Fixed, so the tests do not depend on what listens on this host.
        "--port",
        "8001",
    ]);
    env
}

/// Run `args` on a fresh base config; it must exit `code`, print every
/// needle on stderr, and leave every file as it was.
fn rejected(args: &[&str], code: i32, needles: &[&str]) {
    let env = base();
    let before = env.snapshot();
    let stderr = env.fails(args, code);
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "vllm-mux {args:?}: stderr lacks {needle:?}:\n{stderr}"
        );
    }
    assert_eq!(
        env.snapshot(),
        before,
        "vllm-mux {args:?} changed files although it failed"
    );
}

#[test]
fn duplicate_model_name() {
    rejected(
        &["add-model", "a", "--engine", "mock"],
        2,
        &["already has a model 'a'", "edit-model"],
    );
}

#[test]
fn model_name_with_a_slash() {
    rejected(
        &["add-model", "org/b", "--engine", "mock"],
        2,
        &["model 'org/b'", "name:", "'/'"],
    );
}

#[test]
fn reserved_model_name() {
    rejected(
        &["add-model", "proxy", "--engine", "mock"],
        2,
        &["model 'proxy'", "name:", "reserved"],
    );
}

#[test]
fn alias_equal_to_another_models_name() {
    rejected(
        &["add-model", "b", "--engine", "mock", "--alias", "a"],
        2,
        &["model 'b'", "aliases:", "model 'a'"],
    );
}

#[test]
fn alias_used_twice() {
    rejected(
        &["add-model", "b", "--engine", "mock", "--alias", "alpha"],
        2,
        &["model 'b'", "aliases:", "'alpha'"],
    );
}

#[test]
fn lora_name_used_twice() {
    rejected(
        &["add-model", "b", "--model", "org/b", "--lora", "sql=/x"],
        2,
        &["model 'b'", "lora_adapters:", "'sql'"],
    );
}

#[test]
fn lora_without_a_path_is_a_clap_error() {
    rejected(
        &["add-model", "b", "--model", "org/b", "--lora", "sql"],
        2,
        &["--lora", "NAME=PATH"],
    );
}

#[test]
fn port_used_by_another_model() {
    rejected(
        &["add-model", "b", "--engine", "mock", "--port", "8001"],
        2,
        &["model 'b'", "port:", "model 'a'"],
    );
}

#[test]
fn port_equal_to_the_proxy_port() {
    rejected(
        &["add-model", "b", "--engine", "mock", "--port", "8000"],
        2,
        &["model 'b'", "port:", "proxy"],
    );
}

#[test]
fn port_below_1024() {
    rejected(
        &["add-model", "b", "--engine", "mock", "--port", "1023"],
        2,
        &["model 'b'", "port:", "1024"],
    );
}

#[test]
fn port_above_65535() {
    rejected(
        &["add-model", "b", "--engine", "mock", "--port", "70000"],
        2,
        &["--port", "70000"],
    );
}

#[test]
fn gpu_that_does_not_exist() {
    rejected(
        &["add-model", "b", "--engine", "mock", "--gpus", "7"],
        2,
        &["model 'b'", "gpu_ids:", "GPU 7", "0, 1, 2, 3"],
    );
}

#[test]
fn two_models_on_one_gpu() {
    rejected(
        &["add-model", "b", "--engine", "mock", "--gpus", "0"],
        2,
        &["model 'b'", "gpu_ids:", "'a'", "gpu_memory_utilization"],
    );
}

#[test]
fn shared_gpu_over_the_memory_limit() {
    let env = Env::with_gpus(2);
    env.ok(&["init"]);
    env.ok(&[
        "add-model",
        "a",
        "--engine",
        "mock",
        "--gpus",
        "1",
        "--gpu-memory-utilization",
        "0.5",
    ]);
    let before = env.snapshot();
    let stderr = env.fails(
        &[
            "add-model",
            "b",
            "--engine",
            "mock",
            "--gpus",
            "1",
            "--gpu-memory-utilization",
            "0.5",
        ],
        2,
    );
    assert!(
        stderr.contains("model 'b': gpu_ids:") && stderr.contains("'a'") && stderr.contains("1.00"),
        "{stderr}"
    );
    assert_eq!(env.snapshot(), before);
}

#[test]
fn shared_gpu_within_the_memory_limit_is_accepted() {
    let env = Env::with_gpus(2);
    env.ok(&["init"]);
    env.ok(&[
        "add-model",
        "a",
        "--engine",
        "mock",
        "--gpus",
        "1",
        "--gpu-memory-utilization",
        "0.5",
    ]);
    env.ok(&[
        "add-model",
        "b",
        "--engine",
        "mock",
        "--gpus",
        "1",
        "--gpu-memory-utilization",
        "0.45",
    ]);
}

#[test]
fn memory_fraction_out_of_range() {
    rejected(
        &[
            "add-model",
            "b",
            "--engine",
            "mock",
            "--gpu-memory-utilization",
            "1.5",
        ],
        2,
        &["model 'b'", "gpu_memory_utilization:"],
    );
}

#[test]
fn tensor_parallel_size_other_than_the_gpu_count() {
    rejected(
        &[
            "add-model",
            "b",
            "--model",
            "org/b",
            "--gpus",
            "1,2",
            "--set",
            "tensor_parallel_size=4",
        ],
        2,
        &["model 'b'", "config_overrides:", "tensor_parallel_size"],
    );
}

#[test]
fn override_of_a_flag_vllm_mux_sets() {
    rejected(
        &["add-model", "b", "--model", "org/b", "--set", "port=9999"],
        2,
        &["model 'b'", "config_overrides:", "--port"],
    );
}

#[test]
fn override_value_vllm_would_refuse() {
    rejected(
        &[
            "add-model",
            "b",
            "--model",
            "org/b",
            "--set",
            "max_model_len=abc",
        ],
        2,
        &[
            "model 'b'",
            "config_overrides: max_model_len: 'abc' is not a whole number",
        ],
    );
}

#[test]
fn unknown_profile() {
    rejected(
        &["add-model", "b", "--model", "org/b", "--profile", "turbo"],
        2,
        &["model 'b'", "profile:", "'turbo'", "standard"],
    );
}

#[test]
fn vllm_model_without_model() {
    rejected(&["add-model", "b"], 2, &["--model"]);
}

#[test]
fn command_engine_without_template() {
    rejected(
        &["add-model", "b", "--engine", "command"],
        2,
        &["model 'b'", "command:", "missing"],
    );
}

#[test]
fn command_template_without_port() {
    rejected(
        &[
            "add-model",
            "b",
            "--engine",
            "command",
            "--command",
            "llama-server",
        ],
        2,
        &["model 'b'", "command:", "{port}"],
    );
}

#[test]
fn url_engine_with_a_bad_url() {
    rejected(
        &[
            "add-model",
            "b",
            "--engine",
            "url",
            "--url",
            "localhost:9000",
        ],
        2,
        &["model 'b'", "url:", "http://"],
    );
}

#[test]
fn url_engine_with_gpus() {
    rejected(
        &[
            "add-model",
            "b",
            "--engine",
            "url",
            "--url",
            "http://h:1",
            "--gpus",
            "1",
        ],
        2,
        &["model 'b'", "gpu_ids:"],
    );
}

#[test]
fn health_path_without_a_slash() {
    rejected(
        &[
            "add-model",
            "b",
            "--engine",
            "command",
            "--command",
            "s --port {port}",
            "--health-path",
            "ping",
        ],
        2,
        &["model 'b'", "health_path:"],
    );
}

#[test]
fn edit_of_a_model_that_does_not_exist() {
    rejected(
        &["edit-model", "zzz", "--port", "9001"],
        2,
        &["no model 'zzz'", "a"],
    );
}

#[test]
fn edit_that_breaks_a_rule() {
    rejected(
        &["edit-model", "a", "--port", "8000"],
        2,
        &["model 'a'", "port:"],
    );
}

#[test]
fn unset_of_an_override_that_is_not_set() {
    rejected(
        &["edit-model", "a", "--unset", "seed"],
        2,
        &["no override 'seed'"],
    );
}

#[test]
fn remove_of_a_model_that_does_not_exist() {
    rejected(&["remove-model", "zzz"], 2, &["no model 'zzz'"]);
}

#[test]
fn unknown_shortcut() {
    rejected(
        &["add-model", "b", "--shortcut", "nope"],
        2,
        &["shortcut 'nope'"],
    );
}

#[test]
fn config_name_with_a_slash() {
    rejected(&["--config", "../etc", "show"], 2, &["config name"]);
}

#[test]
fn config_that_does_not_exist() {
    rejected(
        &["--config", "ghost", "add-model", "b", "--engine", "mock"],
        2,
        &["config 'ghost' does not exist", "init"],
    );
}

#[test]
fn bad_proxy_api_key_variable() {
    let env = Env::new();
    let stderr = env.fails(&["init", "--api-key-env", "MY-KEY"], 2);
    assert!(stderr.contains("api_key_env:"), "{stderr}");
    assert!(env.snapshot().is_empty(), "a failed init wrote files");
}

#[test]
fn import_of_an_invalid_config_names_model_and_field() {
    let env = base();
    let file = env.home().join("bad.json");
    std::fs::write(&file, r#"{"models": [{"name": "x", "model_path": "m", "port": 9001}, {"name": "y", "model_path": "m", "port": 9001}]}"#).expect("write");
    let before = env.snapshot();
    let stderr = env.fails(&["import", file.to_str().expect("utf8")], 2);
    assert!(stderr.contains("model 'y': port:"), "{stderr}");
    assert_eq!(env.snapshot(), before);
}

#[test]
fn import_of_a_file_with_a_typo_in_a_key() {
    let env = base();
    let file = env.home().join("typo.json");
    std::fs::write(
        &file,
        "{\n  \"models\": [\n    {\"name\": \"x\", \"gpus\": [0]}\n  ]\n}\n",
    )
    .expect("write");
    let before = env.snapshot();
    let stderr = env.fails(&["import", file.to_str().expect("utf8")], 2);
    assert!(
        stderr.contains("unknown field `gpus`") && stderr.contains("line 3"),
        "{stderr}"
    );
    assert_eq!(env.snapshot(), before);
}
