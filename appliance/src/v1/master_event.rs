//! `mesos.v1.master.Event`: the operator event stream (`SUBSCRIBE` on the master's `/api/v1`),
//! written from `include/mesos/v1/master/master.proto: Event`.

use serde::{Deserialize, Serialize};

use super::cluster::FrameworkInfo;
use super::common::{AgentId, FrameworkId};
use super::operator::{Agent, Framework, GetState};
use super::task::{Task, TaskStatus};
use super::wire::{self, wire_enum};
use mesolite_core::task_state::TaskState;

wire_enum! {
    /// `master.Event.Type` (1.5).
    pub enum EventType {
        Unknown = "UNKNOWN",
        Subscribed = "SUBSCRIBED",
        TaskAdded = "TASK_ADDED",
        TaskUpdated = "TASK_UPDATED",
        AgentAdded = "AGENT_ADDED",
        AgentRemoved = "AGENT_REMOVED",
        FrameworkAdded = "FRAMEWORK_ADDED",
        FrameworkUpdated = "FRAMEWORK_UPDATED",
        FrameworkRemoved = "FRAMEWORK_REMOVED",
        Heartbeat = "HEARTBEAT",
    }
}

/// `Event.Subscribed`: the full state first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Subscribed {
    pub get_state: GetState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_interval_seconds: Option<f64>,
}

/// `Event.TaskAdded`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskAdded {
    pub task: Task,
}

/// `Event.TaskUpdated`: `status` is the status update, `state` the task's latest state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskUpdated {
    pub framework_id: FrameworkId,
    pub status: TaskStatus,
    #[serde(with = "wire::enum_req")]
    pub state: TaskState,
}

/// `Event.AgentAdded`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentAdded {
    pub agent: Agent,
}

/// `Event.AgentRemoved`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRemoved {
    pub agent_id: AgentId,
}

/// `Event.FrameworkAdded` and `Event.FrameworkUpdated`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameworkEvent {
    pub framework: Framework,
}

/// `Event.FrameworkRemoved`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameworkRemoved {
    pub framework_info: FrameworkInfo,
}

/// `mesos.v1.master.Event`.
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
    pub task_added: Option<TaskAdded>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_updated: Option<TaskUpdated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_added: Option<AgentAdded>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_removed: Option<AgentRemoved>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_added: Option<FrameworkEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_updated: Option<FrameworkEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_removed: Option<FrameworkRemoved>,
}

impl Event {
    fn of(kind: EventType) -> Self {
        Event {
            kind: Some(kind),
            ..Event::default()
        }
    }

    pub fn subscribed(get_state: GetState, heartbeat_interval_seconds: f64) -> Self {
        Event {
            subscribed: Some(Subscribed {
                get_state,
                heartbeat_interval_seconds: Some(heartbeat_interval_seconds),
            }),
            ..Event::of(EventType::Subscribed)
        }
    }

    pub fn task_added(task: Task) -> Self {
        Event {
            task_added: Some(TaskAdded { task }),
            ..Event::of(EventType::TaskAdded)
        }
    }

    pub fn task_updated(framework_id: FrameworkId, status: TaskStatus, state: TaskState) -> Self {
        Event {
            task_updated: Some(TaskUpdated {
                framework_id,
                status,
                state,
            }),
            ..Event::of(EventType::TaskUpdated)
        }
    }

    pub fn agent_added(agent: Agent) -> Self {
        Event {
            agent_added: Some(AgentAdded { agent }),
            ..Event::of(EventType::AgentAdded)
        }
    }

    pub fn agent_removed(agent_id: AgentId) -> Self {
        Event {
            agent_removed: Some(AgentRemoved { agent_id }),
            ..Event::of(EventType::AgentRemoved)
        }
    }

    pub fn framework_added(framework: Framework) -> Self {
        Event {
            framework_added: Some(FrameworkEvent { framework }),
            ..Event::of(EventType::FrameworkAdded)
        }
    }

    pub fn framework_updated(framework: Framework) -> Self {
        Event {
            framework_updated: Some(FrameworkEvent { framework }),
            ..Event::of(EventType::FrameworkUpdated)
        }
    }

    pub fn framework_removed(framework_info: FrameworkInfo) -> Self {
        Event {
            framework_removed: Some(FrameworkRemoved { framework_info }),
            ..Event::of(EventType::FrameworkRemoved)
        }
    }

    pub fn heartbeat() -> Self {
        Event::of(EventType::Heartbeat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::{from_json, to_ascii_json};

    // include/mesos/v1/master/master.proto: Event.TaskUpdated has framework_id, status, state
    // at this level (the 1.5 doc sample that puts task_id beside them is wrong).
    #[test]
    fn task_updated_has_the_proto_shape() {
        let status = TaskStatus::new(super::super::TaskId::new("t1"), TaskState::Running);
        let e = Event::task_updated(FrameworkId::new("f1"), status, TaskState::Running);
        assert_eq!(
            to_ascii_json(&e),
            r#"{"type":"TASK_UPDATED","task_updated":{"framework_id":{"value":"f1"},"status":{"task_id":{"value":"t1"},"state":"TASK_RUNNING"},"state":"TASK_RUNNING"}}"#
        );
    }

    // include/mesos/v1/master/master.proto: Event.AgentRemoved { required AgentID agent_id = 1; }
    #[test]
    fn agent_removed_and_heartbeat_shapes() {
        assert_eq!(
            to_ascii_json(&Event::agent_removed(AgentId::new("a-S0"))),
            r#"{"type":"AGENT_REMOVED","agent_removed":{"agent_id":{"value":"a-S0"}}}"#
        );
        assert_eq!(
            to_ascii_json(&Event::heartbeat()),
            r#"{"type":"HEARTBEAT"}"#
        );
        let parsed: Event = from_json(br#"{"type":"HEARTBEAT","extra":1}"#).unwrap();
        assert_eq!(parsed.kind, Some(EventType::Heartbeat));
    }
}
