//! `export --format kubernetes` and `--format production-stack` (issue 22):
//! the manifests run what the local supervisor runs, flag for flag, and
//! the exported router, run here as its pod would run it, serves the same
//! names, keys and errors. With `VLLM_MUX_KUBERNETES_VALIDATE` naming the
//! `kubernetes-validate` program (tests/kubernetes/run.sh installs it), the
//! manifests are also checked against Kubernetes' own schemas.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::helper::{free_port, http, wait_for, Child, Env, BIN};

const QWEN_KEY: &str = "qwen-secret-4f1d";
const TEAM_KEY: &str = "team-secret-9a2c";

/// A config with what the issue names: aliases, LoRA, a replica, TP=2,
/// keys (the proxy's and a model's), and a mock model beside.
fn team(env: &Env) -> u16 {
    let port = env.init_fast("c");
    env.ok(&["--config", "c", "edit-proxy", "--api-key-env", "TEAM_KEYS"]);
    let (qwen, replica) = (free_port().to_string(), format!("2,3:{}", free_port()));
    env.ok(&[
        "--config",
        "c",
        "add-model",
        "qwen",
        "--model",
        "Qwen/Qwen2.5-7B-Instruct",
        "--gpus",
        "0,1",
        "--port",
        &qwen,
        "--replica",
        &replica,
        "--alias",
        "gpt-4o",
        "--lora",
        "sql=org/sql-lora",
        "--backend-api-key-env",
        "QWEN_KEY",
        "--env",
        "VLLM_ATTENTION_BACKEND=FLASHINFER",
        "--set",
        "max_model_len=4096",
        "--set",
        "enforce_eager=true",
    ]);
    env.add_mock(
        "c",
        "chat",
        &["--alias", "c", "--lora", "tone=/adapters/tone"],
    );
    port
}

fn export(env: &Env, args: &[&str]) -> (String, String) {
    let mut all = vec!["--config", "c", "export"];
    all.extend_from_slice(args);
    let run = env.run(&all);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    (run.stdout, run.stderr)
}

fn items(env: &Env) -> Vec<Value> {
    let (text, _) = export(env, &["--format", "kubernetes", "--json"]);
    let list: Value = serde_json::from_str(&text).expect("a JSON List");
    assert_eq!(
        (list["apiVersion"].as_str(), list["kind"].as_str()),
        (Some("v1"), Some("List"))
    );
    list["items"].as_array().expect("items").clone()
}

fn find<'a>(items: &'a [Value], kind: &str, name: &str) -> &'a Value {
    items
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn container(deployment: &Value) -> &Value {
    &deployment["spec"]["template"]["spec"]["containers"][0]
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A stand-in `vllm` that records its argv (NUL-separated) and
/// environment by port, then serves the mock engine as vLLM would.
fn recording_vllm(env: &Env) -> std::path::PathBuf {
    let dir = env.home().join("calls");
    std::fs::create_dir_all(&dir).expect("mkdir");
    env.script(
        "recording-vllm",
        &format!(
            "printf '%s\\0' \"$@\" > '{dir}/argv.'\"$8\"\nenv > '{dir}/env.'\"$8\"\nexec '{BIN}' mock-engine --port \"$8\" --served-model-name \"$4\"\n",
            dir = dir.display()
        ),
    )
}

fn recorded(env: &Env, port: u64) -> (Vec<String>, BTreeMap<String, String>) {
    let dir = env.home().join("calls");
    let argv = std::fs::read_to_string(dir.join(format!("argv.{port}"))).expect("argv");
    let vars = std::fs::read_to_string(dir.join(format!("env.{port}"))).expect("env");
    (
        argv.split('\0')
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect(),
        vars.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn port_of(status: &Value, id: &str) -> u64 {
    status["models"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == id))
        .and_then(|m| m["port"].as_u64())
        .unwrap_or_else(|| panic!("no port for {id}: {status}"))
}

/// `--flag v1 v2` → {"--flag": ["v1", "v2"]}, for comparing command lines
/// whose flags come in another order.
fn flags(argv: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = String::from("(positional)");
    for arg in argv {
        if arg.starts_with("--") {
            current = arg.clone();
            map.entry(current.clone()).or_default();
        } else {
            map.entry(current.clone()).or_default().push(arg.clone());
        }
    }
    map
}

#[test]
fn kubernetes_manifests_run_what_the_supervisor_runs_flag_for_flag() {
    let env = Env::with_gpus(4);
    let port = team(&env);
    let vllm = recording_vllm(&env);
    let _started = env.started("c", port);
    let run = env
        .command(&["--config", "c", "start"])
        .env("VLLM_MUX_VLLM", &vllm)
        .env("QWEN_KEY", QWEN_KEY)
        .env("TEAM_KEYS", TEAM_KEY)
        .output()
        .expect("start");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let status = env.run(&["--config", "c", "--json", "status"]).json();
    let items = items(&env);
    for (id, object) in [("qwen", "vllm-qwen"), ("qwen@1", "vllm-qwen-r1")] {
        let (mut argv, vars) = recorded(&env, port_of(&status, id));
        let deployment = find(&items, "Deployment", object);
        assert_eq!(deployment["metadata"]["annotations"]["vllm-mux/copy"], id);
        let c = container(deployment);
        assert_eq!(strings(&c["command"]), ["vllm"]);
        assert_eq!(c["image"], "vllm/vllm-openai:v0.32.0");
        // The same argv, but where it listens: the pod's address and port.
        let host = argv.iter().position(|a| a == "--host").expect("--host");
        argv[host + 1] = "0.0.0.0".into();
        argv[host + 3] = "8000".into();
        assert_eq!(strings(&c["args"]), argv, "{id}");
        // GPUs: as many as here, picked by the device plugin, not named.
        let here = vars["CUDA_VISIBLE_DEVICES"].split(',').count();
        assert_eq!(c["resources"]["limits"]["nvidia.com/gpu"], here.to_string());
        let pod_env: BTreeMap<&str, &Value> = c["env"]
            .as_array()
            .expect("env")
            .iter()
            .map(|v| (v["name"].as_str().unwrap_or_default(), v))
            .collect();
        assert!(!pod_env.contains_key("CUDA_VISIBLE_DEVICES"));
        for plain in ["VLLM_ALLOW_RUNTIME_LORA_UPDATING", "VLLM_ATTENTION_BACKEND"] {
            assert_eq!(
                pod_env[plain]["value"].as_str(),
                Some(vars[plain].as_str()),
                "{plain}"
            );
        }
        // The key by reference: the same key, never its value.
        assert_eq!(vars["VLLM_API_KEY"], QWEN_KEY);
        assert_eq!(
            pod_env["VLLM_API_KEY"]["valueFrom"]["secretKeyRef"],
            json!({"name": "vllm-mux-keys", "key": "QWEN_KEY", "optional": false})
        );
        // Probes on /health, the startup budget from startup_timeout_s (600 s).
        assert_eq!(c["startupProbe"]["httpGet"]["path"], "/health");
        assert_eq!(c["startupProbe"]["periodSeconds"], 10);
        assert_eq!(c["startupProbe"]["failureThreshold"], 60);
        assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/health");
        let volumes = &deployment["spec"]["template"]["spec"]["volumes"];
        assert_eq!(volumes[0]["emptyDir"]["medium"], "Memory", "shared memory");
        assert_eq!(volumes[1]["name"], "hf-cache");
    }
    let service = find(&items, "Service", "vllm-qwen");
    assert_eq!(service["spec"]["selector"]["vllm-mux/model"], "vllm-qwen");
    for object in ["vllm-qwen", "vllm-qwen-r1"] {
        let labels = &find(&items, "Deployment", object)["spec"]["template"]["metadata"]["labels"];
        assert_eq!(
            labels["vllm-mux/model"], "vllm-qwen",
            "both copies behind one Service"
        );
    }
    let (yaml, _) = export(&env, &["--format", "kubernetes"]);
    let all = serde_json::to_string(&items).expect("json");
    for text in [&yaml, &all] {
        assert!(
            !text.contains(QWEN_KEY) && !text.contains(TEAM_KEY),
            "no key by value"
        );
    }
    schema_check(&env, &yaml);

    // production-stack: the chart's command line is the same, flag for flag.
    let (values, notes) = export(&env, &["--format", "production-stack", "--json"]);
    let values: Value = serde_json::from_str(&values).expect("values");
    let specs = values["servingEngineSpec"]["modelSpec"]
        .as_array()
        .expect("modelSpec");
    assert_eq!(specs.len(), 1, "the mock model is left out: {values}");
    assert!(
        notes.contains("note: model 'chat' runs the mock engine"),
        "{notes}"
    );
    let spec = &specs[0];
    assert_eq!(
        (
            &spec["name"],
            &spec["modelURL"],
            &spec["replicaCount"],
            &spec["requestGPU"]
        ),
        (
            &json!("qwen"),
            &json!("Qwen/Qwen2.5-7B-Instruct"),
            &json!(2),
            &json!(2)
        )
    );
    assert_eq!(
        (&spec["repository"], &spec["tag"]),
        (&json!("vllm/vllm-openai"), &json!("v0.32.0"))
    );
    let vllm_config = &spec["vllmConfig"];
    // As the chart's template writes it.
    let mut chart: Vec<String> = [
        "serve",
        "Qwen/Qwen2.5-7B-Instruct",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
    ]
    .map(String::from)
    .to_vec();
    if spec["enableLoRA"] == true {
        chart.push("--enable-lora".into());
    }
    if vllm_config["enablePrefixCaching"] == true {
        chart.push("--enable-prefix-caching".into());
    }
    chart.push("--tensor-parallel-size".into());
    chart.push(vllm_config["tensorParallelSize"].to_string());
    chart.extend(strings(&vllm_config["extraArgs"]));
    let (local, _) = recorded(&env, port_of(&status, "qwen"));
    let mut expected = flags(&local);
    expected.insert("--host".into(), vec!["0.0.0.0".into()]);
    expected.insert("--port".into(), vec!["8000".into()]);
    // vLLM's default, which the chart would turn off unless said.
    expected.insert("--enable-prefix-caching".into(), vec![]);
    // Aliases become more names its server answers to.
    expected.insert(
        "--served-model-name".into(),
        vec!["qwen".into(), "gpt-4o".into()],
    );
    assert_eq!(flags(&chart), expected);
    // The chart's router sends servingEngineSpec.vllmApiKey to every
    // engine and knows no other key: a model's own VLLM_API_KEY would make
    // its server refuse the router (401 on every request).
    assert_eq!(
        values["servingEngineSpec"]["vllmApiKey"],
        json!({"secretName": "vllm-mux-keys", "secretKey": "QWEN_KEY"})
    );
    let env_names: Vec<&Value> = spec["env"]
        .as_array()
        .map(|e| e.iter().map(|v| &v["name"]).collect())
        .unwrap_or_default();
    assert!(
        !env_names.contains(&&json!("VLLM_API_KEY")),
        "the chart sets VLLM_API_KEY itself: {env_names:?}"
    );
    assert_eq!(
        values["servingEngineSpec"]["startupProbe"]["failureThreshold"],
        60
    );
}

/// Kubernetes' own schemas, strictly (no unknown field), for the API
/// version the objects are typed for and the newest one.
fn schema_check(env: &Env, yaml: &str) {
    let Some(validator) = std::env::var_os("VLLM_MUX_KUBERNETES_VALIDATE") else {
        eprintln!("VLLM_MUX_KUBERNETES_VALIDATE is not set: schemas not checked (tests/kubernetes/run.sh does)");
        return;
    };
    let file = env.home().join("manifests.yaml");
    std::fs::write(&file, yaml).expect("write");
    for version in ["1.33.0", "1.37.0"] {
        let out = Command::new(&validator)
            .args(["--strict", "-k", version])
            .arg(&file)
            .output()
            .expect("run kubernetes-validate");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{version}:\n{text}");
        let passed = text.matches(" passed for resource ").count();
        assert_eq!(passed, 8, "{text}");
        eprintln!(
            "schemas: {passed} objects passed kubernetes-validate --strict against {version}"
        );
    }
}

/// Run a pod's container here: its command with its arguments, `--port
/// 8000` moved to `port` (every pod here shares one address), its
/// environment with the Secret's keys filled in.
fn run_pod(c: &Value, port: u16, secret: &BTreeMap<&str, &str>, more: &[(&str, String)]) -> Child {
    let mut args = strings(&c["args"]);
    if let Some(at) = args.iter().position(|a| a == "--port") {
        args[at + 1] = port.to_string();
    }
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("VLLM_MUX_HOME")
        .env_remove("VLLM_API_KEY");
    for var in c["env"].as_array().into_iter().flatten() {
        let name = var["name"].as_str().expect("name");
        match var["value"].as_str() {
            Some(value) => command.env(name, value),
            None => {
                let key = var["valueFrom"]["secretKeyRef"]["key"]
                    .as_str()
                    .expect("key");
                command.env(name, secret[key])
            }
        };
    }
    command.envs(more.iter().map(|(k, v)| (*k, v)));
    Child(
        command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn"),
    )
}

#[test]
fn the_exported_router_serves_the_same_names_keys_and_errors() {
    let env = Env::with_gpus(4);
    team(&env);
    let items = items(&env);
    let secret = BTreeMap::from([("QWEN_KEY", QWEN_KEY), ("TEAM_KEYS", TEAM_KEY)]);
    let mut pods = Vec::new();
    let mut service_ports = BTreeMap::new();
    for deployment in items.iter().filter(|o| o["kind"] == "Deployment") {
        let labels = &deployment["spec"]["template"]["metadata"]["labels"];
        let Some(service) = labels["vllm-mux/model"].as_str() else {
            continue;
        };
        let c = container(deployment);
        let port = free_port();
        service_ports.entry(service.to_string()).or_insert(port);
        if strings(&c["command"]) == ["vllm-mux"] {
            pods.push(run_pod(c, port, &secret, &[]));
        } else {
            // vLLM's pod, stood in for by the mock with the names and the
            // key its command line and environment give.
            let args = strings(&c["args"]);
            let name = &args[args
                .iter()
                .position(|a| a == "--served-model-name")
                .expect("name")
                + 1];
            let loras = args.iter().skip_while(|a| *a != "--lora-modules").skip(1);
            let mut stand_in =
                json!({"args": ["mock-engine", "--port", "8000", "--served-model-name", name]});
            for lora in loras.take_while(|a| !a.starts_with("--")) {
                let (adapter, _) = lora.split_once('=').expect("name=path");
                stand_in["args"]
                    .as_array_mut()
                    .expect("args")
                    .extend([json!("--lora"), json!(adapter)]);
            }
            stand_in["env"] = c["env"].clone();
            pods.push(run_pod(&stand_in, port, &secret, &[]));
        }
    }
    // The router's config, as its ConfigMap mounts it (read-only), with
    // each Service's name resolving to its first pod here.
    let map = find(&items, "ConfigMap", "vllm-mux-config");
    let mut config: Value = serde_json::from_str(map["data"]["c.json"].as_str().expect("c.json"))
        .expect("router config");
    let router_port = free_port();
    config["port"] = json!(router_port);
    for model in config["models"].as_array_mut().expect("models") {
        let url = model["url"].as_str().expect("url").to_string();
        let service = url.trim_start_matches("http://").trim_end_matches(":8000");
        model["url"] = json!(format!("http://127.0.0.1:{}", service_ports[service]));
    }
    let root = env.home().join("router-pod");
    let (etc, state) = (root.join("etc"), root.join("var-lib"));
    let configs = etc.join("vllm-mux/configs");
    std::fs::create_dir_all(&configs).expect("mkdir");
    std::fs::create_dir_all(&state).expect("mkdir");
    std::fs::write(configs.join("c.json"), config.to_string()).expect("write");
    let _read_only = ReadOnly::new(&configs);
    let router = container(find(&items, "Deployment", "vllm-mux"));
    assert_eq!(
        strings(&router["args"]),
        ["--config", "c", "start", "--foreground"]
    );
    let mut pod = router.clone();
    for var in pod["env"].as_array_mut().expect("env") {
        match var["name"].as_str() {
            Some("XDG_CONFIG_HOME") => var["value"] = json!(etc.display().to_string()),
            Some("XDG_STATE_HOME") => var["value"] = json!(state.display().to_string()),
            _ => {}
        }
    }
    let _router = run_pod(
        &pod,
        router_port,
        &secret,
        &[("HOME", root.display().to_string())],
    );
    let base = format!("http://127.0.0.1:{router_port}");
    let ready = router["readinessProbe"]["httpGet"]["path"]
        .as_str()
        .expect("probe");
    assert!(
        wait_for(std::time::Duration::from_secs(20), || {
            http()
                .get(format!("{base}{ready}"))
                .send()
                .is_ok_and(|r| r.status() == 200)
        }),
        "the router never became ready"
    );
    let chat = |model: &str, key: Option<&str>| {
        let mut request = http()
            .post(format!("{base}/v1/chat/completions"))
            .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().expect("send");
        let status = response.status().as_u16();
        let body: Value = response.json().unwrap_or_default();
        (status, body)
    };
    for model in ["qwen", "gpt-4o", "sql", "chat", "c", "tone"] {
        let (status, body) = chat(model, Some(TEAM_KEY));
        assert_eq!(status, 200, "{model}: {body}");
    }
    let (status, body) = chat("qwen", None);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("invalid_api_key")),
        "{body}"
    );
    let (status, body) = chat("nope", Some(TEAM_KEY));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("model_not_found")),
        "{body}"
    );
    drop(pods);
}

/// A folder made read-only, as a ConfigMap is mounted, and writable
/// again when dropped so the test's home can be removed.
struct ReadOnly(std::path::PathBuf);

impl ReadOnly {
    fn new(dir: &Path) -> Self {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).expect("chmod");
        ReadOnly(dir.to_path_buf())
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o755));
    }
}

#[test]
fn what_a_cluster_cannot_run_is_refused_and_what_it_cannot_keep_is_noted() {
    let env = Env::new();
    env.init_fast("c");
    env.add_mock("c", "m", &["--swap-group", "g", "--idle-timeout", "300"]);
    let (yaml, notes) = export(&env, &["--format", "kubernetes"]);
    for needle in [
        "model 'm' takes turns in swap group 'g'",
        "idle_timeout_s 300 is not kept",
    ] {
        assert!(
            notes.contains(&format!("note: {needle}")) || notes.contains(needle),
            "{notes}"
        );
        assert!(yaml.contains(needle), "the header says it too");
    }
    env.ok(&[
        "--config",
        "c",
        "add-model",
        "llama",
        "--engine",
        "command",
        "--command",
        "llama-server --port {port}",
    ]);
    let err = env.fails(&["--config", "c", "export", "--format", "kubernetes"], 2);
    assert!(
        err.contains("error: model 'llama' uses the command engine"),
        "{err}"
    );
    assert!(
        err.contains("hint: serve it elsewhere and make it a url model"),
        "{err}"
    );
    let err = env.fails(
        &["--config", "c", "export", "--format", "production-stack"],
        2,
    );
    assert!(err.contains("'llama' uses the command engine"), "{err}");
    env.ok(&["--config", "c", "edit-model", "llama", "--disabled"]);
    // Values with no model in them would deploy nothing.
    let err = env.fails(
        &["--config", "c", "export", "--format", "production-stack"],
        2,
    );
    assert!(
        err.contains("error: config 'c' has no vLLM model for the chart to run"),
        "{err}"
    );
    assert!(
        err.contains(
            "hint: 'vllm-mux --config c export --format kubernetes' runs mock and url models too"
        ),
        "{err}"
    );
    // The chart's router sends one key to every engine: two models with
    // keys of their own cannot both be reached through it.
    for (name, key) in [("q1", "Q1_KEY"), ("q2", "Q2_KEY")] {
        env.ok(&[
            "--config",
            "c",
            "add-model",
            name,
            "--model",
            "org/q",
            "--gpus",
            "none",
            "--backend-api-key-env",
            key,
        ]);
    }
    let err = env.fails(
        &["--config", "c", "export", "--format", "production-stack"],
        2,
    );
    assert!(
        err.contains(
            "error: models 'q1' (Q1_KEY) and 'q2' (Q2_KEY) have backend keys of their own"
        ),
        "{err}"
    );
    assert!(err.contains("--format kubernetes"), "{err}");
    env.ok(&[
        "--config",
        "c",
        "edit-model",
        "q2",
        "--backend-api-key-env",
        "Q1_KEY",
    ]);
    let (values, notes) = export(&env, &["--format", "production-stack", "--json"]);
    let values: Value = serde_json::from_str(&values).expect("values");
    assert_eq!(
        values["servingEngineSpec"]["vllmApiKey"]["secretKey"],
        "Q1_KEY"
    );
    env.ok(&[
        "--config",
        "c",
        "add-model",
        "q3",
        "--model",
        "org/q",
        "--gpus",
        "none",
    ]);
    let (_, notes3) = export(&env, &["--format", "production-stack"]);
    assert!(
        notes3.contains("model 'q3' has no backend key here; the chart gives every engine servingEngineSpec.vllmApiKey"),
        "{notes3}"
    );
    assert!(!notes.contains("no backend key"), "{notes}");
    for name in ["q1", "q2", "q3"] {
        env.ok(&["--config", "c", "remove-model", name]);
    }
    let (_, notes) = export(&env, &["--format", "kubernetes"]);
    assert!(
        notes.contains("model 'llama' is disabled: not exported"),
        "{notes}"
    );
    let err = env.fails(
        &[
            "--config",
            "c",
            "export",
            "--format",
            "kubernetes",
            "--namespace",
            "Team_A",
        ],
        2,
    );
    assert!(
        err.contains("namespace 'Team_A' is not a Kubernetes name"),
        "{err}"
    );
    // The plain export is the config, as before.
    let (text, _) = export(&env, &[]);
    let config: Value = serde_json::from_str(&text).expect("config JSON");
    assert_eq!(config["models"][0]["name"], "m");
}

#[test]
fn options_name_the_images_namespace_cache_and_secret() {
    let env = Env::new();
    env.init_fast("c");
    env.ok(&[
        "--config",
        "c",
        "add-model",
        "q",
        "--model",
        "org/q",
        "--gpus",
        "none",
    ]);
    let out = env.ok(&[
        "--config",
        "c",
        "export",
        "--format",
        "kubernetes",
        "--json",
        "--image",
        "registry.example.com/vllm-mux:1.2",
        "--vllm-image",
        "registry.example.com/vllm:v9",
        "--namespace",
        "team-a",
        "--hf-cache-claim",
        "hf-models",
        "--secret",
        "team-keys",
    ]);
    let list: Value = serde_json::from_str(&out).expect("json");
    let items = list["items"].as_array().expect("items");
    assert!(items.iter().all(|o| o["metadata"]["namespace"] == "team-a"));
    let engine = find(items, "Deployment", "vllm-q");
    assert_eq!(container(engine)["image"], "registry.example.com/vllm:v9");
    assert_eq!(
        engine["spec"]["template"]["spec"]["volumes"][1]["persistentVolumeClaim"]["claimName"],
        "hf-models"
    );
    // No GPU here: none asked for there, and none visible to it.
    assert!(container(engine)["resources"].is_null(), "{engine}");
    let router = find(items, "Deployment", "vllm-mux");
    assert_eq!(
        container(router)["image"],
        "registry.example.com/vllm-mux:1.2"
    );
    let file = env.home().join("k8s.yaml");
    let said = env.ok(&[
        "--config",
        "c",
        "export",
        "--format",
        "kubernetes",
        "-o",
        file.to_str().expect("utf-8"),
    ]);
    assert!(
        said.contains("exported Kubernetes manifests of config 'c' to"),
        "{said}"
    );
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(text.starts_with("# vllm-mux "), "{text}");
    let docs: Vec<Value> = text
        .split("\n---\n")
        .map(|doc| yaml_serde::from_str(doc).expect("each document parses"))
        .collect();
    assert_eq!(
        docs.len(),
        5,
        "Deployment and Service of q; the router's three"
    );
    // production-stack mounts the same claim, through the chart's extra volumes.
    let values = env.ok(&[
        "--config",
        "c",
        "export",
        "--format",
        "production-stack",
        "--json",
        "--hf-cache-claim",
        "hf-models",
    ]);
    let values: Value = serde_json::from_str(&values).expect("values");
    let spec = &values["servingEngineSpec"]["modelSpec"][0];
    assert_eq!(
        spec["extraVolumes"][0]["persistentVolumeClaim"]["claimName"], "hf-models",
        "{spec}"
    );
    assert_eq!(spec["extraVolumeMounts"][0]["mountPath"], "/hf-cache");
    assert!(
        spec["env"]
            .as_array()
            .is_some_and(|e| e.contains(&json!({"name": "HF_HUB_CACHE", "value": "/hf-cache/hub"}))),
        "{spec}"
    );
    // An option the format does not use is refused, not ignored.
    for (args, error, hint) in [
        (
            &["--image", "x/y:1"][..],
            "--image is for --format kubernetes; the plain export is the config itself",
            "hint: add --format kubernetes",
        ),
        (
            &["--secret", "keys"][..],
            "--secret is for --format kubernetes or production-stack",
            "hint: add --format kubernetes",
        ),
        (
            &["--format", "production-stack", "--image", "x/y:1"][..],
            "--image is not used by --format production-stack: the chart runs its own router",
            "--format kubernetes",
        ),
        (
            &["--format", "production-stack", "--namespace", "team-a"][..],
            "--namespace is not written into production-stack values",
            "hint: give it to helm: helm install vllm vllm/vllm-stack -n team-a -f FILE",
        ),
    ] {
        let mut all = vec!["--config", "c", "export"];
        all.extend_from_slice(args);
        let err = env.fails(&all, 2);
        assert!(err.contains(&format!("error: {error}")), "{args:?}: {err}");
        assert!(err.contains(hint), "{args:?}: {err}");
    }
}
