//! One model's request counters: handles to the Prometheus series, so
//! `status` and `/metrics` read the same numbers, plus recent latencies for
//! an exact median.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;

use crate::metrics::Metrics;

/// How many recent latencies the median is taken over.
const SAMPLES: usize = 1024;

pub struct ModelStats {
    pub model: String,
    pub metrics: Arc<Metrics>,
    /// Every request routed to the model.
    pub requests: Counter,
    /// Requests answered with a 5xx or broken off mid-stream.
    pub errors: Counter,
    pub in_flight: Gauge,
    pub duration: Histogram,
    pub ttfb: Histogram,
    latencies_ms: Mutex<VecDeque<f64>>,
    /// This model's `requests_total{status}` counters, so counting a
    /// request allocates nothing after the first of each status.
    by_status: Mutex<Vec<(u16, Counter)>>,
}

impl ModelStats {
    pub fn new(model: &str, metrics: Arc<Metrics>) -> Self {
        let label = Metrics::label(model);
        let in_flight = metrics.in_flight.get_or_create(&label).clone();
        let duration = metrics.duration.get_or_create(&label).clone();
        let ttfb = metrics.ttfb.get_or_create(&label).clone();
        ModelStats {
            model: model.to_string(),
            requests: Counter::default(),
            errors: Counter::default(),
            in_flight,
            duration,
            ttfb,
            metrics,
            latencies_ms: Mutex::new(VecDeque::new()),
            by_status: Mutex::new(Vec::new()),
        }
    }

    /// The median of recent request durations, if there were any.
    pub fn p50_ms(&self) -> Option<f64> {
        let samples = self.latencies_ms.lock().ok()?;
        if samples.is_empty() {
            return None;
        }
        let mut sorted: Vec<f64> = samples.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let p50 = sorted[sorted.len() / 2];
        Some((p50 * 10.0).round() / 10.0)
    }

    /// Count a request as in flight until the claim is dropped. Taken when
    /// the request is routed, so least-outstanding routing sees it at once.
    pub fn claim(self: &Arc<Self>) -> Claim {
        self.in_flight.inc();
        Claim {
            stats: Arc::clone(self),
        }
    }

    /// Count a finished request under its HTTP status.
    pub fn count(&self, status: u16) {
        let Ok(mut known) = self.by_status.lock() else {
            return;
        };
        if let Some((_, counter)) = known.iter().find(|(s, _)| *s == status) {
            counter.inc();
            return;
        }
        let labels = crate::metrics::StatusLabels {
            model: self.model.clone(),
            status: status.to_string(),
        };
        let counter = self.metrics.requests.get_or_create(&labels).clone();
        counter.inc();
        known.push((status, counter));
    }

    pub fn record_latency(&self, ms: f64) {
        if let Ok(mut samples) = self.latencies_ms.lock() {
            if samples.len() == SAMPLES {
                samples.pop_front();
            }
            samples.push_back(ms);
        }
    }
}

/// One request in flight on a model (RAII).
pub struct Claim {
    pub stats: Arc<ModelStats>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.stats.in_flight.dec();
        self.stats.metrics.slots.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_metrics_share_the_in_flight_gauge() {
        let metrics = Arc::new(Metrics::default());
        let stats = ModelStats::new("m", Arc::clone(&metrics));
        stats.in_flight.inc();
        assert!(metrics
            .encode()
            .contains("vllm_mux_requests_in_flight{model=\"m\"} 1"));
    }

    #[test]
    fn median_of_recent_latencies() {
        let stats = ModelStats::new("m", Arc::new(Metrics::default()));
        assert_eq!(stats.p50_ms(), None);
        for ms in [5.0, 1.0, 3.0] {
            stats.record_latency(ms);
        }
        assert_eq!(stats.p50_ms(), Some(3.0));
    }
}
