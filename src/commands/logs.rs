//! `logs [proxy|MODEL|all] [-f] [-n LINES]`: read the log files the
//! supervisor writes. Every line starts with a timestamp, so `all` can
//! interleave files in time order.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use super::Ctx;
use crate::cli::LogsArgs;
use crate::config::schema::is_instance_of;
use crate::control::client::Client;
use crate::error::{Exit, Failure};
use crate::supervisor::pidfile::running_pid;

pub fn run(ctx: &Ctx, args: LogsArgs) -> Result<Exit> {
    let name = ctx.config_name()?;
    let dir = ctx.paths().logs_dir(name);
    let sources = sources(ctx, name, &dir, &args.target)?;
    let run_dir = ctx.paths().run_dir(name);
    if args.follow && running_pid(&run_dir).is_none() {
        return Err(Client::new(ctx.paths(), name)?.not_running().into());
    }
    let prefix = sources.len() > 1;
    let mut lines: Vec<(String, String)> = Vec::new();
    for (label, path) in &sources {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        lines.extend(text.lines().map(|l| (label.clone(), l.to_string())));
    }
    // Stable sort by the leading timestamp keeps each file's own order.
    lines.sort_by(|a, b| stamp_of(&a.1).cmp(stamp_of(&b.1)));
    if lines.is_empty() && !args.follow {
        ctx.say(format!("no log lines yet in {}", dir.display()));
    }
    let skip = lines.len().saturating_sub(args.lines);
    for (label, line) in &lines[skip..] {
        print_line(prefix, label, line);
    }
    if !args.follow {
        return Ok(Exit::Success);
    }
    let mut followers: Vec<Follower> = sources
        .into_iter()
        .map(|(label, path)| Follower::new(label, path))
        .collect();
    while running_pid(&run_dir).is_some() {
        for f in &mut followers {
            for line in f.poll() {
                print_line(prefix, &f.label, &line);
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for f in &mut followers {
        for line in f.poll() {
            print_line(prefix, &f.label, &line);
        }
    }
    ctx.say(format!("(config '{name}' stopped)"));
    Ok(Exit::Success)
}

fn print_line(prefix: bool, label: &str, line: &str) {
    if prefix {
        println!("{label:>12} | {line}");
    } else {
        println!("{line}");
    }
}

/// The leading RFC 3339 timestamp of a line, or "" (sorts first).
fn stamp_of(line: &str) -> &str {
    line.split_once(' ').map_or(
        "",
        |(first, _)| if first.ends_with('Z') { first } else { "" },
    )
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

/// Reads what was appended to a file since the last poll; follows rotation.
struct Follower {
    label: String,
    path: PathBuf,
    offset: u64,
    inode: Option<u64>,
    partial: String,
}

impl Follower {
    fn new(label: String, path: PathBuf) -> Self {
        let meta = std::fs::metadata(&path).ok();
        Follower {
            label,
            offset: meta.as_ref().map_or(0, |m| m.len()),
            inode: meta.map(|m| m.ino()),
            path,
            partial: String::new(),
        }
    }

    fn poll(&mut self) -> Vec<String> {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return Vec::new();
        };
        if Some(meta.ino()) != self.inode || meta.len() < self.offset {
            // Rotated: the new file starts from its beginning.
            self.inode = Some(meta.ino());
            self.offset = 0;
        }
        if meta.len() == self.offset {
            return Vec::new();
        }
        let mut text = String::new();
        let read = File::open(&self.path).and_then(|mut f| {
            f.seek(SeekFrom::Start(self.offset))?;
            f.read_to_string(&mut text)
        });
        let Ok(n) = read else {
            return Vec::new();
        };
        self.offset += n as u64;
        self.partial.push_str(&text);
        let mut lines: Vec<String> = self.partial.split('\n').map(str::to_string).collect();
        self.partial = lines.pop().unwrap_or_default();
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_found_or_sort_first() {
        assert_eq!(
            stamp_of("2026-11-25T21:30:00.123Z hello"),
            "2026-11-25T21:30:00.123Z"
        );
        assert_eq!(stamp_of("plain line"), "");
    }

    #[test]
    fn follower_reads_appends_and_survives_rotation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.log");
        std::fs::write(&path, "old\n").expect("write");
        let mut f = Follower::new("m".into(), path.clone());
        assert!(f.poll().is_empty(), "starts at the end");
        std::fs::write(&path, "old\nnew 1\nhalf").expect("append");
        assert_eq!(f.poll(), ["new 1"]);
        std::fs::rename(&path, dir.path().join("m.log.1")).expect("rotate");
        std::fs::write(&path, "fresh\n").expect("new file");
        assert_eq!(f.poll(), ["halffresh"]);
    }
}
