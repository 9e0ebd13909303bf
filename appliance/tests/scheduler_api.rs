//! End-to-end tests of the v1 scheduler API over raw HTTP against `mesolite standalone`: exact
//! `202 Accepted` answers, TASK_ERROR for task features mesolite does not implement, Mesos'
//! reconciliation answers, SHUTDOWN of a custom executor, and the request body limit.

mod common;

use common::scheduler::Scheduler;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

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
