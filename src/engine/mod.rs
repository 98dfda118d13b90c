//! Turning a model's config into what an engine needs.

pub mod flags;
