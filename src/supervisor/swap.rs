//! Swap groups: models that share GPUs and take turns, as llama-swap's
//! groups do. One member runs at a time. Starting another (a request for
//! it, `start-model`) takes the group's turn: every member whose server may
//! be running gives way (no new requests, those in flight get time to
//! finish, then its server stops and it is `idle`), then the new one starts.
//! The turn is held until it is ready or failed, so members queue (as
//! `pending`) instead of stopping one another half-loaded.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::registry::{Registry, Route};
use super::runner::{Command, DRAIN};
use super::serve::DEFAULT_STOP_TIMEOUT;
use super::state::ModelState;

/// Start `id` as its swap group allows: a member is queued and takes the
/// group's turn in the background; any other model is just started.
/// Whether anything was started or queued.
pub fn start(reg: &Arc<Registry>, id: &str) -> bool {
    if reg.swap_group_of(id).is_none() {
        return reg.send(id, Command::Start);
    }
    // Pending (from idle, stopped or failed) until its turn: not settled,
    // so `start-model` and requests wait for it.
    let queued = reg.set_state_if(
        id,
        ModelState::Pending,
        "waiting for its swap group's turn",
        |e| {
            matches!(
                *e.state.borrow(),
                ModelState::Idle | ModelState::Stopped | ModelState::Failed
            )
        },
    );
    if queued || reg.state(id) == Some(ModelState::Pending) {
        tokio::spawn(take_turn(Arc::clone(reg), id.to_string()));
        return true;
    }
    false
}

/// Start the idle copies of the model a request was routed to: a swap
/// group's member takes the group's turn, copies of any other model just
/// start. Whether any was.
pub fn wake(reg: &Arc<Registry>, route: &Route) -> bool {
    if reg.swap_group_of(route.model()).is_some() {
        start(reg, route.model())
    } else {
        reg.wake(route)
    }
}

/// How long a request may wait for model `id` if it is started on demand
/// (an idle timeout, a swap group): its load, and in a swap group the time
/// the member before it takes to give way. `None` for any other model.
pub fn demand_wait(reg: &Registry, id: &str) -> Option<Duration> {
    let (on_demand, swaps) = reg.with(id, |e| {
        let swaps = e.config.swap_group.is_some();
        (swaps || e.config.idle_timeout_s.is_some(), swaps)
    })?;
    if !on_demand {
        return None;
    }
    let load = Duration::from_secs(reg.config().startup_timeout_s);
    Some(if swaps {
        load + DRAIN + DEFAULT_STOP_TIMEOUT
    } else {
        load
    })
}

/// At `reload`: a member whose group already runs another, or
/// has one waiting for its turn, begins idle (the first request for it
/// swaps it in); else it takes the turn.
pub fn start_or_idle(reg: &Arc<Registry>, id: &str) -> bool {
    let Some(group) = reg.swap_group_of(id) else {
        return reg.send(id, Command::Start);
    };
    let busy = reg
        .swap_members(&group)
        .into_iter()
        .find(|(other, state)| other != id && takes_turn(*state));
    match busy {
        Some((other, _)) => {
            begin_idle(reg, id, &other);
            true
        }
        None => start(reg, id),
    }
}

/// Whether a member in `state` runs, or waits for, its group's turn.
pub fn takes_turn(state: ModelState) -> bool {
    matches!(
        state,
        ModelState::Pending | ModelState::Starting | ModelState::Ready | ModelState::Unhealthy
    )
}

/// A member that does not start because `other` of its group runs.
pub fn begin_idle(reg: &Registry, id: &str, other: &str) {
    let why = format!("its swap group runs '{other}'; a request for it swaps it in");
    reg.set_state(id, ModelState::Idle, &why);
}

/// Wait for the group's turn, make every other member whose server may run
/// give way, start `id`, and hold the turn until it has settled.
async fn take_turn(reg: Arc<Registry>, id: String) {
    let Some(group) = reg.swap_group_of(&id) else {
        return;
    };
    let turn = reg.swap_turn(&group);
    let _turn = turn.lock().await;
    // Stopped, or removed, while it waited.
    if reg.state(&id) != Some(ModelState::Pending) {
        return;
    }
    let mut giving_way = Vec::new();
    let mut stopping = Vec::new();
    for (other, state) in reg.swap_members(&group) {
        if other == id {
            continue;
        }
        match state {
            ModelState::Starting | ModelState::Ready | ModelState::Unhealthy => {
                let (done, wait) = oneshot::channel();
                if reg.send(&other, Command::Rest { done: Some(done) }) {
                    giving_way.push(wait);
                }
            }
            ModelState::Stopping => stopping.extend(reg.subscribe(&other)),
            _ => {}
        }
    }
    if !giving_way.is_empty() {
        reg.model_log(&id, "waiting for its swap group's other model to give way");
    }
    let limit = DRAIN + DEFAULT_STOP_TIMEOUT + Duration::from_secs(10);
    for wait in giving_way {
        let _ = tokio::time::timeout(limit, wait).await;
    }
    // A member stopped by hand frees its GPUs only once it has exited.
    for mut watcher in stopping {
        let exited = watcher.wait_for(|s| *s != ModelState::Stopping);
        let _ = tokio::time::timeout(limit, exited).await;
    }
    if reg.state(&id) != Some(ModelState::Pending) || !reg.send(&id, Command::Start) {
        return;
    }
    let Some(mut watcher) = reg.subscribe(&id) else {
        return;
    };
    let load = Duration::from_secs(reg.config().startup_timeout_s) + Duration::from_secs(10);
    let _ = tokio::time::timeout(load, watcher.wait_for(|s| s.is_settled())).await;
}
