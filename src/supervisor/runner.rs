//! One model's life, as a task: start on command, wait for health, watch it,
//! restart it after a crash with backoff, stop it on command.
//!
//! An engine that exits before it was ever ready in this start is `failed`
//! at once (a wrong path or flag will not fix itself); one that crashes
//! after it was ready is restarted with backoff until the restart policy
//! gives up. A model with an idle timeout is stopped when it has had no
//! request for that long, and a swap group's member when another is
//! swapped in ([`Command::Rest`]); either waits, `idle`, for a start (a
//! request wakes it through the registry or the swap group's turn).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::logfile::newest_in_tail;
use super::process::{self, Running};
use super::registry::Registry;
use super::restart::{Decision, RestartPolicy, RestartTracker};
use super::state::ModelState;
use crate::engine::Launch;
use crate::metrics::Load;

/// What a runner can be asked to do.
#[derive(Debug)]
pub enum Command {
    Start,
    Stop {
        timeout: Duration,
        done: Option<oneshot::Sender<()>>,
    },
    /// Give way to another model of its swap group: no new requests, those
    /// in flight get up to [`DRAIN`] to finish, then the server stops and
    /// the model is idle. `done` once it has.
    Rest {
        done: Option<oneshot::Sender<()>>,
        /// For whom, and why, in words for `status`.
        why: String,
    },
}

/// Health polling while a model starts: often, so `start` returns soon.
const STARTUP_POLL: Duration = Duration::from_millis(100);
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for a timed-out engine to exit before SIGKILL.
const GIVE_UP_GRACE: Duration = Duration::from_secs(5);
/// How often a ready model with an idle timeout is checked for requests.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How long a model giving way in its swap group lets the requests in
/// flight finish before its server is stopped under them.
pub const DRAIN: Duration = Duration::from_secs(60);
/// How long a server gets to fall asleep or wake up (sleep mode): moving
/// the weights of a large model between GPU and CPU memory takes a while.
const SLEEP_TIMEOUT: Duration = Duration::from_secs(180);

/// How long an exited server's last output may take to reach its log.
const OUTPUT_DRAIN: Duration = Duration::from_secs(1);

/// A server's last line in `last_error` is cut to this many characters.
const LAST_WORDS_WIDTH: usize = 200;

pub struct Runner {
    pub reg: Arc<Registry>,
    pub name: String,
    pub launch: Launch,
    /// `Bearer KEY` for servers that want a key for their health path too.
    pub backend_auth: Option<Arc<str>>,
    pub vllm_mux: PathBuf,
    pub http: reqwest::Client,
    /// vLLM refused sleep mode on this platform: started without it, and
    /// stopped instead of put to sleep when idle.
    pub sleep_refused: std::sync::atomic::AtomicBool,
}

/// How waiting for something ended.
enum Outcome {
    Ready,
    Exited(Option<std::process::ExitStatus>),
    TimedOut,
    Stop(Duration, Option<oneshot::Sender<()>>),
    /// No request for its idle timeout: marked idle, its server to stop.
    Idle,
    /// Give way in its swap group, for the reason given.
    Rest(Option<oneshot::Sender<()>>, String),
}

/// How a ready model's time ended.
enum Phase {
    /// Stopped, or idle: the runner waits for its next command.
    Ended,
    /// The engine exited on its own: a crash.
    Exited(Option<std::process::ExitStatus>),
    /// A sleeping server did not wake: start it afresh.
    Cold,
}

/// How a sleeping server's sleep ended.
enum Slept {
    Woken,
    /// It would not fall asleep: stop it instead, then reply.
    Refused(Option<oneshot::Sender<()>>),
    /// It did not wake: stopped, to be started afresh.
    Cold,
    Stop(Duration, Option<oneshot::Sender<()>>),
    Exited(Option<std::process::ExitStatus>),
}

impl Runner {
    pub async fn run(self, mut commands: mpsc::UnboundedReceiver<Command>) {
        while let Some(command) = commands.recv().await {
            match command {
                Command::Start => self.serve(&mut commands).await,
                Command::Stop { done, .. } => {
                    match self.reg.state(&self.name) {
                        Some(ModelState::Pending) => self.reg.set_state(
                            &self.name,
                            ModelState::Stopped,
                            "stopped before it started",
                        ),
                        Some(ModelState::Idle) => self.reg.set_state(
                            &self.name,
                            ModelState::Stopped,
                            "requests no longer start it",
                        ),
                        _ => {}
                    }
                    reply(done);
                }
                Command::Rest { done, why } => {
                    // Nothing runs; one waiting for its first start gives way too.
                    if self.reg.state(&self.name) == Some(ModelState::Pending) {
                        self.give_way_note(&why);
                    }
                    reply(done);
                }
            }
        }
    }

    /// From a start command until the model is stopped or failed.
    async fn serve(&self, commands: &mut mpsc::UnboundedReceiver<Command>) {
        let mut tracker = RestartTracker::new(RestartPolicy::default());
        self.reg.with(&self.name, |e| e.last_error = None);
        let mut ever_ready = false;
        loop {
            self.reg.set_state(&self.name, ModelState::Starting, "");
            let mut running = match self.spawn() {
                Ok(running) => running,
                Err(err) => {
                    self.fail(format!("cannot start: {err}"));
                    return;
                }
            };
            if running.is_none() {
                // A server run elsewhere: nothing to wait for here.
                return self.serve_remote(commands).await;
            }
            let started = Instant::now();
            let deadline = started + Duration::from_secs(self.reg.config().startup_timeout_s);
            let outcome = self.wait_ready(running.as_mut(), deadline, commands).await;
            let exit = match outcome {
                Outcome::Ready => {
                    ever_ready = true;
                    tracker.on_ready();
                    let took = started.elapsed().as_secs_f64();
                    self.reg.metrics.loaded(&self.name, Load::Cold, took);
                    self.reg
                        .set_state(&self.name, ModelState::Ready, &format!("{took:.1} s"));
                    self.learn_max_model_len();
                    match self.while_ready(&mut running, commands).await {
                        Phase::Ended => return,
                        Phase::Exited(status) => status,
                        Phase::Cold => continue,
                    }
                }
                Outcome::Stop(timeout, done) => return self.stop(running, timeout, done).await,
                Outcome::Idle => return self.rest(running).await,
                Outcome::Rest(done, why) => return self.give_way(running, done, &why).await,
                Outcome::TimedOut => {
                    let limit = self.reg.config().startup_timeout_s;
                    // Where it got to, before stopping it adds lines of its own.
                    let words = self.last_words(None).await;
                    if let Some(mut r) = running.take() {
                        process::stop(&mut r, GIVE_UP_GRACE).await;
                    }
                    self.fail(format!("not ready after {limit} s (startup_timeout_s); its health check never answered 200{words}"));
                    return;
                }
                Outcome::Exited(status) => {
                    if !ever_ready && self.refused_sleep_mode(running.as_mut()).await {
                        continue;
                    }
                    if !ever_ready {
                        let words = self.last_words(running.as_mut()).await;
                        let how = process::describe(status);
                        self.fail(format!("{how} before it was ready{words}"));
                        return;
                    }
                    status
                }
            };
            self.reg.with(&self.name, |e| e.pid = None);
            let words = self.last_words(running.as_mut()).await;
            let how = process::describe(exit);
            match tracker.on_failure(Instant::now()) {
                Decision::GiveUp => {
                    self.fail(format!("{how}; it crashed {} times within 10 minutes, so it is not restarted again{words}", RestartPolicy::default().max_failures));
                    return;
                }
                Decision::RestartAfter(delay) => {
                    let message = format!("{how}; restarting in {} s{words}", delay.as_secs());
                    self.reg.note_restart(&self.name, &message);
                    self.reg
                        .set_state(&self.name, ModelState::Starting, &message);
                    match wait_or_interrupt(delay, commands).await {
                        Some(Outcome::Stop(timeout, done)) => {
                            return self.stop(None, timeout, done).await
                        }
                        Some(Outcome::Rest(done, why)) => {
                            return self.give_way(None, done, &why).await
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// Whether the server that just exited was vLLM refusing sleep mode
    /// (`Sleep mode is not supported on current platform`, as on CPU);
    /// then it is started again without it, and said so once.
    async fn refused_sleep_mode(&self, running: Option<&mut Running>) -> bool {
        use std::sync::atomic::Ordering;
        let Launch::Process(spec) = &self.launch else {
            return false;
        };
        if self.sleep_refused.load(Ordering::SeqCst)
            || !spec
                .args
                .iter()
                .any(|a| a == crate::engine::vllm::SLEEP_FLAG)
        {
            return false;
        }
        if let Some(r) = running {
            process::kill_group(r.pid);
            r.drained(OUTPUT_DRAIN).await;
        }
        let said = self
            .reg
            .with(&self.name, |e| {
                let tail = e.log.lock().unwrap_or_else(|p| p.into_inner()).tail();
                tail.iter()
                    .any(|l| l.contains(crate::engine::vllm::SLEEP_REFUSED))
            })
            .unwrap_or(false);
        if said {
            self.sleep_refused.store(true, Ordering::SeqCst);
            let line = format!(
                "vLLM refuses sleep mode here ('{}'): starting it without; when idle it is stopped instead of put to sleep",
                crate::engine::vllm::SLEEP_REFUSED
            );
            self.reg.model_log(&self.name, &line);
            self.reg.log(&format!("model '{}': {line}", self.name));
        }
        said
    }

    fn spawn(&self) -> std::io::Result<Option<Running>> {
        let Launch::Process(spec) = &self.launch else {
            return Ok(None);
        };
        let without;
        let spec = if self.sleep_refused.load(std::sync::atomic::Ordering::SeqCst) {
            without = spec.without_sleep_mode();
            &without
        } else {
            spec
        };
        let log = self
            .reg
            .with(&self.name, |e| Arc::clone(&e.log))
            .ok_or_else(|| std::io::Error::other("the model was removed"))?;
        let running = process::spawn(spec, &self.vllm_mux, &log)?;
        self.reg.with(&self.name, |e| {
            e.pid = Some(running.pid);
            // A new server has only the adapters it is started with.
            e.loaded_loras = e.launch_loras.iter().map(|l| l.name.clone()).collect();
        });
        self.reg.model_log(
            &self.name,
            &format!("started {} (pid {})", spec.program.display(), running.pid),
        );
        Ok(Some(running))
    }

    /// A server the supervisor does not run (the url engine): ready when
    /// its health check passes, else unhealthy at once, saying why, and
    /// checked on every health interval until it answers.
    async fn serve_remote(&self, commands: &mut mpsc::UnboundedReceiver<Command>) {
        let unhealthy = match self.health().await {
            Ok(()) => {
                // Its server serves the adapters the config lists for it.
                self.reg.with(&self.name, |e| {
                    e.loaded_loras = e.launch_loras.iter().map(|l| l.name.clone()).collect();
                });
                self.reg
                    .set_state(&self.name, ModelState::Ready, "health check passed");
                self.learn_max_model_len();
                false
            }
            Err(why) => {
                self.mark_unhealthy(format!(
                    "{} does not answer ({why}); it gets traffic once it does",
                    self.launch.health_url()
                ));
                true
            }
        };
        if let Outcome::Stop(timeout, done) = self.watch(None, commands, unhealthy).await {
            self.stop(None, timeout, done).await;
        }
    }

    /// Ask the server for the context length it serves (vLLM's
    /// `/v1/models` has `max_model_len`), for the proxy's model list. In
    /// the background: a server that does not say is no failure.
    fn learn_max_model_len(&self) {
        let request = self.get(&format!("{}/v1/models", self.launch.base_url()));
        let (reg, id) = (Arc::clone(&self.reg), self.name.clone());
        tokio::spawn(async move {
            let Ok(response) = request.send().await else {
                return;
            };
            let Ok(list) = response.json::<serde_json::Value>().await else {
                return;
            };
            let served = reg.with(&id, |e| e.config.name.clone());
            let len = list["data"].as_array().and_then(|models| {
                models
                    .iter()
                    .find(|m| m["id"].as_str() == served.as_deref())
                    .and_then(|m| m["max_model_len"].as_u64())
            });
            if len.is_some() {
                reg.with(&id, |e| e.max_model_len = len);
            }
        });
    }

    /// A GET to the model's server, with its key when it has one, bounded
    /// by the health check's timeout.
    fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.authed(self.http.get(url).timeout(HEALTH_TIMEOUT))
    }

    /// `request` with the server's key, when it has one.
    fn authed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.backend_auth {
            Some(auth) => request.header(reqwest::header::AUTHORIZATION, &**auth),
            None => request,
        }
    }

    async fn healthy(&self) -> bool {
        self.health().await.is_ok()
    }

    /// The health check, and why it failed.
    async fn health(&self) -> Result<(), String> {
        answered(self.get(self.launch.health_url()), HEALTH_TIMEOUT).await
    }

    async fn wait_ready(
        &self,
        mut running: Option<&mut Running>,
        deadline: Instant,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Outcome {
        loop {
            tokio::select! {
                status = exited(running.as_deref_mut()) => return Outcome::Exited(status),
                command = commands.recv() => if let Some(interrupt) = interrupted(command) {
                    return interrupt;
                },
                _ = tokio::time::sleep_until(deadline.into()) => return Outcome::TimedOut,
                _ = tokio::time::sleep(STARTUP_POLL) => {
                    if self.healthy().await {
                        return Outcome::Ready;
                    }
                }
            }
        }
    }

    /// Health polling of a ready (or, with `unhealthy`, an unhealthy)
    /// model, with hysteresis: `unhealthy_after` failures in a row make it
    /// unhealthy, one success makes it ready.
    async fn watch(
        &self,
        mut running: Option<&mut Running>,
        commands: &mut mpsc::UnboundedReceiver<Command>,
        unhealthy: bool,
    ) -> Outcome {
        let config = self.reg.config();
        let interval = Duration::from_millis(config.health_interval_ms);
        let mut failures = if unhealthy { config.unhealthy_after } else { 0 };
        let mut quiet = Quiet::new(self.reg.with(&self.name, |e| Arc::clone(&e.stats)));
        let mut idle_poll = tokio::time::interval(IDLE_POLL);
        let can_idle = running.is_some();
        loop {
            tokio::select! {
                status = exited(running.as_deref_mut()) => return Outcome::Exited(status),
                command = commands.recv() => if let Some(interrupt) = interrupted(command) {
                    return interrupt;
                },
                _ = idle_poll.tick(), if can_idle => {
                    if self.idled(&mut quiet) {
                        return Outcome::Idle;
                    }
                },
                _ = tokio::time::sleep(interval) => {
                    if self.healthy().await {
                        if failures >= config.unhealthy_after {
                            self.reg.set_state(&self.name, ModelState::Ready, "health check answers again");
                            self.learn_max_model_len();
                        }
                        failures = 0;
                    } else {
                        failures += 1;
                        if failures == config.unhealthy_after {
                            self.mark_unhealthy(format!("{failures} health checks failed in a row"));
                        }
                    }
                }
            }
        }
    }

    /// A ready model until it ends: watched; gone idle (its idle timeout,
    /// or giving way in its swap group), its server stops or, in sleep
    /// mode, sleeps until a start wakes it, and it is watched again.
    async fn while_ready(
        &self,
        running: &mut Option<Running>,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Phase {
        loop {
            let done = match self.watch(running.as_mut(), commands, false).await {
                Outcome::Stop(timeout, done) => {
                    self.stop(running.take(), timeout, done).await;
                    return Phase::Ended;
                }
                Outcome::Exited(status) => return Phase::Exited(status),
                Outcome::Idle => None,
                Outcome::Rest(done, why) => {
                    self.give_way_note(&why);
                    self.drain().await;
                    done
                }
                Outcome::Ready | Outcome::TimedOut => return Phase::Ended,
            };
            let sleeps = self
                .reg
                .with(&self.name, |e| e.config.sleep_mode)
                .unwrap_or(false)
                && !self.sleep_refused.load(std::sync::atomic::Ordering::SeqCst)
                && self.sleep_fits();
            // Without sleep mode, or when the server would not sleep, it stops.
            let done = if !sleeps {
                done
            } else {
                match self.sleep(running.as_mut(), commands, done).await {
                    Slept::Woken => continue,
                    Slept::Refused(done) => done,
                    Slept::Cold => {
                        self.rest(running.take()).await;
                        return Phase::Cold;
                    }
                    Slept::Stop(timeout, done) => {
                        self.stop(running.take(), timeout, done).await;
                        return Phase::Ended;
                    }
                    Slept::Exited(status) => {
                        let how = process::describe(status);
                        self.reg
                            .model_log(&self.name, &format!("its sleeping server {how}"));
                        self.reg.with(&self.name, |e| e.pid = None);
                        return Phase::Ended;
                    }
                }
            };
            self.rest(running.take()).await;
            reply(done);
            return Phase::Ended;
        }
    }

    /// Sleep mode: put the idle model's server to sleep (its weights to CPU
    /// memory), say so through `done`, and keep it asleep until a start
    /// wakes it, a stop comes, or it exits.
    async fn sleep(
        &self,
        running: Option<&mut Running>,
        commands: &mut mpsc::UnboundedReceiver<Command>,
        done: Option<oneshot::Sender<()>>,
    ) -> Slept {
        let begun = Instant::now();
        if let Err(why) = self.post("/sleep?level=1").await {
            self.reg.model_log(
                &self.name,
                &format!("its server would not sleep ({why}); stopping it instead"),
            );
            return Slept::Refused(done);
        }
        self.reg.model_log(
            &self.name,
            &format!(
                "asleep after {:.1} s: its weights are in CPU memory, its GPU memory is free",
                begun.elapsed().as_secs_f64()
            ),
        );
        self.reg.with(&self.name, |e| {
            e.asleep = true;
            e.detail = Some(
                "asleep (sleep mode): its weights are in CPU memory; the next request wakes it"
                    .into(),
            );
        });
        reply(done);
        let slept = self.asleep(running, commands).await;
        self.reg.with(&self.name, |e| e.asleep = false);
        slept
    }

    /// A sleeping server, until a start wakes it, a stop comes, or it exits.
    async fn asleep(
        &self,
        mut running: Option<&mut Running>,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Slept {
        loop {
            tokio::select! {
                status = exited(running.as_deref_mut()) => return Slept::Exited(status),
                command = commands.recv() => match command {
                    Some(Command::Start) => {
                        self.reg.set_state(&self.name, ModelState::Starting, "waking its server up");
                        let begun = Instant::now();
                        return match self.post("/wake_up").await {
                            Ok(()) => {
                                let took = begun.elapsed().as_secs_f64();
                                self.reg.metrics.loaded(&self.name, Load::Wake, took);
                                self.reg.set_state(&self.name, ModelState::Ready, &format!("awake in {took:.1} s"));
                                Slept::Woken
                            }
                            Err(why) => {
                                self.reg.model_log(
                                    &self.name,
                                    &format!("its server would not wake ({why}); starting it again"),
                                );
                                Slept::Cold
                            }
                        };
                    }
                    // Asleep is idle already.
                    Some(Command::Rest { done, .. }) => reply(done),
                    Some(Command::Stop { timeout, done }) => return Slept::Stop(timeout, done),
                    None => return Slept::Stop(GIVE_UP_GRACE, None),
                },
            }
        }
    }

    /// Whether its weights fit in the host memory sleeping servers may
    /// take (`sleep_memory_gib`) beside those asleep already; if not, it is
    /// said, and the server stops instead.
    fn sleep_fits(&self) -> bool {
        let Some(budget) = self.reg.config().sleep_memory_gib else {
            return true;
        };
        let own = self.reg.sleep_memory_of(&self.name);
        let asleep = self.reg.asleep_memory();
        if asleep + own <= budget as f64 {
            return true;
        }
        self.reg.model_log(
            &self.name,
            &format!(
                "stopping instead of sleeping: its {own:.0} GiB beside the {asleep:.0} GiB of the servers asleep would pass sleep_memory_gib ({budget} GiB)"
            ),
        );
        false
    }

    /// A POST to the model's server (sleep mode's `/sleep`, `/wake_up`),
    /// with its key when it has one; an error unless it answers 2xx.
    async fn post(&self, path: &str) -> Result<(), String> {
        let url = format!("{}{path}", self.launch.base_url());
        let request = self.authed(self.http.post(url).timeout(SLEEP_TIMEOUT));
        answered(request, SLEEP_TIMEOUT).await
    }

    /// Let the requests in flight finish, up to [`DRAIN`]; those left are
    /// cut off when the server stops, which its log says.
    async fn drain(&self) {
        let Some(stats) = self.reg.with(&self.name, |e| Arc::clone(&e.stats)) else {
            return;
        };
        let until = Instant::now() + DRAIN;
        while stats.in_flight.get() > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let left = stats.in_flight.get();
        if left > 0 {
            self.reg.model_log(
                &self.name,
                &format!(
                    "{left} request(s) still in flight after {} s are cut off",
                    DRAIN.as_secs()
                ),
            );
        }
    }

    /// Whether the model just went idle: ready, no request for its idle
    /// timeout, and none in flight (checked under the routing lock, so no
    /// request is routed to a server about to stop).
    fn idled(&self, quiet: &mut Quiet) -> bool {
        let Some(limit) = self
            .reg
            .with(&self.name, |e| e.config.idle_timeout_s)
            .flatten()
        else {
            return false;
        };
        let Some(seen) = quiet.requests_if_quiet_for(Duration::from_secs(limit)) else {
            return false;
        };
        let detail =
            format!("no requests for {limit} s, its idle_timeout_s; the next one starts it");
        self.reg
            .set_state_if(&self.name, ModelState::Idle, &detail, |e| {
                e.stats.in_flight.get() == 0 && e.stats.requests.get() == seen
            })
    }

    /// Give way to another model of its swap group: idle at once (so no
    /// request is routed here), the requests in flight get up to [`DRAIN`],
    /// then the server stops.
    async fn give_way(
        &self,
        running: Option<Running>,
        done: Option<oneshot::Sender<()>>,
        why: &str,
    ) {
        self.give_way_note(why);
        self.drain().await;
        self.rest(running).await;
        reply(done);
    }

    fn give_way_note(&self, why: &str) {
        self.reg.set_state(
            &self.name,
            ModelState::Idle,
            &format!("gave way to another model of its swap group ({why}); a request for it swaps it back in"),
        );
    }

    /// Stop the server of a model that went idle; it stays idle until a
    /// start (a request, start-model) or a stop comes.
    async fn rest(&self, running: Option<Running>) {
        if let Some(mut running) = running {
            let how = end(&mut running, super::serve::DEFAULT_STOP_TIMEOUT).await;
            self.reg
                .model_log(&self.name, &format!("idle: its server {how}"));
        }
        self.reg.with(&self.name, |e| e.pid = None);
    }

    async fn stop(
        &self,
        running: Option<Running>,
        timeout: Duration,
        done: Option<oneshot::Sender<()>>,
    ) {
        self.reg.set_state(&self.name, ModelState::Stopping, "");
        if let Some(mut running) = running {
            let how = end(&mut running, timeout).await;
            self.reg.model_log(&self.name, &how);
        }
        self.reg.with(&self.name, |e| e.pid = None);
        self.reg.set_state(
            &self.name,
            ModelState::Stopped,
            "stopped on request; start-model starts it again",
        );
        reply(done);
    }

    /// No traffic until a health check passes; `why` shows in status.
    fn mark_unhealthy(&self, why: String) {
        self.reg
            .with(&self.name, |e| e.last_error = Some(why.clone()));
        self.reg.set_state(&self.name, ModelState::Unhealthy, &why);
    }

    /// `; its last line: …`, the newest line its server wrote in this start
    /// (a traceback ends with its exception), once the rest of its group is
    /// killed and its output is in the log; empty if it wrote none.
    async fn last_words(&self, running: Option<&mut Running>) -> String {
        if let Some(r) = running {
            process::kill_group(r.pid);
            r.drained(OUTPUT_DRAIN).await;
        }
        let tail = self
            .reg
            .with(&self.name, |e| {
                e.log.lock().unwrap_or_else(|p| p.into_inner()).tail()
            })
            .unwrap_or_default();
        newest_in_tail(&tail, LAST_WORDS_WIDTH)
            .map_or(String::new(), |line| format!("; its last line: {line}"))
    }

    fn fail(&self, why: String) {
        self.reg.with(&self.name, |e| {
            e.pid = None;
            e.last_error = Some(why.clone());
        });
        self.reg.model_log(&self.name, &why);
        self.reg.set_state(&self.name, ModelState::Failed, &why);
    }
}

/// When a model last had requests, from its counters: no hot-path cost.
struct Quiet {
    stats: Option<Arc<super::stats::ModelStats>>,
    requests: u64,
    since: Instant,
}

impl Quiet {
    fn new(stats: Option<Arc<super::stats::ModelStats>>) -> Self {
        let requests = stats.as_ref().map_or(0, |s| s.requests.get());
        Quiet {
            stats,
            requests,
            since: Instant::now(),
        }
    }

    /// The request count, if there has been no new request and none in
    /// flight for `limit`.
    fn requests_if_quiet_for(&mut self, limit: Duration) -> Option<u64> {
        let stats = self.stats.as_ref()?;
        let requests = stats.requests.get();
        if requests != self.requests || stats.in_flight.get() > 0 {
            self.requests = requests;
            self.since = Instant::now();
            return None;
        }
        (self.since.elapsed() >= limit).then_some(requests)
    }
}

/// Send `request` (bounded by `limit`): `Ok` for a 2xx answer, else why not.
async fn answered(request: reqwest::RequestBuilder, limit: Duration) -> Result<(), String> {
    match request.send().await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("status {}", response.status())),
        Err(err) if err.is_timeout() => Err(format!("no answer in {} s", limit.as_secs())),
        Err(err) if err.is_connect() => Err("connection refused or unreachable".into()),
        Err(err) => Err(err.to_string()),
    }
}

/// SIGTERM the server, SIGKILL after `timeout`; how it ended.
async fn end(running: &mut Running, timeout: Duration) -> String {
    let (status, killed) = process::stop(running, timeout).await;
    if killed {
        format!(
            "did not exit within {} s of SIGTERM; killed",
            timeout.as_secs()
        )
    } else {
        process::describe(status)
    }
}

/// A stop or give-way command (or the supervisor dropping the channel) as
/// an outcome; `None` for a start, which a running model ignores.
fn interrupted(command: Option<Command>) -> Option<Outcome> {
    match command {
        Some(Command::Stop { timeout, done }) => Some(Outcome::Stop(timeout, done)),
        Some(Command::Rest { done, why }) => Some(Outcome::Rest(done, why)),
        Some(Command::Start) => None,
        None => Some(Outcome::Stop(GIVE_UP_GRACE, None)),
    }
}

/// Resolves when the engine exits; never for a remote model.
async fn exited(running: Option<&mut Running>) -> Option<std::process::ExitStatus> {
    match running {
        Some(r) => r.child.wait().await.ok(),
        None => std::future::pending().await,
    }
}

/// Sleep `delay` unless a stop or give-way command comes first.
async fn wait_or_interrupt(
    delay: Duration,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> Option<Outcome> {
    let deadline = tokio::time::Instant::now() + delay;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return None,
            command = commands.recv() => if let Some(interrupt) = interrupted(command) {
                return Some(interrupt);
            },
        }
    }
}

fn reply(done: Option<oneshot::Sender<()>>) {
    if let Some(done) = done {
        let _ = done.send(());
    }
}
