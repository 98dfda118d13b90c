//! Prometheus metrics, every name prefixed `vllm_mux_`, labelled by model
//! (never by the raw URI or by what a client sent). `status` reads the same
//! counters through [`crate::supervisor::stats::ModelStats`].

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::supervisor::state::ModelState;

/// The model label of requests that matched no model (bad JSON, unknown name).
pub const UNROUTED: &str = "_unrouted";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModelLabel {
    pub model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub model: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub model: String,
    pub state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LoadLabels {
    pub model: String,
    /// `load`: a server started and loaded its weights; `wake`: a sleeping
    /// one woke (sleep mode).
    pub kind: &'static str,
}

/// How a model got ready to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    Cold,
    Wake,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GpuLabel {
    pub gpu: String,
}

fn seconds_histogram() -> Histogram {
    // 1 ms to about 10 minutes.
    Histogram::new(exponential_buckets(0.001, 2.0, 20))
}

fn load_histogram() -> Histogram {
    // 0.1 s (a wake) to about 27 minutes (a large model's first load).
    Histogram::new(exponential_buckets(0.1, 2.0, 15))
}

pub struct Metrics {
    registry: Mutex<Registry>,
    pub requests: Family<StatusLabels, Counter>,
    pub in_flight: Family<ModelLabel, Gauge>,
    pub duration: Family<ModelLabel, Histogram, fn() -> Histogram>,
    pub ttfb: Family<ModelLabel, Histogram, fn() -> Histogram>,
    pub stream_errors: Family<ModelLabel, Counter>,
    pub backend_up: Family<ModelLabel, Gauge>,
    pub restarts: Family<ModelLabel, Counter>,
    model_state: Family<StateLabels, Gauge>,
    loads: Family<LoadLabels, Histogram, fn() -> Histogram>,
    pub gpu_utilization: Family<GpuLabel, Gauge>,
    pub gpu_memory_used: Family<GpuLabel, Gauge>,
    /// Bytes the request bodies in flight hold (set when scraped).
    pub body_bytes: Gauge,
    /// Requests waiting for each model (a slot, or its load).
    pub queue_length: Family<ModelLabel, Gauge>,
    /// How long each request waited in a model's queue.
    pub queue_wait: Family<ModelLabel, Histogram, fn() -> Histogram>,
    /// Requests refused because a model's queue was full.
    pub queue_rejected: Family<ModelLabel, Counter>,
    /// Requests waiting for a free slot (`max_concurrent`), and the
    /// signal a finished request gives them.
    pub slots: Slots,
}

/// Requests waiting for a slot of a model with `max_concurrent`: told
/// when any request ends, so the hot path costs one load of a counter.
#[derive(Default)]
pub struct Slots {
    pub waiting: std::sync::atomic::AtomicUsize,
    pub freed: tokio::sync::Notify,
}

impl Slots {
    /// A request ended: wake the ones waiting for a slot, if any.
    pub fn release(&self) {
        if self.waiting.load(std::sync::atomic::Ordering::Acquire) > 0 {
            self.freed.notify_waiters();
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let m = Metrics {
            registry: Mutex::new(Registry::with_prefix("vllm_mux")),
            requests: Family::default(),
            in_flight: Family::default(),
            duration: Family::new_with_constructor(seconds_histogram as fn() -> Histogram),
            ttfb: Family::new_with_constructor(seconds_histogram as fn() -> Histogram),
            stream_errors: Family::default(),
            backend_up: Family::default(),
            restarts: Family::default(),
            model_state: Family::default(),
            loads: Family::new_with_constructor(load_histogram as fn() -> Histogram),
            gpu_utilization: Family::default(),
            gpu_memory_used: Family::default(),
            body_bytes: Gauge::default(),
            queue_length: Family::default(),
            queue_wait: Family::new_with_constructor(seconds_histogram as fn() -> Histogram),
            queue_rejected: Family::default(),
            slots: Slots::default(),
        };
        if let Ok(mut r) = m.registry.lock() {
            r.register(
                "requests",
                "Requests by model and HTTP status",
                m.requests.clone(),
            );
            r.register(
                "requests_in_flight",
                "Requests being answered",
                m.in_flight.clone(),
            );
            r.register(
                "request_duration_seconds",
                "Time from request to the last byte of the answer",
                m.duration.clone(),
            );
            r.register(
                "time_to_first_byte_seconds",
                "Time from request to the first byte of the answer's body (time to first token when streaming)",
                m.ttfb.clone(),
            );
            r.register(
                "stream_errors",
                "Answers the backend broke off mid-stream",
                m.stream_errors.clone(),
            );
            r.register(
                "backend_up",
                "1 while the model is ready, else 0",
                m.backend_up.clone(),
            );
            r.register(
                "backend_restarts",
                "Restarts after the engine exited unexpectedly",
                m.restarts.clone(),
            );
            r.register(
                "model_state",
                "1 for the state each model is in, 0 for the others",
                m.model_state.clone(),
            );
            r.register(
                "model_load_seconds",
                "Time from start to ready of each load (kind=load) or wake from sleep mode (kind=wake); its count is how often a model was loaded",
                m.loads.clone(),
            );
            r.register(
                "gpu_utilization_percent",
                "GPU utilization",
                m.gpu_utilization.clone(),
            );
            r.register(
                "gpu_memory_used_bytes",
                "GPU memory in use",
                m.gpu_memory_used.clone(),
            );
            r.register(
                "queue_length",
                "Requests waiting for the model: for a free slot (max_concurrent) or for its load",
                m.queue_length.clone(),
            );
            r.register(
                "queue_wait_seconds",
                "How long requests waited in the model's queue",
                m.queue_wait.clone(),
            );
            r.register(
                "queue_rejected",
                "Requests refused with 429 because the model's queue (max_queue) was full",
                m.queue_rejected.clone(),
            );
            r.register(
                "request_body_bytes",
                "Memory the request bodies in flight hold (at most 256 MiB; past it, 503)",
                m.body_bytes.clone(),
            );
        }
        m
    }
}

impl Metrics {
    pub fn label(model: &str) -> ModelLabel {
        ModelLabel {
            model: model.to_string(),
        }
    }

    /// Count a finished request.
    pub fn count(&self, model: &str, status: u16) {
        self.requests
            .get_or_create(&StatusLabels {
                model: model.to_string(),
                status: status.to_string(),
            })
            .inc();
    }

    /// Mark the state `model` is in (1) and every other state (0), so an
    /// alert can ask for `state="failed"` whatever came before.
    pub fn set_state(&self, model: &str, now: ModelState) {
        for state in ModelState::ALL {
            self.model_state
                .get_or_create(&Self::state_labels(model, state))
                .set(i64::from(state == now));
        }
    }

    /// A model got ready after `seconds`, loaded or woken.
    pub fn loaded(&self, model: &str, load: Load, seconds: f64) {
        self.loads
            .get_or_create(&Self::load_labels(model, load))
            .observe(seconds);
    }

    fn load_labels(model: &str, load: Load) -> LoadLabels {
        LoadLabels {
            model: model.to_string(),
            kind: match load {
                Load::Cold => "load",
                Load::Wake => "wake",
            },
        }
    }

    fn state_labels(model: &str, state: ModelState) -> StateLabels {
        StateLabels {
            model: model.to_string(),
            state: state.as_str(),
        }
    }

    /// Forget a model's series (after reload removed it).
    pub fn forget(&self, model: &str) {
        for state in ModelState::ALL {
            self.model_state.remove(&Self::state_labels(model, state));
        }
        for load in [Load::Cold, Load::Wake] {
            self.loads.remove(&Self::load_labels(model, load));
        }
        let label = Self::label(model);
        self.queue_length.remove(&label);
        self.queue_wait.remove(&label);
        self.queue_rejected.remove(&label);
        self.in_flight.remove(&label);
        self.duration.remove(&label);
        self.ttfb.remove(&label);
        self.stream_errors.remove(&label);
        self.backend_up.remove(&label);
        self.restarts.remove(&label);
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Ok(registry) = self.registry.lock() {
            let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_prefixed_and_labelled_by_model() {
        let m = Metrics::default();
        m.count("chat", 200);
        m.count("chat", 200);
        m.count(UNROUTED, 404);
        m.backend_up.get_or_create(&Metrics::label("chat")).set(1);
        m.duration
            .get_or_create(&Metrics::label("chat"))
            .observe(0.01);
        let text = m.encode();
        assert!(
            text.contains("vllm_mux_requests_total{model=\"chat\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("vllm_mux_requests_total{model=\"_unrouted\",status=\"404\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("vllm_mux_backend_up{model=\"chat\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("vllm_mux_request_duration_seconds_count{model=\"chat\"} 1"),
            "{text}"
        );
        m.forget("chat");
        assert!(!m.encode().contains("vllm_mux_backend_up{model=\"chat\"}"));
    }

    #[test]
    fn loads_and_wakes_are_counted_apart_and_forgotten_with_the_model() {
        let m = Metrics::default();
        m.loaded("chat", Load::Cold, 95.0);
        m.loaded("chat", Load::Cold, 80.0);
        m.loaded("chat", Load::Wake, 2.5);
        let text = m.encode();
        for line in [
            "vllm_mux_model_load_seconds_count{model=\"chat\",kind=\"load\"} 2",
            "vllm_mux_model_load_seconds_sum{model=\"chat\",kind=\"load\"} 175.0",
            "vllm_mux_model_load_seconds_count{model=\"chat\",kind=\"wake\"} 1",
        ] {
            assert!(text.contains(line), "{line} not in:\n{text}");
        }
        m.forget("chat");
        assert!(!m.encode().contains("model=\"chat\""));
    }

    #[test]
    fn a_model_is_in_one_state_at_a_time() {
        let m = Metrics::default();
        m.set_state("chat", ModelState::Ready);
        m.set_state("chat", ModelState::Idle);
        let text = m.encode();
        assert!(
            text.contains("vllm_mux_model_state{model=\"chat\",state=\"idle\"} 1"),
            "{text}"
        );
        let ones = text
            .lines()
            .filter(|l| l.starts_with("vllm_mux_model_state{") && l.ends_with(" 1"))
            .count();
        assert_eq!(ones, 1, "{text}");
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("vllm_mux_model_state{"))
                .count(),
            ModelState::ALL.len()
        );
        m.forget("chat");
        assert!(!m.encode().contains("vllm_mux_model_state{"));
    }
}
