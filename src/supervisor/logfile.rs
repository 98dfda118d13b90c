//! A log file with a size cap: `MODEL.log` rolls to `MODEL.log.1` (then
//! `.2`, …) when it would pass the cap, keeping a fixed number of old
//! files. It also keeps the last lines in memory for `status`'s `log_tail`.
//!
//! The supervisor pipes each child's output through this, line by line.
//! It does not hand the child the file itself, because a child that holds
//! the file descriptor would keep writing to the rotated-away file.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Defaults: 10 MiB a file, 3 old files, 20 lines of tail.
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;
pub const DEFAULT_KEEP: usize = 3;
pub const TAIL_LINES: usize = 20;

pub struct LogFile {
    path: PathBuf,
    file: File,
    written: u64,
    max_bytes: u64,
    keep: usize,
    tail: VecDeque<String>,
}

impl LogFile {
    /// Open (append) `path`, creating its folder.
    pub fn open(path: &Path, max_bytes: u64, keep: usize) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let written = file.metadata()?.len();
        Ok(LogFile {
            path: path.to_path_buf(),
            file,
            written,
            max_bytes,
            keep,
            tail: VecDeque::new(),
        })
    }

    /// Append one line (a newline is added), rotating first if it would
    /// pass the cap.
    pub fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        let len = line.len() as u64 + 1;
        if self.written > 0 && self.written + len > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(line.as_bytes())?;
        self.file.write_all(b"\n")?;
        self.written += len;
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line.to_string());
        Ok(())
    }

    /// The last lines written, oldest first.
    pub fn tail(&self) -> Vec<String> {
        self.tail.iter().cloned().collect()
    }

    /// `log.{keep-1}` → `log.{keep}`, …, `log` → `log.1`, then a new `log`.
    fn rotate(&mut self) -> std::io::Result<()> {
        if self.keep == 0 {
            self.file.set_len(0)?;
            self.written = 0;
            return Ok(());
        }
        for n in (1..self.keep).rev() {
            let from = rotated(&self.path, n);
            if from.exists() {
                std::fs::rename(&from, rotated(&self.path, n + 1))?;
            }
        }
        std::fs::rename(&self.path, rotated(&self.path, 1))?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.written = 0;
        Ok(())
    }
}

/// Longest line kept whole; a longer one is cut into pieces this long.
pub const MAX_LINE: usize = 16 * 1024;

/// Cuts a child's output into log lines: at `\n`, `\r\n`, or a lone `\r`
/// (progress bars redraw with it, so each redraw becomes a line instead of
/// all of them piling up in one), and every [`MAX_LINE`] bytes. Bytes that
/// are not UTF-8 are replaced, never a reason to stop reading.
#[derive(Default)]
pub struct Lines {
    pending: Vec<u8>,
    /// The last byte was `\r`: a `\n` right after it ends nothing new.
    after_cr: bool,
}

impl Lines {
    /// Take in `bytes`; returns the lines they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &byte in bytes {
            let after_cr = std::mem::take(&mut self.after_cr);
            match byte {
                b'\n' if after_cr => {}
                b'\n' => lines.push(self.take()),
                b'\r' => {
                    // A redraw that starts with `\r` leaves no empty line.
                    if !self.pending.is_empty() {
                        lines.push(self.take());
                    }
                    self.after_cr = true;
                }
                _ => {
                    self.pending.push(byte);
                    if self.pending.len() >= MAX_LINE {
                        lines.push(self.take());
                    }
                }
            }
        }
        lines
    }

    /// The unfinished last line, at the end of the output.
    pub fn finish(&mut self) -> Option<String> {
        (!self.pending.is_empty()).then(|| self.take())
    }

    fn take(&mut self) -> String {
        let line = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        line
    }
}

/// `proxy.log` → `proxy.log.N`.
pub fn rotated(path: &Path, n: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// The leading RFC 3339 timestamp of a line (`2026-11-25T21:30:00.123Z`),
/// or "" (sorts first).
pub fn stamp_of(line: &str) -> &str {
    line.split_once(' ').map_or(
        "",
        |(first, _)| if first.ends_with('Z') { first } else { "" },
    )
}

/// A log line the server wrote, without its timestamp; `None` for
/// vllm-mux's own lines and blank ones.
fn engine_line(line: &str) -> Option<String> {
    let text = line[stamp_of(line).len()..].trim();
    (!text.is_empty() && !text.starts_with("vllm-mux:")).then(|| text.to_string())
}

/// The supervisor's line for a change to `starting`: a start begins after it.
fn is_start_line(line: &str) -> bool {
    line.contains("vllm-mux: ") && line.contains("→ starting")
}

/// The lines after the supervisor's last `→ starting` line, if it is there.
pub fn since_last_start(lines: &[String]) -> Option<&[String]> {
    let start = lines.iter().rposition(|l| is_start_line(l))?;
    Some(&lines[start + 1..])
}

/// The newest of `lines` that the server wrote, without its timestamp.
pub fn newest_engine_line(lines: &[String]) -> Option<String> {
    lines.iter().rev().find_map(|l| engine_line(l))
}

/// The newest line the server wrote in its current start, of a log's last
/// lines `tail`, cut to `width` characters: after the supervisor's last
/// `→ starting` line, or anywhere in `tail` when that line has scrolled
/// out of it (then every line there is this start's).
pub fn newest_in_tail(tail: &[String], width: usize) -> Option<String> {
    newest_engine_line(since_last_start(tail).unwrap_or(tail)).map(|line| cut(&line, width))
}

/// `line` cut to `width` characters, with an ellipsis when cut.
pub fn cut(line: &str, width: usize) -> String {
    match line.char_indices().nth(width) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line.to_string(),
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
    fn long_lines_are_cut_on_a_character() {
        assert_eq!(cut("short", 10), "short");
        let long = "é".repeat(15);
        let shown = cut(&long, 10);
        assert_eq!(shown.chars().count(), 11);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn output_is_cut_at_newlines_and_carriage_returns() {
        let mut lines = Lines::default();
        assert_eq!(lines.feed(b"one\ntwo\r\nthr"), ["one", "two"]);
        assert_eq!(lines.feed(b"ee\r"), ["three"]);
        assert!(lines.feed(b"\n").is_empty(), "\\r\\n split across reads");
        assert_eq!(
            lines.feed(b"\rLoading 10%\rLoading 60%\rLoading 100%\n\nafter"),
            ["Loading 10%", "Loading 60%", "Loading 100%", ""]
        );
        assert_eq!(lines.finish().as_deref(), Some("after"));
        assert_eq!(lines.finish(), None);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_replaced_and_long_lines_cut() {
        let mut lines = Lines::default();
        assert_eq!(lines.feed(b"bad \xff byte\n"), ["bad \u{fffd} byte"]);
        let long = vec![b'x'; MAX_LINE * 2 + 5];
        let cut = lines.feed(&long);
        assert_eq!(cut.len(), 2);
        assert!(cut.iter().all(|l| l.len() == MAX_LINE));
        assert_eq!(lines.finish().map(|l| l.len()), Some(5));
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_default()
    }

    #[test]
    fn lines_are_appended_to_an_existing_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("logs").join("m.log");
        LogFile::open(&path, 1000, 2)
            .and_then(|mut l| l.write_line("one"))
            .expect("write");
        LogFile::open(&path, 1000, 2)
            .and_then(|mut l| l.write_line("two"))
            .expect("write");
        assert_eq!(read(&path), "one\ntwo\n");
    }

    #[test]
    fn rotates_at_the_cap_and_keeps_that_many_old_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.log");
        let mut log = LogFile::open(&path, 10, 2).expect("open");
        for line in ["aaaa", "bbbb", "cccc", "dddd", "eeee"] {
            log.write_line(line).expect("write");
        }
        // 5 bytes a line, 10 bytes a file: two lines each, the oldest dropped.
        assert_eq!(read(&path), "eeee\n");
        assert_eq!(read(&rotated(&path, 1)), "cccc\ndddd\n");
        assert_eq!(read(&rotated(&path, 2)), "aaaa\nbbbb\n");
        assert!(!rotated(&path, 3).exists());
        log.write_line("ffff").expect("write");
        log.write_line("gggg").expect("write");
        assert_eq!(
            read(&rotated(&path, 2)),
            "cccc\ndddd\n",
            "aaaa/bbbb fell off the end"
        );
    }

    #[test]
    fn a_line_longer_than_the_cap_is_still_written_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.log");
        let mut log = LogFile::open(&path, 4, 1).expect("open");
        log.write_line("a very long line").expect("write");
        assert_eq!(read(&path), "a very long line\n");
    }

    #[test]
    fn tail_keeps_the_last_twenty_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = LogFile::open(&dir.path().join("m.log"), DEFAULT_MAX_BYTES, DEFAULT_KEEP)
            .expect("open");
        for i in 0..25 {
            log.write_line(&format!("line {i}")).expect("write");
        }
        let tail = log.tail();
        assert_eq!(tail.len(), TAIL_LINES);
        assert_eq!(tail.first().map(String::as_str), Some("line 5"));
        assert_eq!(tail.last().map(String::as_str), Some("line 24"));
    }
}
