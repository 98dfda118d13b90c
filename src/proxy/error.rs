//! Every error the proxy answers, in OpenAI's envelope:
//! `{"error": {"message", "type", "code"}}`. A client's mistake is a 4xx,
//! never a 500; a backend's failure is 502/503/504, never a 200.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::supervisor::state::ModelState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyError {
    InvalidJson(String),
    /// JSON, but not an object with a string `model`.
    NotARequest(String),
    /// Not a well-formed HTTP/1.1 request (the connection closes after).
    Malformed(&'static str),
    HeadersTooLarge,
    /// Well-formed, but needs what the proxy does not do (a transfer
    /// coding other than chunked).
    NotImplemented(&'static str),
    /// The request bodies in flight hold all the memory they may.
    Busy,
    /// The client stopped sending its request's head.
    HeadTimeout,
    MissingModel,
    UnknownModel {
        model: String,
        known: Vec<String>,
    },
    NotReady {
        model: String,
        state: ModelState,
    },
    Unauthorized,
    TooLarge {
        limit: usize,
    },
    UnknownPath(String),
    WrongMethod {
        method: String,
        path: String,
    },
    BackendFailed {
        model: String,
        detail: String,
    },
    BackendTimeout {
        model: String,
    },
    /// The model's queue holds `max_queue` requests already.
    QueueFull {
        model: String,
        limit: u32,
    },
    /// The model's server has no such path (its own bare 404).
    NoRoute {
        model: String,
        method: String,
        path: String,
    },
    /// The copy's server could not load the LoRA adapter asked for.
    AdapterNotLoaded {
        model: String,
        adapter: String,
        detail: String,
    },
}

impl ProxyError {
    pub fn status(&self) -> StatusCode {
        match self {
            ProxyError::InvalidJson(_)
            | ProxyError::NotARequest(_)
            | ProxyError::MissingModel
            | ProxyError::Malformed(_) => StatusCode::BAD_REQUEST,
            ProxyError::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ProxyError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            ProxyError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ProxyError::HeadTimeout => StatusCode::REQUEST_TIMEOUT,
            ProxyError::UnknownModel { .. }
            | ProxyError::UnknownPath(_)
            | ProxyError::NoRoute { .. } => StatusCode::NOT_FOUND,
            ProxyError::QueueFull { .. } => StatusCode::TOO_MANY_REQUESTS,
            ProxyError::NotReady { .. } | ProxyError::AdapterNotLoaded { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ProxyError::Unauthorized => StatusCode::UNAUTHORIZED,
            ProxyError::WrongMethod { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ProxyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ProxyError::BackendFailed { .. } => StatusCode::BAD_GATEWAY,
            ProxyError::BackendTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    pub(super) fn kind_and_code(&self) -> (&'static str, &'static str) {
        match self {
            ProxyError::InvalidJson(_) => ("invalid_request_error", "invalid_json"),
            ProxyError::NotARequest(_) => ("invalid_request_error", "invalid_request_body"),
            ProxyError::Malformed(_) => ("invalid_request_error", "malformed_request"),
            ProxyError::HeadersTooLarge => ("invalid_request_error", "headers_too_large"),
            ProxyError::NotImplemented(_) => ("invalid_request_error", "not_implemented"),
            ProxyError::Busy => ("service_unavailable", "proxy_busy"),
            ProxyError::HeadTimeout => ("invalid_request_error", "request_timeout"),
            ProxyError::MissingModel => ("invalid_request_error", "missing_model"),
            ProxyError::UnknownModel { .. } => ("invalid_request_error", "model_not_found"),
            ProxyError::UnknownPath(_) | ProxyError::NoRoute { .. } => {
                ("invalid_request_error", "unknown_url")
            }
            ProxyError::WrongMethod { .. } => ("invalid_request_error", "method_not_allowed"),
            ProxyError::NotReady { .. } => ("service_unavailable", "model_not_ready"),
            ProxyError::Unauthorized => ("authentication_error", "invalid_api_key"),
            ProxyError::TooLarge { .. } => ("invalid_request_error", "body_too_large"),
            ProxyError::BackendFailed { .. } => ("bad_gateway", "backend_error"),
            ProxyError::BackendTimeout { .. } => ("timeout", "backend_timeout"),
            ProxyError::AdapterNotLoaded { .. } => ("service_unavailable", "adapter_not_loaded"),
            ProxyError::QueueFull { .. } => ("rate_limit_error", "queue_full"),
        }
    }

    /// The model the error is about, when one was resolved.
    pub fn model(&self) -> Option<&str> {
        match self {
            ProxyError::NotReady { model, .. }
            | ProxyError::BackendFailed { model, .. }
            | ProxyError::BackendTimeout { model }
            | ProxyError::AdapterNotLoaded { model, .. }
            | ProxyError::NoRoute { model, .. }
            | ProxyError::QueueFull { model, .. } => Some(model),
            _ => None,
        }
    }

    /// A model in `state` takes requests again without anyone acting:
    /// it is on its way up, or its health checks may pass again.
    fn comes_back(state: ModelState) -> bool {
        matches!(
            state,
            ModelState::Pending | ModelState::Starting | ModelState::Unhealthy
        )
    }

    pub fn message(&self) -> String {
        match self {
            ProxyError::InvalidJson(detail) => {
                format!("the request body is not valid JSON: {detail}")
            }
            ProxyError::NotARequest(detail) => detail.clone(),
            ProxyError::MissingModel => "the request body has no \"model\" string".into(),
            ProxyError::Malformed(why) => format!("malformed HTTP request: {why}"),
            ProxyError::HeadersTooLarge => "the request's headers are too large".into(),
            ProxyError::NotImplemented(what) => format!("not implemented: {what}"),
            ProxyError::Busy => "the proxy holds as many request bodies as it may right now; retry later".into(),
            ProxyError::HeadTimeout => "the request's headers did not arrive in time".into(),
            ProxyError::UnknownModel { model, known } => {
                format!(
                    "model '{model}' is not served here; known models: {}",
                    known.join(", ")
                )
            }
            ProxyError::UnknownPath(path) => format!("no route for {path}"),
            ProxyError::NoRoute {
                model,
                method,
                path,
            } => {
                let why = if path.ends_with("/embeddings") {
                    " (vLLM serves embeddings only for a model that makes them, e.g. with --task embed)"
                } else {
                    ""
                };
                format!("model '{model}' does not serve {method} {path}: its server has no such route{why}")
            }
            ProxyError::WrongMethod { method, path } => format!("{path} does not take {method}"),
            ProxyError::NotReady { model, state } if Self::comes_back(*state) => {
                format!("model '{model}' is {state}; retry later")
            }
            ProxyError::NotReady {
                model,
                state: ModelState::Idle,
            } => format!(
                "model '{model}' is idle: its server is stopped (no requests for idle_timeout_s, or another model of its swap group runs), and a request for the model starts it again"
            ),
            ProxyError::NotReady { model, state } => format!(
                "model '{model}' is {state}: it takes no requests until it is started again"
            ),
            ProxyError::Unauthorized => {
                "missing or wrong API key: send 'Authorization: Bearer KEY'".into()
            }
            ProxyError::TooLarge { limit } => {
                format!("the request body is larger than {limit} bytes")
            }
            ProxyError::BackendFailed { model, detail } => {
                format!("model '{model}' failed to answer: {detail}")
            }
            ProxyError::BackendTimeout { model } => {
                format!("model '{model}' did not answer in time")
            }
            ProxyError::QueueFull { model, limit } => format!(
                "model '{model}' has {limit} requests waiting already (its max_queue); retry later"
            ),
            ProxyError::AdapterNotLoaded {
                model,
                adapter,
                detail,
            } => format!("model '{model}' could not load LoRA adapter '{adapter}': {detail}"),
        }
    }
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        let (kind, code) = self.kind_and_code();
        let body = json!({"error": {"message": self.message(), "type": kind, "code": code}});
        let mut response = (self.status(), Json(body)).into_response();
        // Only where it will take requests again by itself.
        let retry = match &self {
            ProxyError::NotReady { state, .. } => Self::comes_back(*state),
            ProxyError::Busy | ProxyError::QueueFull { .. } => true,
            _ => false,
        };
        if retry {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if let ProxyError::Unauthorized = self {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_only_for_a_model_that_comes_back_by_itself() {
        let retry_after = |state: ModelState| {
            let err = ProxyError::NotReady {
                model: "m".into(),
                state,
            };
            let message = err.message();
            let response = err.into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            (
                response.headers().contains_key(header::RETRY_AFTER),
                message,
            )
        };
        for state in [
            ModelState::Pending,
            ModelState::Starting,
            ModelState::Unhealthy,
        ] {
            let (retry, message) = retry_after(state);
            assert!(
                retry && message.ends_with("retry later"),
                "{state}: {message}"
            );
        }
        for state in [
            ModelState::Stopping,
            ModelState::Stopped,
            ModelState::Failed,
        ] {
            let (retry, message) = retry_after(state);
            assert!(
                !retry && message.contains("until it is started again"),
                "{state}: {message}"
            );
        }
    }
}
