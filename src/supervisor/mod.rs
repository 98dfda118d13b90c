//! The background supervisor: one process per running config. It holds the
//! pidfile lock, serves the control API on a Unix socket and the proxy on
//! its port, and runs one [`runner`] task per model.

pub mod daemonize;
pub mod gpu_memory;
pub mod guard;
pub mod logfile;
pub mod lora;
pub mod notify;
pub mod order;
pub mod pidfile;
pub mod process;
pub mod registry;
pub mod reload;
pub mod restart;
pub mod runner;
pub mod serve;
pub mod state;
pub mod state_file;
pub mod stats;
pub mod swap;

pub use serve::run;
