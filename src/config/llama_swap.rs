//! A llama-swap `config.yaml`, read as ours: each model's `cmd` becomes a
//! `command` engine, its `ttl` an idle timeout, its group (or llama-swap's
//! default of one model at a time) a swap group. What has no equivalent is
//! said in notes, never dropped silently.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::names::{check_name, RESERVED_MODEL_NAMES};
use super::schema::{Config, Engine, ModelConfig};

/// The swap group of models in no group: llama-swap runs one at a time.
pub const DEFAULT_GROUP: &str = "llama-swap";

/// A llama-swap config: `models` maps ids to settings with a `cmd`.
pub fn is_llama_swap(value: &Value) -> bool {
    value
        .get("models")
        .and_then(Value::as_object)
        .is_some_and(|models| !models.is_empty() && models.values().all(|m| m.get("cmd").is_some()))
}

/// Our config from a llama-swap one, and what did not carry over.
pub fn convert(value: &Value) -> Result<(Config, Vec<String>), String> {
    let mut notes = Vec::new();
    let env = |name: &str| std::env::var(name).ok();
    let macros = macros_of(value.get("macros"), &BTreeMap::new());
    let empty = Map::new();
    let models = value
        .get("models")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let groups = swap_groups(value.get("groups"), &mut notes)?;
    let preload: BTreeSet<String> = value
        .pointer("/hooks/on_startup/preload")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let mut config = Config::default();
    let mut names = BTreeSet::new();
    for (id, settings) in models {
        let model_macros = macros_of(settings.get("macros"), &macros);
        let expand = |text: &str| expand(text, id, &model_macros, &env);
        let cmd = settings.get("cmd").and_then(Value::as_str).unwrap_or("");
        let mut template = expand(&one_line(cmd))?;
        let mut model = ModelConfig::new(unique_name(id, &mut names));
        model.engine = Engine::Command;
        if model.name != *id {
            model.aliases.push(id.clone());
        }
        if !template.contains("{port}") {
            // A fixed port: the one `proxy` names, put where `cmd` has it.
            let proxy = settings.get("proxy").and_then(Value::as_str).unwrap_or("");
            let Some(port) = port_of(&expand(proxy)?) else {
                notes.push(format!(
                    "model '{id}' left out: its cmd has no ${{PORT}} and its proxy names no port"
                ));
                continue;
            };
            template = with_port_placeholder(&template, port);
            if !template.contains("{port}") {
                notes.push(format!(
                    "model '{id}' left out: port {port} of its proxy does not appear in its cmd"
                ));
                continue;
            }
            model.port = Some(port);
        }
        model.command = Some(template);
        match settings.get("checkEndpoint").and_then(Value::as_str) {
            Some("none") => {
                notes.push(format!(
                    "model '{id}': checkEndpoint none has no equivalent; its readiness is checked at /v1/models"
                ));
                model.health_path = Some("/v1/models".into());
            }
            Some(path) => model.health_path = Some(expand(path)?),
            None => {}
        }
        for alias in settings
            .get("aliases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(alias) = alias.as_str() {
                model.aliases.push(alias.to_string());
            }
        }
        for pair in settings
            .get("env")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match pair.as_str().and_then(|p| p.split_once('=')) {
                Some((key, val)) => {
                    model.environment.insert(key.to_string(), expand(val)?);
                }
                None => notes.push(format!(
                    "model '{id}': env entry {pair} is not KEY=VALUE; left out"
                )),
            }
        }
        if let Some(ttl) = settings
            .get("ttl")
            .and_then(Value::as_u64)
            .filter(|t| *t > 0)
        {
            model.idle_timeout_s = Some(ttl);
        }
        model.swap_group = match groups.get(id.as_str()) {
            Some(group) => group.clone(),
            None => Some(DEFAULT_GROUP.to_string()),
        };
        if preload.contains(id) {
            model.loading_priority = Some(0);
        }
        for key in settings.as_object().into_iter().flat_map(Map::keys) {
            if !HANDLED_MODEL_KEYS.contains(&key.as_str()) {
                notes.push(format!("model '{id}': {key} is not carried over"));
            }
        }
        config.models.push(model);
    }
    if config
        .models
        .iter()
        .any(|m| m.swap_group.as_deref() == Some(DEFAULT_GROUP))
    {
        notes.push(format!(
            "models in no group are in swap group '{DEFAULT_GROUP}': one runs at a time, as in llama-swap; 'vllm-mux edit-model NAME --clear swap-group' lets one run beside it"
        ));
    }
    if let Some(timeout) = value.get("healthCheckTimeout").and_then(Value::as_u64) {
        config.startup_timeout_s = timeout.max(15);
    }
    if value.get("apiKeys").is_some() {
        notes.push("apiKeys are not stored in a config: export them as one variable (comma-separated) and 'vllm-mux edit-proxy --api-key-env VAR'".into());
    }
    if value.get("peers").is_some() {
        notes.push("peers are not carried over: add each remote model with 'vllm-mux add-model NAME --engine url --url URL'".into());
    }
    notes.push(format!(
        "the proxy listens on {}:{} (llama-swap's --listen is not in its config); change it with 'vllm-mux edit-proxy --host H --port P'",
        config.host, config.port
    ));
    Ok((config, notes))
}

/// Model settings read above, or whose meaning needs nothing here.
const HANDLED_MODEL_KEYS: &[&str] = &[
    "cmd",
    "proxy",
    "checkEndpoint",
    "aliases",
    "env",
    "ttl",
    "macros",
    "name",
    "description",
];

/// Group membership: `swap: true` (the default) groups take turns as a
/// swap group; `swap: false` members run side by side (no group).
fn swap_groups(
    groups: Option<&Value>,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<String, Option<String>>, String> {
    let mut of = BTreeMap::new();
    let mut exclusive = false;
    for (name, group) in groups.and_then(Value::as_object).into_iter().flatten() {
        let swaps = group.get("swap").and_then(Value::as_bool).unwrap_or(true);
        exclusive |= group
            .get("exclusive")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let members = group.get("members").and_then(Value::as_array);
        for member in members.into_iter().flatten().filter_map(Value::as_str) {
            let swap_group = swaps.then(|| sanitize(name));
            if of.insert(member.to_string(), swap_group).is_some() {
                return Err(format!("model '{member}' is in more than one group"));
            }
        }
    }
    if exclusive {
        notes.push("groups' exclusive (unloading the other groups) has no equivalent: models of different swap groups run side by side".into());
    }
    Ok(of)
}

/// Macro values as text, over those of `outer` (expanded where used).
fn macros_of(macros: Option<&Value>, outer: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut all = outer.clone();
    for (name, value) in macros.and_then(Value::as_object).into_iter().flatten() {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        all.insert(name.clone(), one_line(&text));
    }
    all
}

/// `${env.VAR}` and macros replaced; `${PORT}` and `${MODEL_ID}` become our
/// `{port}` and `{name}`. Macros may hold macros.
fn expand(
    text: &str,
    id: &str,
    macros: &BTreeMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = text.to_string();
    // Bounded, so macros that name each other end with an error.
    for _ in 0..1000 {
        let Some(start) = out.find("${") else {
            return Ok(out);
        };
        let Some(len) = out[start..].find('}') else {
            return Err(format!("an unclosed ${{ in {text:?}"));
        };
        let name = &out[start + 2..start + len];
        let value = if let Some(var) = name.strip_prefix("env.") {
            env(var).ok_or_else(|| format!("${{env.{var}}}: {var} is not set"))?
        } else if name == "PORT" {
            "{port}".to_string()
        } else if name == "MODEL_ID" {
            // Our name: the proxy sends requests with it (an id that is not
            // a valid name becomes an alias that is rewritten to it).
            "{name}".to_string()
        } else {
            macros
                .get(name)
                .cloned()
                .ok_or_else(|| format!("model '{id}': unknown macro ${{{name}}}"))?
        };
        out.replace_range(start..start + len + 1, &value);
    }
    Err(format!("model '{id}': macros nest too deep in {text:?}"))
}

/// A `cmd` as one line: `#` comment lines dropped, lines joined by spaces.
fn one_line(cmd: &str) -> String {
    cmd.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The port of a URL such as `http://127.0.0.1:8999`.
fn port_of(url: &str) -> Option<u16> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next()?;
    authority.rsplit_once(':')?.1.parse().ok()
}

/// `cmd` with the fixed `port` replaced by `{port}` where it stands as a
/// word: `--port 8999`, `--port=8999`, `-p 8999:8080`.
fn with_port_placeholder(cmd: &str, port: u16) -> String {
    let port = port.to_string();
    cmd.split(' ')
        .map(|word| {
            if word == port {
                "{port}".to_string()
            } else if let Some(rest) = word.strip_prefix(&format!("{port}:")) {
                format!("{{port}}:{rest}")
            } else if let Some((flag, value)) = word.split_once('=') {
                if value == port {
                    format!("{flag}={{port}}")
                } else {
                    word.to_string()
                }
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A name of ours from an id: other characters become '-'.
fn sanitize(id: &str) -> String {
    let name: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    if name.is_empty() {
        "model".into()
    } else {
        name
    }
}

/// `sanitize(id)`, made unique among `taken`.
fn unique_name(id: &str, taken: &mut BTreeSet<String>) -> String {
    let base = sanitize(id);
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name)
        || check_name("model", &name).is_err()
        || RESERVED_MODEL_NAMES.contains(&name.as_str())
    {
        name = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Value {
        yaml_serde::from_str(yaml).expect("yaml")
    }

    #[test]
    fn a_llama_swap_config_becomes_command_models_that_take_turns() {
        let value = parse(
            r#"
healthCheckTimeout: 300
macros:
  server: /opt/llama-server --port ${PORT}
  ctx: 8192
models:
  "qwen:7b":
    cmd: |
      # comments go
      ${server}
      -m /models/qwen.gguf --ctx-size ${ctx}
    aliases: [gpt-4o-mini]
    ttl: 600
    env: ["CUDA_VISIBLE_DEVICES=0"]
  fixed:
    cmd: llama-server --port 9001 -m /m.gguf
    proxy: http://127.0.0.1:9001
    checkEndpoint: /ready
    useModelName: other
"#,
        );
        assert!(is_llama_swap(&value));
        let (config, notes) = convert(&value).expect("converts");
        assert_eq!(config.startup_timeout_s, 300);
        let qwen = &config.models[1];
        assert_eq!(qwen.name, "qwen-7b");
        assert_eq!(qwen.engine, Engine::Command);
        assert_eq!(
            qwen.command.as_deref(),
            Some("/opt/llama-server --port {port} -m /models/qwen.gguf --ctx-size 8192")
        );
        assert_eq!(qwen.aliases, vec!["qwen:7b", "gpt-4o-mini"]);
        assert_eq!(qwen.idle_timeout_s, Some(600));
        assert_eq!(qwen.environment["CUDA_VISIBLE_DEVICES"], "0");
        assert_eq!(qwen.swap_group.as_deref(), Some(DEFAULT_GROUP));
        let fixed = &config.models[0];
        assert_eq!(
            fixed.command.as_deref(),
            Some("llama-server --port {port} -m /m.gguf")
        );
        assert_eq!(fixed.port, Some(9001));
        assert_eq!(fixed.health_path.as_deref(), Some("/ready"));
        assert!(
            notes
                .iter()
                .any(|n| n == "model 'fixed': useModelName is not carried over"),
            "{notes:?}"
        );
        assert!(
            notes.iter().any(|n| n.contains("one runs at a time")),
            "{notes:?}"
        );
    }

    #[test]
    fn groups_that_do_not_swap_run_side_by_side() {
        let value = parse(
            r#"
models:
  a: {cmd: "srv --port ${PORT}"}
  b: {cmd: "srv --port ${PORT}"}
  c: {cmd: "srv --port ${PORT}"}
groups:
  pair: {swap: false, exclusive: false, members: [a, b]}
  alone: {members: [c]}
hooks: {on_startup: {preload: [c]}}
"#,
        );
        let (config, notes) = convert(&value).expect("converts");
        let group = |n: usize| config.models[n].swap_group.clone();
        assert_eq!((group(0), group(1)), (None, None));
        assert_eq!(group(2).as_deref(), Some("alone"));
        assert_eq!(config.models[2].loading_priority, Some(0));
        assert!(notes.iter().any(|n| n.contains("exclusive")), "{notes:?}");
    }

    #[test]
    fn ids_become_unique_valid_names() {
        let mut taken = BTreeSet::new();
        assert_eq!(unique_name("org/model:q4", &mut taken), "org-model-q4");
        assert_eq!(unique_name("org/model:q4", &mut taken), "org-model-q4-2");
        assert_eq!(
            unique_name("proxy", &mut taken),
            "proxy-2",
            "reserved by logs"
        );
        assert_eq!(unique_name("::", &mut taken), "model");
    }

    #[test]
    fn what_cannot_be_read_is_said() {
        let env = |_: &str| None;
        let none = BTreeMap::new();
        assert_eq!(
            expand("${env.NOPE}", "m", &none, &env),
            Err("${env.NOPE}: NOPE is not set".into())
        );
        assert_eq!(
            expand("${what}", "m", &none, &env),
            Err("model 'm': unknown macro ${what}".into())
        );
        let value = parse("models:\n  a: {cmd: 'srv --port 8080'}\n");
        let (config, notes) = convert(&value).expect("converts");
        assert!(config.models.is_empty());
        assert!(notes[0].contains("has no ${PORT}"), "{notes:?}");
        assert!(!is_llama_swap(&parse("models: [{name: a}]")));
    }
}
