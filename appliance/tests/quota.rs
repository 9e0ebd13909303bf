//! Quota through the operator APIs of a real master: SET_QUOTA, GET_QUOTA, UPDATE_QUOTA,
//! REMOVE_QUOTA and the legacy `/quota`, with Mesos' answers, and quotas surviving a SIGKILL of
//! the master.

mod common;

use common::*;
use serde_json::Value;

fn post(port: u16, path: &str, body: &str) -> HttpResponse {
    http(
        port,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .expect("the master answers")
}

/// GET_QUOTA's `configs` as (role, guarantees, limits).
fn configs(port: u16) -> Vec<(String, Value, Value)> {
    let q = operator(port, "GET_QUOTA");
    q["get_quota"]["status"]["configs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            (
                c["role"].as_str().unwrap_or("").to_string(),
                c["guarantees"].clone(),
                c["limits"].clone(),
            )
        })
        .collect()
}

#[test]
fn quota_is_set_listed_checked_removed_and_survives_a_master_sigkill() {
    let mut h = Harness::new("quota");
    let port = free_port();
    let master_dir = h.path("master");
    let master = h.start_master(port, &master_dir);
    h.start_agent(port, free_port(), &h.path("agent"), "cpus:2;mem:1024");
    wait_agents(port, 1);

    // SET_QUOTA (Mesos 1.5): the guarantee, shown as both guarantee and limit.
    let set = r#"{"type":"SET_QUOTA","set_quota":{"quota_request":{"role":"web",
        "guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1.5}}]}}}"#;
    let r = post(port, "/api/v1", set);
    assert_eq!(r.status, 200, "{}", r.text());
    let q = operator(port, "GET_QUOTA");
    let info = &q["get_quota"]["status"]["infos"][0];
    assert_eq!(info["role"], "web", "{q}");
    assert_eq!(info["guarantee"][0]["name"], "cpus", "{q}");
    assert_eq!(info["guarantee"][0]["scalar"]["value"], 1.5, "{q}");
    let c = configs(port);
    assert_eq!(c[0].1["cpus"]["value"], 1.5);
    assert_eq!(c[0].2["cpus"]["value"], 1.5);

    // Mesos' refusals, each a one-line reason.
    let r = post(port, "/api/v1", set);
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text().trim(),
        "Failed to validate set quota request: Cannot set quota for role 'web' which already has quota"
    );
    let r = post(
        port,
        "/master/quota",
        r#"{"role":"db","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}"#,
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.text().starts_with("Quota guarantees overcommit the cluster (use 'force' to bypass this check): Total quota guarantees 'cpus:2.5' exceed cluster capacity 'cpus:2;mem:1024'"),
        "{}",
        r.text()
    );
    let r = post(
        port,
        "/api/v1",
        r#"{"type":"REMOVE_QUOTA","remove_quota":{"role":"db"}}"#,
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text().trim(),
        "Failed to remove quota: Role 'db' has no quota set"
    );

    // UPDATE_QUOTA (Mesos 1.9): a limit below the guarantee's headroom for another role.
    let update = r#"{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"batch",
        "limits":{"cpus":{"value":0.5},"mem":{"value":256}}}]}}"#;
    let r = post(port, "/api/v1", update);
    assert_eq!(r.status, 200, "{}", r.text());
    let legacy = http(port, "GET", "/quota", &[], b"").expect("GET /quota");
    assert_eq!(legacy.status, 200);
    let roles: Vec<String> = legacy.json()["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["role"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(roles, ["web", "batch"]);

    // Both survive a SIGKILL of the master.
    h.signal(master, "KILL");
    h.wait_exit(master, WAIT);
    h.start_master(port, &master_dir);
    let c = configs(port);
    assert_eq!(c.len(), 2, "{c:?}");
    assert_eq!(c[1].0, "batch");
    assert_eq!(c[1].2["mem"]["value"], 256.0);

    // DELETE /quota/<role> removes one.
    let r = http(port, "DELETE", "/master/quota/web", &[], b"").expect("DELETE");
    assert_eq!(r.status, 200, "{}", r.text());
    let c = configs(port);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].0, "batch");
}
