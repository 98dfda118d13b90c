//! Requests the proxy answers itself — health, the model list, metrics,
//! CORS preflights, wrong paths and methods — go through its axum router;
//! every such answer, and every error, is written whole with its length.

use axum::http::{
    header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri, Version,
};
use axum::response::{IntoResponse, Response};
use tower_service::Service;

use super::conn::{After, Client};
use super::wire::{is_hop_by_hop, Framing, RequestHead};
use super::{ProxyError, Shared};

/// Answer a request with the router. None of its routes takes a body, so
/// a body is never read (nor held in memory): the answer says the
/// connection closes, and what the client still sends is dropped.
pub async fn answer(shared: &Shared, client: &mut Client, head: &RequestHead) -> After {
    let Some(request) = to_request(head) else {
        let err = ProxyError::Malformed("a bad request target or header");
        return refuse(shared, client, err, After::Close).await;
    };
    let response = match shared.router.clone().call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let unread = head.framing != Framing::Empty;
    let after = write_response(client, response, Some(head), &[], unread).await;
    if unread && after != After::Close {
        return After::Linger;
    }
    after
}

/// Answer a request the proxy cannot go on with, and say what becomes of
/// the connection (closing: the answer says so).
pub async fn refuse(shared: &Shared, client: &mut Client, err: ProxyError, after: After) -> After {
    write_error(shared, client, err, None).await;
    after
}

/// Write an error in OpenAI's shape, with the CORS headers forwarded
/// answers get. Without `head` (no request was read whole), the connection
/// closes after it.
pub async fn write_error(
    shared: &Shared,
    client: &mut Client,
    err: ProxyError,
    head: Option<&RequestHead>,
) -> After {
    write_response(client, err.into_response(), head, &shared.cors, false).await
}

fn to_request(head: &RequestHead) -> Option<Request<axum::body::Body>> {
    let mut request = Request::new(axum::body::Body::empty());
    *request.method_mut() = head.method.clone();
    *request.uri_mut() = head.target().parse::<Uri>().ok()?;
    *request.version_mut() = if head.minor == 0 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    let headers = request.headers_mut();
    for (name, value) in head.fields.iter() {
        headers.append(
            HeaderName::from_bytes(name).ok()?,
            HeaderValue::from_bytes(value).ok()?,
        );
    }
    Some(request)
}

/// Write a response whose body is in memory. Keeps the connection alive
/// only if the request (`head`) asked for it, and `closing` is not set.
async fn write_response(
    client: &mut Client,
    response: Response,
    head: Option<&RequestHead>,
    extra: &[(HeaderName, HeaderValue)],
    closing: bool,
) -> After {
    let (parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return After::Close;
    };
    let keep_alive = !closing && head.is_some_and(|h| h.keep_alive);
    let head_only = head.is_some_and(|h| h.method == Method::HEAD);
    write_head(&mut client.out, parts.status, &parts.headers, extra);
    let bodiless = parts.status.is_informational()
        || parts.status == StatusCode::NO_CONTENT
        || parts.status == StatusCode::NOT_MODIFIED;
    if !bodiless {
        push_number(&mut client.out, "content-length", body.len() as u64);
    }
    push_connection(&mut client.out, head, keep_alive);
    client.out.extend_from_slice(b"\r\n");
    if !head_only && !bodiless {
        client.out.extend_from_slice(&body);
    }
    if client.flush_out().await.is_err() {
        return After::Close;
    }
    if keep_alive {
        After::KeepAlive
    } else {
        After::Close
    }
}

/// The status line and the end-to-end headers; framing and connection
/// headers are the caller's to add, then the blank line.
pub fn write_head(
    out: &mut Vec<u8>,
    status: StatusCode,
    headers: &HeaderMap,
    extra: &[(HeaderName, HeaderValue)],
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        if !is_hop_by_hop(name.as_str().as_bytes()) {
            push_header(out, name.as_str(), value.as_bytes());
        }
    }
    for (name, value) in extra {
        if !headers.contains_key(name) {
            push_header(out, name.as_str(), value.as_bytes());
        }
    }
}

pub fn push_header(out: &mut Vec<u8>, name: impl AsRef<[u8]>, value: &[u8]) {
    out.extend_from_slice(name.as_ref());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// A header whose value is a number, written without allocating.
pub fn push_number(out: &mut Vec<u8>, name: &str, value: u64) {
    // itoa, not `write!`: the formatting machinery is a lot of code to run
    // cold on every request.
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// `Connection` as the client needs it: `close` when closing, and
/// `keep-alive` for an HTTP/1.0 client that asked to keep it.
pub fn push_connection(out: &mut Vec<u8>, head: Option<&RequestHead>, keep_alive: bool) {
    if !keep_alive {
        push_header(out, header::CONNECTION.as_str(), b"close");
    } else if head.is_some_and(|h| h.minor == 0) {
        push_header(out, header::CONNECTION.as_str(), b"keep-alive");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_carry_end_to_end_headers_and_the_extras() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("99"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
        let extra = [(
            HeaderName::from_static("access-control-allow-origin"),
            HeaderValue::from_static("*"),
        )];
        let mut out = Vec::new();
        write_head(&mut out, StatusCode::NOT_FOUND, &headers, &extra);
        push_connection(&mut out, None, false);
        let text = String::from_utf8(out).expect("ascii");
        assert_eq!(
            text,
            "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\naccess-control-allow-origin: *\r\nconnection: close\r\n"
        );
    }
}
