//! The config file format (DESIGN.md section 3).
//!
//! Field names follow vllm-cli's `ProxyConfig`/`ModelConfig`, so its configs
//! import unchanged; the rest are ours. Every field that is not required has a
//! serde default, so older files keep loading (see `tests/data/`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The version this build writes and reads.
pub const CONFIG_VERSION: u32 = 1;
pub const DEFAULT_HOST: &str = "0.0.0.0";
pub const DEFAULT_PROXY_PORT: u16 = 8000;
/// Automatic model ports start here and count up.
pub const FIRST_MODEL_PORT: u16 = 8001;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_version")]
    pub version: u32,
    #[serde(default = "default_host")]
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default = "yes")]
    pub enable_cors: bool,
    #[serde(default = "yes")]
    pub enable_metrics: bool,
    #[serde(default)]
    pub log_requests: bool,
    /// Name of the environment variable that holds the API key(s) clients must send.
    #[serde(default)]
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub models: Vec<ModelConfig>,
    /// Seconds a model may take to answer its health check before it is
    /// `failed` (weights take time: default 600).
    #[serde(
        default = "default_startup_timeout",
        skip_serializing_if = "is_default_startup_timeout"
    )]
    pub startup_timeout_s: u64,
    /// How often a ready model's health is checked.
    #[serde(
        default = "default_health_interval",
        skip_serializing_if = "is_default_health_interval"
    )]
    pub health_interval_ms: u64,
    /// Failed checks in a row before a ready model is `unhealthy`.
    #[serde(
        default = "default_unhealthy_after",
        skip_serializing_if = "is_default_unhealthy_after"
    )]
    pub unhealthy_after: u32,
    /// Seconds a request for a model that is still starting waits for it
    /// before it is answered 503 (0: answer 503 at once).
    #[serde(
        default = "default_queue_timeout",
        skip_serializing_if = "is_default_queue_timeout"
    )]
    pub queue_timeout_s: u64,
    /// Seconds the proxy waits for a backend's response headers before it
    /// answers 504. A non-streaming completion sends its headers only when
    /// it is done, so this is generous by default.
    #[serde(
        default = "default_backend_timeout",
        skip_serializing_if = "is_default_backend_timeout"
    )]
    pub backend_timeout_s: u64,
    /// How often the supervisor samples GPU utilization and memory.
    #[serde(
        default = "default_gpu_interval",
        skip_serializing_if = "is_default_gpu_interval"
    )]
    pub gpu_sample_interval_s: u64,
    /// Seconds a client gets to send its request headers before the proxy
    /// closes the connection (slow or stalled clients).
    #[serde(
        default = "default_header_timeout",
        skip_serializing_if = "is_default_header_timeout"
    )]
    pub client_header_timeout_s: u64,
    /// Swap groups: a model swapped in keeps its GPUs at least this many
    /// seconds while it is in use, before a waiting member takes them.
    #[serde(
        default = "default_min_residency",
        skip_serializing_if = "is_default_min_residency"
    )]
    pub min_residency_s: u64,
    /// Swap groups: once a request has waited this many seconds for its
    /// model, that model goes next, whatever the one swapped in is doing
    /// (its requests in flight still finish).
    #[serde(
        default = "default_max_wait",
        skip_serializing_if = "is_default_max_wait"
    )]
    pub max_wait_s: u64,
    /// How swap groups take turns: `batch` (the default: members share
    /// their GPUs as far as their memory allows, requests are served in
    /// batches) or `llama-swap` (one member at a time, swapped on every
    /// request for another, as llama-swap does; kept for comparison).
    #[serde(default, skip_serializing_if = "is_default_scheduler")]
    pub scheduler: Scheduler,
    /// Sleep mode's eviction tier: the host memory, in GiB, the weights of
    /// sleeping servers may take together (each counted as the GPU memory
    /// it had). A model that would go past it is stopped instead of put to
    /// sleep. `None`: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sleep_memory_gib: Option<u64>,
}

/// How swap groups take turns (see [`Config::scheduler`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheduler {
    #[default]
    Batch,
    LlamaSwap,
}

fn is_default_scheduler(s: &Scheduler) -> bool {
    *s == Scheduler::Batch
}

pub const DEFAULT_STARTUP_TIMEOUT_S: u64 = 600;
pub const DEFAULT_HEALTH_INTERVAL_MS: u64 = 2000;
pub const DEFAULT_UNHEALTHY_AFTER: u32 = 3;
pub const DEFAULT_QUEUE_TIMEOUT_S: u64 = 5;
pub const DEFAULT_BACKEND_TIMEOUT_S: u64 = 600;
pub const DEFAULT_GPU_INTERVAL_S: u64 = 5;
pub const DEFAULT_HEADER_TIMEOUT_S: u64 = 10;
pub const DEFAULT_MIN_RESIDENCY_S: u64 = 5;
pub const DEFAULT_MAX_WAIT_S: u64 = 30;

fn default_min_residency() -> u64 {
    DEFAULT_MIN_RESIDENCY_S
}

fn is_default_min_residency(v: &u64) -> bool {
    *v == DEFAULT_MIN_RESIDENCY_S
}

fn default_max_wait() -> u64 {
    DEFAULT_MAX_WAIT_S
}

fn is_default_max_wait(v: &u64) -> bool {
    *v == DEFAULT_MAX_WAIT_S
}

fn default_header_timeout() -> u64 {
    DEFAULT_HEADER_TIMEOUT_S
}

fn is_default_header_timeout(v: &u64) -> bool {
    *v == DEFAULT_HEADER_TIMEOUT_S
}

fn default_gpu_interval() -> u64 {
    DEFAULT_GPU_INTERVAL_S
}

fn is_default_gpu_interval(v: &u64) -> bool {
    *v == DEFAULT_GPU_INTERVAL_S
}

fn default_queue_timeout() -> u64 {
    DEFAULT_QUEUE_TIMEOUT_S
}

fn is_default_queue_timeout(v: &u64) -> bool {
    *v == DEFAULT_QUEUE_TIMEOUT_S
}

fn default_backend_timeout() -> u64 {
    DEFAULT_BACKEND_TIMEOUT_S
}

fn is_default_backend_timeout(v: &u64) -> bool {
    *v == DEFAULT_BACKEND_TIMEOUT_S
}

fn default_startup_timeout() -> u64 {
    DEFAULT_STARTUP_TIMEOUT_S
}

fn is_default_startup_timeout(v: &u64) -> bool {
    *v == DEFAULT_STARTUP_TIMEOUT_S
}

fn default_health_interval() -> u64 {
    DEFAULT_HEALTH_INTERVAL_MS
}

fn is_default_health_interval(v: &u64) -> bool {
    *v == DEFAULT_HEALTH_INTERVAL_MS
}

fn default_unhealthy_after() -> u32 {
    DEFAULT_UNHEALTHY_AFTER
}

fn is_default_unhealthy_after(v: &u32) -> bool {
    *v == DEFAULT_UNHEALTHY_AFTER
}

impl Default for Config {
    fn default() -> Self {
        Config {
            version: CONFIG_VERSION,
            host: DEFAULT_HOST.to_string(),
            port: DEFAULT_PROXY_PORT,
            enable_cors: true,
            enable_metrics: true,
            log_requests: false,
            api_key_env: None,
            models: Vec::new(),
            startup_timeout_s: DEFAULT_STARTUP_TIMEOUT_S,
            health_interval_ms: DEFAULT_HEALTH_INTERVAL_MS,
            unhealthy_after: DEFAULT_UNHEALTHY_AFTER,
            queue_timeout_s: DEFAULT_QUEUE_TIMEOUT_S,
            backend_timeout_s: DEFAULT_BACKEND_TIMEOUT_S,
            gpu_sample_interval_s: DEFAULT_GPU_INTERVAL_S,
            client_header_timeout_s: DEFAULT_HEADER_TIMEOUT_S,
            min_residency_s: DEFAULT_MIN_RESIDENCY_S,
            max_wait_s: DEFAULT_MAX_WAIT_S,
            scheduler: Scheduler::Batch,
            sleep_memory_gib: None,
        }
    }
}

impl Config {
    /// `host:port` of the proxy, an IPv6 address in brackets (`[::1]:8000`),
    /// as both a socket address and a URL need it.
    pub fn proxy_address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    pub fn model(&self, name: &str) -> Option<&ModelConfig> {
        self.models.iter().find(|m| m.name == name)
    }

    pub fn model_mut(&mut self, name: &str) -> Option<&mut ModelConfig> {
        self.models.iter_mut().find(|m| m.name == name)
    }

    pub fn model_names(&self) -> Vec<&str> {
        self.models.iter().map(|m| m.name.as_str()).collect()
    }
}

/// What serves a model.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// `vllm serve` (the default).
    #[default]
    Vllm,
    /// The built-in OpenAI-compatible stand-in (`vllm-mux mock-engine`), no GPU needed.
    Mock,
    /// Any OpenAI-compatible server from a command template.
    Command,
    /// A model already served elsewhere: nothing is launched.
    Url,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Vllm => "vllm",
            Engine::Mock => "mock",
            Engine::Command => "command",
            Engine::Url => "url",
        }
    }

    /// Engines that vllm-mux launches on a local port.
    pub fn launches_process(self) -> bool {
        !matches!(self, Engine::Url)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The name clients send as `model`; also the served model name.
    pub name: String,
    /// Hugging Face id or local path (`vllm serve MODEL_PATH`).
    #[serde(default)]
    pub model_path: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub gpu_ids: Vec<u32>,
    /// Local port of the backend; `None` only for the `url` engine.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub engine: Engine,
    /// `command` engine: the template with `{port}`, `{host}`, `{name}`, `{model}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// `command` and `url` engines: the health path (default `/health`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_path: Option<String>,
    /// `url` engine: where the model is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The environment variable holding the key the model's server wants
    /// (`Authorization: Bearer KEY`); the proxy sends it instead of the
    /// client's. `vllm` and `mock` engines get it as `VLLM_API_KEY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_api_key_env: Option<String>,
    /// Stop the model's server after this many seconds without a request,
    /// and start it again when one comes (it waits for the load, up to
    /// `startup_timeout_s`). `None`: the server runs until stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout_s: Option<u64>,
    /// Models of one swap group take turns: they may share GPUs, one runs
    /// at a time, and a request for another stops it and starts that one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_group: Option<String>,
    /// The most requests each copy's server gets at once; more wait in
    /// the model's queue. `None`: no limit (the engine queues them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<u32>,
    /// The most requests that may wait for the model (for a free slot, or
    /// for its load); beyond, 429 with Retry-After. `None`: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queue: Option<u32>,
    /// When idle (its idle timeout, or its swap group runs another), put
    /// the server to sleep (vLLM's sleep mode: weights to CPU memory, GPU
    /// memory freed) instead of stopping it, and wake it in seconds.
    #[serde(default, skip_serializing_if = "is_false")]
    pub sleep_mode: bool,
    /// Never evicted from its swap group's GPUs to make room for another
    /// member (it still stops when stopped by hand or when idle).
    #[serde(default, skip_serializing_if = "is_false")]
    pub pinned: bool,
    /// The GPU memory its server needs on each of its GPUs, in GiB, for
    /// placing swap group members side by side; else its
    /// `gpu_memory_utilization` (0.9 unless set) of each GPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_memory_gib: Option<f64>,
    /// Environment variables for the model's server, over its profile's
    /// `environment` (`CUDA_VISIBLE_DEVICES` comes from `gpu_ids`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// Engine flags: `max_model_len: 8192` becomes `--max-model-len 8192`.
    #[serde(default)]
    pub config_overrides: Map<String, Value>,
    #[serde(default)]
    pub lora_adapters: Vec<LoraAdapter>,
    /// Lower starts first; equal values start together; `null` last.
    #[serde(default)]
    pub loading_priority: Option<i64>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// More copies of the model on other GPUs and ports; requests go to the
    /// ready copy with the fewest in flight.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<Replica>,
}

/// One more copy of a model: everything as the model, but these GPUs and port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replica {
    #[serde(default)]
    pub gpu_ids: Vec<u32>,
    #[serde(default)]
    pub port: Option<u16>,
}

/// Separates a model's name from its replica number in instance ids: `qwen@1`.
/// Model names cannot hold it, so ids never clash with names.
pub const REPLICA_SEP: char = '@';

/// One running copy of a model: `id` names it to the supervisor (logs,
/// status, stop); `model` is what it serves (its name is the model's name).
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub id: String,
    pub model: ModelConfig,
}

/// Whether instance `id` belongs to model `name` (`qwen`, `qwen@2`).
pub fn is_instance_of(id: &str, name: &str) -> bool {
    id == name
        || id
            .split_once(REPLICA_SEP)
            .is_some_and(|(model, _)| model == name)
}

impl ModelConfig {
    pub fn new(name: impl Into<String>) -> Self {
        ModelConfig {
            name: name.into(),
            model_path: String::new(),
            aliases: Vec::new(),
            gpu_ids: Vec::new(),
            port: None,
            profile: None,
            engine: Engine::Vllm,
            command: None,
            health_path: None,
            url: None,
            backend_api_key_env: None,
            idle_timeout_s: None,
            swap_group: None,
            max_concurrent: None,
            max_queue: None,
            sleep_mode: false,
            pinned: false,
            gpu_memory_gib: None,
            environment: BTreeMap::new(),
            config_overrides: Map::new(),
            lora_adapters: Vec::new(),
            loading_priority: None,
            replicas: Vec::new(),
            enabled: true,
        }
    }

    /// The copies that run: the model itself, then `NAME@1`, `NAME@2`, … one
    /// per replica, each with the replica's GPUs and port.
    pub fn instances(&self) -> Vec<Instance> {
        let base = ModelConfig {
            replicas: Vec::new(),
            ..self.clone()
        };
        let mut all = vec![Instance {
            id: self.name.clone(),
            model: base.clone(),
        }];
        for (i, replica) in self.replicas.iter().enumerate() {
            all.push(Instance {
                id: format!("{}{REPLICA_SEP}{}", self.name, i + 1),
                model: ModelConfig {
                    gpu_ids: replica.gpu_ids.clone(),
                    port: replica.port,
                    ..base.clone()
                },
            });
        }
        all
    }
}

/// The override key that lets models share a GPU.
pub const GPU_MEMORY_KEY: &str = "gpu_memory_utilization";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoraAdapter {
    pub name: String,
    pub path: String,
}

fn default_version() -> u32 {
    CONFIG_VERSION
}

fn default_host() -> String {
    DEFAULT_HOST.to_string()
}

fn default_port() -> u16 {
    DEFAULT_PROXY_PORT
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_hosts_get_brackets_in_the_proxy_address() {
        let mut config: Config = serde_json::from_str("{}").expect("defaults");
        config.port = 8000;
        for (host, address) in [
            ("0.0.0.0", "0.0.0.0:8000"),
            ("gpu-box", "gpu-box:8000"),
            ("::1", "[::1]:8000"),
            ("[::1]", "[::1]:8000"),
        ] {
            config.host = host.to_string();
            assert_eq!(config.proxy_address(), address);
        }
    }

    #[test]
    fn minimal_model_gets_defaults() {
        let cfg: Config =
            serde_json::from_str(r#"{"models":[{"name":"a","model_path":"m"}]}"#).expect("parses");
        assert_eq!(cfg.version, CONFIG_VERSION);
        assert_eq!(cfg.port, DEFAULT_PROXY_PORT);
        assert!(cfg.enable_cors && cfg.enable_metrics && !cfg.log_requests);
        let m = &cfg.models[0];
        assert_eq!(m.engine, Engine::Vllm);
        assert!(m.enabled);
        assert_eq!(m.port, None);
    }

    #[test]
    fn unknown_field_is_rejected_with_its_name() {
        let err = serde_json::from_str::<Config>(r#"{"models":[{"name":"a","gpus":[0]}]}"#)
            .expect_err("typo must not pass silently");
        assert!(err.to_string().contains("unknown field `gpus`"), "{err}");
    }

    #[test]
    fn replicas_become_instances_with_their_own_gpus_and_ports() {
        let mut m = ModelConfig::new("qwen");
        m.gpu_ids = vec![0];
        m.port = Some(8001);
        m.aliases = vec!["q".into()];
        m.replicas = vec![Replica {
            gpu_ids: vec![1],
            port: Some(8002),
        }];
        let instances = m.instances();
        assert_eq!(instances.len(), 2);
        assert_eq!(
            (instances[1].id.as_str(), instances[1].model.name.as_str()),
            ("qwen@1", "qwen")
        );
        assert_eq!(
            (instances[1].model.gpu_ids.clone(), instances[1].model.port),
            (vec![1], Some(8002))
        );
        assert_eq!(instances[1].model.aliases, vec!["q".to_string()]);
        assert!(instances.iter().all(|i| i.model.replicas.is_empty()));
        assert!(
            is_instance_of("qwen@1", "qwen")
                && is_instance_of("qwen", "qwen")
                && !is_instance_of("qwen2", "qwen")
        );
    }

    #[test]
    fn engine_specific_keys_are_omitted_when_unset() {
        let text = serde_json::to_string(&ModelConfig::new("a")).expect("serializes");
        assert!(
            !text.contains("command") && !text.contains("url") && !text.contains("health_path")
        );
    }
}
