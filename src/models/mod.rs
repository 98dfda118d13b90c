//! Models already on this machine: the Hugging Face hub cache
//! (`HF_HUB_CACHE`, else `HF_HOME/hub`, else `~/.cache/huggingface/hub`),
//! where `vllm serve ORG/NAME` finds what it downloaded before. Used by
//! `vllm-mux models` and, later, by add-model's prompt.

use std::path::{Path, PathBuf};

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalModel {
    /// The Hugging Face id, as `vllm serve` takes it: `Qwen/Qwen2.5-7B-Instruct`.
    pub id: String,
    /// The newest snapshot folder (a local path `vllm serve` takes too).
    pub path: Option<PathBuf>,
    /// Bytes of the downloaded files.
    pub size_bytes: u64,
    /// A snapshot has a `config.json`, so it is a model and not only a tokenizer.
    pub complete: bool,
}

/// The hub cache folder this machine uses.
pub fn hub_cache() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("HF_HUB_CACHE")
        .or_else(|| var("HF_HOME").map(|home| home.join("hub")))
        .or_else(|| {
            directories::BaseDirs::new().map(|b| b.home_dir().join(".cache/huggingface/hub"))
        })
}

/// Every model in the hub cache at `dir`, by id.
pub fn scan(dir: &Path) -> Vec<LocalModel> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut models: Vec<LocalModel> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let folder = e.file_name().into_string().ok()?;
            // models--ORG--NAME; a name may itself hold "--".
            let rest = folder.strip_prefix("models--")?;
            let id = rest.replacen("--", "/", 1);
            let root = e.path();
            let path = newest_snapshot(&root.join("snapshots"));
            let complete = path
                .as_ref()
                .is_some_and(|p| p.join("config.json").exists());
            Some(LocalModel {
                id,
                size_bytes: folder_size(&root.join("blobs")),
                path,
                complete,
            })
        })
        .collect();
    models.sort_by(|a, b| a.id.cmp(&b.id));
    models
}

fn newest_snapshot(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}

fn folder_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// 1536 → "1.5 KiB"; 7_600_000_000 → "7.1 GiB".
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache laid out as huggingface_hub does.
    pub fn fake_cache(dir: &Path) {
        let model = dir.join("models--Qwen--Qwen2.5-0.5B-Instruct");
        std::fs::create_dir_all(model.join("blobs")).expect("mkdir");
        std::fs::write(model.join("blobs/aaa"), vec![0u8; 2048]).expect("blob");
        std::fs::write(model.join("blobs/bbb"), vec![0u8; 1024]).expect("blob");
        let snapshot = model.join("snapshots/0123abcd");
        std::fs::create_dir_all(&snapshot).expect("mkdir");
        std::fs::write(snapshot.join("config.json"), "{}").expect("config");
        let tokenizer_only = dir.join("models--org--tok--en");
        std::fs::create_dir_all(tokenizer_only.join("snapshots/ffff")).expect("mkdir");
        std::fs::create_dir_all(dir.join("datasets--some--set")).expect("mkdir");
    }

    #[test]
    fn finds_models_with_size_path_and_completeness() {
        let dir = tempfile::tempdir().expect("tempdir");
        fake_cache(dir.path());
        let found = scan(dir.path());
        assert_eq!(found.len(), 2, "datasets are not models: {found:?}");
        assert_eq!(found[0].id, "Qwen/Qwen2.5-0.5B-Instruct");
        assert_eq!(found[0].size_bytes, 3072);
        assert!(found[0].complete);
        assert!(found[0]
            .path
            .as_ref()
            .is_some_and(|p| p.ends_with("snapshots/0123abcd")));
        assert_eq!(
            found[1].id, "org/tok--en",
            "only the first -- separates org and name"
        );
        assert!(!found[1].complete);
    }

    #[test]
    fn a_missing_cache_is_empty() {
        assert!(scan(Path::new("/nonexistent/hub")).is_empty());
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(7_600_000_000), "7.1 GiB");
    }
}
