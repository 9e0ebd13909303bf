//! The legacy (v0) JSON documents tools still read: the master's `/state`, `/master/slaves` and
//! `/master/frameworks`, and the agent's `/state`, in Mesos' shapes (resources as
//! `{"cpus":2.0,"ports":"[31000-32000]"}`, times as float seconds, agents called slaves).

use super::flags::FlagSet;
use super::version;
use mesolite_core::agent::Agent;
use mesolite_core::master::{Master, TaskView};
use mesolite_core::resources::{Resources, Value as ResValue};
use mesolite_core::time::WallTime;
use serde_json::{json, Value};
use std::path::Path;

/// Resources in the legacy `{"cpus":2.0,"mem":1024.0,"ports":"[31000-32000]"}` form; the
/// scalars Mesos always lists are present even when zero.
pub fn resources_json(r: &Resources) -> Value {
    let mut map = serde_json::Map::new();
    for name in ["cpus", "disk", "gpus", "mem"] {
        map.insert(name.to_string(), json!(0.0));
    }
    for res in r.iter() {
        let name = res.name.as_str().to_string();
        match &res.value {
            ResValue::Scalar(f) => {
                let sum = map.get(&name).and_then(Value::as_f64).unwrap_or(0.0) + f.as_f64();
                map.insert(name, json!(sum));
            }
            other => {
                map.insert(name, json!(other.to_string()));
            }
        }
    }
    Value::Object(map)
}

fn task_json(t: &TaskView<'_>) -> Value {
    let statuses: Vec<Value> = t
        .statuses
        .iter()
        .map(|s| json!({"state": s.state.name(), "timestamp": s.timestamp.as_secs_f64()}))
        .collect();
    let executor_id = if t.executor_id.as_str() == t.task_id.as_str() {
        ""
    } else {
        t.executor_id.as_str()
    };
    json!({
        "id": t.task_id.as_str(),
        "name": t.name,
        "framework_id": t.framework_id.as_str(),
        "executor_id": executor_id,
        "slave_id": t.agent_id.as_str(),
        "state": t.state.name(),
        "resources": resources_json(t.resources),
        "statuses": statuses,
    })
}

/// Attributes as legacy `/state` shows them: a SCALAR as a number, RANGES and TEXT as text.
fn attributes_json(
    attrs: &[mesolite_core::attributes::Attribute],
) -> serde_json::Map<String, Value> {
    use mesolite_core::attributes::AttributeValue;
    attrs
        .iter()
        .map(|a| {
            let value = match &a.value {
                AttributeValue::Scalar(x) => json!(x.as_f64()),
                other => json!(other.to_string()),
            };
            (a.name.clone(), value)
        })
        .collect()
}

fn agents_json(m: &Master) -> Vec<Value> {
    m.agents()
        .map(|a| {
            let attributes = attributes_json(&a.info.attributes);
            let unreserved = a.info.resources.clone();
            json!({
                "id": a.id.as_str(),
                "hostname": a.info.hostname,
                "port": a.info.port,
                "pid": format!("slave(1)@{}:{}", a.info.ip, a.info.port),
                "active": a.active,
                "registered_time": a.registered_time.as_secs_f64(),
                "reregistered_time": a.reregistered_time.map(WallTime::as_secs_f64),
                "resources": resources_json(&a.info.resources),
                "used_resources": resources_json(&a.allocated),
                "offered_resources": resources_json(&a.offered),
                "reserved_resources": {},
                "unreserved_resources": resources_json(&unreserved),
                "attributes": attributes,
                "version": a.info.version,
                "capabilities": [],
            })
        })
        .collect()
}

fn frameworks_json(m: &Master) -> Vec<Value> {
    m.frameworks()
        .map(|f| {
            let mut used = Resources::new();
            let tasks: Vec<Value> = m
                .tasks()
                .filter(|t| t.framework_id == f.id)
                .map(|t| {
                    if !t.state.is_terminal() {
                        let _ = used.add_all(t.resources);
                    }
                    task_json(&t)
                })
                .collect();
            let completed: Vec<Value> = m
                .completed_tasks()
                .filter(|t| t.framework_id == f.id)
                .map(|t| task_json(&t))
                .collect();
            let mut offered = Resources::new();
            for o in m.offers().filter(|o| &o.framework_id == f.id) {
                let _ = offered.add_all(&o.resources);
            }
            let mut total = used.clone();
            let _ = total.add_all(&offered);
            json!({
                "id": f.id.as_str(),
                "name": f.spec.name,
                "user": f.spec.user,
                "role": f.spec.role.as_str(),
                "roles": f.spec.subscribed_roles().iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                "principal": f.spec.principal,
                "hostname": f.spec.hostname.clone().unwrap_or_default(),
                "pid": "",
                "active": f.active,
                "connected": f.connected,
                "recovered": f.recovered,
                "failover_timeout": f.spec.failover_timeout.as_secs_f64(),
                "checkpoint": f.spec.checkpoint,
                "registered_time": f.registered_time.map(WallTime::as_secs_f64),
                "reregistered_time": f.reregistered_time.map(WallTime::as_secs_f64),
                "unregistered_time": 0,
                "capabilities": [],
                "resources": resources_json(&total),
                "used_resources": resources_json(&used),
                "offered_resources": resources_json(&offered),
                "tasks": tasks,
                "unreachable_tasks": [],
                "completed_tasks": completed,
                "offers": [],
                "executors": [],
            })
        })
        .collect()
}

/// The master's `/state` (also `/state.json`, `/master/state`, `/master/state.json`).
pub fn master_state(m: &Master, flags: &FlagSet) -> Value {
    let cfg = m.config();
    let pid = format!("master@{}:{}", cfg.ip, cfg.port);
    let v: Value = serde_json::from_str(&version::version_json()).unwrap_or_else(|_| json!({}));
    json!({
        "version": mesolite_core::master::MESOS_VERSION,
        "git_tag": v["git_tag"],
        "git_sha": v["git_sha"],
        "build_date": v["build_date"],
        "build_time": v["build_time"],
        "build_user": v["build_user"],
        "id": m.registry().cluster_id,
        "pid": pid,
        "hostname": cfg.hostname,
        "leader": pid,
        "leader_info": crate::convert::master_info(m),
        "start_time": m.start_time().as_secs_f64(),
        "elected_time": m.elected_time().map(WallTime::as_secs_f64),
        "activated_slaves": m.agents().filter(|a| a.active).count(),
        "deactivated_slaves": m.agents().filter(|a| !a.active).count(),
        "unreachable_slaves": m.registry().unreachable.len(),
        "flags": flags.to_legacy_json()["flags"],
        "slaves": agents_json(m),
        "recovered_slaves": [],
        "frameworks": frameworks_json(m),
        "completed_frameworks": [],
        "orphan_tasks": [],
        "unregistered_frameworks": [],
    })
}

/// `/master/slaves`.
pub fn master_slaves(m: &Master) -> Value {
    json!({"slaves": agents_json(m), "recovered_slaves": []})
}

/// `/master/frameworks`.
pub fn master_frameworks(m: &Master) -> Value {
    json!({
        "frameworks": frameworks_json(m),
        "completed_frameworks": [],
        "unregistered_frameworks": [],
    })
}

/// The agent's `/state` (also `/slave(1)/state` and `.json`): its frameworks, their executors
/// with sandbox `directory`, and the executors' tasks.
pub fn agent_state(a: &Agent, flags: &FlagSet, work_dir: &Path, started: WallTime) -> Value {
    let info = a.info();
    let agent_id = a.id();
    let tasks_of = |fid: &mesolite_core::ids::FrameworkId,
                    eid: &mesolite_core::ids::ExecutorId,
                    queued: bool,
                    terminal: bool| {
        a.agent_tasks()
            .filter(|t| t.framework_id == fid && t.executor_id == eid && t.queued == queued)
            .filter(|t| queued || t.state.is_terminal() == terminal)
            .map(|t| {
                json!({
                    "id": t.spec.task_id.as_str(),
                    "name": t.spec.name,
                    "framework_id": fid.as_str(),
                    "executor_id": if eid.as_str() == t.spec.task_id.as_str() { "" } else { eid.as_str() },
                    "slave_id": agent_id.map(|i| i.as_str()).unwrap_or(""),
                    "state": t.state.name(),
                    "resources": resources_json(&t.spec.resources),
                })
            })
            .collect::<Vec<Value>>()
    };
    let frameworks: Vec<Value> = a
        .frameworks()
        .map(|f| {
            let executors: Vec<Value> = a
                .executor_details()
                .filter(|e| e.framework_id == &f.id)
                .map(|e| {
                    let directory = agent_id
                        .map(|id| {
                            work_dir
                                .join(mesolite_core::wire::sandbox_path(
                                    id,
                                    e.framework_id,
                                    e.executor_id,
                                    e.container_id,
                                ))
                                .display()
                                .to_string()
                        })
                        .unwrap_or_default();
                    let mut resources = Resources::new();
                    if let Some(spec) = e.spec {
                        let _ = resources.add_all(&spec.resources);
                    }
                    for t in a
                        .agent_tasks()
                        .filter(|t| t.executor_id == e.executor_id && !t.state.is_terminal())
                    {
                        let _ = resources.add_all(&t.spec.resources);
                    }
                    json!({
                        "id": e.executor_id.as_str(),
                        "name": e.spec.map(|s| s.name.as_str()).unwrap_or(""),
                        "source": e.executor_id.as_str(),
                        "container": e.container_id.as_str(),
                        "directory": directory,
                        "type": if e.command_executor { "DEFAULT" } else { "CUSTOM" },
                        "framework_id": e.framework_id.as_str(),
                        "resources": resources_json(&resources),
                        "queued_tasks": tasks_of(e.framework_id, e.executor_id, true, false),
                        "tasks": tasks_of(e.framework_id, e.executor_id, false, false),
                        "completed_tasks": tasks_of(e.framework_id, e.executor_id, false, true),
                    })
                })
                .collect();
            json!({
                "id": f.id.as_str(),
                "name": f.name,
                "user": f.user,
                "role": f.role.as_str(),
                "checkpoint": f.checkpoint,
                "executors": executors,
                "completed_executors": [],
            })
        })
        .collect();
    let v: Value = serde_json::from_str(&version::version_json()).unwrap_or_else(|_| json!({}));
    let attributes = attributes_json(&info.attributes);
    json!({
        "version": mesolite_core::master::MESOS_VERSION,
        "git_tag": v["git_tag"],
        "git_sha": v["git_sha"],
        "build_date": v["build_date"],
        "build_time": v["build_time"],
        "build_user": v["build_user"],
        "start_time": started.as_secs_f64(),
        "id": agent_id.map(|i| i.as_str().to_string()).unwrap_or_default(),
        "pid": format!("slave(1)@{}:{}", info.ip, info.port),
        "hostname": info.hostname,
        "resources": resources_json(&info.resources),
        "reserved_resources": {},
        "unreserved_resources": resources_json(&info.resources),
        "attributes": attributes,
        "master_hostname": flags.get("master").and_then(|m| m.rsplit_once(':')).map(|(h, _)| h).unwrap_or(""),
        "registered": matches!(a.link(), mesolite_core::agent::MasterLink::Registered),
        "flags": flags.to_legacy_json()["flags"],
        "frameworks": frameworks,
        "completed_frameworks": [],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_resources_list_the_standard_scalars_and_ranges_as_text() {
        let r = Resources::parse("cpus:2;mem:512;ports:[31000-31100]").unwrap();
        let j = resources_json(&r);
        assert_eq!(j["cpus"], json!(2.0));
        assert_eq!(j["mem"], json!(512.0));
        assert_eq!(j["disk"], json!(0.0));
        assert_eq!(j["gpus"], json!(0.0));
        assert_eq!(j["ports"], json!("[31000-31100]"));
    }
}
