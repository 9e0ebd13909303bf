//! End-to-end tests of bad input: malformed HTTP API calls get one-line errors with the right
//! status, garbage on the internal protocol closes only that connection, and bad flags exit 2
//! naming the flag.

mod common;

use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A master without agents, ready to serve.
fn master(h: &mut Harness) -> (u16, ProcId) {
    let port = free_port();
    let dir = h.path("master");
    let id = h.start_master(port, &dir);
    (port, id)
}

fn post_json(port: u16, path: &str, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    http(port, "POST", path, &all, body.as_bytes()).expect("POST")
}

/// Asserts an error answer: the status and a one-line plain-text reason.
fn assert_error(r: &HttpResponse, status: u16) -> String {
    let text = r.text();
    assert_eq!(r.status, status, "answer: {text}");
    let reason = text.strip_suffix('\n').unwrap_or(&text);
    assert!(!reason.trim().is_empty(), "an empty reason");
    assert!(!reason.contains('\n'), "a multi-line reason: {text:?}");
    reason.to_string()
}

/// A subscribed scheduler: its connection (kept open) and the ids the master gave it.
struct Subscription {
    _stream: TcpStream,
    framework_id: String,
    stream_id: String,
}

fn subscribe(port: u16) -> Subscription {
    let body =
        r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"nobody","name":"e2e"}}}"#;
    let mut s = TcpStream::connect(loopback(port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(1)))
        .expect("set_read_timeout");
    let mut req = request_bytes(
        port,
        "POST",
        "/api/v1/scheduler",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ],
        body.as_bytes(),
    );
    // Keep the event stream open: drop the `Connection: close` line the helper adds.
    let text = String::from_utf8(req.clone()).expect("ascii request");
    req = text.replace("Connection: close\r\n", "").into_bytes();
    s.write_all(&req).expect("send SUBSCRIBE");

    let marker = "\"framework_id\":{\"value\":\"";
    let mut buf = Vec::new();
    let deadline = Instant::now() + WAIT;
    loop {
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some(at) = text.find(marker) {
            let rest = &text[at + marker.len()..];
            if let Some(end) = rest.find('"') {
                let framework_id = rest[..end].to_string();
                assert!(text.starts_with("HTTP/1.1 200"), "{text}");
                let stream_id = text
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("mesos-stream-id")
                            .then(|| v.trim().to_string())
                    })
                    .expect("a Mesos-Stream-Id header");
                return Subscription {
                    _stream: s,
                    framework_id,
                    stream_id,
                };
            }
        }
        assert!(Instant::now() < deadline, "no SUBSCRIBED event: {text}");
        let mut chunk = [0u8; 4096];
        match s.read(&mut chunk) {
            Ok(0) => panic!("the master closed the subscription: {text}"),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("reading the subscription: {e}"),
        }
    }
}

#[test]
fn malformed_http_api_calls_get_one_line_errors() {
    let mut h = Harness::new("badhttp");
    let (port, _) = master(&mut h);

    let r = post_json(port, "/api/v1/scheduler", &[], "{not json");
    assert_error(&r, 400);
    let r = post_json(port, "/api/v1", &[], "[1,2");
    assert_error(&r, 400);
    let r = post_json(port, "/api/v1", &[], r#"{"type":"NO_SUCH_CALL"}"#);
    assert_error(&r, 400);

    let r = http(
        port,
        "POST",
        "/api/v1/scheduler",
        &[("Content-Type", "application/x-protobuf")],
        b"\x08\x01",
    )
    .expect("POST");
    let reason = assert_error(&r, 415);
    assert!(reason.contains("mesolite speaks JSON only"), "{reason}");

    let r = http(port, "GET", "/api/v1", &[], b"").expect("GET");
    assert_error(&r, 405);
    let r = http(port, "GET", "/api/v1/scheduler", &[], b"").expect("GET");
    assert_error(&r, 405);

    let r = http(port, "GET", "/no/such/endpoint", &[], b"").expect("GET");
    assert_error(&r, 404);

    // A call of a framework the master never saw.
    let r = post_json(
        port,
        "/api/v1/scheduler",
        &[("Mesos-Stream-Id", "e2e-no-such-stream")],
        r#"{"type":"REVIVE","framework_id":{"value":"e2e-unknown-framework"}}"#,
    );
    let reason = r.text();
    assert!(
        r.status == 400 || r.status == 403,
        "unknown framework answered {}: {reason}",
        r.status
    );
    assert_error(&r, r.status);

    // The master still answers after all that.
    let v = operator(port, "GET_HEALTH");
    assert_eq!(v["get_health"]["healthy"], true, "{v}");
}

#[test]
fn scheduler_calls_need_the_subscription_stream_id() {
    let mut h = Harness::new("streamid");
    let (port, _) = master(&mut h);
    let sub = subscribe(port);
    let revive = format!(
        r#"{{"type":"REVIVE","framework_id":{{"value":"{}"}}}}"#,
        sub.framework_id
    );

    let r = post_json(
        port,
        "/api/v1/scheduler",
        &[("Mesos-Stream-Id", "00000000-0000-0000-0000-000000000000")],
        &revive,
    );
    assert_error(&r, 400);

    let r = post_json(port, "/api/v1/scheduler", &[], &revive);
    assert_error(&r, 400);

    // The control: the right stream id is accepted.
    let r = post_json(
        port,
        "/api/v1/scheduler",
        &[("Mesos-Stream-Id", &sub.stream_id)],
        &revive,
    );
    assert_eq!(r.status, 202, "{}", r.text());

    // A second SUBSCRIBE must not carry a stream id.
    let r = post_json(
        port,
        "/api/v1/scheduler",
        &[("Mesos-Stream-Id", &sub.stream_id)],
        r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"nobody","name":"e2e"}}}"#,
    );
    assert_error(&r, 400);
}

/// Writes `bytes` on a fresh connection and expects the peer to close it.
fn assert_closed_after(port: u16, bytes: &[u8]) {
    let mut s = TcpStream::connect(loopback(port)).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("set_read_timeout");
    s.write_all(bytes).expect("write");
    let mut buf = [0u8; 256];
    let deadline = Instant::now() + WAIT;
    loop {
        match s.read(&mut buf) {
            Ok(0) => return,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return,
            // Whatever the peer says before closing does not matter.
            Ok(_) => {}
            Err(e) => panic!("the connection was not closed: {e}"),
        }
        assert!(Instant::now() < deadline, "the connection was not closed");
    }
}

#[test]
fn garbage_on_the_internal_protocol_closes_only_that_connection() {
    let mut h = Harness::new("garbage");
    let port = free_port();
    h.start_standalone(port, &h.path("work"), &[]);
    let agent = wait_agents(port, 1)[0].id.clone();
    let preamble = mesolite_core::wire::preamble();

    // A frame longer than the largest allowed.
    let mut bytes = preamble.to_vec();
    bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    assert_closed_after(port, &bytes);

    // A frame of a plausible length whose payload is not a message.
    let mut bytes = preamble.to_vec();
    bytes.extend_from_slice(&[8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    assert_closed_after(port, &bytes);

    // Another protocol version.
    let mut bytes = preamble.to_vec();
    let last = bytes.len() - 1;
    bytes[last] = bytes[last].wrapping_add(100);
    assert_closed_after(port, &bytes);

    // The master keeps serving, and its real agent is still there and active.
    let r = http(port, "GET", "/health", &[], b"").expect("GET /health");
    assert_eq!(r.status, 200);
    let agents = wait_agents(port, 1);
    assert_eq!(agents[0].id, agent);
    let out = h.cli(
        &[
            "run",
            "--master",
            &loopback(port),
            "--",
            "echo",
            "still-serving",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("still-serving"), "{out:?}");
}

#[test]
fn an_agent_refuses_internal_protocol_connections() {
    let mut h = Harness::new("agentinternal");
    let (port, _) = master(&mut h);
    let agent_port = free_port();
    h.start_agent(port, agent_port, &h.path("agent"), AGENT_RESOURCES);
    let mut bytes = mesolite_core::wire::preamble().to_vec();
    bytes.extend_from_slice(&[1, 0, 0, 0, 0]);
    assert_closed_after(agent_port, &bytes);
    let r = http(agent_port, "GET", "/health", &[], b"").expect("GET /health");
    assert_eq!(r.status, 200);
}

/// How many TCP sockets with local port `port` are in CLOSE_WAIT: the peer closed, this side
/// has not. Read from /proc/net/tcp (IPv4, this network namespace).
fn close_wait_sockets(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let local_port = f
                .get(1)
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            local_port == Some(port) && f.get(3) == Some(&"08")
        })
        .count()
}

#[test]
fn half_a_preamble_then_close_does_not_keep_the_connection() {
    let mut h = Harness::new("halfpreamble");
    let (port, _) = master(&mut h);
    // The control: half an HTTP request line, then close.
    for _ in 0..20 {
        let mut s = TcpStream::connect(loopback(port)).expect("connect");
        s.write_all(b"GET /hea").expect("write");
        drop(s);
    }
    wait_for(
        "the master to close half-sent HTTP connections",
        WAIT,
        || (close_wait_sockets(port) == 0).then_some(()),
    );
    let preamble = mesolite_core::wire::preamble();
    for _ in 0..20 {
        let mut s = TcpStream::connect(loopback(port)).expect("connect");
        s.write_all(&preamble[..4]).expect("write");
        drop(s);
    }
    // The peers are gone; the master must close its ends instead of waiting for the rest of
    // the preamble forever.
    wait_for(
        "the master to close connections its peers closed",
        WAIT,
        || (close_wait_sockets(port) == 0).then_some(()),
    );
    let r = http(port, "GET", "/health", &[], b"").expect("GET /health");
    assert_eq!(r.status, 200);
}

/// Runs `mesolite ARGS` and expects a usage error naming `flag` on one line.
fn assert_bad_flag(h: &mut Harness, args: &[&str], flag: &str) {
    let out = h.cli(args, WAIT);
    assert_eq!(out.code, Some(2), "{args:?}: {out:?}");
    let err = out.stderr.trim_end();
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err:?}");
    assert!(
        err.contains(flag),
        "{args:?}: does not name {flag}: {err:?}"
    );
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    let mut h = Harness::new("flags");
    let dir = h.path("w");
    let dir = dir.to_str().expect("utf-8 path");
    assert_bad_flag(&mut h, &["master", "--listen", "nope"], "--listen");
    assert_bad_flag(
        &mut h,
        &[
            "master",
            "--listen",
            "127.0.0.1:1",
            "--allocation-interval",
            "soon",
        ],
        "--allocation-interval",
    );
    assert_bad_flag(
        &mut h,
        &[
            "agent",
            "--master",
            "127.0.0.1:1",
            "--listen",
            "127.0.0.1:0",
            "--work-dir",
            dir,
            "--resources",
            "cpus:abc",
        ],
        "--resources",
    );
    assert_bad_flag(
        &mut h,
        &["standalone", "--work-dir", dir, "--resources", "cpus:1;mem"],
        "--resources",
    );
    assert_bad_flag(&mut h, &["master", "--no-such-flag"], "--no-such-flag");
    assert_bad_flag(
        &mut h,
        &[
            "run",
            "--master",
            "127.0.0.1:1",
            "--cpus",
            "lots",
            "--",
            "true",
        ],
        "--cpus",
    );
    // None of them started anything.
    assert!(
        !std::path::Path::new(dir).exists(),
        "a work dir was created"
    );
}
