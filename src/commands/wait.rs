//! `wait [MODEL...]`: wait until the running models (or the ones named) are
//! ready or failed, for scripts and units that started them without
//! waiting (`start --no-wait`, `systemctl start`).

use std::time::Duration;

use anyhow::Result;

use super::settle::{finish, wait_settled, Progress, Watched};
use super::Ctx;
use crate::config::schema::is_instance_of;
use crate::control::api::StatusReport;
use crate::control::client::{block_on, Client};
use crate::error::{Exit, Failure};
use crate::supervisor::state::ModelState;

pub fn run(ctx: &Ctx, models: &[String], timeout: Option<u64>) -> Result<Exit> {
    let name = ctx.config_name()?;
    let client = Client::new(ctx.paths(), name)?;
    let report = block_on(client.status())??;
    check_named(&report, models)?;
    let watched = if models.is_empty() {
        Watched::All
    } else {
        Watched::Models(models)
    };
    let mut progress = Progress::on_terminal(ctx, name);
    let timeout = timeout.map(Duration::from_secs);
    let report = wait_settled(&client, report, timeout, progress.as_mut(), watched)?;
    let exit = finish(ctx, &report, watched, progress.is_some())?;
    stopped_named(&report, models)?;
    Ok(exit)
}

/// Every named model must run in this config.
fn check_named(report: &StatusReport, models: &[String]) -> Result<(), Failure> {
    let unknown: Vec<&str> = models
        .iter()
        .filter(|name| !report.models.iter().any(|m| is_instance_of(&m.name, name)))
        .map(String::as_str)
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let known: Vec<&str> = report.models.iter().map(|m| m.name.as_str()).collect();
    Err(Failure::usage(format!(
        "no model {} in the running config '{}'",
        unknown.join(", "),
        report.config
    ))
    .hint(if known.is_empty() {
        "it runs no models; add one with 'vllm-mux add-model', then 'vllm-mux reload'".to_string()
    } else {
        format!("it runs: {}", known.join(", "))
    }))
}

/// A model named on purpose that is stopped will not become ready: a script
/// waiting for it must not go on as if it were.
fn stopped_named(report: &StatusReport, models: &[String]) -> Result<(), Failure> {
    let stopped: Vec<&str> = report
        .models
        .iter()
        .filter(|m| m.state == ModelState::Stopped && Watched::Models(models).covers(&m.name))
        .map(|m| m.name.as_str())
        .collect();
    match stopped.first() {
        None => Ok(()),
        Some(first) => Err(Failure::runtime(format!(
            "model(s) stopped, so not ready: {}",
            stopped.join(", ")
        ))
        .hint(format!("start it with 'vllm-mux start-model {first}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::api::ModelStatus;

    fn report(models: &[(&str, ModelState)]) -> StatusReport {
        StatusReport::of(
            models
                .iter()
                .map(|(name, state)| ModelStatus::bare(name, *state))
                .collect(),
        )
    }

    #[test]
    fn named_models_must_run_here_replicas_count_as_their_model() {
        let r = report(&[
            ("qwen", ModelState::Ready),
            ("qwen@1", ModelState::Starting),
        ]);
        assert!(check_named(&r, &["qwen".into()]).is_ok());
        let err = check_named(&r, &["qwen".into(), "llama".into()]).expect_err("unknown");
        assert_eq!(err.exit, Exit::Usage);
        assert!(err.to_string().contains("no model llama"), "{err}");
        assert_eq!(err.hint.as_deref(), Some("it runs: qwen, qwen@1"));
    }

    #[test]
    fn a_named_model_that_is_stopped_is_a_failure_but_not_one_left_unnamed() {
        let r = report(&[("qwen", ModelState::Ready), ("old", ModelState::Stopped)]);
        assert!(stopped_named(&r, &[]).is_ok());
        assert!(stopped_named(&r, &["qwen".into()]).is_ok());
        let err = stopped_named(&r, &["old".into()]).expect_err("stopped");
        assert_eq!(err.exit, Exit::Failure);
        assert_eq!(
            err.hint.as_deref(),
            Some("start it with 'vllm-mux start-model old'")
        );
    }
}
