//! `mesos.v1.master`: the operator API `Call`s POSTed to `/api/v1` on the master and the
//! `Response`s of its query calls (reference §6.5).

use serde::{Deserialize, Serialize};

use super::cluster::{AgentCapability, AgentInfo, FrameworkInfo, InverseOffer, MasterInfo, Offer};
use super::common::{AgentId, Resource, TimeInfo};
use super::task::{ExecutorInfo, Task};
use super::wire::{self, null_default, wire_enum, RawMessage};

wire_enum! {
    /// Mesos 1.5 `master.Call.Type`.
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
        GetAgents = "GET_AGENTS",
        GetFrameworks = "GET_FRAMEWORKS",
        GetExecutors = "GET_EXECUTORS",
        GetTasks = "GET_TASKS",
        GetRoles = "GET_ROLES",
        GetWeights = "GET_WEIGHTS",
        UpdateWeights = "UPDATE_WEIGHTS",
        GetMaster = "GET_MASTER",
        Subscribe = "SUBSCRIBE",
        ReserveResources = "RESERVE_RESOURCES",
        UnreserveResources = "UNRESERVE_RESOURCES",
        CreateVolumes = "CREATE_VOLUMES",
        DestroyVolumes = "DESTROY_VOLUMES",
        GetMaintenanceStatus = "GET_MAINTENANCE_STATUS",
        GetMaintenanceSchedule = "GET_MAINTENANCE_SCHEDULE",
        UpdateMaintenanceSchedule = "UPDATE_MAINTENANCE_SCHEDULE",
        StartMaintenance = "START_MAINTENANCE",
        StopMaintenance = "STOP_MAINTENANCE",
        GetQuota = "GET_QUOTA",
        SetQuota = "SET_QUOTA",
        RemoveQuota = "REMOVE_QUOTA",
        /// Mesos 1.9's quota call with separate guarantees and limits.
        UpdateQuota = "UPDATE_QUOTA",
        Teardown = "TEARDOWN",
        MarkAgentGone = "MARK_AGENT_GONE",
    }
}

/// Mesos `master.Call`. The query calls typed here carry no sub-message; the others' sub-messages
/// are read when their handlers are written (unknown keys are ignored meanwhile).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Call {
    #[serde(
        rename = "type",
        default,
        with = "wire::enum_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<CallType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_metrics: Option<GetMetricsCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_agent_gone: Option<MarkAgentGone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_weights: Option<UpdateWeights>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_quota: Option<super::quota::SetQuota>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_quota: Option<super::quota::RemoveQuota>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_quota: Option<super::quota::UpdateQuota>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_maintenance_schedule: Option<super::maintenance::UpdateMaintenanceSchedule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_maintenance: Option<super::maintenance::Machines>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_maintenance: Option<super::maintenance::Machines>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve_resources: Option<AgentResources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreserve_resources: Option<AgentResources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_volumes: Option<AgentVolumes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroy_volumes: Option<AgentVolumes>,
}

/// `Call.ReserveResources` and `Call.UnreserveResources`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentResources {
    pub agent_id: AgentId,
    #[serde(default, deserialize_with = "null_default")]
    pub resources: Vec<Resource>,
}

/// `Call.CreateVolumes` and `Call.DestroyVolumes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentVolumes {
    pub agent_id: AgentId,
    #[serde(default, deserialize_with = "null_default")]
    pub volumes: Vec<Resource>,
}

impl Call {
    pub fn of(kind: CallType) -> Self {
        Call {
            kind: Some(kind),
            ..Call::default()
        }
    }
}

/// `Call.GetMetrics`: `timeout` is accepted and ignored (metrics are computed at once).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetMetricsCall {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<super::common::DurationInfo>,
}

/// `Call.MarkAgentGone`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarkAgentGone {
    pub agent_id: AgentId,
}

/// `Call.UpdateWeights`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateWeights {
    #[serde(default, deserialize_with = "null_default")]
    pub weight_infos: Vec<WeightInfo>,
}

/// Mesos `Flag` (`include/mesos/v1/mesos.proto`): one command-line flag and its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `Response.GetFlags`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetFlags {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub flags: Vec<Flag>,
}

/// Mesos `Metric` (`include/mesos/v1/mesos.proto`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// `Response.GetMetrics`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetMetrics {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub metrics: Vec<Metric>,
}

/// `Response.GetLoggingLevel`: glog's verbosity level (mesolite has none: 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetLoggingLevel {
    pub level: u32,
}

/// Mesos `Role` (`include/mesos/v1/mesos.proto`): a role with its weight, the frameworks
/// subscribed to it and the resources allocated to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub weight: f64,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub frameworks: Vec<super::common::FrameworkId>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
}

/// `Response.GetRoles`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetRoles {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub roles: Vec<Role>,
}

/// Mesos `WeightInfo` (`include/mesos/v1/mesos.proto`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightInfo {
    pub weight: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// `Response.GetWeights`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetWeights {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub weight_infos: Vec<WeightInfo>,
}

/// `Response.GetHealth`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetHealth {
    pub healthy: bool,
}

/// Mesos `VersionInfo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_date: Option<String>,
    /// Seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_sha: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_tag: Option<String>,
}

/// `Response.GetVersion`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GetVersion {
    pub version_info: VersionInfo,
}

/// `Response.GetAgents.Agent`: an agent the master has admitted and that is registered now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub agent_info: AgentInfo,
    pub active: bool,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_time: Option<TimeInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reregistered_time: Option<TimeInfo>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub total_resources: Vec<Resource>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub allocated_resources: Vec<Resource>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub offered_resources: Vec<Resource>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub capabilities: Vec<AgentCapability>,
    /// `{resource_provider_info}` items, carried through uninterpreted for now.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resource_providers: Vec<RawMessage>,
}

/// `Response.GetAgents`. `recovered_agents` are admitted in the registry but have not
/// re-registered since the master failed over.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetAgents {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub agents: Vec<Agent>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub recovered_agents: Vec<AgentInfo>,
}

/// `Response.GetFrameworks.Framework`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Framework {
    pub framework_info: FrameworkInfo,
    pub active: bool,
    pub connected: bool,
    pub recovered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_time: Option<TimeInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reregistered_time: Option<TimeInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unregistered_time: Option<TimeInfo>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub offers: Vec<Offer>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub inverse_offers: Vec<InverseOffer>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub allocated_resources: Vec<Resource>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub offered_resources: Vec<Resource>,
}

/// `Response.GetFrameworks`. `recovered_frameworks` is deprecated and never filled by 1.5.
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
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub recovered_frameworks: Vec<FrameworkInfo>,
}

/// `Response.GetExecutors.Executor`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Executor {
    pub executor_info: ExecutorInfo,
    pub agent_id: AgentId,
}

/// `Response.GetExecutors`; `orphan_executors` is deprecated.
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
    pub orphan_executors: Vec<Executor>,
}

/// `Response.GetTasks`; `orphan_tasks` is deprecated.
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
    pub tasks: Vec<Task>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unreachable_tasks: Vec<Task>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub completed_tasks: Vec<Task>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub orphan_tasks: Vec<Task>,
}

/// `Response.GetState`: the full snapshot, the union of the four queries above.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_tasks: Option<GetTasks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_executors: Option<GetExecutors>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_frameworks: Option<GetFrameworks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_agents: Option<GetAgents>,
}

/// `Response.GetMaster`; the times are seconds since the Unix epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetMaster {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_info: Option<MasterInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elected_time: Option<f64>,
}

/// Mesos `master.Response`: `type` plus the sub-message named after it.
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
    pub get_version: Option<GetVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_state: Option<GetState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_agents: Option<GetAgents>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_frameworks: Option<GetFrameworks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_executors: Option<GetExecutors>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_tasks: Option<GetTasks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_master: Option<GetMaster>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_flags: Option<GetFlags>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_metrics: Option<GetMetrics>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_logging_level: Option<GetLoggingLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_roles: Option<GetRoles>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_weights: Option<GetWeights>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_quota: Option<super::quota::GetQuota>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_maintenance_status: Option<super::maintenance::GetMaintenanceStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_maintenance_schedule: Option<super::maintenance::GetMaintenanceSchedule>,
}

impl Response {
    fn of(kind: CallType) -> Self {
        Response {
            kind: Some(kind),
            ..Response::default()
        }
    }

    pub fn health(healthy: bool) -> Self {
        Response {
            get_health: Some(GetHealth { healthy }),
            ..Response::of(CallType::GetHealth)
        }
    }

    pub fn version(version_info: VersionInfo) -> Self {
        Response {
            get_version: Some(GetVersion { version_info }),
            ..Response::of(CallType::GetVersion)
        }
    }

    pub fn state(state: GetState) -> Self {
        Response {
            get_state: Some(state),
            ..Response::of(CallType::GetState)
        }
    }

    pub fn agents(agents: GetAgents) -> Self {
        Response {
            get_agents: Some(agents),
            ..Response::of(CallType::GetAgents)
        }
    }

    pub fn frameworks(frameworks: GetFrameworks) -> Self {
        Response {
            get_frameworks: Some(frameworks),
            ..Response::of(CallType::GetFrameworks)
        }
    }

    pub fn executors(executors: GetExecutors) -> Self {
        Response {
            get_executors: Some(executors),
            ..Response::of(CallType::GetExecutors)
        }
    }

    pub fn tasks(tasks: GetTasks) -> Self {
        Response {
            get_tasks: Some(tasks),
            ..Response::of(CallType::GetTasks)
        }
    }

    pub fn master(master: GetMaster) -> Self {
        Response {
            get_master: Some(master),
            ..Response::of(CallType::GetMaster)
        }
    }

    pub fn flags(flags: GetFlags) -> Self {
        Response {
            get_flags: Some(flags),
            ..Response::of(CallType::GetFlags)
        }
    }

    pub fn metrics(metrics: GetMetrics) -> Self {
        Response {
            get_metrics: Some(metrics),
            ..Response::of(CallType::GetMetrics)
        }
    }

    pub fn logging_level(level: u32) -> Self {
        Response {
            get_logging_level: Some(GetLoggingLevel { level }),
            ..Response::of(CallType::GetLoggingLevel)
        }
    }

    pub fn roles(roles: GetRoles) -> Self {
        Response {
            get_roles: Some(roles),
            ..Response::of(CallType::GetRoles)
        }
    }

    pub fn weights(weights: GetWeights) -> Self {
        Response {
            get_weights: Some(weights),
            ..Response::of(CallType::GetWeights)
        }
    }

    pub fn quota(status: super::quota::QuotaStatus) -> Self {
        Response {
            get_quota: Some(super::quota::GetQuota { status }),
            ..Response::of(CallType::GetQuota)
        }
    }
}
