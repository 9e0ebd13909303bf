//! A raw-HTTP v1 scheduler for the end-to-end tests: SUBSCRIBE on its own connection, a
//! background thread collecting the RecordIO events, and calls with the stream id.

use super::*;
use serde_json::{json, Value};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A subscribed scheduler whose events a background thread collects.
pub struct Scheduler {
    pub port: u16,
    pub framework_id: String,
    pub stream_id: String,
    events: Arc<Mutex<Vec<Value>>>,
    /// Update uuids already acknowledged.
    acked: Mutex<Vec<Value>>,
    /// Acknowledge every update while waiting for events (see [`Scheduler::acknowledging`]).
    auto_ack: bool,
}

/// The RecordIO records of a (de-chunked) stream body, as JSON.
pub fn records(mut body: &[u8]) -> Vec<Value> {
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
    /// SUBSCRIBEs on a raw connection and waits for SUBSCRIBED.
    pub fn subscribe(port: u16, framework_info: Value) -> Scheduler {
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
            acked: Mutex::new(Vec::new()),
            auto_ack: false,
        };
        let subscribed = sched.wait_event("SUBSCRIBED", |_| true);
        sched.framework_id = subscribed["subscribed"]["framework_id"]["value"]
            .as_str()
            .expect("framework_id")
            .to_string();
        sched
    }

    /// Every event received so far, in order.
    pub fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// From now on, acknowledge every update while waiting for events (the next update of a
    /// task comes only after the previous one is acknowledged).
    pub fn acknowledging(mut self) -> Scheduler {
        self.auto_ack = true;
        self
    }

    /// The first event of `kind` matching `pred`.
    pub fn wait_event(&self, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
        wait_for(&format!("a {kind} event"), WAIT, || {
            if self.auto_ack {
                self.acknowledge_all();
            }
            self.events
                .lock()
                .unwrap()
                .iter()
                .find(|e| e["type"] == kind && pred(e))
                .cloned()
        })
    }

    /// Every UPDATE for `task_id` seen so far.
    pub fn updates_of(&self, task_id: &str) -> Vec<Value> {
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

    pub fn wait_update(&self, task_id: &str, state: &str) -> Value {
        let ev = self.wait_event("UPDATE", |e| {
            e["update"]["status"]["task_id"]["value"] == task_id
                && e["update"]["status"]["state"] == state
        });
        ev["update"]["status"].clone()
    }

    /// POSTs a call with this scheduler's framework id and stream id; the raw answer.
    pub fn call(&self, mut call: Value) -> HttpResponse {
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
    pub fn accepted(&self, call: Value) {
        let r = self.call(call);
        assert_eq!(r.status, 202, "answer: {}", r.text());
        assert_eq!(r.header("Content-Length"), Some("0"), "{:?}", r.headers);
        assert!(r.body.is_empty());
        assert_eq!(r.header("Transfer-Encoding"), None);
    }
    /// The states reported for `task_id` so far, in order.
    pub fn states_of(&self, task_id: &str) -> Vec<String> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| {
                e["type"] == "UPDATE" && e["update"]["status"]["task_id"]["value"] == task_id
            })
            .filter_map(|e| e["update"]["status"]["state"].as_str().map(str::to_owned))
            .collect()
    }

    /// Acknowledges every update with a uuid not acknowledged yet (the next one of a task comes
    /// only after the previous one is acknowledged).
    pub fn acknowledge_all(&self) {
        let pending: Vec<Value> = self
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "UPDATE" && e["update"]["status"].get("uuid").is_some())
            .map(|e| e["update"]["status"].clone())
            .collect();
        for st in pending {
            if self.acked.lock().unwrap().contains(&st["uuid"]) {
                continue;
            }
            self.accepted(json!({
                "type": "ACKNOWLEDGE",
                "acknowledge": {"agent_id": st["agent_id"], "task_id": st["task_id"], "uuid": st["uuid"]}
            }));
            self.acked.lock().unwrap().push(st["uuid"].clone());
        }
    }
}
