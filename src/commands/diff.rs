//! What an edit changed, in words: "port 8080", "queue_timeout_s back to
//! its default", "config_overrides.dtype removed". `edit-proxy` and
//! `edit-model` say it after they save.

use serde_json::{Map, Value};

/// Each field of `after` that differs from `before`; a field holding an
/// object (engine flags, environment) is told key by key.
pub fn changes(before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    walk("", before, after, &mut out);
    out
}

fn walk(
    prefix: &str,
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    out: &mut Vec<String>,
) {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let (old, new) = (before.get(key), after.get(key));
        if old == new {
            continue;
        }
        let name = format!("{prefix}{key}");
        match (old, new) {
            (Some(Value::Object(old)), Some(Value::Object(new))) => {
                walk(&format!("{name}."), old, new, out);
            }
            (_, Some(Value::String(text))) => out.push(format!("{name} {text}")),
            (_, Some(Value::Null)) => out.push(format!("{name} none")),
            (_, Some(value)) => out.push(format!("{name} {value}")),
            (_, None) if prefix.is_empty() => out.push(format!("{name} back to its default")),
            (_, None) => out.push(format!("{name} removed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn changes_name_each_field_that_differs() {
        let before = map(json!({"port": 8000, "queue_timeout_s": 30, "env": {"A": "1", "B": "2"}}));
        let after = map(json!({"port": 8080, "api_key_env": "K", "env": {"A": "1", "C": "3"}}));
        assert_eq!(
            changes(&before, &after),
            [
                "api_key_env K",
                "env.B removed",
                "env.C 3",
                "port 8080",
                "queue_timeout_s back to its default"
            ]
        );
        assert!(changes(&after, &after).is_empty());
    }
}
