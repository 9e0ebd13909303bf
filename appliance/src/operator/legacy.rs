//! The legacy (v0) JSON documents tools still read: the master's `/state`, `/master/slaves` and
//! `/master/frameworks`, and the agent's `/state`, in Mesos' shapes (resources as
//! `{"cpus":2.0,"ports":"[31000-32000]"}`, times as float seconds, agents called slaves).
//! The master's documents are written straight into a buffer; `/state` is cached per state
//! version like GET_STATE, each task copied from the previous rendering while unchanged.

use super::flags::FlagSet;
use super::fragments::TaskWriter;
use super::rendered::{self, SharedBody, StateQuery};
use super::state_json::{write_f64, write_raw_str, write_serde, write_str, write_u64};
use super::version;
use crate::http::{Body, Compressible};
use crate::master_driver::MasterDriver;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::Response;
use mesolite_core::agent::Agent;
use mesolite_core::ids::FrameworkId;
use mesolite_core::master::{AgentView, FrameworkSpec, Master, TaskView};
use mesolite_core::resources::{Resources, Value as ResValue};
use mesolite_core::time::WallTime;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
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

/// Resources in the legacy form, written straight into `out` (the same bytes as
/// [`resources_json`] serialized): the names in order, scalars summed, other values as text.
fn write_resources(r: &Resources, out: &mut Vec<u8>) {
    enum Legacy {
        Scalar(f64),
        Text(String),
    }
    let mut map: BTreeMap<&str, Legacy> = ["cpus", "disk", "gpus", "mem"]
        .into_iter()
        .map(|n| (n, Legacy::Scalar(0.0)))
        .collect();
    for res in r.iter() {
        let name = res.name.as_str();
        match &res.value {
            ResValue::Scalar(f) => {
                let sum = match map.get(name) {
                    Some(Legacy::Scalar(x)) => *x,
                    _ => 0.0,
                };
                map.insert(name, Legacy::Scalar(sum + f.as_f64()));
            }
            other => {
                map.insert(name, Legacy::Text(other.to_string()));
            }
        }
    }
    out.push(b'{');
    for (i, (name, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, name);
        out.push(b':');
        match value {
            Legacy::Scalar(x) => write_f64(out, *x),
            Legacy::Text(t) => write_str(out, t),
        }
    }
    out.push(b'}');
}

/// An optional time as float seconds, `null` when unset.
fn write_time(out: &mut Vec<u8>, t: Option<WallTime>) {
    match t {
        Some(t) => write_f64(out, t.as_secs_f64()),
        None => out.extend_from_slice(b"null"),
    }
}

/// One task as legacy `/state` shows it (Mesos `model(Task)`): the command executor's id is
/// written as `""`, each status as its state and time.
fn write_task(t: &TaskView<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"id\":");
    write_str(out, t.task_id.as_str());
    out.extend_from_slice(b",\"name\":");
    write_str(out, t.name);
    out.extend_from_slice(b",\"framework_id\":");
    write_str(out, t.framework_id.as_str());
    out.extend_from_slice(b",\"executor_id\":");
    if t.executor_id.as_str() == t.task_id.as_str() {
        out.extend_from_slice(b"\"\"");
    } else {
        write_str(out, t.executor_id.as_str());
    }
    out.extend_from_slice(b",\"slave_id\":");
    write_str(out, t.agent_id.as_str());
    out.extend_from_slice(b",\"state\":");
    write_raw_str(out, t.state.name());
    out.extend_from_slice(b",\"resources\":");
    write_resources(t.resources, out);
    out.extend_from_slice(b",\"statuses\":[");
    for (i, s) in t.statuses.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"state\":");
        write_raw_str(out, s.state.name());
        out.extend_from_slice(b",\"timestamp\":");
        write_f64(out, s.timestamp.as_secs_f64());
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
}

/// `"key":[task,...]`, each task through `tasks` (which may copy it from a previous rendering).
fn write_tasks(out: &mut Vec<u8>, key: &[u8], list: &[TaskView<'_>], tasks: &mut TaskWriter<'_>) {
    out.extend_from_slice(key);
    out.push(b'[');
    for (i, t) in list.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        tasks.write(t, out, write_task);
    }
    out.push(b']');
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

/// [`attributes_json`] written into `out` (names in order, the last of a repeated name winning).
fn write_attributes(attrs: &[mesolite_core::attributes::Attribute], out: &mut Vec<u8>) {
    write_serde(out, &attributes_json(attrs));
}

fn write_agent(a: &AgentView<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"id\":");
    write_str(out, a.id.as_str());
    out.extend_from_slice(b",\"pid\":");
    write_str(out, &format!("slave(1)@{}:{}", a.info.ip, a.info.port));
    out.extend_from_slice(b",\"hostname\":");
    write_str(out, &a.info.hostname);
    out.extend_from_slice(b",\"port\":");
    write_u64(out, u64::from(a.info.port));
    out.extend_from_slice(b",\"registered_time\":");
    write_f64(out, a.registered_time.as_secs_f64());
    out.extend_from_slice(b",\"reregistered_time\":");
    write_time(out, a.reregistered_time);
    out.extend_from_slice(b",\"resources\":");
    write_resources(a.total, out);
    out.extend_from_slice(b",\"used_resources\":");
    write_resources(&a.allocated, out);
    out.extend_from_slice(b",\"offered_resources\":");
    write_resources(&a.offered, out);
    // Mesos: the reserved resources by their (innermost) reservation role, and the rest.
    out.extend_from_slice(b",\"reserved_resources\":{");
    let mut by_role: BTreeMap<&str, Resources> = BTreeMap::new();
    for r in a.total.iter() {
        if let Some(role) = r.reservation_role() {
            let _ = by_role.entry(role.as_str()).or_default().add(r);
        }
    }
    for (i, (role, reserved)) in by_role.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, role);
        out.push(b':');
        write_resources(reserved, out);
    }
    out.extend_from_slice(b"},\"unreserved_resources\":");
    let mut unreserved = Resources::new();
    unreserved.copy_filtered_from(a.total, |r| r.is_unreserved());
    write_resources(&unreserved, out);
    out.extend_from_slice(b",\"attributes\":");
    write_attributes(&a.info.attributes, out);
    out.extend_from_slice(b",\"active\":");
    write_bool(out, a.active);
    out.extend_from_slice(b",\"version\":");
    write_str(out, &a.info.version);
    out.extend_from_slice(b",\"capabilities\":[]}");
}

fn write_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

/// `[agent,...]`.
fn write_agents(m: &Master, out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, a) in m.agents().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_agent(&a, out);
    }
    out.push(b']');
}

/// The tasks of each framework: live, unreachable and completed, each in the master's order.
#[derive(Default)]
struct FrameworkTasks<'a> {
    live: Vec<TaskView<'a>>,
    unreachable: Vec<TaskView<'a>>,
    completed: Vec<TaskView<'a>>,
}

fn tasks_by_framework(m: &Master) -> HashMap<&FrameworkId, FrameworkTasks<'_>> {
    let mut by: HashMap<&FrameworkId, FrameworkTasks<'_>> = HashMap::new();
    for t in m.tasks() {
        by.entry(t.framework_id).or_default().live.push(t);
    }
    for (t, _) in m.unreachable_tasks() {
        by.entry(t.framework_id).or_default().unreachable.push(t);
    }
    for t in m.completed_tasks() {
        by.entry(t.framework_id).or_default().completed.push(t);
    }
    by
}

/// What a framework entry shows besides its tasks, for live and completed frameworks alike.
struct FrameworkFacts<'a> {
    id: &'a FrameworkId,
    spec: &'a FrameworkSpec,
    active: bool,
    connected: bool,
    recovered: bool,
    registered_time: Option<WallTime>,
    reregistered_time: Option<WallTime>,
    /// Float seconds for a completed framework; `0` while it is registered.
    unregistered_time: Option<WallTime>,
}

/// One framework (Mesos `Full<Framework>`): its resources in use (live tasks not yet
/// terminal), offered, and their sum, its tasks, and no offers or executors.
fn write_framework(
    f: &FrameworkFacts<'_>,
    offered: &Resources,
    list: Option<&FrameworkTasks<'_>>,
    tasks: &mut TaskWriter<'_>,
    out: &mut Vec<u8>,
) {
    let none = FrameworkTasks::default();
    let list = list.unwrap_or(&none);
    let mut used = Resources::new();
    for t in list.live.iter().filter(|t| !t.state.is_terminal()) {
        let _ = used.add_all(t.resources);
    }
    let mut total = used.clone();
    let _ = total.add_all(offered);
    let spec = f.spec;
    out.extend_from_slice(b"{\"id\":");
    write_str(out, f.id.as_str());
    out.extend_from_slice(b",\"name\":");
    write_str(out, &spec.name);
    out.extend_from_slice(b",\"pid\":\"\",\"used_resources\":");
    write_resources(&used, out);
    out.extend_from_slice(b",\"offered_resources\":");
    write_resources(offered, out);
    out.extend_from_slice(b",\"capabilities\":[],\"hostname\":");
    write_str(out, spec.hostname.as_deref().unwrap_or(""));
    out.extend_from_slice(b",\"user\":");
    write_str(out, &spec.user);
    out.extend_from_slice(b",\"failover_timeout\":");
    write_f64(out, spec.failover_timeout.as_secs_f64());
    out.extend_from_slice(b",\"checkpoint\":");
    write_bool(out, spec.checkpoint);
    out.extend_from_slice(b",\"role\":");
    write_str(out, spec.role.as_str());
    out.extend_from_slice(b",\"roles\":[");
    for (i, r) in spec.subscribed_roles().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, r.as_str());
    }
    out.extend_from_slice(b"],\"principal\":");
    match &spec.principal {
        Some(p) => write_str(out, p),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"registered_time\":");
    write_time(out, f.registered_time);
    out.extend_from_slice(b",\"unregistered_time\":");
    match f.unregistered_time {
        Some(t) => write_f64(out, t.as_secs_f64()),
        None => out.push(b'0'),
    }
    out.extend_from_slice(b",\"resources\":");
    write_resources(&total, out);
    out.extend_from_slice(b",\"reregistered_time\":");
    write_time(out, f.reregistered_time);
    out.extend_from_slice(b",\"active\":");
    write_bool(out, f.active);
    out.extend_from_slice(b",\"connected\":");
    write_bool(out, f.connected);
    out.extend_from_slice(b",\"recovered\":");
    write_bool(out, f.recovered);
    write_tasks(out, b",\"tasks\":", &list.live, tasks);
    write_tasks(out, b",\"unreachable_tasks\":", &list.unreachable, tasks);
    write_tasks(out, b",\"completed_tasks\":", &list.completed, tasks);
    out.extend_from_slice(b",\"offers\":[],\"executors\":[]}");
}

/// `"frameworks":[..],"completed_frameworks":[..]`: the registered frameworks, then the torn
/// down ones Mesos keeps (`--max_completed_frameworks`) with their completed tasks.
fn write_frameworks(m: &Master, out: &mut Vec<u8>, tasks: &mut TaskWriter<'_>) {
    let by = tasks_by_framework(m);
    let mut offered: HashMap<&FrameworkId, Resources> = HashMap::new();
    for o in m.offers() {
        let _ = offered
            .entry(&o.framework_id)
            .or_default()
            .add_all(&o.resources);
    }
    let none = Resources::new();
    out.extend_from_slice(b"\"frameworks\":[");
    for (i, f) in m.frameworks().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let facts = FrameworkFacts {
            id: f.id,
            spec: f.spec,
            active: f.active,
            connected: f.connected,
            recovered: f.recovered,
            registered_time: f.registered_time,
            reregistered_time: f.reregistered_time,
            unregistered_time: None,
        };
        let offered = offered.get(f.id).unwrap_or(&none);
        write_framework(&facts, offered, by.get(f.id), tasks, out);
    }
    out.extend_from_slice(b"],\"completed_frameworks\":[");
    for (i, f) in m.completed_frameworks().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let facts = FrameworkFacts {
            id: &f.id,
            spec: &f.spec,
            active: false,
            connected: false,
            recovered: false,
            registered_time: f.registered_time,
            reregistered_time: f.reregistered_time,
            unregistered_time: Some(f.unregistered_time),
        };
        write_framework(&facts, &none, by.get(&f.id), tasks, out);
    }
    out.push(b']');
}

/// The master's `/state` (also `/state.json`, `/master/state`, `/master/state.json`) up to
/// its last member: `{..,"flags":`. The flags (the process's, which never change) follow, then
/// `}` ([`master_state_response`]); everything else depends only on the master's state, so this
/// part is rendered once per state version.
pub fn write_master_state_head(m: &Master, out: &mut Vec<u8>, tasks: &mut TaskWriter<'_>) {
    let cfg = m.config();
    let pid = format!("master@{}:{}", cfg.ip, cfg.port);
    let v: Value = serde_json::from_str(&version::version_json()).unwrap_or_else(|_| json!({}));
    out.extend_from_slice(b"{\"version\":");
    write_str(out, mesolite_core::master::MESOS_VERSION);
    for key in [
        "git_sha",
        "git_tag",
        "build_date",
        "build_time",
        "build_user",
    ] {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        write_serde(out, &v[key]);
    }
    out.extend_from_slice(b",\"start_time\":");
    write_f64(out, m.start_time().as_secs_f64());
    out.extend_from_slice(b",\"elected_time\":");
    write_time(out, m.elected_time());
    out.extend_from_slice(b",\"id\":");
    write_str(out, &m.registry().cluster_id);
    out.extend_from_slice(b",\"pid\":");
    write_str(out, &pid);
    out.extend_from_slice(b",\"hostname\":");
    write_str(out, &cfg.hostname);
    let (active, inactive) = m.agents().fold((0u64, 0u64), |(a, i), agent| {
        if agent.active {
            (a + 1, i)
        } else {
            (a, i + 1)
        }
    });
    out.extend_from_slice(b",\"activated_slaves\":");
    write_u64(out, active);
    out.extend_from_slice(b",\"deactivated_slaves\":");
    write_u64(out, inactive);
    out.extend_from_slice(b",\"unreachable_slaves\":");
    write_u64(out, m.registry().unreachable.len() as u64);
    out.extend_from_slice(b",\"leader_info\":");
    write_serde(out, &crate::convert::master_info(m));
    out.extend_from_slice(b",\"leader\":");
    write_str(out, &pid);
    out.extend_from_slice(b",\"slaves\":");
    write_agents(m, out);
    out.extend_from_slice(b",\"recovered_slaves\":[],");
    write_frameworks(m, out, tasks);
    out.extend_from_slice(b",\"orphan_tasks\":[],\"unregistered_frameworks\":[],\"flags\":");
}

/// The `200` answer to the master's `/state`: the rendering of the master's current state
/// version (shared, see `rendered`) with the process's flags and the closing brace after it.
pub fn master_state_response(d: &MasterDriver, flags: &FlagSet) -> Response<Body> {
    let head = d.rendered(StateQuery::LegacyState);
    let mut tail = Vec::new();
    write_serde(&mut tail, &flags.to_legacy_json()["flags"]);
    tail.push(b'}');
    let tail = Bytes::from(tail);
    let gzip = rendered::shared_gzip(StateQuery::LegacyState, &head, &tail);
    let body = SharedBody::new([head, tail]);
    let mut resp = Response::new(body.boxed_unsync());
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp.extensions_mut().insert(Compressible::shared(gzip));
    resp
}

/// The master's `/state` as a JSON value, rendered afresh: what tests compare the cached
/// answer of [`master_state_response`] with.
#[cfg(test)]
pub fn master_state(m: &Master, flags: &FlagSet) -> Value {
    let mut out = Vec::new();
    write_master_state_head(m, &mut out, &mut TaskWriter::fresh());
    write_serde(&mut out, &flags.to_legacy_json()["flags"]);
    out.push(b'}');
    serde_json::from_slice(&out).unwrap_or_else(|_| json!({}))
}

/// `/master/slaves`.
pub fn master_slaves(m: &Master) -> Value {
    let mut out = b"{\"slaves\":".to_vec();
    write_agents(m, &mut out);
    out.extend_from_slice(b",\"recovered_slaves\":[]}");
    serde_json::from_slice(&out).unwrap_or_else(|_| json!({}))
}

/// `/master/frameworks`.
pub fn master_frameworks(m: &Master) -> Value {
    let mut out = b"{".to_vec();
    write_frameworks(m, &mut out, &mut TaskWriter::fresh());
    out.extend_from_slice(b",\"unregistered_frameworks\":[]}");
    serde_json::from_slice(&out).unwrap_or_else(|_| json!({}))
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
