//! The background supervisor. This release has its building blocks (pidfile
//! check, model states, restart policy, load order, size-capped logs); the process that uses
//! them lands with the supervisor issue.

pub mod logfile;
pub mod order;
pub mod pidfile;
pub mod restart;
pub mod state;
