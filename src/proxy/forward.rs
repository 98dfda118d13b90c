//! Forwarding one `POST /v1/*` request: read the body with a limit, peek at
//! `model` only, rewrite it when an alias was used, send the original bytes
//! otherwise, and stream the answer back chunk by chunk.

use std::borrow::Cow;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Uri};
use axum::response::Response;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::Value;

use super::{ProxyError, ProxyState};

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
}

pub async fn forward(
    State(state): State<ProxyState>,
    method: Method,
    uri: Uri,
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
    let route = state
        .reg
        .route(&requested)
        .ok_or_else(|| ProxyError::UnknownModel {
            model: requested.to_string(),
            known: state
                .reg
                .served_names()
                .into_iter()
                .map(|(id, _)| id)
                .collect(),
        })?;
    if !route.state.takes_traffic() {
        return Err(ProxyError::NotReady {
            model: route.model,
            state: route.state.to_string(),
        });
    }
    let body = match &route.rewrite_to {
        None => bytes,
        Some(served) => rewrite_model(&bytes, served)?,
    };
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
    let mut in_flight = route.stats.begin();
    let response = upstream.send().await.map_err(|err| {
        in_flight.fail();
        if err.is_timeout() {
            ProxyError::BackendTimeout {
                model: route.model.clone(),
            }
        } else {
            ProxyError::BackendFailed {
                model: route.model.clone(),
                detail: without_url(&err),
            }
        }
    })?;
    let status = response.status();
    if status.is_server_error() {
        in_flight.fail();
    }
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
    // The guard lives as long as the stream: in-flight until the last byte
    // or until the client goes away (which drops, and so cancels, upstream).
    let stream = response.bytes_stream().map(move |chunk| {
        if chunk.is_err() {
            in_flight.fail();
        }
        chunk
    });
    builder
        .body(Body::from_stream(stream))
        .map_err(|err| ProxyError::BackendFailed {
            model: route.model.clone(),
            detail: err.to_string(),
        })
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

/// reqwest's error text without the backend URL repeated.
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
    fn peek_reads_only_the_model() {
        let peek: Peek<'_> =
            serde_json::from_slice(br#"{"messages":[{"a":1}],"model":"m"}"#).expect("peek");
        assert_eq!(peek.model.as_deref(), Some("m"));
        assert!(
            serde_json::from_slice::<Peek<'_>>(br#"{"model": 3}"#).is_err(),
            "a number is not a model name"
        );
    }
}
