//! End-to-end tests of the v1 scheduler API over raw HTTP against `mesolite standalone`: exact
//! `202 Accepted` answers, TASK_ERROR for task features mesolite does not implement, Mesos'
//! reconciliation answers, SHUTDOWN of a custom executor, and the request body limit.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A subscribed scheduler whose events a background thread collects.
struct Scheduler {
    port: u16,
    framework_id: String,
    stream_id: String,
    events: Arc<Mutex<Vec<Value>>>,
}

/// The RecordIO records of a (de-chunked) stream body, as JSON.
fn records(mut body: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(nl) = body.iter().position(|b| *b == b'\n') {
        let Some(len) = std::str::from_utf8(&body[..nl])
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
        else {
            break;
        };
        if body.len() < nl + 1 + len {
            break;
        }
        out.push(serde_json::from_slice(&body[nl + 1..nl + 1 + len]).expect("a JSON record"));
        body = &body[nl + 1 + len..];
    }
    out
}

impl Scheduler {
    fn subscribe(port: u16, framework_info: Value) -> Scheduler {
        let body = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": framework_info}});
        let mut s = TcpStream::connect(loopback(port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("set_read_timeout");
        let req = request_bytes(
            port,
            "POST",
            "/api/v1/scheduler",
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        );
        s.write_all(&req).expect("send SUBSCRIBE");
        let events = Arc::new(Mutex::new(Vec::new()));
        let head: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        {
            let events = events.clone();
            let head = head.clone();
            std::thread::spawn(move || {
                let mut raw = Vec::new();
                let mut chunk = [0u8; 65536];
                loop {
                    match s.read(&mut chunk) {
                        Ok(0) => return,
                        Ok(n) => raw.extend_from_slice(&chunk[..n]),
                        Err(e)
                            if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                        {
                            continue
                        }
                        Err(_) => return,
                    }
                    let Some(end) = find(&raw, b"\r\n\r\n") else {
                        continue;
                    };
                    *head.lock().unwrap() = Some(String::from_utf8_lossy(&raw[..end]).into_owned());
                    *events.lock().unwrap() = records(&dechunk(&raw[end + 4..]));
                }
            });
        }
        let head = wait_for("the SUBSCRIBE answer", WAIT, || {
            head.lock().unwrap().clone()
        });
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let stream_id = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("mesos-stream-id")
                    .then(|| v.trim().to_string())
            })
            .expect("a Mesos-Stream-Id header");
        let mut sched = Scheduler {
            port,
            framework_id: String::new(),
            stream_id,
            events,
        };
        let subscribed = sched.wait_event("SUBSCRIBED", |_| true);
        sched.framework_id = subscribed["subscribed"]["framework_id"]["value"]
            .as_str()
            .expect("framework_id")
            .to_string();
        sched
    }

    /// The first event of `kind` matching `pred`.
    fn wait_event(&self, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
        wait_for(&format!("a {kind} event"), WAIT, || {
            self.events
                .lock()
                .unwrap()
                .iter()
                .find(|e| e["type"] == kind && pred(e))
                .cloned()
        })
    }

    /// Every UPDATE for `task_id` seen so far.
    fn updates_of(&self, task_id: &str) -> Vec<Value> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| {
                e["type"] == "UPDATE" && e["update"]["status"]["task_id"]["value"] == task_id
            })
            .map(|e| e["update"]["status"].clone())
            .collect()
    }

    fn wait_update(&self, task_id: &str, state: &str) -> Value {
        let ev = self.wait_event("UPDATE", |e| {
            e["update"]["status"]["task_id"]["value"] == task_id
                && e["update"]["status"]["state"] == state
        });
        ev["update"]["status"].clone()
    }

    /// POSTs a call with this scheduler's framework id and stream id; the raw answer.
    fn call(&self, mut call: Value) -> HttpResponse {
        call["framework_id"] = json!({"value": self.framework_id});
        http(
            self.port,
            "POST",
            "/api/v1/scheduler",
            &[
                ("Content-Type", "application/json"),
                ("Mesos-Stream-Id", &self.stream_id),
            ],
            call.to_string().as_bytes(),
        )
        .expect("POST a scheduler call")
    }

    /// A call that must be answered exactly `202 Accepted` with `Content-Length: 0`.
    fn accepted(&self, call: Value) {
        let r = self.call(call);
        assert_eq!(r.status, 202, "answer: {}", r.text());
        assert_eq!(r.header("Content-Length"), Some("0"), "{:?}", r.headers);
        assert!(r.body.is_empty());
        assert_eq!(r.header("Transfer-Encoding"), None);
    }
}

fn standalone(h: &mut Harness) -> u16 {
    let port = free_port();
    let dir = h.path("standalone");
    h.start_standalone(port, &dir, &[]);
    port
}

fn cpu_task(id: &str, agent_id: &str, extra: Value) -> Value {
    let mut t = json!({
        "name": id,
        "task_id": {"value": id},
        "agent_id": {"value": agent_id},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}],
    });
    for (k, v) in extra.as_object().expect("an object") {
        t[k] = v.clone();
    }
    t
}

#[test]
fn unimplemented_task_features_get_task_error_and_calls_get_bare_202s() {
    let mut h = Harness::new("schedapi");
    let port = standalone(&mut h);
    let s = Scheduler::subscribe(port, json!({"user": "nobody", "name": "e2e"}));
    let offers = s.wait_event("OFFERS", |_| true);
    let offer = &offers["offers"]["offers"][0];
    let agent_id = offer["agent_id"]["value"].as_str().expect("agent_id");
    let tasks = vec![
        cpu_task(
            "fetch",
            agent_id,
            json!({"command": {"value": "true", "uris": [{"value": "http://example.invalid/x.tgz"}]}}),
        ),
        cpu_task(
            "image",
            agent_id,
            json!({"command": {"value": "true"}, "container": {"type": "MESOS", "mesos": {"image": {"type": "DOCKER", "docker": {"name": "alpine"}}}}}),
        ),
        cpu_task(
            "health",
            agent_id,
            json!({"command": {"value": "true"}, "health_check": {"type": "COMMAND", "command": {"value": "true"}}}),
        ),
        cpu_task(
            "as-root",
            agent_id,
            json!({"command": {"value": "true", "user": "root"}}),
        ),
        cpu_task("", agent_id, json!({"command": {"value": "true"}})),
        cpu_task("ok", agent_id, json!({"command": {"value": "true"}})),
        cpu_task("ok", agent_id, json!({"command": {"value": "true"}})),
    ];
    s.accepted(json!({
        "type": "ACCEPT",
        "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}],
            "filters": {"refuse_seconds": 0},
        }
    }));
    for (task, field) in [
        ("fetch", "command.uris"),
        ("image", "container.mesos.image"),
        ("health", "health_check"),
        ("as-root", "command.user"),
        ("", "task_id"),
    ] {
        let st = s.wait_update(task, "TASK_ERROR");
        assert_eq!(st["reason"], "REASON_TASK_INVALID", "{st}");
        assert_eq!(st["source"], "SOURCE_MASTER", "{st}");
        let msg = st["message"].as_str().unwrap_or_default();
        assert!(msg.contains(field), "{task}: {msg} should name {field}");
        assert!(st.get("uuid").is_none(), "{st}");
    }
    // The first "ok" runs; its duplicate is refused.
    let dup = s.wait_event("UPDATE", |e| {
        e["update"]["status"]["task_id"]["value"] == "ok"
            && e["update"]["status"]["state"] == "TASK_ERROR"
    });
    assert!(
        dup["update"]["status"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("duplicate")),
        "{dup}"
    );
    // Updates with a uuid come one at a time: each is acknowledged to get the next.
    let mut acked: Vec<Value> = Vec::new();
    let deadline = Instant::now() + WAIT;
    while !acked.iter().any(|st| st["state"] == "TASK_FINISHED") {
        assert!(Instant::now() < deadline, "no TASK_FINISHED: {acked:?}");
        for st in s.updates_of("ok") {
            if st.get("uuid").is_some() && !acked.iter().any(|a| a["uuid"] == st["uuid"]) {
                s.accepted(json!({
                    "type": "ACKNOWLEDGE",
                    "acknowledge": {"agent_id": {"value": agent_id}, "task_id": {"value": "ok"}, "uuid": st["uuid"]}
                }));
                acked.push(st);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Explicit reconciliation: an unknown task on the registered agent is LOST for a framework
    // that is not partition-aware, and so is one with no agent.
    s.accepted(json!({
        "type": "RECONCILE",
        "reconcile": {"tasks": [
            {"task_id": {"value": "never-1"}, "agent_id": {"value": agent_id}},
            {"task_id": {"value": "never-2"}},
        ]}
    }));
    for t in ["never-1", "never-2"] {
        let st = s.wait_update(t, "TASK_LOST");
        assert_eq!(st["reason"], "REASON_RECONCILIATION", "{st}");
        assert!(st.get("uuid").is_none(), "{st}");
    }
    // The other calls that need no stream are also bare 202s.
    s.accepted(json!({"type": "SUPPRESS", "suppress": {"roles": ["*"]}}));
    s.accepted(json!({"type": "REVIVE", "revive": {"roles": ["not-mine"]}}));
    s.accepted(json!({"type": "REVIVE"}));
    s.accepted(json!({"type": "REQUEST", "request": {"requests": []}}));
    s.accepted(json!({
        "type": "MESSAGE",
        "message": {"agent_id": {"value": agent_id}, "executor_id": {"value": "nobody-home"}, "data": "aGk="}
    }));
    assert!(s.updates_of("never-3").is_empty());
    let v = operator(port, "GET_HEALTH");
    assert_eq!(v["get_health"]["healthy"], true, "{v}");
}

#[test]
fn reconciliation_for_partition_aware_frameworks_says_gone_and_unknown() {
    let mut h = Harness::new("schedrecon");
    let port = standalone(&mut h);
    let s = Scheduler::subscribe(
        port,
        json!({"user": "nobody", "name": "e2e", "capabilities": [{"type": "PARTITION_AWARE"}]}),
    );
    let offers = s.wait_event("OFFERS", |_| true);
    let agent_id = offers["offers"]["offers"][0]["agent_id"]["value"]
        .as_str()
        .expect("agent_id")
        .to_string();
    s.accepted(json!({
        "type": "RECONCILE",
        "reconcile": {"tasks": [
            {"task_id": {"value": "a"}, "agent_id": {"value": agent_id}},
            {"task_id": {"value": "b"}, "agent_id": {"value": "no-such-agent"}},
        ]}
    }));
    assert_eq!(
        s.wait_update("a", "TASK_GONE")["reason"],
        "REASON_RECONCILIATION"
    );
    assert_eq!(
        s.wait_update("b", "TASK_UNKNOWN")["reason"],
        "REASON_RECONCILIATION"
    );
}

#[test]
fn shutdown_stops_a_custom_executor_and_its_task_ends_killed() {
    let mut h = Harness::new("schedshutdown");
    let port = standalone(&mut h);
    let s = Scheduler::subscribe(port, json!({"user": "nobody", "name": "e2e"}));
    let offers = s.wait_event("OFFERS", |_| true);
    let offer = &offers["offers"]["offers"][0];
    let agent_id = offer["agent_id"]["value"].as_str().expect("agent_id");
    // A custom executor that never subscribes: SHUTDOWN must still stop it.
    let task = cpu_task(
        "custom",
        agent_id,
        json!({"executor": {
            "executor_id": {"value": "sleeper"},
            "command": {"value": "exec sleep 1000"},
            "resources": [{"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}],
        }}),
    );
    s.accepted(json!({
        "type": "ACCEPT",
        "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
        }
    }));
    let started = Instant::now();
    wait_for("the custom executor process", WAIT, || {
        processes_under(&h.path("standalone"))
            .into_iter()
            .find(|p| p.cmdline.join(" ").contains("sleep 1000"))
    });
    s.accepted(json!({
        "type": "SHUTDOWN",
        "shutdown": {"executor_id": {"value": "sleeper"}, "agent_id": {"value": agent_id}}
    }));
    let st = s.wait_update("custom", "TASK_KILLED");
    assert_eq!(st["source"], "SOURCE_AGENT", "{st}");
    let failure = s.wait_event("FAILURE", |_| true);
    assert_eq!(
        failure["failure"]["executor_id"]["value"], "sleeper",
        "{failure}"
    );
    assert_eq!(
        failure["failure"]["agent_id"]["value"], agent_id,
        "{failure}"
    );
    assert!(started.elapsed() < WAIT);
    wait_for("the executor process to be gone", WAIT, || {
        processes_under(&h.path("standalone"))
            .into_iter()
            .all(|p| !p.cmdline.join(" ").contains("sleep 1000"))
            .then_some(())
    });
}

#[test]
fn request_bodies_over_four_mebibytes_are_refused() {
    let mut h = Harness::new("schedbody");
    let port = standalone(&mut h);
    let big = vec![b' '; 4 * 1024 * 1024 + 1];
    let r = http(
        port,
        "POST",
        "/api/v1/scheduler",
        &[("Content-Type", "application/json")],
        &big,
    )
    .expect("POST");
    assert_eq!(r.status, 413, "{}", r.text());
    // Just under the limit is read (and then refused as JSON without a call type).
    let mut fits = vec![b' '; 4 * 1024 * 1024 - 2];
    fits.extend_from_slice(b"{}");
    let r = http(
        port,
        "POST",
        "/api/v1/scheduler",
        &[("Content-Type", "application/json")],
        &fits,
    )
    .expect("POST");
    assert_eq!(r.status, 400, "{}", r.text());
}
