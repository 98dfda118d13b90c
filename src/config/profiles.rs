//! Profiles: named sets of engine flags. Built-in ones are data
//! (`builtin_profiles.json`); user ones are `profiles/NAME.json` files and
//! shadow a built-in of the same name.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::names::check_name;
use super::paths::Paths;
use super::store::{parse_json, read_json};
use crate::error::Failure;

const BUILTIN: &str = include_str!("builtin_profiles.json");

/// The body of a profile file. `name` and `icon` are accepted for vllm-cli's
/// user profiles and only shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Engine flags, same form as a model's `config_overrides`.
    #[serde(default)]
    pub config: Map<String, Value>,
    /// Environment variables for the engine process.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Builtin,
    User,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub name: String,
    pub source: Source,
    /// A user profile that replaces a built-in one of the same name.
    pub shadows_builtin: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    #[serde(flatten)]
    pub spec: ProfileSpec,
}

/// All profiles, by name.
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    by_name: BTreeMap<String, Profile>,
}

impl Profiles {
    /// Built-in profiles plus every `profiles/*.json` under `paths`.
    pub fn load(paths: &Paths) -> Result<Self> {
        let mut profiles = Self::builtin()?;
        let dir = paths.profiles_dir();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(profiles);
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        for path in files {
            let Some(name) = path
                .file_stem()
                .and_then(|s| s.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            check_name("profile", &name).map_err(|msg| {
                Failure::usage(format!("{}: {msg}", path.display()))
                    .hint("rename the file: profile names use letters, digits, '.', '_' and '-'")
            })?;
            let Some(spec) = read_json::<ProfileSpec>(&path)? else {
                continue;
            };
            let shadows_builtin = profiles.by_name.contains_key(&name);
            profiles.by_name.insert(
                name.clone(),
                Profile {
                    name,
                    source: Source::User,
                    shadows_builtin,
                    path: Some(path),
                    spec,
                },
            );
        }
        Ok(profiles)
    }

    pub fn builtin() -> Result<Self> {
        let specs: BTreeMap<String, ProfileSpec> =
            parse_json(BUILTIN, std::path::Path::new("builtin_profiles.json"))?;
        let by_name = specs
            .into_iter()
            .map(|(name, spec)| {
                let profile = Profile {
                    name: name.clone(),
                    source: Source::Builtin,
                    shadows_builtin: false,
                    path: None,
                    spec,
                };
                (name, profile)
            })
            .collect();
        Ok(Profiles { by_name })
    }

    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.by_name.get(name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.by_name.keys().map(String::as_str).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Profile> {
        self.by_name.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_include_the_four_promised_ones() {
        let profiles = Profiles::builtin().expect("built-ins parse");
        for name in ["standard", "high_throughput", "low_memory", "long_context"] {
            let p = profiles
                .get(name)
                .unwrap_or_else(|| panic!("missing {name}"));
            assert_eq!(p.source, Source::Builtin);
            assert!(!p.spec.description.is_empty());
        }
        assert!(profiles
            .get("standard")
            .map(|p| p.spec.config.is_empty())
            .unwrap_or(false));
    }

    #[test]
    fn user_profile_loads_and_shadows_builtin() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = Paths::with_home(dir.path().to_path_buf());
        std::fs::create_dir_all(paths.profiles_dir()).expect("mkdir");
        std::fs::write(
            paths.profiles_dir().join("fast.json"),
            r#"{"description":"mine","config":{"max_model_len":2048},"environment":{"VLLM_USE_V1":"1"}}"#,
        )
        .expect("write");
        std::fs::write(
            paths.profiles_dir().join("standard.json"),
            r#"{"config":{"seed":1}}"#,
        )
        .expect("write");
        let profiles = Profiles::load(&paths).expect("loads");
        let fast = profiles.get("fast").expect("fast");
        assert_eq!(fast.source, Source::User);
        assert_eq!(
            fast.spec.environment.get("VLLM_USE_V1").map(String::as_str),
            Some("1")
        );
        let standard = profiles.get("standard").expect("standard");
        assert!(standard.shadows_builtin);
        assert_eq!(standard.spec.config.get("seed"), Some(&Value::from(1)));
    }

    #[test]
    fn broken_user_profile_is_a_usage_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = Paths::with_home(dir.path().to_path_buf());
        std::fs::create_dir_all(paths.profiles_dir()).expect("mkdir");
        std::fs::write(paths.profiles_dir().join("x.json"), "{\"config\": [}").expect("write");
        let err = Profiles::load(&paths).expect_err("broken");
        assert!(err.to_string().contains("x.json"), "{err}");
    }
}
