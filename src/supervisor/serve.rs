//! The supervisor process: `vllm-mux supervise` in the background, or
//! `vllm-mux start --foreground` in a terminal. Same code either way.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio::sync::{mpsc, watch};

use super::notify::{self, Notifier};
use super::order::load_groups;
use super::pidfile::PidFile;
use super::registry::{Entry, Registry};
use super::runner::{Command, Runner};
use super::state::ModelState;
use super::stats::ModelStats;
use crate::config::profiles::Profiles;
use crate::config::validate::check_saved;
use crate::config::{Engine, ModelConfig, Paths, Store};
use crate::control::server::ControlState;
use crate::engine::{plan, Executables, Launch, VLLM_API_KEY};
use crate::error::{Exit, Failure};
use crate::gpu::Inventory;

pub const SOCKET: &str = "supervisor.sock";
/// How long models get to stop on SIGTERM/Ctrl-C of the supervisor.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Run the supervisor for `config` until asked to stop.
pub fn run(paths: Paths, config: &str, foreground: bool) -> Result<Exit> {
    let settings = Store::new(paths.clone()).load(config)?;
    run_with(paths, config, settings, foreground)
}

/// Run the supervisor on `settings`, which need not be saved (init's "start
/// without saving": then `reload` has nothing to read, the rest works).
pub fn run_with(
    paths: Paths,
    config: &str,
    settings: crate::config::Config,
    foreground: bool,
) -> Result<Exit> {
    let run_dir = paths.run_dir(config);
    create_private_dir(&run_dir)?;
    let pidfile = PidFile::acquire(&run_dir, config)?;
    raise_open_file_limit();
    check_saved(&settings, &paths, &paths.config_file(config))?;
    // One worker per CPU this process may run on (taskset and cgroups
    // count); on one CPU, a single-threaded runtime without work stealing.
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut builder = if cpus == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = builder
        .enable_all()
        .build()
        .map_err(|err| Failure::runtime(format!("cannot start the async runtime: {err}")))?;
    let result = runtime.block_on(serve(paths, config, settings, foreground));
    drop(pidfile);
    result
}

/// Every proxied request holds two sockets; the default soft limit (often
/// 1024) would cap concurrent streams near 500. Raise it to the hard limit.
fn raise_open_file_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
    }
}

fn create_private_dir(dir: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)))
        .map_err(|err| Failure::runtime(format!("cannot create {}: {err}", dir.display())).into())
}

/// What every model needs to be added to the registry.
#[derive(Clone)]
pub struct Launcher {
    pub profiles: Arc<Profiles>,
    pub exes: Executables,
    pub http: reqwest::Client,
}

impl Launcher {
    /// Register `model` and start its runner task (idle until told to start).
    pub fn add(&self, reg: &Arc<Registry>, model: &ModelConfig) -> Result<()> {
        // The model and each replica run as instances of their own.
        for instance in model.instances() {
            self.add_instance(reg, &instance.id, &instance.model)?;
        }
        Ok(())
    }

    fn add_instance(&self, reg: &Arc<Registry>, id: &str, model: &ModelConfig) -> Result<()> {
        // The registry keeps the plan as configured (reload compares it);
        // the runner's copy gets the key.
        let planned = plan(model, &self.profiles, &self.exes)?;
        let mut launch = planned.clone();
        let key = backend_key(model)?;
        if let (Some(key), Launch::Process(spec)) = (&key, &mut launch) {
            // vLLM (and the mock, its stand-in) require it of every client.
            if matches!(model.engine, Engine::Vllm | Engine::Mock) {
                spec.env.insert(VLLM_API_KEY.into(), key.clone());
            }
        }
        let backend_auth: Option<Arc<str>> = key.map(|key| Arc::from(format!("Bearer {key}")));
        let log = reg.open_model_log(id).map_err(|err| {
            Failure::runtime(format!("cannot open the log of model '{id}': {err}"))
        })?;
        let (state, _) = watch::channel(if model.enabled {
            ModelState::Pending
        } else {
            ModelState::Stopped
        });
        let (commands, receiver) = mpsc::unbounded_channel();
        reg.insert(
            id,
            Entry {
                config: model.clone(),
                launch: planned,
                state,
                pid: None,
                restarts: 0,
                last_error: None,
                detail: (!model.enabled)
                    .then(|| "disabled in the config (edit-model --enabled)".to_string()),
                log,
                stats: Arc::new(ModelStats::new(id, Arc::clone(&reg.metrics))),
                commands,
                base_url: Arc::from(launch.base_url()),
                since: std::time::Instant::now(),
                backend_auth: backend_auth.clone(),
                max_model_len: None,
                waiting: BTreeMap::new(),
                wanted_by_hand: None,
                memory_fraction: crate::gpu::cross::memory_fraction(model, &self.profiles),
                asleep: false,
                launch_loras: model.lora_adapters.clone(),
                loaded_loras: std::collections::BTreeSet::new(),
            },
        );
        let runner = Runner {
            reg: Arc::clone(reg),
            name: id.to_string(),
            launch,
            backend_auth,
            vllm_mux: self.exes.vllm_mux.clone(),
            http: self.http.clone(),
            sleep_refused: std::sync::atomic::AtomicBool::new(false),
        };
        tokio::spawn(runner.run(receiver));
        Ok(())
    }
}

/// The key `model`'s server wants, from the variable it names. This
/// process's environment is the one `start` had: a variable exported
/// since is not here, which `reload` reports.
pub fn backend_key(model: &ModelConfig) -> Result<Option<String>> {
    let Some(var) = &model.backend_api_key_env else {
        return Ok(None);
    };
    match crate::config::key_from_env(var) {
        Some(key) => Ok(Some(key)),
        None => Err(Failure::usage(format!(
            "model '{}': backend_api_key_env names ${var}, which the supervisor's environment does not have",
            model.name
        ))
        .hint("the supervisor keeps the environment 'vllm-mux start' had: stop it, export the variable, and start again")
        .into()),
    }
}

async fn serve(
    paths: Paths,
    name: &str,
    config: crate::config::Config,
    foreground: bool,
) -> Result<Exit> {
    // Watch the signals before anything can be asked of us.
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    // The terminal of `start --foreground` went away: stop as cleanly as on
    // SIGTERM, rather than die and leave the guards to SIGKILL the engines.
    let mut hup = signal(SignalKind::hangup()).ok();
    let reg = Arc::new(
        Registry::new(name, paths.clone(), config.clone(), foreground).map_err(|err| {
            Failure::runtime(format!("cannot open the logs of config '{name}': {err}"))
        })?,
    );
    reg.log(&format!(
        "supervisor {} for config '{name}' starting (pid {})",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    ));
    let notifier = match Notifier::from_env() {
        Ok(notifier) => {
            if let Some(notifier) = &notifier {
                reg.log(&notifier.describe());
            }
            notifier.map(Arc::new)
        }
        Err(err) => {
            reg.log(&format!("not notifying the service manager: {err}"));
            None
        }
    };
    let launcher = Launcher {
        profiles: Arc::new(Profiles::load(&paths)?),
        exes: Executables::from_env()?,
        http: reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|err| Failure::runtime(format!("cannot build the HTTP client: {err}")))?,
    };
    for model in &config.models {
        launcher.add(&reg, model)?;
    }
    let proxy_addr = config.proxy_address();
    let proxy_listener = tokio::net::TcpListener::bind(&proxy_addr)
        .await
        .map_err(|err| {
            let (problem, hint) = crate::config::ports::proxy_listen_problem(&config, &err);
            Failure::runtime(problem).hint(hint)
        })?;
    let socket_path = paths.run_dir(name).join(SOCKET);
    // We hold the pidfile lock, so a socket file left here is stale.
    let _ = std::fs::remove_file(&socket_path);
    let control_listener = tokio::net::UnixListener::bind(&socket_path).map_err(|err| {
        Failure::runtime(format!("cannot listen on {}: {err}", socket_path.display()))
    })?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&socket_path, std::fs::Permissions::from_mode(0o600))?;
    }
    let (shutdown_tx, mut shutdown_rx) = watch::channel::<Option<Duration>>(None);
    tokio::spawn(sample_gpus(
        Arc::clone(&reg),
        Duration::from_secs(config.gpu_sample_interval_s),
    ));
    let control = ControlState::new(Arc::clone(&reg), launcher.clone(), shutdown_tx.clone());
    let proxy = crate::proxy::Shared::new(Arc::clone(&reg), &config).await;
    let mut proxy_stop = shutdown_rx.clone();
    let proxy_task = tokio::spawn(crate::proxy::serve::serve(
        proxy_listener,
        proxy,
        async move {
            let _ = proxy_stop.wait_for(Option::is_some).await;
        },
    ));
    let mut control_stop = shutdown_rx.clone();
    let control_task = tokio::spawn(async move {
        axum::serve(control_listener, crate::control::server::router(control))
            .with_graceful_shutdown(async move {
                let _ = control_stop.wait_for(Option::is_some).await;
            })
            .await
    });
    reg.log(&format!(
        "proxy listening on http://{proxy_addr}; control socket {}",
        socket_path.display()
    ));
    let state_file = paths.run_dir(name).join(super::state_file::STATE_FILE);
    let (state_stop, state_stop_rx) = watch::channel(false);
    let state_task = tokio::spawn(super::state_file::keep(
        Arc::clone(&reg),
        state_file,
        state_stop_rx,
    ));
    let (loaded_tx, loaded) = watch::channel(false);
    let load = load_in_order(Arc::clone(&reg), config.models.clone());
    tokio::spawn(async move {
        load.await;
        let _ = loaded_tx.send(true);
    });
    if let Some(notifier) = &notifier {
        tokio::spawn(notify::run(Arc::clone(notifier), Arc::clone(&reg), loaded));
    }

    let stop_timeout = wait_for_shutdown(&mut shutdown_rx, [&mut term, &mut int, &mut hup]).await;
    if let Some(notifier) = &notifier {
        let _ = notifier.stopping();
    }
    reg.log(&format!(
        "shutting down: stopping models (up to {} s each)",
        stop_timeout.as_secs()
    ));
    stop_all(&reg, stop_timeout).await;
    let _ = shutdown_tx.send(Some(stop_timeout));
    let _ = proxy_task.await;
    let _ = control_task.await;
    let _ = std::fs::remove_file(&socket_path);
    // Stopped cleanly: no state is left behind to be taken for a crash.
    let _ = state_stop.send(true);
    let _ = state_task.await;
    super::state_file::forget(&paths.run_dir(name));
    reg.log("supervisor stopped");
    Ok(Exit::Success)
}

/// Until SIGTERM, Ctrl-C, SIGHUP or a control `/shutdown`; returns the
/// stop timeout.
async fn wait_for_shutdown(
    shutdown: &mut watch::Receiver<Option<Duration>>,
    [term, int, hup]: [&mut Option<tokio::signal::unix::Signal>; 3],
) -> Duration {
    tokio::select! {
        _ = recv(term) => DEFAULT_STOP_TIMEOUT,
        _ = recv(int) => DEFAULT_STOP_TIMEOUT,
        _ = recv(hup) => DEFAULT_STOP_TIMEOUT,
        result = shutdown.wait_for(Option::is_some) => {
            result.ok().and_then(|t| *t).unwrap_or(DEFAULT_STOP_TIMEOUT)
        }
    }
}

/// Refresh the GPU sample (status, /metrics) every `interval`. NVML calls
/// block, so they run on the blocking pool.
async fn sample_gpus(reg: Arc<Registry>, interval: Duration) {
    loop {
        let sample = tokio::task::spawn_blocking(Inventory::detect).await;
        match sample {
            Ok(Ok(gpus)) => reg.set_gpus(gpus),
            Ok(Err(err)) => reg.set_gpus(Inventory::Unavailable(format!("{err:#}"))),
            Err(_) => {}
        }
        tokio::time::sleep(interval).await;
    }
}

/// The next signal, or never if it could not be watched.
async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

/// Start groups in `loading_priority` order; each waits for the one before
/// to be ready, failed or stopped. Of a swap group, the first member in
/// that order starts; the others begin idle.
async fn load_in_order(reg: Arc<Registry>, models: Vec<ModelConfig>) {
    let mut running: BTreeMap<String, String> = BTreeMap::new();
    let groups = load_groups(&models);
    // Said in `status` while they wait: nothing else explains a long pending.
    for pair in groups.windows(2) {
        let why = format!(
            "waits for {} to be ready or failed first (loading priority)",
            pair[0].join(", ")
        );
        for id in pair[1].iter().flat_map(|name| reg.ids_of(name)) {
            reg.with(&id, |e| e.detail = Some(why.clone()));
        }
    }
    for group in groups {
        let mut watchers = Vec::new();
        for id in group.iter().flat_map(|name| reg.ids_of(name)) {
            match reg.swap_group_of(&id) {
                Some(swap) => match running.get(&swap) {
                    Some(first) => crate::supervisor::swap::begin_idle(&reg, &id, first),
                    None => {
                        running.insert(swap, id.clone());
                        crate::supervisor::swap::start(&reg, &id);
                    }
                },
                None => {
                    reg.send(&id, Command::Start);
                }
            }
            if let Some(watcher) = reg.subscribe(&id) {
                watchers.push(watcher);
            }
        }
        for mut watcher in watchers {
            // Pending counts as not settled: the runner has not picked the start up yet.
            let _ = watcher.wait_for(|s| s.is_settled()).await;
        }
    }
}

/// Stop every model at once and wait for all of them.
pub async fn stop_all(reg: &Arc<Registry>, timeout: Duration) {
    let mut waits = Vec::new();
    for name in reg.names() {
        let (done, wait) = tokio::sync::oneshot::channel();
        if reg.send(
            &name,
            Command::Stop {
                timeout,
                done: Some(done),
            },
        ) {
            waits.push(wait);
        }
    }
    // All stops were sent at once; awaiting them in turn takes as long as the slowest.
    let all = async {
        for wait in waits {
            let _ = wait.await;
        }
    };
    let _ = tokio::time::timeout(timeout + Duration::from_secs(5), all).await;
}
