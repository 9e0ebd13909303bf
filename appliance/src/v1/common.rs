//! Building blocks of `mesos.v1` shared by every API: id wrappers, time, addresses, labels,
//! values, attributes and resources.

use serde::{Deserialize, Serialize};

use mesolite_core::ids;

use super::wire::{self, null_default, wire_enum, Empty, RawMessage};

/// Declares a `{"value": "..."}` id message, with conversions to and from the core id when one exists.
macro_rules! id_message {
    ($(#[$doc:meta])* $name:ident $(=> $core:ty)?) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name {
            pub value: String,
        }

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                $name { value: value.into() }
            }
        }

        $(
            impl From<&$core> for $name {
                fn from(id: &$core) -> Self {
                    $name::new(id.as_str())
                }
            }

            impl From<$name> for $core {
                fn from(id: $name) -> Self {
                    <$core>::new(id.value)
                }
            }
        )?
    };
}

id_message!(
    /// Mesos `FrameworkID`.
    FrameworkId => ids::FrameworkId
);
id_message!(
    /// Mesos `AgentID`.
    AgentId => ids::AgentId
);
id_message!(
    /// Mesos `TaskID`.
    TaskId => ids::TaskId
);
id_message!(
    /// Mesos `ExecutorID`.
    ExecutorId => ids::ExecutorId
);
id_message!(
    /// Mesos `OfferID` (also names inverse offers).
    OfferId => ids::OfferId
);
id_message!(
    /// Mesos `OperationID`, chosen by the framework for operation feedback.
    OperationId
);
id_message!(
    /// Mesos `ResourceProviderID`.
    ResourceProviderId
);

/// Mesos `ContainerID`; `parent` is set for nested containers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContainerId {
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Box<ContainerId>>,
}

impl ContainerId {
    pub fn new(value: impl Into<String>) -> Self {
        ContainerId {
            value: value.into(),
            parent: None,
        }
    }
}

impl From<&ids::ContainerId> for ContainerId {
    fn from(id: &ids::ContainerId) -> Self {
        ContainerId::new(id.as_str())
    }
}

/// Mesos `TimeInfo`: nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeInfo {
    pub nanoseconds: i64,
}

/// Mesos `DurationInfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationInfo {
    pub nanoseconds: i64,
}

/// Mesos `Address`: a hostname, an IP (as text) or both, and a port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    pub port: i32,
}

/// Mesos `Parameter`: a key and a value, both required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameter {
    pub key: String,
    pub value: String,
}

/// Mesos `URL`, as carried by `Offer.url`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Url {
    pub scheme: String,
    pub address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub query: Vec<Parameter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fragment: Option<String>,
}

/// Mesos `Label`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Mesos `Labels`: free-form key/value pairs, written `{"labels": [...]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labels {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub labels: Vec<Label>,
}

wire_enum! {
    /// Mesos `Value.Type`.
    pub enum ValueType {
        Scalar = "SCALAR",
        Ranges = "RANGES",
        Set = "SET",
        Text = "TEXT",
    }
}

/// Mesos `Value.Scalar`. Mesos keeps three decimal digits; rounding happens in the core conversion.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scalar {
    pub value: f64,
}

/// Mesos `Value.Range`, inclusive at both ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub begin: u64,
    pub end: u64,
}

/// Mesos `Value.Ranges`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ranges {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub range: Vec<Range>,
}

/// Mesos `Value.Set`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Set {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub item: Vec<String>,
}

/// Mesos `Value.Text`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub value: String,
}

/// Mesos `Attribute`: a typed property of an agent, offered alongside its resources.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ValueType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalar: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranges: Option<Ranges>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Set>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
}

/// Mesos `Resource.AllocationInfo`: the role a resource is allocated to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

wire_enum! {
    /// Mesos `Resource.ReservationInfo.Type`.
    pub enum ReservationType {
        Unknown = "UNKNOWN",
        Static = "STATIC",
        Dynamic = "DYNAMIC",
    }
}

/// Mesos `Resource.ReservationInfo`: one level of the reservation stack.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationInfo {
    #[serde(
        rename = "type",
        default,
        with = "wire::enum_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<ReservationType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

/// Mesos `Resource.DiskInfo.Persistence`: marks a disk as a persistent volume.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persistence {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
}

wire_enum! {
    /// Mesos `Volume.Mode`.
    pub enum VolumeMode {
        Rw = "RW",
        Ro = "RO",
    }
}

/// Mesos `Volume`; `image` and `source` are carried through uninterpreted for now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    pub mode: VolumeMode,
    pub container_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<RawMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<RawMessage>,
}

wire_enum! {
    /// Mesos `Resource.DiskInfo.Source.Type`.
    pub enum DiskSourceType {
        Unknown = "UNKNOWN",
        Path = "PATH",
        Mount = "MOUNT",
        Block = "BLOCK",
        Raw = "RAW",
    }
}

/// Mesos `Resource.DiskInfo.Source.Path` and `.Mount`: where the disk lives on the agent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskRoot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
}

/// Mesos `Resource.DiskInfo.Source`: a disk other than the agent's root disk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiskSource {
    #[serde(rename = "type")]
    pub kind: DiskSourceType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<DiskRoot>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount: Option<DiskRoot>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Labels>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// Mesos `Resource.DiskInfo`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence: Option<Persistence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<Volume>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<DiskSource>,
}

/// Mesos `Resource` in its JSON shape (reference §6.3); the allocator works on the core type.
///
/// `role` and `reservation` are the pre-reservation-refinement format (§5.1); `role`'s default
/// `"*"` is deprecated and therefore never written unless set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<ResourceProviderId>,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ValueType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalar: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranges: Option<Ranges>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Set>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation_info: Option<AllocationInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<ReservationInfo>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub reservations: Vec<ReservationInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<DiskInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocable: Option<Empty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<Empty>,
}

impl Resource {
    /// An unreserved scalar resource such as `cpus:1.5`.
    pub fn scalar(name: impl Into<String>, value: f64) -> Self {
        Resource {
            provider_id: None,
            name: name.into(),
            kind: ValueType::Scalar,
            scalar: Some(Scalar { value }),
            ranges: None,
            set: None,
            role: None,
            allocation_info: None,
            reservation: None,
            reservations: Vec::new(),
            disk: None,
            revocable: None,
            shared: None,
        }
    }
}
