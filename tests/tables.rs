//! Issue 21: every table reads well on a terminal 80 columns wide. Each
//! command runs in a pseudo-terminal of 80 columns, for a config with long
//! names, a long command template, aliases, GPUs and a failed model, and no
//! line it prints may be wider.

use std::time::Duration;

use expectrl::session::OsSession as Session;
use expectrl::Expect;

use crate::helper::{free_port, Env};

/// What `args` prints on a terminal 80 columns wide.
fn at_80_columns(env: &Env, args: &[&str]) -> String {
    let line = format!(
        "stty cols 80 rows 50; exec '{}' {}",
        crate::helper::BIN,
        args.iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut cmd = env.command_for_terminal(&[]);
    let mut sh = std::process::Command::new("sh");
    sh.args(["-c", &line]).envs(
        cmd.get_envs()
            .filter_map(|(k, v)| v.map(|v| (k.to_os_string(), v.to_os_string()))),
    );
    for (key, value) in cmd.get_envs() {
        if value.is_none() {
            sh.env_remove(key);
        }
    }
    cmd = sh;
    cmd.env("TERM", "xterm");
    let mut session = Session::spawn(cmd).expect("spawn in a pseudo-terminal");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    let out = session.expect(expectrl::Eof).expect("its output");
    String::from_utf8_lossy(out.as_bytes()).replace('\r', "")
}

fn assert_fits(what: &str, out: &str) {
    let wide: Vec<&str> = out.lines().filter(|l| l.chars().count() > 80).collect();
    assert!(
        wide.is_empty(),
        "{what}: lines over 80 columns: {wide:#?}\n{out}"
    );
}

#[test]
fn every_table_fits_80_columns() {
    let env = Env::with_gpus(2);
    let port = env.init_fast("c");
    env.add_mock(
        "c",
        "chat",
        &[
            "--alias",
            "gpt-4o-mini",
            "--alias",
            "gpt-4.1-mini",
            "--lora",
            "sql-expert=/srv/models/adapters/sql-expert-lora-rank-16-v2",
        ],
    );
    env.add_mock(
        "c",
        "embedding-model",
        &[
            "--alias",
            "text-embedding-3-small",
            "--gpus",
            "1",
            "--set",
            "startup_delay_ms=10",
        ],
    );
    let broken_port = free_port().to_string();
    env.ok(&[
        "--config", "c", "add-model", "broken", "--engine", "command", "--model", "/models/some/long/path/weights.gguf",
        "--port", &broken_port, "--command",
        "sh -c 'echo Traceback: the loader could not find /models/some/long/path/weights.gguf on port {port}; exit 1'",
    ]);
    let started = env.started("c", port);
    let run = env.run(&["--config", "c", "start"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let status = at_80_columns(&env, &["--config", "c", "status"]);
    assert!(
        status.contains("last errors:") && status.contains("broken"),
        "{status}"
    );
    assert!(status.contains("GPU  NAME"), "{status}");
    for (what, out) in [
        ("status", status),
        ("show", at_80_columns(&env, &["--config", "c", "show"])),
        ("profiles", at_80_columns(&env, &["profiles"])),
        ("gpus", at_80_columns(&env, &["gpus"])),
        ("list", at_80_columns(&env, &["list"])),
        (
            "lora list",
            at_80_columns(&env, &["--config", "c", "lora", "list"]),
        ),
    ] {
        assert!(out.lines().count() > 1, "{what}: {out}");
        assert_fits(what, &out);
    }
    drop(started);
}
