//! GPUs: what the machine has (NVML, or a fake inventory for tests) and the
//! rules for assigning them to models.

pub mod assign;
pub mod cross;
mod fake;
pub mod free;
mod nvml;
pub mod owners;

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
    /// The model of a running config whose server it belongs to, as
    /// `CONFIG/MODEL` (see [`owners::label`]); `None` for anything else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl GpuProcess {
    /// "pid 4242 python3 (39500 MiB)", with its owner when it has one:
    /// "pid 4250 VLLM::EngineCore (36702 MiB, c/qwen)".
    pub fn describe(&self) -> String {
        let name = self
            .name
            .as_deref()
            .map_or(String::new(), |n| format!(" {n}"));
        let about: Vec<String> = self
            .used_memory_mib
            .map(|m| format!("{m} MiB"))
            .into_iter()
            .chain(self.owner.clone())
            .collect();
        let about = if about.is_empty() {
            String::new()
        } else {
            format!(" ({})", about.join(", "))
        };
        format!("pid {}{name}{about}", self.pid)
    }
}

/// "pid 4242 python3 (70000 MiB), pid 4250 VLLM::EngineCore (36702 MiB,
/// c/qwen)", or "-" for none.
pub fn describe_processes<'a>(processes: impl IntoIterator<Item = &'a GpuProcess>) -> String {
    let all: Vec<String> = processes.into_iter().map(GpuProcess::describe).collect();
    if all.is_empty() {
        "-".into()
    } else {
        all.join(", ")
    }
}

#[cfg(test)]
impl GpuInfo {
    /// GPU `index` of 80000 MiB, `used` of it held by `processes`.
    pub fn fake(index: u32, used: u64, processes: Vec<GpuProcess>) -> GpuInfo {
        GpuInfo {
            index,
            name: "Fake".into(),
            memory_total_mib: 80000,
            memory_used_mib: used,
            utilization_percent: 0,
            temperature_c: None,
            power_w: None,
            processes,
        }
    }
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

    pub fn gpus_mut(&mut self) -> &mut [GpuInfo] {
        match self {
            Inventory::Detected(gpus) => gpus,
            Inventory::Unavailable(_) => &mut [],
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
