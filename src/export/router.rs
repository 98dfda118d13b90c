//! The config vllm-mux runs with as the cluster's router: the same proxy
//! settings, every exported model a `url` model at its Service, so names,
//! aliases, LoRA names, keys, limits, metrics and error shapes are those of
//! one machine.

use super::workload::{Workload, POD_HOST};
use crate::config::{Config, Engine, ModelConfig};

pub fn router_config(config: &Config, workload: &Workload) -> Config {
    let mut models = Vec::new();
    for model in &config.models {
        if let Some(served) = workload.served.iter().find(|s| s.model.name == model.name) {
            let copies = u32::try_from(served.copies.len()).unwrap_or(u32::MAX);
            models.push(ModelConfig {
                engine: Engine::Url,
                url: Some(served.url()),
                model_path: model.model_path.clone(),
                aliases: model.aliases.clone(),
                lora_adapters: model.lora_adapters.clone(),
                backend_api_key_env: model.backend_api_key_env.clone(),
                // Its Service spreads requests over every copy.
                max_concurrent: model.max_concurrent.map(|n| n.saturating_mul(copies)),
                max_queue: model.max_queue,
                ..ModelConfig::new(model.name.clone())
            });
        } else if let Some(remote) = workload.remote.iter().find(|m| m.name == model.name) {
            models.push(remote.clone());
        }
    }
    Config {
        // Its Service reaches it on the pod's address.
        host: POD_HOST.to_string(),
        models,
        sleep_memory_gib: None,
        ..config.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::profiles::Profiles;
    use crate::config::validate::problems;
    use crate::config::{LoraAdapter, Replica};
    use crate::gpu::Inventory;
    use serde_json::json;

    #[test]
    fn the_router_routes_the_same_names_with_the_same_keys() {
        let mut qwen = ModelConfig::new("qwen");
        qwen.model_path = "Qwen/Qwen2.5-7B-Instruct".into();
        qwen.port = Some(8001);
        qwen.gpu_ids = vec![0];
        qwen.aliases = vec!["gpt-4o".into()];
        qwen.lora_adapters = vec![LoraAdapter {
            name: "sql".into(),
            path: "org/sql-lora".into(),
        }];
        qwen.backend_api_key_env = Some("QWEN_KEY".into());
        qwen.max_concurrent = Some(4);
        qwen.max_queue = Some(16);
        qwen.idle_timeout_s = Some(60);
        qwen.config_overrides
            .insert("max_model_len".into(), json!(4096));
        qwen.replicas = vec![Replica {
            gpu_ids: vec![1],
            port: Some(8002),
        }];
        let mut far = ModelConfig::new("far");
        far.engine = Engine::Url;
        far.url = Some("http://gpu-box:8000".into());
        let config = Config {
            host: "127.0.0.1".into(),
            api_key_env: Some("VLLM_MUX_API_KEYS".into()),
            startup_timeout_s: 900,
            models: vec![far.clone(), qwen],
            ..Config::default()
        };
        let profiles = Profiles::builtin().expect("profiles");
        let workload = super::super::workload::plan(&config, &profiles).expect("plan");
        let router = router_config(&config, &workload);
        assert_eq!(router.host, "0.0.0.0");
        assert_eq!(router.api_key_env.as_deref(), Some("VLLM_MUX_API_KEYS"));
        assert_eq!(router.startup_timeout_s, 900);
        assert_eq!(router.models[0], far, "a url model is kept, in its place");
        let q = &router.models[1];
        assert_eq!(
            (q.engine, q.url.as_deref()),
            (Engine::Url, Some("http://vllm-qwen:8000"))
        );
        assert_eq!(q.aliases, ["gpt-4o"]);
        assert_eq!(q.lora_adapters[0].name, "sql");
        assert_eq!(q.backend_api_key_env.as_deref(), Some("QWEN_KEY"));
        assert_eq!((q.max_concurrent, q.max_queue), (Some(8), Some(16)));
        assert!(q.gpu_ids.is_empty() && q.port.is_none() && q.replicas.is_empty());
        assert!(q.config_overrides.is_empty() && q.idle_timeout_s.is_none());
        // It is a config vllm-mux starts with.
        let found = problems(&router, &profiles, &Inventory::Unavailable("none".into()));
        assert!(found.is_empty(), "{found:?}");
    }
}
