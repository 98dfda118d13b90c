//! A deadline that is cheap to move later: setting it only stores the
//! instant, and the timer under it is re-armed when it fires early. A
//! connection pushes its deadlines back on every request; this way that
//! costs no timer-wheel work per request, only a clock read.

use std::pin::Pin;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

pub struct Deadline {
    sleep: Pin<Box<Sleep>>,
    at: Instant,
}

impl Deadline {
    pub fn after(duration: Duration) -> Deadline {
        let at = Instant::now() + duration;
        Deadline {
            sleep: Box::pin(tokio::time::sleep_until(at)),
            at,
        }
    }

    /// Expire `duration` from now.
    pub fn set_after(&mut self, duration: Duration) {
        self.at = Instant::now() + duration;
        if self.at < self.sleep.deadline() {
            // Earlier than the timer: it must be re-armed now.
            self.sleep.as_mut().reset(self.at);
        }
    }

    /// Resolves once the deadline has passed. Cancel-safe.
    pub async fn passed(&mut self) {
        loop {
            self.sleep.as_mut().await;
            if Instant::now() >= self.at {
                return;
            }
            // Moved later since the timer was armed: wait the rest.
            self.sleep.as_mut().reset(self.at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_deadline_moved_later_fires_at_the_new_time() {
        let start = Instant::now();
        let mut deadline = Deadline::after(Duration::from_secs(10));
        tokio::time::sleep(Duration::from_secs(5)).await;
        deadline.set_after(Duration::from_secs(10));
        deadline.passed().await;
        assert_eq!(start.elapsed(), Duration::from_secs(15));
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_moved_earlier_fires_at_the_new_time() {
        let start = Instant::now();
        let mut deadline = Deadline::after(Duration::from_secs(600));
        deadline.set_after(Duration::from_secs(3));
        deadline.passed().await;
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_set_again_after_firing_waits_again() {
        let start = Instant::now();
        let mut deadline = Deadline::after(Duration::from_secs(1));
        deadline.passed().await;
        deadline.set_after(Duration::from_secs(2));
        deadline.passed().await;
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }
}
