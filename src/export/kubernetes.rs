//! `export --format kubernetes`: for each model copy a Deployment of
//! vLLM's image running the supervisor's own command line, a Service per
//! model, and vllm-mux as the router in front of them (a ConfigMap with
//! its config, a Deployment and a Service). Typed objects (k8s-openapi,
//! API 1.33), never text templates.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvVar, EnvVarSource, HTTPGetAction, PersistentVolumeClaimVolumeSource, PodSecurityContext,
    PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SecretKeySelector, SecurityContext,
    Service, ServicePort, ServiceSpec, TCPSocketAction, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::workload::{
    Checks, Copy, EnvValue, Probes, Served, Workload, ENGINE_PORT, GPU_RESOURCE,
};
use super::Options;
use crate::config::Config;

/// The router's objects' name.
pub const ROUTER: &str = "vllm-mux";
/// The user the vllm-mux image runs as (distroless `nonroot`; see the Dockerfile).
pub const IMAGE_UID: i64 = 65532;
/// Where the router reads its config (`XDG_CONFIG_HOME` is `/etc`).
pub const ROUTER_CONFIG_DIR: &str = "/etc/vllm-mux/configs";
/// Where the router keeps its state: logs, pid file, control socket.
pub const ROUTER_STATE_DIR: &str = "/var/lib/vllm-mux";
/// vLLM's image runs as root: this is where it caches Hugging Face downloads.
pub const HF_CACHE_DIR: &str = "/root/.cache/huggingface";
const PORT_NAME: &str = "http";

/// One object of the output, in the order `kubectl apply` takes them.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Object {
    ConfigMap(Box<ConfigMap>),
    Deployment(Box<Deployment>),
    Service(Box<Service>),
}

pub fn objects(
    config: &Config,
    router_config_json: String,
    workload: &Workload,
    options: &Options,
) -> Vec<Object> {
    let mut out = Vec::new();
    for served in &workload.served {
        for copy in &served.copies {
            out.push(Object::Deployment(Box::new(engine_deployment(
                config, served, copy, options,
            ))));
        }
        out.push(Object::Service(Box::new(engine_service(served, options))));
    }
    out.push(Object::ConfigMap(Box::new(router_config_map(
        &options.config_name,
        router_config_json,
        options,
    ))));
    out.push(Object::Deployment(Box::new(router_deployment(
        config, options,
    ))));
    out.push(Object::Service(Box::new(router_service(config, options))));
    out
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

/// What selects every pod of a model (its Service's selector).
fn model_selector(served: &Served) -> BTreeMap<String, String> {
    labels(&[
        ("app.kubernetes.io/component", "engine"),
        ("vllm-mux/model", &served.service),
    ])
}

fn meta(name: &str, labels: BTreeMap<String, String>, options: &Options) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: options.namespace.clone(),
        labels: Some(labels),
        ..ObjectMeta::default()
    }
}

fn http_probe(path: &str, checks: Checks) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_string()),
            port: IntOrString::String(PORT_NAME.into()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(clamp(checks.period_s)),
        failure_threshold: Some(clamp(checks.failures)),
        timeout_seconds: Some(5),
        ..Probe::default()
    }
}

fn clamp(n: u64) -> i32 {
    i32::try_from(n.max(1)).unwrap_or(i32::MAX)
}

fn env_vars(env: &BTreeMap<String, EnvValue>, options: &Options) -> Vec<EnvVar> {
    env.iter()
        .map(|(name, value)| env_var(name, value, options))
        .collect()
}

/// One variable of a pod: its text, or a reference into the Secret.
pub fn env_var(name: &str, value: &EnvValue, options: &Options) -> EnvVar {
    match value {
        EnvValue::Text(text) => EnvVar {
            name: name.to_string(),
            value: Some(text.clone()),
            value_from: None,
        },
        EnvValue::Secret(key) => secret_var(name, key, options),
    }
}

/// `name` from key `key` of the Secret: the value is never in the output.
pub fn secret_var(name: &str, key: &str, options: &Options) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: options.secret.clone(),
                key: key.to_string(),
                optional: Some(false),
            }),
            ..EnvVarSource::default()
        }),
    }
}

/// Where the engine's port is: named, so probes and Services follow it.
fn http_port(port: u16) -> ContainerPort {
    ContainerPort {
        name: Some(PORT_NAME.into()),
        container_port: i32::from(port),
        protocol: Some("TCP".into()),
        ..ContainerPort::default()
    }
}

/// The `hf-cache` volume on the claim `--hf-cache-claim` names.
pub fn hf_cache_volume(claim: &str) -> Volume {
    Volume {
        name: "hf-cache".into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: claim.to_string(),
            read_only: None,
        }),
        ..Volume::default()
    }
}

/// The hardening every container of ours gets.
fn locked_down() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Capabilities::default()
        }),
        ..SecurityContext::default()
    }
}

fn non_root_pod() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(IMAGE_UID),
        run_as_group: Some(IMAGE_UID),
        ..PodSecurityContext::default()
    }
}

fn engine_deployment(
    config: &Config,
    served: &Served,
    copy: &Copy,
    options: &Options,
) -> Deployment {
    let is_vllm = copy.program == "vllm";
    let probes = Probes::of(config);
    let mut pod_labels = model_selector(served);
    pod_labels.extend(labels(&[
        (
            "app.kubernetes.io/name",
            if is_vllm { "vllm" } else { ROUTER },
        ),
        ("app.kubernetes.io/instance", &copy.object),
        ("app.kubernetes.io/part-of", ROUTER),
    ]));
    let mut metadata = meta(&copy.object, pod_labels.clone(), options);
    metadata.annotations = Some(labels(&[
        ("vllm-mux/model", &served.model.name),
        ("vllm-mux/copy", &copy.id),
    ]));
    let limits = (copy.gpus > 0)
        .then(|| BTreeMap::from([(GPU_RESOURCE.to_string(), Quantity(copy.gpus.to_string()))]));
    let (mounts, volumes) = if is_vllm {
        engine_volumes(options)
    } else {
        (Vec::new(), Vec::new())
    };
    let container = Container {
        name: "engine".into(),
        image: Some(if is_vllm {
            options.vllm_image.clone()
        } else {
            options.image.clone()
        }),
        command: Some(vec![copy.program.clone()]),
        args: Some(copy.args.clone()),
        env: Some(env_vars(&copy.env, options)).filter(|e| !e.is_empty()),
        ports: Some(vec![http_port(ENGINE_PORT)]),
        startup_probe: Some(http_probe("/health", probes.startup)),
        readiness_probe: Some(http_probe("/health", probes.readiness)),
        liveness_probe: Some(http_probe("/health", probes.liveness)),
        resources: limits.map(|limits| ResourceRequirements {
            limits: Some(limits),
            ..ResourceRequirements::default()
        }),
        volume_mounts: Some(mounts).filter(|m| !m.is_empty()),
        security_context: (!is_vllm).then(locked_down),
        ..Container::default()
    };
    Deployment {
        metadata,
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(labels(&[("app.kubernetes.io/instance", &copy.object)])),
                ..LabelSelector::default()
            },
            // A rolling update would need its GPUs twice over.
            strategy: Some(DeploymentStrategy {
                type_: Some("Recreate".into()),
                ..DeploymentStrategy::default()
            }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    volumes: Some(volumes).filter(|v| !v.is_empty()),
                    security_context: (!is_vllm).then(non_root_pod),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        status: None,
    }
}

/// Shared memory for tensor parallelism (NCCL), and the Hugging Face cache.
fn engine_volumes(options: &Options) -> (Vec<VolumeMount>, Vec<Volume>) {
    let mounts = vec![
        VolumeMount {
            name: "shm".into(),
            mount_path: "/dev/shm".into(),
            ..VolumeMount::default()
        },
        VolumeMount {
            name: "hf-cache".into(),
            mount_path: HF_CACHE_DIR.into(),
            ..VolumeMount::default()
        },
    ];
    let hf_cache = match &options.hf_cache_claim {
        Some(claim) => hf_cache_volume(claim),
        None => Volume {
            name: "hf-cache".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        },
    };
    let volumes = vec![
        Volume {
            name: "shm".into(),
            empty_dir: Some(EmptyDirVolumeSource {
                medium: Some("Memory".into()),
                size_limit: None,
            }),
            ..Volume::default()
        },
        hf_cache,
    ];
    (mounts, volumes)
}

fn service(
    name: &str,
    labels: BTreeMap<String, String>,
    selector: BTreeMap<String, String>,
    port: u16,
    options: &Options,
) -> Service {
    Service {
        metadata: meta(name, labels, options),
        spec: Some(ServiceSpec {
            selector: Some(selector),
            ports: Some(vec![ServicePort {
                name: Some(PORT_NAME.into()),
                port: i32::from(port),
                target_port: Some(IntOrString::String(PORT_NAME.into())),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

fn engine_service(served: &Served, options: &Options) -> Service {
    let mut own = model_selector(served);
    own.insert("app.kubernetes.io/part-of".into(), ROUTER.into());
    service(
        &served.service,
        own,
        model_selector(served),
        ENGINE_PORT,
        options,
    )
}

fn router_labels() -> BTreeMap<String, String> {
    labels(&[
        ("app.kubernetes.io/name", ROUTER),
        ("app.kubernetes.io/instance", ROUTER),
        ("app.kubernetes.io/component", "router"),
        ("app.kubernetes.io/part-of", ROUTER),
    ])
}

fn router_config_map(config_name: &str, json: String, options: &Options) -> ConfigMap {
    ConfigMap {
        metadata: meta(&format!("{ROUTER}-config"), router_labels(), options),
        data: Some(BTreeMap::from([(format!("{config_name}.json"), json)])),
        ..ConfigMap::default()
    }
}

fn router_deployment(config: &Config, options: &Options) -> Deployment {
    let mut env = vec![
        // The config from the ConfigMap, the state in a volume of its own:
        // the image's file system stays read-only.
        EnvVar {
            name: "XDG_CONFIG_HOME".into(),
            value: Some("/etc".into()),
            value_from: None,
        },
        EnvVar {
            name: "XDG_STATE_HOME".into(),
            value: Some("/var/lib".into()),
            value_from: None,
        },
    ];
    // The keys clients send, and those the models' servers want.
    let mut keys: Vec<&str> = config.api_key_env.iter().map(String::as_str).collect();
    keys.extend(
        config
            .models
            .iter()
            .filter(|m| m.enabled)
            .filter_map(|m| m.backend_api_key_env.as_deref()),
    );
    keys.sort_unstable();
    keys.dedup();
    env.extend(keys.iter().map(|key| secret_var(key, key, options)));
    let container = Container {
        name: "router".into(),
        image: Some(options.image.clone()),
        command: Some(vec![ROUTER.into()]),
        args: Some(vec![
            "--config".into(),
            options.config_name.clone(),
            "start".into(),
            "--foreground".into(),
        ]),
        env: Some(env),
        ports: Some(vec![http_port(config.port)]),
        // Ready when a model is (503 before); alive while it listens, so
        // models that load slowly never restart it.
        readiness_probe: Some(http_probe(
            "/health",
            Checks {
                period_s: 5,
                failures: 1,
            },
        )),
        liveness_probe: Some(Probe {
            tcp_socket: Some(TCPSocketAction {
                port: IntOrString::String(PORT_NAME.into()),
                host: None,
            }),
            period_seconds: Some(10),
            failure_threshold: Some(3),
            ..Probe::default()
        }),
        volume_mounts: Some(vec![
            VolumeMount {
                name: "config".into(),
                mount_path: ROUTER_CONFIG_DIR.into(),
                read_only: Some(true),
                ..VolumeMount::default()
            },
            VolumeMount {
                name: "state".into(),
                mount_path: ROUTER_STATE_DIR.into(),
                ..VolumeMount::default()
            },
        ]),
        security_context: Some(locked_down()),
        ..Container::default()
    };
    Deployment {
        metadata: meta(ROUTER, router_labels(), options),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(labels(&[("app.kubernetes.io/instance", ROUTER)])),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(router_labels()),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    security_context: Some(non_root_pod()),
                    volumes: Some(vec![
                        Volume {
                            name: "config".into(),
                            config_map: Some(ConfigMapVolumeSource {
                                name: format!("{ROUTER}-config"),
                                ..ConfigMapVolumeSource::default()
                            }),
                            ..Volume::default()
                        },
                        Volume {
                            name: "state".into(),
                            empty_dir: Some(EmptyDirVolumeSource::default()),
                            ..Volume::default()
                        },
                    ]),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        status: None,
    }
}

fn router_service(config: &Config, options: &Options) -> Service {
    let selector = labels(&[("app.kubernetes.io/instance", ROUTER)]);
    service(ROUTER, router_labels(), selector, config.port, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The manifests assume what the image is: its user, and where it
    /// reads configs and keeps state.
    #[test]
    fn the_manifests_match_the_dockerfile() {
        let dockerfile = include_str!("../../Dockerfile");
        assert!(dockerfile.contains(&format!("USER {IMAGE_UID}:{IMAGE_UID}")));
        assert!(dockerfile.contains("ENV XDG_CONFIG_HOME=/etc XDG_STATE_HOME=/var/lib"));
        assert!(ROUTER_CONFIG_DIR.starts_with("/etc/vllm-mux"));
        assert!(dockerfile.contains(ROUTER_STATE_DIR));
        assert!(dockerfile.contains("ENTRYPOINT [\"vllm-mux\"]"));
        assert!(dockerfile.contains("--bin vllm-mux"));
    }
}
