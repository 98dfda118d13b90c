//! One integration test binary: every test runs the real `vllm-mux` binary
//! in its own temporary VLLM_MUX_HOME.

mod helper;

mod cli;
mod completions;
mod config_files;
mod export;
mod gpus;
mod hostile;
mod idle;
mod lora;
mod mock_engine;
mod prompts;
mod proxy;
mod queue;
mod supervisor;
mod swap;
mod tables;
mod validation;
mod wire;
