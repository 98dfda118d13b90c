//! GPUs: what the machine has (NVML, or a fake inventory for tests) and the
//! rules for assigning them to models.

pub mod assign;
pub mod cross;
mod fake;
pub mod free;
mod nvml;

use serde::{Deserialize, Serialize};

pub use fake::FAKE_ENV;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuInfo {
    pub index: u32,
    pub name: String,
    pub memory_total_mib: u64,
    pub memory_used_mib: u64,
    pub utilization_percent: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature_c: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_w: Option<f64>,
    /// Compute processes on the GPU, where the driver tells.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<GpuProcess>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuProcess {
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_memory_mib: Option<u64>,
}

/// What is known about the machine's GPUs.
#[derive(Debug, Clone, PartialEq)]
pub enum Inventory {
    /// GPUs were listed (possibly none).
    Detected(Vec<GpuInfo>),
    /// No NVIDIA driver here: nothing can be checked against real GPUs.
    Unavailable(String),
}

impl Inventory {
    /// The fake inventory if `VLLM_MUX_FAKE_GPUS` is set, else NVML.
    pub fn detect() -> anyhow::Result<Self> {
        if let Some(gpus) = fake::from_env()? {
            return Ok(Inventory::Detected(gpus));
        }
        Ok(nvml::detect())
    }

    pub fn gpus(&self) -> &[GpuInfo] {
        match self {
            Inventory::Detected(gpus) => gpus,
            Inventory::Unavailable(_) => &[],
        }
    }

    /// `Some(true/false)` when the inventory is known, `None` when it is not.
    pub fn has(&self, index: u32) -> Option<bool> {
        match self {
            Inventory::Detected(gpus) => Some(gpus.iter().any(|g| g.index == index)),
            Inventory::Unavailable(_) => None,
        }
    }
}
