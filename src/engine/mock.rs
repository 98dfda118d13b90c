//! The mock engine: this binary's `mock-engine` subcommand. Its knobs come
//! from the settings like any engine flag; vLLM flags from a profile are
//! passed after `--`, where the mock logs and ignores them.

use serde_json::{Map, Value};

use super::{flags::to_flags, BACKEND_HOST};
use crate::config::ModelConfig;

/// Settings the mock engine understands (see `cli::MockEngineArgs`).
pub const KNOBS: [&str; 6] = [
    "startup_delay_ms",
    "token_delay_ms",
    "tokens",
    "fail_health",
    "crash_after",
    "ignore_sigterm",
];

pub fn args(
    model: &ModelConfig,
    host: &str,
    port: u16,
    settings: &Map<String, Value>,
) -> Vec<String> {
    let (knobs, rest): (Map<String, Value>, Map<String, Value>) = settings
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .partition(|(k, _)| KNOBS.contains(&k.as_str()));
    let mut args = vec![
        "mock-engine".to_string(),
        "--port".into(),
        port.to_string(),
        "--served-model-name".into(),
        model.name.clone(),
    ];
    if host != BACKEND_HOST {
        // Its default is the supervisor's; a pod's server listens wider.
        args.push("--host".into());
        args.push(host.into());
    }
    for adapter in &model.lora_adapters {
        args.push("--lora".into());
        args.push(adapter.name.clone());
    }
    args.extend(to_flags(&knobs));
    let rest = to_flags(&rest);
    if !rest.is_empty() {
        args.push("--".into());
        args.extend(rest);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn knobs_are_flags_and_vllm_flags_go_after_the_separator() {
        let mut m = ModelConfig::new("chat");
        m.config_overrides.insert("token_delay_ms".into(), json!(5));
        m.config_overrides.insert("fail_health".into(), json!(true));
        m.config_overrides
            .insert("max_model_len".into(), json!(8192));
        let args = args(&m, BACKEND_HOST, 8001, &m.config_overrides.clone());
        assert_eq!(
            args,
            [
                "mock-engine",
                "--port",
                "8001",
                "--served-model-name",
                "chat",
                "--fail-health",
                "--token-delay-ms",
                "5",
                "--",
                "--max-model-len",
                "8192"
            ]
        );
    }
}
