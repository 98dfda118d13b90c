//! What the supervisor knows about its models, shared by the runners, the
//! proxy and the control API. Every state change goes through
//! [`Registry::set_state`], which checks it, logs it with a timestamp and
//! updates the `backend_up` metric.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::{mpsc, watch};

use super::logfile::{newest_in_tail, LogFile, DEFAULT_KEEP, DEFAULT_MAX_BYTES};
use super::runner::Command;
use super::state::ModelState;
use super::stats::{Claim, ModelStats};
use crate::config::schema::{is_instance_of, REPLICA_SEP};
use crate::config::{Config, ModelConfig, Paths};
use crate::control::api::{ModelStatus, ProxyStatus, StatusReport};
use crate::engine::Launch;
use crate::gpu::Inventory;
use crate::metrics::Metrics;

/// A starting model's newest server line in `status` is cut to this many characters.
const LOADING_WIDTH: usize = 160;

/// One running copy of a model (the model itself or a replica), keyed by
/// its instance id (`qwen`, `qwen@1`). `config.name` is the model's name.
pub struct Entry {
    pub config: ModelConfig,
    pub launch: Launch,
    pub state: watch::Sender<ModelState>,
    pub pid: Option<u32>,
    pub restarts: u32,
    pub last_error: Option<String>,
    /// Why it is in its state, in words, from the change that put it there.
    pub detail: Option<String>,
    pub log: Arc<Mutex<LogFile>>,
    pub stats: Arc<ModelStats>,
    pub commands: mpsc::UnboundedSender<Command>,
    /// `launch`'s base URL, shared with each request routed here.
    pub base_url: Arc<str>,
    /// When the copy entered its current state.
    pub since: std::time::Instant,
    /// `Bearer KEY` for the copy's server, when its config names a key.
    pub backend_auth: Option<Arc<str>>,
    /// The context length its server reports in `/v1/models` (vLLM does).
    pub max_model_len: Option<u64>,
    /// Requests waiting for the copy to take traffic, by ticket number,
    /// with when each began to wait.
    pub waiting: BTreeMap<u64, Instant>,
    /// When `start-model` (or the first start) asked for it, until it starts.
    pub wanted_by_hand: Option<Instant>,
    /// Its server sleeps (sleep mode): its weights are in host memory.
    pub asleep: bool,
    /// Its `gpu_memory_utilization` (model over profile), if set: what it
    /// needs of each GPU, for placing swap group members side by side.
    pub memory_fraction: Option<f64>,
    /// The LoRA adapters its server is started with (`--lora-modules`).
    pub launch_loras: Vec<crate::config::LoraAdapter>,
    /// The adapters its running server has loaded: those it started with,
    /// and those loaded since (`lora add`, or a request for one).
    pub loaded_loras: std::collections::BTreeSet<String>,
}

impl Entry {
    /// A route to this copy for `requested`, with its in-flight slot when
    /// it takes traffic and has one free (`max_concurrent`).
    fn route(&self, requested: &str, rewrite_to: Option<String>) -> Route {
        let state = *self.state.borrow();
        let room = self
            .config
            .max_concurrent
            .is_none_or(|max| self.stats.in_flight.get() < i64::from(max));
        // A url model's server has its adapters already: never loaded from here.
        let lora = (matches!(self.launch, Launch::Process(_))
            && requested != self.config.name
            && !self.loaded_loras.contains(requested))
        .then(|| {
            self.config
                .lora_adapters
                .iter()
                .find(|l| l.name == requested)
                .cloned()
        })
        .flatten();
        Route {
            rewrite_to,
            base_url: Arc::clone(&self.base_url),
            backend_auth: self.backend_auth.clone(),
            state,
            stats: Arc::clone(&self.stats),
            claim: (state.takes_traffic() && room).then(|| self.stats.claim()),
            lora,
        }
    }
}

pub struct Registry {
    pub config_name: String,
    pub paths: Paths,
    pub started: Instant,
    pub proxy_url: String,
    pub metrics: Arc<Metrics>,
    config: Mutex<Config>,
    models: Mutex<BTreeMap<String, Entry>>,
    proxy_log: Mutex<LogFile>,
    /// `start --foreground`: also print log lines on stdout.
    echo: bool,
    /// The last GPU sample, refreshed by the sampler task.
    gpus: Mutex<Inventory>,
    /// Marked on every state change, and when a model comes or goes.
    changes: watch::Sender<()>,
    /// For the requests the supervisor itself sends a server (LoRA).
    pub http: reqwest::Client,
    /// The swap groups whose scheduler runs.
    swap_schedulers: Mutex<std::collections::BTreeSet<String>>,
    /// Marked when a request begins or ends waiting for a model.
    demand: watch::Sender<()>,
    next_ticket: std::sync::atomic::AtomicU64,
}

/// A request's place in the queue of a model it waits for; it leaves the
/// queue when dropped (served, refused, or its client gone).
pub struct Ticket {
    reg: Arc<Registry>,
    id: String,
    number: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let waited = self.reg.with(&self.id, |e| {
            let since = e.waiting.remove(&self.number);
            (since, e.waiting.len())
        });
        if let Some((since, left)) = waited {
            let label = Metrics::label(&self.id);
            let metrics = &self.reg.metrics;
            metrics
                .queue_length
                .get_or_create(&label)
                .set(i64::try_from(left).unwrap_or(i64::MAX));
            if let Some(since) = since {
                metrics
                    .queue_wait
                    .get_or_create(&label)
                    .observe(since.elapsed().as_secs_f64());
            }
        }
        self.reg.demand.send_replace(());
    }
}

/// Where a request for `model` goes.
pub struct Route {
    /// The `model` value the backend expects, when it differs from the request's.
    pub rewrite_to: Option<String>,
    pub base_url: Arc<str>,
    /// `Bearer KEY` to send the backend instead of the client's key.
    pub backend_auth: Option<Arc<str>>,
    pub state: ModelState,
    pub stats: Arc<ModelStats>,
    /// The request's in-flight slot, taken under the registry lock when the
    /// copy takes traffic, so two requests routed at once see each other.
    pub claim: Option<Claim>,
    /// The LoRA adapter asked for, when the copy's server has not loaded
    /// it yet: loaded before the request goes on.
    pub lora: Option<crate::config::LoraAdapter>,
}

impl Route {
    /// The copy's instance id (`qwen`, `qwen@1`).
    pub fn model(&self) -> &str {
        &self.stats.model
    }
}

/// How close a copy that takes no traffic is to taking it (lower is
/// closer): the copy picked to explain a 503, or to wait for.
fn rank(state: ModelState) -> u8 {
    match state {
        ModelState::Ready => 0,
        ModelState::Starting => 1,
        ModelState::Pending => 2,
        ModelState::Idle => 3,
        ModelState::Unhealthy => 4,
        ModelState::Stopping => 5,
        ModelState::Stopped => 6,
        ModelState::Failed => 7,
    }
}

/// `2026-11-25T21:30:00.123Z`
pub fn stamp() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock must not take the supervisor down with it.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Registry {
    pub fn new(
        config_name: &str,
        paths: Paths,
        config: Config,
        echo: bool,
    ) -> std::io::Result<Self> {
        let proxy_log = LogFile::open(
            &paths.logs_dir(config_name).join("proxy.log"),
            DEFAULT_MAX_BYTES,
            DEFAULT_KEEP,
        )?;
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Registry {
            http,
            config_name: config_name.to_string(),
            proxy_url: format!("http://{}", config.proxy_address()),
            paths,
            started: Instant::now(),
            metrics: Arc::new(Metrics::default()),
            config: Mutex::new(config),
            models: Mutex::new(BTreeMap::new()),
            proxy_log: Mutex::new(proxy_log),
            echo,
            gpus: Mutex::new(Inventory::Unavailable("not sampled yet".into())),
            changes: watch::Sender::new(()),
            swap_schedulers: Mutex::new(std::collections::BTreeSet::new()),
            demand: watch::Sender::new(()),
            next_ticket: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Queue a request for copy `id` until the ticket is dropped.
    pub fn enqueue(self: &Arc<Self>, id: &str) -> Ticket {
        let number = self
            .next_ticket
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let queued = self.with(id, |e| {
            e.waiting.insert(number, Instant::now());
            e.waiting.len()
        });
        if let Some(queued) = queued {
            self.metrics
                .queue_length
                .get_or_create(&Metrics::label(id))
                .set(i64::try_from(queued).unwrap_or(i64::MAX));
        }
        self.demand.send_replace(());
        Ticket {
            reg: Arc::clone(self),
            id: id.to_string(),
            number,
        }
    }

    /// Requests waiting for model `name` (every copy's queue), and the
    /// most it may have (`max_queue`).
    pub fn queued(&self, name: &str) -> (usize, Option<u32>) {
        let models = lock(&self.models);
        let copies = models.values().filter(|e| e.config.name == name);
        let mut limit = None;
        let mut queued = 0;
        for e in copies {
            queued += e.waiting.len();
            limit = limit.or(e.config.max_queue);
        }
        (queued, limit)
    }

    /// Sees a change each time a request begins or ends waiting, or a
    /// model is asked for by hand.
    pub fn demand(&self) -> watch::Receiver<()> {
        self.demand.subscribe()
    }

    /// Mark copy `id` as asked for by hand (`start-model`, the first
    /// start), or no longer (`None`).
    pub fn want_by_hand(&self, id: &str, since: Option<Instant>) {
        self.with(id, |e| e.wanted_by_hand = since);
        self.demand.send_replace(());
    }

    /// Whether swap group `group`'s scheduler is to be started: true once,
    /// until [`Registry::swap_scheduler_ended`].
    pub fn swap_scheduler_needed(&self, group: &str) -> bool {
        lock(&self.swap_schedulers).insert(group.to_string())
    }

    /// The scheduler of `group` ends if the group has no member left;
    /// whether it did (under one lock, so a new member starts a new one).
    pub fn swap_scheduler_ended(&self, group: &str) -> bool {
        let mut running = lock(&self.swap_schedulers);
        if self.swap_members(group).is_empty() {
            running.remove(group);
            return true;
        }
        false
    }

    /// The swap group of model `id`, if it is in one.
    pub fn swap_group_of(&self, id: &str) -> Option<String> {
        self.with(id, |e| e.config.swap_group.clone()).flatten()
    }

    /// Every member of swap group `group`, with its state.
    pub fn swap_members(&self, group: &str) -> Vec<(String, ModelState)> {
        lock(&self.models)
            .iter()
            .filter(|(_, e)| e.config.swap_group.as_deref() == Some(group))
            .map(|(id, e)| (id.clone(), *e.state.borrow()))
            .collect()
    }

    pub fn config(&self) -> Config {
        lock(&self.config).clone()
    }

    pub fn set_config(&self, config: Config) {
        *lock(&self.config) = config;
    }

    /// Change model `name` in the running config (what `reload` compares
    /// the saved one with), as a change applied while it runs.
    pub fn update_model_config(&self, name: &str, f: impl FnOnce(&mut ModelConfig)) {
        if let Some(model) = lock(&self.config).model_mut(name) {
            f(model);
        }
    }

    /// The host memory, in GiB, copy `id`'s weights take when its server
    /// sleeps, taken as the GPU memory it has on its GPUs (its share of
    /// each, as placement counts it); 0 when that is not known.
    pub fn sleep_memory_of(&self, id: &str) -> f64 {
        let gpus = self.gpu_sample();
        self.with(id, |e| {
            let (on, need) = super::swap::placement(&e.config, e.memory_fraction, &gpus);
            on.iter()
                .filter_map(|g| gpus.iter().find(|info| info.index == *g))
                .map(|info| need * info.memory_total_mib as f64 / 1024.0)
                .sum()
        })
        .unwrap_or(0.0)
    }

    /// What the sleeping servers hold of host memory together ([`Registry::sleep_memory_of`]).
    pub fn asleep_memory(&self) -> f64 {
        let asleep: Vec<String> = lock(&self.models)
            .iter()
            .filter(|(_, e)| e.asleep)
            .map(|(id, _)| id.clone())
            .collect();
        asleep.iter().map(|id| self.sleep_memory_of(id)).sum()
    }

    /// The GPUs as last sampled (none when they could not be read).
    pub fn gpu_sample(&self) -> Vec<crate::gpu::GpuInfo> {
        lock(&self.gpus).gpus().to_vec()
    }

    pub fn set_gpus(&self, gpus: Inventory) {
        for gpu in gpus.gpus() {
            let label = crate::metrics::GpuLabel {
                gpu: gpu.index.to_string(),
            };
            self.metrics
                .gpu_utilization
                .get_or_create(&label)
                .set(i64::from(gpu.utilization_percent));
            let bytes = gpu.memory_used_mib.saturating_mul(1024 * 1024);
            self.metrics
                .gpu_memory_used
                .get_or_create(&label)
                .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
        *lock(&self.gpus) = gpus;
    }

    /// A timestamped line in proxy.log.
    pub fn log(&self, line: &str) {
        use std::io::Write;
        let line = format!("{} {line}", stamp());
        // Standard output may be a closed pipe or a terminal that is gone:
        // never a reason to fail (println! would panic the calling task).
        if self.echo {
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
        if let Err(err) = lock(&self.proxy_log).write_line(&line) {
            let _ = writeln!(
                std::io::stderr().lock(),
                "{line} (cannot write proxy.log: {err})"
            );
        }
    }

    /// A timestamped line in the model's log.
    pub fn model_log(&self, name: &str, line: &str) {
        let log = lock(&self.models).get(name).map(|e| Arc::clone(&e.log));
        if let Some(log) = log {
            let _ = lock(&log).write_line(&format!("{} vllm-mux: {line}", stamp()));
        }
    }

    pub fn open_model_log(&self, name: &str) -> std::io::Result<Arc<Mutex<LogFile>>> {
        let path = self
            .paths
            .logs_dir(&self.config_name)
            .join(format!("{name}.log"));
        Ok(Arc::new(Mutex::new(LogFile::open(
            &path,
            DEFAULT_MAX_BYTES,
            DEFAULT_KEEP,
        )?)))
    }

    pub fn insert(&self, id: &str, entry: Entry) {
        self.metrics.set_state(id, *entry.state.borrow());
        lock(&self.models).insert(id.to_string(), entry);
        self.changes.send_replace(());
    }

    /// The instance ids `name` stands for: itself if it is a replica's id,
    /// else every copy of the model of that name.
    pub fn ids_of(&self, name: &str) -> Vec<String> {
        let models = lock(&self.models);
        if name.contains(REPLICA_SEP) {
            return models
                .contains_key(name)
                .then(|| name.to_string())
                .into_iter()
                .collect();
        }
        models
            .keys()
            .filter(|id| is_instance_of(id, name))
            .cloned()
            .collect()
    }

    pub fn remove(&self, name: &str) -> Option<Entry> {
        self.metrics.forget(name);
        let removed = lock(&self.models).remove(name);
        self.changes.send_replace(());
        removed
    }

    /// Sees a change each time a model changes state, comes or goes.
    pub fn changes(&self) -> watch::Receiver<()> {
        self.changes.subscribe()
    }

    /// How many copies are in each state, the states in the order of
    /// [`rank`] (ready first), leaving out the ones with none.
    pub fn state_counts(&self) -> Vec<(ModelState, usize)> {
        let mut counts: Vec<(ModelState, usize)> = Vec::new();
        for entry in lock(&self.models).values() {
            let state = *entry.state.borrow();
            match counts.iter_mut().find(|(s, _)| *s == state) {
                Some((_, n)) => *n += 1,
                None => counts.push((state, 1)),
            }
        }
        counts.sort_by_key(|(state, _)| rank(*state));
        counts
    }

    pub fn names(&self) -> Vec<String> {
        lock(&self.models).keys().cloned().collect()
    }

    /// Run `f` on a model's entry, if it exists.
    pub fn with<R>(&self, name: &str, f: impl FnOnce(&mut Entry) -> R) -> Option<R> {
        lock(&self.models).get_mut(name).map(f)
    }

    pub fn state(&self, name: &str) -> Option<ModelState> {
        self.with(name, |e| *e.state.borrow())
    }

    pub fn subscribe(&self, name: &str) -> Option<watch::Receiver<ModelState>> {
        self.with(name, |e| e.state.subscribe())
    }

    pub fn send(&self, name: &str, command: Command) -> bool {
        self.with(name, |e| e.commands.send(command).is_ok())
            .unwrap_or(false)
    }

    /// A crash that will be restarted: counted in status and in metrics.
    pub fn note_restart(&self, name: &str, why: &str) {
        self.with(name, |e| {
            e.restarts += 1;
            e.last_error = Some(why.to_string());
        });
        self.metrics
            .restarts
            .get_or_create(&Metrics::label(name))
            .inc();
    }

    /// Change a model's state if the change is allowed; log it either way.
    pub fn set_state(&self, name: &str, next: ModelState, detail: &str) {
        self.set_state_if(name, next, detail, |_| true);
    }

    /// [`Registry::set_state`], if `when` holds for the entry under the same
    /// lock requests are routed (and claim their in-flight slot) under.
    /// Whether the state changed.
    pub fn set_state_if(
        &self,
        name: &str,
        next: ModelState,
        detail: &str,
        when: impl FnOnce(&Entry) -> bool,
    ) -> bool {
        let changed = self.with(name, |e| {
            let current = *e.state.borrow();
            if current == next || !when(e) {
                return None;
            }
            if !current.can_become(next) {
                return Some(Err(current));
            }
            e.state.send_replace(next);
            e.since = std::time::Instant::now();
            e.detail = (!detail.is_empty()).then(|| detail.to_string());
            Some(Ok(current))
        });
        let suffix = if detail.is_empty() {
            String::new()
        } else {
            format!(" ({detail})")
        };
        match changed.flatten() {
            Some(Ok(from)) => {
                let up = i64::from(next.takes_traffic());
                self.metrics
                    .backend_up
                    .get_or_create(&Metrics::label(name))
                    .set(up);
                self.metrics.set_state(name, next);
                self.log(&format!("model '{name}': {from} → {next}{suffix}"));
                self.model_log(name, &format!("{from} → {next}{suffix}"));
                self.changes.send_replace(());
                true
            }
            Some(Err(from)) => {
                self.log(&format!(
                    "model '{name}': refused impossible change {from} → {next}{suffix}"
                ));
                false
            }
            None => false,
        }
    }

    /// Start the idle copies of the model of copy `id`, for a request
    /// that wants it; whether there were any.
    pub fn wake(&self, id: &str) -> bool {
        let woken: Vec<String> = {
            let models = lock(&self.models);
            let Some(name) = models.get(id).map(|e| e.config.name.clone()) else {
                return false;
            };
            models
                .iter()
                .filter(|(_, e)| e.config.name == name && *e.state.borrow() == ModelState::Idle)
                .filter(|(_, e)| e.commands.send(Command::Start).is_ok())
                .map(|(id, _)| id.clone())
                .collect()
        };
        for id in &woken {
            self.model_log(id, "a request for it came while idle: starting it");
        }
        !woken.is_empty()
    }

    /// Resolve what a client sent as `model` (a name, an alias or a LoRA
    /// name) to one copy of the model: the ready one with the fewest
    /// requests in flight or, if none is ready, the one closest to it.
    pub fn route(&self, requested: &str) -> Option<Route> {
        let models = lock(&self.models);
        let mut best: Option<&Entry> = None;
        for e in models.values() {
            let c = &e.config;
            let serves = c.name == requested
                || c.aliases.iter().any(|a| a == requested)
                || c.lora_adapters.iter().any(|l| l.name == requested);
            let better = serves
                && best.is_none_or(|b| {
                    let (state, b_state) = (*e.state.borrow(), *b.state.borrow());
                    if state.takes_traffic() && b_state.takes_traffic() {
                        e.stats.in_flight.get() < b.stats.in_flight.get()
                    } else {
                        rank(state) < rank(b_state)
                    }
                });
            if better {
                best = Some(e);
            }
        }
        best.map(|e| {
            let c = &e.config;
            let alias = c.name != requested && c.aliases.iter().any(|a| a == requested);
            e.route(requested, alias.then(|| c.name.clone()))
        })
    }

    /// The copy `/upstream/{requested}/…` reaches: one copy by its id
    /// (`qwen` is the first, `qwen@1` the next), so each can be scraped;
    /// else the copy [`Registry::route`] picks for an alias or adapter.
    pub fn route_copy(&self, requested: &str) -> Option<Route> {
        if let Some(e) = lock(&self.models).get(requested) {
            return Some(e.route(requested, None));
        }
        self.route(requested)
    }

    /// The context length a model's servers report, once one has.
    pub fn max_model_len(&self, model: &str) -> Option<u64> {
        lock(&self.models)
            .values()
            .filter(|e| e.config.name == model)
            .find_map(|e| e.max_model_len)
    }

    /// Every name clients may send, with the model behind it.
    pub fn served_names(&self) -> Vec<(String, String)> {
        let models = lock(&self.models);
        let mut names = Vec::new();
        // Replicas serve the same names as their model: list each once.
        for e in models
            .iter()
            .filter(|(id, e)| **id == e.config.name)
            .map(|(_, e)| e)
        {
            let c = &e.config;
            names.push((c.name.clone(), c.name.clone()));
            names.extend(c.aliases.iter().map(|a| (a.clone(), c.name.clone())));
            names.extend(
                c.lora_adapters
                    .iter()
                    .map(|l| (l.name.clone(), c.name.clone())),
            );
        }
        names
    }

    pub fn report(&self) -> StatusReport {
        let models = lock(&self.models);
        let config = lock(&self.config);
        let order: Vec<&str> = config.models.iter().map(|m| m.name.as_str()).collect();
        let mut statuses: Vec<ModelStatus> = models
            .iter()
            .map(|(id, e)| {
                let state = *e.state.borrow();
                ModelStatus {
                    name: id.clone(),
                    state,
                    state_for_s: e.since.elapsed().as_secs(),
                    port: e.config.port,
                    pid: e.pid,
                    gpu_ids: e.config.gpu_ids.clone(),
                    restarts: e.restarts,
                    requests: e.stats.requests.get(),
                    errors: e.stats.errors.get(),
                    in_flight: u64::try_from(e.stats.in_flight.get()).unwrap_or(0),
                    p50_ms: e.stats.p50_ms(),
                    last_error: e.last_error.clone(),
                    detail: match state {
                        // A ready model needs no explaining.
                        ModelState::Ready => None,
                        // Loading takes minutes: what its server last said.
                        ModelState::Starting => {
                            loading(&lock(&e.log).tail()).or_else(|| e.detail.clone())
                        }
                        _ => e.detail.clone(),
                    },
                    log_tail: if state == ModelState::Failed {
                        lock(&e.log).tail()
                    } else {
                        Vec::new()
                    },
                    queued: e.waiting.len() as u64,
                    rejected: self
                        .metrics
                        .queue_rejected
                        .get_or_create(&Metrics::label(id))
                        .get(),
                    lora_loaded: if e.pid.is_some() || !e.config.engine.launches_process() {
                        e.loaded_loras.iter().cloned().collect()
                    } else {
                        Vec::new()
                    },
                }
            })
            .collect();
        // Config order, each model followed by its replicas.
        statuses.sort_by_key(|m| {
            let model = m.name.split(REPLICA_SEP).next().unwrap_or(&m.name);
            let position = order.iter().position(|n| *n == model).unwrap_or(usize::MAX);
            (position, m.name.len(), m.name.clone())
        });
        StatusReport {
            version: env!("CARGO_PKG_VERSION").to_string(),
            config: self.config_name.clone(),
            proxy: ProxyStatus {
                url: self.proxy_url.clone(),
                pid: std::process::id(),
                uptime_s: self.started.elapsed().as_secs(),
            },
            models: statuses,
            gpus: lock(&self.gpus).gpus().to_vec(),
        }
    }
}

/// The newest line a starting model's server wrote since it was started.
fn loading(tail: &[String]) -> Option<String> {
    newest_in_tail(tail, LOADING_WIDTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_starting_model_shows_its_servers_newest_line_of_this_start() {
        let lines = |ls: &[&str]| ls.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        let tail = lines(&[
            "2026-11-26T07:00:01.000Z INFO old run",
            "2026-11-26T07:05:00.000Z vllm-mux: ready → starting (exited with code 1; restarting in 1 s)",
        ]);
        assert_eq!(loading(&tail), None, "nothing said since the start");
        let tail = lines(&[
            "2026-11-26T07:05:00.000Z vllm-mux: pending → starting",
            "2026-11-26T07:05:01.000Z INFO Loading safetensors checkpoint shards: 60%",
            "2026-11-26T07:05:02.000Z vllm-mux: started vllm (pid 7)",
        ]);
        assert_eq!(
            loading(&tail).as_deref(),
            Some("INFO Loading safetensors checkpoint shards: 60%")
        );
        // The start line scrolled out of the tail: every line is this start's.
        assert_eq!(
            loading(&tail[1..]).as_deref(),
            Some("INFO Loading safetensors checkpoint shards: 60%")
        );
    }
}
