//! Reading and writing vllm-mux's JSON files.
//!
//! Every write is atomic (temp file in the same folder, fsync, rename, fsync
//! of the folder) and happens under an advisory lock on the folder. A file
//! that fails to parse is never overwritten: the error names the file, line
//! and column. A failed command leaves the folder as it found it.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::paths::Paths;
use super::schema::{Config, CONFIG_VERSION};
use crate::error::Failure;

/// The canonical text of a JSON document: pretty, two-space indent, final newline.
/// `export` prints exactly what the store writes, so export → import round-trips
/// byte for byte.
pub fn to_canonical_json<T: Serialize>(value: &T) -> Result<String> {
    let mut text = serde_json::to_string_pretty(value).context("cannot serialize to JSON")?;
    text.push('\n');
    Ok(text)
}

/// Parse JSON text that came from `path`, turning a syntax or schema error into
/// a usage error with the line and column.
pub fn parse_json<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T> {
    serde_json::from_str(text).map_err(|err| parse_failure(path, &err).into())
}

pub fn parse_failure(path: &Path, err: &serde_json::Error) -> Failure {
    // serde_json appends " at line L column C" to its message; we say it once, our way.
    let full = err.to_string();
    let detail = full
        .rsplit_once(" at line ")
        .map(|(head, _)| head.to_string())
        .unwrap_or(full);
    Failure::usage(format!(
        "cannot parse {}: line {}, column {}: {}",
        path.display(),
        err.line(),
        err.column(),
        detail
    ))
    .hint("fix the file by hand (vllm-mux never overwrites a file it cannot parse), or move it away and recreate it")
}

/// Read and parse a JSON file; `Ok(None)` when it does not exist.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
        Err(err) if err.kind() == ErrorKind::InvalidData => {
            return Err(
                Failure::usage(format!("cannot read {}: not UTF-8 text", path.display()))
                    .hint("vllm-mux files are JSON; move this file away and recreate it")
                    .into(),
            )
        }
        Err(err) => {
            return Err(Failure::runtime(format!("cannot read {}: {err}", path.display())).into())
        }
    };
    parse_json(&text, path).map(Some)
}

/// Write text atomically: temp file beside `path`, fsync, rename, fsync the folder.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io_failure = |what: &str, err: std::io::Error| {
        Failure::runtime(format!("cannot {what} {}: {err}", path.display())).hint(io_hint(&err))
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".vllm-mux-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io_failure("write", without_temp_path(e)))?;
    tmp.write_all(text.as_bytes())
        .map_err(|e| io_failure("write", e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| io_failure("write", e))?;
    tmp.persist(path)
        .map_err(|e| io_failure("replace", e.error))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_failure("sync the folder of", e))?;
    Ok(())
}

/// tempfile names its temporary file in its errors (`... at path "..."`,
/// with no way to reach the OS error under it); the user knows only the
/// file they asked for, which the message names already.
fn without_temp_path(err: std::io::Error) -> std::io::Error {
    let text = err.to_string();
    match text.split_once(" at path \"") {
        Some((plain, _)) => std::io::Error::new(err.kind(), plain.to_string()),
        None => err,
    }
}

fn io_hint(err: &std::io::Error) -> String {
    match err.kind() {
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
            "the folder is not writable; check its permissions or set VLLM_MUX_HOME elsewhere"
                .into()
        }
        ErrorKind::StorageFull => "the disk is full; free some space and try again".into(),
        _ => "nothing was changed; check the folder and try again".into(),
    }
}

/// Create a folder (and its parents), naming it on failure.
pub fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|err| {
        Failure::runtime(format!("cannot create folder {}: {err}", dir.display()))
            .hint(io_hint(&err))
            .into()
    })
}

/// An exclusive advisory lock on a folder, held until dropped.
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Lock `dir`, which must exist. Blocks while another vllm-mux holds it.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let file = File::open(dir)
            .map_err(|err| Failure::runtime(format!("cannot open {}: {err}", dir.display())))?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|err| Failure::runtime(format!("cannot lock {}: {err}", dir.display())))?;
        Ok(DirLock { _file: file })
    }
}

/// Named configs in `configs/NAME.json`.
#[derive(Debug, Clone)]
pub struct Store {
    paths: Paths,
}

impl Store {
    pub fn new(paths: Paths) -> Self {
        Store { paths }
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.paths.config_file(name)
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    /// Load a config; a missing one is a usage error that says how to create it.
    pub fn load(&self, name: &str) -> Result<Config> {
        let path = self.path(name);
        let config: Config = read_json(&path)?.ok_or_else(|| missing(name, &self.list_names()))?;
        check_version(&config, &path)?;
        Ok(config)
    }

    /// The error for a config name with no file: "does not exist", and
    /// the names that do.
    pub fn missing(&self, name: &str) -> Failure {
        missing(name, &self.list_names())
    }

    /// Names of saved configs, sorted. Files that are not `*.json` are ignored.
    pub fn list_names(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.paths.configs_dir()) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let stem = name.strip_suffix(".json")?;
                (!stem.starts_with('.')).then(|| stem.to_string())
            })
            .collect();
        names.sort();
        names
    }

    /// Model ports of every other saved config (unreadable ones are skipped),
    /// so automatic ports do not collide across configs.
    pub fn ports_of_other_configs(&self, except: &str) -> std::collections::BTreeSet<u16> {
        self.list_names()
            .iter()
            .filter(|name| name.as_str() != except)
            .filter_map(|name| self.load(name).ok())
            .flat_map(|config| {
                config
                    .models
                    .into_iter()
                    .flat_map(|m| m.instances())
                    .filter_map(|i| i.model.port)
            })
            .collect()
    }

    /// Read, change and write a config under the lock. Nothing is written when
    /// `change` fails, so a failed command leaves the file as it was.
    pub fn update<F>(&self, name: &str, change: F) -> Result<Config>
    where
        F: FnOnce(&mut Config) -> Result<()>,
    {
        let dir = self.paths.configs_dir();
        if !self.path(name).exists() {
            return Err(missing(name, &self.list_names()).into());
        }
        let _lock = DirLock::acquire(&dir)?;
        let mut config = self.load(name)?;
        change(&mut config)?;
        write_atomic(&self.path(name), &to_canonical_json(&config)?)?;
        Ok(config)
    }

    /// Write a whole config (init, import). Without `force` an existing config
    /// is an error; with it, the old file is kept as `NAME.json.bak`.
    /// Returns the path of that backup, if one was made.
    pub fn create(&self, name: &str, config: &Config, force: bool) -> Result<Option<PathBuf>> {
        let dir = self.paths.configs_dir();
        let path = self.path(name);
        if path.exists() && !force {
            return Err(Failure::usage(format!(
                "config '{name}' already exists ({})",
                path.display()
            ))
            .hint("pass --force to replace it (the old file is kept as .bak), or choose another name with --config NAME")
            .into());
        }
        let text = to_canonical_json(config)?;
        create_dir(&dir)?;
        let _lock = DirLock::acquire(&dir)?;
        let backup = if path.exists() {
            let backup = dir.join(format!("{name}.json.bak"));
            std::fs::copy(&path, &backup).map_err(|err| {
                Failure::runtime(format!(
                    "cannot back up {} before replacing it: {err}",
                    path.display()
                ))
                .hint(io_hint(&err))
            })?;
            Some(backup)
        } else {
            None
        };
        write_atomic(&path, &text)?;
        Ok(backup)
    }
}

fn check_version(config: &Config, path: &Path) -> Result<()> {
    if config.version > CONFIG_VERSION {
        return Err(Failure::usage(format!(
            "{} has config version {}, newer than this vllm-mux understands ({CONFIG_VERSION})",
            path.display(),
            config.version
        ))
        .hint("upgrade vllm-mux")
        .into());
    }
    if config.version == 0 {
        return Err(Failure::usage(format!(
            "{}: version: 0 is not a config version",
            path.display()
        ))
        .hint(format!("set \"version\": {CONFIG_VERSION}"))
        .into());
    }
    Ok(())
}

fn missing(name: &str, known: &[String]) -> Failure {
    let hint = if known.is_empty() {
        format!("create it with 'vllm-mux --config {name} init'")
    } else {
        format!(
            "create it with 'vllm-mux --config {name} init', or pick one of: {}",
            known.join(", ")
        )
    };
    Failure::usage(format!("config '{name}' does not exist")).hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Exit;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(Paths::with_home(dir.path().to_path_buf()));
        (dir, store)
    }

    fn exit_of(err: &anyhow::Error) -> Exit {
        err.downcast_ref::<Failure>()
            .map(|f| f.exit)
            .unwrap_or(Exit::Failure)
    }

    #[test]
    fn create_then_load_round_trips() {
        let (_dir, store) = store();
        store
            .create("a", &Config::default(), false)
            .expect("create");
        assert_eq!(store.load("a").expect("load"), Config::default());
        assert_eq!(store.list_names(), vec!["a".to_string()]);
    }

    #[test]
    fn create_refuses_to_replace_without_force_and_backs_up_with_it() {
        let (_dir, store) = store();
        store
            .create("a", &Config::default(), false)
            .expect("create");
        let err = store
            .create("a", &Config::default(), false)
            .expect_err("exists");
        assert_eq!(exit_of(&err), Exit::Usage);
        let changed = Config {
            port: 9000,
            ..Config::default()
        };
        let backup = store
            .create("a", &changed, true)
            .expect("force")
            .expect("backup made");
        assert!(backup.exists());
        assert_eq!(store.load("a").expect("load").port, 9000);
    }

    #[test]
    fn parse_error_names_line_and_column_and_file_is_kept() {
        let (_dir, store) = store();
        create_dir(&store.paths().configs_dir()).expect("dir");
        let path = store.path("bad");
        std::fs::write(&path, "{\n  \"port\": 8000,\n  oops\n}\n").expect("write");
        let err = store.update("bad", |_| Ok(())).expect_err("must not parse");
        let failure = err.downcast_ref::<Failure>().expect("Failure");
        assert_eq!(failure.exit, Exit::Usage);
        assert!(
            failure.message.contains("line 3, column 3"),
            "{}",
            failure.message
        );
        assert!(failure.message.contains(&path.display().to_string()));
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "{\n  \"port\": 8000,\n  oops\n}\n"
        );
    }

    #[test]
    fn failed_update_writes_nothing() {
        let (_dir, store) = store();
        store
            .create("a", &Config::default(), false)
            .expect("create");
        let before = std::fs::read(store.path("a")).expect("read");
        let err = store
            .update("a", |cfg| {
                cfg.port = 1;
                Err(Failure::usage("no").into())
            })
            .expect_err("change fails");
        assert_eq!(exit_of(&err), Exit::Usage);
        assert_eq!(std::fs::read(store.path("a")).expect("read"), before);
        let leftovers: Vec<_> = std::fs::read_dir(store.paths().configs_dir())
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }

    #[test]
    fn missing_config_is_a_usage_error_with_a_hint() {
        let (_dir, store) = store();
        let err = store.load("nope").expect_err("missing");
        let failure = err.downcast_ref::<Failure>().expect("Failure");
        assert_eq!(failure.exit, Exit::Usage);
        assert!(failure.hint.as_deref().unwrap_or("").contains("init"));
    }

    #[test]
    fn newer_version_is_refused() {
        let (_dir, store) = store();
        create_dir(&store.paths().configs_dir()).expect("dir");
        std::fs::write(store.path("new"), "{\"version\": 99}").expect("write");
        let err = store.load("new").expect_err("too new");
        assert!(err.to_string().contains("newer"), "{err}");
    }
}
