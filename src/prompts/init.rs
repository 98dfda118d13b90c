//! init's questions: the proxy's settings, then models, then what to do.

use std::collections::BTreeSet;

use anyhow::Result;

use super::{add_model, choose, number, text, yes_no, PORT};
use crate::config::{Config, Paths};

/// What to do once the config is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    SaveAndStart,
    SaveForLater,
    /// Run it now in this terminal; nothing is written to the configs.
    StartWithoutSaving,
    Cancel,
}

const THEN: [&str; 4] = [
    "Save and start now",
    "Save for later",
    "Start without saving (runs in this terminal until Ctrl-C)",
    "Cancel (nothing is written)",
];

pub fn ask(paths: &Paths, other_ports: &BTreeSet<u16>) -> Result<(Config, Then)> {
    let defaults = Config::default();
    let host = text(
        "Host the proxy listens on",
        Some(&defaults.host),
        false,
        // The rule saving applies, so no answer is lost to it at the end.
        |v| match crate::config::validate::host_problem(v) {
            Some(why) => Err(format!(
                "{why}; 0.0.0.0 is every interface, 127.0.0.1 this machine only"
            )),
            None => Ok(()),
        },
    )?;
    let port = number("Proxy port", Some(defaults.port), PORT, |p: &u16| {
        if *p == 0 {
            Err("0 is not a port".to_string())
        } else {
            Ok(())
        }
    })?;
    let mut config = Config {
        host,
        port,
        enable_cors: yes_no("Send CORS headers (for browser clients)?", true)?,
        enable_metrics: yes_no("Serve Prometheus metrics on /metrics?", true)?,
        log_requests: yes_no("Log one line per request?", false)?,
        ..defaults
    };
    loop {
        let count = config.models.len();
        let items = [format!("Add a model ({count} so far)"), "Done".to_string()];
        if choose("Models", &items, if count == 0 { 0 } else { 1 })? == 1 {
            break;
        }
        let model = add_model::ask(paths, &config, None, other_ports)?;
        config.models.push(model);
    }
    // Nothing to start without a model: save it (models come with
    // add-model) or cancel.
    if config.models.is_empty() {
        let then = match choose("What now? (no model yet)", &[THEN[1], THEN[3]], 0)? {
            0 => Then::SaveForLater,
            _ => Then::Cancel,
        };
        return Ok((config, then));
    }
    let then = match choose("What now?", &THEN, 0)? {
        0 => Then::SaveAndStart,
        1 => Then::SaveForLater,
        2 => Then::StartWithoutSaving,
        _ => Then::Cancel,
    };
    Ok((config, then))
}
