//! Free GPU memory before vLLM servers start (`start`, `start-model`,
//! `reload`). vLLM refuses to start when a GPU has less free memory than
//! its `gpu_memory_utilization` asks for (0.9 of the GPU unless set),
//! typically because a process outside vllm-mux (a crashed server, a
//! notebook) still holds it. That is found out after minutes of loading;
//! checked here, it is found out at once, with who holds the GPU.

use super::assign::{one_per_swap_group, Claim};
use super::cross::memory_fraction;
use super::{GpuInfo, GpuProcess};
use crate::config::profiles::Profiles;
use crate::config::schema::Instance;
use crate::config::{Config, Engine};
use crate::error::Failure;

/// What to do about a GPU short of memory.
const HINT: &str = "free the GPU ('vllm-mux gpus' lists what runs on it), or lower the model's --gpu-memory-utilization";

/// vLLM's `gpu_memory_utilization` when neither a profile nor the model sets it.
pub const VLLM_DEFAULT_FRACTION: f64 = 0.9;

/// One GPU that cannot give this config's vLLM models what they ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct Short {
    pub gpu: u32,
    /// The models (copies) that will run on it, in config order.
    pub models: Vec<String>,
    pub need_mib: u64,
    pub free_mib: u64,
    pub total_mib: u64,
    /// What holds its memory now, as the driver tells: "PID NAME (MiB)".
    pub holders: Vec<String>,
}

impl Short {
    pub fn message(&self) -> String {
        let held = if self.holders.is_empty() {
            String::new()
        } else {
            format!(", held by {}", self.holders.join(", "))
        };
        format!(
            "GPU {}: {} need {} MiB free (gpu_memory_utilization of {} MiB) but only {} MiB are free{held}; vLLM would refuse to start",
            self.gpu,
            self.models
                .iter()
                .map(|m| format!("'{m}'"))
                .collect::<Vec<_>>()
                .join(", "),
            self.need_mib,
            self.total_mib,
            self.free_mib,
        )
    }
}

/// A usage error listing every GPU in `short`, with what to do about it;
/// `nothing` says what was left undone ("nothing was started").
pub fn refuse(short: &[Short], nothing: &str) -> Result<(), Failure> {
    let problems = short.iter().map(Short::message).collect();
    Failure::usage_if_any(problems, &format!("{HINT}; {nothing}"))
}

/// The GPUs whose free memory is less than the enabled vLLM models of
/// `config` on them ask for together, all starting at once.
pub fn shortages(config: &Config, profiles: &Profiles, gpus: &[GpuInfo]) -> Vec<Short> {
    let copies: Vec<Instance> = config
        .models
        .iter()
        .filter(|m| m.enabled)
        .flat_map(|m| m.instances())
        .collect();
    shortages_for(&copies, profiles, gpus, &|_| false)
}

/// The GPUs whose free memory is less than the vLLM copies among
/// `starting` ask for together. The memory of a process `released` says
/// yes to counts as free, and the process is not named as a holder: it is
/// one of ours that stops before these start. A swap group runs one member
/// at a time, so it asks for the most any member does (the GPU rule's merge).
pub fn shortages_for(
    starting: &[Instance],
    profiles: &Profiles,
    gpus: &[GpuInfo],
    released: &dyn Fn(u32) -> bool,
) -> Vec<Short> {
    // Each vLLM copy with its fraction (vLLM's default when unset), in order.
    let copies: Vec<(&Instance, f64)> = starting
        .iter()
        .filter(|i| i.model.engine == Engine::Vllm)
        .map(|i| {
            let fraction = memory_fraction(&i.model, profiles).unwrap_or(VLLM_DEFAULT_FRACTION);
            (i, fraction)
        })
        .collect();
    let claims: Vec<Claim<'_>> = copies
        .iter()
        .map(|(copy, fraction)| Claim {
            model: &copy.id,
            gpu_ids: &copy.model.gpu_ids,
            memory_fraction: Some(*fraction),
            swap_group: copy.model.swap_group.as_deref(),
        })
        .collect();
    let mut short = Vec::new();
    for gpu in gpus {
        let holders: Vec<&Claim<'_>> = claims
            .iter()
            .filter(|c| c.gpu_ids.contains(&gpu.index))
            .collect();
        if holders.is_empty() {
            continue;
        }
        let models: Vec<String> = holders.iter().map(|c| c.model.to_string()).collect();
        let fraction: f64 = one_per_swap_group(holders)
            .iter()
            .filter_map(|c| c.memory_fraction)
            .sum();
        // As vLLM computes it: the fraction of the whole GPU.
        let need_mib = (gpu.memory_total_mib as f64 * fraction).ceil() as u64;
        let (ours, others): (Vec<&GpuProcess>, Vec<&GpuProcess>) =
            gpu.processes.iter().partition(|p| released(p.pid));
        let freed: u64 = ours.iter().filter_map(|p| p.used_memory_mib).sum();
        let free_mib = gpu
            .memory_total_mib
            .saturating_sub(gpu.memory_used_mib.saturating_sub(freed));
        if free_mib >= need_mib {
            continue;
        }
        short.push(Short {
            gpu: gpu.index,
            models,
            need_mib,
            free_mib,
            total_mib: gpu.memory_total_mib,
            holders: others.iter().map(|p| p.describe()).collect(),
        });
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelConfig;

    fn model(name: &str, gpus: &[u32], fraction: Option<f64>) -> ModelConfig {
        let mut m = ModelConfig::new(name);
        m.model_path = "org/model".into();
        m.gpu_ids = gpus.to_vec();
        if let Some(f) = fraction {
            m.config_overrides
                .insert("gpu_memory_utilization".into(), serde_json::json!(f));
        }
        m
    }

    fn config(models: Vec<ModelConfig>) -> Config {
        Config {
            models,
            ..Config::default()
        }
    }

    #[test]
    fn a_gpu_held_by_another_process_is_short_and_says_by_whom() {
        let held = vec![GpuProcess {
            pid: 4242,
            name: Some("python3".into()),
            used_memory_mib: Some(30000),
            owner: None,
        }];
        let gpus = [
            GpuInfo::fake(0, 30500, held),
            GpuInfo::fake(1, 500, Vec::new()),
        ];
        let c = config(vec![model("qwen", &[0], None), model("llama", &[1], None)]);
        let short = shortages(&c, &Profiles::default(), &gpus);
        assert_eq!(short.len(), 1, "{short:?}");
        assert_eq!(
            (short[0].gpu, short[0].need_mib, short[0].free_mib),
            (0, 72000, 49500)
        );
        assert_eq!(
            short[0].message(),
            "GPU 0: 'qwen' need 72000 MiB free (gpu_memory_utilization of 80000 MiB) but only 49500 MiB are free, held by pid 4242 python3 (30000 MiB); vLLM would refuse to start"
        );
        // A lower fraction fits.
        let c = config(vec![model("qwen", &[0], Some(0.6))]);
        assert!(shortages(&c, &Profiles::default(), &gpus).is_empty());
    }

    #[test]
    fn models_sharing_a_gpu_add_up_but_a_swap_group_counts_once() {
        let gpus = [GpuInfo::fake(0, 10000, Vec::new())];
        let mut a = model("b", &[0], Some(0.45));
        let mut b = model("a", &[0], Some(0.45));
        let c = config(vec![a.clone(), b.clone()]);
        let short = shortages(&c, &Profiles::default(), &gpus);
        assert_eq!(short[0].models, vec!["b", "a"], "in config order");
        assert_eq!(short[0].need_mib, 72000);
        a.swap_group = Some("g".into());
        b.swap_group = Some("g".into());
        assert!(shortages(&config(vec![a, b]), &Profiles::default(), &gpus).is_empty());
    }

    #[test]
    fn memory_of_servers_that_stop_first_counts_as_free() {
        let held = vec![
            GpuProcess {
                pid: 10,
                name: Some("VLLM::EngineCore".into()),
                used_memory_mib: Some(36000),
                owner: None,
            },
            GpuProcess {
                pid: 4242,
                name: Some("python3".into()),
                used_memory_mib: Some(30000),
                owner: None,
            },
        ];
        let gpus = [GpuInfo::fake(0, 66500, held)];
        let starting = model("qwen", &[0], Some(0.45)).instances();
        let profiles = Profiles::default();
        // Pid 10 stays: 13500 MiB free of the 36000 asked for; both are named.
        let short = shortages_for(&starting, &profiles, &gpus, &|_| false);
        assert_eq!(short[0].free_mib, 13500);
        assert_eq!(short[0].holders.len(), 2);
        // Pid 10 is ours and stops first: its 36000 MiB are free then.
        assert!(shortages_for(&starting, &profiles, &gpus, &|pid| pid == 10).is_empty());
        let starting = model("qwen", &[0], Some(0.65)).instances();
        let short = shortages_for(&starting, &profiles, &gpus, &|pid| pid == 10);
        assert_eq!(short[0].free_mib, 49500);
        assert_eq!(short[0].holders, vec!["pid 4242 python3 (30000 MiB)"]);
    }

    #[test]
    fn only_enabled_vllm_models_on_known_gpus_count() {
        let gpus = [GpuInfo::fake(0, 79000, Vec::new())];
        let mut mock = model("mock", &[0], None);
        mock.engine = Engine::Mock;
        let mut off = model("off", &[0], None);
        off.enabled = false;
        let elsewhere = model("elsewhere", &[7], None);
        let c = config(vec![mock, off, elsewhere]);
        assert!(shortages(&c, &Profiles::default(), &gpus).is_empty());
    }
}
