//! End-to-end test of maintenance against a real master and agent with a scheduler over HTTP:
//! a scheduled machine's framework gets an inverse offer and declines it, START_MAINTENANCE
//! removes the agent (its task lost) and keeps its offers away, STOP_MAINTENANCE brings it back.

mod common;

use common::scheduler::Scheduler;
use common::*;
use serde_json::json;
use std::thread::sleep;
use std::time::Duration;

fn offers_from(s: &Scheduler, agent_id: &str) -> usize {
    s.events()
        .iter()
        .filter(|e| e["type"] == "OFFERS")
        .flat_map(|e| {
            e["offers"]["offers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|o| o["agent_id"]["value"] == agent_id)
        .count()
}

#[test]
fn inverse_offers_then_machine_down_then_machine_up() {
    let mut h = Harness::new("maintenance");
    let port = free_port();
    h.start_master(port, &h.path("master"));
    let agent_port = free_port();
    h.start_agent(port, agent_port, &h.path("agent"), "cpus:2;mem:512");
    let s = Scheduler::subscribe(port, json!({"user": "nobody", "name": "maint"}));
    let offers = s.wait_event("OFFERS", |_| true);
    let offer = offers["offers"]["offers"][0].clone();
    let agent_id = offer["agent_id"]["value"]
        .as_str()
        .expect("agent_id")
        .to_string();
    let address = &offer["url"]["address"];
    let machine = json!({"hostname": address["hostname"], "ip": address["ip"]});
    s.accepted(json!({
        "type": "ACCEPT",
        "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": [{
                "name": "sleeper",
                "task_id": {"value": "sleeper"},
                "agent_id": {"value": agent_id},
                "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}],
                "command": {"value": "exec sleep 1000"},
            }]}}],
        }
    }));
    let s = s.acknowledging();
    s.wait_update("sleeper", "TASK_RUNNING");

    // A window on the agent's machine: the framework is asked to give the agent back.
    let schedule = json!({"windows": [{
        "machine_ids": [machine],
        "unavailability": {"start": {"nanoseconds": 1_000_000_000_000_000_000i64}},
    }]});
    let r = operator_call(
        port,
        json!({"type": "UPDATE_MAINTENANCE_SCHEDULE",
               "update_maintenance_schedule": {"schedule": schedule}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = operator(port, "GET_MAINTENANCE_SCHEDULE");
    assert_eq!(
        got["get_maintenance_schedule"]["schedule"], schedule,
        "{got}"
    );
    let inverse = s.wait_event("INVERSE_OFFERS", |_| true);
    let io = &inverse["inverse_offers"]["inverse_offers"][0];
    assert_eq!(io["agent_id"]["value"], agent_id.as_str(), "{inverse}");
    assert_eq!(
        io["unavailability"]["start"]["nanoseconds"], 1_000_000_000_000_000_000i64,
        "{inverse}"
    );
    s.accepted(json!({
        "type": "DECLINE_INVERSE_OFFERS",
        "decline_inverse_offers": {"inverse_offer_ids": [io["id"]]}
    }));
    let status = operator(port, "GET_MAINTENANCE_STATUS");
    let draining = &status["get_maintenance_status"]["status"]["draining_machines"][0];
    assert_eq!(draining["id"], machine, "{status}");
    assert_eq!(draining["statuses"][0]["status"], "DECLINE", "{status}");
    assert_eq!(
        draining["statuses"][0]["framework_id"]["value"],
        s.framework_id.as_str(),
        "{status}"
    );
    // The legacy endpoint shows the same.
    let legacy = http(port, "GET", "/master/maintenance/status", &[], b"").unwrap();
    assert_eq!(legacy.json(), status["get_maintenance_status"]["status"]);

    // Maintenance starts: the agent is removed, its task lost, and no offer comes from it.
    let r = http(
        port,
        "POST",
        "/master/machine/down",
        &[("Content-Type", "application/json")],
        json!([machine]).to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let lost = s.wait_update("sleeper", "TASK_LOST");
    assert_eq!(lost["reason"], "REASON_AGENT_REMOVED", "{lost}");
    assert_eq!(
        lost["message"], "Operator initiated 'Machine DOWN'",
        "{lost}"
    );
    let status = operator(port, "GET_MAINTENANCE_STATUS");
    assert_eq!(
        status["get_maintenance_status"]["status"]["down_machines"],
        json!([machine]),
        "{status}"
    );
    wait_for("the sleeper process to end", WAIT, || {
        processes_under(&h.path("agent"))
            .into_iter()
            .all(|p| !p.cmdline.join(" ").contains("sleep 1000"))
            .then_some(())
    });
    let before = offers_from(&s, &agent_id);
    let offers_seen = s.events().iter().filter(|e| e["type"] == "OFFERS").count();
    sleep(Duration::from_secs(4));
    assert_eq!(
        offers_from(&s, &agent_id),
        before,
        "no offers from a DOWN machine"
    );
    let now_seen = s.events().iter().filter(|e| e["type"] == "OFFERS").count();
    assert_eq!(
        now_seen, offers_seen,
        "the agent is refused: nothing is offered"
    );
    let agents = operator(port, "GET_AGENTS");
    assert!(
        agents["get_agents"]["agents"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "{agents}"
    );

    // Maintenance stops: the agent registers again (as a new agent) and is offered.
    let r = operator_call(
        port,
        json!({"type": "STOP_MAINTENANCE", "stop_maintenance": {"machines": [machine]}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let back = s.wait_event("OFFERS", |e| {
        e["offers"]["offers"][0]["url"]["address"]["ip"] == machine["ip"]
            && e["offers"]["offers"][0]["agent_id"]["value"] != agent_id.as_str()
    });
    assert!(
        back["offers"]["offers"][0].get("unavailability").is_none(),
        "{back}"
    );
    let status = operator(port, "GET_MAINTENANCE_STATUS");
    assert_eq!(
        status["get_maintenance_status"]["status"],
        json!({}),
        "{status}"
    );
}
