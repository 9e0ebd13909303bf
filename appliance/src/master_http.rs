//! The master's HTTP endpoints: the v1 scheduler API (`/api/v1/scheduler`), the v1 operator API
//! (`/api/v1`), and `/version`, `/health`, `/state`, `/master/redirect`. In `standalone` the agent's
//! endpoints are served from the same port.

use crate::convert::{self, resources_to_v1};
use crate::http::{self, Body, Handler};
use crate::master_driver::{log, MasterDriver};
use crate::v1::{self, from_json, to_ascii_json, WireEnum};
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use mesolite_core::ids::FrameworkId;
use mesolite_core::master::{CallError, Master, Phase, SubscribeError, TaskView};
use mesolite_core::time::WallTime;
use smol::stream::StreamExt;
use std::rc::Rc;

/// The master's request handler; `agent` serves agent paths in `standalone`.
pub fn handler(d: Rc<MasterDriver>, agent: Option<Handler>) -> Handler {
    Rc::new(move |req| {
        let d = d.clone();
        let agent = agent.clone();
        Box::pin(async move { route(d, agent, req).await })
    })
}

async fn route(
    d: Rc<MasterDriver>,
    agent: Option<Handler>,
    req: Request<Incoming>,
) -> Response<Body> {
    let path = req.uri().path().to_string();
    let path = path
        .strip_prefix("/master")
        .filter(|p| p.starts_with('/'))
        .unwrap_or(&path);
    match (req.method(), path) {
        (_, "/api/v1/scheduler") => scheduler(d, req).await,
        (_, "/api/v1" | "/api/v1/operator") => operator(d, req).await,
        (&Method::GET, "/version") => http::json(StatusCode::OK, version_json()),
        (&Method::GET, "/health") => http::empty(StatusCode::OK),
        (&Method::GET, "/state" | "/state.json") => {
            http::json(StatusCode::OK, legacy_state(&d.master.borrow()))
        }
        (&Method::GET, "/redirect") => {
            let m = d.master.borrow();
            let mut resp = http::empty(StatusCode::TEMPORARY_REDIRECT);
            let loc = format!("//{}:{}", m.config().hostname, m.config().port);
            if let Ok(v) = hyper::header::HeaderValue::from_str(&loc) {
                resp.headers_mut().insert(hyper::header::LOCATION, v);
            }
            resp
        }
        (_, p) if p.starts_with("/mesos.internal.") => {
            let from = req
                .headers()
                .get("Libprocess-From")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("an unknown sender")
                .to_string();
            log(&format!("refusing libprocess message {p} from {from}: mesolite speaks the v1 HTTP APIs only"));
            http::error(
                StatusCode::NOT_IMPLEMENTED,
                "mesolite does not speak the libprocess driver protocol; use the v1 HTTP scheduler API",
            )
        }
        _ => match agent {
            Some(agent) => agent(req).await,
            None => http::error(StatusCode::NOT_FOUND, format!("no such endpoint: {path}")),
        },
    }
}

pub fn version_json() -> String {
    format!(
        "{{\"version\":\"{}\",\"mesolite_version\":\"{}\",\"build_user\":\"mesolite\"}}",
        mesolite_core::master::MESOS_VERSION,
        env!("CARGO_PKG_VERSION")
    )
}

fn now(d: &MasterDriver) -> (mesolite_core::time::Instant, WallTime) {
    (d.clock.now(), d.clock.wall())
}

async fn scheduler(d: Rc<MasterDriver>, req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = match http::read_body(req).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    if let Err(resp) = http::check_v1_request(&parts) {
        return resp;
    }
    let call: v1::scheduler::Call = match from_json(&body) {
        Ok(c) => c,
        Err(e) => {
            return http::error(
                StatusCode::BAD_REQUEST,
                format!("Failed to parse body into Call: {e}"),
            )
        }
    };
    let stream_token = parts
        .headers
        .get("Mesos-Stream-Id")
        .and_then(|v| v.to_str().ok());
    if call.kind == Some(v1::scheduler::CallType::Subscribe) {
        if stream_token.is_some() {
            return http::error(
                StatusCode::BAD_REQUEST,
                "Expecting 'Mesos-Stream-Id' header to be absent on SUBSCRIBE",
            );
        }
        return subscribe(&d, &call);
    }
    let Some(framework_id) = call.framework_id.as_ref() else {
        return http::error(
            StatusCode::BAD_REQUEST,
            "Missing required fields: framework_id",
        );
    };
    let framework_id = FrameworkId::new(framework_id.value.clone());
    let core_call = match convert::scheduler_call_from_v1(&call) {
        Ok(Some(c)) => c,
        Ok(None) => return http::empty(StatusCode::ACCEPTED),
        Err(e @ convert::CallInputError::Unsupported(_)) => {
            return http::error(StatusCode::NOT_IMPLEMENTED, e.to_string())
        }
        Err(e) => return http::error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let (now, wall) = now(&d);
    let result = d.master.borrow_mut().handle_scheduler_call(
        now,
        wall,
        &framework_id,
        stream_token,
        core_call,
    );
    d.drain();
    match result {
        Ok(()) => http::empty(StatusCode::ACCEPTED),
        Err(e @ CallError::NotReady) => http::error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(e @ CallError::NotSubscribed) => http::error(StatusCode::FORBIDDEN, e.to_string()),
        Err(e) => http::error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

fn subscribe(d: &Rc<MasterDriver>, call: &v1::scheduler::Call) -> Response<Body> {
    let Some(sub) = call.subscribe.as_ref() else {
        return http::error(
            StatusCode::BAD_REQUEST,
            "Missing required fields: subscribe",
        );
    };
    let spec = match convert::framework_from_v1(&sub.framework_info) {
        Ok(s) => s,
        Err(e) => return http::error(StatusCode::BAD_REQUEST, e),
    };
    if let (Some(a), Some(b)) = (&call.framework_id, &sub.framework_info.id) {
        if a.value != b.value {
            return http::error(
                StatusCode::BAD_REQUEST,
                "'framework_id' differs from 'subscribe.framework_info.id'",
            );
        }
    }
    let (stream, rx, guard) = d.open_stream();
    let (now, wall) = now(d);
    let result = d
        .master
        .borrow_mut()
        .handle_subscribe(now, wall, stream, spec);
    match result {
        Ok(sub) => {
            d.drain();
            // The guard lives as long as the response body: dropping it reports the stream closed.
            let rx = rx.map(move |chunk: Bytes| {
                let _keep = &guard;
                chunk
            });
            http::stream(rx, Some(&sub.stream_token))
        }
        Err(e) => {
            drop(guard);
            let status = match e {
                SubscribeError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
                SubscribeError::TooManyFrameworks => StatusCode::SERVICE_UNAVAILABLE,
                SubscribeError::InvalidRole(_)
                | SubscribeError::RoleChanged { .. }
                | SubscribeError::Removed(_) => StatusCode::BAD_REQUEST,
            };
            http::error(status, e.to_string())
        }
    }
}

async fn operator(d: Rc<MasterDriver>, req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = match http::read_body(req).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    if let Err(resp) = http::check_v1_request(&parts) {
        return resp;
    }
    let call: v1::operator::Call = match from_json(&body) {
        Ok(c) => c,
        Err(e) => {
            return http::error(
                StatusCode::BAD_REQUEST,
                format!("Failed to parse body into Call: {e}"),
            )
        }
    };
    use v1::operator::{CallType as T, Response as R};
    let Some(kind) = call.kind else {
        return http::error(StatusCode::BAD_REQUEST, "Missing required fields: type");
    };
    let m = d.master.borrow();
    let needs_state = !matches!(kind, T::GetHealth | T::GetVersion);
    if needs_state && m.phase() != Phase::Leading {
        return http::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Master has not finished recovery",
        );
    }
    let resp = match kind {
        T::GetHealth => R::health(true),
        T::GetVersion => R::version(version_info()),
        T::GetState => R::state(get_state(&m)),
        T::GetAgents => R::agents(get_agents(&m)),
        T::GetFrameworks => R::frameworks(get_frameworks(&m)),
        T::GetTasks => R::tasks(get_tasks(&m)),
        T::GetExecutors => R::executors(get_executors(&m)),
        T::GetMaster => R::master(v1::operator::GetMaster {
            master_info: Some(convert::master_info(&m)),
            start_time: Some(m.start_time().as_secs_f64()),
            elected_time: m.elected_time().map(|t| t.as_secs_f64()),
        }),
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

pub fn version_info() -> v1::operator::VersionInfo {
    v1::operator::VersionInfo {
        version: mesolite_core::master::MESOS_VERSION.to_string(),
        build_date: None,
        build_time: None,
        build_user: Some("mesolite".into()),
        git_sha: None,
        git_branch: None,
        git_tag: Some(format!("mesolite-{}", env!("CARGO_PKG_VERSION"))),
    }
}

fn time_info(t: WallTime) -> v1::TimeInfo {
    v1::TimeInfo {
        nanoseconds: t.unix_nanos as i64,
    }
}

fn get_agents(m: &Master) -> v1::operator::GetAgents {
    v1::operator::GetAgents {
        agents: m
            .agents()
            .map(|a| v1::operator::Agent {
                agent_info: convert::agent_info_to_v1(a.info, Some(a.id)),
                active: a.active,
                version: a.info.version.clone(),
                pid: Some(format!("slave(1)@{}:{}", a.info.ip, a.info.port)),
                registered_time: Some(time_info(a.registered_time)),
                reregistered_time: a.reregistered_time.map(time_info),
                total_resources: resources_to_v1(&a.info.resources, None),
                allocated_resources: resources_to_v1(&a.allocated, None),
                offered_resources: resources_to_v1(&a.offered, None),
                capabilities: Vec::new(),
                resource_providers: Vec::new(),
            })
            .collect(),
        recovered_agents: m
            .recovered_agents()
            .map(|a| v1::AgentInfo {
                hostname: a.info.hostname.clone(),
                port: a.info.port as i32,
                resources: mesolite_core::resources::Resources::parse(&a.info.resources_text)
                    .map(|r| resources_to_v1(&r, None))
                    .unwrap_or_default(),
                attributes: Vec::new(),
                id: Some(v1::AgentId::new(a.id.as_str())),
                domain: None,
            })
            .collect(),
    }
}

fn get_frameworks(m: &Master) -> v1::operator::GetFrameworks {
    v1::operator::GetFrameworks {
        frameworks: m
            .frameworks()
            .map(|f| {
                let mut info = v1::FrameworkInfo::new(f.spec.user.clone(), f.spec.name.clone());
                info.id = Some(v1::FrameworkId::new(f.id.as_str()));
                info.failover_timeout = f.spec.failover_timeout.as_secs_f64();
                info.checkpoint = f.spec.checkpoint;
                info.role = Some(f.spec.role.as_str().to_string());
                info.hostname = f.spec.hostname.clone();
                info.principal = f.spec.principal.clone();
                let offers: Vec<v1::Offer> = m
                    .offers()
                    .filter(|o| &o.framework_id == f.id)
                    .map(|o| convert::offer_to_v1(m, o))
                    .collect();
                v1::operator::Framework {
                    framework_info: info,
                    active: f.active,
                    connected: f.connected,
                    recovered: f.recovered,
                    registered_time: f.registered_time.map(time_info),
                    reregistered_time: f.reregistered_time.map(time_info),
                    unregistered_time: None,
                    offers,
                    inverse_offers: Vec::new(),
                    allocated_resources: Vec::new(),
                    offered_resources: Vec::new(),
                }
            })
            .collect(),
        completed_frameworks: Vec::new(),
        recovered_frameworks: Vec::new(),
    }
}

fn task_to_v1(t: &TaskView<'_>) -> v1::Task {
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

fn get_tasks(m: &Master) -> v1::operator::GetTasks {
    v1::operator::GetTasks {
        pending_tasks: Vec::new(),
        tasks: m.tasks().map(|t| task_to_v1(&t)).collect(),
        unreachable_tasks: Vec::new(),
        completed_tasks: m.completed_tasks().map(|t| task_to_v1(&t)).collect(),
        orphan_tasks: Vec::new(),
    }
}

fn get_executors(m: &Master) -> v1::operator::GetExecutors {
    let mut executors: Vec<v1::operator::Executor> = Vec::new();
    for t in m.tasks() {
        // Command executors are implicit (Mesos lists only custom executors here).
        if t.executor_id.as_str() == t.task_id.as_str() {
            continue;
        }
        if executors.iter().any(|e| {
            e.executor_info.executor_id.value == t.executor_id.as_str()
                && e.agent_id.value == t.agent_id.as_str()
        }) {
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

fn get_state(m: &Master) -> v1::operator::GetState {
    v1::operator::GetState {
        get_tasks: Some(get_tasks(m)),
        get_executors: Some(get_executors(m)),
        get_frameworks: Some(get_frameworks(m)),
        get_agents: Some(get_agents(m)),
    }
}

/// The legacy `/state` shape (the fields tools most often read).
fn legacy_state(m: &Master) -> String {
    use serde_json::json;
    let agents: Vec<serde_json::Value> = m
        .agents()
        .map(|a| {
            json!({
                "id": a.id.as_str(),
                "hostname": a.info.hostname,
                "pid": format!("slave(1)@{}:{}", a.info.ip, a.info.port),
                "active": a.active,
                "resources": resources_json(&a.info.resources),
                "used_resources": resources_json(&a.allocated),
                "offered_resources": resources_json(&a.offered),
                "version": a.info.version,
            })
        })
        .collect();
    let frameworks: Vec<serde_json::Value> = m
        .frameworks()
        .map(|f| {
            let tasks: Vec<serde_json::Value> = m
                .tasks()
                .filter(|t| t.framework_id == f.id)
                .map(|t| json!({"id": t.task_id.as_str(), "name": t.name, "state": t.state.name(), "slave_id": t.agent_id.as_str(), "executor_id": if t.executor_id.as_str() == t.task_id.as_str() { "" } else { t.executor_id.as_str() }, "framework_id": f.id.as_str()}))
                .collect();
            json!({"id": f.id.as_str(), "name": f.spec.name, "user": f.spec.user, "role": f.spec.role.as_str(), "active": f.active, "connected": f.connected, "failover_timeout": f.spec.failover_timeout.as_secs_f64(), "checkpoint": f.spec.checkpoint, "tasks": tasks})
        })
        .collect();
    let cfg = m.config();
    let state = json!({
        "version": mesolite_core::master::MESOS_VERSION,
        "id": m.registry().cluster_id,
        "pid": format!("master@{}:{}", cfg.ip, cfg.port),
        "hostname": cfg.hostname,
        "leader": format!("master@{}:{}", cfg.ip, cfg.port),
        "start_time": m.start_time().as_secs_f64(),
        "activated_slaves": m.agents().filter(|a| a.active).count(),
        "deactivated_slaves": m.agents().filter(|a| !a.active).count(),
        "slaves": agents,
        "frameworks": frameworks,
    });
    to_ascii_json(&state)
}

/// Resources in the legacy `{"cpus":2.0,"mem":1024.0,"ports":"[31000-32000]"}` form.
fn resources_json(r: &mesolite_core::resources::Resources) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for res in r.iter() {
        let v = match &res.value {
            mesolite_core::resources::Value::Scalar(f) => serde_json::json!(f.as_f64()),
            other => serde_json::json!(other.to_string()),
        };
        map.insert(res.name.as_str().to_string(), v);
    }
    serde_json::Value::Object(map)
}
