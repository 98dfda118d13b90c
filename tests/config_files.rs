//! Config files: corrupt ones are never overwritten, export and import
//! round-trip byte for byte, vllm-cli configs and old files keep loading.

use std::path::{Path, PathBuf};

use crate::helper::Env;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(name)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn corrupt_config_is_reported_with_line_and_column_and_never_overwritten() {
    let env = Env::new();
    env.ok(&["init"]);
    let file = env.config_file("default");
    let broken = "{\n  \"port\": 8000,\n  \"models\": [,]\n}\n";
    std::fs::write(&file, broken).expect("write");
    for args in [
        &["show"][..],
        &["add-model", "a", "--engine", "mock"],
        &["edit-model", "a", "--port", "9000"],
        &["remove-model", "a"],
        &["export"],
    ] {
        let stderr = env.fails(args, 2);
        assert!(stderr.contains(path_str(&file)), "{args:?}: {stderr}");
        assert!(stderr.contains("line 3, column 14"), "{args:?}: {stderr}");
        assert!(stderr.contains("hint:"), "{args:?}: {stderr}");
        assert_eq!(
            std::fs::read_to_string(&file).expect("read"),
            broken,
            "{args:?} touched the file"
        );
    }
    // init and import refuse to replace it without --force, too.
    env.fails(&["init"], 2);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), broken);
    // list still works and says which config is broken.
    let json = env.run(&["--json", "list"]).json();
    assert!(
        json[0]["error"].as_str().unwrap_or("").contains("line 3"),
        "{json}"
    );
}

#[test]
fn a_config_that_is_not_utf8_is_a_usage_error() {
    let env = Env::new();
    env.ok(&["init"]);
    std::fs::write(env.config_file("default"), [0xff, 0xfe, 0x00]).expect("write");
    let stderr = env.fails(&["show"], 2);
    assert!(stderr.contains("not UTF-8"), "{stderr}");
}

#[test]
fn export_then_import_round_trips_byte_for_byte() {
    let env = Env::with_gpus(2);
    env.ok(&["init", "--port", "8100", "--log-requests"]);
    env.ok(&[
        "add-model",
        "a",
        "--model",
        "org/a",
        "--gpus",
        "0",
        "--alias",
        "x",
        "--lora",
        "sql=/m/sql",
        "--set",
        "max_model_len=8192",
        "--gpu-memory-utilization",
        "0.45",
        "--priority",
        "2",
    ]);
    env.ok(&[
        "add-model",
        "b",
        "--engine",
        "url",
        "--url",
        "http://10.0.0.5:8000",
    ]);
    env.ok(&[
        "add-model",
        "c",
        "--engine",
        "command",
        "--command",
        "srv --port {port}",
        "--health-path",
        "/ping",
        "--disabled",
    ]);
    let exported = env.ok(&["export"]);
    let missing = env.home().join("no-such-folder").join("x.json");
    let err = env.fails(&["export", "-o", path_str(&missing)], 1);
    assert!(
        err.contains(path_str(&missing)) && !err.contains(".vllm-mux-"),
        "names the file asked for, not a temporary one: {err}"
    );
    let file = env.home().join("exported.json");
    env.ok(&["export", "-o", path_str(&file)]);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), exported);
    env.ok(&["import", path_str(&file), "--name", "copy"]);
    let again = env.ok(&["--config", "copy", "export"]);
    assert_eq!(
        again, exported,
        "export → import → export must give the same bytes"
    );
    assert_eq!(
        std::fs::read_to_string(env.config_file("copy")).expect("read"),
        exported
    );
}

#[test]
fn import_names_the_config_after_the_file_or_flags() {
    let env = Env::new();
    env.ok(&["init"]);
    let file = env.home().join("team-a.json");
    env.ok(&["export", "-o", path_str(&file)]);
    env.ok(&["import", path_str(&file)]);
    assert!(env.config_file("team-a").exists());
    env.ok(&["--config", "team-b", "import", path_str(&file)]);
    assert!(env.config_file("team-b").exists());
    let stderr = env.fails(&["import", path_str(&file)], 2);
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    env.ok(&["import", path_str(&file), "--force"]);
    assert!(env.home().join("configs").join("team-a.json.bak").exists());
}

#[test]
fn import_reads_standard_input() {
    let env = Env::new();
    let mut child = env
        .command(&["import", "-", "--name", "piped"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(br#"{"port": 8200, "models": [{"name": "m", "engine": "mock"}]}"#)
            .expect("write");
    }
    assert!(child.wait().expect("wait").success());
    let json = env.run(&["--config", "piped", "--json", "show"]).json();
    assert_eq!(json["config"]["port"], 8200);
    assert_eq!(
        json["config"]["models"][0]["port"],
        crate::helper::auto_ports(1, &[8200])[0],
        "a missing port is assigned"
    );
}

#[test]
fn import_of_a_vllm_cli_proxy_config() {
    let env = Env::with_gpus(4);
    let json = env
        .run(&[
            "--json",
            "import",
            path_str(&data("vllm-cli-proxy.json")),
            "--name",
            "from-cli",
        ])
        .json();
    assert_eq!(json["format"], "vllm-cli proxy config");
    assert_eq!(
        json["models"],
        serde_json::json!(["llama-3-8b", "mistral-7b", "gemma-2b"])
    );
    let shown = env.run(&["--config", "from-cli", "--json", "show"]).json();
    let c = &shown["config"];
    assert_eq!(c["version"], 1);
    assert_eq!(c["port"], 8000);
    assert_eq!(c["models"][1]["gpu_ids"], serde_json::json!([1]));
    assert_eq!(c["models"][1]["config_overrides"]["max_model_len"], 4096);
    assert_eq!(c["models"][2]["enabled"], false);
    assert_eq!(c["models"][0]["engine"], "vllm");
}

#[test]
fn import_of_the_yaml_vllm_cli_saves() {
    let env = Env::new();
    let file = env.home().join("proxy.yaml");
    std::fs::write(
        &file,
        "proxy:\n  port: 8100\nmodels:\n  - name: chat\n    model_path: Qwen/Qwen2.5-0.5B\n    port: 8101\n",
    )
    .expect("write");
    let json = env.run(&["--json", "import", path_str(&file)]).json();
    assert_eq!(json["format"], "vllm-cli proxy config");
    assert_eq!(json["models"], serde_json::json!(["chat"]));
    std::fs::write(&file, "proxy: [\n").expect("write");
    let stderr = env.fails(&["import", path_str(&file), "--name", "bad"], 2);
    assert!(stderr.contains("as YAML: line"), "{stderr}");
}

#[test]
fn import_of_a_missing_file() {
    let env = Env::new();
    let stderr = env.fails(&["import", "/nonexistent/x.json"], 2);
    assert!(stderr.contains("/nonexistent/x.json"), "{stderr}");
}

#[test]
fn a_config_from_version_0_1_0_keeps_loading() {
    let env = Env::new();
    std::fs::create_dir_all(env.home().join("configs")).expect("mkdir");
    std::fs::copy(data("config-v1-0.1.0.json"), env.config_file("old")).expect("copy");
    let json = env.run(&["--config", "old", "--json", "show"]).json();
    let models = &json["config"]["models"];
    assert_eq!(models[0]["lora_adapters"][0]["name"], "sql");
    assert_eq!(models[1]["engine"], "command");
    assert_eq!(models[2]["url"], "http://gpu-box-2:8000");
    assert_eq!(models[2]["enabled"], true);
    // And it is still valid: an edit goes through.
    env.ok(&["--config", "old", "edit-model", "remote", "--alias", "far"]);
}

/// A full disk, then a read-only one, under VLLM_MUX_HOME: each write fails
/// with a message that says so, the config stays byte for byte, no temp
/// file is left, and reading still works. Runs in a private mount
/// namespace on a tiny tmpfs, which needs root (CI runs as root).
#[test]
fn a_full_or_read_only_home_gives_a_clear_error_and_keeps_the_config() {
    let script = r#"
set -u
home=$(mktemp -d)
mount -t tmpfs -o size=256k tmpfs "$home" || { echo "no-mount"; exit 0; }
export VLLM_MUX_HOME="$home"
"$BIN" init -q && "$BIN" add-model a --engine mock -q || exit 91
cp "$home/configs/default.json" "$home.before"
dd if=/dev/zero of="$home/fill" bs=4k 2>/dev/null
"$BIN" add-model b --engine mock; echo "full-exit=$?"
cmp -s "$home/configs/default.json" "$home.before" && echo "full-intact"
echo "full-files=$(ls -A "$home/configs" | wc -l)"
rm "$home/fill"
mount -o remount,ro "$home"
"$BIN" add-model c --engine mock; echo "ro-exit=$?"
cmp -s "$home/configs/default.json" "$home.before" && echo "ro-intact"
"$BIN" show >/dev/null && echo "ro-show-ok"
umount "$home"
"#;
    let out = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", script])
        .env("BIN", crate::helper::BIN)
        .env_remove("VLLM_MUX_HOME")
        .output()
        .expect("run unshare");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let unprivileged = stdout.contains("no-mount") || stderr.contains("Operation not permitted");
    if unprivileged && !rustix::process::geteuid().is_root() {
        println!("skipped: a mount namespace needs root (CI runs as root)");
        return;
    }
    assert!(out.status.success(), "{stdout}{stderr}");
    for marker in [
        "full-exit=1",
        "full-intact",
        "full-files=1",
        "ro-exit=1",
        "ro-intact",
        "ro-show-ok",
    ] {
        assert!(
            stdout.contains(marker),
            "missing {marker}:\n{stdout}\n{stderr}"
        );
    }
    assert!(
        stderr.contains("No space left on device") && stderr.contains("hint: the disk is full"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Read-only file system")
            && stderr.contains("hint: the folder is not writable"),
        "{stderr}"
    );
}
