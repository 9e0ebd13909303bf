//! End-to-end tests of roles on real processes: a MULTI_ROLE scheduler gets offers in each of
//! its roles, UPDATE_WEIGHTS is durable across a master restart, and MARK_AGENT_GONE removes an
//! agent for good.

mod common;

use common::scheduler::records;
use common::*;
use serde_json::{json, Value};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const JSON: (&str, &str) = ("Content-Type", "application/json");

/// Subscribes a scheduler; returns the status line and headers, and the events seen so far
/// (collected by a background thread for the life of the test).
fn subscribe(port: u16, framework_info: Value) -> (String, Arc<Mutex<Vec<Value>>>) {
    let body = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": framework_info}});
    let mut s = TcpStream::connect(loopback(port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("set_read_timeout");
    let req = request_bytes(
        port,
        "POST",
        "/api/v1/scheduler",
        &[JSON],
        body.to_string().as_bytes(),
    );
    s.write_all(&req).expect("send SUBSCRIBE");
    let events = Arc::new(Mutex::new(Vec::new()));
    let head: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    {
        let (events, head) = (events.clone(), head.clone());
        std::thread::spawn(move || {
            let mut raw = Vec::new();
            let mut chunk = [0u8; 65536];
            loop {
                match s.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(n) => raw.extend_from_slice(&chunk[..n]),
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
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
    (head, events)
}

fn weights(port: u16) -> Vec<(String, f64)> {
    let v = operator(port, "GET_WEIGHTS");
    v["get_weights"]["weight_infos"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|w| {
            (
                w["role"].as_str().unwrap_or_default().to_string(),
                w["weight"].as_f64().unwrap_or_default(),
            )
        })
        .collect()
}

fn role<'a>(roles: &'a Value, name: &str) -> Option<&'a Value> {
    roles["get_roles"]["roles"]
        .as_array()?
        .iter()
        .find(|r| r["name"] == name)
}

#[test]
fn a_multi_role_scheduler_gets_offers_in_each_role() {
    let mut h = Harness::new("roles-multi");
    let mport = free_port();
    let mdir = h.path("master");
    h.start_master(mport, &mdir);
    for n in 0..2 {
        let (aport, adir) = (free_port(), h.path(&format!("agent{n}")));
        h.start_agent(mport, aport, &adir, AGENT_RESOURCES);
    }
    wait_agents(mport, 2);

    // Without MULTI_ROLE, several roles are refused.
    let (head, _) = subscribe(
        mport,
        json!({"user": "u", "name": "plain", "roles": ["a", "b"]}),
    );
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");

    let info = json!({"user": "u", "name": "multi", "roles": ["a", "b"],
                      "capabilities": [{"type": "MULTI_ROLE"}]});
    let (head, events) = subscribe(mport, info);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // Two agents, two roles with equal shares: one agent's offer in each role.
    let offer_roles = wait_for("offers in roles a and b", WAIT, || {
        let mut roles: Vec<String> = events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "OFFERS")
            .flat_map(|e| {
                e["offers"]["offers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|o| {
                let r = o["allocation_info"]["role"].as_str().unwrap_or("?");
                for res in o["resources"].as_array().unwrap() {
                    assert_eq!(res["allocation_info"]["role"], r, "{o}");
                }
                r.to_string()
            })
            .collect();
        roles.sort();
        roles.dedup();
        (roles.len() == 2).then_some(roles)
    });
    assert_eq!(offer_roles, ["a", "b"]);

    let fws = operator(mport, "GET_FRAMEWORKS");
    let info = &fws["get_frameworks"]["frameworks"][0]["framework_info"];
    assert_eq!(info["roles"], json!(["a", "b"]), "{info}");
    assert!(info.get("role").is_none(), "{info}");
    assert_eq!(info["capabilities"], json!([{"type": "MULTI_ROLE"}]));
    let roles = operator(mport, "GET_ROLES");
    for name in ["a", "b"] {
        let r = role(&roles, name).unwrap_or_else(|| panic!("role {name} in {roles}"));
        assert_eq!(r["frameworks"].as_array().map(|f| f.len()), Some(1), "{r}");
    }
}

#[test]
fn weights_are_durable_and_a_gone_agent_is_removed_for_good() {
    let mut h = Harness::new("roles-weights");
    let (mport, aport) = (free_port(), free_port());
    let (mdir, adir) = (h.path("master"), h.path("agent"));
    let master = h.start_master(mport, &mdir);
    h.start_agent(mport, aport, &adir, AGENT_RESOURCES);
    let agent_id = wait_agents(mport, 1)[0].id.clone();

    // Bad weights are refused with 400 and store nothing.
    for bad in [
        json!([{"role": "prod", "weight": 0}]),
        json!([{"role": "prod", "weight": -1.5}]),
        json!([{"weight": 2.0}]),
        json!([{"role": "/bad", "weight": 2.0}]),
    ] {
        let r = operator_call(
            mport,
            json!({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": bad}}),
        );
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }
    assert!(weights(mport).is_empty());

    let r = operator_call(
        mport,
        json!({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [
            {"role": "prod", "weight": 2.5}, {"role": "dev", "weight": 1}]}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        weights(mport),
        [("prod".to_string(), 2.5), ("dev".to_string(), 1.0)]
    );
    let roles = operator(mport, "GET_ROLES");
    assert_eq!(role(&roles, "prod").unwrap()["weight"], 2.5, "{roles}");

    // MARK_AGENT_GONE: an unknown agent is 400, a known one 200 and gone from the views.
    let r = operator_call(
        mport,
        json!({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": "nope"}}}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = operator_call(
        mport,
        json!({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": agent_id}}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let listed = |port| {
        agents(port)
            .unwrap_or_default()
            .iter()
            .any(|a| a.id == agent_id)
    };
    assert!(!listed(mport));

    // After a restart the weights are still there and in force; the gone agent stays away.
    h.signal(master, "TERM");
    h.wait_exit(master, WAIT);
    h.start_master(mport, &mdir);
    assert_eq!(
        weights(mport),
        [("prod".to_string(), 2.5), ("dev".to_string(), 1.0)]
    );
    let roles = operator(mport, "GET_ROLES");
    assert_eq!(role(&roles, "prod").unwrap()["weight"], 2.5, "{roles}");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !listed(mport),
        "a gone agent must not come back under its id"
    );
    let recovered = operator(mport, "GET_AGENTS");
    assert!(
        !recovered.to_string().contains(&agent_id),
        "gone agent listed: {recovered}"
    );
}
