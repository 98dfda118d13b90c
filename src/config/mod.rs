//! Configs, profiles and shortcuts: schema, validation and storage.

pub mod llama_swap;
pub mod names;
pub mod paths;
pub mod ports;
pub mod profiles;
pub mod schema;
pub mod shortcuts;
pub mod store;
pub mod transfer;
pub mod validate;

pub use paths::Paths;
pub use schema::{Config, Engine, Instance, LoraAdapter, ModelConfig, Replica};
pub use store::Store;

/// The value of the environment variable a config names for a key
/// (`api_key_env`, `backend_api_key_env`), trimmed; `None` when it is
/// unset or blank.
pub fn key_from_env(var: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}
