//! `config_overrides` (and profile settings) as engine command-line flags.
//!
//! `max_model_len: 4096` → `--max-model-len 4096`; `true` → `--flag`;
//! `false` → `--no-flag` (vLLM's boolean flags take that form); `null` → no
//! flag at all, which lets a model cancel a setting its profile makes; a list
//! → `--flag a b c`; an object → `--flag '{"json": ...}'`.

use serde_json::{Map, Value};

/// A key as a flag: `max_model_len` → `--max-model-len`.
pub fn flag_name(key: &str) -> String {
    format!("--{}", key.replace('_', "-"))
}

/// The key as stored: dashes become underscores (`max-model-len` → `max_model_len`).
pub fn normalize_key(key: &str) -> String {
    key.trim_start_matches("--").replace('-', "_")
}

/// Profile settings with the model's overrides on top.
pub fn effective(
    profile: Option<&Map<String, Value>>,
    overrides: &Map<String, Value>,
) -> Map<String, Value> {
    let mut merged = Map::new();
    for source in profile.into_iter().chain(std::iter::once(overrides)) {
        for (key, value) in source {
            merged.insert(normalize_key(key), value.clone());
        }
    }
    merged
}

/// The flags for a set of settings, in key order.
pub fn to_flags(settings: &Map<String, Value>) -> Vec<String> {
    let mut argv = Vec::new();
    for (key, value) in settings {
        let flag = flag_name(key);
        match value {
            Value::Null => {}
            Value::Bool(true) => argv.push(flag),
            Value::Bool(false) => argv.push(format!("--no-{}", key.replace('_', "-"))),
            Value::Array(items) => {
                argv.push(flag);
                argv.extend(items.iter().map(scalar_text));
            }
            other => {
                argv.push(flag);
                argv.push(scalar_text(other));
            }
        }
    }
    argv
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parse the value of `--set KEY=VALUE`: JSON when it parses as JSON
/// (numbers, `true`, lists, objects), else the text itself.
pub fn parse_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn number_becomes_flag_and_value() {
        assert_eq!(
            to_flags(&map(json!({"max_model_len": 4096}))),
            ["--max-model-len", "4096"]
        );
    }

    #[test]
    fn true_is_a_bare_flag_and_false_its_negation() {
        assert_eq!(
            to_flags(&map(
                json!({"enable_prefix_caching": true, "enforce_eager": false})
            )),
            ["--enable-prefix-caching", "--no-enforce-eager"]
        );
    }

    #[test]
    fn null_drops_the_flag() {
        assert!(to_flags(&map(json!({"quantization": null}))).is_empty());
    }

    #[test]
    fn strings_floats_lists_and_objects() {
        assert_eq!(
            to_flags(&map(json!({
                "dtype": "half",
                "gpu_memory_utilization": 0.9,
                "middleware": ["a", "b"],
                "hf_overrides": {"rope_theta": 10000}
            }))),
            [
                "--dtype",
                "half",
                "--gpu-memory-utilization",
                "0.9",
                "--hf-overrides",
                "{\"rope_theta\":10000}",
                "--middleware",
                "a",
                "b",
            ]
        );
    }

    #[test]
    fn overrides_beat_the_profile_and_null_cancels_it() {
        let profile = map(json!({"max_model_len": 8192, "quantization": "awq", "seed": 1}));
        let overrides = map(json!({"max-model-len": 4096, "quantization": null}));
        let merged = effective(Some(&profile), &overrides);
        assert_eq!(
            to_flags(&merged),
            ["--max-model-len", "4096", "--seed", "1"]
        );
    }

    #[test]
    fn set_values_parse_as_json_or_text() {
        assert_eq!(parse_value("8192"), json!(8192));
        assert_eq!(parse_value("true"), json!(true));
        assert_eq!(parse_value("half"), json!("half"));
        assert_eq!(parse_value("[\"a\"]"), json!(["a"]));
    }
}
