//! End-to-end tests of LAUNCH_GROUP against a real `mesolite standalone`, driven by a raw-HTTP v1
//! scheduler: a task group runs under one default executor (`mesolite executor`), each task
//! reports its own states, killing one task kills the group, and an invalid task fails the group.

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
    /// Update uuids already acknowledged.
    acked: Mutex<Vec<Value>>,
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
    fn subscribe(port: u16) -> Scheduler {
        let info = json!({"user": "nobody", "name": "groups"});
        let body = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": info}});
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
        };
        let subscribed = sched.wait_event("SUBSCRIBED", |_| true);
        sched.framework_id = subscribed["subscribed"]["framework_id"]["value"]
            .as_str()
            .expect("framework_id")
            .to_string();
        sched
    }

    /// The first event of `kind` matching `pred`, acknowledging updates while waiting.
    fn wait_event(&self, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
        wait_for(&format!("a {kind} event"), WAIT, || {
            self.acknowledge_all();
            self.events
                .lock()
                .unwrap()
                .iter()
                .find(|e| e["type"] == kind && pred(e))
                .cloned()
        })
    }

    fn wait_update(&self, task_id: &str, state: &str) -> Value {
        let ev = self.wait_event("UPDATE", |e| {
            e["update"]["status"]["task_id"]["value"] == task_id
                && e["update"]["status"]["state"] == state
        });
        ev["update"]["status"].clone()
    }

    /// The states reported for `task_id` so far, in order.
    fn states_of(&self, task_id: &str) -> Vec<String> {
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
    fn acknowledge_all(&self) {
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

    /// A call that must be answered `202 Accepted`.
    fn accepted(&self, mut call: Value) {
        call["framework_id"] = json!({"value": self.framework_id});
        let r = http(
            self.port,
            "POST",
            "/api/v1/scheduler",
            &[
                ("Content-Type", "application/json"),
                ("Mesos-Stream-Id", &self.stream_id),
            ],
            call.to_string().as_bytes(),
        )
        .expect("POST a scheduler call");
        assert_eq!(r.status, 202, "answer: {}", r.text());
    }

    /// ACCEPTs the first outstanding offer with one LAUNCH_GROUP; returns the agent id.
    fn launch_group(&self, executor_id: &str, tasks: impl Fn(&str) -> Vec<Value>) -> String {
        let offers = self.wait_event("OFFERS", |_| true);
        let offer = &offers["offers"]["offers"][0];
        let agent_id = offer["agent_id"]["value"]
            .as_str()
            .expect("agent_id")
            .to_string();
        self.accepted(json!({
            "type": "ACCEPT",
            "accept": {
                "offer_ids": [offer["id"]],
                "operations": [{"type": "LAUNCH_GROUP", "launch_group": {
                    "executor": {
                        "type": "DEFAULT",
                        "executor_id": {"value": executor_id},
                        "resources": [
                            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                            {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}
                        ]
                    },
                    "task_group": {"tasks": tasks(&agent_id)}
                }}],
                "filters": {"refuse_seconds": 0},
            }
        }));
        agent_id
    }
}

fn task(id: &str, agent_id: &str, command: Value) -> Value {
    json!({
        "name": id,
        "task_id": {"value": id},
        "agent_id": {"value": agent_id},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}],
        "command": command,
    })
}

fn standalone(h: &mut Harness) -> u16 {
    let port = free_port();
    let dir = h.path("standalone");
    h.start_standalone(port, &dir, &[]);
    port
}

#[test]
fn a_task_group_runs_under_one_default_executor_and_each_task_finishes() {
    let mut h = Harness::new("taskgroup");
    let port = standalone(&mut h);
    let s = Scheduler::subscribe(port);
    s.launch_group("pod-1", |agent| {
        vec![
            // The shell form and the argv form of the same `sh -c 'sleep 0.2'`.
            task("g1", agent, json!({"value": "sleep 0.2"})),
            task(
                "g2",
                agent,
                json!({"shell": false, "value": "/bin/sh", "arguments": ["sh", "-c", "sleep 0.2"]}),
            ),
        ]
    });
    for t in ["g1", "g2"] {
        let st = s.wait_update(t, "TASK_FINISHED");
        assert_eq!(st["executor_id"]["value"], "pod-1", "{st}");
        assert_eq!(st["source"], "SOURCE_EXECUTOR", "{st}");
        assert_eq!(
            s.states_of(t),
            ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"],
            "{t}"
        );
    }
    // Both tasks ran in the one executor's sandbox: there is one executor directory.
    let executors = h.path("standalone").join("agent").join("slaves");
    let dirs = wait_for("the executor directory", WAIT, || {
        let agent = std::fs::read_dir(&executors).ok()?.next()?.ok()?.path();
        let fw = std::fs::read_dir(agent.join("frameworks"))
            .ok()?
            .next()?
            .ok()?
            .path();
        let names: Vec<String> = std::fs::read_dir(fw.join("executors"))
            .ok()?
            .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
            .collect();
        Some(names)
    });
    assert_eq!(dirs, ["pod-1"]);
}

#[test]
fn killing_one_task_of_a_group_kills_both() {
    let mut h = Harness::new("taskgroupkill");
    let port = standalone(&mut h);
    let s = Scheduler::subscribe(port);
    let agent_id = s.launch_group("pod-2", |agent| {
        vec![
            task("k1", agent, json!({"value": "sleep 30"})),
            task("k2", agent, json!({"value": "sleep 30"})),
        ]
    });
    s.wait_update("k1", "TASK_RUNNING");
    s.wait_update("k2", "TASK_RUNNING");
    let started = Instant::now();
    s.accepted(json!({
        "type": "KILL",
        "kill": {"task_id": {"value": "k1"}, "agent_id": {"value": agent_id}}
    }));
    for t in ["k1", "k2"] {
        s.wait_update(t, "TASK_KILLED");
    }
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn an_invalid_task_fails_the_whole_group() {
    let mut h = Harness::new("taskgroupbad");
    let port = standalone(&mut h);
    let s = Scheduler::subscribe(port);
    s.launch_group("pod-3", |agent| {
        let mut bad = task("b2", agent, json!({"value": "true"}));
        bad["health_check"] = json!({"type": "COMMAND", "command": {"value": "true"}});
        vec![task("b1", agent, json!({"value": "true"})), bad]
    });
    for t in ["b1", "b2"] {
        let st = s.wait_update(t, "TASK_ERROR");
        assert_eq!(st["reason"], "REASON_TASK_GROUP_INVALID", "{st}");
        assert!(
            st["message"]
                .as_str()
                .is_some_and(|m| m.contains("health_check")),
            "{st}"
        );
    }
    // Nothing ran: the resources come back in a new offer with everything.
    std::thread::sleep(Duration::from_millis(300));
    assert!(s.states_of("b1").iter().all(|st| st == "TASK_ERROR"));
}
