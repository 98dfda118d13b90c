//! The command engine: any OpenAI-compatible server from a template with
//! `{port}`, `{host}`, `{name}` and `{model}`. It runs as
//! `/bin/sh -c 'exec TEMPLATE FLAGS'`, so the template may quote and use
//! variables like a shell line; every substituted value is shell-quoted.

use std::path::PathBuf;

use anyhow::Result;
use serde_json::{Map, Value};

use super::{flags::to_flags, BACKEND_HOST};
use crate::config::ModelConfig;
use crate::error::Failure;

pub fn argv(
    model: &ModelConfig,
    port: u16,
    settings: &Map<String, Value>,
) -> Result<(PathBuf, Vec<String>)> {
    let template = model
        .command
        .as_deref()
        .ok_or_else(|| Failure::usage(format!("model '{}': command: is missing", model.name)))?;
    let mut line = template
        .replace("{port}", &port.to_string())
        .replace("{host}", BACKEND_HOST)
        .replace("{name}", &quote(&model.name))
        .replace("{model}", &quote(&model.model_path));
    for flag in to_flags(settings) {
        line.push(' ');
        line.push_str(&quote(&flag));
    }
    Ok((
        PathBuf::from("/bin/sh"),
        vec!["-c".into(), format!("exec {line}")],
    ))
}

/// Quote for `sh`: plain words stay as they are, others go in single quotes.
pub fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(template: &str) -> ModelConfig {
        ModelConfig {
            model_path: "/models/my model.gguf".into(),
            command: Some(template.into()),
            port: Some(8003),
            ..ModelConfig::new("cpu")
        }
    }

    #[test]
    fn placeholders_are_filled_and_quoted() {
        let m = model("llama-server -m {model} --host {host} --port {port} --alias {name}");
        let (program, args) = argv(&m, 8003, &Map::new()).expect("argv");
        assert_eq!(program, PathBuf::from("/bin/sh"));
        assert_eq!(args, ["-c", "exec llama-server -m '/models/my model.gguf' --host 127.0.0.1 --port 8003 --alias cpu"]);
    }

    #[test]
    fn overrides_are_appended_as_flags() {
        let m = model("srv --port {port}");
        let settings = json!({"ctx_size": 2048, "chat_template": "it's"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let (_, args) = argv(&m, 8003, &settings).expect("argv");
        assert_eq!(
            args[1],
            r"exec srv --port 8003 --chat-template 'it'\''s' --ctx-size 2048"
        );
    }

    #[test]
    fn quoting_keeps_plain_words_plain() {
        assert_eq!(quote("Qwen/Qwen2.5-7B"), "Qwen/Qwen2.5-7B");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("$HOME"), "'$HOME'");
    }

    #[test]
    fn the_command_really_runs_under_sh() {
        let m = ModelConfig {
            command: Some("echo {name} {port}".into()),
            ..ModelConfig::new("x y")
        };
        let (program, args) = argv(&m, 9, &Map::new()).expect("argv");
        let out = std::process::Command::new(program)
            .args(args)
            .output()
            .expect("sh runs");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "x y 9\n");
    }
}
