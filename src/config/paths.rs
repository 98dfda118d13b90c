//! Where vllm-mux keeps its files (DESIGN.md section 2).
//!
//! `VLLM_MUX_HOME`, when set, replaces every location with one folder, so each
//! test and CI run gets its own.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::error::Failure;

/// The environment variable that replaces all default locations.
pub const HOME_ENV: &str = "VLLM_MUX_HOME";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    config_dir: PathBuf,
    state_dir: PathBuf,
}

impl Paths {
    /// `VLLM_MUX_HOME` if set and not empty, else the platform's directories.
    pub fn from_env() -> Result<Self> {
        if let Some(home) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            return Ok(Self::with_home(PathBuf::from(home)));
        }
        let dirs = directories::ProjectDirs::from("", "", "vllm-mux").ok_or_else(|| {
            Failure::runtime("cannot find a home directory for vllm-mux's files")
                .hint(format!("set {HOME_ENV} to a folder vllm-mux may use"))
        })?;
        let state_dir = dirs
            .state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .to_path_buf();
        Ok(Paths {
            config_dir: dirs.config_dir().to_path_buf(),
            state_dir,
        })
    }

    /// Every file under one folder (what `VLLM_MUX_HOME` does).
    pub fn with_home(home: PathBuf) -> Self {
        Paths {
            config_dir: home.clone(),
            state_dir: home,
        }
    }

    pub fn configs_dir(&self) -> PathBuf {
        self.config_dir.join("configs")
    }

    pub fn config_file(&self, name: &str) -> PathBuf {
        self.configs_dir().join(format!("{name}.json"))
    }

    pub fn profiles_dir(&self) -> PathBuf {
        self.config_dir.join("profiles")
    }

    pub fn shortcuts_file(&self) -> PathBuf {
        self.config_dir.join("shortcuts.json")
    }

    /// Runtime files of a running config: pidfile, socket, state.
    pub fn run_dir(&self, config: &str) -> PathBuf {
        self.state_dir.join("run").join(config)
    }

    pub fn logs_dir(&self, config: &str) -> PathBuf {
        self.state_dir.join("logs").join(config)
    }

    pub fn config_dir(&self) -> &Path {
        &self.config_dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_puts_everything_under_one_folder() {
        let paths = Paths::with_home(PathBuf::from("/h"));
        assert_eq!(
            paths.config_file("team"),
            PathBuf::from("/h/configs/team.json")
        );
        assert_eq!(paths.profiles_dir(), PathBuf::from("/h/profiles"));
        assert_eq!(paths.shortcuts_file(), PathBuf::from("/h/shortcuts.json"));
        assert_eq!(paths.run_dir("team"), PathBuf::from("/h/run/team"));
        assert_eq!(paths.logs_dir("team"), PathBuf::from("/h/logs/team"));
    }
}
