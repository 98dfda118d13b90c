//! Shortcuts: a model, a profile and overrides saved under one name, used by
//! `add-model --shortcut NAME`. Stored in `shortcuts.json`.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::paths::Paths;
use super::store::{create_dir, read_json, to_canonical_json, write_atomic, DirLock};
use crate::error::Failure;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shortcut {
    /// Hugging Face id or local path.
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default)]
    pub config_overrides: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shortcuts {
    #[serde(default = "version")]
    pub version: u32,
    #[serde(default)]
    pub shortcuts: BTreeMap<String, Shortcut>,
}

fn version() -> u32 {
    1
}

impl Shortcuts {
    pub fn load(paths: &Paths) -> Result<Self> {
        Ok(read_json(&paths.shortcuts_file())?.unwrap_or(Shortcuts {
            version: version(),
            shortcuts: BTreeMap::new(),
        }))
    }

    /// Look a shortcut up; unknown names are a usage error listing the known ones.
    pub fn get(&self, name: &str) -> Result<&Shortcut> {
        self.shortcuts.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.shortcuts.keys().map(String::as_str).collect();
            let hint = if known.is_empty() {
                "no shortcuts are saved yet; save one with 'vllm-mux shortcuts add NAME --model ID'"
                    .to_string()
            } else {
                format!("saved shortcuts: {}", known.join(", "))
            };
            Failure::usage(format!("shortcut '{name}' does not exist"))
                .hint(hint)
                .into()
        })
    }

    /// Read, change and write `shortcuts.json` under the lock. Nothing is
    /// written when `change` fails.
    pub fn update<F>(paths: &Paths, change: F) -> Result<Self>
    where
        F: FnOnce(&mut Shortcuts) -> Result<()>,
    {
        let dir = paths.config_dir();
        create_dir(dir)?;
        let _lock = DirLock::acquire(dir)?;
        let mut shortcuts = Self::load(paths)?;
        change(&mut shortcuts)?;
        write_atomic(&paths.shortcuts_file(), &to_canonical_json(&shortcuts)?)?;
        Ok(shortcuts)
    }
}
