//! `mesos.v1.maintenance` and the maintenance parts of `mesos.v1`: `MachineID`,
//! `Unavailability`, `InverseOffer`, the schedule, the cluster status, and the operator calls and
//! responses that carry them, with conversions to and from core's registry types.

use serde::{Deserialize, Serialize};

use super::common::{AgentId, DurationInfo, FrameworkId, OfferId, Resource, TimeInfo, Url};
use super::wire::{self, null_default, wire_enum};
use mesolite_core::registry::{self, MaintenanceWindow};

/// Mesos `MachineID`: the hostname and IP an agent announces; either may be left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineId {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

impl From<&registry::MachineId> for MachineId {
    fn from(id: &registry::MachineId) -> Self {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        MachineId {
            hostname: some(&id.hostname),
            ip: some(&id.ip),
        }
    }
}

impl From<&MachineId> for registry::MachineId {
    fn from(id: &MachineId) -> Self {
        registry::MachineId::new(
            id.hostname.as_deref().unwrap_or(""),
            id.ip.as_deref().unwrap_or(""),
        )
    }
}

/// Mesos `Unavailability`: from `start` for `duration` (none: indefinitely).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailability {
    pub start: TimeInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationInfo>,
}

impl From<registry::Unavailability> for Unavailability {
    fn from(u: registry::Unavailability) -> Self {
        Unavailability {
            start: TimeInfo {
                nanoseconds: u.start_nanos,
            },
            duration: u
                .duration_nanos
                .map(|nanoseconds| DurationInfo { nanoseconds }),
        }
    }
}

impl From<&Unavailability> for registry::Unavailability {
    fn from(u: &Unavailability) -> Self {
        registry::Unavailability {
            start_nanos: u.start.nanoseconds,
            duration_nanos: u.duration.map(|d| d.nanoseconds),
        }
    }
}

/// Mesos `maintenance.Window`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    #[serde(default, deserialize_with = "null_default")]
    pub machine_ids: Vec<MachineId>,
    pub unavailability: Unavailability,
}

/// Mesos `maintenance.Schedule`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub windows: Vec<Window>,
}

impl Schedule {
    pub fn from_core(windows: &[MaintenanceWindow]) -> Self {
        Schedule {
            windows: windows
                .iter()
                .map(|w| Window {
                    machine_ids: w.machines.iter().map(MachineId::from).collect(),
                    unavailability: w.unavailability.into(),
                })
                .collect(),
        }
    }

    pub fn to_core(&self) -> Vec<MaintenanceWindow> {
        self.windows
            .iter()
            .map(|w| MaintenanceWindow {
                machines: w
                    .machine_ids
                    .iter()
                    .map(registry::MachineId::from)
                    .collect(),
                unavailability: (&w.unavailability).into(),
            })
            .collect()
    }
}

wire_enum! {
    /// Mesos `InverseOfferStatus.Status`.
    pub enum InverseOfferStatusKind {
        Unknown = "UNKNOWN",
        Accept = "ACCEPT",
        Decline = "DECLINE",
    }
}

/// Mesos `InverseOfferStatus`: a framework's answer to the inverse offer for a machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InverseOfferStatus {
    #[serde(with = "wire::enum_req")]
    pub status: InverseOfferStatusKind,
    pub framework_id: FrameworkId,
    pub timestamp: TimeInfo,
}

/// Mesos `maintenance.ClusterStatus.DrainingMachine`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DrainingMachine {
    pub id: MachineId,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub statuses: Vec<InverseOfferStatus>,
}

/// Mesos `maintenance.ClusterStatus`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterStatus {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub draining_machines: Vec<DrainingMachine>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub down_machines: Vec<MachineId>,
}

/// Mesos `InverseOffer`: the master asks for the whole agent back by `unavailability.start`;
/// `resources` is empty for the whole agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InverseOffer {
    pub id: OfferId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    pub framework_id: FrameworkId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    pub unavailability: Unavailability,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<Resource>,
}

/// `master.Call.UpdateMaintenanceSchedule`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateMaintenanceSchedule {
    pub schedule: Schedule,
}

/// `master.Call.StartMaintenance` and `StopMaintenance`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machines {
    #[serde(default, deserialize_with = "null_default")]
    pub machines: Vec<MachineId>,
}

/// `master.Response.GetMaintenanceStatus`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetMaintenanceStatus {
    pub status: ClusterStatus,
}

/// `master.Response.GetMaintenanceSchedule`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetMaintenanceSchedule {
    pub schedule: Schedule,
}
