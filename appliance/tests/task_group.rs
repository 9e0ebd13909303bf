//! End-to-end tests of LAUNCH_GROUP against a real `mesolite standalone`, driven by a raw-HTTP v1
//! scheduler: a task group runs under one default executor (`mesolite executor`), each task
//! reports its own states, killing one task kills the group, and an invalid task fails the group.

mod common;

use common::scheduler::Scheduler;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// ACCEPTs the first outstanding offer with one LAUNCH_GROUP; returns the agent id.
fn launch_group(
    sched: &Scheduler,
    executor_id: &str,
    tasks: impl Fn(&str) -> Vec<Value>,
) -> String {
    let offers = sched.wait_event("OFFERS", |_| true);
    let offer = &offers["offers"]["offers"][0];
    let agent_id = offer["agent_id"]["value"]
        .as_str()
        .expect("agent_id")
        .to_string();
    sched.accepted(json!({
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
    let s = Scheduler::subscribe(port, json!({"user": "nobody", "name": "groups"})).acknowledging();
    launch_group(&s, "pod-1", |agent| {
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
    let s = Scheduler::subscribe(port, json!({"user": "nobody", "name": "groups"})).acknowledging();
    let agent_id = launch_group(&s, "pod-2", |agent| {
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
    let s = Scheduler::subscribe(port, json!({"user": "nobody", "name": "groups"})).acknowledging();
    launch_group(&s, "pod-3", |agent| {
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
