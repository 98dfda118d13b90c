//! Test fixtures: a temporary VLLM_MUX_HOME and a way to run the binary in it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_vllm-mux");

/// A fresh VLLM_MUX_HOME, removed when dropped (also when a test fails).
pub struct Env {
    home: TempDir,
    fake_gpus: Option<PathBuf>,
}

/// What a run of the binary printed and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl Env {
    pub fn new() -> Self {
        Env {
            home: tempfile::tempdir().expect("temp dir"),
            fake_gpus: None,
        }
    }

    /// A fresh home whose machine has `n` fake GPUs.
    pub fn with_gpus(n: u32) -> Self {
        let mut env = Env::new();
        let gpus: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                serde_json::json!({"index": i, "name": "Fake H100", "memory_total_mib": 81559,
                                   "memory_used_mib": 1024 * i, "utilization_percent": 10 * i})
            })
            .collect();
        let path = env.home.path().join("fake-gpus.json");
        std::fs::write(&path, serde_json::to_string(&gpus).expect("json"))
            .expect("write fake gpus");
        env.fake_gpus = Some(path);
        env
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn config_file(&self, name: &str) -> PathBuf {
        self.home().join("configs").join(format!("{name}.json"))
    }

    /// The binary in this home, stdin from /dev/null (no terminal, no prompts).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.command_for_terminal(args);
        cmd.stdin(Stdio::null());
        cmd
    }

    /// The same, with stdio left for a pseudo-terminal to take.
    pub fn command_for_terminal(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env("VLLM_MUX_HOME", self.home())
            .env_remove("VLLM_MUX_CONFIG")
            .env_remove("VLLM_MUX_FAKE_GPUS");
        if let Some(path) = &self.fake_gpus {
            cmd.env("VLLM_MUX_FAKE_GPUS", path);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run vllm-mux"))
    }

    /// Run and require exit 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(
            run.code, 0,
            "vllm-mux {args:?} failed:\n{}{}",
            run.stdout, run.stderr
        );
        run.stdout
    }

    /// Run and require `code`; returns stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let run = self.run(args);
        assert_eq!(
            run.code, code,
            "vllm-mux {args:?}: wrong exit code\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
        assert!(
            run.stderr.starts_with("error:"),
            "stderr must start with 'error:':\n{}",
            run.stderr
        );
        run.stderr
    }

    /// Every file under the home (except the fake GPU list) with its bytes.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        let mut stack = vec![self.home().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if Some(&path) != self.fake_gpus.as_ref() {
                    files.insert(path.clone(), std::fs::read(&path).expect("read file"));
                }
            }
        }
        files
    }
}

/// A port nothing listens on right now (bound to 0, then released).
/// Never the same port twice in this test process: a released port can be
/// handed out again at once, and a proxy and its model would then collide.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        if GIVEN.lock().unwrap_or_else(|p| p.into_inner()).insert(port) {
            return port;
        }
    }
}

/// The ports automatic assignment gives next, `n` of them: from 8001 up,
/// skipping `taken` and ports something on this machine listens on (the
/// README's demo, another config, a real vLLM), as vllm-mux does. Tests
/// never assume 8001 is free.
pub fn auto_ports(n: usize, taken: &[u16]) -> Vec<u16> {
    (8001..=u16::MAX)
        .filter(|p| !taken.contains(p))
        .filter(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .take(n)
        .collect()
}

/// Poll `check` every 20 ms until it is true or `timeout` passes.
pub fn wait_for(timeout: std::time::Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    check()
}

/// A child process that is killed when dropped, so a failing test leaves
/// nothing running.
pub struct Child(pub std::process::Child);

impl Child {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Everything it wrote to its piped stdout (read to the end).
    pub fn stdout_text(&mut self) -> String {
        use std::io::Read;
        let mut text = String::new();
        self.0
            .stdout
            .take()
            .expect("stdout is piped")
            .read_to_string(&mut text)
            .expect("read stdout");
        text
    }

    /// Wait up to `timeout` for it to exit; its exit code, if it did.
    pub fn wait_timeout(&mut self, timeout: std::time::Duration) -> Option<i32> {
        let mut code = None;
        wait_for(timeout, || match self.0.try_wait() {
            Ok(Some(status)) => {
                code = Some(status.code().unwrap_or(-1));
                true
            }
            _ => false,
        });
        code
    }
}

/// The mock engine run by hand on `port`, serving `name`: a server
/// "elsewhere" for the url engine. Killed when dropped.
pub fn remote_mock(port: u16, name: &str, extra: &[&str]) -> Child {
    let child = Command::new(BIN)
        .args(["mock-engine", "--port", &port.to_string()])
        .args(["--served-model-name", name])
        .args(extra)
        // A key in the test's environment would make it want one.
        .env_remove("VLLM_API_KEY")
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn the remote mock");
    Child(child)
}

impl Env {
    /// Add a url model for the server on 127.0.0.1:`port`.
    pub fn add_remote(&self, config: &str, name: &str, port: u16, extra: &[&str]) {
        let url = format!("http://127.0.0.1:{port}");
        let mut args = vec!["--config", config, "add-model", name, "--engine", "url"];
        args.extend_from_slice(&["--url", &url]);
        args.extend_from_slice(extra);
        self.ok(&args);
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// True while `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the field after the ")" that closes the command name.
        Ok(stat) => {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                != Some("Z")
        }
        Err(_) => false,
    }
}

/// Direct children of `pid` (Linux).
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

impl Env {
    /// Set a top-level key of a config file (for settings without a flag).
    pub fn set_config_key(&self, config: &str, key: &str, value: serde_json::Value) {
        let path = self.config_file(config);
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read config"))
                .expect("parse config");
        json[key] = value;
        std::fs::write(&path, serde_json::to_string_pretty(&json).expect("json"))
            .expect("write config");
    }

    pub fn supervisor_pid(&self, config: &str) -> Option<u32> {
        std::fs::read_to_string(self.home().join("run").join(config).join("supervisor.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

/// A started config: stopped when dropped (SIGKILL to the supervisor if a
/// polite stop does not work), so a failing test leaves nothing running.
pub struct Started<'a> {
    pub env: &'a Env,
    pub config: String,
    pub proxy_port: u16,
}

impl<'a> Started<'a> {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.proxy_port)
    }

    pub fn status(&self) -> serde_json::Value {
        self.env
            .run(&["--config", &self.config, "--json", "status"])
            .json()
    }

    pub fn model<'s>(status: &'s serde_json::Value, name: &str) -> &'s serde_json::Value {
        status["models"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["name"] == name))
            .unwrap_or(&serde_json::Value::Null)
    }

    /// Wait until `model` is in `state`; panics with the last status if not.
    /// The status, or `Null` while the supervisor is not (yet) answering.
    pub fn try_status(&self) -> serde_json::Value {
        let run = self
            .env
            .run(&["--config", &self.config, "--json", "status"]);
        if run.code == 0 {
            run.json()
        } else {
            serde_json::Value::Null
        }
    }

    pub fn wait_state(
        &self,
        model: &str,
        state: &str,
        timeout: std::time::Duration,
    ) -> serde_json::Value {
        let mut last = serde_json::Value::Null;
        let reached = wait_for(timeout, || {
            last = self.try_status();
            Self::model(&last, model)["state"] == state
        });
        assert!(reached, "model {model} never became {state}:\n{last:#}");
        last
    }
}

impl Drop for Started<'_> {
    fn drop(&mut self) {
        let _ = self
            .env
            .command(&["--config", &self.config, "stop", "--timeout", "2"])
            .output();
        if let Some(pid) = self.env.supervisor_pid(&self.config) {
            if alive(pid) {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
    }
}

impl Env {
    /// `init` a config with a free proxy port and fast health checks.
    pub fn init_fast(&self, config: &str) -> u16 {
        self.init_fast_with(config, &[])
    }

    /// [`Env::init_fast`] with more `init` flags.
    pub fn init_fast_with(&self, config: &str, extra: &[&str]) -> u16 {
        let port = free_port();
        let port_arg = port.to_string();
        let mut args = vec![
            "--config",
            config,
            "init",
            "--host",
            "127.0.0.1",
            "--port",
            &port_arg,
        ];
        args.extend_from_slice(extra);
        self.ok(&args);
        self.set_config_key(config, "health_interval_ms", serde_json::json!(100));
        port
    }

    /// Add a mock model on a free port.
    pub fn add_mock(&self, config: &str, name: &str, extra: &[&str]) {
        let port = free_port().to_string();
        let mut args = vec![
            "--config",
            config,
            "add-model",
            name,
            "--engine",
            "mock",
            "--port",
            &port,
        ];
        args.extend_from_slice(extra);
        self.ok(&args);
    }

    /// A handle on `config`, stopped when dropped, for a test that starts
    /// it some other way than [`Env::start`].
    pub fn started(&self, config: &str, proxy_port: u16) -> Started<'_> {
        Started {
            env: self,
            config: config.to_string(),
            proxy_port,
        }
    }

    /// `start` and require exit 0.
    pub fn start(&self, config: &str, proxy_port: u16) -> Started<'_> {
        self.start_with_env(config, proxy_port, &[])
    }

    /// `start` with more environment (a key the config names), and
    /// require exit 0.
    pub fn start_with_env(
        &self,
        config: &str,
        proxy_port: u16,
        vars: &[(&str, &str)],
    ) -> Started<'_> {
        let started = self.started(config, proxy_port);
        let mut command = self.command(&["--config", config, "start"]);
        command.envs(vars.iter().copied());
        let run = Run::from(command.output().expect("start"));
        assert_eq!(run.code, 0, "start failed:\n{}{}", run.stdout, run.stderr);
        started
    }

    /// A shell script `name` in the home, executable: a stand-in program.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.home().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}")).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }
}

impl Env {
    /// Replace the fake GPU inventory (after `with_gpus`).
    pub fn write_fake_gpus(&self, gpus: serde_json::Value) {
        let path = self.fake_gpus.as_ref().expect("made with Env::with_gpus");
        std::fs::write(path, gpus.to_string()).expect("write fake gpus");
    }
}

/// A blocking HTTP client with a 15 s timeout, so no test waits forever.
pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .expect("client")
}

/// Send `signal` ("-9", "-TERM") to `pid`; the kill must succeed.
pub fn kill(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} {pid} failed");
}

impl Started<'_> {
    /// POST `body` to the proxy's `/v1/chat/completions`.
    pub fn chat_body(&self, body: &str) -> reqwest::blocking::Response {
        http()
            .post(self.url("/v1/chat/completions"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .expect("request")
    }

    /// The proxy's `/metrics` text.
    pub fn metrics(&self) -> String {
        http()
            .get(self.url("/metrics"))
            .send()
            .and_then(|r| r.text())
            .expect("metrics")
    }

    /// A small chat request for `model`.
    pub fn chat(&self, model: &str) -> reqwest::blocking::Response {
        self.chat_body(&format!(
            r#"{{"model": "{model}", "messages": [{{"role": "user", "content": "hi"}}], "max_tokens": 2}}"#
        ))
    }

    /// The engine's pid: the one child of the model's guard.
    pub fn engine_pid(&self, model: &str) -> u32 {
        let guard = Self::model(&self.status(), model)["pid"]
            .as_u64()
            .expect("the model has a pid") as u32;
        *children(guard).first().expect("the guard has its engine")
    }
}

/// Resident memory of `pid` in KiB (0 if it is gone).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Send raw bytes to 127.0.0.1:`port`, read until the peer closes or 5 s pass.
pub fn raw(port: u16, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    stream.write_all(request).expect("write");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// The `id`s of a `/v1/models` answer, in order.
pub fn model_ids(models: &serde_json::Value) -> Vec<&str> {
    models["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect()
}

/// `start` of config "c" (with `extra` flags), `vllm` as vLLM's executable.
pub fn start_with_vllm(
    env: &Env,
    vllm: impl AsRef<std::ffi::OsStr>,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec!["--config", "c", "start"];
    args.extend_from_slice(extra);
    env.command(&args)
        .env("VLLM_MUX_VLLM", vllm)
        .output()
        .expect("start")
}

/// A stand-in for `vllm` that records how it was called, then serves the
/// mock engine on the port and name it was given.
pub fn fake_vllm(env: &Env) -> (std::path::PathBuf, std::path::PathBuf) {
    let record = env.home().join("vllm-call.txt");
    let script = env.script(
        "fake-vllm",
        &format!(
            "echo \"$@\" > '{record}'\necho \"CUDA_VISIBLE_DEVICES=${{CUDA_VISIBLE_DEVICES-(unset)}}\" >> '{record}'\n{}",
            serve_as_vllm(),
            record = record.display(),
        ),
    );
    (script, record)
}

/// The line a stand-in `vllm` ends with: the mock engine on the port and
/// name `vllm serve MODEL --served-model-name NAME --host H --port P` gives.
pub fn serve_as_vllm() -> String {
    format!("exec '{BIN}' mock-engine --port \"$8\" --served-model-name \"$4\"\n")
}
