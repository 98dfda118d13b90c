//! Real GPUs through NVML, loaded at run time: without the NVIDIA driver this
//! reports "no NVIDIA GPU found" and everything else keeps working.

use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
use nvml_wrapper::Nvml;

use super::{GpuInfo, Inventory};

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
            })
        })
        .collect();
    Inventory::Detected(gpus)
}
