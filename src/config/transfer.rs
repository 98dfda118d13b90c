//! Import and export. `export` prints the canonical JSON the store writes;
//! `import` reads that, or a vllm-cli proxy config (proxy settings nested
//! under "proxy", no "version"), and normalizes it to ours.

use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use super::schema::Config;
use super::store::{parse_failure, parse_json};
use crate::error::Failure;

/// Which format an imported file was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    VllmMux,
    VllmCli,
}

impl Format {
    pub fn describe(self) -> &'static str {
        match self {
            Format::VllmMux => "vllm-mux config",
            Format::VllmCli => "vllm-cli proxy config",
        }
    }
}

/// Parse an import file's text (`path` is only for messages).
pub fn parse_import(text: &str, path: &Path) -> Result<(Config, Format)> {
    let value: Value = parse_json(text, path).map_err(|err| yaml_hint(err, text, path))?;
    let Value::Object(mut object) = value else {
        return Err(Failure::usage(format!(
            "{}: a config must be a JSON object",
            path.display()
        ))
        .hint("see 'vllm-mux export' for the format")
        .into());
    };
    if !object.contains_key("proxy") {
        // Ours: parse from the text again so schema errors carry line and column.
        return Ok((parse_json(text, path)?, Format::VllmMux));
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
    Ok((config, Format::VllmCli))
}

/// vllm-cli saves YAML by default; say how to convert it.
fn yaml_hint(err: anyhow::Error, text: &str, path: &Path) -> anyhow::Error {
    let yamlish = path.extension().is_some_and(|e| e == "yaml" || e == "yml")
        || text.trim_start().starts_with("proxy:")
        || text.trim_start().starts_with("models:");
    match err.downcast::<Failure>() {
        Ok(failure) if yamlish => failure
            .hint(format!(
                "this looks like YAML; vllm-mux imports JSON. Convert it first: python3 -c 'import json,sys,yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)' {} > config.json",
                path.display()
            ))
            .into(),
        Ok(failure) => failure.into(),
        Err(err) => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_format() {
        let (config, format) = parse_import(
            r#"{"version":1,"port":9000,"models":[]}"#,
            Path::new("x.json"),
        )
        .expect("ok");
        assert_eq!(format, Format::VllmMux);
        assert_eq!(config.port, 9000);
    }

    #[test]
    fn reads_vllm_cli_format() {
        let text = r#"{
          "proxy": {"host": "127.0.0.1", "port": 8100, "enable_cors": false, "enable_metrics": true, "log_requests": true},
          "models": [{"name": "llama", "model_path": "meta-llama/Llama-3.1-8B", "gpu_ids": [0], "port": 8101,
                      "profile": "standard", "config_overrides": {"max_model_len": 4096}, "enabled": true}]
        }"#;
        let (config, format) = parse_import(text, Path::new("v.json")).expect("ok");
        assert_eq!(format, Format::VllmCli);
        assert_eq!(config.host, "127.0.0.1");
        assert_eq!(config.port, 8100);
        assert!(!config.enable_cors && config.log_requests);
        assert_eq!(config.models[0].gpu_ids, vec![0]);
        assert_eq!(config.models[0].port, Some(8101));
    }

    #[test]
    fn yaml_gets_a_conversion_hint() {
        let err = parse_import("proxy:\n  port: 8000\n", Path::new("p.yaml")).expect_err("yaml");
        let failure = err.downcast_ref::<Failure>().expect("Failure");
        assert!(failure.hint.as_deref().unwrap_or("").contains("YAML"));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse_import("{\n\"port\": ,\n}", Path::new("x.json")).expect_err("bad");
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
