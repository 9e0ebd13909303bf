//! What runs and how it reports: `CommandInfo`, `ExecutorInfo`, `TaskInfo`, `TaskStatus` and the
//! master's `Task` record, in their `mesos.v1` JSON shape.

use serde::{Deserialize, Deserializer, Serialize};

use mesolite_core::task_state::TaskState;

use super::common::{
    AgentId, DurationInfo, ExecutorId, FrameworkId, Labels, Resource, TaskId, TimeInfo,
};
use super::wire::{self, default_true, null_default, null_or_true, wire_enum, Bytes, RawMessage};

/// Mesos `ContainerInfo`, carried through uninterpreted until the containerizer reads it.
pub type ContainerInfo = RawMessage;
/// Mesos `DiscoveryInfo`, never interpreted by Mesos itself.
pub type DiscoveryInfo = RawMessage;
/// Mesos `HealthCheck`, carried through uninterpreted for now.
pub type HealthCheck = RawMessage;
/// Mesos `CheckInfo`, carried through uninterpreted for now.
pub type CheckInfo = RawMessage;
/// Mesos `CheckStatusInfo`, carried through uninterpreted for now.
pub type CheckStatusInfo = RawMessage;
/// Mesos `ContainerStatus` (network addresses, cgroup info, executor pid), uninterpreted for now.
pub type ContainerStatus = RawMessage;
/// Mesos `TaskResourceLimitation`, carried through uninterpreted for now.
pub type TaskResourceLimitation = RawMessage;

/// Mesos `CommandInfo.URI`: something the fetcher downloads into the sandbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandUri {
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executable: Option<bool>,
    #[serde(default = "default_true", deserialize_with = "null_or_true")]
    pub extract: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_file: Option<String>,
}

wire_enum! {
    /// Mesos `Environment.Variable.Type`.
    pub enum EnvVariableType {
        Unknown = "UNKNOWN",
        Value = "VALUE",
        Secret = "SECRET",
    }
}

fn default_env_type() -> EnvVariableType {
    EnvVariableType::Value
}

/// Reads `Environment.Variable.type`, whose proto default is `VALUE`: `null` or an unknown name
/// leaves it at the default.
fn env_type_or_value<'de, D: Deserializer<'de>>(d: D) -> Result<EnvVariableType, D::Error> {
    Ok(wire::enum_opt::deserialize(d)?.unwrap_or(EnvVariableType::Value))
}

/// Mesos `Environment.Variable`; `secret` is carried through uninterpreted for now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvVariable {
    pub name: String,
    #[serde(
        rename = "type",
        default = "default_env_type",
        deserialize_with = "env_type_or_value"
    )]
    pub kind: EnvVariableType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<RawMessage>,
}

/// Mesos `Environment`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub variables: Vec<EnvVariable>,
}

/// Mesos `CommandInfo`: with `shell` (the default) `value` runs under `/bin/sh -c`; without it
/// `value` is the executable and `arguments` its argv.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandInfo {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub uris: Vec<CommandUri>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    #[serde(default = "default_true", deserialize_with = "null_or_true")]
    pub shell: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub arguments: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl CommandInfo {
    /// A shell command (`/bin/sh -c <value>`).
    pub fn shell(value: impl Into<String>) -> Self {
        CommandInfo {
            uris: Vec::new(),
            environment: None,
            shell: true,
            value: Some(value.into()),
            arguments: Vec::new(),
            user: None,
        }
    }
}

/// Mesos `KillPolicy`: how long to wait between the graceful and the forcible kill.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period: Option<DurationInfo>,
}

wire_enum! {
    /// Mesos `ExecutorInfo.Type`.
    pub enum ExecutorType {
        Unknown = "UNKNOWN",
        Default = "DEFAULT",
        Custom = "CUSTOM",
    }
}

/// Mesos `ExecutorInfo`. `source` is deprecated but still carried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutorInfo {
    #[serde(
        rename = "type",
        default,
        with = "wire::enum_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<ExecutorType>,
    pub executor_id: ExecutorId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Bytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<DiscoveryInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown_grace_period: Option<DurationInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

/// Mesos `TaskInfo`: what a framework launches. Exactly one of `executor` and `command` must be
/// set (checked by validation, not by parsing).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskInfo {
    pub name: String,
    pub task_id: TaskId,
    pub agent_id: AgentId,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<ExecutorInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Bytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<DiscoveryInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_time: Option<DurationInfo>,
}

/// Mesos `TaskGroupInfo`: tasks delivered to one executor atomically.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskGroupInfo {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tasks: Vec<TaskInfo>,
}

wire_enum! {
    /// Mesos `TaskStatus.Source`: who generated a status update.
    pub enum StatusSource {
        Master = "SOURCE_MASTER",
        Agent = "SOURCE_AGENT",
        Executor = "SOURCE_EXECUTOR",
    }
}

wire_enum! {
    /// Mesos `TaskStatus.Reason` (see Mesos' `docs/task-state-reasons.md`).
    pub enum StatusReason {
        CommandExecutorFailed = "REASON_COMMAND_EXECUTOR_FAILED",
        ContainerLaunchFailed = "REASON_CONTAINER_LAUNCH_FAILED",
        ContainerLimitation = "REASON_CONTAINER_LIMITATION",
        ContainerLimitationDisk = "REASON_CONTAINER_LIMITATION_DISK",
        ContainerLimitationMemory = "REASON_CONTAINER_LIMITATION_MEMORY",
        ContainerPreempted = "REASON_CONTAINER_PREEMPTED",
        ContainerUpdateFailed = "REASON_CONTAINER_UPDATE_FAILED",
        MaxCompletionTimeReached = "REASON_MAX_COMPLETION_TIME_REACHED",
        ExecutorRegistrationTimeout = "REASON_EXECUTOR_REGISTRATION_TIMEOUT",
        ExecutorReregistrationTimeout = "REASON_EXECUTOR_REREGISTRATION_TIMEOUT",
        ExecutorTerminated = "REASON_EXECUTOR_TERMINATED",
        ExecutorUnregistered = "REASON_EXECUTOR_UNREGISTERED",
        FrameworkRemoved = "REASON_FRAMEWORK_REMOVED",
        GcError = "REASON_GC_ERROR",
        InvalidFrameworkid = "REASON_INVALID_FRAMEWORKID",
        InvalidOffers = "REASON_INVALID_OFFERS",
        IoSwitchboardExited = "REASON_IO_SWITCHBOARD_EXITED",
        MasterDisconnected = "REASON_MASTER_DISCONNECTED",
        Reconciliation = "REASON_RECONCILIATION",
        ResourcesUnknown = "REASON_RESOURCES_UNKNOWN",
        AgentDisconnected = "REASON_AGENT_DISCONNECTED",
        AgentRemoved = "REASON_AGENT_REMOVED",
        AgentRemovedByOperator = "REASON_AGENT_REMOVED_BY_OPERATOR",
        AgentReregistered = "REASON_AGENT_REREGISTERED",
        AgentRestarted = "REASON_AGENT_RESTARTED",
        AgentUnknown = "REASON_AGENT_UNKNOWN",
        TaskKilledDuringLaunch = "REASON_TASK_KILLED_DURING_LAUNCH",
        TaskCheckStatusUpdated = "REASON_TASK_CHECK_STATUS_UPDATED",
        TaskHealthCheckStatusUpdated = "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED",
        TaskGroupInvalid = "REASON_TASK_GROUP_INVALID",
        TaskGroupUnauthorized = "REASON_TASK_GROUP_UNAUTHORIZED",
        TaskInvalid = "REASON_TASK_INVALID",
        TaskUnauthorized = "REASON_TASK_UNAUTHORIZED",
        TaskUnknown = "REASON_TASK_UNKNOWN",
    }
}

/// Mesos `TaskStatus`: one status update. `uuid` is set on updates that must be acknowledged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskStatus {
    pub task_id: TaskId,
    #[serde(with = "wire::enum_req")]
    pub state: TaskState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(
        default,
        with = "wire::enum_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub source: Option<StatusSource>,
    #[serde(
        default,
        with = "wire::enum_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub reason: Option<StatusReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Bytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    /// Seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<Bytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_status: Option<CheckStatusInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_status: Option<ContainerStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable_time: Option<TimeInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limitation: Option<TaskResourceLimitation>,
}

impl TaskStatus {
    /// A status with only the required fields set.
    pub fn new(task_id: TaskId, state: TaskState) -> Self {
        TaskStatus {
            task_id,
            state,
            message: None,
            source: None,
            reason: None,
            data: None,
            agent_id: None,
            executor_id: None,
            timestamp: None,
            uuid: None,
            healthy: None,
            check_status: None,
            labels: None,
            container_status: None,
            unreachable_time: None,
            limitation: None,
        }
    }
}

/// Mesos `Task`: the master's and agent's record of a launched task, as the operator API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub name: String,
    pub task_id: TaskId,
    pub framework_id: FrameworkId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    pub agent_id: AgentId,
    #[serde(with = "wire::enum_req")]
    pub state: TaskState,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub statuses: Vec<TaskStatus>,
    #[serde(
        default,
        with = "wire::enum_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub status_update_state: Option<TaskState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_update_uuid: Option<Bytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<DiscoveryInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}
