//! `export --format production-stack`: values for vLLM production-stack's
//! Helm chart (`servingEngineSpec.modelSpec`), for teams that want its
//! router. The chart writes `vllm serve MODEL --host 0.0.0.0 --port 8000`
//! and a few typed flags itself; everything else the supervisor would pass
//! goes in `vllmConfig.extraArgs`, from the same plan.

use anyhow::Result;
use k8s_openapi::api::core::v1::{EnvVar, Volume, VolumeMount};
use serde::Serialize;

use super::kubernetes::{env_var, hf_cache_volume};
use super::workload::{Checks, Copy, EnvValue, Probes, Workload, ENGINE_PORT};
use super::Options;
use crate::config::{Config, Engine};
use crate::engine::VLLM_API_KEY;
use crate::error::Failure;

/// Where a claim given with `--hf-cache-claim` is mounted; the chart sets
/// `HF_HOME` itself, `HF_HUB_CACHE` goes over it.
const HF_CACHE_MOUNT: &str = "/hf-cache";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    pub serving_engine_spec: ServingEngineSpec,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServingEngineSpec {
    pub enable_engine: bool,
    pub container_port: u16,
    pub model_spec: Vec<ModelSpec>,
    pub startup_probe: ChartProbe,
    pub liveness_probe: ChartProbe,
    pub readiness_probe: ChartProbe,
    /// The one key the chart gives every engine (as `VLLM_API_KEY`) and
    /// its router sends them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vllm_api_key: Option<SecretRef>,
}

/// A key in an existing Secret, as the chart names one.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretRef {
    pub secret_name: String,
    pub secret_key: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartProbe {
    pub initial_delay_seconds: u64,
    pub period_seconds: u64,
    pub failure_threshold: u64,
    pub http_get: ChartHttpGet,
}

#[derive(Debug, Serialize)]
pub struct ChartHttpGet {
    pub path: String,
    pub port: u16,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelSpec {
    pub name: String,
    pub repository: String,
    pub tag: String,
    #[serde(rename = "modelURL")]
    pub model_url: String,
    pub replica_count: usize,
    #[serde(rename = "requestCPU")]
    pub request_cpu: u32,
    pub request_memory: String,
    #[serde(rename = "requestGPU")]
    pub request_gpu: u32,
    #[serde(rename = "enableLoRA", skip_serializing_if = "std::ops::Not::not")]
    pub enable_lora: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_volumes: Vec<Volume>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_volume_mounts: Vec<VolumeMount>,
    pub vllm_config: VllmConfig,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VllmConfig {
    pub tensor_parallel_size: u32,
    /// The chart passes `--no-enable-prefix-caching` unless this is true,
    /// where vLLM's own default is on: always said.
    pub enable_prefix_caching: bool,
    pub extra_args: Vec<String>,
}

impl Values {
    /// Engine pods and the GPUs they ask for, in all.
    pub fn size(&self) -> (usize, u32) {
        let specs = &self.serving_engine_spec.model_spec;
        let pods = specs.iter().map(|s| s.replica_count).sum();
        let gpus = specs
            .iter()
            .map(|s| {
                s.request_gpu
                    .saturating_mul(u32::try_from(s.replica_count).unwrap_or(u32::MAX))
            })
            .sum();
        (pods, gpus)
    }
}

/// The values, and what they cannot carry; refused where the chart's
/// router could not reach a model.
pub fn values(
    config: &Config,
    workload: &Workload,
    options: &Options,
) -> Result<(Values, Vec<String>)> {
    let mut notes = Vec::new();
    let mut specs = Vec::new();
    let backend_key = one_backend_key(workload, &mut notes)?;
    for served in &workload.served {
        let model = &served.model;
        if model.engine != Engine::Vllm {
            notes.push(format!(
                "model '{}' runs the {} engine: the chart runs vLLM only, so it is not in the values",
                model.name,
                model.engine.as_str()
            ));
            continue;
        }
        let first = &served.copies[0];
        if served.copies.iter().any(|c| c.gpus != first.gpus) {
            notes.push(format!(
                "model '{}': its copies have different GPU counts here; every replica of the chart gets {}",
                model.name, first.gpus
            ));
        }
        if model.max_concurrent.is_some() || model.max_queue.is_some() {
            notes.push(format!(
                "model '{}': max_concurrent and max_queue are vllm-mux's; the chart's router does not keep them",
                model.name
            ));
        }
        let (tensor, prefix_caching, lora, mut extra_args) = split_args(first);
        // Aliases as more names its server answers to: the chart's router
        // finds models by what their servers list.
        if !model.aliases.is_empty() {
            if let Some(at) = extra_args.iter().position(|a| a == "--served-model-name") {
                for (i, alias) in model.aliases.iter().enumerate() {
                    extra_args.insert(at + 2 + i, alias.clone());
                }
            }
        }
        let mut env: Vec<EnvVar> = first
            .env
            .iter()
            // The chart sets it from servingEngineSpec.vllmApiKey.
            .filter(|(name, _)| *name != VLLM_API_KEY)
            .map(|(name, value)| env_var(name, value, options))
            .collect();
        let (extra_volumes, extra_volume_mounts) = match &options.hf_cache_claim {
            Some(claim) => {
                env.push(EnvVar {
                    name: "HF_HUB_CACHE".into(),
                    value: Some(format!("{HF_CACHE_MOUNT}/hub")),
                    value_from: None,
                });
                (
                    vec![hf_cache_volume(claim)],
                    vec![VolumeMount {
                        name: "hf-cache".into(),
                        mount_path: HF_CACHE_MOUNT.into(),
                        ..VolumeMount::default()
                    }],
                )
            }
            None => (Vec::new(), Vec::new()),
        };
        let (repository, tag) = split_image(&options.vllm_image);
        // The chart's own default: 4 CPUs and 10 GiB per GPU (one GPU's
        // worth without GPUs); older charts require both.
        let per = first.gpus.max(1);
        specs.push(ModelSpec {
            name: served.service.trim_start_matches("vllm-").to_string(),
            repository,
            tag,
            model_url: model.model_path.clone(),
            replica_count: served.copies.len(),
            request_cpu: 4 * per,
            request_memory: format!("{}Gi", 10 * per),
            request_gpu: first.gpus,
            enable_lora: lora,
            env,
            extra_volumes,
            extra_volume_mounts,
            vllm_config: VllmConfig {
                tensor_parallel_size: tensor,
                enable_prefix_caching: prefix_caching,
                extra_args,
            },
        });
    }
    if specs.is_empty() {
        return Err(Failure::usage(format!(
            "config '{}' has no vLLM model for the chart to run; its values would deploy nothing",
            options.config_name
        ))
        .hint("'vllm-mux export --format kubernetes' runs mock and url models too")
        .into());
    }
    for remote in &workload.remote {
        notes.push(format!(
            "model '{}' is a url model: the chart's router does not route to servers outside it, so it is not in the values",
            remote.name
        ));
    }
    if config.api_key_env.is_some() {
        notes.push(
            "api_key_env (the keys clients send) is vllm-mux's: these values do not make the chart's router check keys".into(),
        );
    }
    let probe = |checks: Checks| ChartProbe {
        initial_delay_seconds: 0,
        period_seconds: checks.period_s,
        failure_threshold: checks.failures,
        http_get: ChartHttpGet {
            path: "/health".into(),
            port: ENGINE_PORT,
        },
    };
    let probes = Probes::of(config);
    let values = Values {
        serving_engine_spec: ServingEngineSpec {
            enable_engine: true,
            container_port: ENGINE_PORT,
            model_spec: specs,
            startup_probe: probe(probes.startup),
            liveness_probe: probe(probes.liveness),
            readiness_probe: probe(probes.readiness),
            vllm_api_key: backend_key.map(|key| SecretRef {
                secret_name: options.secret.clone(),
                secret_key: key,
            }),
        },
    };
    Ok((values, notes))
}

/// The key the chart's router sends every engine: the chart has one
/// (`servingEngineSpec.vllmApiKey`), so models with keys of their own are
/// refused, and a model without one is told it gets the shared one.
fn one_backend_key(workload: &Workload, notes: &mut Vec<String>) -> Result<Option<String>> {
    let mut keyed: Vec<(&str, &str)> = Vec::new();
    let mut keyless: Vec<&str> = Vec::new();
    for served in workload
        .served
        .iter()
        .filter(|s| s.model.engine == Engine::Vllm)
    {
        match served.copies[0].env.get(VLLM_API_KEY) {
            Some(EnvValue::Secret(key)) => keyed.push((&served.model.name, key)),
            _ => keyless.push(&served.model.name),
        }
    }
    let Some(&(first, key)) = keyed.first() else {
        return Ok(None);
    };
    if let Some(&(other, other_key)) = keyed.iter().find(|(_, k)| *k != key) {
        return Err(Failure::usage(format!(
            "models '{first}' ({key}) and '{other}' ({other_key}) have backend keys of their own; the chart's router sends one key, servingEngineSpec.vllmApiKey, to every engine"
        ))
        .hint(format!(
            "give them one key ('vllm-mux edit-model {other} --backend-api-key-env {key}'), or export --format kubernetes, whose router sends each model its own"
        ))
        .into());
    }
    for name in keyless {
        notes.push(format!(
            "model '{name}' has no backend key here; the chart gives every engine servingEngineSpec.vllmApiKey, so its server checks {key} too (the chart's router sends it)"
        ));
    }
    Ok(Some(key.to_string()))
}

/// The copy's arguments as the chart wants them: its tensor parallelism,
/// prefix caching and LoRA as typed values, the rest (from
/// `--served-model-name` on, without host and port) as extra arguments.
fn split_args(copy: &Copy) -> (u32, bool, bool, Vec<String>) {
    let mut tensor = 1;
    let mut prefix_caching = true;
    let mut lora = false;
    let mut rest = Vec::new();
    // `serve MODEL` come first: the chart writes them.
    let mut args = copy.args.iter().skip(2);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--host" | "--port" => {
                args.next();
            }
            "--tensor-parallel-size" => {
                tensor = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
            }
            "--enable-prefix-caching" => prefix_caching = true,
            "--no-enable-prefix-caching" => prefix_caching = false,
            "--enable-lora" => lora = true,
            _ => rest.push(arg.clone()),
        }
    }
    (tensor, prefix_caching, lora, rest)
}

/// `vllm/vllm-openai:v0.32.0` → (`vllm/vllm-openai`, `v0.32.0`); no tag
/// is `latest`. A registry's port is not a tag.
fn split_image(image: &str) -> (String, String) {
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (image.to_string(), "latest".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_split_into_repository_and_tag() {
        assert_eq!(
            split_image("vllm/vllm-openai:v0.32.0"),
            ("vllm/vllm-openai".into(), "v0.32.0".into())
        );
        assert_eq!(
            split_image("registry:5000/vllm"),
            ("registry:5000/vllm".into(), "latest".into())
        );
        assert_eq!(
            split_image("registry:5000/vllm:v1"),
            ("registry:5000/vllm".into(), "v1".into())
        );
    }

    #[test]
    fn typed_flags_leave_the_extra_arguments() {
        let copy = Copy {
            id: "q".into(),
            object: "vllm-q".into(),
            program: "vllm".into(),
            args: [
                "serve",
                "org/q",
                "--served-model-name",
                "q",
                "--host",
                "0.0.0.0",
                "--port",
                "8000",
                "--tensor-parallel-size",
                "2",
                "--enable-lora",
                "--lora-modules",
                "sql=org/sql",
                "--max-model-len",
                "4096",
                "--no-enable-prefix-caching",
            ]
            .map(String::from)
            .to_vec(),
            env: Default::default(),
            gpus: 2,
        };
        let (tensor, caching, lora, rest) = split_args(&copy);
        assert_eq!((tensor, caching, lora), (2, false, true));
        assert_eq!(
            rest,
            [
                "--served-model-name",
                "q",
                "--lora-modules",
                "sql=org/sql",
                "--max-model-len",
                "4096"
            ]
        );
    }
}
