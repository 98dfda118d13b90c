//! `completions SHELL` works for every shell, and the committed scripts in
//! `completions/` match what the binary prints.

use std::path::Path;

use crate::helper::Env;

#[test]
fn every_shell_gets_a_script() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = env.ok(&["completions", shell]);
        assert!(
            script.contains("add-model") && script.contains("vllm-mux"),
            "{shell}"
        );
    }
}

#[test]
fn completions_need_no_config_or_home() {
    let env = Env::new();
    let out = env
        .command(&["completions", "bash"])
        .env("VLLM_MUX_HOME", "/nonexistent/home")
        .output()
        .expect("run");
    assert!(out.status.success());
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let env = Env::new();
    let run = env.run(&["completions", "tcsh"]);
    assert_eq!(run.code, 2);
}

#[test]
fn committed_completion_files_are_current() {
    let env = Env::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in [
        ("bash", "vllm-mux.bash"),
        ("zsh", "_vllm-mux"),
        ("fish", "vllm-mux.fish"),
    ] {
        let fresh = env.ok(&["completions", shell]);
        let committed = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        assert!(
            committed == fresh,
            "completions/{file} is stale; regenerate it with: cargo run -q -- completions {shell} > completions/{file}"
        );
    }
}
