//! Per-model request counters the proxy updates and `status` reads.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How many recent latencies the median is taken over.
const SAMPLES: usize = 1024;

#[derive(Debug, Default)]
pub struct ModelStats {
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    pub in_flight: AtomicU64,
    latencies_ms: Mutex<VecDeque<f64>>,
}

impl ModelStats {
    /// Count a request as started; the guard counts it as finished when dropped.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight {
            stats: Arc::clone(self),
            started: Instant::now(),
            failed: false,
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

    fn record(&self, ms: f64) {
        if let Ok(mut samples) = self.latencies_ms.lock() {
            if samples.len() == SAMPLES {
                samples.pop_front();
            }
            samples.push_back(ms);
        }
    }
}

/// One request in flight (RAII: dropping it ends the request).
pub struct InFlight {
    stats: Arc<ModelStats>,
    started: Instant,
    failed: bool,
}

impl InFlight {
    pub fn fail(&mut self) {
        self.failed = true;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.stats.in_flight.fetch_sub(1, Ordering::Relaxed);
        if self.failed {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.stats
            .record(self.started.elapsed().as_secs_f64() * 1000.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_errors_and_in_flight() {
        let stats = Arc::new(ModelStats::default());
        let a = stats.begin();
        let mut b = stats.begin();
        assert_eq!(stats.in_flight.load(Ordering::Relaxed), 2);
        b.fail();
        drop(b);
        drop(a);
        assert_eq!(stats.requests.load(Ordering::Relaxed), 2);
        assert_eq!(stats.errors.load(Ordering::Relaxed), 1);
        assert_eq!(stats.in_flight.load(Ordering::Relaxed), 0);
        assert!(stats.p50_ms().is_some());
    }

    #[test]
    fn no_requests_no_median() {
        assert_eq!(ModelStats::default().p50_ms(), None);
    }
}
