//! Conversions between the Mesos v1 JSON types and core's types, and the event records
//! (RecordIO-framed ASCII JSON) the drivers put on streams. Validation of input from the network
//! happens here: every failure is a one-line reason for a 400.

use crate::v1::{self, to_ascii_json, Bytes as B64};
use bytes::Bytes;
use mesolite_core::agent::{Agent, ExecutorEvent};
use mesolite_core::attributes::{Attribute, AttributeScalar, AttributeValue};
use mesolite_core::ids::{self as ids, validate_id};
use mesolite_core::master::{
    FrameworkCapabilities, FrameworkSpec, GroupLaunch, Master, OfferRecord, Operation,
    SchedulerCall, SchedulerEvent, TaskLaunch,
};
use mesolite_core::resources::operations::ResourceOperation;
use mesolite_core::resources::{Range, RangeSet, RangeSetError, Resources, MAX_RANGES};
use mesolite_core::time::{Duration, WallTime};
use mesolite_core::wire::{self, CommandSpec, ExecutorSpec, StatusReason, StatusSource, TaskSpec};

mod scheduler_calls;
pub use scheduler_calls::{
    framework_from_v1, operation_resources, scheduler_call_from_v1, CallInputError,
};

/// One RecordIO record: `<length>\n<json>`.
pub fn record(json: String) -> Bytes {
    Bytes::from(v1::recordio::encode(json.as_bytes()))
}

// ---------------------------------------------------------------- resources

/// Core resources as v1 `Resource`s in the pre-refinement format every 1.x client reads
/// (`role` plus at most one `reservation`), with `allocation_info` when `role` is given.
pub fn resources_to_v1(r: &Resources, role: Option<&str>) -> Vec<v1::Resource> {
    let mut out = v1::resources_to_v1(r);
    for res in &mut out {
        v1::resources::downgrade_to_pre_refinement(res);
        if let Some(role) = role {
            res.allocation_info = Some(v1::AllocationInfo {
                role: Some(role.to_string()),
            });
        }
    }
    out
}

/// v1 `Resource`s from the network as core resources; `allocation_info` is dropped (the offer's
/// role decides which role a launch consumes).
pub fn resources_from_v1(list: &[v1::Resource]) -> Result<Resources, String> {
    let stripped: Vec<v1::Resource> = list
        .iter()
        .cloned()
        .map(|mut r| {
            r.allocation_info = None;
            r
        })
        .collect();
    v1::resources_from_v1(&stripped).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------- statuses

fn source_to_v1(s: StatusSource) -> v1::StatusSource {
    match s {
        StatusSource::Master => v1::StatusSource::Master,
        StatusSource::Agent => v1::StatusSource::Agent,
        StatusSource::Executor => v1::StatusSource::Executor,
    }
}

fn reason_to_v1(r: StatusReason) -> v1::StatusReason {
    use v1::StatusReason as V;
    match r {
        StatusReason::CommandExecutorFailed => V::CommandExecutorFailed,
        StatusReason::ExecutorTerminated => V::ExecutorTerminated,
        StatusReason::InvalidOffers => V::InvalidOffers,
        StatusReason::TaskInvalid => V::TaskInvalid,
        StatusReason::TaskKilledDuringLaunch => V::TaskKilledDuringLaunch,
        StatusReason::AgentRemoved => V::AgentRemoved,
        StatusReason::AgentDisconnected => V::AgentDisconnected,
        StatusReason::AgentUnknown => V::AgentUnknown,
        StatusReason::Reconciliation => V::Reconciliation,
        StatusReason::FrameworkRemoved => V::FrameworkRemoved,
        StatusReason::ContainerLaunchFailed => V::ContainerLaunchFailed,
        StatusReason::ExecutorRegistrationTimeout => V::ExecutorRegistrationTimeout,
        StatusReason::TaskGroupInvalid => V::TaskGroupInvalid,
        StatusReason::AgentRemovedByOperator => V::AgentRemovedByOperator,
        StatusReason::ExecutorReregistrationTimeout => V::ExecutorReregistrationTimeout,
        StatusReason::AgentRestarted => V::AgentRestarted,
        StatusReason::AgentReregistered => V::AgentReregistered,
    }
}

pub fn status_to_v1(s: &wire::TaskStatus) -> v1::TaskStatus {
    let mut out = v1::TaskStatus::new(v1::TaskId::new(s.task_id.as_str()), s.state);
    out.message = s.message.clone();
    out.source = Some(source_to_v1(s.source));
    out.reason = s.reason.map(reason_to_v1);
    out.data = (!s.data.is_empty()).then(|| B64(s.data.clone()));
    out.agent_id = s.agent_id.as_ref().map(|a| v1::AgentId::new(a.as_str()));
    out.executor_id = s
        .executor_id
        .as_ref()
        .map(|e| v1::ExecutorId::new(e.as_str()));
    out.timestamp = Some(s.timestamp.as_secs_f64());
    out.uuid = s.uuid.map(|u| B64(u.to_vec()));
    out.unreachable_time = s.unreachable_time.map(|t| v1::TimeInfo {
        nanoseconds: t.unix_nanos as i64,
    });
    out
}

fn uuid16(b: &B64, what: &str) -> Result<[u8; 16], String> {
    b.0.as_slice()
        .try_into()
        .map_err(|_| format!("{what} must be 16 bytes, got {}", b.0.len()))
}

/// A status from an executor's UPDATE call.
pub fn status_from_v1(s: &v1::TaskStatus, wall: WallTime) -> Result<wire::TaskStatus, String> {
    validate_id("task_id", &s.task_id.value).map_err(|e| e.to_string())?;
    let uuid = match &s.uuid {
        Some(u) => Some(uuid16(u, "status.uuid")?),
        None => None,
    };
    let timestamp = match s.timestamp {
        Some(t) if t.is_finite() && t > 0.0 => WallTime {
            unix_nanos: (t * 1e9) as u64,
        },
        _ => wall,
    };
    Ok(wire::TaskStatus {
        task_id: ids::TaskId::new(s.task_id.value.clone()),
        state: s.state,
        message: s.message.clone(),
        source: StatusSource::Executor,
        reason: None,
        agent_id: None,
        executor_id: None,
        timestamp,
        uuid,
        data: s.data.as_ref().map(|d| d.0.clone()).unwrap_or_default(),
        unreachable_time: None,
    })
}

// ---------------------------------------------------------------- commands and tasks

/// A `CommandInfo` as core's command, or the reason it cannot run, naming the field under
/// `prefix` (`command` or `executor.command`).
fn command_from_v1(c: &v1::CommandInfo, prefix: &str) -> Result<CommandSpec, String> {
    if !c.uris.is_empty() {
        return Err(unsupported(&format!("{prefix}.uris"), "the fetcher"));
    }
    if c.user.is_some() {
        return Err(unsupported(
            &format!("{prefix}.user"),
            "running as another user",
        ));
    }
    let value = c.value.clone().unwrap_or_default();
    if value.is_empty() {
        return Err(format!("{prefix}.value is required"));
    }
    let mut environment = Vec::new();
    if let Some(env) = &c.environment {
        for v in &env.variables {
            match v.kind {
                v1::EnvVariableType::Secret => {
                    return Err(unsupported(
                        &format!("{prefix}.environment.variables '{}'", v.name),
                        "secrets",
                    ))
                }
                _ => environment.push((v.name.clone(), v.value.clone().unwrap_or_default())),
            }
        }
    }
    Ok(CommandSpec {
        shell: c.shell,
        value,
        arguments: c.arguments.clone(),
        environment,
        user: None,
    })
}

/// The one-line reason for a field mesolite does not implement.
fn unsupported(field: &str, what: &str) -> String {
    format!("{field} ({what}) is not supported by mesolite yet")
}

/// The first field of a `ContainerInfo` that asks for something mesolite does not do. A plain
/// `MESOS` container without an image or volumes is what mesolite runs anyway.
fn container_unsupported(c: &v1::task::ContainerInfo, prefix: &str) -> Option<String> {
    for (key, value) in c.0.iter() {
        let empty = value.is_null()
            || value.as_array().is_some_and(|a| a.is_empty())
            || value.as_object().is_some_and(|o| o.is_empty());
        let fine = match key.as_str() {
            "type" => value.as_str().is_none_or(|t| t == "MESOS"),
            "mesos" => value
                .as_object()
                .is_none_or(|m| m.get("image").is_none_or(|i| i.is_null())),
            _ => empty,
        };
        if !fine {
            let field = match key.as_str() {
                "type" => format!("{prefix}.type {value}"),
                "mesos" => format!("{prefix}.mesos.image"),
                other => format!("{prefix}.{other}"),
            };
            return Some(unsupported(&field, "containers"));
        }
    }
    None
}

/// Resources from a task or executor, refusing GPUs by name.
fn task_resources(list: &[v1::Resource], prefix: &str) -> Result<Resources, String> {
    if list.iter().any(|r| r.name == "gpus") {
        return Err(unsupported(&format!("{prefix} 'gpus'"), "GPUs"));
    }
    resources_from_v1(list).map_err(|e| format!("{prefix}: {e}"))
}

pub fn command_to_v1(c: &CommandSpec) -> v1::CommandInfo {
    let mut out = v1::CommandInfo::shell(c.value.clone());
    out.shell = c.shell;
    out.arguments = c.arguments.clone();
    out.user = c.user.clone();
    if !c.environment.is_empty() {
        out.environment = Some(v1::Environment {
            variables: c
                .environment
                .iter()
                .map(|(k, v)| v1::EnvVariable {
                    name: k.clone(),
                    kind: v1::EnvVariableType::Value,
                    value: Some(v.clone()),
                    secret: None,
                })
                .collect(),
        });
    }
    out
}

fn grace_from_v1(k: &Option<v1::KillPolicy>) -> Option<Duration> {
    k.as_ref()
        .and_then(|k| k.grace_period)
        .map(|g| Duration::from_millis((g.nanoseconds.max(0) / 1_000_000) as u64))
}

/// A `TaskInfo` of a LAUNCH as core's launch. Problems with one task never fail the call: they
/// go into `invalid`, and the master answers that task with `TASK_ERROR` (`REASON_TASK_INVALID`).
fn task_from_v1(t: &v1::TaskInfo) -> TaskLaunch {
    let mut launch = TaskLaunch {
        task_id: ids::TaskId::new(t.task_id.value.clone()),
        name: t.name.clone(),
        agent_id: ids::AgentId::new(t.agent_id.value.clone()),
        resources: Resources::new(),
        command: None,
        executor: None,
        kill_grace: grace_from_v1(&t.kill_policy),
        data: t.data.as_ref().map(|d| d.0.clone()).unwrap_or_default(),
        invalid: None,
    };
    if let Err(why) = fill_task(t, &mut launch) {
        launch.invalid = Some(format!("task '{}': {why}", t.task_id.value));
    }
    launch
}

fn fill_task(t: &v1::TaskInfo, launch: &mut TaskLaunch) -> Result<(), String> {
    validate_id("task_id.value", &t.task_id.value).map_err(|e| e.to_string())?;
    if let Some(c) = &t.container {
        if let Some(why) = container_unsupported(c, "container") {
            return Err(why);
        }
    }
    if t.health_check.is_some() {
        return Err(unsupported("health_check", "health checks"));
    }
    if t.check.is_some() {
        return Err(unsupported("check", "checks"));
    }
    if t.max_completion_time.is_some() {
        return Err(unsupported("max_completion_time", "task deadlines"));
    }
    launch.resources = task_resources(&t.resources, "resources")?;
    launch.command = t
        .command
        .as_ref()
        .map(|c| command_from_v1(c, "command"))
        .transpose()?;
    if let Some(e) = &t.executor {
        validate_id("executor.executor_id.value", &e.executor_id.value)
            .map_err(|e| e.to_string())?;
        if let Some(c) = &e.container {
            if let Some(why) = container_unsupported(c, "executor.container") {
                return Err(why);
            }
        }
        let cmd = e
            .command
            .as_ref()
            .ok_or_else(|| String::from("executor.command is required"))?;
        launch.executor = Some(ExecutorSpec {
            executor_id: ids::ExecutorId::new(e.executor_id.value.clone()),
            name: e.name.clone().unwrap_or_default(),
            command: Some(command_from_v1(cmd, "executor.command")?),
            resources: task_resources(&e.resources, "executor.resources")?,
            data: e.data.as_ref().map(|d| d.0.clone()),
        });
    }
    Ok(())
}

/// A LAUNCH_GROUP operation as core's group launch. As for LAUNCH, problems never fail the
/// call: a bad executor goes into the group's `invalid`, a bad task into its own, and the master
/// then fails every task of the group with `TASK_ERROR` (`REASON_TASK_GROUP_INVALID`).
fn group_from_v1(g: &v1::LaunchGroup) -> GroupLaunch {
    let e = &g.executor;
    let mut group = GroupLaunch {
        executor_id: ids::ExecutorId::new(e.executor_id.value.clone()),
        executor_name: e.name.clone().unwrap_or_default(),
        executor_resources: Resources::new(),
        tasks: g.task_group.tasks.iter().map(task_from_v1).collect(),
        invalid: None,
    };
    let checked = (|| -> Result<Resources, String> {
        validate_id("executor.executor_id.value", &e.executor_id.value)
            .map_err(|e| e.to_string())?;
        match e.kind {
            Some(v1::ExecutorType::Default) => {}
            Some(other) => {
                return Err(format!(
                    "executor.type must be DEFAULT for LAUNCH_GROUP, not {}",
                    v1::WireEnum::wire_name(other)
                ))
            }
            None => {
                return Err(String::from(
                    "executor.type must be set (DEFAULT) for LAUNCH_GROUP",
                ))
            }
        }
        if e.command.is_some() {
            return Err(String::from(
                "'ExecutorInfo.command' must not be set for 'DEFAULT' executor",
            ));
        }
        if let Some(c) = &e.container {
            if let Some(why) = container_unsupported(c, "executor.container") {
                return Err(why);
            }
        }
        task_resources(&e.resources, "executor.resources")
    })();
    match checked {
        Ok(resources) => group.executor_resources = resources,
        Err(why) => group.invalid = Some(why),
    }
    group
}

/// The `TaskInfo` an executor receives in LAUNCH.
pub fn task_to_v1(t: &TaskSpec, agent_id: Option<&ids::AgentId>) -> v1::TaskInfo {
    v1::TaskInfo {
        name: t.name.clone(),
        task_id: v1::TaskId::new(t.task_id.as_str()),
        agent_id: v1::AgentId::new(agent_id.map(|a| a.as_str()).unwrap_or("")),
        resources: resources_to_v1(&t.resources, None),
        executor: None,
        command: t.command.as_ref().map(command_to_v1),
        container: None,
        health_check: None,
        check: None,
        kill_policy: t.kill_grace.map(|g| v1::KillPolicy {
            grace_period: Some(v1::DurationInfo {
                nanoseconds: g.as_millis() as i64 * 1_000_000,
            }),
        }),
        data: (!t.data.is_empty()).then(|| B64(t.data.clone())),
        labels: None,
        discovery: None,
        max_completion_time: None,
    }
}

// ---------------------------------------------------------------- scheduler events

pub fn master_info(m: &Master) -> v1::MasterInfo {
    let cfg = m.config();
    let ip: Option<std::net::Ipv4Addr> = cfg.ip.parse().ok();
    v1::MasterInfo {
        id: m.registry().cluster_id.clone(),
        ip: ip.map(v1::MasterInfo::pack_ip).unwrap_or(0),
        port: cfg.port as u32,
        pid: Some(format!("master@{}:{}", cfg.ip, cfg.port)),
        hostname: Some(cfg.hostname.clone()),
        version: Some(mesolite_core::master::MESOS_VERSION.to_string()),
        address: Some(v1::Address {
            hostname: Some(cfg.hostname.clone()),
            ip: Some(cfg.ip.clone()),
            port: cfg.port as i32,
        }),
        domain: None,
        capabilities: Vec::new(),
    }
}

// ---------------------------------------------------------------- attributes and domain

/// Core attributes as v1 `Attribute`s: `SCALAR` with `scalar.value`, `RANGES` with
/// `ranges.range[]`, `TEXT` with `text.value`.
pub fn attributes_to_v1(attrs: &[Attribute]) -> Vec<v1::Attribute> {
    attrs.iter().map(attribute_to_v1).collect()
}

fn attribute_to_v1(a: &Attribute) -> v1::Attribute {
    let mut out = v1::Attribute {
        name: a.name.clone(),
        kind: v1::ValueType::Text,
        scalar: None,
        ranges: None,
        set: None,
        text: None,
    };
    match &a.value {
        AttributeValue::Scalar(x) => {
            out.kind = v1::ValueType::Scalar;
            out.scalar = Some(v1::Scalar { value: x.as_f64() });
        }
        AttributeValue::Ranges(r) => {
            out.kind = v1::ValueType::Ranges;
            out.ranges = Some(v1::Ranges {
                range: r
                    .as_slice()
                    .iter()
                    .map(|r| v1::Range {
                        begin: r.begin,
                        end: r.end,
                    })
                    .collect(),
            });
        }
        AttributeValue::Text(t) => {
            out.text = Some(v1::Text { value: t.clone() });
        }
    }
    out
}

/// A v1 `Attribute` as a core attribute: the field its `type` names must be set; `SET`
/// attributes are refused as Mesos refuses them; names and text are checked as
/// `--attributes` checks them.
pub fn attribute_from_v1(a: &v1::Attribute) -> Result<Attribute, String> {
    let missing = |field: &str| {
        format!(
            "attribute '{}' of type {} has no '{field}'",
            a.name,
            v1::WireEnum::wire_name(a.kind)
        )
    };
    let value = match a.kind {
        v1::ValueType::Scalar => {
            let x = a.scalar.as_ref().ok_or_else(|| missing("scalar"))?.value;
            AttributeValue::Scalar(
                AttributeScalar::from_f64(x)
                    .ok_or_else(|| format!("attribute '{}' has a scalar out of range", a.name))?,
            )
        }
        v1::ValueType::Ranges => {
            let list = &a.ranges.as_ref().ok_or_else(|| missing("ranges"))?.range;
            let ranges: Vec<Range> = list.iter().map(|r| Range::new(r.begin, r.end)).collect();
            let set = RangeSet::from_ranges(&ranges).map_err(|e| match e {
                RangeSetError::Inverted(r) => {
                    format!(
                        "attribute '{}' has range {}-{} with begin > end",
                        a.name, r.begin, r.end
                    )
                }
                RangeSetError::CapacityExceeded => {
                    format!("attribute '{}' has more than {MAX_RANGES} ranges", a.name)
                }
            })?;
            AttributeValue::Ranges(set)
        }
        v1::ValueType::Text => AttributeValue::Text(
            a.text
                .as_ref()
                .ok_or_else(|| missing("text"))?
                .value
                .clone(),
        ),
        v1::ValueType::Set => {
            return Err(format!(
                "attribute '{}' is a SET, which attributes do not support",
                a.name
            ))
        }
    };
    Attribute::new(&a.name, value)
        .ok_or_else(|| format!("attribute '{}' has an invalid name or text value", a.name))
}

/// A core fault domain as v1 `DomainInfo`.
pub fn domain_to_v1(d: &wire::FaultDomain) -> v1::DomainInfo {
    v1::DomainInfo {
        fault_domain: Some(v1::FaultDomain {
            region: v1::DomainName {
                name: d.region.clone(),
            },
            zone: v1::DomainName {
                name: d.zone.clone(),
            },
        }),
    }
}

/// A v1 `DomainInfo` as a core fault domain; one without `fault_domain` says nothing.
pub fn domain_from_v1(d: &v1::DomainInfo) -> Option<wire::FaultDomain> {
    d.fault_domain.as_ref().map(|f| wire::FaultDomain {
        region: f.region.name.clone(),
        zone: f.zone.name.clone(),
    })
}

#[cfg(test)]
mod attribute_tests {
    use super::*;

    #[test]
    fn attributes_have_mesos_json_shapes_and_round_trip() {
        let attrs =
            mesolite_core::attributes::parse_attributes("rack:r1;level:-2.5;ports:[1-3,7-9]")
                .unwrap();
        let json = v1::to_ascii_json(&attributes_to_v1(&attrs));
        assert_eq!(
            json,
            r#"[{"name":"rack","type":"TEXT","text":{"value":"r1"}},{"name":"level","type":"SCALAR","scalar":{"value":-2.5}},{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":3},{"begin":7,"end":9}]}}]"#
        );
        let back: Vec<v1::Attribute> = serde_json::from_str(&json).unwrap();
        let back: Vec<Attribute> = back.iter().map(|a| attribute_from_v1(a).unwrap()).collect();
        assert_eq!(back, attrs);
    }

    #[test]
    fn bad_v1_attributes_are_refused_in_one_line() {
        let cases = [
            (
                r#"{"name":"s","type":"SET","set":{"item":["a"]}}"#,
                "attribute 's' is a SET, which attributes do not support",
            ),
            (
                r#"{"name":"t","type":"TEXT"}"#,
                "attribute 't' of type TEXT has no 'text'",
            ),
            (
                r#"{"name":"x","type":"SCALAR","scalar":{"value":1e300}}"#,
                "attribute 'x' has a scalar out of range",
            ),
            (
                r#"{"name":"p","type":"RANGES","ranges":{"range":[{"begin":5,"end":1}]}}"#,
                "attribute 'p' has range 5-1 with begin > end",
            ),
            (
                r#"{"name":"a b","type":"TEXT","text":{"value":"v"}}"#,
                "attribute 'a b' has an invalid name or text value",
            ),
        ];
        for (json, want) in cases {
            let a: v1::Attribute = v1::from_json(json.as_bytes()).unwrap();
            assert_eq!(attribute_from_v1(&a).unwrap_err(), want, "{json}");
        }
    }

    #[test]
    fn domains_round_trip_through_v1_json() {
        let d = wire::FaultDomain {
            region: "eu".into(),
            zone: "eu-1".into(),
        };
        let json = v1::to_ascii_json(&domain_to_v1(&d));
        assert_eq!(
            json,
            r#"{"fault_domain":{"region":{"name":"eu"},"zone":{"name":"eu-1"}}}"#
        );
        // The v1 JSON and the `--domain` flag's form are the same text.
        assert_eq!(json, d.to_string());
        let back: v1::DomainInfo = v1::from_json(json.as_bytes()).unwrap();
        assert_eq!(domain_from_v1(&back), Some(d));
        let empty: v1::DomainInfo = v1::from_json(b"{}").unwrap();
        assert_eq!(domain_from_v1(&empty), None);
        assert!(
            v1::from_json::<v1::DomainInfo>(br#"{"fault_domain":{"region":{"name":"eu"}}}"#)
                .is_err()
        );
    }
}

pub fn offer_to_v1(m: &Master, o: &OfferRecord) -> v1::Offer {
    let info = m.agent_info(&o.agent_id);
    let hostname = info.map(|i| i.hostname.clone()).unwrap_or_default();
    v1::Offer {
        id: v1::OfferId::new(o.id.as_str()),
        framework_id: v1::FrameworkId::new(o.framework_id.as_str()),
        agent_id: v1::AgentId::new(o.agent_id.as_str()),
        hostname: hostname.clone(),
        url: info.map(|i| v1::Url {
            scheme: "http".into(),
            address: v1::Address {
                hostname: Some(hostname.clone()),
                ip: Some(i.ip.clone()),
                port: i.port as i32,
            },
            path: Some("/slave(1)".into()),
            query: Vec::new(),
            fragment: None,
        }),
        domain: info.and_then(|i| i.domain.as_ref()).map(domain_to_v1),
        resources: resources_to_v1(&o.resources, Some(o.role.as_str())),
        attributes: info
            .map(|i| attributes_to_v1(&i.attributes))
            .unwrap_or_default(),
        executor_ids: Vec::new(),
        unavailability: info.and_then(|i| crate::operator::maintenance::unavailability(m, i)),
        allocation_info: Some(v1::AllocationInfo {
            role: Some(o.role.as_str().to_string()),
        }),
    }
}

/// One scheduler event as a RecordIO record.
pub fn scheduler_event_record(m: &Master, e: &SchedulerEvent) -> Bytes {
    use v1::scheduler::Event;
    let event = match e {
        SchedulerEvent::Subscribed {
            framework_id,
            heartbeat_interval,
        } => Event::subscribed(v1::scheduler::Subscribed {
            framework_id: v1::FrameworkId::new(framework_id.as_str()),
            heartbeat_interval_seconds: Some(heartbeat_interval.as_secs_f64()),
            master_info: Some(master_info(m)),
        }),
        SchedulerEvent::Offers(offers) => {
            Event::offers(offers.iter().map(|o| offer_to_v1(m, o)).collect())
        }
        SchedulerEvent::Rescind(id) => Event::rescind(v1::OfferId::new(id.as_str())),
        SchedulerEvent::Update(status) => Event::update(status_to_v1(status)),
        SchedulerEvent::Failure {
            agent_id,
            executor_id,
            status,
        } => Event::failure(v1::scheduler::Failure {
            agent_id: Some(v1::AgentId::new(agent_id.as_str())),
            executor_id: executor_id
                .as_ref()
                .map(|e| v1::ExecutorId::new(e.as_str())),
            status: *status,
        }),
        SchedulerEvent::Error(message) => Event::error(message.clone()),
        SchedulerEvent::Message {
            agent_id,
            executor_id,
            data,
        } => Event::message(v1::scheduler::FrameworkMessage {
            agent_id: v1::AgentId::new(agent_id.as_str()),
            executor_id: v1::ExecutorId::new(executor_id.as_str()),
            data: B64(data.clone()),
        }),
        SchedulerEvent::Heartbeat => Event::heartbeat(),
        SchedulerEvent::InverseOffers(offers) => {
            crate::operator::maintenance::inverse_offers(m, offers)
        }
        SchedulerEvent::RescindInverseOffer(id) => {
            crate::operator::maintenance::rescind_inverse_offer(id)
        }
    };
    record(to_ascii_json(&event))
}

// ---------------------------------------------------------------- executor events

pub fn framework_record_to_v1(f: &wire::FrameworkRecord) -> v1::FrameworkInfo {
    let mut info = v1::FrameworkInfo::new(f.user.clone(), f.name.clone());
    info.id = Some(v1::FrameworkId::new(f.id.as_str()));
    info.checkpoint = f.checkpoint;
    info
}

pub fn agent_info_to_v1(info: &wire::AgentInfo, id: Option<&ids::AgentId>) -> v1::AgentInfo {
    v1::AgentInfo {
        hostname: info.hostname.clone(),
        port: info.port as i32,
        resources: resources_to_v1(&info.resources, None),
        attributes: attributes_to_v1(&info.attributes),
        id: id.map(|i| v1::AgentId::new(i.as_str())),
        domain: info.domain.as_ref().map(domain_to_v1),
    }
}

/// A bare `ExecutorInfo` naming an executor of a framework.
pub fn executor_info(
    kind: v1::ExecutorType,
    executor_id: &ids::ExecutorId,
    framework_id: &ids::FrameworkId,
) -> v1::ExecutorInfo {
    v1::ExecutorInfo {
        kind: Some(kind),
        executor_id: v1::ExecutorId::new(executor_id.as_str()),
        framework_id: Some(v1::FrameworkId::new(framework_id.as_str())),
        command: None,
        container: None,
        resources: Vec::new(),
        name: None,
        source: None,
        data: None,
        discovery: None,
        shutdown_grace_period: None,
        labels: None,
    }
}

/// One executor event as a RecordIO record.
pub fn executor_event_record(agent: &Agent, e: &ExecutorEvent) -> Bytes {
    use v1::executor::Event;
    let event = match e {
        ExecutorEvent::Subscribed {
            framework,
            executor,
            agent_id,
            container_id,
        } => {
            // A framework's executor (with a command) is CUSTOM; the generated ones (command
            // and task-group executors) are Mesos' built-in DEFAULT kind.
            let kind = if executor.command.is_some() {
                v1::ExecutorType::Custom
            } else {
                v1::ExecutorType::Default
            };
            let mut executor_info = executor_info(kind, &executor.executor_id, &framework.id);
            executor_info.command = executor.command.as_ref().map(command_to_v1);
            executor_info.name = (!executor.name.is_empty()).then(|| executor.name.clone());
            executor_info.resources = resources_to_v1(&executor.resources, None);
            executor_info.data = executor.data.as_ref().map(|d| B64(d.clone()));
            Event::subscribed(v1::executor::Subscribed {
                executor_info,
                framework_info: framework_record_to_v1(framework),
                agent_info: agent_info_to_v1(agent.info(), agent_id.as_ref()),
                container_id: Some(v1::ContainerId::new(container_id.as_str())),
            })
        }
        ExecutorEvent::Launch(task) => Event::launch(task_to_v1(task, agent.id())),
        ExecutorEvent::LaunchGroup(tasks) => Event::launch_group(v1::TaskGroupInfo {
            tasks: tasks.iter().map(|t| task_to_v1(t, agent.id())).collect(),
        }),
        ExecutorEvent::Kill { task_id, grace } => Event::kill(
            v1::TaskId::new(task_id.as_str()),
            grace.map(|g| v1::KillPolicy {
                grace_period: Some(v1::DurationInfo {
                    nanoseconds: g.as_millis() as i64 * 1_000_000,
                }),
            }),
        ),
        ExecutorEvent::Acknowledged { task_id, uuid } => {
            Event::acknowledged(v1::TaskId::new(task_id.as_str()), B64(uuid.to_vec()))
        }
        ExecutorEvent::Message(data) => Event::message(B64(data.clone())),
        ExecutorEvent::Shutdown => Event::shutdown(),
    };
    record(to_ascii_json(&event))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(json: &str) -> v1::scheduler::Call {
        v1::from_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn call_types_are_told_apart_from_bad_calls() {
        let inverse = call(
            r#"{"type":"ACCEPT_INVERSE_OFFERS","framework_id":{"value":"f"},"accept_inverse_offers":{}}"#,
        );
        assert!(matches!(
            scheduler_call_from_v1(&inverse),
            Ok(Some(SchedulerCall::AcceptInverseOffers { .. }))
        ));
        let shutdown = call(
            r#"{"type":"SHUTDOWN","framework_id":{"value":"f"},"shutdown":{"executor_id":{"value":"e"},"agent_id":{"value":"a"}}}"#,
        );
        assert_eq!(
            scheduler_call_from_v1(&shutdown),
            Ok(Some(SchedulerCall::Shutdown {
                executor_id: ids::ExecutorId::from("e"),
                agent_id: ids::AgentId::from("a"),
            }))
        );
        let accept = call(r#"{"type":"ACCEPT","framework_id":{"value":"f"}}"#);
        assert_eq!(
            scheduler_call_from_v1(&accept),
            Err(CallInputError::Invalid(
                "Missing required fields: accept".into()
            ))
        );
        let request = call(r#"{"type":"REQUEST","framework_id":{"value":"f"},"request":{}}"#);
        assert_eq!(scheduler_call_from_v1(&request), Ok(None));
    }

    #[test]
    fn filters_default_and_reject_nonsense() {
        let decline = call(
            r#"{"type":"DECLINE","framework_id":{"value":"f"},"decline":{"offer_ids":[{"value":"o"}],"filters":{"refuse_seconds":-3}}}"#,
        );
        match scheduler_call_from_v1(&decline) {
            Ok(Some(SchedulerCall::Decline { refuse, .. })) => {
                assert_eq!(refuse, Some(Duration::from_secs(5)))
            }
            other => panic!("{other:?}"),
        }
    }

    /// The single task of the single LAUNCH of an ACCEPT.
    fn launched(task_json: &str) -> TaskLaunch {
        let c = call(&format!(
            r#"{{"type":"ACCEPT","framework_id":{{"value":"f"}},"accept":{{"offer_ids":[{{"value":"o"}}],"operations":[{{"type":"LAUNCH","launch":{{"task_infos":[{task_json}]}}}}]}}}}"#
        ));
        match scheduler_call_from_v1(&c) {
            Ok(Some(SchedulerCall::Accept { operations, .. })) => match &operations[..] {
                [Operation::Launch(tasks)] if tasks.len() == 1 => tasks[0].clone(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    fn group(launch_group_json: &str) -> GroupLaunch {
        let c = call(&format!(
            r#"{{"type":"ACCEPT","framework_id":{{"value":"f"}},"accept":{{"offer_ids":[{{"value":"o"}}],"operations":[{{"type":"LAUNCH_GROUP","launch_group":{launch_group_json}}}]}}}}"#
        ));
        match scheduler_call_from_v1(&c) {
            Ok(Some(SchedulerCall::Accept { operations, .. })) => match &operations[..] {
                [Operation::LaunchGroup(g)] => g.clone(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn launch_group_converts_and_marks_bad_executors_invalid() {
        let tasks = r#""task_group":{"tasks":[
            {"name":"a","task_id":{"value":"a"},"agent_id":{"value":"s"},"command":{"value":"sleep 1"},
             "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.5}}]},
            {"name":"b","task_id":{"value":"b"},"agent_id":{"value":"s"},"command":{"value":"true"},
             "health_check":{"type":"COMMAND"}}]}"#;
        let g = group(&format!(
            r#"{{"executor":{{"type":"DEFAULT","executor_id":{{"value":"pod"}},"name":"p",
                "resources":[{{"name":"mem","type":"SCALAR","scalar":{{"value":32}}}}]}},{tasks}}}"#
        ));
        assert_eq!(g.executor_id.as_str(), "pod");
        assert_eq!(g.executor_name, "p");
        assert_eq!(g.executor_resources, Resources::parse("mem:32").unwrap());
        assert_eq!(g.invalid, None);
        assert_eq!(g.tasks.len(), 2);
        assert_eq!(g.tasks[0].invalid, None);
        assert_eq!(
            g.tasks[0].command.as_ref().map(|c| c.value.as_str()),
            Some("sleep 1")
        );
        assert!(g.tasks[1]
            .invalid
            .as_deref()
            .is_some_and(|m| m.contains("health_check")));
        for (executor, why) in [
            (
                r#"{"type":"CUSTOM","executor_id":{"value":"pod"},"command":{"value":"x"}}"#,
                "DEFAULT",
            ),
            (r#"{"executor_id":{"value":"pod"}}"#, "executor.type"),
            (
                r#"{"type":"DEFAULT","executor_id":{"value":"pod"},"command":{"value":"x"}}"#,
                "ExecutorInfo.command",
            ),
            (
                r#"{"type":"DEFAULT","executor_id":{"value":"a/b"}}"#,
                "executor_id",
            ),
        ] {
            let g = group(&format!(r#"{{"executor":{executor},{tasks}}}"#));
            let invalid = g.invalid.unwrap_or_default();
            assert!(invalid.contains(why), "{executor}: {invalid}");
        }
        assert_eq!(
            reason_to_v1(StatusReason::TaskGroupInvalid),
            v1::StatusReason::TaskGroupInvalid
        );
    }

    #[test]
    fn bad_tasks_become_invalid_launches_not_bad_calls() {
        let bad_id = launched(
            r#"{"name":"t","task_id":{"value":"../x"},"agent_id":{"value":"a"},"resources":[],"command":{"value":"true"}}"#,
        );
        let why = bad_id.invalid.expect("invalid");
        assert!(why.contains("task_id"), "{why}");
        let empty_id = launched(
            r#"{"name":"t","task_id":{"value":""},"agent_id":{"value":"a"},"resources":[],"command":{"value":"true"}}"#,
        );
        assert!(empty_id.invalid.expect("invalid").contains("is empty"));
        let negative = launched(
            r#"{"name":"t","task_id":{"value":"x"},"agent_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}],"command":{"value":"true"}}"#,
        );
        assert!(negative.invalid.is_some());
        let fine = launched(
            r#"{"name":"t","task_id":{"value":"x"},"agent_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}],"command":{"value":"true"},"container":{"type":"MESOS","mesos":{}}}"#,
        );
        assert_eq!(fine.invalid, None);
        assert_eq!(fine.resources, Resources::parse("cpus:1").unwrap());
    }

    #[test]
    fn unimplemented_task_features_are_named() {
        let cases = [
            (
                r#""command":{"value":"true"},"container":{"type":"MESOS","mesos":{"image":{"type":"DOCKER","docker":{"name":"alpine"}}}}"#,
                "container.mesos.image",
            ),
            (
                r#""command":{"value":"true"},"container":{"type":"DOCKER","docker":{"image":"alpine"}}"#,
                "container.docker",
            ),
            (
                r#""command":{"value":"true"},"container":{"type":"DOCKER"}"#,
                "container.type",
            ),
            (
                r#""command":{"value":"true","uris":[{"value":"http://x/y.tgz"}]}"#,
                "command.uris",
            ),
            (
                r#""command":{"value":"true","user":"nobody"}"#,
                "command.user",
            ),
            (
                r#""command":{"value":"true"},"health_check":{"type":"COMMAND","command":{"value":"true"}}"#,
                "health_check",
            ),
            (
                r#""command":{"value":"true"},"check":{"type":"COMMAND"}"#,
                "check",
            ),
            (
                r#""executor":{"executor_id":{"value":"e"},"command":{"value":"run","uris":[{"value":"http://x"}]}}"#,
                "executor.command.uris",
            ),
        ];
        for (extra, field) in cases {
            let t = launched(&format!(
                r#"{{"name":"t","task_id":{{"value":"x"}},"agent_id":{{"value":"a"}},"resources":[{{"name":"cpus","type":"SCALAR","scalar":{{"value":1}}}}],{extra}}}"#
            ));
            let why = t.invalid.unwrap_or_else(|| panic!("{field} accepted"));
            assert!(why.contains(field), "{why} should name {field}");
            assert!(why.contains("not supported by mesolite"), "{why}");
        }
        let gpus = launched(
            r#"{"name":"t","task_id":{"value":"x"},"agent_id":{"value":"a"},"resources":[{"name":"gpus","type":"SCALAR","scalar":{"value":1}}],"command":{"value":"true"}}"#,
        );
        assert!(gpus.invalid.expect("invalid").contains("gpus"));
    }

    #[test]
    fn capabilities_and_roles_follow_mesos_validation() {
        let info = |json: &str| -> v1::FrameworkInfo { v1::from_json(json.as_bytes()).unwrap() };
        let spec = framework_from_v1(&info(
            r#"{"user":"u","name":"n","roles":["web"],"capabilities":[{"type":"MULTI_ROLE"},{"type":"PARTITION_AWARE"},{"type":"TASK_KILLING_STATE"}]}"#,
        ))
        .unwrap();
        assert_eq!(spec.role.as_str(), "web");
        assert!(spec.capabilities.partition_aware);
        assert!(spec.capabilities.task_killing_state);
        assert!(spec.capabilities.multi_role);
        let err =
            framework_from_v1(&info(r#"{"user":"u","name":"n","roles":["web"]}"#)).unwrap_err();
        assert!(err.contains("MULTI_ROLE"), "{err}");
        let plain = framework_from_v1(&info(r#"{"user":"u","name":"n"}"#)).unwrap();
        assert_eq!(plain.role.as_str(), "*");
        assert_eq!(plain.capabilities, FrameworkCapabilities::default());
    }

    #[test]
    fn revive_and_suppress_carry_roles_and_message_carries_bytes() {
        let revive =
            call(r#"{"type":"REVIVE","framework_id":{"value":"f"},"revive":{"roles":["a","b"]}}"#);
        assert_eq!(
            scheduler_call_from_v1(&revive),
            Ok(Some(SchedulerCall::Revive {
                roles: vec![ids::Role::from("a"), ids::Role::from("b")]
            }))
        );
        let suppress = call(r#"{"type":"SUPPRESS","framework_id":{"value":"f"}}"#);
        assert_eq!(
            scheduler_call_from_v1(&suppress),
            Ok(Some(SchedulerCall::Suppress { roles: vec![] }))
        );
        let message = call(
            r#"{"type":"MESSAGE","framework_id":{"value":"f"},"message":{"agent_id":{"value":"a"},"executor_id":{"value":"e"},"data":"aGk="}}"#,
        );
        assert_eq!(
            scheduler_call_from_v1(&message),
            Ok(Some(SchedulerCall::Message {
                agent_id: ids::AgentId::from("a"),
                executor_id: ids::ExecutorId::from("e"),
                data: b"hi".to_vec(),
            }))
        );
    }
}
