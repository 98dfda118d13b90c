//! Finding an engine's executable the way the guard's exec will: a name
//! with a slash is a path, a bare name is looked up on `PATH`. Used to
//! refuse a start whose engine cannot run, before anything is launched.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Where `program` is, given the `PATH` value `path`; `None` when no
/// executable file answers to it.
pub fn locate(program: &Path, path: Option<&OsStr>) -> Option<PathBuf> {
    if program.as_os_str().is_empty() {
        return None;
    }
    if program.components().count() > 1 || program.is_absolute() {
        return is_executable(program).then(|| program.to_path_buf());
    }
    std::env::split_paths(path?)
        // An empty PATH entry means the current directory, as for execvp.
        .map(|dir| {
            if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            }
        })
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }

    #[test]
    fn a_bare_name_is_the_first_executable_on_path() {
        let a = tempfile::tempdir().expect("dir");
        let b = tempfile::tempdir().expect("dir");
        file(a.path(), "vllm", 0o644);
        let wanted = file(b.path(), "vllm", 0o755);
        let path = std::env::join_paths([a.path(), b.path()]).expect("PATH");
        assert_eq!(locate(Path::new("vllm"), Some(&path)), Some(wanted));
        assert_eq!(locate(Path::new("nope"), Some(&path)), None);
        assert_eq!(locate(Path::new("vllm"), None), None);
    }

    #[test]
    fn a_path_is_taken_as_it_is() {
        let dir = tempfile::tempdir().expect("dir");
        let run = file(dir.path(), "run", 0o700);
        let text = file(dir.path(), "text", 0o600);
        let empty = OsStr::new("");
        assert_eq!(locate(&run, Some(empty)), Some(run.clone()));
        assert_eq!(locate(&text, Some(empty)), None);
        assert_eq!(locate(dir.path(), Some(empty)), None, "a directory");
        assert_eq!(locate(&dir.path().join("missing"), Some(empty)), None);
        assert_eq!(locate(Path::new(""), Some(empty)), None);
    }
}
