//! A config as something else runs it: Kubernetes manifests with vllm-mux
//! as the router, or values for vLLM production-stack's Helm chart. Both
//! start from [`workload::plan`], the supervisor's own launch plans.

pub mod kubernetes;
pub mod names;
pub mod production_stack;
pub mod router;
pub mod workload;

use anyhow::Result;
use serde::Serialize;

use crate::config::profiles::Profiles;
use crate::config::store::to_canonical_json;
use crate::config::validate::{into_result, problems};
use crate::config::Config;
use crate::gpu::Inventory;

/// The vLLM image the engines run: the release whose flags the tests run.
pub const DEFAULT_VLLM_IMAGE: &str = "vllm/vllm-openai:v0.32.0";
/// The Secret that holds every key, by default.
pub const DEFAULT_SECRET: &str = "vllm-mux-keys";

/// What `export` writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The config itself, canonical JSON.
    #[default]
    Json,
    /// Deployments and Services for each model, and vllm-mux as the router.
    Kubernetes,
    /// Values for vLLM production-stack's Helm chart (its own router).
    ProductionStack,
}

/// Choices for a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub config_name: String,
    /// The vllm-mux image (the router, and mock engines).
    pub image: String,
    pub vllm_image: String,
    pub namespace: Option<String>,
    /// A PersistentVolumeClaim for the Hugging Face cache; else each pod
    /// downloads into a volume of its own.
    pub hf_cache_claim: Option<String>,
    /// The Secret that holds the keys.
    pub secret: String,
}

impl Options {
    /// The image built from this version's Dockerfile.
    pub fn default_image() -> String {
        format!("vllm-mux:{}", env!("CARGO_PKG_VERSION"))
    }
}

/// The text to write, and what it could not carry (also in its header).
pub struct Rendered {
    pub text: String,
    pub notes: Vec<String>,
}

/// `config` for a cluster: YAML (or, with `json`, JSON a `kubectl` or
/// `helm` reads as well).
pub fn render(
    config: &Config,
    profiles: &Profiles,
    format: Format,
    options: &Options,
    json: bool,
) -> Result<Rendered> {
    if format == Format::Json {
        return Ok(Rendered {
            text: to_canonical_json(config)?,
            notes: Vec::new(),
        });
    }
    // GPUs are the cluster's, not this machine's: not checked here.
    let found = problems(
        config,
        profiles,
        &Inventory::Unavailable("GPUs are the cluster's".into()),
    );
    into_result(
        found,
        "nothing was exported; mend it with 'vllm-mux edit-model NAME' or 'vllm-mux edit-proxy'",
    )?;
    let workload = workload::plan(config, profiles)?;
    let mut notes = workload.notes.clone();
    let mut size = (
        workload
            .served
            .iter()
            .map(|s| s.copies.len())
            .sum::<usize>(),
        workload.gpus(),
    );
    let (body, command) = match format {
        Format::Json | Format::Kubernetes => {
            let router = router::router_config(config, &workload);
            let objects =
                kubernetes::objects(config, to_canonical_json(&router)?, &workload, options);
            let body = if json {
                let items = objects
                    .iter()
                    .map(serde_json::to_value)
                    .collect::<Result<Vec<_>, _>>()?;
                pretty(&serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}))?
            } else {
                let mut docs = Vec::new();
                for object in &objects {
                    docs.push(yaml(object)?);
                }
                docs.join("---\n")
            };
            (body, "kubectl apply -f FILE")
        }
        Format::ProductionStack => {
            let (values, more) = production_stack::values(config, &workload, options)?;
            notes.extend(more);
            size = values.size();
            let body = if json {
                pretty(&values)?
            } else {
                yaml(&values)?
            };
            (
                body,
                "helm install vllm vllm/vllm-stack -f FILE (repo: https://vllm-project.github.io/production-stack)",
            )
        }
    };
    if !workload.secret_keys.is_empty() {
        let keys: Vec<&str> = workload.secret_keys.iter().map(String::as_str).collect();
        notes.push(format!(
            "the pods read {} from Secret '{}', which this output does not hold: kubectl create secret generic {} {}",
            keys.join(", "),
            options.secret,
            options.secret,
            keys.iter()
                .map(|k| format!("--from-literal={k}=..."))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    let (pods, gpus) = size;
    let text = if json {
        body
    } else {
        let mut header = vec![format!(
            "# vllm-mux {} export of config '{}': {command}",
            env!("CARGO_PKG_VERSION"),
            options.config_name
        )];
        header.push(format!(
            "# {pods} engine pod{} asking for {gpus} GPU{} in all",
            if pods == 1 { "" } else { "s" },
            if gpus == 1 { "" } else { "s" },
        ));
        header.extend(notes.iter().map(|n| format!("# note: {n}")));
        format!("{}\n{body}", header.join("\n"))
    };
    Ok(Rendered { text, notes })
}

/// One YAML document, ending in a newline.
fn yaml<T: Serialize>(value: &T) -> Result<String> {
    let mut text = yaml_serde::to_string(value)?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

fn pretty<T: Serialize>(value: &T) -> Result<String> {
    Ok(format!("{}\n", serde_json::to_string_pretty(value)?))
}
