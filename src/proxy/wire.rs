//! HTTP/1.1 message heads on the wire, parsed with `httparse` without
//! copying: a head is the bytes as received plus the places of its parts.
//! Framing follows RFC 9112 strictly (a request that could be read two
//! ways, e.g. Content-Length with Transfer-Encoding, is refused), so no
//! request can be smuggled past the proxy to a backend.

use std::ops::Range;

use axum::body::Bytes;
use axum::http::Method;
use bytes::BytesMut;

/// The most bytes a head may take, request line and headers together.
pub const MAX_HEAD: usize = 64 * 1024;
/// The most header fields a head may carry.
const MAX_HEADERS: usize = 100;

/// How a message's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body at all.
    Empty,
    Length(u64),
    Chunked,
    /// Until the connection closes (responses only).
    Close,
}

/// Why a head could not be read; each maps to the status the peer gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// Unparsable or ambiguous: 400.
    Malformed(&'static str),
    /// Over [`MAX_HEAD`] or [`MAX_HEADERS`]: 431.
    TooLarge,
    /// Well-formed, but asks for what the proxy does not do (a transfer
    /// coding other than chunked): 501.
    Unsupported(&'static str),
}

/// One header field, as places in the head's bytes.
#[derive(Debug, Clone)]
pub struct Field {
    name: Range<usize>,
    value: Range<usize>,
}

/// What both kinds of head share: the bytes and the header fields in them.
#[derive(Debug, Clone)]
pub struct Fields {
    raw: Bytes,
    fields: Vec<Field>,
}

impl Fields {
    /// Every field as (name, value), in the order received. Names are
    /// ASCII tokens (httparse checked them).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.fields
            .iter()
            .map(|f| (&self.raw[f.name.clone()], &self.raw[f.value.clone()]))
    }

    /// The first value of a field, by case-insensitive name.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// Fields whose places are in `buf`; `raw` is set once the head is split off.
    fn from_httparse(buf: &[u8], headers: &[httparse::Header<'_>]) -> Fields {
        Fields {
            raw: Bytes::new(),
            fields: headers
                .iter()
                .map(|h| Field {
                    name: place(buf, h.name.as_bytes()),
                    value: place(buf, h.value),
                })
                .collect(),
        }
    }

    /// The fields that say how the message is framed and whether the
    /// connection stays open, in one pass; ambiguous framing is an error.
    fn scan(&self, minor: u8) -> Result<Scan, HeadError> {
        let mut length: Option<u64> = None;
        let mut codings = Codings::default();
        let mut close = false;
        let mut keep_alive = false;
        let mut expect_continue = false;
        let mut hosts = 0;
        for (name, value) in self.iter() {
            if name.eq_ignore_ascii_case(b"content-length") {
                let this = parse_length(value)?;
                if length.is_some_and(|l| l != this) {
                    return Err(HeadError::Malformed("conflicting Content-Length headers"));
                }
                length = Some(this);
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                codings.add(value);
            } else if name.eq_ignore_ascii_case(b"connection") {
                for token in value.split(|b| *b == b',').map(<[u8]>::trim_ascii) {
                    close |= token.eq_ignore_ascii_case(b"close");
                    keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            } else if name.eq_ignore_ascii_case(b"expect") {
                expect_continue = value.eq_ignore_ascii_case(b"100-continue");
            } else if name.eq_ignore_ascii_case(b"host") {
                hosts += 1;
            }
        }
        let framing = match (codings.seen, length) {
            (true, Some(_)) => {
                return Err(HeadError::Malformed(
                    "both Content-Length and Transfer-Encoding",
                ))
            }
            (true, None) if minor == 0 => {
                return Err(HeadError::Malformed(
                    "Transfer-Encoding in an HTTP/1.0 message",
                ))
            }
            (true, None) => codings.framing()?,
            (false, Some(len)) => Framing::Length(len),
            (false, None) => Framing::Close,
        };
        Ok(Scan {
            framing,
            keep_alive: if minor == 0 { keep_alive } else { !close },
            expect_continue: minor == 1 && expect_continue,
            hosts,
        })
    }
}

/// The transfer codings of a message, over all its `Transfer-Encoding`
/// fields, as far as framing needs them.
#[derive(Default)]
struct Codings {
    seen: bool,
    count: usize,
    chunked: usize,
    last_chunked: bool,
}

impl Codings {
    fn add(&mut self, value: &[u8]) {
        self.seen = true;
        // A list may have empty elements (RFC 9110 5.6.1).
        for coding in value.split(|b| *b == b',').map(<[u8]>::trim_ascii) {
            if coding.is_empty() {
                continue;
            }
            let chunked = coding.eq_ignore_ascii_case(b"chunked");
            self.count += 1;
            self.chunked += usize::from(chunked);
            self.last_chunked = chunked;
        }
    }

    /// Only `chunked` alone is read (RFC 9112 6.1, as nginx does): a body
    /// that does not end in chunked has no length, chunked twice is
    /// nonsense, and other codings before it (`gzip, chunked`) are ones
    /// the proxy does not decode.
    fn framing(&self) -> Result<Framing, HeadError> {
        match (self.count, self.chunked, self.last_chunked) {
            (1, 1, true) => Ok(Framing::Chunked),
            (_, 1, true) => Err(HeadError::Unsupported(
                "a transfer coding other than chunked",
            )),
            (0, _, _) => Err(HeadError::Malformed("an empty Transfer-Encoding")),
            (_, 0, _) | (_, _, false) => Err(HeadError::Malformed(
                "a Transfer-Encoding that does not end in chunked",
            )),
            _ => Err(HeadError::Malformed("chunked more than once")),
        }
    }
}

/// What a head's fields say about its framing and connection.
struct Scan {
    framing: Framing,
    keep_alive: bool,
    expect_continue: bool,
    /// How many `Host` fields.
    hosts: usize,
}

/// Where `part`, a slice of `buf`, lies in it.
fn place(buf: &[u8], part: &[u8]) -> Range<usize> {
    let start = (part.as_ptr() as usize).saturating_sub(buf.as_ptr() as usize);
    start..start + part.len()
}

fn parse_length(value: &[u8]) -> Result<u64, HeadError> {
    let bad = HeadError::Malformed("a Content-Length that is not a number");
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(bad);
    }
    std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or(bad)
}

/// The length of a whole head; `None` while only part of it is buffered.
fn head_len(
    parsed: Result<httparse::Status<usize>, httparse::Error>,
    buffered: usize,
) -> Result<Option<usize>, HeadError> {
    match parsed.map_err(parse_error)? {
        httparse::Status::Partial if buffered > MAX_HEAD => Err(HeadError::TooLarge),
        httparse::Status::Partial => Ok(None),
        httparse::Status::Complete(len) if len > MAX_HEAD => Err(HeadError::TooLarge),
        httparse::Status::Complete(len) => Ok(Some(len)),
    }
}

fn parse_error(err: httparse::Error) -> HeadError {
    match err {
        httparse::Error::TooManyHeaders => HeadError::TooLarge,
        _ => HeadError::Malformed("not an HTTP/1.1 message"),
    }
}

/// A client's request head.
#[derive(Debug, Clone)]
pub struct RequestHead {
    pub method: Method,
    target: Range<usize>,
    /// HTTP/1.`minor`.
    pub minor: u8,
    pub fields: Fields,
    pub framing: Framing,
    pub keep_alive: bool,
    pub expect_continue: bool,
}

impl RequestHead {
    /// Take a whole head off the front of `buf`: `Ok(None)` (and `buf`
    /// untouched) until it is whole.
    pub fn parse(buf: &mut BytesMut) -> Result<Option<RequestHead>, HeadError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        let Some(len) = head_len(request.parse(buf), buf.len())? else {
            return Ok(None);
        };
        let method = Method::from_bytes(request.method.unwrap_or("").as_bytes())
            .map_err(|_| HeadError::Malformed("a bad method"))?;
        let path = origin_form(request.path.unwrap_or(""), &method)?;
        let dotted = has_dot_segment(path);
        let target = place(buf, path.as_bytes());
        let minor = request.version.unwrap_or(1);
        let mut fields = Fields::from_httparse(buf, request.headers);
        // The places were taken in `buf`; the split keeps the bytes where they are.
        fields.raw = buf.split_to(len).freeze();
        let scan = fields.scan(minor)?;
        // RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one in 1.0.
        match (scan.hosts, minor) {
            (0, 1) => return Err(HeadError::Malformed("no Host header")),
            (0 | 1, _) => {}
            _ => return Err(HeadError::Malformed("more than one Host header")),
        }
        if dotted {
            return Err(HeadError::Malformed(
                "a request target with a . or .. segment",
            ));
        }
        let framing = match scan.framing {
            // A request without a length has no body (RFC 9112 6.3).
            Framing::Close | Framing::Length(0) => Framing::Empty,
            other => other,
        };
        Ok(Some(RequestHead {
            method,
            target,
            minor,
            fields,
            framing,
            keep_alive: scan.keep_alive,
            expect_continue: scan.expect_continue,
        }))
    }

    /// The request target: path and query.
    pub fn target(&self) -> &str {
        std::str::from_utf8(&self.fields.raw[self.target.clone()]).unwrap_or("/")
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        let target = self.target();
        target.split('?').next().unwrap_or(target)
    }
}

/// The target as a path (and query), the only form routed and sent on:
/// an absolute `http(s)://` target (RFC 9112 3.2.2: a server must accept
/// it) is taken as its path, `*` is kept for OPTIONS, and anything else
/// (an authority for CONNECT, another scheme, no leading `/`) is refused.
fn origin_form<'a>(target: &'a str, method: &Method) -> Result<&'a str, HeadError> {
    if target.starts_with('/') || (target == "*" && method == Method::OPTIONS) {
        return Ok(target);
    }
    let scheme_end = target.find("://").unwrap_or(0);
    let scheme = &target[..scheme_end];
    if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
        let rest = &target[scheme_end + 3..];
        return match rest.find(['/', '?', '#']) {
            Some(at) if rest.as_bytes()[at] == b'/' => Ok(&rest[at..]),
            _ => Err(HeadError::Malformed(
                "a request target (an absolute URL) without a path",
            )),
        };
    }
    Err(HeadError::Malformed(
        "a request target that is neither a path nor an http URL",
    ))
}

/// Whether a target's path has a `.` or `..` segment, also written with
/// `%2e` (`.` is unreserved, so `%2e` is the same character, RFC 3986
/// 2.3). Clients resolve them before sending (RFC 3986 5.2.4); one that
/// does not would reach past the proxy's path checks on a backend that
/// resolves them, so such a request is refused rather than guessed at.
pub fn has_dot_segment(target: &str) -> bool {
    let path = target.split(['?', '#']).next().unwrap_or(target);
    path.split('/').any(|segment| {
        let mut rest = segment.as_bytes();
        let mut dots = 0;
        while !rest.is_empty() {
            if rest[0] == b'.' {
                rest = &rest[1..];
            } else if rest.len() >= 3
                && rest[0] == b'%'
                && rest[1] == b'2'
                && rest[2] | 0x20 == b'e'
            {
                rest = &rest[3..];
            } else {
                return false;
            }
            dots += 1;
        }
        dots == 1 || dots == 2
    })
}

/// Whether a path has a `/` or `\\` written as `%2F` or `%5C`: a backend
/// that decodes it before routing would see other segments than the
/// proxy checked. Not for the proxy's own routes, which decode it themselves.
pub fn has_encoded_separator(path: &str) -> bool {
    path.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && ((w[1] == b'2' && w[2] | 0x20 == b'f') || (w[1] == b'5' && w[2] | 0x20 == b'c'))
    })
}

/// A backend's response head.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    pub status: u16,
    reason: Range<usize>,
    pub fields: Fields,
    pub framing: Framing,
    /// The backend keeps the connection open after this answer.
    pub keep_alive: bool,
}

impl ResponseHead {
    /// Take the head of the answer to a request that is not HEAD off the
    /// front of `buf`: `Ok(None)` (and `buf` untouched) until it is whole.
    pub fn parse(buf: &mut BytesMut) -> Result<Option<ResponseHead>, HeadError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let Some(len) = head_len(response.parse(buf), buf.len())? else {
            return Ok(None);
        };
        let status = response.code.unwrap_or(502);
        let reason = place(buf, response.reason.unwrap_or("").as_bytes());
        let minor = response.version.unwrap_or(1);
        let mut fields = Fields::from_httparse(buf, response.headers);
        fields.raw = buf.split_to(len).freeze();
        let scan = fields.scan(minor)?;
        let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
            Framing::Empty
        } else {
            match scan.framing {
                Framing::Length(0) => Framing::Empty,
                other => other,
            }
        };
        let keep_alive = framing != Framing::Close && scan.keep_alive;
        Ok(Some(ResponseHead {
            status,
            reason,
            fields,
            framing,
            keep_alive,
        }))
    }

    pub fn reason(&self) -> &str {
        std::str::from_utf8(&self.fields.raw[self.reason.clone()]).unwrap_or("")
    }
}

/// Headers that belong to one connection, not to the message (RFC 9110
/// 7.6.1), plus the framing ones the proxy writes itself.
pub fn is_hop_by_hop(name: &[u8]) -> bool {
    const HOP: [&str; 11] = [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "expect",
    ];
    HOP.iter().any(|h| h.as_bytes().eq_ignore_ascii_case(name))
}

/// An incremental decoder of a chunked body (RFC 9112 7.1): feed it bytes
/// as they arrive, get the data out; chunk extensions and trailers are
/// read and dropped.
#[derive(Debug, Default)]
pub struct ChunkedDecoder {
    state: ChunkState,
    size: u64,
    /// Bytes of the current size line or trailer line, to bound them.
    line: usize,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    /// In a chunk extension, up to the end of the size line.
    Extension,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    Trailer,
    TrailerLf,
    EndLf,
    Done,
}

/// The longest size or trailer line accepted.
const MAX_LINE: usize = 8 * 1024;

impl ChunkedDecoder {
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Decode what `input` holds; `data` gets each run of body bytes.
    /// Returns how many input bytes were used: all of them, unless the
    /// body ended before the input did.
    pub fn decode(
        &mut self,
        input: &[u8],
        mut data: impl FnMut(&[u8]),
    ) -> Result<usize, &'static str> {
        use ChunkState::*;
        let mut at = 0;
        while at < input.len() && self.state != Done {
            if self.state == Data {
                let take = (input.len() - at).min(usize::try_from(self.size).unwrap_or(usize::MAX));
                data(&input[at..at + take]);
                at += take;
                self.size -= take as u64;
                if self.size == 0 {
                    self.state = DataCr;
                }
                continue;
            }
            let byte = input[at];
            at += 1;
            self.line += 1;
            if self.line > MAX_LINE {
                return Err("a chunk line is too long");
            }
            self.state = match (self.state, byte) {
                (Size, b'\r') if self.line > 1 => SizeLf,
                (Size, b';' | b' ' | b'\t') if self.line > 1 => Extension,
                (Size, b) => {
                    let digit = (b as char).to_digit(16).ok_or("a bad chunk size")?;
                    self.size = self
                        .size
                        .checked_mul(16)
                        .and_then(|s| s.checked_add(u64::from(digit)))
                        .ok_or("a chunk size too large")?;
                    Size
                }
                (Extension, b'\r') => SizeLf,
                (Extension, _) => Extension,
                (SizeLf, b'\n') => {
                    self.line = 0;
                    if self.size == 0 {
                        TrailerStart
                    } else {
                        Data
                    }
                }
                (DataCr, b'\r') => DataLf,
                (DataLf, b'\n') => {
                    self.line = 0;
                    Size
                }
                (TrailerStart, b'\r') => EndLf,
                (Trailer, b'\r') => TrailerLf,
                (TrailerStart | Trailer, _) => Trailer,
                (TrailerLf, b'\n') => {
                    self.line = 0;
                    TrailerStart
                }
                (EndLf, b'\n') => Done,
                _ => return Err("bad chunked framing"),
            };
        }
        Ok(at)
    }
}

/// Append `data` to `out` as one chunk.
pub fn encode_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    push_hex(out, data.len());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// `n` in lower-case hex, as a chunk size (by hand: `write!` is a lot of
/// code to run for every event of a stream).
fn push_hex(out: &mut Vec<u8>, mut n: usize) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 16];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = DIGITS[n & 15];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// The chunk that ends a chunked body.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    #[test]
    fn chunk_sizes_are_lower_case_hex() {
        for n in [0usize, 9, 10, 15, 16, 255, 4096, 0xdead_beef, usize::MAX] {
            let mut out = Vec::new();
            super::push_hex(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap_or_default(), format!("{n:x}"));
        }
    }

    use super::*;

    fn request(text: &str) -> Result<Option<RequestHead>, HeadError> {
        RequestHead::parse(&mut BytesMut::from(text.as_bytes()))
    }

    #[test]
    fn a_request_head_is_parsed_in_place() {
        let text = "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nAuthorization: Bearer k\r\n\r\n{}";
        let mut buf = BytesMut::from(text.as_bytes());
        let head = RequestHead::parse(&mut buf).expect("valid").expect("whole");
        assert_eq!(&buf[..], b"{}", "the body stays in the buffer");
        assert_eq!(head.method, Method::POST);
        assert_eq!(head.target(), "/v1/chat/completions?x=1");
        assert_eq!(head.path(), "/v1/chat/completions");
        assert_eq!(head.framing, Framing::Length(2));
        assert!(head.keep_alive && !head.expect_continue);
        assert_eq!(head.fields.get("authorization"), Some(&b"Bearer k"[..]));
        assert_eq!(head.fields.iter().count(), 3);
    }

    #[test]
    fn a_partial_head_waits_and_a_huge_one_is_refused() {
        assert!(request("POST / HTTP/1.1\r\nHost: a\r\n")
            .expect("ok")
            .is_none());
        let huge = format!("POST / HTTP/1.1\r\nX: {}\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(request(&huge).err(), Some(HeadError::TooLarge));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X{i}: y\r\n")).collect();
        assert_eq!(
            request(&format!("GET / HTTP/1.1\r\n{many}\r\n")).err(),
            Some(HeadError::TooLarge)
        );
    }

    #[test]
    fn ambiguous_framing_is_refused() {
        for text in [
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            "NOT HTTP\r\n\r\n",
        ] {
            assert!(
                matches!(request(text), Err(HeadError::Malformed(_))),
                "{text:?}"
            );
        }
        let same =
            request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n")
                .expect("repeated equal lengths are fine")
                .expect("whole");
        assert_eq!(same.framing, Framing::Length(4));
        let chunked = request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  Chunked \r\n\r\n")
            .expect("valid")
            .expect("whole");
        assert_eq!(chunked.framing, Framing::Chunked);
    }

    #[test]
    fn codings_before_chunked_are_not_implemented() {
        // RFC 9112 6.1: a coding the server does not decode is a 501.
        for coding in [
            "gzip, chunked",
            "identity, chunked",
            "gzip,chunked",
            "x, , chunked",
        ] {
            let text = format!("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {coding}\r\n\r\n");
            assert!(
                matches!(request(&text), Err(HeadError::Unsupported(_))),
                "{coding}"
            );
        }
        let split = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(matches!(request(split), Err(HeadError::Unsupported(_))));
    }

    #[test]
    fn http_1_1_needs_exactly_one_host() {
        let missing = request("GET / HTTP/1.1\r\n\r\n");
        assert!(matches!(missing, Err(HeadError::Malformed(m)) if m.contains("no Host")));
        let twice = request("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n");
        assert!(matches!(twice, Err(HeadError::Malformed(m)) if m.contains("more than one")));
        let twice_1_0 = request("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n");
        assert!(matches!(twice_1_0, Err(HeadError::Malformed(_))));
        for fine in [
            "GET / HTTP/1.0\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost:\r\n\r\n",
        ] {
            assert!(matches!(request(fine), Ok(Some(_))), "{fine:?}");
        }
    }

    #[test]
    fn an_absolute_target_is_taken_as_its_path_and_other_forms_are_refused() {
        // RFC 9112 3.2.2: a server must accept the absolute form; from here
        // on (routing, checks, the backend) only its path and query count.
        for (target, origin) in [
            ("http://x/v1/chat/completions", "/v1/chat/completions"),
            ("HTTP://x:8000/v1/models?a=1", "/v1/models?a=1"),
            ("https://user@x/upstream/m/health", "/upstream/m/health"),
        ] {
            let text = format!("GET {target} HTTP/1.1\r\nHost: other\r\n\r\n");
            let head = request(&text).expect("valid").expect("whole");
            assert_eq!(head.target(), origin, "{target}");
        }
        for target in [
            "http://x/upstream/m/v1/models/../../slots",
            "http://x/v1/%2e%2e/sleep",
        ] {
            let text = format!("GET {target} HTTP/1.1\r\nHost: a\r\n\r\n");
            assert!(
                matches!(request(&text), Err(HeadError::Malformed(m)) if m.contains("segment")),
                "{target}"
            );
        }
        for text in [
            "GET ftp://x/v1/models HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET http://x HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET http://x?a=1 HTTP/1.1\r\nHost: a\r\n\r\n",
            "CONNECT x:80 HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET v1/models HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET * HTTP/1.1\r\nHost: a\r\n\r\n",
        ] {
            assert!(
                matches!(request(text), Err(HeadError::Malformed(m)) if m.contains("request target")),
                "{text:?}: {:?}",
                request(text).map(|h| h.map(|h| h.target().to_string()))
            );
        }
        let star = request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")
            .expect("valid")
            .expect("whole");
        assert_eq!(star.target(), "*");
    }

    #[test]
    fn dot_segments_are_refused_in_every_spelling() {
        for target in [
            "/v1/../sleep",
            "/upstream/m/v1/models/../../slots",
            "/upstream/m/v1/models/%2e%2e/%2E%2E/slots",
            "/v1/.%2e/sleep",
            "/v1/./chat/completions",
            "/v1/%2e/x",
            "/..",
            "/v1/..?x=1",
        ] {
            let text = format!("POST {target} HTTP/1.1\r\nHost: a\r\n\r\n");
            assert!(
                matches!(request(&text), Err(HeadError::Malformed(m)) if m.contains("segment")),
                "{target}"
            );
        }
        for target in [
            "/v1/chat/completions",
            "/v1/models/a..b",
            "/v1/.well-known",
            "/v1/...",
            "/upstream/m/metrics?path=../x",
            "/v1/%2e%2e%2e",
        ] {
            assert!(!has_dot_segment(target), "{target}");
        }
    }

    #[test]
    fn encoded_separators_are_found() {
        for path in ["/v1/a%2Fb", "/v1/a%2fb", "/x%5c..", "/x%5Cy"] {
            assert!(has_encoded_separator(path), "{path}");
        }
        for path in ["/v1/chat/completions", "/v1/a%20b", "/v1/%25%32%46"] {
            assert!(!has_encoded_separator(path), "{path}");
        }
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection() {
        let keep = |text: &str| request(text).expect("ok").expect("whole").keep_alive;
        assert!(keep("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(!keep(
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n"
        ));
        assert!(!keep("GET / HTTP/1.0\r\n\r\n"));
        assert!(keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        let head = request(
            "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
        )
        .expect("ok")
        .expect("whole");
        assert!(head.expect_continue);
    }

    #[test]
    fn response_framing() {
        let parse = |text: &str| {
            ResponseHead::parse(&mut BytesMut::from(text.as_bytes()))
                .expect("ok")
                .expect("whole")
        };
        let ok = parse("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n");
        assert_eq!(
            (ok.status, ok.reason(), ok.framing, ok.keep_alive),
            (200, "OK", Framing::Length(5), true)
        );
        let stream = parse("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
        assert_eq!(stream.framing, Framing::Chunked);
        let until_close = parse("HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(
            (until_close.framing, until_close.keep_alive),
            (Framing::Close, false)
        );
        let closing = parse("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 1\r\n\r\n");
        assert!(!closing.keep_alive);
        assert_eq!(
            parse("HTTP/1.1 204 No Content\r\n\r\n").framing,
            Framing::Empty
        );
    }

    fn decode_all(pieces: &[&[u8]]) -> Result<(Vec<u8>, bool), &'static str> {
        let mut decoder = ChunkedDecoder::default();
        let mut out = Vec::new();
        for piece in pieces {
            let used = decoder.decode(piece, |d| out.extend_from_slice(d))?;
            assert!(used == piece.len() || decoder.is_done());
        }
        Ok((out, decoder.is_done()))
    }

    #[test]
    fn chunked_bodies_decode_however_they_are_split() {
        let body = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n";
        assert_eq!(decode_all(&[body]), Ok((b"hello, world".to_vec(), true)));
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(decode_all(&bytes), Ok((b"hello, world".to_vec(), true)));
        assert_eq!(decode_all(&[b"5\r\nhel"]), Ok((b"hel".to_vec(), false)));
        assert_eq!(
            decode_all(&[b"A\r\n0123456789\r\n0\r\n\r\n"]),
            Ok((b"0123456789".to_vec(), true))
        );
    }

    #[test]
    fn bad_chunked_framing_is_an_error() {
        assert!(decode_all(&[b"x\r\n"]).is_err());
        assert!(decode_all(&[b"\r\n"]).is_err(), "an empty size");
        assert!(
            decode_all(&[b"2\r\nabc\r\n"]).is_err(),
            "data longer than its size"
        );
        assert!(decode_all(&[b"fffffffffffffffff\r\n"]).is_err(), "overflow");
        let long = vec![b'1'; MAX_LINE + 2];
        assert!(decode_all(&[&long]).is_err());
    }

    #[test]
    fn the_decoder_stops_at_the_end_of_the_body() {
        let mut decoder = ChunkedDecoder::default();
        let input = b"1\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
        let used = decoder.decode(input, |_| {}).expect("valid");
        assert!(decoder.is_done());
        assert_eq!(&input[used..], b"GET / HTTP/1.1\r\n");
    }

    #[test]
    fn chunks_encode() {
        let mut out = Vec::new();
        encode_chunk(&mut out, b"hello, world");
        encode_chunk(&mut out, b"");
        out.extend_from_slice(LAST_CHUNK);
        assert_eq!(out, b"c\r\nhello, world\r\n0\r\n\r\n");
        assert_eq!(decode_all(&[&out]), Ok((b"hello, world".to_vec(), true)));
    }
}
