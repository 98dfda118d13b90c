//! The control API between the CLI and the supervisor: HTTP/1.1 over the
//! config's Unix socket, typed once in [`api`].

pub mod api;
