//! Real GPUs through NVML, loaded at run time: without the NVIDIA driver this
//! reports "no NVIDIA GPU found" and everything else keeps working.

use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
use nvml_wrapper::Nvml;

use nvml_wrapper::enums::device::UsedGpuMemory;

use super::{GpuInfo, GpuProcess, Inventory};

const MIB: u64 = 1024 * 1024;

pub fn detect() -> Inventory {
    let nvml = match Nvml::init() {
        Ok(nvml) => nvml,
        Err(err) => return Inventory::Unavailable(format!("no NVIDIA GPU found ({err})")),
    };
    let count = match nvml.device_count() {
        Ok(count) => count,
        Err(err) => return Inventory::Unavailable(format!("NVML cannot count GPUs: {err}")),
    };
    let gpus = (0..count)
        .filter_map(|index| {
            let device = nvml.device_by_index(index).ok()?;
            let memory = device.memory_info().ok();
            Some(GpuInfo {
                index,
                name: device.name().unwrap_or_else(|_| "unknown".to_string()),
                memory_total_mib: memory.as_ref().map_or(0, |m| m.total / MIB),
                memory_used_mib: memory.as_ref().map_or(0, |m| m.used / MIB),
                utilization_percent: device.utilization_rates().map_or(0, |u| u.gpu),
                temperature_c: device.temperature(TemperatureSensor::Gpu).ok(),
                power_w: device.power_usage().ok().map(|mw| f64::from(mw) / 1000.0),
                processes: device
                    .running_compute_processes()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| GpuProcess {
                        pid: p.pid,
                        name: std::fs::read_to_string(format!("/proc/{}/comm", p.pid))
                            .ok()
                            .map(|n| n.trim().to_string()),
                        used_memory_mib: match p.used_gpu_memory {
                            UsedGpuMemory::Used(bytes) => Some(bytes / MIB),
                            UsedGpuMemory::Unavailable => None,
                        },
                        owner: None,
                    })
                    .collect(),
            })
        })
        .collect();
    Inventory::Detected(gpus)
}
