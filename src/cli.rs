//! The command line, as clap derive types. Doc comments are the help text.

use clap::{ArgAction, Args, Parser, Subcommand};
use serde_json::Value;

use crate::config::{Engine, LoraAdapter, Replica};
use crate::engine::flags::{normalize_key, parse_value};

const GLOBAL: &str = "Global options";

/// Serve many language models behind one OpenAI-compatible endpoint.
///
/// vllm-mux keeps named configs of models (vLLM, any OpenAI-compatible
/// command, a remote URL, or the built-in mock engine), assigns them GPUs and
/// ports, and runs one proxy in front of them all.
#[derive(Debug, Parser)]
#[command(
    name = "vllm-mux",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Start here: vllm-mux init, then vllm-mux add-model NAME --model ID, then vllm-mux show.\nExit codes: 0 ok, 1 runtime failure, 2 usage or validation error, 3 not running."
)]
pub struct Cli {
    /// Which saved config to use.
    #[arg(long, global = true, env = "VLLM_MUX_CONFIG", value_name = "NAME", help_heading = GLOBAL)]
    pub config: Option<String>,

    /// Print machine-readable JSON instead of tables and messages.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub json: bool,

    /// Answer yes to every question; never prompt.
    #[arg(short = 'y', long, global = true, help_heading = GLOBAL)]
    pub yes: bool,

    /// Never prompt; a missing value is an error naming its flag.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_input: bool,

    /// Print only errors and requested data.
    #[arg(short, long, global = true, conflicts_with = "verbose", help_heading = GLOBAL)]
    pub quiet: bool,

    /// Print more detail (repeat for more).
    #[arg(short, long, global = true, action = ArgAction::Count, help_heading = GLOBAL)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a config: proxy host, port and features.
    Init(InitArgs),
    /// Add a model to the config.
    #[command(
        after_help = "Examples:\n  vllm-mux add-model qwen --model Qwen/Qwen2.5-7B-Instruct --gpus 0 --alias gpt-4o-mini\n  vllm-mux add-model chat --engine mock\n  vllm-mux add-model big --model meta-llama/Llama-3.1-70B --gpus 0,1,2,3 --profile long_context\n  vllm-mux add-model remote --engine url --url http://10.0.0.5:8000"
    )]
    AddModel {
        /// The name clients send as "model" (letters, digits, '.', '_', '-').
        name: String,
        #[command(flatten)]
        args: ModelArgs,
    },
    /// Change one model; only the flags given change.
    EditModel {
        /// The model to change.
        name: String,
        #[command(flatten)]
        args: ModelArgs,
        #[command(flatten)]
        edit: EditArgs,
    },
    /// Change the proxy's settings; only the flags given change, models stay.
    #[command(
        after_help = "Examples:\n  vllm-mux edit-proxy --port 8080\n  vllm-mux edit-proxy --api-key-env VLLM_MUX_KEYS --no-cors\n  vllm-mux edit-proxy --set queue_timeout_s=30 --set backend_timeout_s=120\nA running config takes the new settings at its next start."
    )]
    EditProxy(EditProxyArgs),
    /// Delete one model from the config.
    RemoveModel {
        /// The model to delete.
        name: String,
    },
    /// List saved configs: models, proxy port, running or not.
    List,
    /// Show the config: proxy settings and a table of models.
    Show,
    /// Show GPUs: memory, utilization, and which models claim them.
    Gpus,
    /// List models already downloaded into the Hugging Face cache.
    Models,
    /// Start the supervisor, the proxy and every enabled model.
    Start(StartArgs),
    /// Show the proxy and every model's state.
    Status {
        /// Refresh every 2 seconds until Ctrl-C.
        #[arg(long)]
        watch: bool,
    },
    /// Print or follow logs of the proxy, one model, or all of them.
    Logs(LogsArgs),
    /// Stop everything, or one model.
    Stop {
        /// Stop only this model; the rest keep running.
        model: Option<String>,
        /// Seconds to wait after SIGTERM before SIGKILL.
        #[arg(long, value_name = "SECS", default_value_t = 10)]
        timeout: u64,
    },
    /// Start one stopped model again.
    StartModel {
        /// The model to start.
        model: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Wait until the running models (or those named) are ready or failed.
    ///
    /// For scripts and units that started them without waiting (`start
    /// --no-wait`, systemd). Exit 1 if one failed, a named one is stopped,
    /// or the timeout passed; 3 if the config is not running.
    Wait {
        /// Wait only for these models (with their replicas).
        #[arg(value_name = "MODEL")]
        models: Vec<String>,
        /// Give up after this many seconds (the models keep starting).
        #[arg(long, value_name = "SECS")]
        timeout: Option<u64>,
    },
    /// Apply config changes to the running supervisor; untouched models keep running.
    Reload(WaitArgs),
    /// Print the config as JSON, or as what a Kubernetes cluster runs.
    #[command(
        after_help = "Examples:\n  vllm-mux export -o team.json\n  vllm-mux export --format kubernetes --image registry.example.com/vllm-mux:0.1.0 > k8s.yaml && kubectl apply -f k8s.yaml\n  vllm-mux export --format production-stack > values.yaml && helm install vllm vllm/vllm-stack -f values.yaml\nWhat a cluster cannot keep (swap groups, idle stops, GPUs shared by two models, local paths) is noted on standard error and in the output's header."
    )]
    Export(ExportArgs),
    /// Save a config from a file: ours, a vllm-cli proxy config, or llama-swap's config.yaml.
    Import {
        /// The file to read ('-' for standard input).
        file: std::path::PathBuf,
        /// Save under this name (default: --config if given, else the file's name).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Replace a config of the same name (the old file is kept as .bak).
        #[arg(long)]
        force: bool,
    },
    /// Add, remove or list a model's LoRA adapters, also while it runs.
    #[command(
        after_help = "Examples:\n  vllm-mux lora add qwen sql /models/sql-lora\n  vllm-mux lora list\n  vllm-mux lora remove qwen sql\nOn a running config, the adapter is loaded on (or unloaded from) every ready copy of the model at once, and routed by its name; the config keeps it for the next start."
    )]
    Lora {
        #[command(subcommand)]
        action: LoraAction,
    },
    /// List built-in and user profiles (named sets of engine flags).
    Profiles,
    /// List saved shortcuts, or add or remove one.
    Shortcuts {
        #[command(subcommand)]
        action: Option<ShortcutAction>,
    },
    /// Print a shell completion script.
    #[command(
        after_help = "Example: mkdir -p ~/.local/share/bash-completion/completions && vllm-mux completions bash > ~/.local/share/bash-completion/completions/vllm-mux"
    )]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Run the built-in OpenAI-compatible stand-in for vLLM (used by the mock engine).
    MockEngine(MockEngineArgs),
    /// Run the supervisor (what 'start' launches in the background).
    #[command(hide = true)]
    Supervise,
    /// Run an engine in this process group and kill the group when stdin closes.
    #[command(hide = true)]
    Guard {
        /// The engine's command line.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Interface the proxy listens on.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Port the proxy listens on.
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Do not send CORS headers.
    #[arg(long)]
    pub no_cors: bool,
    /// Do not serve /metrics.
    #[arg(long)]
    pub no_metrics: bool,
    /// Log one line per request.
    #[arg(long)]
    pub log_requests: bool,
    /// Require clients to send the key held in this environment variable.
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// Replace an existing config of this name (the old file is kept as .bak).
    #[arg(long)]
    pub force: bool,
}

/// What edit-proxy may change; what is not given stays.
#[derive(Debug, Args, Default)]
pub struct EditProxyArgs {
    /// Interface the proxy listens on.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Port the proxy listens on.
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Send CORS headers.
    #[arg(long, conflicts_with = "no_cors")]
    pub cors: bool,
    /// Do not send CORS headers.
    #[arg(long)]
    pub no_cors: bool,
    /// Serve /metrics.
    #[arg(long, conflicts_with = "no_metrics")]
    pub metrics: bool,
    /// Do not serve /metrics.
    #[arg(long)]
    pub no_metrics: bool,
    /// Log one line per request.
    #[arg(long, conflicts_with = "no_log_requests")]
    pub log_requests: bool,
    /// Stop logging a line per request.
    #[arg(long)]
    pub no_log_requests: bool,
    /// Require clients to send the key held in this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "no_api_key")]
    pub api_key_env: Option<String>,
    /// Require no key.
    #[arg(long)]
    pub no_api_key: bool,
    /// Another proxy setting, e.g. queue_timeout_s=30 (repeat for more):
    /// startup_timeout_s, health_interval_ms, unhealthy_after,
    /// queue_timeout_s, backend_timeout_s, client_header_timeout_s,
    /// gpu_sample_interval_s, min_residency_s, max_wait_s, scheduler
    /// (batch or llama-swap), sleep_memory_gib.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, Value)>,
}

/// Model settings shared by add-model and edit-model.
#[derive(Debug, Args, Default, PartialEq)]
pub struct ModelArgs {
    /// Hugging Face id or local path of the weights.
    #[arg(long, value_name = "ID_OR_PATH")]
    pub model: Option<String>,
    /// Another name clients may send (repeat for more; edit-model replaces the list).
    #[arg(long = "alias", value_name = "ALIAS")]
    pub aliases: Vec<String>,
    /// GPU indexes, comma-separated; their count sets tensor parallelism.
    /// `none`: no GPU at all (vLLM's CPU build), with CUDA_VISIBLE_DEVICES empty.
    #[arg(long, value_name = "IDS|none", value_parser = parse_gpus)]
    pub gpus: Option<Gpus>,
    /// Local port of the model's server (default: next free from 8001).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Profile of engine flags (see 'vllm-mux profiles').
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Take model, profile and overrides from a saved shortcut.
    #[arg(long, value_name = "SHORTCUT")]
    pub shortcut: Option<String>,
    /// A LoRA adapter clients may ask for by name (repeat for more; edit-model replaces the list).
    #[arg(long = "lora", value_name = "NAME=PATH", value_parser = parse_lora)]
    pub loras: Vec<LoraAdapter>,
    /// Loading order: lower starts first, equal values together, unset last.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub priority: Option<i64>,
    /// What serves the model.
    #[arg(long, value_enum, value_name = "ENGINE")]
    pub engine: Option<Engine>,
    /// Command engine: template with {port}, {host}, {name}, {model}.
    #[arg(long, value_name = "TEMPLATE")]
    pub command: Option<String>,
    /// Command and url engines: health check path (default /health).
    #[arg(long, value_name = "PATH")]
    pub health_path: Option<String>,
    /// Url engine: where the model is already served.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Environment variable holding the key the model's server wants; the
    /// proxy sends it to the server (vllm and mock get it as VLLM_API_KEY).
    #[arg(long, value_name = "VAR")]
    pub backend_api_key_env: Option<String>,
    /// Stop the model's server after SECS without requests; the next
    /// request starts it again and waits for it (frees its GPUs meanwhile).
    #[arg(long, value_name = "SECS")]
    pub idle_timeout: Option<u64>,
    /// The most requests each copy's server gets at once; more wait in the
    /// model's queue (see --max-queue).
    #[arg(long, value_name = "N")]
    pub max_concurrent: Option<u32>,
    /// The most requests that may wait for the model (for a slot, or for
    /// its load); beyond, 429 with Retry-After.
    #[arg(long, value_name = "N")]
    pub max_queue: Option<u32>,
    /// In a swap group: never evicted to make room for another member.
    #[arg(long)]
    pub pinned: bool,
    /// In a swap group: the GPU memory its server needs on each of its
    /// GPUs, in GiB (else its --gpu-memory-utilization, 0.9 unless set).
    #[arg(long, value_name = "GIB")]
    pub gpu_memory_gib: Option<f64>,
    /// Take turns with the other models of this group: they may share
    /// GPUs, one runs at a time, and a request for another swaps it in.
    #[arg(long, value_name = "GROUP")]
    pub swap_group: Option<String>,
    /// When idle (--idle-timeout, or its swap group runs another), put the
    /// server to sleep (vLLM sleep mode: weights to CPU memory) instead of
    /// stopping it; it wakes in seconds. vllm and mock engines.
    #[arg(long)]
    pub sleep_mode: bool,
    /// An environment variable for the model's server, e.g.
    /// VLLM_ATTENTION_BACKEND=FLASHINFER (repeat for more).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// An engine flag: max_model_len=8192 becomes --max-model-len 8192 (repeat for more).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, Value)>,
    /// Fraction of GPU memory for this model; lets models share a GPU.
    #[arg(long, value_name = "F")]
    pub gpu_memory_utilization: Option<f64>,
    /// Keep the model in the config but do not start it.
    #[arg(long)]
    pub disabled: bool,
    /// Another copy on these GPUs, e.g. 1 or 2,3:8011 (repeat for more;
    /// edit-model replaces the list). Requests go to the least busy copy.
    #[arg(long = "replica", value_name = "GPUS[:PORT]", value_parser = parse_replica)]
    pub replicas: Vec<Replica>,
}

/// Fields a model can clear with edit-model --clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClearField {
    Aliases,
    Gpus,
    Port,
    Profile,
    Loras,
    Priority,
    Overrides,
    HealthPath,
    Replicas,
    BackendApiKeyEnv,
    IdleTimeout,
    MaxConcurrent,
    MaxQueue,
    Pinned,
    GpuMemoryGib,
    Environment,
    SwapGroup,
    SleepMode,
}

#[derive(Debug, Args, Default)]
pub struct EditArgs {
    /// Start the model again with the others (undoes --disabled).
    #[arg(long, conflicts_with = "disabled")]
    pub enabled: bool,
    /// Remove an engine flag set with --set (repeat for more).
    #[arg(long, value_name = "KEY")]
    pub unset: Vec<String>,
    /// Remove an environment variable set with --env (repeat for more).
    #[arg(long, value_name = "KEY")]
    pub unset_env: Vec<String>,
    /// Empty a field (repeat for more).
    #[arg(long, value_enum, value_name = "FIELD")]
    pub clear: Vec<ClearField>,
}

/// How `start`, `start-model` and `reload` wait for the models they start.
#[derive(Debug, Default, Args)]
pub struct WaitArgs {
    /// Return at once, without waiting for the models to be ready or failed.
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds to wait for the models to be ready or failed (they keep starting after).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Run in this terminal instead of the background (for containers and systemd).
    #[arg(long)]
    pub foreground: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// proxy, a model's name, or all (interleaved, with a name prefix).
    #[arg(default_value = "all", value_name = "proxy|MODEL|all")]
    pub target: String,
    /// Keep printing new lines as they come.
    #[arg(short, long)]
    pub follow: bool,
    /// How many lines from the end to print first [default: 50; all with --since].
    #[arg(short = 'n', long, value_name = "LINES")]
    pub lines: Option<usize>,
    /// Only lines from this time on: a duration ago (30m, 2h, 1d) or a UTC
    /// time (2026-11-26T07:00:00Z, "2026-11-26 07:00:00").
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    pub since: Option<std::time::SystemTime>,
}

/// `--since`: a duration ago, or a UTC time.
fn parse_since(value: &str) -> Result<std::time::SystemTime, String> {
    if let Ok(ago) = humantime::parse_duration(value) {
        return std::time::SystemTime::now()
            .checked_sub(ago)
            .ok_or_else(|| format!("'{value}' ago is before 1970"));
    }
    humantime::parse_rfc3339_weak(value).map_err(|_| {
        format!(
            "'{value}' is neither a duration (30m, 2h, 1d) nor a UTC time (2026-11-26T07:00:00Z)"
        )
    })
}

#[derive(Debug, Subcommand)]
pub enum ShortcutAction {
    /// Save a shortcut: a model, a profile and engine flags under one name.
    Add {
        /// The shortcut's name.
        name: String,
        /// Hugging Face id or local path of the weights.
        #[arg(long, value_name = "ID_OR_PATH")]
        model: String,
        /// Profile of engine flags.
        #[arg(long, value_name = "PROFILE")]
        profile: Option<String>,
        /// An engine flag, as in add-model (repeat for more).
        #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
        set: Vec<(String, Value)>,
        /// A line saying what it is for.
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// Replace a shortcut of the same name.
        #[arg(long)]
        force: bool,
    },
    /// Delete a shortcut.
    Remove {
        /// The shortcut's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum LoraAction {
    /// Add an adapter to a model (and load it, if the config runs).
    Add {
        /// The model it adapts.
        model: String,
        /// The name clients send as "model" for it.
        name: String,
        /// Where its weights are (a folder the model's server can read, or a Hugging Face id).
        path: String,
    },
    /// Remove an adapter (and unload it, if the config runs).
    Remove {
        /// The model it adapts.
        model: String,
        /// The adapter's name.
        name: String,
    },
    /// List the adapters of every model, or of one, and where each is loaded.
    List {
        /// Only this model's.
        model: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// What to write.
    #[arg(long, value_enum, default_value_t = crate::export::Format::Json)]
    pub format: crate::export::Format,
    /// kubernetes: the vllm-mux image the router (and mock engines) run [default: vllm-mux:VERSION, built from the Dockerfile].
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// kubernetes, production-stack: the vLLM image the engines run [default: vllm/vllm-openai:v0.32.0].
    #[arg(long, value_name = "IMAGE")]
    pub vllm_image: Option<String>,
    /// kubernetes: the namespace of every object (default: kubectl's; for production-stack, give helm -n).
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// kubernetes, production-stack: a PersistentVolumeClaim for the Hugging Face cache, shared by the engines (default: each pod downloads its own).
    #[arg(long, value_name = "CLAIM")]
    pub hf_cache_claim: Option<String>,
    /// kubernetes, production-stack: the Secret that holds the keys the pods read (by reference; the output holds no key) [default: vllm-mux-keys].
    #[arg(long, value_name = "NAME")]
    pub secret: Option<String>,
}

#[derive(Debug, Args)]
pub struct MockEngineArgs {
    /// Port to listen on.
    #[arg(long, value_name = "PORT")]
    pub port: u16,
    /// Address to listen on (0.0.0.0 in a container).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// The model name it answers to.
    #[arg(long, value_name = "NAME")]
    pub served_model_name: String,
    /// Wait this long before /health answers 200.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub startup_delay_ms: u64,
    /// Delay between streamed tokens.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub token_delay_ms: u64,
    /// Tokens in each completion.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub tokens: u32,
    /// Answer /health with 503.
    #[arg(long)]
    pub fail_health: bool,
    /// Exit after this many requests.
    #[arg(long, value_name = "N")]
    pub crash_after: Option<u64>,
    /// Ignore SIGTERM (to test the SIGKILL fallback).
    #[arg(long)]
    pub ignore_sigterm: bool,
    /// A LoRA adapter name it also answers to (repeat for more).
    #[arg(long = "lora", value_name = "NAME")]
    pub loras: Vec<String>,
    /// Require `Authorization: Bearer KEY` on /v1/*, as vLLM does.
    #[arg(long, value_name = "KEY", env = "VLLM_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// vLLM flags from profiles and overrides: logged and ignored.
    #[arg(last = true, value_name = "VLLM_FLAGS")]
    pub engine_flags: Vec<String>,
}

/// What `--gpus` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gpus {
    Ids(Vec<u32>),
    /// No GPU on purpose: the server sees none.
    None,
}

fn parse_gpus(text: &str) -> Result<Gpus, String> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(Gpus::None);
    }
    text.split(',')
        .map(|id| {
            id.trim()
                .parse::<u32>()
                .map_err(|_| format!("'{id}' is not a GPU index; give indexes like 0,1 (see 'vllm-mux gpus'), or none"))
        })
        .collect::<Result<Vec<u32>, String>>()
        .map(Gpus::Ids)
}

fn parse_lora(text: &str) -> Result<LoraAdapter, String> {
    match text.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => Ok(LoraAdapter {
            name: name.to_string(),
            path: path.to_string(),
        }),
        _ => Err(format!(
            "'{text}' is not NAME=PATH (e.g. sql=/models/sql-lora)"
        )),
    }
}

fn parse_replica(text: &str) -> Result<Replica, String> {
    let (gpus, port) = match text.rsplit_once(':') {
        Some((gpus, port)) => (
            gpus,
            Some(
                port.parse::<u16>()
                    .map_err(|_| format!("'{port}' is not a port")),
            ),
        ),
        None => (text, None),
    };
    let gpu_ids = gpus
        .split(',')
        .filter(|g| !g.is_empty())
        .map(|g| {
            g.trim().parse::<u32>().map_err(|_| {
                format!("'{g}' is not a GPU index (e.g. --replica 1 or --replica 2,3:8011)")
            })
        })
        .collect::<Result<Vec<u32>, String>>()?;
    Ok(Replica {
        gpu_ids,
        port: port.transpose()?,
    })
}

fn parse_set(text: &str) -> Result<(String, Value), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((normalize_key(key), parse_value(value))),
        _ => Err(format!(
            "'{text}' is not KEY=VALUE (e.g. max_model_len=8192)"
        )),
    }
}

/// `KEY=VALUE`, the value taken as given (it may hold `=`).
fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!(
            "'{text}' is not KEY=VALUE (e.g. VLLM_ATTENTION_BACKEND=FLASHINFER)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn export_help_names_the_defaults_the_code_uses() {
        let mut export = Cli::command();
        let help = export
            .find_subcommand_mut("export")
            .expect("export")
            .render_help()
            .to_string()
            // As one line: clap wraps long help.
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for default in [
            crate::export::DEFAULT_VLLM_IMAGE,
            crate::export::DEFAULT_SECRET,
        ] {
            assert!(help.contains(&format!("[default: {default}]")), "{help}");
        }
    }

    #[test]
    fn replicas_parse_with_or_without_a_port() {
        assert_eq!(
            parse_replica("1"),
            Ok(Replica {
                gpu_ids: vec![1],
                port: None
            })
        );
        assert_eq!(
            parse_replica("2,3:8011"),
            Ok(Replica {
                gpu_ids: vec![2, 3],
                port: Some(8011)
            })
        );
        assert_eq!(
            parse_replica(":8011"),
            Ok(Replica {
                gpu_ids: vec![],
                port: Some(8011)
            })
        );
        assert!(parse_replica("x").is_err());
        assert!(parse_replica("1:http").is_err());
    }

    #[test]
    fn set_and_lora_parse() {
        assert_eq!(
            parse_set("max-model-len=4096"),
            Ok(("max_model_len".into(), Value::from(4096)))
        );
        assert!(parse_set("novalue").is_err());
        assert_eq!(
            parse_lora("sql=/m/sql"),
            Ok(LoraAdapter {
                name: "sql".into(),
                path: "/m/sql".into()
            })
        );
        assert!(parse_lora("=x").is_err());
    }
}
