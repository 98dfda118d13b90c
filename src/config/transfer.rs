//! Import and export. `export` prints the canonical JSON the store writes;
//! `import` reads that, a vllm-cli proxy config (proxy settings nested
//! under "proxy", no "version"; JSON or the YAML vllm-cli saves), or a
//! llama-swap `config.yaml`, and normalizes it to ours.

use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use super::llama_swap;
use super::schema::Config;
use super::store::{parse_failure, parse_json};
use crate::error::Failure;

/// Which format an imported file was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    VllmMux,
    VllmCli,
    LlamaSwap,
}

impl Format {
    pub fn describe(self) -> &'static str {
        match self {
            Format::VllmMux => "vllm-mux config",
            Format::VllmCli => "vllm-cli proxy config",
            Format::LlamaSwap => "llama-swap config",
        }
    }
}

/// An imported config, its format, and what did not carry over.
#[derive(Debug)]
pub struct Imported {
    pub config: Config,
    pub format: Format,
    pub notes: Vec<String>,
}

/// Parse an import file's text (`path` is only for messages).
pub fn parse_import(text: &str, path: &Path) -> Result<Imported> {
    let yaml = looks_like_yaml(text, path);
    let value: Value = if yaml {
        parse_yaml(text, path)?
    } else {
        parse_json(text, path)?
    };
    let imported = |config, format| Imported {
        config,
        format,
        notes: Vec::new(),
    };
    if llama_swap::is_llama_swap(&value) {
        let (config, notes) = llama_swap::convert(&value).map_err(|why| {
            Failure::usage(format!(
                "cannot import {} as a llama-swap config: {why}",
                path.display()
            ))
        })?;
        return Ok(Imported {
            config,
            format: Format::LlamaSwap,
            notes,
        });
    }
    let Value::Object(mut object) = value else {
        return Err(Failure::usage(format!(
            "{}: a config must be an object of settings",
            path.display()
        ))
        .hint("see 'vllm-mux export' for the format")
        .into());
    };
    if !object.contains_key("proxy") {
        // Ours. From JSON, parse the text again so schema errors carry line and column.
        let config = if yaml {
            serde_json::from_value(Value::Object(object)).map_err(|err| {
                Failure::usage(format!("cannot import {}: {err}", path.display()))
                    .hint("see 'vllm-mux export' for the format")
            })?
        } else {
            parse_json(text, path)?
        };
        return Ok(imported(config, Format::VllmMux));
    }
    let proxy = object.remove("proxy");
    let Some(Value::Object(proxy)) = proxy else {
        return Err(Failure::usage(format!(
            "{}: \"proxy\" must be an object of proxy settings",
            path.display()
        ))
        .into());
    };
    for (key, value) in proxy {
        if object.contains_key(&key) {
            return Err(Failure::usage(format!(
                "{}: \"{key}\" is set both at the top and under \"proxy\"",
                path.display()
            ))
            .hint("keep one of the two")
            .into());
        }
        object.insert(key, value);
    }
    let config = serde_json::from_value(Value::Object(object)).map_err(|err| {
        let mut failure = parse_failure(path, &err);
        failure.message = format!("cannot import {} as a vllm-cli proxy config: {err}", path.display());
        failure.hint = Some("field names follow vllm-cli's ProxyConfig and ModelConfig; see 'vllm-mux export' for ours".into());
        failure
    })?;
    Ok(imported(config, Format::VllmCli))
}

/// YAML by its name, or by not starting as JSON does.
fn looks_like_yaml(text: &str, path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
        || !matches!(text.trim_start().chars().next(), Some('{' | '[') | None)
}

/// YAML read as JSON values; errors with line and column.
fn parse_yaml(text: &str, path: &Path) -> Result<Value> {
    yaml_serde::from_str(text).map_err(|err| {
        let at = err
            .location()
            .map_or(String::new(), |l| format!("line {}, column {}: ", l.line(), l.column()));
        Failure::usage(format!("cannot parse {} as YAML: {at}{err}", path.display()))
            .hint("vllm-mux imports its own JSON, vllm-cli's proxy config (JSON or YAML) and llama-swap's config.yaml")
            .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_format() {
        let imported = parse_import(
            r#"{"version":1,"port":9000,"models":[]}"#,
            Path::new("x.json"),
        )
        .expect("ok");
        assert_eq!(imported.format, Format::VllmMux);
        assert_eq!(imported.config.port, 9000);
    }

    #[test]
    fn reads_vllm_cli_format() {
        let text = r#"{
          "proxy": {"host": "127.0.0.1", "port": 8100, "enable_cors": false, "enable_metrics": true, "log_requests": true},
          "models": [{"name": "llama", "model_path": "meta-llama/Llama-3.1-8B", "gpu_ids": [0], "port": 8101,
                      "profile": "standard", "config_overrides": {"max_model_len": 4096}, "enabled": true}]
        }"#;
        let Imported { config, format, .. } = parse_import(text, Path::new("v.json")).expect("ok");
        assert_eq!(format, Format::VllmCli);
        assert_eq!(config.host, "127.0.0.1");
        assert_eq!(config.port, 8100);
        assert!(!config.enable_cors && config.log_requests);
        assert_eq!(config.models[0].gpu_ids, vec![0]);
        assert_eq!(config.models[0].port, Some(8101));
    }

    #[test]
    fn reads_the_yaml_vllm_cli_saves() {
        let text = "proxy:\n  host: 127.0.0.1\n  port: 8100\nmodels:\n  - name: llama\n    model_path: meta-llama/Llama-3.1-8B\n    gpu_ids: [0]\n    port: 8101\n";
        let imported = parse_import(text, Path::new("v.yaml")).expect("ok");
        assert_eq!(imported.format, Format::VllmCli);
        assert_eq!(imported.config.port, 8100);
        assert_eq!(imported.config.models[0].gpu_ids, vec![0]);
    }

    #[test]
    fn reads_a_llama_swap_config() {
        let text = "models:\n  llama:\n    cmd: llama-server --port ${PORT} -m /m.gguf\n";
        let imported = parse_import(text, Path::new("config.yaml")).expect("ok");
        assert_eq!(imported.format, Format::LlamaSwap);
        assert_eq!(imported.config.models[0].name, "llama");
        assert!(!imported.notes.is_empty());
    }

    #[test]
    fn yaml_syntax_errors_carry_line_and_column() {
        let err = parse_import("models:\n  - a\n b: [\n", Path::new("p.yaml")).expect_err("bad");
        assert!(err.to_string().contains("as YAML: line"), "{err}");
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse_import("{\n\"port\": ,\n}", Path::new("x.json")).expect_err("bad");
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
