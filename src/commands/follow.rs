//! Reading a log file as it grows: shared by `logs -f` and by the waits
//! of `start`, `start-model` and `reload`, which show a starting model's
//! newest line.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// Reads a log file from its start, then what is appended to it, holding
/// the file open: when the path is rotated away (renamed) or recreated, it
/// drains the old file before it moves on to the new one, so no line is
/// lost. A file truncated in place is read again from its start.
pub struct Follower {
    pub label: String,
    path: PathBuf,
    file: Option<File>,
    /// Bytes after the last newline (a line still being written).
    partial: Vec<u8>,
}

impl Follower {
    pub fn new(label: String, path: PathBuf) -> Self {
        Follower {
            label,
            file: File::open(&path).ok(),
            path,
            partial: Vec::new(),
        }
    }

    /// The whole lines appended since the last poll.
    pub fn poll(&mut self) -> Vec<String> {
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
    pub fn take_partial(&mut self) -> Option<String> {
        (!self.partial.is_empty())
            .then(|| String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

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
