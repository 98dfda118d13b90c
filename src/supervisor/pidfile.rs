//! `supervisor.pid` is flocked for as long as the supervisor lives, so "is it
//! running?" is answered by the lock, not by a pid that may have been reused.

use std::fs::File;
use std::path::Path;

pub const PIDFILE: &str = "supervisor.pid";

/// The pid of the running supervisor for this run folder, if one holds the lock.
pub fn running_pid(run_dir: &Path) -> Option<u32> {
    let path = run_dir.join(PIDFILE);
    let file = File::open(&path).ok()?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockShared) {
        // We got the lock: nobody holds it, the file is stale.
        Ok(()) => None,
        Err(_) => std::fs::read_to_string(&path).ok()?.trim().parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlocked_pidfile_is_stale() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(PIDFILE), "12345\n").expect("write");
        assert_eq!(running_pid(dir.path()), None);
    }

    #[test]
    fn locked_pidfile_names_the_running_pid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(PIDFILE);
        std::fs::write(&path, "4242\n").expect("write");
        let holder = File::open(&path).expect("open");
        rustix::fs::flock(&holder, rustix::fs::FlockOperation::LockExclusive).expect("lock");
        assert_eq!(running_pid(dir.path()), Some(4242));
    }

    #[test]
    fn no_pidfile_means_not_running() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(running_pid(dir.path()), None);
    }
}

/// The supervisor's hold on `supervisor.pid`: flocked while it lives,
/// removed when dropped.
pub struct PidFile {
    path: std::path::PathBuf,
    _file: File,
}

impl PidFile {
    /// Lock and write the pidfile, or say which pid holds it. A file left by
    /// a dead supervisor is not locked, so it is simply taken over.
    pub fn acquire(run_dir: &Path, config: &str) -> anyhow::Result<Self> {
        use std::io::Write;
        let path = run_dir.join(PIDFILE);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|err| {
                crate::error::Failure::runtime(format!("cannot open {}: {err}", path.display()))
            })?;
        if rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
            let pid = std::fs::read_to_string(&path).unwrap_or_default();
            return Err(crate::error::Failure::runtime(format!(
                "config '{config}' is already running (pid {})",
                pid.trim()
            ))
            .hint(format!("see it with 'vllm-mux --config {config} status', or stop it with 'vllm-mux --config {config} stop'"))
            .into());
        }
        file.set_len(0)?;
        writeln!(file, "{}", std::process::id())?;
        file.sync_all()?;
        Ok(PidFile { path, _file: file })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod acquire_tests {
    use super::*;

    #[test]
    fn second_acquire_names_the_running_pid_and_stale_files_are_taken_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(PIDFILE), "999999\n").expect("stale file");
        let held = PidFile::acquire(dir.path(), "c").expect("a stale pidfile is taken over");
        assert_eq!(running_pid(dir.path()), Some(std::process::id()));
        let err = PidFile::acquire(dir.path(), "c")
            .err()
            .expect("second acquire fails");
        assert!(
            err.to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(held);
        assert!(!dir.path().join(PIDFILE).exists());
    }
}
