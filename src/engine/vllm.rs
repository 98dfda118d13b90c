//! `vllm serve MODEL --served-model-name NAME --host 127.0.0.1 --port P
//! [--tensor-parallel-size N] [--enable-lora --lora-modules n=path ...]`
//! followed by the profile's flags and the model's overrides.

use serde_json::{Map, Value};

use super::{flags::to_flags, without};
use crate::config::ModelConfig;

/// What starts vLLM with its `/sleep` and `/wake_up`.
pub const SLEEP_FLAG: &str = "--enable-sleep-mode";

/// What vLLM says when it will not start with [`SLEEP_FLAG`] (on CPU, for one).
pub const SLEEP_REFUSED: &str = "Sleep mode is not supported on current platform";

pub fn args(
    model: &ModelConfig,
    host: &str,
    port: u16,
    settings: &Map<String, Value>,
) -> Vec<String> {
    let mut args = vec![
        "serve".to_string(),
        model.model_path.clone(),
        "--served-model-name".into(),
        model.name.clone(),
        "--host".into(),
        host.into(),
        "--port".into(),
        port.to_string(),
    ];
    // The GPU selection sets parallelism and overrides a profile's.
    let mut own = vec![];
    if !model.gpu_ids.is_empty() {
        args.push("--tensor-parallel-size".into());
        args.push(model.gpu_ids.len().to_string());
        own.push("tensor_parallel_size");
    }
    if !model.lora_adapters.is_empty() {
        args.push("--enable-lora".into());
        args.push("--lora-modules".into());
        args.extend(
            model
                .lora_adapters
                .iter()
                .map(|l| format!("{}={}", l.name, l.path)),
        );
        own.extend(["enable_lora", "lora_modules"]);
    }
    if model.sleep_mode {
        args.push(SLEEP_FLAG.into());
        own.push("enable_sleep_mode");
    }
    args.extend(to_flags(&without(settings, &own)));
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::profiles::Profiles;
    use crate::config::LoraAdapter;
    use crate::engine::{plan, Executables, Launch};
    use serde_json::json;

    fn exes() -> Executables {
        Executables {
            vllm: "/opt/vllm/bin/vllm".into(),
            vllm_mux: "/usr/bin/vllm-mux".into(),
        }
    }

    fn qwen() -> ModelConfig {
        ModelConfig {
            model_path: "Qwen/Qwen2.5-7B-Instruct".into(),
            port: Some(8001),
            ..ModelConfig::new("qwen")
        }
    }

    fn spec(model: &ModelConfig) -> crate::engine::ProcessSpec {
        match plan(model, &Profiles::builtin().expect("profiles"), &exes()).expect("plan") {
            Launch::Process(spec) => spec,
            other => panic!("expected a process, got {other:?}"),
        }
    }

    #[test]
    fn plain_model_gets_the_exact_command_line() {
        let spec = spec(&qwen());
        assert_eq!(spec.program, std::path::PathBuf::from("/opt/vllm/bin/vllm"));
        assert_eq!(
            spec.args,
            [
                "serve",
                "Qwen/Qwen2.5-7B-Instruct",
                "--served-model-name",
                "qwen",
                "--host",
                "127.0.0.1",
                "--port",
                "8001"
            ]
        );
        assert!(
            spec.env.is_empty(),
            "no GPUs named: CUDA_VISIBLE_DEVICES is inherited"
        );
        assert_eq!(spec.health_url, "http://127.0.0.1:8001/health");
        assert_eq!(spec.base_url, "http://127.0.0.1:8001");
    }

    #[test]
    fn gpus_set_tensor_parallelism_and_cuda_visible_devices() {
        let mut m = qwen();
        m.gpu_ids = vec![2, 3];
        let spec = spec(&m);
        assert_eq!(spec.args[8..], ["--tensor-parallel-size", "2"]);
        assert_eq!(
            spec.env.get("CUDA_VISIBLE_DEVICES").map(String::as_str),
            Some("2,3")
        );
    }

    #[test]
    fn the_models_environment_is_added_and_its_gpus_still_win() {
        let mut m = qwen();
        m.gpu_ids = vec![1];
        m.environment
            .insert("VLLM_ATTENTION_BACKEND".into(), "FLASHINFER".into());
        // Validation refuses this with GPUs; the plan still never lets it through.
        m.environment
            .insert("CUDA_VISIBLE_DEVICES".into(), "0,1,2".into());
        let env = spec(&m).env;
        assert_eq!(
            env.get("VLLM_ATTENTION_BACKEND").map(String::as_str),
            Some("FLASHINFER")
        );
        assert_eq!(
            env.get("CUDA_VISIBLE_DEVICES").map(String::as_str),
            Some("1")
        );
    }

    #[test]
    fn the_models_environment_goes_over_its_profiles() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = crate::config::Paths::with_home(dir.path().to_path_buf());
        std::fs::create_dir_all(paths.profiles_dir()).expect("mkdir");
        std::fs::write(
            paths.profiles_dir().join("mine.json"),
            r#"{"environment":{"VLLM_USE_V1":"1","HF_HUB_OFFLINE":"1"}}"#,
        )
        .expect("write");
        let mut m = qwen();
        m.profile = Some("mine".into());
        m.environment.insert("VLLM_USE_V1".into(), "0".into());
        let profiles = Profiles::load(&paths).expect("profiles");
        let Ok(Launch::Process(spec)) = plan(&m, &profiles, &exes()) else {
            panic!("expected a process");
        };
        assert_eq!(spec.env.get("VLLM_USE_V1").map(String::as_str), Some("0"));
        assert_eq!(
            spec.env.get("HF_HUB_OFFLINE").map(String::as_str),
            Some("1")
        );
    }

    #[test]
    fn sleep_mode_enables_vllms_sleep_endpoints() {
        let mut m = qwen();
        m.sleep_mode = true;
        m.swap_group = Some("g".into());
        // Also set by hand: one flag, not two.
        m.config_overrides
            .insert("enable_sleep_mode".into(), json!(true));
        let spec = spec(&m);
        assert_eq!(
            spec.args
                .iter()
                .filter(|a| *a == "--enable-sleep-mode")
                .count(),
            1,
            "{:?}",
            spec.args
        );
        assert_eq!(
            spec.env.get("VLLM_SERVER_DEV_MODE").map(String::as_str),
            Some("1")
        );
        assert!(qwen_env_is_plain(), "off by default");
    }

    fn qwen_env_is_plain() -> bool {
        let spec = spec(&qwen());
        spec.env.is_empty() && !spec.args.iter().any(|a| a == "--enable-sleep-mode")
    }

    #[test]
    fn lora_adapters_enable_lora() {
        let mut m = qwen();
        m.lora_adapters = vec![
            LoraAdapter {
                name: "sql".into(),
                path: "/m/sql".into(),
            },
            LoraAdapter {
                name: "chat".into(),
                path: "/m/chat".into(),
            },
        ];
        assert_eq!(
            spec(&m).args[8..],
            [
                "--enable-lora",
                "--lora-modules",
                "sql=/m/sql",
                "chat=/m/chat"
            ]
        );
    }

    #[test]
    fn profile_flags_then_overrides_win() {
        let mut m = qwen();
        m.profile = Some("low_memory".into());
        m.config_overrides
            .insert("max_model_len".into(), json!(2048));
        m.config_overrides
            .insert("enforce_eager".into(), json!(null));
        assert_eq!(
            spec(&m).args[8..],
            [
                "--gpu-memory-utilization",
                "0.7",
                "--max-model-len",
                "2048",
                "--max-num-seqs",
                "64"
            ]
        );
    }

    #[test]
    fn the_gpu_count_beats_a_profiles_parallelism() {
        let mut m = qwen();
        m.gpu_ids = vec![0];
        m.config_overrides
            .insert("tensor_parallel_size".into(), json!(1));
        let args = spec(&m).args;
        assert_eq!(
            args.iter()
                .filter(|a| *a == "--tensor-parallel-size")
                .count(),
            1,
            "{args:?}"
        );
    }
}
