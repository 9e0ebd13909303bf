//! The agent's v1 operator API (`POST /api/v1` on an agent, `/slave(1)/api/v1` everywhere):
//! GET_HEALTH, GET_FLAGS, GET_VERSION, GET_METRICS, GET_LOGGING_LEVEL, GET_STATE,
//! GET_CONTAINERS, GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS and GET_AGENT.

use super::flags::{self, FlagSet};
use super::{files, metrics, read_call, version};
use crate::agent_driver::AgentDriver;
use crate::convert::{self, resources_to_v1};
use crate::http::{self, Body};
use crate::v1::agent::{self as api, CallType as T};
use crate::v1::{self, to_ascii_json, WireEnum};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use mesolite_core::agent::{Agent, AgentTaskView, ExecutorState};
use mesolite_core::time::WallTime;
use std::rc::Rc;

/// What the agent's operator API needs beyond the driver: its process flags and start time.
#[derive(Debug)]
pub struct AgentProcess {
    pub flags: FlagSet,
    pub started: WallTime,
}

/// Answers one operator call on the agent.
pub async fn call(
    d: Rc<AgentDriver>,
    process: Rc<AgentProcess>,
    req: Request<Incoming>,
) -> Response<Body> {
    let call: api::Call = match read_call(req).await {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let Some(kind) = call.kind else {
        return http::error(
            StatusCode::BAD_REQUEST,
            "Expecting 'type' to be present and a known call type",
        );
    };
    let a = d.agent.borrow();
    let mut resp = api::Response::of(kind);
    match kind {
        T::GetHealth => resp.get_health = Some(v1::operator::GetHealth { healthy: true }),
        T::GetFlags => resp.get_flags = Some(flags::agent(a.config(), &process.flags).to_v1()),
        T::GetVersion => {
            resp.get_version = Some(v1::operator::GetVersion {
                version_info: version::version_info(),
            })
        }
        T::GetMetrics => {
            resp.get_metrics = Some(metrics::agent(&a, process.started, d.clock.wall()).to_v1())
        }
        T::GetLoggingLevel => {
            resp.get_logging_level = Some(v1::operator::GetLoggingLevel { level: 0 })
        }
        T::GetState => resp.get_state = Some(get_state(&a)),
        T::GetContainers => resp.get_containers = Some(get_containers(&d, &a)),
        T::GetFrameworks => resp.get_frameworks = Some(get_frameworks(&a)),
        T::GetExecutors => resp.get_executors = Some(get_executors(&a)),
        T::GetTasks => resp.get_tasks = Some(get_tasks(&a)),
        T::GetAgent => {
            resp.get_agent = Some(api::GetAgent {
                agent_info: Some(convert::agent_info_to_v1(a.info(), a.id())),
            })
        }
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
    }
    http::json(StatusCode::OK, to_ascii_json(&resp))
}

fn task_to_v1(a: &Agent, t: &AgentTaskView<'_>) -> v1::Task {
    v1::Task {
        name: t.spec.name.clone(),
        task_id: v1::TaskId::new(t.spec.task_id.as_str()),
        framework_id: v1::FrameworkId::new(t.framework_id.as_str()),
        executor_id: (t.executor_id.as_str() != t.spec.task_id.as_str())
            .then(|| v1::ExecutorId::new(t.executor_id.as_str())),
        agent_id: v1::AgentId::new(a.id().map(|i| i.as_str()).unwrap_or("")),
        state: t.state,
        resources: resources_to_v1(&t.spec.resources, None),
        statuses: Vec::new(),
        status_update_state: None,
        status_update_uuid: None,
        labels: None,
        discovery: None,
        container: None,
        health_check: None,
        user: None,
    }
}

/// `GetTasks`: queued (waiting for the executor), launched (live) and terminated (terminal,
/// updates not yet acknowledged).
pub fn get_tasks(a: &Agent) -> api::GetTasks {
    let mut out = api::GetTasks::default();
    for t in a.agent_tasks() {
        let task = task_to_v1(a, &t);
        if t.queued {
            out.queued_tasks.push(task);
        } else if t.state.is_terminal() {
            out.terminated_tasks.push(task);
        } else {
            out.launched_tasks.push(task);
        }
    }
    out
}

pub fn get_frameworks(a: &Agent) -> api::GetFrameworks {
    api::GetFrameworks {
        frameworks: a
            .frameworks()
            .map(|f| {
                let mut info = convert::framework_record_to_v1(f);
                info.role = Some(f.role.as_str().to_string());
                api::Framework {
                    framework_info: info,
                }
            })
            .collect(),
        completed_frameworks: Vec::new(),
    }
}

/// `GetExecutors`: executors not yet terminated; terminated ones waiting for acknowledgements
/// are `completed_executors`.
pub fn get_executors(a: &Agent) -> api::GetExecutors {
    let mut out = api::GetExecutors::default();
    for e in a.executor_details() {
        let kind = if e.command_executor {
            v1::ExecutorType::Default
        } else {
            v1::ExecutorType::Custom
        };
        let mut info = convert::executor_info(kind, e.executor_id, e.framework_id);
        if let Some(spec) = e.spec {
            info.name = (!spec.name.is_empty()).then(|| spec.name.clone());
            info.resources = resources_to_v1(&spec.resources, None);
            info.command = spec.command.as_ref().map(convert::command_to_v1);
            info.data = spec.data.as_ref().map(|d| v1::Bytes(d.clone()));
        }
        let executor = api::Executor {
            executor_info: info,
        };
        if e.state == ExecutorState::Terminated {
            out.completed_executors.push(executor);
        } else {
            out.executors.push(executor);
        }
    }
    out
}

pub fn get_state(a: &Agent) -> api::GetState {
    api::GetState {
        get_tasks: Some(get_tasks(a)),
        get_executors: Some(get_executors(a)),
        get_frameworks: Some(get_frameworks(a)),
    }
}

/// `GetContainers`: one container per executor not yet terminated, with its executor's pid
/// and usage when the process runs.
pub fn get_containers(d: &AgentDriver, a: &Agent) -> api::GetContainers {
    let mut out = api::GetContainers::default();
    for e in a.executor_details() {
        if e.state == ExecutorState::Terminated {
            continue;
        }
        let mut resources = mesolite_core::resources::Resources::new();
        for t in a
            .agent_tasks()
            .filter(|t| t.executor_id == e.executor_id && t.framework_id == e.framework_id)
            .filter(|t| !t.state.is_terminal())
        {
            let _ = resources.add_all(&t.spec.resources);
        }
        let container_id = v1::ContainerId::new(e.container_id.as_str());
        let pid = d
            .container_pid(e.container_id)
            .map(|p| p.as_raw_nonzero().get() as u32);
        out.containers.push(api::Container {
            framework_id: Some(v1::FrameworkId::new(e.framework_id.as_str())),
            executor_id: Some(v1::ExecutorId::new(e.executor_id.as_str())),
            executor_name: e.spec.map(|s| s.name.clone()).filter(|n| !n.is_empty()),
            container_id: container_id.clone(),
            container_status: Some(api::ContainerStatus {
                container_id: Some(container_id),
                executor_pid: pid,
            }),
            resource_statistics: files::container_statistics(d, e.container_id, &resources),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_responses_follow_the_proto() {
        // include/mesos/v1/agent/agent.proto: Response.GetAgent { optional AgentInfo agent_info = 1; }
        let mut r = api::Response::of(T::GetAgent);
        r.get_agent = Some(api::GetAgent {
            agent_info: Some(v1::AgentInfo {
                hostname: "h".into(),
                port: 5051,
                resources: Vec::new(),
                attributes: Vec::new(),
                id: Some(v1::AgentId::new("S0")),
                domain: None,
            }),
        });
        assert_eq!(
            to_ascii_json(&r),
            r#"{"type":"GET_AGENT","get_agent":{"agent_info":{"hostname":"h","port":5051,"id":{"value":"S0"}}}}"#
        );
        // include/mesos/v1/agent/agent.proto: Response.GetContainers { repeated Container containers = 1; }
        // Container { optional FrameworkID framework_id = 1; optional ExecutorID executor_id = 2;
        //   optional string executor_name = 3; required ContainerID container_id = 4;
        //   optional ContainerStatus container_status = 5; optional ResourceStatistics resource_statistics = 6; }
        let mut r = api::Response::of(T::GetContainers);
        r.get_containers = Some(api::GetContainers {
            containers: vec![api::Container {
                framework_id: Some(v1::FrameworkId::new("F")),
                executor_id: Some(v1::ExecutorId::new("E")),
                executor_name: None,
                container_id: v1::ContainerId::new("C"),
                container_status: Some(api::ContainerStatus {
                    container_id: Some(v1::ContainerId::new("C")),
                    executor_pid: Some(42),
                }),
                resource_statistics: Some(api::ResourceStatistics {
                    timestamp: 1.5,
                    cpus_user_time_secs: Some(0.25),
                    ..Default::default()
                }),
            }],
        });
        assert_eq!(
            to_ascii_json(&r),
            r#"{"type":"GET_CONTAINERS","get_containers":{"containers":[{"framework_id":{"value":"F"},"executor_id":{"value":"E"},"container_id":{"value":"C"},"container_status":{"container_id":{"value":"C"},"executor_pid":42},"resource_statistics":{"timestamp":1.5,"cpus_user_time_secs":0.25}}]}}"#
        );
        // include/mesos/v1/agent/agent.proto: Response.GetState { optional GetTasks get_tasks = 1;
        //   optional GetExecutors get_executors = 2; optional GetFrameworks get_frameworks = 3; }
        let mut r = api::Response::of(T::GetState);
        r.get_state = Some(api::GetState {
            get_tasks: Some(Default::default()),
            get_executors: Some(Default::default()),
            get_frameworks: Some(Default::default()),
        });
        assert_eq!(
            to_ascii_json(&r),
            r#"{"type":"GET_STATE","get_state":{"get_tasks":{},"get_executors":{},"get_frameworks":{}}}"#
        );
    }

    #[test]
    fn agent_calls_parse_strictly() {
        let c: api::Call = v1::from_json(br#"{"type":"GET_CONTAINERS"}"#).unwrap();
        assert_eq!(c.kind, Some(T::GetContainers));
        // An unknown enum name reads as unset (protobuf's rule); the handler answers 400.
        let c: api::Call = v1::from_json(br#"{"type":"GET_NOTHING"}"#).unwrap();
        assert_eq!(c.kind, None);
        assert!(v1::from_json::<api::Call>(br#"{"type":7}"#).is_err());
    }
}
