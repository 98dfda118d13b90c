//! A model's life: `pending → starting → ready ⇄ unhealthy → stopping →
//! stopped`, and `failed`; a model with an idle timeout also goes `ready →
//! idle` when it has had no requests for that long, and a request takes it
//! `idle → starting` again. A swap group's members go `idle` when another
//! is swapped in, and `idle → pending` while they wait for their turn. The supervisor changes state only through
//! [`ModelState::can_become`], so an impossible change is a bug it logs
//! instead of a status that lies.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelState {
    /// Waiting for its loading-priority group.
    Pending,
    /// Launched (or waiting out a restart backoff), not yet healthy.
    Starting,
    /// Healthy: gets traffic.
    Ready,
    /// Was ready, failed N health checks in a row: gets no traffic.
    Unhealthy,
    /// SIGTERM sent, waiting for it to exit.
    Stopping,
    /// Stopped on request; `start-model` starts it again.
    Stopped,
    /// Its server stopped (or, in sleep mode, asleep) after its idle
    /// timeout without requests, or because another member of its swap
    /// group runs; the next request for it starts (or wakes) it.
    Idle,
    /// Gave up: did not become ready, or crashed too often.
    Failed,
}

impl ModelState {
    pub const ALL: [ModelState; 8] = [
        ModelState::Pending,
        ModelState::Starting,
        ModelState::Ready,
        ModelState::Unhealthy,
        ModelState::Stopping,
        ModelState::Stopped,
        ModelState::Idle,
        ModelState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ModelState::Pending => "pending",
            ModelState::Starting => "starting",
            ModelState::Ready => "ready",
            ModelState::Unhealthy => "unhealthy",
            ModelState::Stopping => "stopping",
            ModelState::Stopped => "stopped",
            ModelState::Idle => "idle",
            ModelState::Failed => "failed",
        }
    }

    /// Whether `self → next` is a change the supervisor may make.
    pub fn can_become(self, next: ModelState) -> bool {
        use ModelState::*;
        matches!(
            (self, next),
            (Pending, Starting | Stopped)
                // A server run elsewhere (url engine) that does not answer
                // is unhealthy from the start.
                | (Starting, Ready | Failed | Stopping | Unhealthy)
                // A crash of a ready or unhealthy model restarts it, or, after
                // too many crashes, leaves it failed.
                | (Ready, Unhealthy | Stopping | Starting | Failed)
                | (Unhealthy, Ready | Stopping | Starting | Failed)
                | (Stopping, Stopped)
                | (Stopped | Failed, Starting | Pending)
                // Its idle timeout passed (it is marked idle first, under the
                // lock requests are routed under, then its server is stopped);
                // a request or start-model starts it, a stop leaves it stopped.
                | (Ready, Idle)
                | (Idle, Starting | Stopped)
                // A swap group's member gives way to another (from any state
                // its server may run in, or before its first start), and
                // waits its turn (pending) when a request wants it back.
                | (Pending | Starting | Unhealthy, Idle)
                | (Idle, Pending)
                // A sleeping server (sleep mode) is stopped from there.
                | (Idle | Pending, Stopping)
        )
    }

    /// Nothing happens to it until someone acts (start-model, reload, a
    /// new start) or its health check changes: what `start` and the
    /// loading-priority groups wait for. An unhealthy model is settled: a
    /// server run elsewhere may stay down for as long as it likes.
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            ModelState::Ready
                | ModelState::Unhealthy
                | ModelState::Failed
                | ModelState::Stopped
                | ModelState::Idle
        )
    }

    /// Whether the proxy may send it requests.
    pub fn takes_traffic(self) -> bool {
        self == ModelState::Ready
    }
}

impl fmt::Display for ModelState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ModelState::*;

    #[test]
    fn the_designed_path_is_allowed() {
        let path = [
            Pending, Starting, Ready, Unhealthy, Ready, Stopping, Stopped,
        ];
        for pair in path.windows(2) {
            assert!(pair[0].can_become(pair[1]), "{} → {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn failures_and_restarts_are_allowed() {
        assert!(Starting.can_become(Failed));
        assert!(Ready.can_become(Starting), "a crash restarts a ready model");
        assert!(
            Ready.can_become(Failed),
            "one crash too many leaves it failed"
        );
        assert!(
            Failed.can_become(Starting),
            "start-model retries a failed one"
        );
        assert!(Stopped.can_become(Starting));
        assert!(
            Starting.can_become(Unhealthy),
            "a server run elsewhere that does not answer"
        );
    }

    #[test]
    fn start_waits_for_states_that_last() {
        for state in [Ready, Unhealthy, Failed, Stopped, Idle] {
            assert!(state.is_settled(), "{state}");
        }
        for state in [Pending, Starting, Stopping] {
            assert!(!state.is_settled(), "{state}");
        }
    }

    #[test]
    fn an_idle_model_comes_back_on_demand_or_is_stopped() {
        for pair in [[Ready, Idle], [Idle, Starting], [Idle, Stopped]] {
            assert!(pair[0].can_become(pair[1]), "{} → {}", pair[0], pair[1]);
        }
        for pair in [
            [Pending, Idle],
            [Starting, Idle],
            [Unhealthy, Idle],
            [Idle, Pending],
        ] {
            assert!(
                pair[0].can_become(pair[1]),
                "swap: {} → {}",
                pair[0],
                pair[1]
            );
        }
        assert!(!Failed.can_become(Idle), "a failed model stays failed");
        assert!(!Idle.can_become(Ready), "not ready without starting");
        assert!(
            Idle.can_become(Stopping),
            "a sleeping server (sleep mode) is stopped from idle"
        );
    }

    #[test]
    fn impossible_changes_are_refused() {
        assert!(!Pending.can_become(Ready), "not ready without starting");
        assert!(!Stopped.can_become(Ready));
        assert!(
            !Stopping.can_become(Ready),
            "a stopping model does not come back by itself"
        );
        assert!(!Failed.can_become(Ready));
        assert!(!Ready.can_become(Ready));
    }

    #[test]
    fn only_ready_takes_traffic() {
        for state in [
            Pending, Starting, Unhealthy, Stopping, Stopped, Failed, Idle,
        ] {
            assert!(!state.takes_traffic(), "{state}");
        }
        assert!(Ready.takes_traffic());
    }

    #[test]
    fn states_serialize_lowercase() {
        assert_eq!(
            serde_json::to_string(&Unhealthy).expect("json"),
            "\"unhealthy\""
        );
    }
}
