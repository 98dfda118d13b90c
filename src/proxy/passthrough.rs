//! `GET /upstream/{model}/{path}`: a model's own server, read through the
//! proxy (backends listen on 127.0.0.1 only): vLLM's `/metrics` for
//! Prometheus, `/version`, `/is_sleeping`, `/v1/models` as the engine sees
//! it; only the status pages in [`READABLE`]. `{model}` is one copy's id (`qwen`, `qwen@1`), else a name, alias
//! or adapter as routing picks (`%2F` for a `/` in it). Only GET passes:
//! an engine's other endpoints (`/sleep`, `/pause`, `/abort_requests`,
//! `/reset_prefix_cache`) change what every client gets, and vLLM guards
//! them with no key, so they stay behind 127.0.0.1. An unhealthy copy is
//! reached too. The API key applies;
//! the model's request counters, latency and errors do not count these.

use axum::http::Method;

use axum::body::Bytes;

use super::conn::Held;
use super::forward::{ready_route, Outgoing, Refusal};
use super::wire::{has_encoded_separator, Framing, RequestHead};
use super::{ProxyError, Shared};
use crate::supervisor::registry::Registry;
use crate::supervisor::state::ModelState;

/// Where the passthrough routes start.
pub const PREFIX: &str = "/upstream/";

/// The pages of a server that may be read through the proxy: status and
/// metrics, as vLLM and llama.cpp serve them. Others are not, since a
/// server may show more than a client of the proxy should see (llama.cpp's
/// `/slots` holds other clients' prompts).
pub const READABLE: &[&str] = &[
    "/metrics",
    "/health",
    "/ping",
    "/version",
    "/load",
    "/is_sleeping",
    "/props",
    "/v1/models",
];

/// Whether `path` (no query) is one of [`READABLE`], or a model of the list.
fn readable(path: &str) -> bool {
    READABLE.contains(&path) || path.starts_with("/v1/models/")
}

/// Whether a request reads a model's own server: GET only (HEAD neither:
/// its answer's framing would announce a body that never comes). Other
/// methods on `/upstream/` get 405 from the proxy's own routes.
pub fn takes(head: &RequestHead) -> bool {
    head.method == Method::GET && head.path().starts_with(PREFIX)
}

/// `/upstream/qwen/metrics?x=1` → (`qwen`, `/metrics?x=1`); `/upstream/qwen`
/// → (`qwen`, `/`). `None` when no model is named.
pub fn split(target: &str) -> Option<(&str, String)> {
    let rest = target.strip_prefix(PREFIX)?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (model, path) = rest.split_at(end);
    if model.is_empty() {
        return None;
    }
    let path = match path.strip_prefix('?') {
        Some(query) => format!("/?{query}"),
        None if path.is_empty() => "/".to_string(),
        None => path.to_string(),
    };
    Some((model, path))
}

/// The named model's route, and the request for its server (the key was
/// checked before).
pub(super) async fn admit(shared: &Shared, head: &RequestHead) -> Result<Outgoing, Refusal> {
    let state = &shared.state;
    let Some((model, target)) = split(head.target()) else {
        return Err(Refusal::Unread(ProxyError::UnknownPath(format!(
            "{} (name a model: {PREFIX}MODEL/PATH)",
            head.path()
        ))));
    };
    let path = target.split('?').next().unwrap_or_default();
    if head.framing != Framing::Empty {
        // A backend that does not read a GET's body (cpp-httplib) would
        // take it for the next request on the pooled connection.
        return Err(Refusal::Unread(ProxyError::Malformed(
            "a GET through /upstream/ carries no body",
        )));
    }
    if has_encoded_separator(path) {
        return Err(Refusal::Unread(ProxyError::Malformed(
            "an encoded / or \\ in a path for a model's server",
        )));
    }
    if !readable(path) {
        return Err(Refusal::Unread(ProxyError::UnknownPath(format!(
            "{} (through {PREFIX}MODEL/ only these are read: {})",
            head.path(),
            READABLE.join(", ")
        ))));
    }
    // An alias with a slash in it comes encoded: `Org%2FModel`.
    let model = percent_encoding::percent_decode_str(model).decode_utf8_lossy();
    // An unhealthy copy still answers, and that is when its metrics matter.
    // An idle one is not woken: a scraper would keep it loaded.
    let up = |s: ModelState| matches!(s, ModelState::Ready | ModelState::Unhealthy);
    let route = match state.reg.route_copy(&model) {
        Some(route) if up(route.state) => route,
        // Unknown, or not up (yet): told as a model request would be.
        _ => ready_route(state, &model, Registry::route_copy, false)
            .await
            .map_err(Refusal::Unread)?,
    };
    Ok(Outgoing {
        route,
        body: Bytes::new(),
        held: Held::default(),
        stream: false,
        target: Some(target),
        counted: false,
        early: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_status_pages_are_readable() {
        for path in [
            "/metrics",
            "/health",
            "/v1/models",
            "/v1/models/m",
            "/version",
        ] {
            assert!(readable(path), "{path}");
        }
        for path in ["/slots", "/", "/v1/chat/completions", "/metricsx", "/docs"] {
            assert!(!readable(path), "{path}");
        }
    }

    #[test]
    fn the_model_and_the_rest_of_the_path_are_split() {
        assert_eq!(
            split("/upstream/qwen/metrics"),
            Some(("qwen", "/metrics".into()))
        );
        assert_eq!(
            split("/upstream/qwen@1/v1/models?a=1"),
            Some(("qwen@1", "/v1/models?a=1".into()))
        );
        assert_eq!(split("/upstream/qwen"), Some(("qwen", "/".into())));
        assert_eq!(split("/upstream/qwen?x"), Some(("qwen", "/?x".into())));
        assert_eq!(split("/upstream/"), None);
        assert_eq!(split("/upstream//metrics"), None);
        assert_eq!(split("/v1/models"), None);
    }
}
