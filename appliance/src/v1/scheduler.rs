//! `mesos.v1.scheduler`: the `Call`s a framework POSTs to `/api/v1/scheduler` and the `Event`s
//! the master streams back (reference §6.4). Both are protobuf "unions": a `type` plus the
//! sub-message named after it in lower snake case.

use serde::{Deserialize, Serialize};

use super::cluster::{Filters, FrameworkInfo, InverseOffer, MasterInfo, Offer, OfferOperation};
use super::common::{
    AgentId, ExecutorId, FrameworkId, OfferId, OperationId, ResourceProviderId, TaskId,
};
use super::task::{KillPolicy, TaskStatus};
use super::wire::{self, null_default, wire_enum, Bytes, RawMessage};

/// Mesos `OperationStatus` (operation feedback, 1.6+), carried through uninterpreted for now.
pub type OperationStatus = RawMessage;

wire_enum! {
    /// Mesos `scheduler.Call.Type`.
    pub enum CallType {
        Unknown = "UNKNOWN",
        Subscribe = "SUBSCRIBE",
        Teardown = "TEARDOWN",
        Accept = "ACCEPT",
        Decline = "DECLINE",
        AcceptInverseOffers = "ACCEPT_INVERSE_OFFERS",
        DeclineInverseOffers = "DECLINE_INVERSE_OFFERS",
        Revive = "REVIVE",
        Kill = "KILL",
        Shutdown = "SHUTDOWN",
        Acknowledge = "ACKNOWLEDGE",
        AcknowledgeOperationStatus = "ACKNOWLEDGE_OPERATION_STATUS",
        Reconcile = "RECONCILE",
        ReconcileOperations = "RECONCILE_OPERATIONS",
        Message = "MESSAGE",
        Request = "REQUEST",
        Suppress = "SUPPRESS",
    }
}

/// `Call.Subscribe`: opens the event stream; no `framework_info.id` means a new framework.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Subscribe {
    pub framework_info: FrameworkInfo,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub suppressed_roles: Vec<String>,
}

/// `Call.Accept`: apply `operations` in order to the offers; the rest is declined with `filters`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Accept {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub offer_ids: Vec<OfferId>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub operations: Vec<OfferOperation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Filters>,
}

/// `Call.Decline`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Decline {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub offer_ids: Vec<OfferId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Filters>,
}

/// `Call.AcceptInverseOffers` and `Call.DeclineInverseOffers` (maintenance).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InverseOfferReply {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub inverse_offer_ids: Vec<OfferId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Filters>,
}

/// `Call.Revive` and `Call.Suppress`: an empty `roles` means all of the framework's roles.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub roles: Vec<String>,
}

/// `Call.Kill`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kill {
    pub task_id: TaskId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
}

/// `Call.Shutdown`: shut down a custom executor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shutdown {
    pub executor_id: ExecutorId,
    pub agent_id: AgentId,
}

/// `Call.Acknowledge`: the scheduler received the status update with this `uuid`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledge {
    pub agent_id: AgentId,
    pub task_id: TaskId,
    pub uuid: Bytes,
}

/// `Call.AcknowledgeOperationStatus` (answered 403 by Mesos 1.5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcknowledgeOperationStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_provider_id: Option<ResourceProviderId>,
    pub uuid: Bytes,
    pub operation_id: OperationId,
}

/// `Call.Reconcile.Task`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileTask {
    pub task_id: TaskId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
}

/// `Call.Reconcile`: an empty `tasks` asks for every task the master knows (§7.4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconcile {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tasks: Vec<ReconcileTask>,
}

/// `Call.Message` and `Event.Message`: opaque bytes between scheduler and executor, unreliable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkMessage {
    pub agent_id: AgentId,
    pub executor_id: ExecutorId,
    pub data: Bytes,
}

/// `Call.Request`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestResources {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub requests: Vec<super::cluster::Request>,
}

/// Mesos `scheduler.Call`. `framework_id` is required for every call but the first `SUBSCRIBE`;
/// that and the presence of the sub-message matching `type` are checked by validation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Call {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkId>,
    #[serde(
        rename = "type",
        default,
        with = "wire::enum_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<CallType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<Subscribe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<Accept>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline: Option<Decline>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_inverse_offers: Option<InverseOfferReply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_inverse_offers: Option<InverseOfferReply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revive: Option<Roles>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill: Option<Kill>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown: Option<Shutdown>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge: Option<Acknowledge>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge_operation_status: Option<AcknowledgeOperationStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile: Option<Reconcile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile_operations: Option<RawMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<FrameworkMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestResources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppress: Option<Roles>,
}

wire_enum! {
    /// Mesos `scheduler.Event.Type`.
    pub enum EventType {
        Unknown = "UNKNOWN",
        Subscribed = "SUBSCRIBED",
        Offers = "OFFERS",
        InverseOffers = "INVERSE_OFFERS",
        Rescind = "RESCIND",
        RescindInverseOffer = "RESCIND_INVERSE_OFFER",
        Update = "UPDATE",
        UpdateOperationStatus = "UPDATE_OPERATION_STATUS",
        Message = "MESSAGE",
        Failure = "FAILURE",
        Error = "ERROR",
        Heartbeat = "HEARTBEAT",
    }
}

/// `Event.Subscribed`: the first event of a stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Subscribed {
    pub framework_id: FrameworkId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_interval_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_info: Option<MasterInfo>,
}

/// `Event.Offers`. The offers sit one level down: `{"offers":{"offers":[...]}}` (§6.4 gotcha).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Offers {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub offers: Vec<Offer>,
}

/// `Event.InverseOffers`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InverseOffers {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub inverse_offers: Vec<InverseOffer>,
}

/// `Event.Rescind`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rescind {
    pub offer_id: OfferId,
}

/// `Event.RescindInverseOffer`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RescindInverseOffer {
    pub inverse_offer_id: OfferId,
}

/// `Event.Update`: a task status update.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Update {
    pub status: TaskStatus,
}

/// `Event.UpdateOperationStatus` (1.6+).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpdateOperationStatus {
    pub status: OperationStatus,
}

/// `Event.Failure`: an agent was removed (only `agent_id`), or an executor ended (agent, executor
/// and, when known, its POSIX wait status).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i32>,
}

/// `Event.Error`: unrecoverable; the scheduler should abort.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorMessage {
    pub message: String,
}

/// Mesos `scheduler.Event`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(
        rename = "type",
        default,
        with = "wire::enum_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<EventType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribed: Option<Subscribed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offers: Option<Offers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inverse_offers: Option<InverseOffers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescind: Option<Rescind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescind_inverse_offer: Option<RescindInverseOffer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Update>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_operation_status: Option<UpdateOperationStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<FrameworkMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorMessage>,
}

impl Event {
    fn of(kind: EventType) -> Self {
        Event {
            kind: Some(kind),
            ..Event::default()
        }
    }

    pub fn subscribed(subscribed: Subscribed) -> Self {
        Event {
            subscribed: Some(subscribed),
            ..Event::of(EventType::Subscribed)
        }
    }

    pub fn offers(offers: Vec<Offer>) -> Self {
        Event {
            offers: Some(Offers { offers }),
            ..Event::of(EventType::Offers)
        }
    }

    pub fn rescind(offer_id: OfferId) -> Self {
        Event {
            rescind: Some(Rescind { offer_id }),
            ..Event::of(EventType::Rescind)
        }
    }

    pub fn update(status: TaskStatus) -> Self {
        Event {
            update: Some(Update { status }),
            ..Event::of(EventType::Update)
        }
    }

    pub fn message(message: FrameworkMessage) -> Self {
        Event {
            message: Some(message),
            ..Event::of(EventType::Message)
        }
    }

    pub fn failure(failure: Failure) -> Self {
        Event {
            failure: Some(failure),
            ..Event::of(EventType::Failure)
        }
    }

    pub fn error(message: impl Into<String>) -> Self {
        Event {
            error: Some(ErrorMessage {
                message: message.into(),
            }),
            ..Event::of(EventType::Error)
        }
    }

    pub fn heartbeat() -> Self {
        Event::of(EventType::Heartbeat)
    }
}
