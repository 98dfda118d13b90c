//! add-model's questions: source, alias, GPUs, port, profile.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Result;

use super::{choose, choose_many, number, text};
use crate::config::names::{check_alias, check_name, RESERVED_MODEL_NAMES};
use crate::config::ports::{is_free_on_host, next_free, taken_ports, MIN_MODEL_PORT};
use crate::config::profiles::Profiles;
use crate::config::shortcuts::Shortcuts;
use crate::config::validate::problems;
use crate::config::{Config, Engine, LoraAdapter, ModelConfig, Paths};
use crate::gpu::Inventory;
use crate::models::{hub_cache, human_size, scan};

const SOURCES: [&str; 5] = [
    "A Hugging Face id (vLLM downloads it at start)",
    "A model already on this machine",
    "A model with LoRA adapters",
    "A saved shortcut",
    "The built-in mock engine (no GPU; to try vllm-mux)",
];

/// Ask for a model to add to `config`; `name` if the command line gave one.
pub fn ask(
    paths: &Paths,
    config: &Config,
    name: Option<&str>,
    other_ports: &BTreeSet<u16>,
) -> Result<ModelConfig> {
    let name = match name {
        Some(name) => name.to_string(),
        None => text(
            "Model name (what clients send as \"model\")",
            None,
            false,
            |v| {
                check_name("model", v)?;
                if RESERVED_MODEL_NAMES.contains(&v) {
                    return Err(format!("'{v}' is reserved for 'vllm-mux logs'"));
                }
                if config.model(v).is_some() {
                    return Err(format!("there is already a model '{v}'"));
                }
                Ok(())
            },
        )?,
    };
    let mut model = ModelConfig::new(&name);
    let mut skip_profile = false;
    loop {
        match choose("Where does the model come from?", &SOURCES, 0)? {
            0 => model.model_path = hf_id("Hugging Face id, e.g. Qwen/Qwen2.5-7B-Instruct")?,
            1 => model.model_path = local_model()?,
            2 => {
                model.model_path = hf_id("Base model (Hugging Face id or folder)")?;
                model.lora_adapters = adapters(config)?;
            }
            3 => {
                let shortcuts = Shortcuts::load(paths)?;
                let names: Vec<&String> = shortcuts.shortcuts.keys().collect();
                if names.is_empty() {
                    println!("No shortcuts are saved yet ('vllm-mux shortcuts add' saves one); pick another source.");
                    continue;
                }
                let shortcut = &shortcuts.shortcuts[names[choose("Shortcut", &names, 0)?]];
                model.model_path = shortcut.model.clone();
                model.profile = shortcut.profile.clone();
                model.config_overrides = shortcut.config_overrides.clone();
                skip_profile = true;
            }
            _ => {
                model.engine = Engine::Mock;
                skip_profile = true;
            }
        }
        break;
    }
    let alias = text(
        "Alias clients may also send (empty for none)",
        None,
        true,
        |v| {
            if v.is_empty() {
                return Ok(());
            }
            check_alias("alias", v)?;
            let taken = config
                .models
                .iter()
                .any(|m| m.name == v || m.aliases.iter().any(|a| a == v))
                || v == name;
            if taken {
                return Err(format!("'{v}' is already a model's name or alias"));
            }
            Ok(())
        },
    )?;
    if !alias.is_empty() {
        model.aliases = vec![alias];
    }
    if model.engine != Engine::Mock {
        model.gpu_ids = gpus(config, &model)?;
    }
    model.port = Some(port(config, other_ports)?);
    if !skip_profile {
        let profiles = Profiles::load(paths)?;
        let items: Vec<String> = profiles
            .iter()
            .map(|p| format!("{:<16} {}", p.name, p.spec.description))
            .collect();
        let names = profiles.names();
        let standard = names.iter().position(|n| *n == "standard").unwrap_or(0);
        model.profile =
            Some(names[choose("Profile (a set of engine flags)", &items, standard)?].to_string());
    }
    Ok(model)
}

fn hf_id(prompt: &str) -> Result<String> {
    text(prompt, None, false, |v| {
        if v.contains(char::is_whitespace) {
            Err("a model id or path has no spaces".into())
        } else {
            Ok(())
        }
    })
}

/// A model in the Hugging Face cache, or a folder with a config.json.
fn local_model() -> Result<String> {
    let found: Vec<_> = hub_cache()
        .map(|c| scan(&c))
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.complete)
        .collect();
    if !found.is_empty() {
        let mut items: Vec<String> = found
            .iter()
            .map(|m| format!("{} ({})", m.id, human_size(m.size_bytes)))
            .collect();
        items.push("Another folder…".into());
        let picked = choose("Model", &items, 0)?;
        if let Some(m) = found.get(picked) {
            return Ok(m.id.clone());
        }
    }
    text(
        "Folder of the model (it holds config.json)",
        None,
        false,
        |v| {
            if Path::new(v).join("config.json").is_file() {
                Ok(())
            } else {
                Err(format!("{v} has no config.json"))
            }
        },
    )
}

fn adapters(config: &Config) -> Result<Vec<LoraAdapter>> {
    let mut adapters: Vec<LoraAdapter> = Vec::new();
    loop {
        let answer = text(
            "LoRA adapter as NAME=PATH (empty when done)",
            None,
            true,
            |v| {
                if v.is_empty() {
                    return Ok(());
                }
                let (name, path) = v
                    .split_once('=')
                    .ok_or("write it as NAME=PATH, e.g. sql=/models/sql-lora")?;
                check_alias("LoRA adapter name", name)?;
                if path.is_empty() {
                    return Err("the path is empty".into());
                }
                let taken = config.models.iter().any(|m| {
                    m.name == name
                        || m.aliases.iter().any(|a| a == name)
                        || m.lora_adapters.iter().any(|l| l.name == name)
                });
                if taken {
                    return Err(format!(
                        "'{name}' is already a model's name, alias or adapter"
                    ));
                }
                Ok(())
            },
        )?;
        match answer.split_once('=') {
            Some((name, path)) => adapters.push(LoraAdapter {
                name: name.to_string(),
                path: path.to_string(),
            }),
            None => return Ok(adapters),
        }
    }
}

/// GPUs to run on, asked again while they conflict with another model.
fn gpus(config: &Config, model: &ModelConfig) -> Result<Vec<u32>> {
    let inventory = Inventory::detect()?;
    let found = inventory.gpus();
    if found.is_empty() {
        println!("No NVIDIA GPU found: the model will see every GPU the engine finds.");
        return Ok(Vec::new());
    }
    println!("The number of GPUs you pick sets tensor parallelism and overrides the profile's.");
    let items: Vec<String> = found
        .iter()
        .map(|g| {
            let holders: Vec<&str> = config
                .models
                .iter()
                .filter(|m| m.gpu_ids.contains(&g.index))
                .map(|m| m.name.as_str())
                .collect();
            let held = if holders.is_empty() {
                String::new()
            } else {
                format!(", used by {}", holders.join(", "))
            };
            format!(
                "GPU {}: {}, {} / {} MiB, {}%{held}",
                g.index, g.name, g.memory_used_mib, g.memory_total_mib, g.utilization_percent
            )
        })
        .collect();
    loop {
        let picked: Vec<u32> = choose_many("GPUs (space to pick, enter when done)", &items)?
            .into_iter()
            .map(|i| found[i].index)
            .collect();
        let mut candidate = config.clone();
        candidate.models.push(ModelConfig {
            gpu_ids: picked.clone(),
            port: Some(u16::MAX),
            ..model.clone()
        });
        let clashes: Vec<String> = problems(&candidate, &Profiles::default(), &inventory)
            .into_iter()
            .filter(|p| p.field == "gpu_ids" && p.model.as_deref() == Some(model.name.as_str()))
            .map(|p| p.message)
            .collect();
        if clashes.is_empty() {
            return Ok(picked);
        }
        for clash in clashes {
            println!("  {clash}");
        }
    }
}

/// The next free port, or one typed and checked at once.
fn port(config: &Config, other_ports: &BTreeSet<u16>) -> Result<u16> {
    let taken = taken_ports(config, other_ports);
    let automatic = next_free(&taken, is_free_on_host);
    let items = [
        automatic.map_or("Automatic (none free)".to_string(), |p| {
            format!("Automatic: {p}")
        }),
        "Choose one".to_string(),
    ];
    if let (Some(p), 0) = (automatic, choose("Port of the model's server", &items, 0)?) {
        return Ok(p);
    }
    number::<u16>("Port", None, super::PORT, |p| {
        if *p < MIN_MODEL_PORT {
            Err(format!(
                "{p} is below {MIN_MODEL_PORT}; model ports must be in {MIN_MODEL_PORT}..65535"
            ))
        } else if *p == config.port {
            Err(format!("{p} is the proxy's own port"))
        } else if taken.contains(p) {
            Err(format!("{p} is already used by another model"))
        } else if !is_free_on_host(*p) {
            Err(format!("{p} is in use on this machine"))
        } else {
            Ok(())
        }
    })
}
