//! `logs [proxy|MODEL|all] [-f] [-n LINES] [--since WHEN]`: read the log
//! files the supervisor writes (`--json`: one JSON object per line). Every
//! line starts with a timestamp, so `all` can interleave files in time order.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use super::follow::Follower;
use super::Ctx;
use crate::cli::LogsArgs;
use crate::config::schema::is_instance_of;
use crate::control::client::Client;
use crate::error::{Exit, Failure};
use crate::supervisor::logfile::{rotated, stamp_of, DEFAULT_KEEP};
use crate::supervisor::pidfile::running_pid;

pub fn run(ctx: &Ctx, args: LogsArgs) -> Result<Exit> {
    let name = ctx.config_name()?;
    let dir = ctx.paths().logs_dir(name);
    // No config and no logs of one: a typo in the name, most likely.
    if !dir.exists() && !ctx.store.path(name).exists() {
        return Err(ctx.store.missing(name).into());
    }
    let sources = sources(ctx, name, &dir, &args.target)?;
    let run_dir = ctx.paths().run_dir(name);
    if args.follow && running_pid(&run_dir).is_none() {
        return Err(Client::new(ctx.paths(), name)?.not_running().into());
    }
    let prefix = sources.len() > 1;
    // Every file is read from its start by the follower that then follows
    // it, so no line falls between what is shown and what is followed.
    let mut followers: Vec<Follower> = sources
        .iter()
        .map(|(label, path)| Follower::new(label.clone(), path.clone()))
        .collect();
    let current = poll_all(&mut followers);
    // Reaching back in time reaches into the rotated files too (read after
    // the current ones: a rotation in between repeats lines, loses none).
    let mut lines: Vec<(String, String)> = if args.since.is_some() {
        sources
            .iter()
            .flat_map(|(label, path)| rotated_lines(label, path))
            .collect()
    } else {
        Vec::new()
    };
    lines.extend(current);
    if !args.follow {
        // A last line without its newline yet is shown too.
        for f in &mut followers {
            if let Some(line) = f.take_partial() {
                lines.push((f.label.clone(), line));
            }
        }
    }
    // Log lines start with the same RFC 3339 stamp, so they compare as text.
    let since = args
        .since
        .map(|t| humantime::format_rfc3339_millis(t).to_string());
    if let Some(since) = &since {
        lines.retain(|(_, line)| stamp_of(line) >= since.as_str());
    }
    sort_by_time(&mut lines);
    if lines.is_empty() && !args.follow {
        match &since {
            Some(since) => ctx.say(format!("no log lines since {since} in {}", dir.display())),
            None => ctx.say(format!("no log lines yet in {}", dir.display())),
        }
    }
    let keep = args
        .lines
        .unwrap_or(if since.is_some() { usize::MAX } else { 50 });
    let skip = lines.len().saturating_sub(keep);
    for (label, line) in &lines[skip..] {
        print_line(ctx, prefix, label, line);
    }
    if !args.follow {
        return Ok(Exit::Success);
    }
    while running_pid(&run_dir).is_some() {
        std::thread::sleep(Duration::from_millis(200));
        for (label, line) in poll_all(&mut followers) {
            print_line(ctx, prefix, &label, &line);
        }
    }
    for (label, line) in poll_all(&mut followers) {
        print_line(ctx, prefix, &label, &line);
    }
    ctx.say(format!("(config '{name}' stopped)"));
    Ok(Exit::Success)
}

/// The lines of a log's rotated files (`NAME.log.3` … `NAME.log.1`), oldest first.
fn rotated_lines(label: &str, path: &Path) -> Vec<(String, String)> {
    (1..=DEFAULT_KEEP)
        .rev()
        .filter_map(|n| std::fs::read(rotated(path, n)).ok())
        .flat_map(|bytes| {
            String::from_utf8_lossy(&bytes)
                .lines()
                .map(|line| (label.to_string(), line.to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// New whole lines of every file, labelled, in time order.
fn poll_all(followers: &mut [Follower]) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    for f in followers {
        let new = f.poll();
        lines.extend(new.into_iter().map(|line| (f.label.clone(), line)));
    }
    sort_by_time(&mut lines);
    lines
}

/// Stable sort by the leading timestamp: each file keeps its own order.
fn sort_by_time(lines: &mut [(String, String)]) {
    lines.sort_by(|a, b| stamp_of(&a.1).cmp(stamp_of(&b.1)));
}

/// One log line for scripts (`--json`): JSON Lines, as it comes.
#[derive(Serialize)]
struct JsonLine<'a> {
    source: &'a str,
    /// Its RFC 3339 timestamp, if it has one.
    time: Option<&'a str>,
    line: &'a str,
}

fn print_line(ctx: &Ctx, prefix: bool, label: &str, line: &str) {
    if ctx.json {
        let stamp = stamp_of(line);
        let json = JsonLine {
            source: label,
            time: (!stamp.is_empty()).then_some(stamp),
            line: line[stamp.len()..].trim_start(),
        };
        // A line that cannot be written (a closed pipe) ends the command
        // by SIGPIPE, as plain lines do.
        if let Ok(text) = serde_json::to_string(&json) {
            println!("{text}");
        }
    } else if prefix {
        println!("{label:>12} | {line}");
    } else {
        println!("{line}");
    }
}

/// Which files to read: (label, path).
fn sources(ctx: &Ctx, name: &str, dir: &Path, target: &str) -> Result<Vec<(String, PathBuf)>> {
    let proxy = ("proxy".to_string(), dir.join("proxy.log"));
    // Every running copy has a log: the model's, then its replicas' (NAME@1, …).
    let ids: Vec<String> = ctx
        .store
        .load(name)
        .map(|c| {
            c.models
                .iter()
                .flat_map(|m| m.instances())
                .map(|i| i.id)
                .collect()
        })
        .unwrap_or_default();
    let log = |id: &str| (id.to_string(), dir.join(format!("{id}.log")));
    match target {
        "proxy" => Ok(vec![proxy]),
        "all" => Ok(std::iter::once(proxy)
            .chain(ids.iter().map(|id| log(id)))
            .collect()),
        // A model's name stands for all its copies; a copy's id for itself.
        model if ids.iter().any(|id| is_instance_of(id, model)) => Ok(ids
            .iter()
            .filter(|id| *id == model || is_instance_of(id, model))
            .map(|id| log(id))
            .collect()),
        model if dir.join(format!("{model}.log")).exists() => Ok(vec![log(model)]),
        other => Err(Failure::usage(format!(
            "config '{name}' has no model '{other}' and no log of that name"
        ))
        .hint(if ids.is_empty() {
            "use proxy or all (the config has no models)".to_string()
        } else {
            format!("use proxy, all, or one of: {}", ids.join(", "))
        })
        .into()),
    }
}
