//! Who takes part and what is offered: `FrameworkInfo`, `MasterInfo`, `AgentInfo`, `Offer` with its
//! operations, and `Filters`, in their `mesos.v1` JSON shape.

use serde::{Deserialize, Deserializer, Serialize};

use super::common::{
    Address, AgentId, AllocationInfo, Attribute, DiskSourceType, ExecutorId, FrameworkId, Labels,
    OfferId, OperationId, Resource, Url,
};
use super::task::{ExecutorInfo, TaskGroupInfo, TaskInfo};
use super::wire::{self, null_default, wire_enum};

/// Mesos `DomainInfo`: where a master or agent runs. Without `fault_domain` it says nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_domain: Option<FaultDomain>,
}

/// Mesos `DomainInfo.FaultDomain`: a region and a zone in it, both required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultDomain {
    pub region: DomainName,
    pub zone: DomainName,
}

/// Mesos `DomainInfo.FaultDomain.RegionInfo` and `ZoneInfo`: `{"name": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainName {
    pub name: String,
}
pub use super::maintenance::{InverseOffer, Unavailability};

wire_enum! {
    /// Mesos `FrameworkInfo.Capability.Type`.
    pub enum FrameworkCapabilityType {
        Unknown = "UNKNOWN",
        RevocableResources = "REVOCABLE_RESOURCES",
        TaskKillingState = "TASK_KILLING_STATE",
        GpuResources = "GPU_RESOURCES",
        SharedResources = "SHARED_RESOURCES",
        PartitionAware = "PARTITION_AWARE",
        MultiRole = "MULTI_ROLE",
        ReservationRefinement = "RESERVATION_REFINEMENT",
        RegionAware = "REGION_AWARE",
    }
}

/// Mesos `FrameworkInfo.Capability`; an unknown type name reads as an empty capability.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkCapability {
    #[serde(
        rename = "type",
        default,
        with = "wire::enum_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<FrameworkCapabilityType>,
}

/// Mesos `FrameworkInfo`. `failover_timeout` and `checkpoint` have proto defaults and are always
/// written; the deprecated `role` (default `"*"`) only when set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameworkInfo {
    pub user: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<FrameworkId>,
    /// Seconds the master waits for a disconnected scheduler before tearing the framework down.
    #[serde(default, deserialize_with = "null_default")]
    pub failover_timeout: f64,
    #[serde(default, deserialize_with = "null_default")]
    pub checkpoint: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webui_url: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub capabilities: Vec<FrameworkCapability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

impl FrameworkInfo {
    /// A framework description with only the required fields and the proto defaults.
    pub fn new(user: impl Into<String>, name: impl Into<String>) -> Self {
        FrameworkInfo {
            user: user.into(),
            name: name.into(),
            id: None,
            failover_timeout: 0.0,
            checkpoint: false,
            role: None,
            roles: Vec::new(),
            hostname: None,
            principal: None,
            webui_url: None,
            capabilities: Vec::new(),
            labels: None,
        }
    }

    /// Whether the framework declared `capability`.
    pub fn has_capability(&self, capability: FrameworkCapabilityType) -> bool {
        self.capabilities.iter().any(|c| c.kind == Some(capability))
    }
}

wire_enum! {
    /// Mesos `MasterInfo.Capability.Type`.
    pub enum MasterCapabilityType {
        Unknown = "UNKNOWN",
        AgentUpdate = "AGENT_UPDATE",
    }
}

/// Mesos `MasterInfo.Capability`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterCapability {
    #[serde(
        rename = "type",
        default,
        with = "wire::enum_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<MasterCapabilityType>,
}

/// Mesos `MasterInfo`. `ip` is an IPv4 address packed into a `uint32` in network byte order
/// (MESOS-1201); clients should read `address` instead. `port` is required (default 5050).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MasterInfo {
    pub id: String,
    pub ip: u32,
    pub port: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainInfo>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub capabilities: Vec<MasterCapability>,
}

impl MasterInfo {
    /// Packs an IPv4 address the way `MasterInfo.ip` carries it: the network-order bytes read as a
    /// little-endian `uint32`, as Mesos does on the x86 and ARM hosts it runs on.
    pub fn pack_ip(ip: std::net::Ipv4Addr) -> u32 {
        u32::from_le_bytes(ip.octets())
    }
}

wire_enum! {
    /// Mesos `AgentInfo.Capability.Type`.
    pub enum AgentCapabilityType {
        Unknown = "UNKNOWN",
        MultiRole = "MULTI_ROLE",
        HierarchicalRole = "HIERARCHICAL_ROLE",
        ReservationRefinement = "RESERVATION_REFINEMENT",
        ResourceProvider = "RESOURCE_PROVIDER",
        ResizeVolume = "RESIZE_VOLUME",
    }
}

/// Mesos `AgentInfo.Capability`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCapability {
    #[serde(
        rename = "type",
        default,
        with = "wire::enum_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<AgentCapabilityType>,
}

/// Default of `AgentInfo.port`.
pub const DEFAULT_AGENT_PORT: i32 = 5051;

fn default_agent_port() -> i32 {
    DEFAULT_AGENT_PORT
}

fn null_or_agent_port<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    Ok(Option::<i32>::deserialize(d)?.unwrap_or(DEFAULT_AGENT_PORT))
}

/// Mesos `AgentInfo`: an agent's configured identity, resources and attributes. `port` has the
/// proto default 5051 and is always written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentInfo {
    pub hostname: String,
    #[serde(
        default = "default_agent_port",
        deserialize_with = "null_or_agent_port"
    )]
    pub port: i32,
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
    pub attributes: Vec<Attribute>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<AgentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainInfo>,
}

/// Default of `Filters.refuse_seconds`.
pub const DEFAULT_REFUSE_SECONDS: f64 = 5.0;

fn default_refuse_seconds() -> f64 {
    DEFAULT_REFUSE_SECONDS
}

fn null_or_refuse_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(DEFAULT_REFUSE_SECONDS))
}

/// Mesos `Filters`: how long declined resources stay away from the framework (§5.4).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    #[serde(
        default = "default_refuse_seconds",
        deserialize_with = "null_or_refuse_seconds"
    )]
    pub refuse_seconds: f64,
}

impl Default for Filters {
    fn default() -> Self {
        Filters {
            refuse_seconds: DEFAULT_REFUSE_SECONDS,
        }
    }
}

/// Mesos `Request`: resources a framework asks the allocator for (ignored by the DRF allocator).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
}

/// Mesos `Offer`: resources of one agent offered to one role of one framework.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    pub id: OfferId,
    pub framework_id: FrameworkId,
    pub agent_id: AgentId,
    pub hostname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainInfo>,
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
    pub attributes: Vec<Attribute>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub executor_ids: Vec<ExecutorId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailability: Option<Unavailability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation_info: Option<AllocationInfo>,
}

wire_enum! {
    /// Mesos 1.5 `Offer.Operation.Type`. The storage operations 7-10 are the 1.5 set, which 1.7
    /// replaced with `CREATE_DISK`/`DESTROY_DISK` (reference §2.7).
    pub enum OperationType {
        Unknown = "UNKNOWN",
        Launch = "LAUNCH",
        LaunchGroup = "LAUNCH_GROUP",
        Reserve = "RESERVE",
        Unreserve = "UNRESERVE",
        Create = "CREATE",
        Destroy = "DESTROY",
        CreateVolume = "CREATE_VOLUME",
        DestroyVolume = "DESTROY_VOLUME",
        CreateBlock = "CREATE_BLOCK",
        DestroyBlock = "DESTROY_BLOCK",
    }
}

/// `Offer.Operation.Launch`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Launch {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub task_infos: Vec<TaskInfo>,
}

/// `Offer.Operation.LaunchGroup`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LaunchGroup {
    pub executor: ExecutorInfo,
    pub task_group: TaskGroupInfo,
}

/// `Offer.Operation.Reserve` and `.Unreserve`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesOperation {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
}

/// `Offer.Operation.Create` and `.Destroy` (persistent volumes).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VolumesOperation {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub volumes: Vec<Resource>,
}

/// `Offer.Operation.CreateVolume` (1.5): a RAW disk becomes a PATH or MOUNT disk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateVolume {
    pub source: Resource,
    pub target_type: DiskSourceType,
}

/// `Offer.Operation.DestroyVolume` (1.5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DestroyVolume {
    pub volume: Resource,
}

/// `Offer.Operation.CreateBlock` (1.5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateBlock {
    pub source: Resource,
}

/// `Offer.Operation.DestroyBlock` (1.5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DestroyBlock {
    pub block: Resource,
}

/// Mesos `Offer.Operation`: one step of an `ACCEPT`, applied in order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OfferOperation {
    #[serde(
        rename = "type",
        default,
        with = "wire::enum_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<OperationType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<OperationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<Launch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_group: Option<LaunchGroup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve: Option<ResourcesOperation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreserve: Option<ResourcesOperation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<VolumesOperation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroy: Option<VolumesOperation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_volume: Option<CreateVolume>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroy_volume: Option<DestroyVolume>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_block: Option<CreateBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroy_block: Option<DestroyBlock>,
}
