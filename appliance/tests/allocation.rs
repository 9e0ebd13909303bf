//! Allocation behaviour seen by real frameworks on a real master and agent: a quota role keeps
//! the headroom its guarantee needs against a greedy framework of another role, and role weights
//! 3:1 split the cpus two busy roles get 3:1 (counted, not timed).

mod common;

use common::scheduler::Scheduler;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn cpus_of(offer: &Value) -> f64 {
    offer["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter(|r| r["name"] == "cpus")
                .map(|r| r["scalar"]["value"].as_f64().unwrap_or(0.0))
                .sum()
        })
        .unwrap_or(0.0)
}

/// A framework that takes `chunk` cpus (plus 16 MB) from every offer for a long-running task
/// while it may, and declines the rest without a filter.
struct Taker {
    s: Scheduler,
    role: String,
    chunk: f64,
    seen: BTreeSet<String>,
    launched: usize,
    max_tasks: usize,
}

impl Taker {
    fn new(port: u16, role: &str, chunk: f64, max_tasks: usize) -> Taker {
        let s = Scheduler::subscribe(
            port,
            json!({"user": "nobody", "name": format!("taker-{role}"), "role": role}),
        )
        .acknowledging();
        Taker {
            s,
            role: role.to_string(),
            chunk,
            seen: BTreeSet::new(),
            launched: 0,
            max_tasks,
        }
    }

    /// Answers every offer not answered yet; returns how many cpus the offers held.
    fn step(&mut self) -> f64 {
        self.s.acknowledge_all();
        let mut offered = 0.0;
        for e in self.s.events() {
            if e["type"] != "OFFERS" {
                continue;
            }
            for o in e["offers"]["offers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                let id = o["id"]["value"].as_str().unwrap_or("").to_string();
                if !self.seen.insert(id) {
                    continue;
                }
                offered += cpus_of(&o);
                let take = self.launched < self.max_tasks && cpus_of(&o) >= self.chunk;
                let operations = if take {
                    self.launched += 1;
                    let task = format!("{}-{}", self.role, self.launched);
                    let role = json!({"role": self.role});
                    json!([{"type": "LAUNCH", "launch": {"task_infos": [{
                        "name": task, "task_id": {"value": task}, "agent_id": o["agent_id"],
                        "resources": [
                            {"name": "cpus", "type": "SCALAR", "scalar": {"value": self.chunk},
                             "allocation_info": role},
                            {"name": "mem", "type": "SCALAR", "scalar": {"value": 16},
                             "allocation_info": role}],
                        "command": {"value": "exec sleep 600"},
                    }]}}])
                } else {
                    json!([])
                };
                self.s.accepted(json!({"type": "ACCEPT", "accept": {
                    "offer_ids": [o["id"]], "operations": operations,
                    "filters": {"refuse_seconds": 0.0},
                }}));
            }
        }
        offered
    }
}

/// The cpus allocated to `role` as GET_ROLES reports them.
fn role_cpus(port: u16, role: &str) -> f64 {
    let roles = operator(port, "GET_ROLES");
    roles["get_roles"]["roles"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == role))
        .and_then(|r| r["resources"].as_array())
        .map(|rs| {
            rs.iter()
                .filter(|r| r["name"] == "cpus")
                .map(|r| r["scalar"]["value"].as_f64().unwrap_or(0.0))
                .sum()
        })
        .unwrap_or(0.0)
}

#[test]
fn a_quota_role_gets_its_guarantee_against_a_greedy_role() {
    let mut h = Harness::new("alloc-quota");
    let port = free_port();
    h.start_master(port, &h.path("master"));
    h.start_agent(port, free_port(), &h.path("agent"), "cpus:4;mem:2048");
    wait_agents(port, 1);
    let r = operator_call(
        port,
        json!({"type": "SET_QUOTA", "set_quota": {"quota_request": {"role": "web",
            "guarantee": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 2}}]}}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // A greedy framework in another role takes everything it is offered, for a while.
    let mut greedy = Taker::new(port, "batch", 0.5, 100);
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        greedy.step();
        std::thread::sleep(Duration::from_millis(50));
    }
    let batch = role_cpus(port, "batch");
    assert!(
        batch <= 2.0 + 1e-9,
        "the greedy role took the quota's headroom: {batch} cpus"
    );
    assert!(
        batch >= 1.5,
        "the greedy role got what is not guaranteed: {batch} cpus"
    );

    // The quota role's framework arrives and gets its 2 cpus.
    let mut web = Taker::new(port, "web", 0.5, 4);
    let until = Instant::now() + Duration::from_secs(20);
    while role_cpus(port, "web") < 2.0 - 1e-9 {
        assert!(
            Instant::now() < until,
            "web got {} cpus",
            role_cpus(port, "web")
        );
        web.step();
        greedy.step();
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(role_cpus(port, "batch") <= 2.0 + 1e-9);
}

#[test]
fn weights_three_to_one_split_the_cpus_of_two_busy_roles_three_to_one() {
    let mut h = Harness::new("alloc-weights");
    let port = free_port();
    h.start_master(port, &h.path("master"));
    h.start_agent(port, free_port(), &h.path("agent"), "cpus:8;mem:4096");
    wait_agents(port, 1);
    let r = operator_call(
        port,
        json!({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [
            {"role": "a", "weight": 3.0}, {"role": "b", "weight": 1.0}]}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Each framework takes half a cpu per offer until the agent is full (16 tasks).
    let mut a = Taker::new(port, "a", 0.5, 100);
    let mut b = Taker::new(port, "b", 0.5, 100);
    let until = Instant::now() + Duration::from_secs(30);
    while a.launched + b.launched < 16 {
        assert!(
            Instant::now() < until,
            "only {} + {} tasks launched",
            a.launched,
            b.launched
        );
        a.step();
        b.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    let (ca, cb) = (role_cpus(port, "a"), role_cpus(port, "b"));
    assert_eq!((a.launched, b.launched), (12, 4), "cpus a {ca} b {cb}");
}
