//! The control API between the CLI and the supervisor: HTTP/1.1 over the
//! config's Unix socket (mode 0600), typed once in [`api`].

pub mod api;
pub mod client;
pub mod server;
