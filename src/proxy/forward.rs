//! Forwarding one `POST /v1/*` request: check the key, read the body with
//! a limit, peek at `model` only, rewrite it when an alias was used (else
//! send the original bytes), send it on a pooled backend connection, and
//! relay the answer back as it comes. The client task drives the backend
//! connection itself: no connection task, no channel in between.

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::Method;
use serde::Deserialize;
use serde_json::Value;

use super::conn::{After, BodyError, Client, Held};
use super::deadline::Deadline;
use super::local::{push_connection, push_header, push_number, refuse, write_error};
use super::record::{unrouted, RequestRecord};
use super::relay::{relay, Relayed};
use super::upstream::{split_base, Upstream};
use super::wire::{has_encoded_separator, is_hop_by_hop, Framing, RequestHead, ResponseHead};
use super::{passthrough, waiting, ProxyError, ProxyState, Shared};
use crate::supervisor::registry::{Registry, Route};
use crate::supervisor::state::ModelState;
use crate::supervisor::swap;

/// Bodies up to this size go out in the same write as the head.
const INLINE_BODY: usize = 64 * 1024;

#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(default)]
    stream: Option<bool>,
}

/// vLLM's own `POST` APIs outside `/v1/` whose body names the model: the
/// tokenizer, pooling, classification, scoring and reranking APIs, and
/// Cohere's v2 rerank and embed.
pub const VLLM_APIS: &[&str] = &[
    "/tokenize",
    "/detokenize",
    "/pooling",
    "/classify",
    "/score",
    "/rerank",
    "/v2/rerank",
    "/v2/embed",
];

/// What a forwarded request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarded {
    /// A model request, routed by the `model` in its body.
    ByModel,
    /// For a model's own server, named in the path (`/upstream/…`).
    Upstream,
}

/// Whether a request is forwarded to a model: every `POST /v1/*` but the
/// model list (whose method is wrong), vLLM's APIs in [`VLLM_APIS`], and
/// what [`passthrough::takes`]. `None`: the proxy answers it itself.
pub fn takes(head: &RequestHead) -> Option<Forwarded> {
    let path = head.path();
    let by_model = head.method == Method::POST
        && ((path.starts_with("/v1/") && path != "/v1/models") || VLLM_APIS.contains(&path));
    if by_model {
        Some(Forwarded::ByModel)
    } else {
        passthrough::takes(head).then_some(Forwarded::Upstream)
    }
}

/// Why a request got no model.
pub(super) enum Refusal {
    Error(ProxyError),
    /// Refused before its body was read.
    Unread(ProxyError),
    Body(BodyError),
    /// Its event stream had begun (a long wait): told as an error event.
    Streamed(ProxyError),
}

/// What goes to a backend once a request is admitted.
pub(super) struct Outgoing {
    pub route: Route,
    pub body: Bytes,
    /// The body's share of the memory bodies may hold, until it is sent.
    pub held: Held,
    /// The client asked for a stream (for the request log).
    pub stream: bool,
    /// The request target on the backend, after its base URL's path;
    /// `None`: the client's own.
    pub target: Option<String>,
    /// Counted in the model's requests, latency and errors (a model's own
    /// endpoints reached through `/upstream/` are not).
    pub counted: bool,
    /// The client has its answer's head already, an event stream, sent
    /// while the request waited (see [`waiting`]).
    pub early: bool,
}

/// Forward a request `takes` took; `deadline` bounds the wait for the
/// backend's answer.
pub async fn forward(
    shared: &Shared,
    client: &mut Client,
    head: &RequestHead,
    kind: Forwarded,
    deadline: &mut Deadline,
) -> After {
    let state = &shared.state;
    let admitted = if !state.authorized(head.fields.get("authorization")) {
        Err(Refusal::Unread(ProxyError::Unauthorized))
    } else {
        match kind {
            Forwarded::ByModel => admit(shared, client, head).await,
            Forwarded::Upstream => passthrough::admit(shared, head).await,
        }
    };
    match admitted {
        Ok(outgoing) => send(shared, client, head, outgoing, deadline).await,
        Err(refusal) => {
            // How the client is told: a status, then what becomes of the
            // connection (`None`: as the request asked); or, when its event
            // stream has begun, an error event.
            enum Tell {
                Status(Option<After>),
                Event,
            }
            let (err, tell) = match refusal {
                Refusal::Error(err) => (err, Tell::Status(None)),
                // A body left unread would be taken for the next request.
                Refusal::Unread(err) => (
                    err,
                    Tell::Status((head.framing != Framing::Empty).then_some(After::Linger)),
                ),
                Refusal::Body(body) => match body.answer(state.max_body) {
                    Some((err, after)) => (err, Tell::Status(Some(after))),
                    None => return After::Close,
                },
                Refusal::Streamed(err) => (err, Tell::Event),
            };
            // No model took it: counted here, once.
            unrouted(
                &state.reg,
                state.log_requests,
                err.model(),
                head.path(),
                err.status().as_u16(),
                &err.message(),
            );
            match tell {
                Tell::Event => {
                    waiting::error_event(&mut client.out, &err);
                    end_stream(client, head).await
                }
                Tell::Status(Some(after)) => refuse(shared, client, err, after).await,
                Tell::Status(None) => write_error(shared, client, err, Some(head)).await,
            }
        }
    }
}

/// Everything before a model takes an authorized request: body, `model`,
/// a ready copy. Returns the route, the body to send and whether it streams.
async fn admit(
    shared: &Shared,
    client: &mut Client,
    head: &RequestHead,
) -> Result<Outgoing, Refusal> {
    let state = &shared.state;
    if has_encoded_separator(head.path()) {
        return Err(Refusal::Unread(ProxyError::Malformed(
            "an encoded / or \\ in a path for a model's server",
        )));
    }
    let (bytes, held) = client
        .read_body(head, state.max_body, shared.header_timeout, &state.bodies)
        .await
        .map_err(Refusal::Body)?;
    let peek = peek(&bytes).map_err(Refusal::Error)?;
    let requested = peek.model.ok_or(Refusal::Error(ProxyError::MissingModel))?;
    let stream = peek.stream.unwrap_or(false);
    let mut early = false;
    let mut route = match state.reg.route(&requested) {
        // The hot path: a ready copy with a free slot, nothing to wait for.
        Some(route) if route.claim.is_some() => route,
        // A wait for a model's load can take minutes: a client that
        // leaves meanwhile ends it (the load goes on). A stream that waits
        // long gets its head and SSE comments meanwhile.
        _ => {
            let notes = stream && head.minor == 1;
            let begun = tokio::time::Instant::now();
            let mut next_note = begun + waiting::FIRST_NOTE;
            let wait = ready_route(state, &requested, Registry::route, true);
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    route = &mut wait => match route {
                        Ok(route) => break route,
                        Err(err) if early => return Err(Refusal::Streamed(err)),
                        Err(err) => return Err(Refusal::Error(err)),
                    },
                    () = client.gone() => return Err(Refusal::Body(BodyError::Gone)),
                    () = tokio::time::sleep_until(next_note), if notes => {
                        if !early {
                            waiting::early_head(&mut client.out, head, &shared.cors);
                            early = true;
                        }
                        let model = state.reg.route(&requested).map(|r| r.model().to_string());
                        let doing = model.as_deref().and_then(|m| state.reg.state(m));
                        let name = model.as_deref().unwrap_or(&requested);
                        waiting::note(&mut client.out, name, doing, begun.elapsed());
                        if client.flush_out().await.is_err() {
                            return Err(Refusal::Body(BodyError::Gone));
                        }
                        next_note += waiting::EVERY;
                    }
                }
            }
        }
    };
    // An adapter the config lists that this server has not loaded (it
    // started since it was added): loaded now, never a 404 from the engine.
    if let Some(adapter) = route.lora.take() {
        if let Err(detail) =
            crate::supervisor::lora::load(&state.reg, route.model(), &adapter).await
        {
            let err = ProxyError::AdapterNotLoaded {
                model: route.model().to_string(),
                adapter: adapter.name.clone(),
                detail,
            };
            return Err(if early {
                Refusal::Streamed(err)
            } else {
                Refusal::Error(err)
            });
        }
    }
    let refused = |err| {
        if early {
            Refusal::Streamed(err)
        } else {
            Refusal::Error(err)
        }
    };
    let body = match &route.rewrite_to {
        None => bytes,
        Some(served) => rewrite_model(&bytes, served).map_err(refused)?,
    };
    Ok(Outgoing {
        route,
        body,
        held,
        stream,
        target: None,
        counted: true,
        early,
    })
}

/// `model` and `stream` of a body that must be a JSON object. (serde would
/// also read an array as the fields in order, so that is ruled out first.)
fn peek(bytes: &[u8]) -> Result<Peek<'_>, ProxyError> {
    let object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !object {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Ok(_) => ProxyError::NotARequest(
                    "the request body must be a JSON object with a \"model\" string".into(),
                ),
                Err(err) => ProxyError::InvalidJson(err.to_string()),
            },
        );
    }
    serde_json::from_slice(bytes).map_err(|err| {
        if err.is_data() {
            ProxyError::NotARequest(format!(
                "\"model\" must be a string and \"stream\" true or false: {err}"
            ))
        } else {
            ProxyError::InvalidJson(err.to_string())
        }
    })
}

/// Forward an admitted request and relay the answer. Its record counts
/// every outcome, errors included.
async fn send(
    shared: &Shared,
    client: &mut Client,
    head: &RequestHead,
    outgoing: Outgoing,
    deadline: &mut Deadline,
) -> After {
    let Outgoing {
        mut route,
        body,
        held: _held,
        stream,
        target,
        counted,
        early,
    } = outgoing;
    let state = &shared.state;
    let log = state.log_requests.then(|| Arc::clone(&state.reg));
    // ready_route only returns copies that take traffic, which carry a claim.
    let claim = route.claim.take().unwrap_or_else(|| route.stats.claim());
    let mut record = RequestRecord::begin(claim, log, head.path(), body.len(), stream, counted);
    let Some((authority, prefix)) = split_base(&route.base_url) else {
        record.status(502);
        let detail = format!("bad backend URL {}", route.base_url);
        let err = ProxyError::BackendFailed {
            model: route.model().to_string(),
            detail,
        };
        return fail(shared, client, head, err, early).await;
    };
    let mut request = std::mem::take(&mut client.out);
    let target = target.as_deref().unwrap_or_else(|| head.target());
    // The client's key is the proxy's to check, not the backend's to see;
    // a backend with a key of its own gets that instead.
    let auth = Auth {
        drop_client_key: state.checks_keys() || route.backend_auth.is_some(),
        backend: route.backend_auth.as_deref(),
    };
    request_head(
        &mut request,
        head,
        authority,
        prefix,
        target,
        auth,
        body.len(),
    );
    let inline = body.len() <= INLINE_BODY;
    if inline {
        request.extend_from_slice(&body);
    }
    let rest = if inline { &[][..] } else { &body[..] };
    deadline.set_after(state.backend_timeout);
    let answer = tokio::select! {
        biased;
        answer = shared.pool.exchange(authority, &request, rest) => Ok(answer),
        () = deadline.passed() => Err(()),
        () = client.gone() => {
            // What nginx logs for a client that closed before the answer.
            record.status(499);
            return After::Close;
        }
    };
    request.clear();
    client.out = request;
    let (mut up, answer) = match answer {
        Ok(Ok(answered)) => answered,
        Ok(Err(err)) => {
            record.status(502);
            let err = ProxyError::BackendFailed {
                model: route.model().to_string(),
                detail: err.describe(),
            };
            return fail(shared, client, head, err, early).await;
        }
        Err(_) => {
            record.status(504);
            let err = ProxyError::BackendTimeout {
                model: route.model().to_string(),
            };
            return fail(shared, client, head, err, early).await;
        }
    };
    if answer.status == 404 {
        if let Some(err) = unserved_path(&mut up, &answer, route.model(), head).await {
            record.status(404);
            if answer.keep_alive {
                shared.pool.put_back(authority, up);
            }
            return fail(shared, client, head, err, early).await;
        }
    }
    record.status(answer.status);
    if early && answer.status != 200 {
        // Too late for the backend's status: its words go in an event.
        let words = backend_words(&mut up, &answer).await;
        let err = ProxyError::BackendFailed {
            model: route.model().to_string(),
            detail: format!("it answered {}: {words}", answer.status),
        };
        return fail(shared, client, head, err, early).await;
    }
    let to = match answer.framing {
        Framing::Chunked | Framing::Close if head.minor == 0 => Framing::Close,
        Framing::Close => Framing::Chunked,
        other => other,
    };
    // A stream begun while the request waited goes on chunked, its head sent.
    let to = if early { Framing::Chunked } else { to };
    let keep_alive = head.keep_alive && to != Framing::Close;
    let event_stream = if early {
        true
    } else {
        let event_stream = answer_head(&mut client.out, &answer, to, &shared.cors);
        push_connection(&mut client.out, Some(head), keep_alive);
        client.out.extend_from_slice(b"\r\n");
        event_stream
    };
    let events_for = event_stream.then_some(route.model());
    let relayed = relay(client, &mut up, answer.framing, to, &mut record, events_for).await;
    match relayed {
        Relayed::Whole => {
            if answer.keep_alive {
                shared.pool.put_back(authority, up);
            }
            if keep_alive {
                After::KeepAlive
            } else {
                After::Close
            }
        }
        Relayed::Broken { ended: true } if keep_alive => After::KeepAlive,
        Relayed::Broken { .. } | Relayed::ClientGone => After::Close,
    }
}

/// A server's own 404 for a path it has no route for (`{"detail":"Not
/// Found"}`, as FastAPI under vLLM sends it), told as the OpenAI error
/// clients read, naming the model and path. `None` for any other answer,
/// which is relayed as it came; what was read of it stays for the relay.
async fn unserved_path(
    up: &mut Upstream,
    answer: &ResponseHead,
    model: &str,
    head: &RequestHead,
) -> Option<ProxyError> {
    const BARE: &[u8] = br#"{"detail":"Not Found"}"#;
    let Framing::Length(len) = answer.framing else {
        return None;
    };
    let len = usize::try_from(len).ok().filter(|l| *l <= BARE.len() + 8)?;
    let whole = async {
        while up.buf.len() < len {
            if !matches!(up.read().await, Ok(n) if n > 0) {
                return false;
            }
        }
        true
    };
    if !tokio::time::timeout(std::time::Duration::from_secs(5), whole)
        .await
        .unwrap_or(false)
    {
        return None;
    }
    let body: Value = serde_json::from_slice(&up.buf[..len]).ok()?;
    let bare = body.as_object().is_some_and(|o| o.len() == 1)
        && body.get("detail").and_then(Value::as_str) == Some("Not Found");
    if !bare {
        return None;
    }
    bytes::Buf::advance(&mut up.buf, len);
    Some(ProxyError::NoRoute {
        model: model.to_string(),
        method: head.method.to_string(),
        path: head.path().to_string(),
    })
}

/// Answer an error: with its status, or, when the client's event stream
/// has begun, as an error event that ends it.
async fn fail(
    shared: &Shared,
    client: &mut Client,
    head: &RequestHead,
    err: ProxyError,
    early: bool,
) -> After {
    if early {
        waiting::error_event(&mut client.out, &err);
        return end_stream(client, head).await;
    }
    write_error(shared, client, err, Some(head)).await
}

/// Send what `client.out` holds, the end of an event stream.
async fn end_stream(client: &mut Client, head: &RequestHead) -> After {
    if client.flush_out().await.is_err() || !head.keep_alive {
        return After::Close;
    }
    After::KeepAlive
}

/// The start of a backend's answer that is not a success, as text for an
/// error event (at most 2 KiB, read for up to 5 s).
async fn backend_words(up: &mut Upstream, answer: &ResponseHead) -> String {
    const MOST: usize = 2048;
    let want = match answer.framing {
        Framing::Length(len) => usize::try_from(len).unwrap_or(MOST).min(MOST),
        Framing::Empty => 0,
        _ => MOST,
    };
    let read = async {
        while up.buf.len() < want {
            if !matches!(up.read().await, Ok(n) if n > 0) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), read).await;
    let text = String::from_utf8_lossy(&up.buf[..up.buf.len().min(want)]).into_owned();
    serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("message")
                .or_else(|| v.pointer("/error/message"))
                .or_else(|| v.get("detail"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or(text)
}

/// What the backend gets for `Authorization`.
#[derive(Clone, Copy)]
struct Auth<'a> {
    /// Leave out the client's.
    drop_client_key: bool,
    /// The backend's own (`Bearer KEY`).
    backend: Option<&'a str>,
}

/// The request line and headers for the backend: the client's end-to-end
/// headers (its key as `auth` says), the backend's host and key, and the
/// body's length.
fn request_head(
    out: &mut Vec<u8>,
    head: &RequestHead,
    authority: &str,
    prefix: &str,
    target: &str,
    auth: Auth<'_>,
    len: usize,
) {
    out.extend_from_slice(head.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(authority.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in head.fields.iter() {
        let dropped = name.eq_ignore_ascii_case(b"host")
            || (auth.drop_client_key && name.eq_ignore_ascii_case(b"authorization"));
        if !is_hop_by_hop(name) && !dropped {
            push_header(out, name, value);
        }
    }
    if let Some(key) = auth.backend {
        push_header(out, "authorization", key.as_bytes());
    }
    push_number(out, "content-length", len as u64);
    out.extend_from_slice(b"\r\n");
}

/// The status line and headers for the client: the backend's end-to-end
/// headers, no proxy buffering, CORS, and the client's framing. Returns
/// whether the answer is an event stream.
fn answer_head(
    out: &mut Vec<u8>,
    answer: &ResponseHead,
    to: Framing,
    cors: &[(axum::http::HeaderName, axum::http::HeaderValue)],
) -> bool {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(itoa::Buffer::new().format(answer.status).as_bytes());
    out.push(b' ');
    out.extend_from_slice(answer.reason().as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut event_stream = false;
    // Which CORS headers the backend set itself (the layer sets a few).
    let mut cors_set = [false; 8];
    for (name, value) in answer.fields.iter() {
        if is_hop_by_hop(name) || name.eq_ignore_ascii_case(b"x-accel-buffering") {
            continue;
        }
        push_header(out, name, value);
        if name.eq_ignore_ascii_case(b"content-type") {
            event_stream = value.starts_with(b"text/event-stream");
        }
        for ((cors_name, _), set) in cors.iter().zip(cors_set.iter_mut()) {
            *set |= name.eq_ignore_ascii_case(cors_name.as_str().as_bytes());
        }
    }
    push_header(out, "x-accel-buffering", b"no");
    for (i, (name, value)) in cors.iter().enumerate() {
        if !cors_set.get(i).copied().unwrap_or(false) {
            push_header(out, name.as_str(), value.as_bytes());
        }
    }
    match to {
        Framing::Length(len) => push_number(out, "content-length", len),
        Framing::Chunked => push_header(out, "transfer-encoding", b"chunked"),
        // A status that may have a body must say it has none, or the
        // client reads until the connection closes.
        Framing::Empty if may_have_body(answer.status) => push_number(out, "content-length", 0),
        Framing::Empty | Framing::Close => {}
    }
    event_stream
}

/// Every status but 1xx, 204 and 304 may carry a body (RFC 9110 6.4.1).
fn may_have_body(status: u16) -> bool {
    !(100..200).contains(&status) && status != 204 && status != 304
}

/// The route `find` gives for `requested`, waiting up to the queue timeout
/// for a model that is still starting. With `demand` (a model request, not
/// a look at a server's status page), a request for an idle model starts
/// it, and requests for a model started on demand (an idle timeout, a swap
/// group) wait for its load (up to the startup timeout, and in a swap
/// group its turn), since that is how it is started. A request that waits
/// is queued for the copy it waits for until it is routed or gives up: a
/// swap group's scheduler serves the queues.
pub(super) async fn ready_route(
    state: &ProxyState,
    requested: &str,
    find: fn(&Registry, &str) -> Option<Route>,
    demand: bool,
) -> Result<Route, ProxyError> {
    let unknown = || state.unknown_model(requested);
    // A model request needs a slot (`max_concurrent`); a look at a
    // server's status page only needs it up.
    let routed = |r: &Route| r.state.takes_traffic() && (r.claim.is_some() || !demand);
    let route = find(&state.reg, requested).ok_or_else(unknown)?;
    if routed(&route) {
        return Ok(route);
    }
    let id = route.model().to_string();
    let not_ready = |current: ModelState| ProxyError::NotReady {
        model: id.clone(),
        state: state.reg.state(&id).unwrap_or(current),
    };
    let demand_wait = demand.then(|| swap::demand_wait(&state.reg, &id)).flatten();
    // Ready, but every slot taken: wait for one as long as for an answer.
    let full = route.state.takes_traffic();
    let wait = if full {
        state.backend_timeout
    } else {
        demand_wait.map_or(state.queue_timeout, |w| w.max(state.queue_timeout))
    };
    let wakes = demand_wait.is_some() && route.state == ModelState::Idle;
    let waits = full || wakes || matches!(route.state, ModelState::Pending | ModelState::Starting);
    if !waits || wait.is_zero() {
        return Err(not_ready(route.state));
    }
    let model = state
        .reg
        .with(&id, |e| e.config.name.clone())
        .unwrap_or_else(|| id.clone());
    if let (queued, Some(limit)) = state.reg.queued(&model) {
        if queued >= limit as usize {
            state
                .reg
                .metrics
                .queue_rejected
                .get_or_create(&crate::metrics::Metrics::label(&id))
                .inc();
            return Err(ProxyError::QueueFull { model, limit });
        }
    }
    let deadline = tokio::time::Instant::now() + wait;
    let Some(mut watcher) = state.reg.subscribe(&id) else {
        return Err(not_ready(route.state));
    };
    let _queued = state.reg.enqueue(&id);
    let slots = &state.reg.metrics.slots;
    slots
        .waiting
        .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    let _waiting = scopeguard(|| {
        slots
            .waiting
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    });
    loop {
        // Registered before the look, so a slot freed in between is seen.
        let freed = slots.freed.notified();
        tokio::pin!(freed);
        freed.as_mut().enable();
        let current = *watcher.borrow_and_update();
        if current.takes_traffic() {
            if let Some(route) = find(&state.reg, requested).filter(routed) {
                return Ok(route);
            }
        } else if current == ModelState::Idle && demand_wait.is_some() {
            // Woken now, or gave way again before this request was routed.
            swap::wake(&state.reg, &id);
        } else if current.is_settled() {
            // Failed, stopped, unhealthy: no use waiting.
            return Err(not_ready(current));
        }
        let changed = async {
            tokio::select! {
                changed = watcher.changed() => changed.is_ok(),
                () = freed => true,
            }
        };
        match tokio::time::timeout_at(deadline, changed).await {
            Ok(true) => {}
            _ => return Err(not_ready(current)),
        }
    }
}

/// Runs `f` when dropped: on every way out of a function.
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}

/// Replace `model` (an alias) with the name the backend serves.
fn rewrite_model(bytes: &Bytes, served: &str) -> Result<Bytes, ProxyError> {
    let mut value: Value =
        serde_json::from_slice(bytes).map_err(|err| ProxyError::InvalidJson(err.to_string()))?;
    if let Some(object) = value.as_object_mut() {
        object.insert("model".into(), Value::String(served.to_string()));
    }
    serde_json::to_vec(&value)
        .map(Bytes::from)
        .map_err(|err| ProxyError::InvalidJson(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_v1_and_vllms_own_apis_go_to_a_model() {
        let takes_it = |request: &str| {
            let mut buf = bytes::BytesMut::from(request);
            let head = RequestHead::parse(&mut buf)
                .ok()
                .flatten()
                .expect("a request head");
            takes(&head)
        };
        let by_model = ["/v1/chat/completions", "/v1/anything/new", "/tokenize?x=1"];
        for path in VLLM_APIS.iter().chain(&by_model) {
            assert_eq!(
                takes_it(&format!("POST {path} HTTP/1.1\r\nhost: x\r\n\r\n")),
                Some(Forwarded::ByModel),
                "{path}"
            );
        }
        assert_eq!(
            takes_it("GET /upstream/m/metrics HTTP/1.1\r\nhost: x\r\n\r\n"),
            Some(Forwarded::Upstream)
        );
        for request in [
            "POST /v1/models HTTP/1.1\r\nhost: x\r\n\r\n",
            "GET /v1/chat/completions HTTP/1.1\r\nhost: x\r\n\r\n",
            "GET /tokenize HTTP/1.1\r\nhost: x\r\n\r\n",
            "POST /health HTTP/1.1\r\nhost: x\r\n\r\n",
            "POST /v2/other HTTP/1.1\r\nhost: x\r\n\r\n",
            "POST /tokenizer HTTP/1.1\r\nhost: x\r\n\r\n",
            "HEAD /upstream/m/health HTTP/1.1\r\nhost: x\r\n\r\n",
            "POST /upstream/m/sleep HTTP/1.1\r\nhost: x\r\n\r\n",
            "DELETE /upstream/m/x HTTP/1.1\r\nhost: x\r\n\r\n",
            "OPTIONS /upstream/m/health HTTP/1.1\r\nhost: x\r\n\r\n",
        ] {
            assert_eq!(takes_it(request), None, "{request}");
        }
    }

    #[test]
    fn an_answer_without_a_body_says_so_when_its_status_may_have_one() {
        let head_for = |raw: &str| {
            let mut buf = bytes::BytesMut::from(raw);
            let answer = ResponseHead::parse(&mut buf)
                .ok()
                .flatten()
                .expect("a response head");
            let mut out = Vec::new();
            answer_head(&mut out, &answer, answer.framing, &[]);
            String::from_utf8(out).unwrap_or_default()
        };
        let empty_200 = head_for("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        assert!(empty_200.contains("content-length: 0\r\n"), "{empty_200}");
        let empty_404 = head_for("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
        assert!(empty_404.contains("content-length: 0\r\n"), "{empty_404}");
        let no_content = head_for("HTTP/1.1 204 No Content\r\n\r\n");
        assert!(!no_content.contains("content-length"), "{no_content}");
        let sized = head_for("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n");
        assert!(sized.contains("content-length: 5\r\n"), "{sized}");
    }

    #[test]
    fn the_backend_gets_its_own_key_or_none_in_place_of_the_clients() {
        let mut buf = bytes::BytesMut::from(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer client\r\nX-Other: 1\r\n\r\n",
        );
        let head = RequestHead::parse(&mut buf)
            .ok()
            .flatten()
            .expect("a request head");
        let written = |auth: Auth<'_>| {
            let mut out = Vec::new();
            request_head(
                &mut out,
                &head,
                "127.0.0.1:8001",
                "",
                head.target(),
                auth,
                2,
            );
            String::from_utf8(out)
                .unwrap_or_default()
                .to_ascii_lowercase()
        };
        let passed = written(Auth {
            drop_client_key: false,
            backend: None,
        });
        assert!(
            passed.contains("authorization: bearer client\r\n"),
            "{passed}"
        );
        let dropped = written(Auth {
            drop_client_key: true,
            backend: None,
        });
        assert!(!dropped.contains("authorization"), "{dropped}");
        let replaced = written(Auth {
            drop_client_key: true,
            backend: Some("Bearer backend"),
        });
        assert!(
            replaced.contains("authorization: bearer backend\r\n"),
            "{replaced}"
        );
        assert!(!replaced.contains("bearer client"), "{replaced}");
        for text in [&passed, &dropped, &replaced] {
            assert!(
                text.contains("host: 127.0.0.1:8001\r\n") && text.contains("x-other: 1\r\n"),
                "{text}"
            );
        }
    }

    #[test]
    fn rewrite_changes_only_the_model() {
        let out = rewrite_model(
            &Bytes::from_static(br#"{"model":"alias","messages":[],"x":1}"#),
            "real",
        )
        .expect("rewrite");
        let value: Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(value["model"], "real");
        assert_eq!(value["x"], 1);
    }

    #[test]
    fn peek_tells_bad_json_from_json_that_is_no_request() {
        let code = |body: &str| peek(body.as_bytes()).err().map(|e| e.kind_and_code().1);
        assert_eq!(code(r#" {"model": "m"}"#), None);
        assert_eq!(code("{nope"), Some("invalid_json"));
        assert_eq!(code("\u{0}"), Some("invalid_json"));
        assert_eq!(code(""), Some("invalid_json"));
        assert_eq!(code(r#"["m", true]"#), Some("invalid_request_body"));
        assert_eq!(code("null"), Some("invalid_request_body"));
        assert_eq!(code(r#"{"model": ["m"]}"#), Some("invalid_request_body"));
        assert_eq!(
            code(r#"{"model": "m", "stream": "yes"}"#),
            Some("invalid_request_body")
        );
    }

    #[test]
    fn peek_reads_only_the_model_and_stream() {
        let peek: Peek<'_> =
            serde_json::from_slice(br#"{"messages":[{"a":1}],"model":"m","stream":true}"#)
                .expect("peek");
        assert_eq!(peek.model.as_deref(), Some("m"));
        assert_eq!(peek.stream, Some(true));
        assert!(
            serde_json::from_slice::<Peek<'_>>(br#"{"model": 3}"#).is_err(),
            "a number is not a model name"
        );
    }
}
