//! When to restart a model that exited on its own: exponential backoff from
//! 1 s doubling to 60 s; after 5 failures within 10 minutes it stays
//! `failed` (DESIGN.md section 4).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartPolicy {
    pub first_delay: Duration,
    pub max_delay: Duration,
    pub max_failures: usize,
    pub window: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_failures: 5,
            window: Duration::from_secs(600),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Start it again after this delay.
    RestartAfter(Duration),
    /// Too many failures in the window: leave it `failed`.
    GiveUp,
}

/// One model's recent failures.
#[derive(Debug, Clone)]
pub struct RestartTracker {
    policy: RestartPolicy,
    failures: VecDeque<Instant>,
    /// Failures since the model was last ready; sets the backoff.
    consecutive: u32,
}

impl RestartTracker {
    pub fn new(policy: RestartPolicy) -> Self {
        RestartTracker {
            policy,
            failures: VecDeque::new(),
            consecutive: 0,
        }
    }

    /// The model exited unexpectedly at `now`.
    pub fn on_failure(&mut self, now: Instant) -> Decision {
        self.failures.push_back(now);
        while self
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.policy.window)
        {
            self.failures.pop_front();
        }
        if self.failures.len() >= self.policy.max_failures {
            return Decision::GiveUp;
        }
        let exponent = self.consecutive.min(16);
        self.consecutive += 1;
        let delay = self.policy.first_delay.saturating_mul(1u32 << exponent);
        Decision::RestartAfter(delay.min(self.policy.max_delay))
    }

    /// The model became ready: the next failure starts the backoff over,
    /// but failures still count toward the window.
    pub fn on_ready(&mut self) {
        self.consecutive = 0;
    }

    /// A person asked for a start (start-model, reload): forget the past.
    pub fn reset(&mut self) {
        self.failures.clear();
        self.consecutive = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RestartPolicy {
            max_failures: 100,
            ..RestartPolicy::default()
        };
        let mut tracker = RestartTracker::new(policy);
        let now = Instant::now();
        let delays: Vec<Decision> = (0..8).map(|i| tracker.on_failure(now + secs(i))).collect();
        let expected: Vec<Decision> = [1, 2, 4, 8, 16, 32, 60, 60]
            .iter()
            .map(|s| Decision::RestartAfter(secs(*s)))
            .collect();
        assert_eq!(delays, expected);
    }

    #[test]
    fn five_failures_within_ten_minutes_give_up() {
        let mut tracker = RestartTracker::new(RestartPolicy::default());
        let start = Instant::now();
        for i in 0..4 {
            assert!(matches!(
                tracker.on_failure(start + secs(i * 60)),
                Decision::RestartAfter(_)
            ));
        }
        assert_eq!(tracker.on_failure(start + secs(300)), Decision::GiveUp);
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let mut tracker = RestartTracker::new(RestartPolicy::default());
        let start = Instant::now();
        for i in 0..4 {
            tracker.on_failure(start + secs(i * 200));
        }
        // The first failure (t=0) is more than 600 s before t=700.
        assert!(matches!(
            tracker.on_failure(start + secs(700)),
            Decision::RestartAfter(_)
        ));
    }

    #[test]
    fn ready_resets_the_backoff_but_not_the_window() {
        let mut tracker = RestartTracker::new(RestartPolicy::default());
        let now = Instant::now();
        tracker.on_failure(now);
        tracker.on_failure(now + secs(1));
        tracker.on_ready();
        assert_eq!(
            tracker.on_failure(now + secs(2)),
            Decision::RestartAfter(secs(1))
        );
        tracker.on_failure(now + secs(3));
        assert_eq!(tracker.on_failure(now + secs(4)), Decision::GiveUp);
        tracker.reset();
        assert_eq!(
            tracker.on_failure(now + secs(5)),
            Decision::RestartAfter(secs(1))
        );
    }
}
