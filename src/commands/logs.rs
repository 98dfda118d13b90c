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
    // Every file is read from its start by the follower that then follows
    // it, so no line falls between what is shown and what is followed.
    let mut followers: Vec<Follower> = sources
        .into_iter()
        .map(|(label, path)| Follower::new(label, path))
        .collect();
    let mut lines = poll_all(&mut followers);
    if !args.follow {
        // A last line without its newline yet is shown too.
        for f in &mut followers {
            if let Some(line) = f.take_partial() {
                lines.push((f.label.clone(), line));
            }
        }
        sort_by_time(&mut lines);
    }
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
    while running_pid(&run_dir).is_some() {
        std::thread::sleep(Duration::from_millis(200));
        for (label, line) in poll_all(&mut followers) {
            print_line(prefix, &label, &line);
        }
    }
    for (label, line) in poll_all(&mut followers) {
        print_line(prefix, &label, &line);
    }
    ctx.say(format!("(config '{name}' stopped)"));
    Ok(Exit::Success)
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

/// Reads a log file from its start, then what is appended to it, holding
/// the file open: when the path is rotated away (renamed) or recreated, it
/// drains the old file before it moves on to the new one, so no line is
/// lost. A file truncated in place is read again from its start.
struct Follower {
    label: String,
    path: PathBuf,
    file: Option<File>,
    /// Bytes after the last newline (a line still being written).
    partial: Vec<u8>,
}

impl Follower {
    fn new(label: String, path: PathBuf) -> Self {
        Follower {
            label,
            file: File::open(&path).ok(),
            path,
            partial: Vec::new(),
        }
    }

    /// The whole lines appended since the last poll.
    fn poll(&mut self) -> Vec<String> {
        self.drain();
        let ours = self
            .file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map(|m| (m.dev(), m.ino()));
        let now = std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        if now.is_some() && now != ours {
            // Rotated or created: what the old file got meanwhile, then the new one.
            self.drain();
            self.file = File::open(&self.path).ok();
            self.drain();
        }
        let Some(end) = self.partial.iter().rposition(|b| *b == b'\n') else {
            return Vec::new();
        };
        let rest = self.partial.split_off(end + 1);
        let whole = std::mem::replace(&mut self.partial, rest);
        whole[..end]
            .split(|b| *b == b'\n')
            .map(|line| String::from_utf8_lossy(line).into_owned())
            .collect()
    }

    /// Read what the open file has now, from where the last read ended.
    fn drain(&mut self) {
        let Some(file) = &mut self.file else {
            return;
        };
        let truncated = match (file.stream_position(), file.metadata()) {
            (Ok(at), Ok(meta)) => meta.len() < at,
            _ => false,
        };
        if truncated {
            let _ = file.seek(SeekFrom::Start(0));
        }
        let _ = file.read_to_end(&mut self.partial);
    }

    /// The unfinished last line, if any.
    fn take_partial(&mut self) -> Option<String> {
        (!self.partial.is_empty())
            .then(|| String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned())
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
    fn follower_reads_from_the_start_and_then_appends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.log");
        std::fs::write(&path, "old\n").expect("write");
        let mut f = Follower::new("m".into(), path.clone());
        assert_eq!(f.poll(), ["old"]);
        assert!(f.poll().is_empty(), "nothing new");
        append(&path, b"new 1\nhal");
        assert_eq!(f.poll(), ["new 1"], "a line still being written waits");
        append(&path, b"f\n");
        assert_eq!(f.poll(), ["half"]);
    }

    #[test]
    fn follower_loses_nothing_across_a_rotation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.log");
        std::fs::write(&path, "1\n").expect("write");
        let mut f = Follower::new("m".into(), path.clone());
        assert_eq!(f.poll(), ["1"]);
        // Written to the old file just before it is renamed away.
        append(&path, b"2\n");
        std::fs::rename(&path, dir.path().join("m.log.1")).expect("rotate");
        std::fs::write(&path, "3\n").expect("new file");
        assert_eq!(f.poll(), ["2", "3"]);
        append(&path, b"4\n");
        assert_eq!(f.poll(), ["4"]);
    }

    #[test]
    fn follower_rereads_a_truncated_file_and_waits_for_a_missing_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.log");
        let mut f = Follower::new("m".into(), path.clone());
        assert!(f.poll().is_empty(), "no file yet");
        std::fs::write(&path, "first line\n").expect("create");
        assert_eq!(f.poll(), ["first line"]);
        std::fs::write(&path, "a\n").expect("truncate and write");
        assert_eq!(f.poll(), ["a"]);
    }

    #[test]
    fn follower_survives_bytes_that_are_not_utf8() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.log");
        std::fs::write(&path, b"ok \xff\xfe bytes\n\xe2\x9c").expect("write");
        let mut f = Follower::new("m".into(), path.clone());
        assert_eq!(f.poll(), ["ok \u{fffd}\u{fffd} bytes"]);
        append(&path, b"\x93 done\n");
        assert_eq!(
            f.poll(),
            ["\u{2713} done"],
            "a character split across reads"
        );
    }

    fn append(path: &Path, bytes: &[u8]) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .expect("open");
        file.write_all(bytes).expect("append");
    }
}
