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
