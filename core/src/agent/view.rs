//! Read-only views of the agent's state for its operator API and its legacy endpoints.

use super::{Agent, ExecutorState};
use crate::ids::{ContainerId, ExecutorId, FrameworkId};
use crate::task_state::TaskState;
use crate::wire::{FrameworkRecord, TaskSpec};

/// One executor (and its container) as the operator API shows it.
#[derive(Debug)]
pub struct ExecutorDetail<'a> {
    pub framework_id: &'a FrameworkId,
    pub executor_id: &'a ExecutorId,
    pub container_id: &'a ContainerId,
    pub state: ExecutorState,
    /// A generated command executor rather than the framework's own.
    pub command_executor: bool,
    /// The executor's name and resources, from the first task that named it (`None` before any).
    pub spec: Option<&'a crate::wire::ExecutorSpec>,
    /// Tasks not terminal (queued or launched).
    pub active_tasks: usize,
}

/// One task on this agent.
#[derive(Debug)]
pub struct AgentTaskView<'a> {
    pub framework_id: &'a FrameworkId,
    pub executor_id: &'a ExecutorId,
    pub spec: &'a TaskSpec,
    pub state: TaskState,
    /// Waiting for its executor to subscribe (not handed to it yet).
    pub queued: bool,
}

impl Agent {
    /// Frameworks with executors on this agent, ordered by id.
    pub fn frameworks(&self) -> impl Iterator<Item = &FrameworkRecord> {
        self.frameworks.values()
    }

    /// Executors with what the operator API reports about them, ordered by framework and id.
    pub fn executor_details(&self) -> impl Iterator<Item = ExecutorDetail<'_>> {
        self.executors.values().map(|e| {
            let spec = e
                .queued
                .first()
                .or_else(|| e.launched.values().next().map(|(t, _)| t))
                .map(|t| &t.executor);
            let active_tasks = e.queued.len()
                + e.launched
                    .values()
                    .filter(|(_, s)| !s.is_terminal())
                    .count();
            ExecutorDetail {
                framework_id: &e.framework_id,
                executor_id: &e.executor_id,
                container_id: &e.container_id,
                state: e.state,
                command_executor: e.command_executor,
                spec,
                active_tasks,
            }
        })
    }

    /// Every task this agent holds: queued ones first within each executor, then launched ones.
    pub fn agent_tasks(&self) -> impl Iterator<Item = AgentTaskView<'_>> {
        self.executors.values().flat_map(|e| {
            let queued = e.queued.iter().map(move |t| AgentTaskView {
                framework_id: &e.framework_id,
                executor_id: &e.executor_id,
                spec: t,
                state: TaskState::Staging,
                queued: true,
            });
            let launched = e.launched.values().map(move |(t, s)| AgentTaskView {
                framework_id: &e.framework_id,
                executor_id: &e.executor_id,
                spec: t,
                state: *s,
                queued: false,
            });
            queued.chain(launched)
        })
    }
}
