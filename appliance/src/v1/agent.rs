//! `mesos.v1.agent`: the operator API `Call`s POSTed to `/api/v1` on an agent and the
//! `Response`s of its query calls (`include/mesos/v1/agent/agent.proto`, reference §6.5).

use serde::{Deserialize, Serialize};

use super::cluster::{AgentInfo, FrameworkInfo};
use super::common::{ContainerId, ExecutorId, FrameworkId};
use super::operator::{GetFlags, GetHealth, GetLoggingLevel, GetMetrics, GetVersion};
use super::task::{ExecutorInfo, Task};
use super::wire::{self, null_default, wire_enum};

wire_enum! {
    /// Mesos 1.5 `agent.Call.Type`.
    pub enum CallType {
        Unknown = "UNKNOWN",
        GetHealth = "GET_HEALTH",
        GetFlags = "GET_FLAGS",
        GetVersion = "GET_VERSION",
        GetMetrics = "GET_METRICS",
        GetLoggingLevel = "GET_LOGGING_LEVEL",
        SetLoggingLevel = "SET_LOGGING_LEVEL",
        ListFiles = "LIST_FILES",
        ReadFile = "READ_FILE",
        GetState = "GET_STATE",
        GetContainers = "GET_CONTAINERS",
        GetFrameworks = "GET_FRAMEWORKS",
        GetExecutors = "GET_EXECUTORS",
        GetTasks = "GET_TASKS",
        GetAgent = "GET_AGENT",
        GetResourceProviders = "GET_RESOURCE_PROVIDERS",
        LaunchNestedContainer = "LAUNCH_NESTED_CONTAINER",
        WaitNestedContainer = "WAIT_NESTED_CONTAINER",
        KillNestedContainer = "KILL_NESTED_CONTAINER",
        RemoveNestedContainer = "REMOVE_NESTED_CONTAINER",
        LaunchNestedContainerSession = "LAUNCH_NESTED_CONTAINER_SESSION",
        AttachContainerInput = "ATTACH_CONTAINER_INPUT",
        AttachContainerOutput = "ATTACH_CONTAINER_OUTPUT",
        LaunchContainer = "LAUNCH_CONTAINER",
        WaitContainer = "WAIT_CONTAINER",
        KillContainer = "KILL_CONTAINER",
        RemoveContainer = "REMOVE_CONTAINER",
        AddResourceProviderConfig = "ADD_RESOURCE_PROVIDER_CONFIG",
        UpdateResourceProviderConfig = "UPDATE_RESOURCE_PROVIDER_CONFIG",
        RemoveResourceProviderConfig = "REMOVE_RESOURCE_PROVIDER_CONFIG",
        PruneImages = "PRUNE_IMAGES",
    }
}

/// Mesos `agent.Call`; the sub-messages of the calls mesolite answers are all optional or absent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Call {
    #[serde(
        rename = "type",
        default,
        with = "wire::enum_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<CallType>,
}

/// Mesos `ContainerStatus` (the part mesolite knows: the executor's pid).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContainerStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<ContainerId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_pid: Option<u32>,
}

/// Mesos `ResourceStatistics` (the fields read from `/proc`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceStatistics {
    /// Seconds since the Unix epoch when the sample was taken.
    pub timestamp: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus_user_time_secs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus_system_time_secs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus_limit: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_rss_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_limit_bytes: Option<u64>,
}

/// `Response.GetContainers.Container`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Container {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_name: Option<String>,
    pub container_id: ContainerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_status: Option<ContainerStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_statistics: Option<ResourceStatistics>,
}

/// `Response.GetContainers`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetContainers {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub containers: Vec<Container>,
}

/// `Response.GetFrameworks.Framework`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Framework {
    pub framework_info: FrameworkInfo,
}

/// `Response.GetFrameworks`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetFrameworks {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub frameworks: Vec<Framework>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub completed_frameworks: Vec<Framework>,
}

/// `Response.GetExecutors.Executor`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Executor {
    pub executor_info: ExecutorInfo,
}

/// `Response.GetExecutors`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetExecutors {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub executors: Vec<Executor>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub completed_executors: Vec<Executor>,
}

/// `Response.GetTasks`: tasks waiting for their executor (`queued_tasks`), handed to it
/// (`launched_tasks`), terminal but not yet acknowledged (`terminated_tasks`), and done.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetTasks {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub pending_tasks: Vec<Task>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub queued_tasks: Vec<Task>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub launched_tasks: Vec<Task>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub terminated_tasks: Vec<Task>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub completed_tasks: Vec<Task>,
}

/// `Response.GetState` of an agent: no agents, unlike the master's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_tasks: Option<GetTasks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_executors: Option<GetExecutors>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_frameworks: Option<GetFrameworks>,
}

/// `Response.GetAgent`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetAgent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_info: Option<AgentInfo>,
}

/// Mesos `agent.Response`: `type` plus the sub-message named after it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Response {
    #[serde(
        rename = "type",
        default,
        with = "wire::enum_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<CallType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_health: Option<GetHealth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_flags: Option<GetFlags>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_version: Option<GetVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_metrics: Option<GetMetrics>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_logging_level: Option<GetLoggingLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_state: Option<GetState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_containers: Option<GetContainers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_frameworks: Option<GetFrameworks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_executors: Option<GetExecutors>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_tasks: Option<GetTasks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_agent: Option<GetAgent>,
}

impl Response {
    /// A response of `kind` with no sub-message yet; set the one named after it.
    pub fn of(kind: CallType) -> Self {
        Response {
            kind: Some(kind),
            ..Response::default()
        }
    }
}
