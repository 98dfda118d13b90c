//! `VLLM_MUX_FAKE_GPUS=file.json` replaces NVML, so tests and CI can check GPU
//! assignment without a GPU.

use std::path::PathBuf;

use anyhow::Result;

use super::GpuInfo;
use crate::config::store::read_json;
use crate::error::Failure;

pub const FAKE_ENV: &str = "VLLM_MUX_FAKE_GPUS";

pub fn from_env() -> Result<Option<Vec<GpuInfo>>> {
    let Some(path) = std::env::var_os(FAKE_ENV).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let path = PathBuf::from(path);
    let gpus: Vec<GpuInfo> = read_json(&path)?.ok_or_else(|| {
        Failure::usage(format!(
            "{FAKE_ENV} names {}, which does not exist",
            path.display()
        ))
        .hint(format!("unset {FAKE_ENV} to use the real GPUs"))
    })?;
    Ok(Some(gpus))
}
