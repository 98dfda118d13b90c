//! The url engine: a model already served elsewhere. Nothing is launched;
//! it is health-checked and routed like the rest.

use anyhow::Result;

use super::{Launch, DEFAULT_HEALTH_PATH};
use crate::config::ModelConfig;
use crate::error::Failure;

pub fn plan(model: &ModelConfig) -> Result<Launch> {
    let url = model
        .url
        .as_deref()
        .ok_or_else(|| Failure::usage(format!("model '{}': url: is missing", model.name)))?;
    let base_url = url.trim_end_matches('/').to_string();
    let health_url = format!(
        "{base_url}{}",
        model.health_path.as_deref().unwrap_or(DEFAULT_HEALTH_PATH)
    );
    Ok(Launch::Remote {
        base_url,
        health_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Engine;

    #[test]
    fn remote_gets_health_url_and_no_process() {
        let m = ModelConfig {
            engine: Engine::Url,
            url: Some("http://gpu-box:8000/".into()),
            ..ModelConfig::new("far")
        };
        assert_eq!(
            plan(&m).expect("plan"),
            Launch::Remote {
                base_url: "http://gpu-box:8000".into(),
                health_url: "http://gpu-box:8000/health".into()
            }
        );
        let m = ModelConfig {
            health_path: Some("/v1/models".into()),
            ..m
        };
        assert_eq!(
            plan(&m).expect("plan").health_url(),
            "http://gpu-box:8000/v1/models"
        );
    }
}
