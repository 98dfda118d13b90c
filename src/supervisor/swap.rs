//! Swap groups: models that share GPUs and take turns, as llama-swap's
//! groups do. One member runs at a time. Each group has a scheduler task
//! that decides whose turn it is, from the requests waiting for each member
//! (its queue), the ones in flight, and two settings:
//!
//! - the member swapped in keeps the GPUs while it is in use: requests
//!   queued or in flight, or a new one (or its swap-in) within the last
//!   [`IN_USE`], for at least `min_residency_s`; after that, it gives way as soon as it has
//!   nothing queued or in flight;
//! - once a request has waited `max_wait_s`, its member goes next, whatever
//!   the one swapped in is doing (its requests in flight still finish).
//!
//! The member whose request has waited longest goes next, so requests are
//! served in batches (every queued `a`, then every queued `b`), not one
//! swap per request. A request that waits keeps its place in its model's
//! queue until it is served: a model swapped in for waiting requests does
//! not give way before they are routed to it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::registry::Registry;
use super::runner::{Command, DRAIN};
use super::serve::DEFAULT_STOP_TIMEOUT;
use super::state::ModelState;
use crate::config::Config;

/// A model swapped in that has had a request this recently is still in
/// use, though nothing is queued or in flight: a client working in a loop
/// sends its next request at once.
pub const IN_USE: Duration = Duration::from_secs(1);

/// How often a scheduler looks again with nothing new to see (its clocks:
/// residency, waits, [`IN_USE`]).
const TICK: Duration = Duration::from_millis(100);

/// The settings a swap group's scheduler follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub min_residency: Duration,
    pub max_wait: Duration,
}

impl Policy {
    pub fn of(config: &Config) -> Self {
        Policy {
            min_residency: Duration::from_secs(config.min_residency_s),
            max_wait: Duration::from_secs(config.max_wait_s),
        }
    }
}

/// What the scheduler sees of one member.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub state: ModelState,
    /// Since when the longest-waiting request (or `start-model`) wants it.
    pub wanted_since: Option<Instant>,
    /// Requests waiting for it.
    pub queued: usize,
    pub in_flight: i64,
    /// When it entered its state (for a ready member: swapped in).
    pub since: Instant,
    /// When it last had a new request, if it has had one while ready.
    pub last_request: Option<Instant>,
}

impl Member {
    /// Its server runs (or is about to): it holds the group's GPUs.
    fn holds_gpus(&self) -> bool {
        matches!(
            self.state,
            ModelState::Starting | ModelState::Ready | ModelState::Unhealthy
        )
    }

    fn busy(&self) -> bool {
        self.queued > 0 || self.in_flight > 0
    }
}

/// Why a member goes next, in words for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// No member holds the GPUs.
    Free,
    /// The member swapped in has nothing to do, and its residency passed or nobody uses it.
    Done,
    /// A request waited `max_wait_s`.
    Waited,
}

/// What a scheduler does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Nothing to change now.
    Wait,
    /// Swap `to` in, for the reason given.
    Swap { to: String, why: Why },
}

/// The group's next step, from what each member is doing `now`.
pub fn decide(members: &[Member], now: Instant, policy: Policy) -> Next {
    let waiting = members
        .iter()
        .filter(|m| matches!(m.state, ModelState::Pending | ModelState::Idle))
        .filter_map(|m| m.wanted_since.map(|since| (since, m)))
        .min_by_key(|(since, m)| (*since, m.id.clone()));
    let Some((since, next)) = waiting else {
        return Next::Wait;
    };
    let swap = |why| Next::Swap {
        to: next.id.clone(),
        why,
    };
    let Some(resident) = members.iter().find(|m| m.holds_gpus()) else {
        return swap(Why::Free);
    };
    // A load is never broken off: it was wanted too.
    if resident.state == ModelState::Starting {
        return Next::Wait;
    }
    if now.saturating_duration_since(since) >= policy.max_wait {
        return swap(Why::Waited);
    }
    if resident.busy() {
        return Next::Wait;
    }
    let resident_for = now.saturating_duration_since(resident.since);
    // Just swapped in counts as a request: the ones it was swapped in for
    // may not have reached it yet.
    let last = resident.last_request.unwrap_or(resident.since);
    let in_use = now.saturating_duration_since(last) < IN_USE;
    if resident_for >= policy.min_residency || !in_use {
        return swap(Why::Done);
    }
    Next::Wait
}

/// Start `id` as its swap group allows: a member asks for the group's turn
/// (by hand: `start-model`, the first start); any other model is just
/// started. Whether anything was started or asked for.
pub fn start(reg: &Arc<Registry>, id: &str) -> bool {
    if reg.swap_group_of(id).is_none() {
        return reg.send(id, Command::Start);
    }
    reg.want_by_hand(id, Some(Instant::now()));
    want(reg, id)
}

/// Mark member `id` as waiting for its turn (pending, from idle, stopped
/// or failed) and make sure its group's scheduler runs. Whether it waits.
fn want(reg: &Arc<Registry>, id: &str) -> bool {
    let Some(group) = reg.swap_group_of(id) else {
        return false;
    };
    // Pending until its turn: not settled, so `start-model` and requests wait for it.
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
    if reg.swap_scheduler_needed(&group) {
        tokio::spawn(schedule(Arc::clone(reg), group));
    }
    queued || reg.state(id) == Some(ModelState::Pending)
}

/// Start the idle copies of the model of copy `id`, for a request (the
/// request is queued for it already): a swap group's member asks for the
/// group's turn, copies of any other model just start. Whether any was.
pub fn wake(reg: &Arc<Registry>, id: &str) -> bool {
    if reg.swap_group_of(id).is_some() {
        want(reg, id)
    } else {
        reg.wake(id)
    }
}

/// How long a request may wait for model `id` if it is started on demand
/// (an idle timeout, a swap group): its load, and in a swap group its turn
/// and the time the member before it takes to give way. `None` for any
/// other model.
pub fn demand_wait(reg: &Registry, id: &str) -> Option<Duration> {
    let (on_demand, swaps) = reg.with(id, |e| {
        let swaps = e.config.swap_group.is_some();
        (swaps || e.config.idle_timeout_s.is_some(), swaps)
    })?;
    if !on_demand {
        return None;
    }
    let config = reg.config();
    let load = Duration::from_secs(config.startup_timeout_s);
    Some(if swaps {
        Duration::from_secs(config.max_wait_s) + load + DRAIN + DEFAULT_STOP_TIMEOUT
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

/// A swap group's scheduler: look at the members on every change of state
/// or demand (and every [`TICK`]), and swap in whoever [`decide`]s says.
/// Ends when the group has no member left (a reload removed them).
async fn schedule(reg: Arc<Registry>, group: String) {
    let mut changes = reg.changes();
    let mut demand = reg.demand();
    let mut seen: BTreeMap<String, (u64, Option<Instant>)> = BTreeMap::new();
    loop {
        if reg.swap_scheduler_ended(&group) {
            return;
        }
        let members = look(&reg, &group, &mut seen);
        forget_unwanted(&reg, &members);
        match decide(&members, Instant::now(), Policy::of(&reg.config())) {
            Next::Swap { to, why } => swap_in(&reg, &members, &to, why).await,
            Next::Wait => {
                tokio::select! {
                    _ = changes.changed() => {}
                    _ = demand.changed() => {}
                    () = tokio::time::sleep(TICK) => {}
                }
            }
        }
    }
}

/// The members of `group` as the scheduler sees them; `seen` keeps each
/// one's request count and when it last grew while the member was ready.
fn look(
    reg: &Registry,
    group: &str,
    seen: &mut BTreeMap<String, (u64, Option<Instant>)>,
) -> Vec<Member> {
    let now = Instant::now();
    let mut members = Vec::new();
    for (id, _) in reg.swap_members(group) {
        let member = reg.with(&id, |e| {
            let state = *e.state.borrow();
            let requests = e.stats.requests.get();
            let (count, last) = seen.entry(id.clone()).or_insert((requests, None));
            if state != ModelState::Ready {
                *last = None;
            } else if requests != *count {
                *last = Some(now);
            }
            *count = requests;
            let queued_since = e.waiting.values().min().copied();
            Member {
                id: id.clone(),
                state,
                wanted_since: match (queued_since, e.wanted_by_hand) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                },
                queued: e.waiting.len(),
                in_flight: e.stats.in_flight.get(),
                since: e.since,
                last_request: *last,
            }
        });
        members.extend(member);
    }
    seen.retain(|id, _| members.iter().any(|m| m.id == *id));
    members
}

/// A member left waiting for its turn that nothing wants any more (its
/// requests gave up) goes back to idle.
fn forget_unwanted(reg: &Registry, members: &[Member]) {
    for m in members {
        if m.state == ModelState::Pending && m.wanted_since.is_none() {
            reg.set_state_if(
                &m.id,
                ModelState::Idle,
                "no request waits for it any more",
                |e| e.waiting.is_empty() && e.wanted_by_hand.is_none(),
            );
        }
    }
}

/// Make every other member whose server may run give way, start `to`, and
/// wait until it has settled.
async fn swap_in(reg: &Arc<Registry>, members: &[Member], to: &str, why: Why) {
    let mut giving_way = Vec::new();
    let mut stopping = Vec::new();
    for m in members.iter().filter(|m| m.id != to) {
        if m.holds_gpus() {
            let reason = match why {
                Why::Waited => format!(
                    "a request for '{to}' waited max_wait_s ({} s)",
                    reg.config().max_wait_s
                ),
                Why::Done | Why::Free => format!("'{to}' has requests waiting"),
            };
            reg.model_log(&m.id, &format!("gives way: {reason}"));
            let (done, wait) = oneshot::channel();
            if reg.send(&m.id, Command::Rest { done: Some(done) }) {
                giving_way.push(wait);
            }
        } else if m.state == ModelState::Stopping {
            stopping.extend(reg.subscribe(&m.id));
        }
    }
    if !giving_way.is_empty() {
        reg.model_log(to, "waiting for its swap group's other model to give way");
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
    // Idle if it was woken while another ran: it waits for its turn now.
    reg.set_state_if(
        to,
        ModelState::Pending,
        "waiting for its swap group's turn",
        |e| *e.state.borrow() == ModelState::Idle,
    );
    // Stopped, or removed, while it waited.
    if reg.state(to) != Some(ModelState::Pending) || !reg.send(to, Command::Start) {
        return;
    }
    reg.want_by_hand(to, None);
    let Some(mut watcher) = reg.subscribe(to) else {
        return;
    };
    let load = Duration::from_secs(reg.config().startup_timeout_s) + Duration::from_secs(10);
    let started = watcher.wait_for(|s| *s != ModelState::Pending);
    if tokio::time::timeout(Duration::from_secs(10), started)
        .await
        .is_ok()
    {
        let _ = tokio::time::timeout(load, watcher.wait_for(|s| s.is_settled())).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            min_residency: Duration::from_secs(5),
            max_wait: Duration::from_secs(30),
        }
    }

    fn member(id: &str, state: ModelState, now: Instant) -> Member {
        Member {
            id: id.into(),
            state,
            wanted_since: None,
            queued: 0,
            in_flight: 0,
            since: now,
            last_request: None,
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn swap(to: &str, why: Why) -> Next {
        Next::Swap { to: to.into(), why }
    }

    /// `a` swapped in `resident_for` ago; `b` wanted for `b_waits`.
    fn pair(now: Instant, resident_for: u64, b_waits: u64) -> Vec<Member> {
        let mut a = member("a", ModelState::Ready, now - secs(resident_for));
        a.last_request = Some(now);
        let mut b = member("b", ModelState::Pending, now);
        b.wanted_since = Some(now - secs(b_waits));
        b.queued = 1;
        vec![a, b]
    }

    #[test]
    fn nothing_changes_while_nobody_waits() {
        let now = Instant::now();
        let members = vec![
            member("a", ModelState::Ready, now - secs(100)),
            member("b", ModelState::Idle, now),
        ];
        assert_eq!(decide(&members, now, policy()), Next::Wait);
    }

    #[test]
    fn a_waiting_member_takes_free_gpus_at_once() {
        let now = Instant::now();
        let mut members = pair(now, 0, 0);
        members[0].state = ModelState::Idle;
        assert_eq!(decide(&members, now, policy()), swap("b", Why::Free));
    }

    #[test]
    fn a_load_is_never_broken_off() {
        let now = Instant::now();
        let mut members = pair(now, 0, 100);
        members[0].state = ModelState::Starting;
        assert_eq!(decide(&members, now, policy()), Next::Wait);
    }

    #[test]
    fn the_member_swapped_in_keeps_the_gpus_while_its_requests_wait_or_run() {
        let now = Instant::now();
        for (queued, in_flight) in [(1, 0), (0, 1)] {
            let mut members = pair(now, 20, 10);
            members[0].queued = queued;
            members[0].in_flight = in_flight;
            assert_eq!(decide(&members, now, policy()), Next::Wait);
        }
        // Done with them, after its residency: the next one goes.
        let members = pair(now, 20, 10);
        assert_eq!(decide(&members, now, policy()), swap("b", Why::Done));
    }

    #[test]
    fn within_its_residency_a_member_in_use_stays_and_one_nobody_uses_goes() {
        let now = Instant::now();
        let members = pair(now, 2, 2);
        assert_eq!(decide(&members, now, policy()), Next::Wait, "in use");
        let mut members = pair(now, 2, 2);
        members[0].last_request = Some(now - IN_USE);
        assert_eq!(decide(&members, now, policy()), swap("b", Why::Done));
        let mut members = pair(now, 2, 2);
        members[0].last_request = None;
        assert_eq!(
            decide(&members, now, policy()),
            swap("b", Why::Done),
            "swapped in 2 s ago, never asked for"
        );
        members[0].since = now - IN_USE / 2;
        assert_eq!(
            decide(&members, now, policy()),
            Next::Wait,
            "just swapped in: its requests are on their way"
        );
    }

    #[test]
    fn a_request_that_waited_max_wait_goes_next_whatever_the_resident_does() {
        let now = Instant::now();
        let mut members = pair(now, 1, 30);
        members[0].queued = 5;
        members[0].in_flight = 3;
        assert_eq!(decide(&members, now, policy()), swap("b", Why::Waited));
        // With max_wait_s 0, every request swaps at once, as llama-swap does.
        let per_request = Policy {
            min_residency: Duration::ZERO,
            max_wait: Duration::ZERO,
        };
        let members = pair(now, 0, 0);
        assert_eq!(decide(&members, now, per_request), swap("b", Why::Waited));
    }

    #[test]
    fn the_longest_waiting_member_goes_next() {
        let now = Instant::now();
        let mut members = pair(now, 20, 3);
        let mut c = member("c", ModelState::Idle, now);
        c.wanted_since = Some(now - secs(4));
        members.push(c);
        assert_eq!(decide(&members, now, policy()), swap("c", Why::Done));
        // Stopped and failed members are not swapped in by requests.
        members[2].state = ModelState::Stopped;
        assert_eq!(decide(&members, now, policy()), swap("b", Why::Done));
    }
}
