//! Dynamic reservations and persistent volumes against a real master and agent: a framework
//! reserves, creates a volume, runs a task that writes into it and a second that reads it, then
//! destroys and unreserves; an operator does the same through the operator API, and the
//! reservations and the volume's data survive a SIGKILL of the agent.

mod common;

use common::scheduler::Scheduler;
use common::*;
use serde_json::{json, Value};
use std::path::Path;

/// A resource of role `web` reserved by principal `ops`, in the pre-refinement format frameworks
/// of Mesos 1.x send, with the offer's allocation role.
fn reserved(name: &str, value: f64) -> Value {
    json!({"name": name, "type": "SCALAR", "scalar": {"value": value}, "role": "web",
           "reservation": {"principal": "ops"}, "allocation_info": {"role": "web"}})
}

/// Persistent volume `id` of `size` MB on disk reserved to `web`, at `data` in the sandbox.
fn volume(id: &str, size: f64) -> Value {
    let mut v = reserved("disk", size);
    v["disk"] = json!({"persistence": {"id": id, "principal": "ops"},
                       "volume": {"container_path": "data", "mode": "RW"}});
    v
}

fn without_allocation(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("allocation_info");
    v
}

/// The first offer satisfying `pred` among events from index `*seen` on; `*seen` moves past
/// its event, so an offer is never used twice.
fn wait_offer(s: &Scheduler, seen: &mut usize, pred: impl Fn(&Value) -> bool) -> Value {
    let (index, offer) = wait_for("a matching offer", WAIT, || {
        let events = s.events();
        events.iter().enumerate().skip(*seen).find_map(|(i, e)| {
            let offers = e["offers"]["offers"].as_array()?;
            (e["type"] == "OFFERS")
                .then(|| offers.iter().find(|o| pred(o)).cloned())
                .flatten()
                .map(|o| (i, o))
        })
    });
    *seen = index + 1;
    offer
}

fn has_volume(offer: &Value, id: &str) -> bool {
    offer["resources"]
        .as_array()
        .is_some_and(|rs| rs.iter().any(|r| r["disk"]["persistence"]["id"] == id))
}

fn reserved_cpus(offer: &Value) -> f64 {
    offer["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter(|r| r["name"] == "cpus" && r["role"] == "web")
                .map(|r| r["scalar"]["value"].as_f64().unwrap_or(0.0))
                .sum()
        })
        .unwrap_or(0.0)
}

fn launch(task: &str, agent_id: &str, command: &str, with_volume: bool) -> Value {
    let mut resources = vec![reserved("cpus", 0.5), reserved("mem", 64.0)];
    if with_volume {
        resources.push(volume("vol1", 512.0));
    }
    json!({"type": "LAUNCH", "launch": {"task_infos": [{
        "name": task, "task_id": {"value": task}, "agent_id": {"value": agent_id},
        "resources": resources, "command": {"value": command},
    }]}})
}

/// The agent's total resources as GET_AGENTS shows them.
fn agent_total(port: u16) -> Vec<Value> {
    let agents = operator(port, "GET_AGENTS");
    agents["get_agents"]["agents"][0]["total_resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn volume_dir(agent_dir: &Path, id: &str) -> std::path::PathBuf {
    agent_dir.join("volumes/roles/web").join(id)
}

#[test]
fn a_framework_reserves_creates_a_volume_that_outlives_its_task_then_destroys_and_unreserves() {
    let mut h = Harness::new("reserve-fw");
    let port = free_port();
    let master = h.start_master(port, &h.path("master"));
    let agent_dir = h.path("agent");
    h.start_agent(port, free_port(), &agent_dir, "cpus:2;mem:1024;disk:1024");
    let s = Scheduler::subscribe(
        port,
        json!({"user": "nobody", "name": "web", "role": "web", "principal": "ops"}),
    )
    .acknowledging();
    let mut seen = 0;
    let offer = wait_offer(&s, &mut seen, |_| true);
    let agent_id = offer["agent_id"]["value"].as_str().unwrap().to_string();

    // A reservation for another principal is dropped with Mesos' reason; the ACCEPT goes on.
    let mut wrong = reserved("cpus", 1.0);
    wrong["reservation"]["principal"] = json!("eve");
    s.accepted(json!({"type": "ACCEPT", "accept": {
        "offer_ids": [offer["id"]],
        "operations": [{"type": "RESERVE", "reserve": {"resources": [wrong]}}],
        "filters": {"refuse_seconds": 0.0},
    }}));
    let framework_id = s.framework_id.clone();
    wait_for("the dropped operation's reason", WAIT, || {
        h.log(master)
            .contains(&format!(
                "Dropping RESERVE offer operation from framework {framework_id}: A reserve \
                 operation was attempted by authenticated principal 'ops', which does not match \
                 a reserved resource in the request with principal 'eve'"
            ))
            .then_some(())
    });
    let offer = wait_offer(&s, &mut seen, |_| true);
    assert_eq!(reserved_cpus(&offer), 0.0, "nothing was reserved");

    // RESERVE, CREATE and a LAUNCH that writes into the volume, in one ACCEPT.
    s.accepted(json!({"type": "ACCEPT", "accept": {
        "offer_ids": [offer["id"]],
        "operations": [
            {"type": "RESERVE", "reserve": {"resources": [
                reserved("cpus", 1.0), reserved("mem", 256.0), reserved("disk", 512.0)]}},
            {"type": "CREATE", "create": {"volumes": [volume("vol1", 512.0)]}},
            launch("writer", &agent_id, "echo kept > data/file", true),
        ],
        "filters": {"refuse_seconds": 0.0},
    }}));
    s.wait_update("writer", "TASK_FINISHED");
    assert_eq!(
        std::fs::read_to_string(volume_dir(&agent_dir, "vol1").join("file")).unwrap(),
        "kept\n"
    );

    // The volume and the reservation come back in an offer; a second task reads the file.
    let offer = wait_offer(&s, &mut seen, |o| {
        has_volume(o, "vol1") && reserved_cpus(o) >= 1.0
    });
    s.accepted(json!({"type": "ACCEPT", "accept": {
        "offer_ids": [offer["id"]],
        "operations": [launch("reader", &agent_id, "test \"$(cat data/file)\" = kept", true)],
        "filters": {"refuse_seconds": 0.0},
    }}));
    s.wait_update("reader", "TASK_FINISHED");
    let total = agent_total(port);
    assert!(
        total
            .iter()
            .any(|r| r["disk"]["persistence"]["id"] == "vol1"),
        "GET_AGENTS shows the volume: {total:?}"
    );

    // DESTROY and UNRESERVE give everything back.
    let offer = wait_offer(&s, &mut seen, |o| has_volume(o, "vol1"));
    s.accepted(json!({"type": "ACCEPT", "accept": {
        "offer_ids": [offer["id"]],
        "operations": [
            {"type": "DESTROY", "destroy": {"volumes": [volume("vol1", 512.0)]}},
            {"type": "UNRESERVE", "unreserve": {"resources": [
                reserved("cpus", 1.0), reserved("mem", 256.0), reserved("disk", 512.0)]}},
        ],
        "filters": {"refuse_seconds": 0.0},
    }}));
    wait_for("the volume dir removed", WAIT, || {
        (!volume_dir(&agent_dir, "vol1").exists()).then_some(())
    });
    wait_for("an unreserved agent", WAIT, || {
        let total = agent_total(port);
        total
            .iter()
            .all(|r| r.get("role").is_none_or(|r| r == "*") && r.get("disk").is_none())
            .then_some(())
    });
}

#[test]
fn an_operator_reserves_and_creates_a_volume_that_survives_an_agent_sigkill() {
    let mut h = Harness::new("reserve-op");
    let port = free_port();
    h.start_master(port, &h.path("master"));
    let agent_dir = h.path("agent");
    let agent_port = free_port();
    let agent = h.start_agent(port, agent_port, &agent_dir, "cpus:2;mem:1024;disk:1024");
    let agents = wait_agents(port, 1);
    let agent_id = agents[0].id.clone();
    let call = |kind: &str, field: &str, key: &str, list: Vec<Value>| {
        let mut c = json!({"type": kind});
        c[field] = json!({"agent_id": {"value": agent_id}});
        c[field][key] = Value::Array(list);
        operator_call(port, c)
    };
    let op_reserved = |name: &str, v: f64| without_allocation(reserved(name, v));
    let op_volume = || without_allocation(volume("db", 100.0));

    let r = call(
        "RESERVE_RESOURCES",
        "reserve_resources",
        "resources",
        vec![op_reserved("cpus", 1.0), op_reserved("disk", 100.0)],
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let r = call(
        "CREATE_VOLUMES",
        "create_volumes",
        "volumes",
        vec![op_volume()],
    );
    assert_eq!(r.status, 202, "{}", r.text());
    wait_for("the volume dir", WAIT, || {
        volume_dir(&agent_dir, "db").is_dir().then_some(())
    });
    std::fs::write(volume_dir(&agent_dir, "db").join("table"), b"rows").unwrap();

    // Errors, each with a one-line reason.
    let r = call(
        "RESERVE_RESOURCES",
        "reserve_resources",
        "resources",
        vec![op_reserved("cpus", 5.0)],
    );
    assert_eq!(r.status, 409, "{}", r.text());
    let r = call(
        "DESTROY_VOLUMES",
        "destroy_volumes",
        "volumes",
        vec![without_allocation(volume("nope", 100.0))],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.text().trim(), "Persistent volumes not found");
    let r = call(
        "UNRESERVE_RESOURCES",
        "unreserve_resources",
        "resources",
        vec![without_allocation(
            json!({"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}}),
        )],
    );
    assert_eq!(r.status, 400, "{}", r.text());

    // SIGKILL and restart the agent: the reservation and the volume's data are intact.
    h.signal(agent, "KILL");
    h.wait_exit(agent, WAIT);
    h.start_agent(port, agent_port, &agent_dir, "cpus:2;mem:1024;disk:1024");
    wait_for("the agent back with its reservations", WAIT, || {
        let total = agent_total(port);
        (total.iter().any(|r| r["disk"]["persistence"]["id"] == "db")
            && total
                .iter()
                .any(|r| r["name"] == "cpus" && r["role"] == "web"))
        .then_some(())
    });
    assert_eq!(
        std::fs::read(volume_dir(&agent_dir, "db").join("table")).unwrap(),
        b"rows"
    );
    let s = Scheduler::subscribe(
        port,
        json!({"user": "nobody", "name": "db", "role": "web", "principal": "ops"}),
    );
    let mut seen = 0;
    wait_offer(&s, &mut seen, |o| {
        has_volume(o, "db") && reserved_cpus(o) >= 1.0
    });
    drop(s);

    // DESTROY_VOLUMES and UNRESERVE_RESOURCES undo it.
    let r = call(
        "DESTROY_VOLUMES",
        "destroy_volumes",
        "volumes",
        vec![op_volume()],
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let r = call(
        "UNRESERVE_RESOURCES",
        "unreserve_resources",
        "resources",
        vec![op_reserved("cpus", 1.0), op_reserved("disk", 100.0)],
    );
    assert_eq!(r.status, 202, "{}", r.text());
    wait_for("the volume dir removed", WAIT, || {
        (!volume_dir(&agent_dir, "db").exists()).then_some(())
    });
    let total = agent_total(port);
    assert!(
        total.iter().all(|r| r.get("role").is_none_or(|r| r == "*")),
        "{total:?}"
    );
}
