//! The CLI's side of the control API: HTTP over the config's Unix socket.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use serde::de::DeserializeOwned;

use super::api::{self, ActionReply, ApiError, StatusReport};
use crate::config::Paths;
use crate::error::Failure;
use crate::supervisor::daemonize::OUT_FILE;
use crate::supervisor::reload::ReloadSummary;
use crate::supervisor::serve::SOCKET;
use crate::supervisor::state_file::{describe, last_state, last_written, left_behind};

/// How long the CLI waits for the supervisor to answer a request that
/// does not wait for models.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long `reload` waits for the supervisor to apply the changes.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// Marks an error as the supervisor not answering in time: it may be hung.
/// The error itself is a [`Failure`] under this context.
#[derive(Debug)]
pub struct NoAnswer;

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the supervisor did not answer")
    }
}

pub struct Client {
    http: reqwest::Client,
    config: String,
    socket: PathBuf,
    paths: Paths,
}

impl Client {
    pub fn new(paths: &Paths, config: &str) -> Result<Self> {
        let socket = paths.run_dir(config).join(SOCKET);
        let http = reqwest::Client::builder()
            .unix_socket(socket.clone())
            .build()
            .map_err(|err| Failure::runtime(format!("cannot build the control client: {err}")))?;
        Ok(Client {
            http,
            config: config.to_string(),
            socket,
            paths: paths.clone(),
        })
    }

    fn url(path: &str) -> String {
        format!("http://vllm-mux{path}")
    }

    /// Nothing answers on the socket. When the supervisor ended without
    /// stopping, what it left behind says so, and when.
    pub fn not_running(&self) -> Failure {
        let run_dir = self.socket.parent().unwrap_or(std::path::Path::new("."));
        // A typo in the name: say so, and which names there are, rather
        // than "not running" and a hint to start what does not exist.
        let store = crate::config::Store::new(self.paths.clone());
        if !store.path(&self.config).exists() && left_behind(run_dir).is_none() {
            return store.missing(&self.config);
        }
        let not_running = format!("config '{}' is not running", self.config);
        let start = format!("'vllm-mux --config {} start'", self.config);
        match left_behind(run_dir) {
            Some((report, written)) => {
                let why = format!(
                    "'vllm-mux --config {} logs proxy' and {} may say why",
                    self.config,
                    run_dir.join(OUT_FILE).display()
                );
                Failure::not_running(format!("{not_running}: {}", describe(&report, written)))
                    .hint(format!("{why}; {start} starts it again"))
            }
            None => Failure::not_running(not_running).hint(format!("start it with {start}")),
        }
    }

    async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T> {
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) if err.is_connect() => return Err(self.not_running().into()),
            Err(err) if err.is_timeout() => {
                // What it last wrote is the best there is to go on.
                let last = self
                    .socket
                    .parent()
                    .and_then(last_written)
                    .map_or(String::new(), |(report, written)| {
                        format!("; its {}", last_state(&report, written))
                    });
                let failure = Failure::runtime(format!(
                    "the supervisor of '{}' did not answer in time on {}{last}",
                    self.config,
                    self.socket.display()
                ))
                .hint(format!(
                    "it may be hung; 'vllm-mux --config {} stop' stops it anyway (SIGTERM, then SIGKILL; its engines stop with it)",
                    self.config
                ));
                return Err(anyhow::Error::from(failure).context(NoAnswer));
            }
            Err(err) => {
                return Err(Failure::runtime(format!(
                    "the supervisor did not answer on {}: {err}",
                    self.socket.display()
                ))
                .into())
            }
        };
        let status = response.status();
        if status.is_success() {
            return response.json::<T>().await.map_err(|err| {
                Failure::runtime(format!(
                    "the supervisor sent an answer this vllm-mux cannot read: {err}"
                ))
                .into()
            });
        }
        let body: ApiError = response.json().await.unwrap_or(ApiError {
            error: format!("the supervisor answered {status}"),
            hint: None,
        });
        let mut lines = body.error.lines().map(str::to_string);
        let first = lines.next().unwrap_or_default();
        let mut failure = if status == reqwest::StatusCode::UNPROCESSABLE_ENTITY
            || status == reqwest::StatusCode::NOT_FOUND
        {
            Failure::usage(first)
        } else {
            Failure::runtime(first)
        };
        failure = failure.with_more(lines.collect());
        failure.hint = body.hint;
        Err(failure.into())
    }

    pub async fn status(&self) -> Result<StatusReport> {
        self.send(
            self.http
                .get(Self::url(api::STATUS))
                .timeout(ANSWER_TIMEOUT),
        )
        .await
    }

    pub async fn shutdown(&self, timeout: Duration) -> Result<ActionReply> {
        let url = format!("{}?timeout={}", Self::url(api::SHUTDOWN), timeout.as_secs());
        // It answers first, then shuts down: no answer means it is stuck.
        self.send(self.http.post(url).timeout(ANSWER_TIMEOUT)).await
    }

    pub async fn stop_model(&self, name: &str, timeout: Duration) -> Result<ActionReply> {
        let url = format!(
            "{}?timeout={}",
            Self::url(&api::model_path(api::MODEL_STOP, name)),
            timeout.as_secs()
        );
        // It answers once the model is stopped: SIGKILL comes at `timeout`.
        self.send(self.http.post(url).timeout(timeout + ANSWER_TIMEOUT))
            .await
    }

    pub async fn start_model(&self, name: &str) -> Result<ActionReply> {
        self.send(
            self.http
                .post(Self::url(&api::model_path(api::MODEL_START, name)))
                .timeout(ANSWER_TIMEOUT),
        )
        .await
    }

    pub async fn add_lora(
        &self,
        model: &str,
        adapter: &crate::config::LoraAdapter,
    ) -> Result<crate::supervisor::lora::LoraReport> {
        let url = Self::url(&api::model_path(api::MODEL_LORAS, model));
        // Loading takes the server a moment; each copy up to two minutes.
        self.send(self.http.post(url).json(adapter).timeout(RELOAD_TIMEOUT))
            .await
    }

    pub async fn remove_lora(
        &self,
        model: &str,
        adapter: &str,
    ) -> Result<crate::supervisor::lora::LoraReport> {
        let path = api::model_path(api::MODEL_LORA_REMOVE, model).replace("{adapter}", adapter);
        self.send(self.http.post(Self::url(&path)).timeout(RELOAD_TIMEOUT))
            .await
    }

    pub async fn reload(&self) -> Result<ReloadSummary> {
        // It stops the models it removes or changes before it answers,
        // each up to its stop timeout: a long bound, but a bound.
        self.send(
            self.http
                .post(Self::url(api::RELOAD))
                .timeout(RELOAD_TIMEOUT),
        )
        .await
    }
}

/// Run a future on a small runtime of the CLI's own.
pub fn block_on<F: std::future::Future>(future: F) -> Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Failure::runtime(format!("cannot start the async runtime: {err}")))?;
    Ok(runtime.block_on(future))
}
