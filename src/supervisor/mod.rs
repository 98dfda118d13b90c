//! The background supervisor. This release has its pidfile check; the
//! process itself lands with the supervisor issue.

pub mod pidfile;
