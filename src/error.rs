//! Exit codes and the one error type a user can act on.
//!
//! Every command returns `anyhow::Result`; an error that carries a [`Failure`]
//! decides the exit code and the `hint:` line, anything else is a runtime
//! failure (exit 1) printed with its context chain.

use std::fmt;
use std::process::ExitCode;

/// The exit codes of DESIGN.md section 1, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything went as asked.
    Success = 0,
    /// A runtime failure: a model failed to start, the supervisor is not reachable, I/O failed.
    Failure = 1,
    /// Usage or validation error (clap's own errors exit 2 as well).
    Usage = 2,
    /// `status`, `stop` or `logs -f` found nothing running.
    NotRunning = 3,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// An error with an exit code, optional further `error:` lines and an optional hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
    /// More problems found at once (validation reports all of them).
    pub more: Vec<String>,
    pub hint: Option<String>,
}

impl Failure {
    fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: message.into(),
            more: Vec::new(),
            hint: None,
        }
    }

    /// A usage or validation error: exit 2.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    /// A runtime failure: exit 1.
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::new(Exit::Failure, message)
    }

    /// Nothing is running: exit 3.
    pub fn not_running(message: impl Into<String>) -> Self {
        Self::new(Exit::NotRunning, message)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_more(mut self, more: Vec<String>) -> Self {
        self.more = more;
        self
    }

    /// `Ok` when there are no problems; else one usage error listing them
    /// all (the first as the message), with `hint`.
    pub fn usage_if_any(problems: Vec<String>, hint: &str) -> Result<(), Failure> {
        let mut iter = problems.into_iter();
        match iter.next() {
            None => Ok(()),
            Some(first) => Err(Failure::usage(first).with_more(iter.collect()).hint(hint)),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Print an error the way DESIGN.md asks: `error: ...` lines, then `hint: ...`.
/// Returns the exit code it calls for.
pub fn report(err: &anyhow::Error) -> Exit {
    let mut stderr = String::new();
    let exit = match err.downcast_ref::<Failure>() {
        Some(failure) => {
            stderr.push_str(&format!("error: {}\n", failure.message));
            for line in &failure.more {
                stderr.push_str(&format!("error: {line}\n"));
            }
            if let Some(hint) = &failure.hint {
                stderr.push_str(&format!("hint: {hint}\n"));
            }
            failure.exit
        }
        None => {
            stderr.push_str(&format!("error: {err:#}\n"));
            Exit::Failure
        }
    };
    eprint!("{}", crate::output::for_config(&stderr));
    exit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_keeps_exit_code_through_anyhow() {
        let err: anyhow::Error = Failure::usage("bad port").hint("use --port").into();
        let failure = err.downcast_ref::<Failure>().expect("a Failure");
        assert_eq!(failure.exit, Exit::Usage);
        assert_eq!(failure.hint.as_deref(), Some("use --port"));
    }

    #[test]
    fn usage_if_any_lists_every_problem() {
        assert_eq!(Failure::usage_if_any(vec![], "h"), Ok(()));
        let err = Failure::usage_if_any(vec!["a".into(), "b".into()], "h").expect_err("problems");
        assert_eq!(
            (err.message.as_str(), err.more.clone(), err.exit),
            ("a", vec!["b".to_string()], Exit::Usage)
        );
    }

    #[test]
    fn exit_codes_are_the_documented_numbers() {
        assert_eq!(Exit::Success as u8, 0);
        assert_eq!(Exit::Failure as u8, 1);
        assert_eq!(Exit::Usage as u8, 2);
        assert_eq!(Exit::NotRunning as u8, 3);
    }
}
