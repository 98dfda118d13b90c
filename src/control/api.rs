//! Routes and JSON bodies of the control API, shared by the supervisor's
//! handlers and the CLI's client, so the two cannot disagree. `status
//! --json` prints [`StatusReport`] as it is: it is the contract scripts use
//! (DESIGN.md section 1).

use serde::{Deserialize, Serialize};

use crate::gpu::GpuInfo;
use crate::supervisor::state::ModelState;

pub const STATUS: &str = "/status";
pub const SHUTDOWN: &str = "/shutdown";
pub const RELOAD: &str = "/reload";
/// `POST /models/{name}/stop` and `/start`, as axum route patterns.
pub const MODEL_STOP: &str = "/models/{name}/stop";
pub const MODEL_START: &str = "/models/{name}/start";
/// `POST /models/{name}/loras` (body: the adapter) and
/// `POST /models/{name}/loras/{adapter}/remove`.
pub const MODEL_LORAS: &str = "/models/{name}/loras";
pub const MODEL_LORA_REMOVE: &str = "/models/{name}/loras/{adapter}/remove";

/// The path of a model action for the client.
pub fn model_path(route: &str, name: &str) -> String {
    route.replace("{name}", name)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// The supervisor's version; the CLI warns when it differs from its own.
    pub version: String,
    pub config: String,
    pub proxy: ProxyStatus,
    pub models: Vec<ModelStatus>,
    pub gpus: Vec<GpuInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyStatus {
    pub url: String,
    pub pid: u32,
    pub uptime_s: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelStatus {
    pub name: String,
    pub state: ModelState,
    /// Seconds in `state` (0 from a supervisor older than this field).
    #[serde(default)]
    pub state_for_s: u64,
    pub port: Option<u16>,
    pub pid: Option<u32>,
    pub gpu_ids: Vec<u32>,
    pub restarts: u32,
    pub requests: u64,
    pub errors: u64,
    pub in_flight: u64,
    pub p50_ms: Option<f64>,
    pub last_error: Option<String>,
    /// Why it is in its state when it is not ready, in words ("no requests
    /// for 300 s, …"; absent from a supervisor older than this field).
    #[serde(default)]
    pub detail: Option<String>,
    /// The last log lines, filled when the model has failed.
    pub log_tail: Vec<String>,
    /// Requests waiting for it now (for a free slot, or for its load).
    #[serde(default)]
    pub queued: u64,
    /// Requests refused with 429 since the start: its queue was full.
    #[serde(default)]
    pub rejected: u64,
    /// The LoRA adapters its running server has loaded (left out when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lora_loaded: Vec<String>,
}

/// What every control request that changes something answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionReply {
    pub ok: bool,
    pub message: String,
}

/// The error body of the control API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
    pub hint: Option<String>,
}

/// Reports for tests of what prints them.
#[cfg(test)]
impl StatusReport {
    /// A report of config "default" with these models and no GPUs.
    pub fn of(models: Vec<ModelStatus>) -> StatusReport {
        StatusReport {
            version: "0".into(),
            config: "default".into(),
            proxy: ProxyStatus {
                url: "http://127.0.0.1:8000".into(),
                pid: 1,
                uptime_s: 0,
            },
            models,
            gpus: Vec::new(),
        }
    }
}

#[cfg(test)]
impl ModelStatus {
    /// A model in `state` with nothing else to say.
    pub fn bare(name: &str, state: ModelState) -> ModelStatus {
        ModelStatus {
            name: name.into(),
            state,
            state_for_s: 0,
            port: None,
            pid: None,
            gpu_ids: Vec::new(),
            restarts: 0,
            requests: 0,
            errors: 0,
            in_flight: 0,
            p50_ms: None,
            last_error: None,
            detail: None,
            log_tail: Vec::new(),
            lora_loaded: Vec::new(),
            queued: 0,
            rejected: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The example of DESIGN.md section 1, key for key.
    #[test]
    fn status_json_has_the_documented_shape() {
        let report = StatusReport {
            version: "0.1.0".into(),
            config: "default".into(),
            proxy: ProxyStatus {
                url: "http://0.0.0.0:8000".into(),
                pid: 4242,
                uptime_s: 35,
            },
            models: vec![ModelStatus {
                name: "qwen-7b".into(),
                state: ModelState::Ready,
                state_for_s: 0,
                port: Some(8001),
                pid: Some(4250),
                gpu_ids: vec![0],
                restarts: 0,
                requests: 12,
                errors: 0,
                in_flight: 1,
                p50_ms: Some(41.5),
                last_error: None,
                detail: None,
                log_tail: vec![],
                lora_loaded: Vec::new(),
                queued: 0,
                rejected: 0,
            }],
            gpus: vec![GpuInfo {
                index: 0,
                name: "...".into(),
                memory_total_mib: 81920,
                memory_used_mib: 70000,
                utilization_percent: 93,
                temperature_c: None,
                power_w: None,
                processes: Vec::new(),
            }],
        };
        let expected = json!({"version": "0.1.0", "config": "default",
            "proxy": {"url": "http://0.0.0.0:8000", "pid": 4242, "uptime_s": 35},
            "models": [{"name": "qwen-7b", "state": "ready", "port": 8001, "pid": 4250,
                        "gpu_ids": [0], "restarts": 0, "requests": 12, "errors": 0,
                        "in_flight": 1, "p50_ms": 41.5, "last_error": null, "log_tail": []}],
            "gpus": [{"index": 0, "name": "...", "memory_used_mib": 70000,
                      "memory_total_mib": 81920, "utilization_percent": 93}]});
        // DESIGN.md's example reads back as it is (fields added since default).
        let back: StatusReport = serde_json::from_value(expected.clone()).expect("deserializes");
        assert_eq!(back, report);
        // What is written is that example, plus the fields added since.
        let mut written = serde_json::to_value(&report).expect("serializes");
        let model = written["models"][0].as_object_mut();
        let added = model.map(|m| {
            (
                m.remove("state_for_s"),
                m.remove("detail"),
                m.remove("queued"),
                m.remove("rejected"),
            )
        });
        assert_eq!(
            added,
            Some((
                Some(json!(0)),
                Some(json!(null)),
                Some(json!(0)),
                Some(json!(0))
            ))
        );
        assert_eq!(written, expected);
    }

    #[test]
    fn model_routes_fill_in_the_name() {
        assert_eq!(model_path(MODEL_STOP, "qwen"), "/models/qwen/stop");
        assert_eq!(model_path(MODEL_START, "qwen"), "/models/qwen/start");
    }
}
