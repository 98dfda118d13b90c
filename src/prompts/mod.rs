//! Prompts for people (dialoguer), used only when stdin and stdout are
//! terminals and neither --no-input nor --yes was given. Every prompt has a
//! flag, so scripts never see one. Each answer is checked with the rules
//! the flags go through, and a wrong one is asked again with the reason.

pub mod add_model;
pub mod init;

use std::fmt::Display;
use std::str::FromStr;

use anyhow::Result;
use dialoguer::theme::Theme;
use dialoguer::{Confirm, Input, MultiSelect, Select};

use crate::error::Failure;

/// dialoguer's plain theme, but an error too long for the terminal is
/// broken into lines of its width: dialoguer erases as many lines as the
/// text has, so a line the terminal wrapped was left half-erased.
struct Plain;

impl Theme for Plain {
    fn format_error(&self, f: &mut dyn std::fmt::Write, err: &str) -> std::fmt::Result {
        write!(f, "{}", error_lines(err, width()))
    }
}

/// `error: ERR`, in lines no wider than the terminal.
fn error_lines(err: &str, width: Option<usize>) -> String {
    let text = format!("error: {err}");
    match width {
        Some(width) => crate::output::wrap(&text, width).join("\n"),
        None => text,
    }
}

/// The width of the terminal the prompts draw on (stderr).
fn width() -> Option<usize> {
    let stderr = std::io::stderr();
    rustix::termios::tcgetwinsize(&stderr)
        .ok()
        .map(|size| usize::from(size.ws_col))
        .filter(|cols| *cols > 0)
}

/// A prompt that ended without an answer: Ctrl-C, Esc, or the terminal
/// gone. The cursor a menu hid is shown again first, on every such path.
fn ended(err: dialoguer::Error) -> anyhow::Error {
    show_cursor();
    let dialoguer::Error::IO(io) = &err;
    if io.kind() == std::io::ErrorKind::Interrupted {
        return cancelled();
    }
    Failure::usage(format!("the prompt ended: {err}"))
        .hint("nothing was saved; answer the questions, or pass the values as flags (see --help)")
        .into()
}

fn cancelled() -> anyhow::Error {
    show_cursor();
    Failure::usage("cancelled; nothing was saved")
        .hint("pass the values as flags to skip the questions (see --help)")
        .into()
}

/// While a menu hides the cursor, Ctrl-C, which ends the process before
/// the menu could show it again, shows it first. Put back as it was when
/// dropped, so what runs after the prompts (a supervisor in the
/// foreground) gets Ctrl-C its own way.
struct CursorOnInterrupt(libc::sighandler_t);

impl CursorOnInterrupt {
    fn new() -> Self {
        extern "C" fn on_interrupt(_: libc::c_int) {
            const SHOW: &[u8] = b"\x1b[?25h\ncancelled; nothing was saved\n";
            // SAFETY: write(2) and _exit(2) are async-signal-safe.
            unsafe {
                libc::write(2, SHOW.as_ptr().cast(), SHOW.len());
                libc::_exit(130);
            }
        }
        let handler = on_interrupt as extern "C" fn(libc::c_int);
        // SAFETY: the handler only calls async-signal-safe functions.
        let previous = unsafe { libc::signal(libc::SIGINT, handler as libc::sighandler_t) };
        CursorOnInterrupt(previous)
    }
}

impl Drop for CursorOnInterrupt {
    fn drop(&mut self) {
        // SAFETY: puts back the disposition there was.
        unsafe {
            libc::signal(libc::SIGINT, self.0);
        }
    }
}

fn show_cursor() {
    use std::io::{IsTerminal, Write};
    let mut stderr = std::io::stderr();
    if stderr.is_terminal() {
        let _ = stderr.write_all(b"\x1b[?25h");
        let _ = stderr.flush();
    }
}

/// A line of text; `check` returns why an answer is wrong.
pub fn text(
    prompt: &str,
    default: Option<&str>,
    allow_empty: bool,
    mut check: impl FnMut(&str) -> Result<(), String>,
) -> Result<String> {
    let mut input = Input::<String>::with_theme(&Plain)
        .with_prompt(prompt)
        .allow_empty(allow_empty);
    if let Some(default) = default {
        input = input.default(default.to_string());
    }
    input
        .validate_with(move |value: &String| check(value.trim()))
        .interact_text()
        .map(|v| v.trim().to_string())
        .map_err(ended)
}

/// What a port is, for an answer that is not one.
pub const PORT: &str = "a port: a whole number from 1 to 65535";

/// A number, `what` says of which kind ("a port, a whole number from 1 to
/// 65535") when the answer is none; `check` returns why a value is wrong.
pub fn number<T>(
    prompt: &str,
    default: Option<T>,
    what: &str,
    mut check: impl FnMut(&T) -> Result<(), String>,
) -> Result<T>
where
    T: Clone + Display + FromStr,
{
    let default = default.map(|d| d.to_string());
    let answer = text(prompt, default.as_deref(), false, |value| {
        match value.parse::<T>() {
            Ok(number) => check(&number),
            Err(_) => Err(format!("'{value}' is not {what}")),
        }
    })?;
    answer
        .parse::<T>()
        .map_err(|_| Failure::usage(format!("'{answer}' is not {what}")).into())
}

/// y or n, then Enter: the Enter confirms the key typed, instead of
/// answering the next question with its default.
pub fn yes_no(prompt: &str, default: bool) -> Result<bool> {
    Confirm::with_theme(&Plain)
        .with_prompt(prompt)
        .default(default)
        .wait_for_newline(true)
        .interact()
        .map_err(ended)
}

/// One of `items`, by index. Esc (or q) cancels.
pub fn choose<S: std::fmt::Display>(prompt: &str, items: &[S], default: usize) -> Result<usize> {
    let _cursor = CursorOnInterrupt::new();
    Select::with_theme(&Plain)
        .with_prompt(prompt)
        .items(items)
        .default(default)
        .interact_opt()
        .map_err(ended)?
        .ok_or_else(cancelled)
}

/// Any of `items` (space toggles), by index. Esc (or q) cancels.
pub fn choose_many<S: std::fmt::Display>(prompt: &str, items: &[S]) -> Result<Vec<usize>> {
    let _cursor = CursorOnInterrupt::new();
    MultiSelect::with_theme(&Plain)
        .with_prompt(prompt)
        .items(items)
        .interact_opt()
        .map_err(ended)?
        .ok_or_else(cancelled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_wider_than_the_terminal_is_in_lines_dialoguer_can_count() {
        let err = "model 'chat': port: 8001 is already in use on this machine, by model 'chat' of running config 'demo'";
        let text = error_lines(err, Some(40));
        assert!(text.lines().all(|l| l.chars().count() <= 40), "{text}");
        assert_eq!(text.replace('\n', " "), format!("error: {err}"));
        assert_eq!(error_lines("short", Some(40)), "error: short");
    }
}
