//! One proxied request's bookkeeping, RAII: created when a request is
//! routed, finished when its answer's last byte is sent or the client goes
//! away. It feeds the metrics, `status`, and `log_requests`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::metrics::{Metrics, UNROUTED};
use crate::supervisor::registry::Registry;
use crate::supervisor::stats::{Claim, ModelStats};

pub struct RequestRecord {
    /// Holds the request in flight; released when the record is dropped.
    _claim: Claim,
    stats: Arc<ModelStats>,
    /// Where to write the request line, when `log_requests` is on.
    log: Option<Arc<Registry>>,
    /// Kept only when the request is logged.
    path: Option<String>,
    started: Instant,
    status: u16,
    stream: bool,
    bytes_in: usize,
    bytes_out: usize,
    first_byte: Option<Duration>,
    broken: bool,
    /// Counted in the model's requests, latency, errors and metrics.
    counted: bool,
}

impl RequestRecord {
    /// Start the record of a routed request; `claim` is its in-flight slot.
    /// One not `counted` is only logged (with `log_requests`).
    pub fn begin(
        claim: Claim,
        log: Option<Arc<Registry>>,
        path: &str,
        bytes_in: usize,
        stream: bool,
        counted: bool,
    ) -> Self {
        let stats = Arc::clone(&claim.stats);
        if counted {
            stats.requests.inc();
        }
        RequestRecord {
            _claim: claim,
            path: log.as_ref().map(|_| path.to_string()),
            stats,
            log,
            started: Instant::now(),
            status: 0,
            stream,
            bytes_in,
            bytes_out: 0,
            first_byte: None,
            broken: false,
            counted,
        }
    }

    pub fn status(&mut self, status: u16) {
        self.status = status;
    }

    /// `len` bytes of the answer's body went out (none: nothing happened).
    pub fn chunk(&mut self, len: usize) {
        if len == 0 {
            return;
        }
        if self.first_byte.is_none() {
            let elapsed = self.started.elapsed();
            self.first_byte = Some(elapsed);
            if self.counted {
                self.stats.ttfb.observe(elapsed.as_secs_f64());
            }
        }
        self.bytes_out += len;
    }

    /// The backend broke the answer off after its headers.
    pub fn broken(&mut self) {
        self.broken = true;
    }
}

impl RequestRecord {
    /// Into the model's requests by status, latency, errors and metrics.
    fn count(&self, elapsed: Duration) {
        let stats = &self.stats;
        stats.duration.observe(elapsed.as_secs_f64());
        stats.record_latency(elapsed.as_secs_f64() * 1000.0);
        stats.count(self.status);
        if self.status >= 500 || self.broken {
            stats.errors.inc();
        }
        if self.broken {
            stats
                .metrics
                .stream_errors
                .get_or_create(&Metrics::label(&stats.model))
                .inc();
        }
    }
}

impl Drop for RequestRecord {
    fn drop(&mut self) {
        let elapsed = self.started.elapsed();
        let stats = &self.stats;
        if self.counted {
            self.count(elapsed);
        }
        if let Some(reg) = &self.log {
            reg.log(&format!(
                "request model={} path={} status={} stream={} duration_ms={:.1} ttfb_ms={} bytes_in={} bytes_out={}{}",
                stats.model,
                clean(self.path.as_deref().unwrap_or("")),
                self.status,
                self.stream,
                elapsed.as_secs_f64() * 1000.0,
                self.first_byte.map_or("-".to_string(), |d| format!("{:.1}", d.as_secs_f64() * 1000.0)),
                self.bytes_in,
                self.bytes_out,
                if self.broken { " broken=true" } else { "" },
            ));
        }
    }
}

/// A request answered by the proxy itself before reaching a model.
pub fn unrouted(
    reg: &Registry,
    log: bool,
    model: Option<&str>,
    path: &str,
    status: u16,
    message: &str,
) {
    reg.metrics.count(model.unwrap_or(UNROUTED), status);
    if log {
        reg.log(&format!(
            "request model={} path={} status={status} error=\"{}\"",
            clean(model.unwrap_or(UNROUTED)),
            clean(path),
            clean(&message.replace('"', "'"))
        ));
    }
}

/// A value a client chose (a path, a model name inside an error), fit for
/// one log line: control characters, a newline above all, are written as
/// escapes (`\n`, `\u{1b}`), so no client can forge a line of its own.
pub fn clean(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_logged_values_are_escaped() {
        assert_eq!(clean("plain/path"), "plain/path");
        assert_eq!(
            clean("m\n2026-01-01T00:00:00.000Z model 'x': ready"),
            "m\\n2026-01-01T00:00:00.000Z model 'x': ready"
        );
        assert_eq!(clean("a\rb\u{1b}[31mc\u{85}"), "a\\rb\\u{1b}[31mc\\u{85}");
        assert_eq!(clean("naïve ✓"), "naïve ✓");
    }
}
