//! Forwarding one `POST /v1/*` request: read the body with a limit, peek at
//! `model` only, rewrite it when an alias was used (else send the original
//! bytes), and hand the backend's answer back frame by frame as it arrives.
//! No relay channel: the client's body pulls from upstream, so backpressure
//! holds and a client that goes away cancels the upstream request.

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::body::RecordedBody;
use super::record::{unrouted, RequestRecord};
use super::{ProxyError, ProxyState};
use crate::supervisor::registry::Route;
use crate::supervisor::state::ModelState;

/// Headers that belong to one connection, not to the request (RFC 9110).
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(default)]
    stream: Option<bool>,
}

pub async fn forward(State(state): State<ProxyState>, request: Request<Body>) -> Response {
    // Take the request apart rather than extract its headers: no copies.
    let (parts, body) = request.into_parts();
    let uri = parts.uri;
    let (route, body, stream) = match admit(&state, &parts.headers, body).await {
        Ok(admitted) => admitted,
        Err(err) => {
            // No model took it: counted here, once.
            unrouted(
                &state.reg,
                state.log_requests,
                err.model(),
                uri.path(),
                err.status().as_u16(),
                &err.message(),
            );
            return err.into_response();
        }
    };
    // From here the request's record counts it, whatever the outcome.
    send(
        &state,
        parts.method,
        &uri,
        parts.headers,
        route,
        body,
        stream,
    )
    .await
    .unwrap_or_else(IntoResponse::into_response)
}

/// Everything before a model takes the request: key, body, `model`, a
/// ready copy. Returns the route, the body to send and whether it streams.
async fn admit(
    state: &ProxyState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Route, Bytes, bool), ProxyError> {
    if !state.authorized(headers) {
        return Err(ProxyError::Unauthorized);
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > state.max_body) {
        return Err(ProxyError::TooLarge {
            limit: state.max_body,
        });
    }
    let bytes = axum::body::to_bytes(body, state.max_body)
        .await
        .map_err(|_| ProxyError::TooLarge {
            limit: state.max_body,
        })?;
    let peek: Peek<'_> =
        serde_json::from_slice(&bytes).map_err(|err| ProxyError::InvalidJson(err.to_string()))?;
    let requested = peek.model.ok_or(ProxyError::MissingModel)?;
    let stream = peek.stream.unwrap_or(false);
    let route = ready_route(state, &requested).await?;
    let body = match &route.rewrite_to {
        None => bytes,
        Some(served) => rewrite_model(&bytes, served)?,
    };
    Ok((route, body, stream))
}

/// Forward an admitted request and hand the answer back as it comes. Its
/// record counts every outcome, errors included.
async fn send(
    state: &ProxyState,
    method: Method,
    uri: &Uri,
    mut headers: HeaderMap,
    mut route: Route,
    body: Bytes,
    stream: bool,
) -> Result<Response, ProxyError> {
    let log = state.log_requests.then(|| Arc::clone(&state.reg));
    // ready_route only returns copies that take traffic, which carry a claim.
    let claim = route.claim.take().unwrap_or_else(|| route.stats.claim());
    let mut record = RequestRecord::begin(claim, log, uri.path(), body.len(), stream);
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let Ok(target) = format!("{}{path}", route.base_url).parse::<Uri>() else {
        record.status(502);
        return Err(ProxyError::BackendFailed {
            model: route.model.clone(),
            detail: format!("bad backend URL {}", route.base_url),
        });
    };
    strip_hop_by_hop(&mut headers);
    headers.remove(header::CONTENT_LENGTH);
    let mut request = Request::new(Body::from(body));
    *request.method_mut() = method;
    *request.uri_mut() = target;
    *request.headers_mut() = headers;
    let response =
        match tokio::time::timeout(state.backend_timeout, state.client.request(request)).await {
            Ok(Ok(response)) => response,
            Ok(Err(err)) => {
                record.status(502);
                return Err(ProxyError::BackendFailed {
                    model: route.model.clone(),
                    detail: describe(&err),
                });
            }
            Err(_) => {
                record.status(504);
                return Err(ProxyError::BackendTimeout {
                    model: route.model.clone(),
                });
            }
        };
    let (mut parts, incoming) = response.into_parts();
    record.status(parts.status.as_u16());
    let event_stream = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    // The record lives in the body: in flight until the last byte, or
    // until the client goes away (which drops, and so cancels, upstream).
    let body = RecordedBody::new(incoming, record, route.model, event_stream);
    Ok(Response::from_parts(parts, Body::new(body)))
}

/// The route for `requested`, waiting up to the queue timeout for a model
/// that is still starting.
async fn ready_route(state: &ProxyState, requested: &str) -> Result<Route, ProxyError> {
    let unknown = || ProxyError::UnknownModel {
        model: requested.to_string(),
        known: state
            .reg
            .served_names()
            .into_iter()
            .map(|(id, _)| id)
            .collect(),
    };
    let route = state.reg.route(requested).ok_or_else(unknown)?;
    if route.state.takes_traffic() {
        return Ok(route);
    }
    let waits = matches!(route.state, ModelState::Pending | ModelState::Starting)
        && !state.queue_timeout.is_zero();
    if waits {
        if let Some(mut watcher) = state.reg.subscribe(&route.model) {
            let ready =
                tokio::time::timeout(state.queue_timeout, watcher.wait_for(|s| s.takes_traffic()))
                    .await;
            if matches!(ready, Ok(Ok(_))) {
                return state.reg.route(requested).ok_or_else(unknown);
            }
        }
    }
    let current = state.reg.state(&route.model).unwrap_or(route.state);
    Err(ProxyError::NotReady {
        model: route.model,
        state: current.to_string(),
    })
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
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

/// The client error with its cause ("client error (Connect): connection refused").
fn describe(err: &hyper_util::client::legacy::Error) -> String {
    match std::error::Error::source(err) {
        Some(source) => format!("{err}: {source}"),
        None => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn hop_by_hop_headers_are_dropped() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer k"));
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers.len(), 1);
    }
}
