//! `GET /upstream/{model}/{path}`: a model's own server, read through the
//! proxy (backends listen on 127.0.0.1 only): vLLM's `/metrics` for
//! Prometheus, `/version`, `/is_sleeping`, `/v1/models` as the engine sees
//! it. `{model}` is one copy's id (`qwen`, `qwen@1`), else a name, alias
//! or adapter as routing picks (`%2F` for a `/` in it). Only GET passes:
//! an engine's other endpoints (`/sleep`, `/pause`, `/abort_requests`,
//! `/reset_prefix_cache`) change what every client gets, and vLLM guards
//! them with no key, so they stay behind 127.0.0.1. An unhealthy copy is
//! reached too. The API key applies;
//! the model's request counters, latency and errors do not count these.

use axum::http::Method;

use super::conn::Client;
use super::forward::{ready_route, Outgoing, Refusal};
use super::wire::RequestHead;
use super::{ProxyError, Shared};
use crate::supervisor::registry::Registry;
use crate::supervisor::state::ModelState;

/// Where the passthrough routes start.
pub const PREFIX: &str = "/upstream/";

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

/// The named model's route, and the request for its server.
pub(super) async fn admit(
    shared: &Shared,
    client: &mut Client,
    head: &RequestHead,
) -> Result<Outgoing, Refusal> {
    let state = &shared.state;
    if !state.authorized(head.fields.get("authorization")) {
        return Err(Refusal::Unread(ProxyError::Unauthorized));
    }
    let Some((model, target)) = split(head.target()) else {
        return Err(Refusal::Unread(ProxyError::UnknownPath(format!(
            "{} (name a model: {PREFIX}MODEL/PATH)",
            head.path()
        ))));
    };
    // An alias with a slash in it comes encoded: `Org%2FModel`.
    let model = percent_encoding::percent_decode_str(model).decode_utf8_lossy();
    // An unhealthy copy still answers, and that is when its metrics matter.
    let up = |s: ModelState| matches!(s, ModelState::Ready | ModelState::Unhealthy);
    let route = match state.reg.route_copy(&model) {
        Some(route) if up(route.state) => route,
        // Unknown, or not up (yet): told as a model request would be.
        _ => ready_route(state, &model, Registry::route_copy)
            .await
            .map_err(Refusal::Unread)?,
    };
    let body = client
        .read_body(head, state.max_body, shared.header_timeout)
        .await
        .map_err(Refusal::Body)?;
    Ok(Outgoing {
        route,
        body,
        stream: false,
        target: Some(target),
        counted: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
