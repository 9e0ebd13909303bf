//! The master's v1 operator API (`POST /api/v1`, `/api/v1/operator`, `/master/api/v1`): the
//! query calls (reference §6.5) answered from the master's state, MARK_AGENT_GONE and the calls
//! that change the registry (UPDATE_WEIGHTS here, the quota calls in `quota.rs`).

use super::flags::{self, FlagSet};
use super::rendered::{self, StateQuery};
use super::{metrics, quota, read_call, reservations, version};
use crate::convert::{self, resources_to_v1};
use crate::http::{self, Body};
use crate::master_driver::MasterDriver;
use crate::v1::{self, to_ascii_json, WireEnum};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use mesolite_core::ids::{AgentId, FrameworkId, Role};
use mesolite_core::master::{
    AgentView, CompletedFramework, FrameworkView, Master, OfferRecord, OperatorCall, OperatorError,
    Phase, TaskView,
};
use mesolite_core::registry::MAX_WEIGHT_MILLI;
use mesolite_core::resources::Resources;
use mesolite_core::time::WallTime;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// Answers one operator call on the master. `process` holds the flags no state machine holds.
pub async fn call(
    d: Rc<MasterDriver>,
    process: Rc<FlagSet>,
    req: Request<Incoming>,
) -> Response<Body> {
    let call: v1::operator::Call = match read_call(req).await {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    use v1::operator::{CallType as T, Response as R};
    let Some(kind) = call.kind else {
        return http::error(
            StatusCode::BAD_REQUEST,
            "Expecting 'type' to be present and a known call type",
        );
    };
    if kind == T::Subscribe {
        if d.master.borrow().phase() != Phase::Leading {
            return http::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Master has not finished recovery",
            );
        }
        let (rx, guard) = d.open_operator_stream();
        // The guard lives as long as the response body: dropping it reports the stream closed.
        let records = smol::stream::StreamExt::map(rx, move |chunk| {
            let _keep = &guard;
            chunk
        });
        return http::stream(records, None);
    }
    match kind {
        T::UpdateWeights => return update_weights(&d, call.update_weights).await,
        T::MarkAgentGone => return mark_agent_gone(&d, call.mark_agent_gone).await,
        T::SetQuota => return quota::set_quota(&d, call.set_quota).await,
        T::RemoveQuota => return quota::remove_quota(&d, call.remove_quota).await,
        T::UpdateQuota => return quota::update_quota(&d, call.update_quota).await,
        T::ReserveResources => {
            return reservations::call(&d, kind, call.reserve_resources.as_ref(), None)
        }
        T::UnreserveResources => {
            return reservations::call(&d, kind, call.unreserve_resources.as_ref(), None)
        }
        T::CreateVolumes => {
            return reservations::call(&d, kind, None, call.create_volumes.as_ref())
        }
        T::DestroyVolumes => {
            return reservations::call(&d, kind, None, call.destroy_volumes.as_ref())
        }
        T::UpdateMaintenanceSchedule
        | T::StartMaintenance
        | T::StopMaintenance
        | T::GetMaintenanceStatus
        | T::GetMaintenanceSchedule => return super::maintenance::call(&d, kind, call).await,
        _ => {}
    }
    if let Some(query) = StateQuery::of(kind) {
        if d.master.borrow().phase() != Phase::Leading {
            return http::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Master has not finished recovery",
            );
        }
        return rendered::response(query, d.rendered(query));
    }
    let m = d.master.borrow();
    let needs_state = !matches!(
        kind,
        T::GetHealth | T::GetVersion | T::GetFlags | T::GetLoggingLevel | T::GetMetrics
    );
    if needs_state && m.phase() != Phase::Leading {
        return http::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Master has not finished recovery",
        );
    }
    let resp = match kind {
        T::GetHealth => R::health(true),
        T::GetVersion => R::version(version::version_info()),
        T::GetFlags => R::flags(flags::master(m.config(), &process).to_v1()),
        T::GetMetrics => R::metrics(metrics::master(&m, d.clock.wall()).to_v1()),
        T::GetLoggingLevel => R::logging_level(0),
        T::GetRoles => R::roles(get_roles(&m)),
        T::GetWeights => R::weights(get_weights(&m)),
        T::GetQuota => R::quota(quota::status(&m)),
        T::GetMaster => R::master(v1::operator::GetMaster {
            master_info: Some(convert::master_info(&m)),
            start_time: Some(m.start_time().as_secs_f64()),
            elected_time: m.elected_time().map(|t| t.as_secs_f64()),
        }),
        T::Unknown => {
            return http::error(StatusCode::BAD_REQUEST, "Unknown call type UNKNOWN");
        }
        other => {
            return http::error(
                StatusCode::NOT_IMPLEMENTED,
                format!(
                    "call {} is not supported by mesolite yet",
                    other.wire_name()
                ),
            )
        }
    };
    http::json(StatusCode::OK, to_ascii_json(&resp))
}

/// The answer to an operator call that changed the registry: 200 once durable (Mesos 1.5's
/// handlers answer 200, not the 202 the documentation shows), or Mesos' status for the error.
pub fn durable_answer(result: Result<(), OperatorError>) -> Response<Body> {
    match result {
        Ok(()) => http::empty(StatusCode::OK),
        Err(e @ OperatorError::Conflict(_)) => http::error(StatusCode::CONFLICT, e.to_string()),
        Err(
            e @ (OperatorError::UnknownAgent
            | OperatorError::Refused(_)
            | OperatorError::Invalid(_)),
        ) => http::error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => http::error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// UPDATE_WEIGHTS: validates `weight_infos`, then waits for the registry write.
async fn update_weights(
    d: &MasterDriver,
    body: Option<v1::operator::UpdateWeights>,
) -> Response<Body> {
    let Some(body) = body else {
        return http::error(
            StatusCode::BAD_REQUEST,
            "Expecting 'update_weights' to be present",
        );
    };
    match weights_from_v1(&body.weight_infos) {
        Ok(weights) => durable_answer(d.operator_call(OperatorCall::UpdateWeights(weights)).await),
        Err(why) => http::error(StatusCode::BAD_REQUEST, why),
    }
}

/// Role weights in thousandths, checked as Mesos does: a valid role and a positive weight.
pub fn weights_from_v1(infos: &[v1::operator::WeightInfo]) -> Result<Vec<(Role, u64)>, String> {
    let max = MAX_WEIGHT_MILLI / 1000;
    infos
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let Some(role) = &w.role else {
                return Err(format!("weight_infos[{i}].role must be set"));
            };
            mesolite_core::resources::validate_role(role)
                .map_err(|e| format!("weight_infos[{i}].role '{role}': {e}"))?;
            if !w.weight.is_finite() || w.weight <= 0.0 {
                return Err(format!(
                    "weight_infos[{i}].weight {} for role '{role}' must be a positive number",
                    w.weight
                ));
            }
            let milli = (w.weight * 1000.0).round();
            if milli < 1.0 || milli > MAX_WEIGHT_MILLI as f64 {
                return Err(format!(
                    "weight_infos[{i}].weight {} for role '{role}' must be between 0.001 and {max}",
                    w.weight
                ));
            }
            Ok((Role::new(role.clone()), milli as u64))
        })
        .collect()
}

/// MARK_AGENT_GONE: waits for the registry write; the agent's tasks are then gone.
async fn mark_agent_gone(
    d: &MasterDriver,
    body: Option<v1::operator::MarkAgentGone>,
) -> Response<Body> {
    let Some(body) = body else {
        return http::error(
            StatusCode::BAD_REQUEST,
            "Expecting 'mark_agent_gone' to be present",
        );
    };
    if let Err(e) = mesolite_core::ids::validate_id("agent_id", &body.agent_id.value) {
        return http::error(StatusCode::BAD_REQUEST, e.to_string());
    }
    let id = AgentId::new(body.agent_id.value);
    durable_answer(d.operator_call(OperatorCall::MarkAgentGone(id)).await)
}

fn time_info(t: WallTime) -> v1::TimeInfo {
    v1::TimeInfo {
        nanoseconds: t.unix_nanos as i64,
    }
}

pub fn get_agents(m: &Master) -> v1::operator::GetAgents {
    v1::operator::GetAgents {
        agents: m.agents().map(|a| agent_to_v1(&a)).collect(),
        recovered_agents: m
            .recovered_agents()
            .map(|a| v1::AgentInfo {
                hostname: a.info.hostname.clone(),
                port: a.info.port as i32,
                resources: Resources::parse(&a.info.resources_text)
                    .map(|r| resources_to_v1(&r, None))
                    .unwrap_or_default(),
                attributes: Vec::new(),
                id: Some(v1::AgentId::new(a.id.as_str())),
                domain: None,
            })
            .collect(),
    }
}

/// One `GetAgents.Agent`.
pub fn agent_to_v1(a: &AgentView<'_>) -> v1::operator::Agent {
    v1::operator::Agent {
        agent_info: convert::agent_info_to_v1(a.info, Some(a.id)),
        active: a.active,
        version: a.info.version.clone(),
        pid: Some(format!("slave(1)@{}:{}", a.info.ip, a.info.port)),
        registered_time: Some(time_info(a.registered_time)),
        reregistered_time: a.reregistered_time.map(time_info),
        total_resources: resources_to_v1(a.total, None),
        allocated_resources: resources_to_v1(&a.allocated, None),
        offered_resources: resources_to_v1(&a.offered, None),
        capabilities: Vec::new(),
        resource_providers: Vec::new(),
    }
}

/// Every framework with its allocation (resources of its live, not terminal, tasks) and its
/// outstanding offers, gathered in one pass over tasks and one over offers.
pub fn get_frameworks(m: &Master) -> v1::operator::GetFrameworks {
    let mut allocated: BTreeMap<&FrameworkId, Resources> = BTreeMap::new();
    for t in m.tasks().filter(|t| !t.state.is_terminal()) {
        let _ = allocated
            .entry(t.framework_id)
            .or_default()
            .add_all(t.resources);
    }
    let mut offers: BTreeMap<&FrameworkId, Vec<&OfferRecord>> = BTreeMap::new();
    for o in m.offers() {
        offers.entry(&o.framework_id).or_default().push(o);
    }
    let none = Resources::new();
    v1::operator::GetFrameworks {
        frameworks: m
            .frameworks()
            .map(|f| {
                let allocated = allocated.get(f.id).unwrap_or(&none);
                let offers = offers.get(f.id).map_or(&[][..], Vec::as_slice);
                framework_to_v1_with(m, &f, allocated, offers)
            })
            .collect(),
        completed_frameworks: m
            .completed_frameworks()
            .map(completed_framework_to_v1)
            .collect(),
        recovered_frameworks: Vec::new(),
    }
}

/// A torn-down framework as `GetFrameworks.completed_frameworks` shows it (Mesos keeps the last
/// `--max_completed_frameworks`).
fn completed_framework_to_v1(f: &CompletedFramework) -> v1::operator::Framework {
    v1::operator::Framework {
        framework_info: framework_info_to_v1(&f.id, &f.spec),
        active: false,
        connected: false,
        recovered: false,
        registered_time: f.registered_time.map(time_info),
        reregistered_time: f.reregistered_time.map(time_info),
        unregistered_time: Some(time_info(f.unregistered_time)),
        offers: Vec::new(),
        inverse_offers: Vec::new(),
        allocated_resources: Vec::new(),
        offered_resources: Vec::new(),
    }
}

/// A framework's `FrameworkInfo` as the master knows it.
pub fn framework_info_to_v1(
    id: &mesolite_core::ids::FrameworkId,
    spec: &mesolite_core::master::FrameworkSpec,
) -> v1::FrameworkInfo {
    let mut info = v1::FrameworkInfo::new(spec.user.clone(), spec.name.clone());
    info.id = Some(v1::FrameworkId::new(id.as_str()));
    info.failover_timeout = spec.failover_timeout.as_secs_f64();
    info.checkpoint = spec.checkpoint;
    if spec.capabilities.multi_role {
        info.roles = spec
            .subscribed_roles()
            .iter()
            .map(|r| r.as_str().to_string())
            .collect();
    } else {
        info.role = Some(spec.role.as_str().to_string());
    }
    use v1::FrameworkCapabilityType as C;
    let caps = &spec.capabilities;
    for (on, kind) in [
        (caps.multi_role, C::MultiRole),
        (caps.partition_aware, C::PartitionAware),
        (caps.task_killing_state, C::TaskKillingState),
    ] {
        if on {
            info.capabilities
                .push(v1::FrameworkCapability { kind: Some(kind) });
        }
    }
    info.hostname = spec.hostname.clone();
    info.principal = spec.principal.clone();
    info
}

/// One `GetFrameworks.Framework`.
pub fn framework_to_v1(m: &Master, f: &FrameworkView<'_>) -> v1::operator::Framework {
    let mut allocated = Resources::new();
    for t in m
        .tasks()
        .filter(|t| t.framework_id == f.id && !t.state.is_terminal())
    {
        let _ = allocated.add_all(t.resources);
    }
    let offers: Vec<&OfferRecord> = m.offers().filter(|o| &o.framework_id == f.id).collect();
    framework_to_v1_with(m, f, &allocated, &offers)
}

/// One `GetFrameworks.Framework` from its allocation and its outstanding offers.
fn framework_to_v1_with(
    m: &Master,
    f: &FrameworkView<'_>,
    allocated: &Resources,
    offers: &[&OfferRecord],
) -> v1::operator::Framework {
    let mut offered = Resources::new();
    for o in offers {
        let _ = offered.add_all(&o.resources);
    }
    let role = Some(f.spec.role.as_str());
    v1::operator::Framework {
        framework_info: framework_info_to_v1(f.id, f.spec),
        active: f.active,
        connected: f.connected,
        recovered: f.recovered,
        registered_time: f.registered_time.map(time_info),
        reregistered_time: f.reregistered_time.map(time_info),
        unregistered_time: None,
        offers: offers.iter().map(|o| convert::offer_to_v1(m, o)).collect(),
        inverse_offers: Vec::new(),
        allocated_resources: resources_to_v1(allocated, role),
        offered_resources: resources_to_v1(&offered, role),
    }
}

pub fn task_to_v1(t: &TaskView<'_>) -> v1::Task {
    v1::Task {
        name: t.name.to_string(),
        task_id: v1::TaskId::new(t.task_id.as_str()),
        framework_id: v1::FrameworkId::new(t.framework_id.as_str()),
        executor_id: (t.executor_id.as_str() != t.task_id.as_str())
            .then(|| v1::ExecutorId::new(t.executor_id.as_str())),
        agent_id: v1::AgentId::new(t.agent_id.as_str()),
        state: t.state,
        resources: resources_to_v1(t.resources, None),
        statuses: t.statuses.iter().map(convert::status_to_v1).collect(),
        status_update_state: t.status_update_state,
        status_update_uuid: t.status_update_uuid.map(|u| v1::Bytes(u.to_vec())),
        labels: None,
        discovery: None,
        container: None,
        health_check: None,
        user: None,
    }
}

/// GET_TASKS as an owned `v1` message. The API answers with `state_json::write_get_tasks`,
/// which writes the same bytes without the copies; this is its reference in tests.
pub fn get_tasks(m: &Master) -> v1::operator::GetTasks {
    v1::operator::GetTasks {
        pending_tasks: Vec::new(),
        tasks: m.tasks().map(|t| task_to_v1(&t)).collect(),
        unreachable_tasks: m.unreachable_tasks().map(|(t, _)| task_to_v1(&t)).collect(),
        completed_tasks: m.completed_tasks().map(|t| task_to_v1(&t)).collect(),
        orphan_tasks: Vec::new(),
    }
}

/// The custom executors of live tasks, each once per agent, in the order their first task
/// appears (command executors are implicit: Mesos lists only custom executors here).
pub fn get_executors(m: &Master) -> v1::operator::GetExecutors {
    let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut executors: Vec<v1::operator::Executor> = Vec::new();
    for t in m.tasks() {
        if t.executor_id.as_str() == t.task_id.as_str()
            || !seen.insert((t.agent_id.as_str(), t.executor_id.as_str()))
        {
            continue;
        }
        executors.push(v1::operator::Executor {
            executor_info: convert::executor_info(
                v1::ExecutorType::Custom,
                t.executor_id,
                t.framework_id,
            ),
            agent_id: v1::AgentId::new(t.agent_id.as_str()),
        });
    }
    v1::operator::GetExecutors {
        executors,
        orphan_executors: Vec::new(),
    }
}

/// GET_STATE as an owned `v1` message; see [`get_tasks`] for how the API answers it.
pub fn get_state(m: &Master) -> v1::operator::GetState {
    v1::operator::GetState {
        get_tasks: Some(get_tasks(m)),
        get_executors: Some(get_executors(m)),
        get_frameworks: Some(get_frameworks(m)),
        get_agents: Some(get_agents(m)),
    }
}

/// Roles with frameworks subscribed to them or a weight in the registry, with what is
/// allocated to them (live tasks and outstanding offers).
pub fn get_roles(m: &Master) -> v1::operator::GetRoles {
    let mut roles: BTreeMap<String, (Vec<v1::FrameworkId>, Resources)> = BTreeMap::new();
    for w in &m.registry().weights {
        roles.entry(w.role.as_str().to_string()).or_default();
    }
    for f in m.frameworks() {
        for role in f.spec.subscribed_roles() {
            let entry = roles.entry(role.as_str().to_string()).or_default();
            entry.0.push(v1::FrameworkId::new(f.id.as_str()));
        }
    }
    for t in m.tasks().filter(|t| !t.state.is_terminal()) {
        if let Some(entry) = roles.get_mut(t.role.as_str()) {
            let _ = entry.1.add_all(t.resources);
        }
    }
    for o in m.offers() {
        if let Some(entry) = roles.get_mut(o.role.as_str()) {
            let _ = entry.1.add_all(&o.resources);
        }
    }
    v1::operator::GetRoles {
        roles: roles
            .into_iter()
            .map(|(name, (frameworks, resources))| {
                let role = mesolite_core::ids::Role::new(name.clone());
                v1::operator::Role {
                    weight: m.role_weight(&role),
                    resources: resources_to_v1(&resources, Some(&name)),
                    name,
                    frameworks,
                }
            })
            .collect(),
    }
}

/// The weights set in the registry by UPDATE_WEIGHTS (roles not listed weigh 1.0).
pub fn get_weights(m: &Master) -> v1::operator::GetWeights {
    v1::operator::GetWeights {
        weight_infos: m
            .registry()
            .weights
            .iter()
            .map(|w| v1::operator::WeightInfo {
                weight: w.weight_milli as f64 / 1000.0,
                role: Some(w.role.as_str().to_string()),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_roles_shape_follows_the_proto() {
        // include/mesos/v1/master/master.proto: Response.GetRoles { repeated Role roles = 1; }
        // include/mesos/v1/mesos.proto: Role { required string name = 1; required double weight = 2;
        //   repeated FrameworkID frameworks = 3; repeated Resource resources = 4; }
        let roles = v1::operator::GetRoles {
            roles: vec![v1::operator::Role {
                name: "dev".into(),
                weight: 1.0,
                frameworks: vec![v1::FrameworkId::new("F1")],
                resources: resources_to_v1(&Resources::parse("cpus:1").unwrap(), Some("dev")),
            }],
        };
        let json = to_ascii_json(&v1::operator::Response::roles(roles));
        assert_eq!(
            json,
            r#"{"type":"GET_ROLES","get_roles":{"roles":[{"name":"dev","weight":1.0,"frameworks":[{"value":"F1"}],"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1.0},"role":"*","allocation_info":{"role":"dev"}}]}]}}"#
        );
    }

    #[test]
    fn get_weights_and_logging_level_shapes_follow_the_proto() {
        // include/mesos/v1/master/master.proto: Response.GetWeights { repeated WeightInfo weight_infos = 1; }
        // include/mesos/v1/mesos.proto: WeightInfo { required double weight = 1; optional string role = 2; }
        let w = v1::operator::GetWeights {
            weight_infos: vec![v1::operator::WeightInfo {
                weight: 2.5,
                role: Some("prod".into()),
            }],
        };
        assert_eq!(
            to_ascii_json(&v1::operator::Response::weights(w)),
            r#"{"type":"GET_WEIGHTS","get_weights":{"weight_infos":[{"weight":2.5,"role":"prod"}]}}"#
        );
        // An empty list is an empty message, as protobuf's JSON mapping writes it.
        assert_eq!(
            to_ascii_json(&v1::operator::Response::weights(Default::default())),
            r#"{"type":"GET_WEIGHTS","get_weights":{}}"#
        );
        // include/mesos/v1/master/master.proto: Response.GetLoggingLevel { required uint32 level = 1; }
        assert_eq!(
            to_ascii_json(&v1::operator::Response::logging_level(0)),
            r#"{"type":"GET_LOGGING_LEVEL","get_logging_level":{"level":0}}"#
        );
    }

    #[test]
    fn mark_agent_gone_call_is_parsed() {
        // include/mesos/v1/master/master.proto: Call.MarkAgentGone { required AgentID agent_id = 1; }
        let c: v1::operator::Call = v1::from_json(
            br#"{"type":"MARK_AGENT_GONE","mark_agent_gone":{"agent_id":{"value":"S1"}}}"#,
        )
        .unwrap();
        assert_eq!(c.kind, Some(v1::operator::CallType::MarkAgentGone));
        assert_eq!(c.mark_agent_gone.unwrap().agent_id.value, "S1");
    }
}
