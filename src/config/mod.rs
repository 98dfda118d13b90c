//! Configs, profiles and shortcuts: schema, validation and storage.

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
