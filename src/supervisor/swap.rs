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
use crate::config::schema::Scheduler;
use crate::config::{Config, Engine, ModelConfig};
use crate::gpu::assign::MAX_SHARED_FRACTION;
use crate::gpu::GpuInfo;

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
    /// The GPUs it runs on ([`WHOLE_GROUP`] for none: it then needs the
    /// group to itself), and the share of each it needs.
    pub gpus: Vec<u32>,
    pub need: f64,
    /// Never evicted for another member.
    pub pinned: bool,
    /// Its `loading_priority`: lower is more important; none is least.
    pub priority: Option<i64>,
}

/// The GPU a member without GPUs takes whole: such members take turns.
pub const WHOLE_GROUP: u32 = u32::MAX;

impl Member {
    /// Its server runs (or is about to, or has yet to exit): it holds its
    /// share of its GPUs.
    fn holds_gpus(&self) -> bool {
        matches!(
            self.state,
            ModelState::Starting | ModelState::Ready | ModelState::Unhealthy | ModelState::Stopping
        )
    }

    fn busy(&self) -> bool {
        self.queued > 0 || self.in_flight > 0
    }

    /// When it was last used: its last request, or its swap-in (the
    /// requests it was swapped in for may not have reached it yet).
    fn last_used(&self) -> Instant {
        self.last_request.unwrap_or(self.since)
    }

    /// Evicted first: the least important (no priority, then the highest
    /// number), then the least recently used.
    fn eviction_order(&self) -> (bool, std::cmp::Reverse<i64>, Instant) {
        (
            self.priority.is_some(),
            std::cmp::Reverse(self.priority.unwrap_or(i64::MAX)),
            self.last_used(),
        )
    }
}

/// Why a member goes next, in words for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// It fits beside the members that run.
    Free,
    /// The members in its way have nothing to do, and their residency
    /// passed or nobody uses them.
    Done,
    /// A request waited `max_wait_s`.
    Waited,
}

/// What a scheduler does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Nothing to change now.
    Wait,
    /// Make the members in `evict` give way (none: it fits as it is), then
    /// start `to`, for the reason given.
    Swap {
        to: String,
        evict: Vec<String>,
        why: Why,
    },
}

/// Whether `member` fits on its GPUs beside `holders` (the share each
/// holder uses of each GPU, at most `capacity` a GPU). Alone on its GPUs,
/// it fits whatever it needs.
fn fits(member: &Member, holders: &[&Member], capacity: f64) -> bool {
    member.gpus.iter().all(|gpu| {
        let sharing: Vec<&&Member> = holders.iter().filter(|h| h.gpus.contains(gpu)).collect();
        let used: f64 = sharing.iter().map(|h| h.need).sum();
        sharing.is_empty() || used + member.need <= capacity + 1e-9
    })
}

/// The group's next step, from what each member is doing `now`. Members
/// run side by side as far as their GPUs' `capacity` allows. The member
/// whose request has waited longest goes first: if it fits, it starts; if
/// not, the members in its way that may give way are evicted (the least
/// important, then the least recently used, first) until it does. A member
/// that fits as things are starts even if an older one waits for room.
pub fn decide(members: &[Member], now: Instant, policy: Policy, capacity: f64) -> Next {
    let mut waiting: Vec<(Instant, &Member)> = members
        .iter()
        .filter(|m| matches!(m.state, ModelState::Pending | ModelState::Idle))
        .filter_map(|m| m.wanted_since.map(|since| (since, m)))
        .collect();
    waiting.sort_by_key(|(since, m)| (*since, m.id.clone()));
    let holders: Vec<&Member> = members.iter().filter(|m| m.holds_gpus()).collect();
    for (i, (since, next)) in waiting.iter().enumerate() {
        if fits(next, &holders, capacity) {
            return Next::Swap {
                to: next.id.clone(),
                evict: Vec::new(),
                why: Why::Free,
            };
        }
        // Only the oldest may evict: the others wait their turn.
        if i > 0 {
            continue;
        }
        let starving = now.saturating_duration_since(*since) >= policy.max_wait;
        let mut in_the_way: Vec<&Member> = holders
            .iter()
            .copied()
            .filter(|h| h.gpus.iter().any(|g| next.gpus.contains(g)))
            .collect();
        in_the_way.sort_by_key(|h| h.eviction_order());
        let mut staying = holders.clone();
        let mut evict = Vec::new();
        for victim in in_the_way {
            if fits(next, &staying, capacity) {
                break;
            }
            if !may_give_way(victim, now, policy, starving) {
                continue;
            }
            staying.retain(|h| h.id != victim.id);
            evict.push(victim.id.clone());
        }
        if fits(next, &staying, capacity) && !evict.is_empty() {
            let why = if starving { Why::Waited } else { Why::Done };
            return Next::Swap {
                to: next.id.clone(),
                evict,
                why,
            };
        }
    }
    Next::Wait
}

/// Whether member `m`, which runs, may give way now: never when pinned or
/// loading; when a request for the other has waited `max_wait_s`, even
/// while busy (its requests in flight still finish); else once it has
/// nothing to do and either its residency passed or nobody uses it.
fn may_give_way(m: &Member, now: Instant, policy: Policy, starving: bool) -> bool {
    let runs = matches!(m.state, ModelState::Ready | ModelState::Unhealthy);
    if m.pinned || !runs {
        return false;
    }
    if starving {
        return true;
    }
    if m.busy() {
        return false;
    }
    let resident_for = now.saturating_duration_since(m.since);
    let in_use = now.saturating_duration_since(m.last_used()) < IN_USE;
    resident_for >= policy.min_residency || !in_use
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
        let config = reg.config();
        let members = look(&reg, &group, &mut seen, config.scheduler);
        forget_unwanted(&reg, &members);
        let (policy, capacity) = match config.scheduler {
            // One at a time (every member takes the group whole), and a
            // request for another swaps at once.
            Scheduler::LlamaSwap => (
                Policy {
                    min_residency: Duration::ZERO,
                    max_wait: Duration::ZERO,
                },
                1.0,
            ),
            Scheduler::Batch => (Policy::of(&config), MAX_SHARED_FRACTION),
        };
        match decide(&members, Instant::now(), policy, capacity) {
            Next::Swap { to, evict, why } => swap_in(&reg, &to, &evict, why).await,
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
    scheduler: Scheduler,
) -> Vec<Member> {
    let now = Instant::now();
    let gpus = reg.gpu_sample();
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
            let (on, need) = match scheduler {
                Scheduler::LlamaSwap => (vec![WHOLE_GROUP], 1.0),
                Scheduler::Batch => placement(&e.config, e.memory_fraction, &gpus),
            };
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
                gpus: on,
                need,
                pinned: e.config.pinned,
                priority: e.config.loading_priority,
            }
        });
        members.extend(member);
    }
    seen.retain(|id, _| members.iter().any(|m| m.id == *id));
    members
}

/// Where a member runs and the share of each GPU it needs: its
/// `gpu_memory_gib` of the smallest of its GPUs, else its
/// `gpu_memory_utilization` (`fraction`; vLLM's 0.9 unless set). A member
/// of an engine vllm-mux cannot size (command, mock without a fraction)
/// takes its GPUs whole; one without GPUs takes the group whole.
pub fn placement(model: &ModelConfig, fraction: Option<f64>, gpus: &[GpuInfo]) -> (Vec<u32>, f64) {
    if model.gpu_ids.is_empty() {
        return (vec![WHOLE_GROUP], 1.0);
    }
    let smallest = model
        .gpu_ids
        .iter()
        .filter_map(|id| gpus.iter().find(|g| g.index == *id))
        .map(|g| g.memory_total_mib)
        .min()
        .filter(|mib| *mib > 0);
    let need = match (model.gpu_memory_gib, smallest) {
        (Some(gib), Some(mib)) => gib * 1024.0 / mib as f64,
        _ => fraction.unwrap_or(if model.engine == Engine::Vllm {
            crate::gpu::free::VLLM_DEFAULT_FRACTION
        } else {
            1.0
        }),
    };
    (model.gpu_ids.clone(), need)
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

/// Make the members in `evict` give way, start `to`, and wait until it
/// has settled.
async fn swap_in(reg: &Arc<Registry>, to: &str, evict: &[String], why: Why) {
    let mut giving_way = Vec::new();
    for id in evict {
        let reason = match why {
            Why::Waited => format!(
                "a request for it waited max_wait_s ({} s)",
                reg.config().max_wait_s
            ),
            Why::Done | Why::Free => {
                "it has requests waiting and needs the GPU memory; this one was next to give way"
                    .to_string()
            }
        };
        let (done, wait) = oneshot::channel();
        let why = format!("to '{to}': {reason}");
        reg.model_log(id, &format!("gives way {why}"));
        if reg.send(
            id,
            Command::Rest {
                done: Some(done),
                why,
            },
        ) {
            giving_way.push(wait);
        }
    }
    if !giving_way.is_empty() {
        reg.model_log(
            to,
            &format!(
                "waiting for {} of its swap group to give way",
                evict.join(", ")
            ),
        );
    }
    let limit = DRAIN + DEFAULT_STOP_TIMEOUT + Duration::from_secs(10);
    for wait in giving_way {
        let _ = tokio::time::timeout(limit, wait).await;
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

    const CAPACITY: f64 = MAX_SHARED_FRACTION;

    /// A member on GPU 0 that needs it whole (vLLM's 0.9).
    fn member(id: &str, state: ModelState, now: Instant) -> Member {
        Member {
            id: id.into(),
            state,
            wanted_since: None,
            queued: 0,
            in_flight: 0,
            since: now,
            last_request: None,
            gpus: vec![0],
            need: 0.9,
            pinned: false,
            priority: None,
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn swap(to: &str, evict: &[&str], why: Why) -> Next {
        Next::Swap {
            to: to.into(),
            evict: evict.iter().map(|e| e.to_string()).collect(),
            why,
        }
    }

    fn decide_now(members: &[Member], now: Instant) -> Next {
        decide(members, now, policy(), CAPACITY)
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
        assert_eq!(decide_now(&members, now), Next::Wait);
    }

    #[test]
    fn a_waiting_member_takes_free_gpus_at_once() {
        let now = Instant::now();
        let mut members = pair(now, 0, 0);
        members[0].state = ModelState::Idle;
        assert_eq!(decide_now(&members, now), swap("b", &[], Why::Free));
    }

    #[test]
    fn a_load_is_never_broken_off() {
        let now = Instant::now();
        let mut members = pair(now, 0, 100);
        members[0].state = ModelState::Starting;
        assert_eq!(decide_now(&members, now), Next::Wait);
        // Nor a server on its way out overlapped.
        members[0].state = ModelState::Stopping;
        assert_eq!(decide_now(&members, now), Next::Wait);
    }

    #[test]
    fn the_member_swapped_in_keeps_the_gpus_while_its_requests_wait_or_run() {
        let now = Instant::now();
        for (queued, in_flight) in [(1, 0), (0, 1)] {
            let mut members = pair(now, 20, 10);
            members[0].queued = queued;
            members[0].in_flight = in_flight;
            assert_eq!(decide_now(&members, now), Next::Wait);
        }
        // Done with them, after its residency: the next one goes.
        let members = pair(now, 20, 10);
        assert_eq!(decide_now(&members, now), swap("b", &["a"], Why::Done));
    }

    #[test]
    fn within_its_residency_a_member_in_use_stays_and_one_nobody_uses_goes() {
        let now = Instant::now();
        let members = pair(now, 2, 2);
        assert_eq!(decide_now(&members, now), Next::Wait, "in use");
        let mut members = pair(now, 2, 2);
        members[0].last_request = Some(now - IN_USE);
        assert_eq!(decide_now(&members, now), swap("b", &["a"], Why::Done));
        let mut members = pair(now, 2, 2);
        members[0].last_request = None;
        assert_eq!(
            decide_now(&members, now),
            swap("b", &["a"], Why::Done),
            "swapped in 2 s ago, never asked for"
        );
        members[0].since = now - IN_USE / 2;
        assert_eq!(
            decide_now(&members, now),
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
        assert_eq!(decide_now(&members, now), swap("b", &["a"], Why::Waited));
        // With max_wait_s 0, every request swaps at once, as llama-swap does.
        let per_request = Policy {
            min_residency: Duration::ZERO,
            max_wait: Duration::ZERO,
        };
        let members = pair(now, 0, 0);
        assert_eq!(
            decide(&members, now, per_request, CAPACITY),
            swap("b", &["a"], Why::Waited)
        );
    }

    #[test]
    fn the_longest_waiting_member_goes_next() {
        let now = Instant::now();
        let mut members = pair(now, 20, 3);
        let mut c = member("c", ModelState::Idle, now);
        c.wanted_since = Some(now - secs(4));
        members.push(c);
        assert_eq!(decide_now(&members, now), swap("c", &["a"], Why::Done));
        // Stopped and failed members are not swapped in by requests.
        members[2].state = ModelState::Stopped;
        assert_eq!(decide_now(&members, now), swap("b", &["a"], Why::Done));
    }

    /// Members that each need 0.45 of GPU 0: two run side by side.
    fn halves(now: Instant) -> Vec<Member> {
        ["a", "b", "c"]
            .iter()
            .map(|id| Member {
                need: 0.45,
                ..member(id, ModelState::Idle, now)
            })
            .collect()
    }

    #[test]
    fn members_that_fit_side_by_side_run_together() {
        let now = Instant::now();
        let mut members = halves(now);
        members[0].state = ModelState::Ready;
        members[0].in_flight = 4;
        members[1].wanted_since = Some(now);
        assert_eq!(
            decide_now(&members, now),
            swap("b", &[], Why::Free),
            "beside a busy one, no eviction"
        );
        // Other GPUs are no one's business.
        members[1].gpus = vec![1];
        members[1].need = 0.9;
        assert_eq!(decide_now(&members, now), swap("b", &[], Why::Free));
    }

    #[test]
    fn the_least_recently_used_gives_way_first_and_only_as_many_as_needed() {
        let now = Instant::now();
        let mut members = halves(now);
        for (m, used) in members.iter_mut().zip([10, 20, 0]) {
            m.since = now - secs(60);
            m.last_request = Some(now - secs(used));
        }
        members[0].state = ModelState::Ready;
        members[1].state = ModelState::Ready;
        members[2].wanted_since = Some(now - secs(1));
        assert_eq!(decide_now(&members, now), swap("c", &["b"], Why::Done));
        // A pinned one is never evicted: the next least recent goes.
        members[1].pinned = true;
        assert_eq!(decide_now(&members, now), swap("c", &["a"], Why::Done));
        // Nothing may give way: it waits.
        members[0].pinned = true;
        assert_eq!(decide_now(&members, now), Next::Wait);
    }

    #[test]
    fn a_less_important_member_gives_way_before_a_less_recently_used_one() {
        let now = Instant::now();
        let mut members = halves(now);
        for m in &mut members {
            m.since = now - secs(60);
        }
        members[0].state = ModelState::Ready;
        members[0].last_request = Some(now - secs(50));
        members[0].priority = Some(1);
        members[1].state = ModelState::Ready;
        members[1].last_request = Some(now - secs(2));
        members[2].wanted_since = Some(now);
        // b was used more recently, but has no priority: it goes first.
        assert_eq!(decide_now(&members, now), swap("c", &["b"], Why::Done));
        members[1].priority = Some(5);
        assert_eq!(
            decide_now(&members, now),
            swap("c", &["b"], Why::Done),
            "5 is less than 1"
        );
        members[1].priority = Some(0);
        assert_eq!(decide_now(&members, now), swap("c", &["a"], Why::Done));
    }

    #[test]
    fn a_member_that_needs_a_gpu_whole_gets_it_once_the_others_give_way() {
        let now = Instant::now();
        let mut members = pair(now, 20, 10);
        for m in &mut members {
            m.need = 1.0;
        }
        assert_eq!(decide_now(&members, now), swap("b", &["a"], Why::Done));
    }

    #[test]
    fn a_member_without_gpus_takes_the_group_whole() {
        let model = ModelConfig::new("cmd");
        assert_eq!(placement(&model, Some(0.2), &[]), (vec![WHOLE_GROUP], 1.0));
        let gpu = GpuInfo::fake(0, 0, Vec::new());
        let mut vllm = ModelConfig::new("v");
        vllm.gpu_ids = vec![0];
        assert_eq!(
            placement(&vllm, None, std::slice::from_ref(&gpu)),
            (vec![0], 0.9)
        );
        assert_eq!(
            placement(&vllm, Some(0.3), std::slice::from_ref(&gpu)).1,
            0.3
        );
        vllm.gpu_memory_gib = Some(20.0);
        let need = placement(&vllm, Some(0.3), std::slice::from_ref(&gpu)).1;
        assert!((need - 20.0 * 1024.0 / 80000.0).abs() < 1e-9, "{need}");
        let mut cmd = ModelConfig::new("c");
        cmd.engine = Engine::Command;
        cmd.gpu_ids = vec![0];
        assert_eq!(placement(&cmd, None, &[]).1, 1.0, "cannot be sized: whole");
    }
}
