//! `mesos.v1.executor`: the `Call`s an executor POSTs to `/api/v1/executor` on its agent and the
//! `Event`s the agent streams back (reference §6.6).

use serde::{Deserialize, Serialize};

use super::cluster::{AgentInfo, FrameworkInfo};
use super::common::{ContainerId, ExecutorId, FrameworkId, TaskId};
use super::scheduler::ErrorMessage;
use super::task::{ExecutorInfo, KillPolicy, TaskGroupInfo, TaskInfo, TaskStatus};
use super::wire::{self, null_default, wire_enum, Bytes};

wire_enum! {
    /// Mesos `executor.Call.Type`.
    pub enum CallType {
        Unknown = "UNKNOWN",
        Subscribe = "SUBSCRIBE",
        Update = "UPDATE",
        Message = "MESSAGE",
    }
}

/// `Call.Update`: a status update from the executor; it carries its own `uuid`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Update {
    pub status: TaskStatus,
}

/// `Call.Subscribe`: on re-subscription after an agent restart, the tasks and updates the agent
/// has not acknowledged yet.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Subscribe {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unacknowledged_tasks: Vec<TaskInfo>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unacknowledged_updates: Vec<Update>,
}

/// `Call.Message` and `Event.Message`: opaque bytes between executor and scheduler.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub data: Bytes,
}

/// Mesos `executor.Call`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub executor_id: ExecutorId,
    pub framework_id: FrameworkId,
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
    pub update: Option<Update>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
}

wire_enum! {
    /// Mesos `executor.Event.Type`.
    pub enum EventType {
        Unknown = "UNKNOWN",
        Subscribed = "SUBSCRIBED",
        Launch = "LAUNCH",
        LaunchGroup = "LAUNCH_GROUP",
        Kill = "KILL",
        Acknowledged = "ACKNOWLEDGED",
        Message = "MESSAGE",
        Error = "ERROR",
        Shutdown = "SHUTDOWN",
        Heartbeat = "HEARTBEAT",
    }
}

/// `Event.Subscribed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Subscribed {
    pub executor_info: ExecutorInfo,
    pub framework_info: FrameworkInfo,
    pub agent_info: AgentInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<ContainerId>,
}

/// `Event.Launch`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Launch {
    pub task: TaskInfo,
}

/// `Event.LaunchGroup`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LaunchGroup {
    pub task_group: TaskGroupInfo,
}

/// `Event.Kill`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kill {
    pub task_id: TaskId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
}

/// `Event.Acknowledged`: the scheduler acknowledged the update with this `uuid`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledged {
    pub task_id: TaskId,
    pub uuid: Bytes,
}

/// Mesos `executor.Event`.
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
    pub acknowledged: Option<Acknowledged>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<Launch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_group: Option<LaunchGroup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill: Option<Kill>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
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

    pub fn launch(task: TaskInfo) -> Self {
        Event {
            launch: Some(Launch { task }),
            ..Event::of(EventType::Launch)
        }
    }

    pub fn launch_group(task_group: TaskGroupInfo) -> Self {
        Event {
            launch_group: Some(LaunchGroup { task_group }),
            ..Event::of(EventType::LaunchGroup)
        }
    }

    pub fn kill(task_id: TaskId, kill_policy: Option<KillPolicy>) -> Self {
        Event {
            kill: Some(Kill {
                task_id,
                kill_policy,
            }),
            ..Event::of(EventType::Kill)
        }
    }

    pub fn acknowledged(task_id: TaskId, uuid: Bytes) -> Self {
        Event {
            acknowledged: Some(Acknowledged { task_id, uuid }),
            ..Event::of(EventType::Acknowledged)
        }
    }

    pub fn message(data: Bytes) -> Self {
        Event {
            message: Some(Message { data }),
            ..Event::of(EventType::Message)
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

    pub fn shutdown() -> Self {
        Event::of(EventType::Shutdown)
    }

    pub fn heartbeat() -> Self {
        Event::of(EventType::Heartbeat)
    }
}
