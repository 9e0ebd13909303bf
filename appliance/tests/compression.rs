//! End-to-end tests of gzip content coding on a real master and agent over loopback: large
//! operator answers (the shared GET_STATE and `/state` renderings, other JSON answers) are
//! compressed when `Accept-Encoding` allows it and decompress to the plain answer; refused
//! gzip, small answers and event streams are sent plain.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const JSON: (&str, &str) = ("Content-Type", "application/json");

/// An operator call with extra request headers; the 200 answer.
fn call(port: u16, call_type: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let mut all = vec![JSON];
    all.extend_from_slice(headers);
    let body = format!("{{\"type\":\"{call_type}\"}}");
    let r = http(port, "POST", "/api/v1", &all, body.as_bytes())
        .unwrap_or_else(|e| panic!("{call_type}: {e}"));
    assert_eq!(r.status, 200, "{call_type}: {}", r.text());
    r
}

fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let r = http(port, "GET", path, headers, b"").unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert_eq!(r.status, 200, "GET {path}: {}", r.text());
    r
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("not a gzip body ({e})"));
    out
}

/// Asserts `r` is a gzip answer framed by its `Content-Length`; its decompressed body.
fn gzipped(r: &HttpResponse, what: &str) -> Vec<u8> {
    assert_eq!(r.header("Content-Encoding"), Some("gzip"), "{what}");
    assert_eq!(r.header("Vary"), Some("Accept-Encoding"), "{what}");
    assert_eq!(
        r.header("Content-Length"),
        Some(r.body.len().to_string().as_str()),
        "{what}"
    );
    gunzip(&r.body)
}

fn plain(r: &HttpResponse, what: &str) -> Vec<u8> {
    assert_eq!(r.header("Content-Encoding"), None, "{what}");
    r.body.clone()
}

/// Fetches an answer plain, then with `Accept-Encoding: gzip` (twice: the second is the
/// shared compressed form), then plain again, and checks that the gzip bodies decompress to a
/// plain one (the master's timers may change its state in between, so either plain answer
/// may be the match).
fn same_with_and_without_gzip(fetch: impl Fn(&[(&str, &str)]) -> HttpResponse, what: &str) {
    let before = plain(&fetch(&[]), what);
    assert!(
        before.len() >= 1024,
        "{what} must be large enough to be compressed: {} bytes",
        before.len()
    );
    let first = fetch(&[("Accept-Encoding", "gzip, deflate")]);
    let second = fetch(&[("Accept-Encoding", "gzip")]);
    let after = plain(&fetch(&[]), what);
    for r in [&first, &second] {
        let body = gzipped(r, what);
        assert!(
            body == before || body == after,
            "{what}: the decompressed body differs from the plain one"
        );
        assert!(r.body.len() < body.len(), "{what}: gzip made it no smaller");
        serde_json::from_slice::<serde_json::Value>(&body).expect("JSON");
    }
}

/// The response head of a request whose body never ends (an event stream).
fn stream_head(port: u16, body: &str, headers: &[(&str, &str)]) -> String {
    let mut all = vec![JSON];
    all.extend_from_slice(headers);
    let mut s = TcpStream::connect(loopback(port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(&request_bytes(
        port,
        "POST",
        "/api/v1",
        &all,
        body.as_bytes(),
    ))
    .expect("send");
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while find(&raw, b"\r\n\r\n").is_none() {
        let n = s.read(&mut buf).expect("read the head");
        assert!(n > 0, "the stream closed before its head");
        raw.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&raw).to_ascii_lowercase()
}

#[test]
fn large_answers_are_gzipped_when_the_request_accepts_it() {
    let mut h = Harness::new("compression");
    let (mport, aport, aport2) = (free_port(), free_port(), free_port());
    h.start_master(mport, &h.path("master"));
    // Two agents make GET_STATE larger than the 1 KiB below which nothing is compressed.
    h.start_agent(mport, aport, &h.path("agent"), AGENT_RESOURCES);
    h.start_agent(mport, aport2, &h.path("agent2"), AGENT_RESOURCES);
    wait_agents(mport, 2);

    // The shared renderings: each v1 state query and the legacy `/state` (under both names).
    for kind in [
        "GET_STATE",
        "GET_AGENTS",
        "GET_FRAMEWORKS",
        "GET_EXECUTORS",
        "GET_TASKS",
    ] {
        let r = call(mport, kind, &[("Accept-Encoding", "gzip")]);
        if kind == "GET_STATE" || kind == "GET_AGENTS" || r.header("Content-Encoding").is_some() {
            same_with_and_without_gzip(|hs| call(mport, kind, hs), kind);
        } else {
            // Too small to compress (no tasks): sent plain, by the same rule.
            assert!(
                r.body.len() < 1024,
                "{kind}: {} bytes sent plain",
                r.body.len()
            );
        }
    }
    for path in ["/state", "/master/state"] {
        same_with_and_without_gzip(|hs| get(mport, path, hs), path);
    }
    // Other JSON answers: the master's flags and the agent's own GET_STATE.
    same_with_and_without_gzip(|hs| call(mport, "GET_FLAGS", hs), "GET_FLAGS");
    same_with_and_without_gzip(|hs| call(aport, "GET_FLAGS", hs), "agent GET_FLAGS");

    // Refused or unlisted gzip, and no header at all: plain, with the same body.
    let reference = call(mport, "GET_STATE", &[]).body;
    for refuse in [
        "gzip;q=0",
        "identity",
        "gzip;q=0, identity",
        "*;q=0, identity",
        "deflate, br",
        "gzip;q=0.5, identity;q=1",
        "",
    ] {
        let r = call(mport, "GET_STATE", &[("Accept-Encoding", refuse)]);
        let body = plain(&r, refuse);
        assert_eq!(r.header("Vary"), Some("Accept-Encoding"), "{refuse}");
        assert_eq!(body.len(), reference.len(), "Accept-Encoding: {refuse}");
    }
    // A wildcard or a quality accepts it.
    for accept in ["*", "gzip;q=0.5", "br;q=1.0, gzip;q=0.1"] {
        let r = call(mport, "GET_STATE", &[("Accept-Encoding", accept)]);
        gzipped(&r, accept);
    }

    // Small answers are never compressed.
    for kind in ["GET_HEALTH", "GET_VERSION"] {
        let r = call(mport, kind, &[("Accept-Encoding", "gzip")]);
        assert!(r.body.len() < 1024, "{kind} is small");
        assert_eq!(r.header("Content-Encoding"), None, "{kind}");
        r.json();
    }

    // Event streams are never compressed.
    let head = stream_head(
        mport,
        r#"{"type":"SUBSCRIBE"}"#,
        &[("Accept-Encoding", "gzip")],
    );
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(!head.contains("content-encoding"), "{head}");
}
