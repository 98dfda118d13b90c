//! Forwarding one `POST /v1/*` request: read the body with a limit, peek at
//! `model` only, rewrite it when an alias was used (else send the original
//! bytes), and stream the answer back chunk by chunk as it arrives. No relay
//! channel: the body stream pulls from upstream, so backpressure holds and
//! a client that goes away cancels the upstream request.

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};

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

pub async fn forward(
    State(state): State<ProxyState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let path = uri.path().to_string();
    match route_and_send(&state, method, &uri, headers, body).await {
        Ok(response) => response,
        Err(err) => {
            unrouted(
                &state.reg,
                state.log_requests,
                err.model(),
                &path,
                err.status().as_u16(),
                &err.message(),
            );
            err.into_response()
        }
    }
}

async fn route_and_send(
    state: &ProxyState,
    method: Method,
    uri: &Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ProxyError> {
    if !state.authorized(&headers) {
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
    let log = state.log_requests.then(|| Arc::clone(&state.reg));
    let mut record = RequestRecord::begin(
        Arc::clone(&route.stats),
        log,
        uri.path(),
        body.len(),
        stream,
    );
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let mut upstream = state
        .http
        .request(method, format!("{}{path}", route.base_url))
        .body(body);
    for (name, value) in headers
        .iter()
        .filter(|(n, _)| !is_hop_by_hop(n) && *n != header::CONTENT_LENGTH)
    {
        upstream = upstream.header(name, value);
    }
    let response = match tokio::time::timeout(state.backend_timeout, upstream.send()).await {
        Ok(Ok(response)) => response,
        Ok(Err(err)) => {
            record.status(502);
            return Err(ProxyError::BackendFailed {
                model: route.model.clone(),
                detail: without_url(&err),
            });
        }
        Err(_) => {
            record.status(504);
            return Err(ProxyError::BackendTimeout {
                model: route.model.clone(),
            });
        }
    };
    let status = response.status();
    record.status(status.as_u16());
    let event_stream = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    let mut builder = Response::builder().status(status.as_u16());
    if let Some(out) = builder.headers_mut() {
        for (name, value) in response.headers().iter().filter(|(n, _)| !is_hop_by_hop(n)) {
            out.append(name.clone(), value.clone());
        }
        out.insert(
            HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        );
    }
    let model = route.model.clone();
    // Each chunk goes out as it arrives. The record lives as long as the
    // stream: in flight until the last byte or until the client goes away.
    let chunks = futures_util::stream::unfold(
        (response.bytes_stream(), record, false),
        move |(mut upstream, mut record, done)| {
            let model = model.clone();
            async move {
                if done {
                    return None;
                }
                match upstream.next().await {
                    Some(Ok(bytes)) => {
                        record.chunk(bytes.len());
                        Some((Ok(bytes), (upstream, record, false)))
                    }
                    Some(Err(err)) => {
                        record.broken();
                        let item = if event_stream {
                            // End an SSE stream with an error event clients understand.
                            Ok(error_event(&model, &without_url(&err)))
                        } else {
                            Err(err)
                        };
                        Some((item, (upstream, record, true)))
                    }
                    None => None,
                }
            }
        },
    );
    builder
        .body(Body::from_stream(chunks))
        .map_err(|err| ProxyError::BackendFailed {
            model: route.model.clone(),
            detail: err.to_string(),
        })
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

fn error_event(model: &str, detail: &str) -> Bytes {
    let body = json!({"error": {
        "message": format!("model '{model}' broke off its answer: {detail}"),
        "type": "bad_gateway",
        "code": "backend_stream_error",
    }});
    Bytes::from(format!("data: {body}\n\n"))
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
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

/// reqwest's error text without the backend URL, with its cause.
fn without_url(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    if let Some(source) = std::error::Error::source(err) {
        text = format!("{text}: {source}");
    }
    text
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
    fn error_events_are_sse_with_openai_errors() {
        let event = error_event("m", "connection reset");
        let text = std::str::from_utf8(&event).expect("utf8");
        assert!(
            text.starts_with("data: {\"error\":") && text.ends_with("\n\n"),
            "{text}"
        );
    }
}
