//! Operator events (Mesos master `Event`s for the operator API's SUBSCRIBE), produced only while
//! the driver says someone is subscribed, plus their heartbeat.

use super::{FrameworkSpec, Master, MasterOutput};
use crate::ids::{AgentId, FrameworkId, TaskId};
use crate::task_state::TaskState;
use crate::time::Instant;
use crate::wire::TaskStatus;

/// A change operators are told about. The driver renders each from the master's getters.
#[derive(Clone, Debug, PartialEq)]
pub enum OperatorEvent {
    TaskAdded {
        framework_id: FrameworkId,
        task_id: TaskId,
    },
    /// `status` is the status update, `state` the task's latest state.
    TaskUpdated {
        framework_id: FrameworkId,
        status: TaskStatus,
        state: TaskState,
    },
    AgentAdded(AgentId),
    AgentRemoved(AgentId),
    FrameworkAdded(FrameworkId),
    FrameworkUpdated(FrameworkId),
    /// The framework is gone from the master's tables; its last description.
    FrameworkRemoved(FrameworkSpec),
    Heartbeat,
}

impl Master {
    /// The driver tells the master whether any operator is subscribed; events are produced only
    /// then (nobody pays for them otherwise).
    pub fn set_operator_subscribed(&mut self, now: Instant, subscribed: bool) {
        if subscribed && !self.operator_subscribed {
            self.next_operator_heartbeat = now + self.cfg.heartbeat_interval;
        }
        self.operator_subscribed = subscribed;
    }

    pub(super) fn operator_event(&mut self, event: OperatorEvent) {
        if self.operator_subscribed {
            self.outputs.push_back(MasterOutput::Operator(event));
        }
    }

    /// Sends the operator heartbeat when due.
    pub(super) fn tick_operator(&mut self, now: Instant) {
        if self.operator_subscribed && now >= self.next_operator_heartbeat {
            self.next_operator_heartbeat = now + self.cfg.heartbeat_interval;
            self.outputs
                .push_back(MasterOutput::Operator(OperatorEvent::Heartbeat));
        }
    }
}
