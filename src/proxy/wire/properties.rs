//! Property tests of the request parser and the framing rules (issue 18):
//! generated heads, close to valid and just past it, and arbitrary bytes.
//! Each property says what no input may make the parser do.

use bytes::BytesMut;
use proptest::prelude::*;

use super::{has_dot_segment, ChunkedDecoder, Framing, HeadError, RequestHead};

/// One header line of a generated head: the fields that decide framing,
/// and a few that do not, in any case and with odd spacing.
fn field() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("Content-Length"),
        Just("content-length"),
        Just("Transfer-Encoding"),
        Just("TRANSFER-ENCODING"),
        Just("Host"),
        Just("host"),
        Just("Connection"),
        Just("Expect"),
        Just("X-Other"),
    ];
    let value = prop_oneof![
        Just("chunked".to_string()),
        Just("Chunked ".to_string()),
        Just("gzip, chunked".to_string()),
        Just("identity, chunked".to_string()),
        Just("chunked, gzip".to_string()),
        Just("chunked, chunked".to_string()),
        Just(", chunked".to_string()),
        Just("".to_string()),
        Just("close".to_string()),
        Just("keep-alive".to_string()),
        Just("100-continue".to_string()),
        (0u64..100_000).prop_map(|n| n.to_string()),
        Just("+4".to_string()),
        Just("-1".to_string()),
        Just("4, 4".to_string()),
        Just("18446744073709551616".to_string()),
        "[a-z0-9.:]{0,12}",
    ];
    (name, value, prop_oneof![Just(""), Just(" "), Just("  ")])
        .prop_map(|(name, value, space)| format!("{name}:{space}{value}"))
}

/// A request target: segments that are plain, dotted, or encoded.
fn target() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("v1".to_string()),
        Just("chat".to_string()),
        Just("upstream".to_string()),
        Just("..".to_string()),
        Just(".".to_string()),
        Just("%2e%2e".to_string()),
        Just("%2E.".to_string()),
        Just("...".to_string()),
        Just("a..b".to_string()),
        Just("x%2Fy".to_string()),
        "[a-z]{1,6}",
    ];
    (
        proptest::collection::vec(segment, 0..5),
        "(\\?[a-z=.]{0,8})?",
    )
        .prop_map(|(segments, query)| format!("/{}{query}", segments.join("/")))
}

/// A whole head: method, target, version, fields.
fn head() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("GET"), Just("POST"), Just("HEAD"), Just("OPTIONS")],
        target(),
        prop_oneof![Just("HTTP/1.1"), Just("HTTP/1.0")],
        proptest::collection::vec(field(), 0..6),
    )
        .prop_map(|(method, target, version, fields)| {
            let mut text = format!("{method} {target} {version}\r\n");
            for f in fields {
                text.push_str(&f);
                text.push_str("\r\n");
            }
            text.push_str("\r\n");
            text
        })
}

/// The values of every field named `name` (case-insensitive), trimmed.
fn values<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Whatever the bytes, the parser answers (no panic) and takes only a
    /// whole head off the buffer, or nothing.
    #[test]
    fn any_bytes_are_parsed_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut buf = BytesMut::from(&bytes[..]);
        match RequestHead::parse(&mut buf) {
            Ok(None) => prop_assert_eq!(&buf[..], &bytes[..]),
            Ok(Some(_)) => prop_assert!(bytes.ends_with(&buf[..])),
            Err(_) => {}
        }
    }

    /// No head the parser accepts can be framed two ways, carries an
    /// unresolved dot segment, or lacks (or repeats) Host in HTTP/1.1; and
    /// the framing it reads is the one the fields say.
    #[test]
    fn an_accepted_head_is_framed_one_way_only(text in head()) {
        let parsed = RequestHead::parse(&mut BytesMut::from(text.as_bytes()));
        let lengths = values(&text, "content-length");
        // Every coding over every Transfer-Encoding field; a list may
        // have empty elements (RFC 9110 5.6.1).
        let codings: Vec<&str> = values(&text, "transfer-encoding")
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        let te_fields = values(&text, "transfer-encoding").len();
        let hosts = values(&text, "host").len();
        let http11 = text.contains(" HTTP/1.1\r\n");
        let Ok(Some(head)) = parsed else {
            // Refused: something in the head must be wrong.
            let only_chunked = codings.len() == 1 && codings[0].eq_ignore_ascii_case("chunked");
            let lengths_agree = lengths.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit()) && !l.is_empty() && l.parse::<u64>().is_ok())
                && lengths.windows(2).all(|w| w[0].parse::<u64>().ok() == w[1].parse::<u64>().ok());
            let fine = lengths_agree
                && (te_fields == 0 || (only_chunked && lengths.is_empty() && http11))
                && (if http11 { hosts == 1 } else { hosts <= 1 })
                && !has_dot_segment(text.split(' ').nth(1).unwrap_or(""));
            prop_assert!(!fine, "a sound head was refused: {:?} → {:?}", text, parsed.err());
            return Ok(());
        };
        prop_assert!(lengths.is_empty() || te_fields == 0, "both framings: {:?}", text);
        prop_assert!(!has_dot_segment(head.target()), "{:?}", text);
        prop_assert!(if http11 { hosts == 1 } else { hosts <= 1 }, "{:?}", text);
        match head.framing {
            Framing::Chunked => {
                prop_assert_eq!(codings.len(), 1, "{:?}", text);
                prop_assert!(codings[0].eq_ignore_ascii_case("chunked"), "{:?}", text);
            }
            Framing::Length(len) => {
                prop_assert!(len > 0 && lengths.iter().all(|l| l.parse::<u64>() == Ok(len)), "{:?}", text);
            }
            Framing::Empty => prop_assert!(te_fields == 0 && lengths.iter().all(|l| l.parse::<u64>() == Ok(0)), "{:?}", text),
            Framing::Close => prop_assert!(false, "a request framed by close: {:?}", text),
        }
    }

    /// A body sent chunked, however its chunks and its bytes are split on
    /// the wire, decodes to itself, and the decoder stops exactly at its
    /// end: what follows (a pipelined request) is left alone.
    #[test]
    fn chunked_bodies_decode_whole_and_stop_at_their_end(
        body in proptest::collection::vec(any::<u8>(), 0..2000),
        chunk_sizes in proptest::collection::vec(1usize..300, 1..20),
        cuts in proptest::collection::vec(1usize..200, 1..40),
        extension in prop_oneof![Just(""), Just(";a=1"), Just(";x")],
        trailer in prop_oneof![Just(""), Just("X-T: 1\r\n")],
    ) {
        let mut wire = Vec::new();
        let mut rest = &body[..];
        let mut sizes = chunk_sizes.iter().cycle();
        while !rest.is_empty() {
            let n = (*sizes.next().unwrap_or(&1)).min(rest.len());
            wire.extend_from_slice(format!("{n:X}{extension}\r\n").as_bytes());
            wire.extend_from_slice(&rest[..n]);
            wire.extend_from_slice(b"\r\n");
            rest = &rest[n..];
        }
        wire.extend_from_slice(format!("0\r\n{trailer}\r\n").as_bytes());
        let end = wire.len();
        wire.extend_from_slice(b"GET /next HTTP/1.1\r\n");
        let mut decoder = ChunkedDecoder::default();
        let mut out = Vec::new();
        let mut at = 0;
        let mut cuts = cuts.iter().cycle();
        while at < wire.len() && !decoder.is_done() {
            let upto = (at + cuts.next().copied().unwrap_or(1)).min(wire.len());
            let used = decoder.decode(&wire[at..upto], |d| out.extend_from_slice(d));
            prop_assert!(used.is_ok(), "{:?}", used);
            at += used.unwrap_or(0);
            if !decoder.is_done() {
                prop_assert_eq!(at, upto, "all of a piece is used until the end");
            }
        }
        prop_assert!(decoder.is_done());
        prop_assert_eq!(at, end, "stopped at the end of the body");
        prop_assert_eq!(out, body);
    }

    /// A damaged chunked body is refused or waited for, never read past
    /// its input or into a panic.
    #[test]
    fn damaged_chunked_bodies_are_refused_or_incomplete(
        bytes in proptest::collection::vec(
            proptest::sample::select(&b"0000555aaaFFF;;;\r\r\r\n\n\n =xX-\t\x00\xff9"[..]),
            0..300,
        ),
    ) {
        let mut decoder = ChunkedDecoder::default();
        let mut out = 0usize;
        if let Ok(used) = decoder.decode(&bytes, |d| out += d.len()) {
            prop_assert!(used <= bytes.len());
            prop_assert!(out <= bytes.len());
            if !decoder.is_done() {
                prop_assert_eq!(used, bytes.len());
            }
        }
    }
}

#[test]
fn the_generators_reach_every_outcome() {
    // The head generator is worth its cases only if it makes heads that
    // are accepted, refused as malformed and refused as unsupported.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut ok, mut bad, mut unsupported) = (0, 0, 0);
    for _ in 0..3000 {
        let Ok(tree) = head().new_tree(&mut runner) else {
            continue;
        };
        match RequestHead::parse(&mut BytesMut::from(tree.current().as_bytes())) {
            Ok(Some(_)) => ok += 1,
            Err(HeadError::Malformed(_)) => bad += 1,
            Err(HeadError::Unsupported(_)) => unsupported += 1,
            _ => {}
        }
    }
    assert!(
        ok > 100 && bad > 100 && unsupported > 10,
        "{ok} {bad} {unsupported}"
    );
}
