//! Prompts for people (dialoguer), used only when stdin and stdout are
//! terminals and neither --no-input nor --yes was given. Every prompt has a
//! flag, so scripts never see one. Each answer is checked with the rules
//! the flags go through, and a wrong one is asked again with the reason.

pub mod add_model;
pub mod init;

use std::fmt::Display;
use std::str::FromStr;

use anyhow::Result;
use dialoguer::theme::SimpleTheme;
use dialoguer::{Confirm, Input, MultiSelect, Select};

use crate::error::Failure;

fn ended(err: dialoguer::Error) -> anyhow::Error {
    Failure::usage(format!("the prompt ended: {err}"))
        .hint("nothing was saved; answer the questions, or pass the values as flags (see --help)")
        .into()
}

/// A line of text; `check` returns why an answer is wrong.
pub fn text(
    prompt: &str,
    default: Option<&str>,
    allow_empty: bool,
    mut check: impl FnMut(&str) -> Result<(), String>,
) -> Result<String> {
    let mut input = Input::<String>::with_theme(&SimpleTheme)
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

/// A number; `check` returns why a value is wrong.
pub fn number<T>(
    prompt: &str,
    default: Option<T>,
    mut check: impl FnMut(&T) -> Result<(), String>,
) -> Result<T>
where
    T: Clone + Display + FromStr,
    <T as FromStr>::Err: Display,
{
    let mut input = Input::<T>::with_theme(&SimpleTheme).with_prompt(prompt);
    if let Some(default) = default {
        input = input.default(default);
    }
    input
        .validate_with(move |value: &T| check(value))
        .interact_text()
        .map_err(ended)
}

pub fn yes_no(prompt: &str, default: bool) -> Result<bool> {
    Confirm::with_theme(&SimpleTheme)
        .with_prompt(prompt)
        .default(default)
        .interact()
        .map_err(ended)
}

/// One of `items`, by index.
pub fn choose<S: std::fmt::Display>(prompt: &str, items: &[S], default: usize) -> Result<usize> {
    Select::with_theme(&SimpleTheme)
        .with_prompt(prompt)
        .items(items)
        .default(default)
        .interact()
        .map_err(ended)
}

/// Any of `items` (space toggles), by index.
pub fn choose_many<S: std::fmt::Display>(prompt: &str, items: &[S]) -> Result<Vec<usize>> {
    MultiSelect::with_theme(&SimpleTheme)
        .with_prompt(prompt)
        .items(items)
        .interact()
        .map_err(ended)
}
