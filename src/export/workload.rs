//! What each model copy runs in a pod: the supervisor's own launch plan
//! ([`crate::engine::plan_on`]), listening on the pod's address, with the
//! GPUs left to the device plugin and keys taken from a Secret. What a
//! cluster cannot keep is said in a note, and what it cannot run at all
//! is an error.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;

use super::names::{copy_name, object_name};
use crate::config::profiles::Profiles;
use crate::config::{Config, Engine, ModelConfig};
use crate::engine::{plan_on, Executables, Launch, ProcessSpec, VLLM_API_KEY};
use crate::error::Failure;

/// The port every engine listens on in its pod (each pod has its own).
pub const ENGINE_PORT: u16 = 8000;
/// What an engine listens on in its pod: the Service reaches it there.
pub const POD_HOST: &str = "0.0.0.0";
/// The prefix of every engine object's name.
pub const ENGINE_PREFIX: &str = "vllm";
/// The device plugin's resource, one per GPU.
pub const GPU_RESOURCE: &str = "nvidia.com/gpu";
const CUDA_VISIBLE_DEVICES: &str = "CUDA_VISIBLE_DEVICES";
/// Seconds between two startup (and liveness) checks of an engine.
const STARTUP_PERIOD_S: u64 = 10;

/// How often a probe checks an engine's `/health`, and after how many
/// failures in a row it gives up (both at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checks {
    pub period_s: u64,
    pub failures: u64,
}

impl Checks {
    fn new(period_s: u64, failures: u64) -> Checks {
        Checks {
            period_s: period_s.max(1),
            failures: failures.max(1),
        }
    }
}

/// An engine's probes, from the config's health settings, for both
/// formats: weights take time, so startup has `startup_timeout_s` before
/// the others begin; readiness checks as often as the supervisor does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probes {
    pub startup: Checks,
    pub readiness: Checks,
    pub liveness: Checks,
}

impl Probes {
    pub fn of(config: &Config) -> Probes {
        let unhealthy = u64::from(config.unhealthy_after);
        Probes {
            startup: Checks::new(
                STARTUP_PERIOD_S,
                config.startup_timeout_s.div_ceil(STARTUP_PERIOD_S),
            ),
            readiness: Checks::new(config.health_interval_ms.div_ceil(1000), unhealthy),
            liveness: Checks::new(STARTUP_PERIOD_S, unhealthy),
        }
    }
}

/// An environment variable's value in a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Text(String),
    /// From the Secret, under this key (the variable's own name).
    Secret(String),
}

/// One copy of a model: one Deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Copy {
    /// Its instance id here: `qwen`, `qwen@1`.
    pub id: String,
    /// Its Deployment's name: `vllm-qwen`, `vllm-qwen-r1`.
    pub object: String,
    /// `vllm` (vLLM's image) or `vllm-mux` (ours, for the mock engine).
    pub program: String,
    pub args: Vec<String>,
    pub env: BTreeMap<String, EnvValue>,
    /// Whole GPUs it asks for: its tensor (times pipeline) parallelism.
    pub gpus: u32,
}

/// A model with its copies: one Service in front of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    pub model: ModelConfig,
    /// The Service's name, and the base of its Deployments' names.
    pub service: String,
    pub copies: Vec<Copy>,
}

impl Served {
    /// The URL the router reaches the model's Service at.
    pub fn url(&self) -> String {
        format!("http://{}:{ENGINE_PORT}", self.service)
    }
}

/// The config as a cluster runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub served: Vec<Served>,
    /// `url` models: the router reaches them where they are.
    pub remote: Vec<ModelConfig>,
    /// What the cluster does differently, for the user to read.
    pub notes: Vec<String>,
    /// Keys the Secret must hold (variable names).
    pub secret_keys: BTreeSet<String>,
}

impl Workload {
    pub fn gpus(&self) -> u32 {
        self.served
            .iter()
            .flat_map(|s| &s.copies)
            .map(|c| c.gpus)
            .sum()
    }
}

/// The executables as a pod has them: on PATH in each image.
fn pod_executables() -> Executables {
    Executables {
        vllm: "vllm".into(),
        vllm_mux: "vllm-mux".into(),
    }
}

pub fn plan(config: &Config, profiles: &Profiles) -> Result<Workload> {
    let mut workload = Workload {
        served: Vec::new(),
        remote: Vec::new(),
        notes: Vec::new(),
        secret_keys: BTreeSet::new(),
    };
    refuse_what_a_pod_cannot_run(config)?;
    // The router reads the keys clients must send.
    workload.secret_keys.extend(config.api_key_env.clone());
    for model in &config.models {
        if !model.enabled {
            workload.notes.push(format!(
                "model '{}' is disabled: not exported (edit-model {} --enabled, then export again)",
                model.name, model.name
            ));
            continue;
        }
        note_what_is_dropped(model, &mut workload.notes);
        if let Some(key) = &model.backend_api_key_env {
            workload.secret_keys.insert(key.clone());
        }
        if model.engine == Engine::Url {
            note_loopback(model, &mut workload.notes);
            workload.remote.push(model.clone());
            continue;
        }
        let service = object_name(ENGINE_PREFIX, &model.name);
        let mut copies = Vec::new();
        for (index, instance) in model.instances().into_iter().enumerate() {
            let copy = pod_copy(&instance.id, &instance.model, profiles, &service, index)?;
            for value in copy.env.values() {
                if let EnvValue::Secret(key) = value {
                    workload.secret_keys.insert(key.clone());
                }
            }
            copies.push(copy);
        }
        workload.served.push(Served {
            model: model.clone(),
            service,
            copies,
        });
    }
    note_shared_gpus(config, &mut workload.notes);
    note_start_order(config, &mut workload.notes);
    Ok(workload)
}

fn refuse_what_a_pod_cannot_run(config: &Config) -> Result<()> {
    let commands: Vec<&str> = config
        .models
        .iter()
        .filter(|m| m.enabled && m.engine == Engine::Command)
        .map(|m| m.name.as_str())
        .collect();
    if let Some(first) = commands.first() {
        return Err(Failure::usage(format!(
            "model{} {} use{} the command engine, which runs a program of this machine; a pod runs vLLM's image",
            if commands.len() > 1 { "s" } else { "" },
            commands.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", "),
            if commands.len() > 1 { "" } else { "s" },
        ))
        .hint(format!(
            "serve it elsewhere and make it a url model ('vllm-mux edit-model {first} --engine url --url http://HOST:PORT'), or leave it out ('vllm-mux edit-model {first} --disabled')"
        ))
        .into());
    }
    Ok(())
}

/// Copy `index` of a model, from the plan the supervisor would follow.
fn pod_copy(
    id: &str,
    model: &ModelConfig,
    profiles: &Profiles,
    service: &str,
    index: usize,
) -> Result<Copy> {
    let in_pod = ModelConfig {
        port: Some(ENGINE_PORT),
        // Nothing in a cluster puts a server to sleep.
        sleep_mode: false,
        ..model.clone()
    };
    let spec = match plan_on(&in_pod, profiles, &pod_executables(), POD_HOST)? {
        Launch::Process(spec) => spec,
        Launch::Remote { .. } => {
            return Err(Failure::runtime(format!("model '{id}' launches no process")).into())
        }
    };
    let gpus = gpu_count(model, &spec);
    let mut env = BTreeMap::new();
    for (name, value) in &spec.env {
        // The device plugin picks the GPUs, and the pod sees only those.
        if name == CUDA_VISIBLE_DEVICES && !model.gpu_ids.is_empty() {
            continue;
        }
        let value = if is_secret_name(name) {
            EnvValue::Secret(name.clone())
        } else {
            EnvValue::Text(value.clone())
        };
        env.insert(name.clone(), value);
    }
    if let Some(key) = &model.backend_api_key_env {
        if matches!(model.engine, Engine::Vllm | Engine::Mock) {
            env.insert(VLLM_API_KEY.into(), EnvValue::Secret(key.clone()));
        }
    }
    Ok(Copy {
        id: id.to_string(),
        object: copy_name(service, index),
        program: spec.program.to_string_lossy().into_owned(),
        args: spec.args,
        env,
        gpus,
    })
}

/// Whole GPUs a copy needs: as many as it has here, else the parallelism
/// its flags ask for; none for the mock engine without GPUs, or a model
/// told to use none.
fn gpu_count(model: &ModelConfig, spec: &ProcessSpec) -> u32 {
    if !model.gpu_ids.is_empty() {
        return u32::try_from(model.gpu_ids.len()).unwrap_or(u32::MAX);
    }
    let hidden = spec
        .env
        .get(CUDA_VISIBLE_DEVICES)
        .is_some_and(String::is_empty);
    if model.engine != Engine::Vllm || hidden {
        return 0;
    }
    let tensor = flag_number(&spec.args, "--tensor-parallel-size").unwrap_or(1);
    let pipeline = flag_number(&spec.args, "--pipeline-parallel-size").unwrap_or(1);
    tensor.saturating_mul(pipeline).max(1)
}

fn flag_number(args: &[String], flag: &str) -> Option<u32> {
    let at = args.iter().position(|a| a == flag)?;
    args.get(at + 1)?.parse().ok()
}

/// A variable that holds a credential goes by reference, never by value:
/// manifests end up in git.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["TOKEN", "KEY", "SECRET", "PASSWORD", "CREDENTIAL"]
        .iter()
        .any(|word| upper.contains(word))
}

fn note_what_is_dropped(model: &ModelConfig, notes: &mut Vec<String>) {
    let name = &model.name;
    if let Some(group) = &model.swap_group {
        notes.push(format!(
            "model '{name}' takes turns in swap group '{group}' here; in the cluster it runs all the time in pods of its own (GPUs are not shared)"
        ));
    }
    if let Some(idle) = model.idle_timeout_s {
        notes.push(format!(
            "model '{name}': idle_timeout_s {idle} is not kept; its pods run until you scale them down"
        ));
    }
    if model.sleep_mode {
        notes.push(format!(
            "model '{name}': sleep_mode is not kept; nothing puts its server to sleep in the cluster"
        ));
    }
    let copies = 1 + model.replicas.len();
    if let (Some(max), true) = (model.max_concurrent, copies > 1) {
        notes.push(format!(
            "model '{name}': max_concurrent {max} per copy becomes {} for its Service ({copies} copies behind it)",
            u64::from(max) * copies as u64
        ));
    }
    if model.engine != Engine::Url {
        let local = |path: &str| path.starts_with('/') || path.starts_with('.');
        if local(&model.model_path) {
            notes.push(format!(
                "model '{name}' loads {} from this machine: that path must exist in its pod (mount it there, or use a Hugging Face id)",
                model.model_path
            ));
        }
        for adapter in model.lora_adapters.iter().filter(|a| local(&a.path)) {
            notes.push(format!(
                "model '{name}': LoRA adapter '{}' is read from {}: that path must exist in its pod",
                adapter.name, adapter.path
            ));
        }
    }
}

fn note_loopback(model: &ModelConfig, notes: &mut Vec<String>) {
    let url = model.url.as_deref().unwrap_or_default();
    let host = url
        .trim_start_matches("http://")
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    if matches!(host, "127.0.0.1" | "localhost" | "[") || host.starts_with("127.") {
        notes.push(format!(
            "model '{}' is at {url}: in the router's pod that address is the pod itself; use an address the cluster can reach",
            model.name
        ));
    }
}

/// Models that share a GPU here (each with a fraction of its memory) get
/// whole GPUs each in a cluster: `nvidia.com/gpu` is not divisible without
/// the device plugin's time-slicing or MIG.
fn note_shared_gpus(config: &Config, notes: &mut Vec<String>) {
    let mut users: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for model in config
        .models
        .iter()
        .filter(|m| m.enabled && m.engine != Engine::Url)
    {
        for instance in model.instances() {
            for gpu in instance.model.gpu_ids {
                users.entry(gpu).or_default().push(instance.id.clone());
            }
        }
    }
    for (gpu, ids) in users.into_iter().filter(|(_, ids)| ids.len() > 1) {
        notes.push(format!(
            "{} share GPU {gpu} here; in the cluster each gets whole GPUs of its own (nvidia.com/gpu), so it needs more of them",
            ids.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(" and ")
        ));
    }
}

fn note_start_order(config: &Config, notes: &mut Vec<String>) {
    let ordered = config
        .models
        .iter()
        .filter(|m| m.enabled && m.loading_priority.is_some())
        .count();
    if ordered > 0 && config.models.iter().filter(|m| m.enabled).count() > 1 {
        notes
            .push("loading_priority is not kept: the cluster starts every pod at once".to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LoraAdapter, Replica};
    use serde_json::json;

    fn profiles() -> Profiles {
        Profiles::builtin().expect("profiles")
    }

    fn qwen() -> ModelConfig {
        let mut m = ModelConfig::new("qwen");
        m.model_path = "Qwen/Qwen2.5-7B-Instruct".into();
        m.port = Some(8001);
        m.gpu_ids = vec![0, 1];
        m.profile = Some("low_memory".into());
        m.config_overrides
            .insert("max_model_len".into(), json!(4096));
        m.lora_adapters = vec![LoraAdapter {
            name: "sql".into(),
            path: "org/sql-lora".into(),
        }];
        m.environment
            .insert("HF_TOKEN".into(), "hf_secret_value".into());
        m.environment
            .insert("VLLM_ATTENTION_BACKEND".into(), "FLASHINFER".into());
        m.backend_api_key_env = Some("QWEN_KEY".into());
        m.replicas = vec![Replica {
            gpu_ids: vec![2, 3],
            port: Some(8002),
        }];
        m
    }

    fn config(models: Vec<ModelConfig>) -> Config {
        Config {
            models,
            ..Config::default()
        }
    }

    #[test]
    fn probes_follow_the_configs_health_settings_for_both_formats() {
        let probes = Probes::of(&Config {
            startup_timeout_s: 600,
            health_interval_ms: 2500,
            unhealthy_after: 3,
            ..Config::default()
        });
        assert_eq!(probes.startup, Checks::new(10, 60));
        assert_eq!(probes.readiness, Checks::new(3, 3));
        assert_eq!(probes.liveness, Checks::new(10, 3));
        // Never 0: Kubernetes refuses a zero period or threshold.
        let none = Probes::of(&Config {
            startup_timeout_s: 0,
            health_interval_ms: 0,
            unhealthy_after: 0,
            ..Config::default()
        });
        assert_eq!(
            none.readiness,
            Checks {
                period_s: 1,
                failures: 1
            }
        );
        assert_eq!(none.startup.failures, 1);
    }

    #[test]
    fn each_copy_runs_the_supervisors_command_line_on_the_pods_address() {
        let model = qwen();
        let workload = plan(&config(vec![model.clone()]), &profiles()).expect("plan");
        let served = &workload.served[0];
        assert_eq!(served.service, "vllm-qwen");
        assert_eq!(served.url(), "http://vllm-qwen:8000");
        let local = |m: &ModelConfig| match crate::engine::plan(
            m,
            &profiles(),
            &Executables {
                vllm: "/opt/vllm/bin/vllm".into(),
                vllm_mux: "/usr/bin/vllm-mux".into(),
            },
        )
        .expect("local plan")
        {
            Launch::Process(spec) => spec,
            other => panic!("{other:?}"),
        };
        for (copy, instance) in served.copies.iter().zip(model.instances()) {
            let here = local(&instance.model);
            let mut expected = here.args.clone();
            // Only where it listens differs.
            let host = expected.iter().position(|a| a == "--host").expect("host");
            expected[host + 1] = "0.0.0.0".into();
            expected[host + 3] = "8000".into();
            assert_eq!(copy.args, expected, "{}", copy.id);
            assert_eq!(copy.program, "vllm");
            assert_eq!(copy.gpus, 2);
            assert!(copy
                .args
                .windows(2)
                .any(|w| w == ["--tensor-parallel-size", "2"]));
        }
        assert_eq!(
            (
                served.copies[0].object.as_str(),
                served.copies[1].object.as_str()
            ),
            ("vllm-qwen", "vllm-qwen-r1")
        );
    }

    #[test]
    fn keys_go_by_reference_and_the_gpus_are_left_to_the_device_plugin() {
        let workload = plan(&config(vec![qwen()]), &profiles()).expect("plan");
        let env = &workload.served[0].copies[0].env;
        assert_eq!(
            env.get("HF_TOKEN"),
            Some(&EnvValue::Secret("HF_TOKEN".into()))
        );
        assert_eq!(
            env.get("VLLM_API_KEY"),
            Some(&EnvValue::Secret("QWEN_KEY".into()))
        );
        assert_eq!(
            env.get("VLLM_ATTENTION_BACKEND"),
            Some(&EnvValue::Text("FLASHINFER".into()))
        );
        assert_eq!(
            env.get("VLLM_ALLOW_RUNTIME_LORA_UPDATING"),
            Some(&EnvValue::Text("True".into()))
        );
        assert!(!env.contains_key("CUDA_VISIBLE_DEVICES"));
        assert_eq!(
            workload.secret_keys.iter().collect::<Vec<_>>(),
            ["HF_TOKEN", "QWEN_KEY"]
        );
        assert_eq!(workload.gpus(), 4);
    }

    #[test]
    fn the_gpu_count_follows_parallelism_when_no_gpus_are_named() {
        let mut m = ModelConfig::new("big");
        m.model_path = "org/big".into();
        m.port = Some(8001);
        m.config_overrides
            .insert("tensor_parallel_size".into(), json!(4));
        m.config_overrides
            .insert("pipeline_parallel_size".into(), json!(2));
        let mut none = ModelConfig::new("cpu");
        none.model_path = "org/small".into();
        none.port = Some(8002);
        none.environment
            .insert("CUDA_VISIBLE_DEVICES".into(), String::new());
        let mut mock = ModelConfig::new("mock");
        mock.engine = Engine::Mock;
        mock.port = Some(8003);
        let workload = plan(&config(vec![m, none, mock]), &profiles()).expect("plan");
        let gpus: Vec<u32> = workload.served.iter().map(|s| s.copies[0].gpus).collect();
        assert_eq!(gpus, [8, 0, 0]);
        let mock = &workload.served[2].copies[0];
        assert_eq!(mock.program, "vllm-mux");
        assert!(mock.args.windows(2).any(|w| w == ["--host", "0.0.0.0"]));
    }

    #[test]
    fn a_command_engine_is_refused_with_a_way_out() {
        let mut m = ModelConfig::new("llama");
        m.engine = Engine::Command;
        m.command = Some("llama-server --port {port}".into());
        m.port = Some(8001);
        let err = plan(&config(vec![m.clone()]), &profiles()).expect_err("refused");
        let failure = err.downcast_ref::<Failure>().expect("failure");
        assert!(failure
            .to_string()
            .contains("'llama' uses the command engine"));
        // Disabled, it is left out with a note.
        m.enabled = false;
        let workload = plan(&config(vec![m]), &profiles()).expect("plan");
        assert!(workload.served.is_empty());
        assert!(
            workload.notes[0].contains("disabled"),
            "{:?}",
            workload.notes
        );
    }

    #[test]
    fn what_the_cluster_does_differently_is_noted() {
        let mut a = ModelConfig::new("a");
        a.model_path = "/models/a".into();
        a.port = Some(8001);
        a.gpu_ids = vec![0];
        a.swap_group = Some("g".into());
        a.sleep_mode = true;
        a.idle_timeout_s = Some(300);
        a.config_overrides
            .insert("gpu_memory_utilization".into(), json!(0.45));
        let mut b = a.clone();
        b.name = "b".into();
        b.port = Some(8002);
        b.sleep_mode = false;
        b.loading_priority = Some(1);
        let mut far = ModelConfig::new("far");
        far.engine = Engine::Url;
        far.url = Some("http://127.0.0.1:9000".into());
        let workload = plan(&config(vec![a, b, far]), &profiles()).expect("plan");
        let notes = workload.notes.join("\n");
        for needle in [
            "'a' takes turns in swap group 'g'",
            "'a': idle_timeout_s 300 is not kept",
            "'a': sleep_mode is not kept",
            "'a' loads /models/a from this machine",
            "'a' and 'b' share GPU 0",
            "'far' is at http://127.0.0.1:9000",
            "loading_priority is not kept",
        ] {
            assert!(notes.contains(needle), "{needle}\n{notes}");
        }
        // Sleep mode's flag and variable stay out of the pod.
        let a = &workload.served[0].copies[0];
        assert!(!a.args.iter().any(|x| x == "--enable-sleep-mode"));
        assert!(!a.env.contains_key("VLLM_SERVER_DEV_MODE"));
        assert_eq!(workload.remote.len(), 1);
    }

    #[test]
    fn credential_names_are_recognised() {
        for name in [
            "HF_TOKEN",
            "OPENAI_API_KEY",
            "db_password",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["HF_HOME", "VLLM_ATTENTION_BACKEND", "VLLM_USE_V1"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
