//! The agent's task status bookkeeping: the updates it generates itself, queueing every update
//! through the checkpoint, the framework's acknowledgements, the tasks it reports when it
//! re-registers, and forgetting executors and frameworks once everything about them is
//! acknowledged.

use super::checkpoint::Record;
use super::persist::Effect;
use super::{Agent, ExecutorState};
use crate::ids::{ExecutorId, FrameworkId, TaskId};
use crate::task_state::TaskState;
use crate::time::{Instant, WallTime};
use crate::wire::{
    FrameworkRecord, StatusReason, StatusSource, StatusUpdate, TaskReport, TaskStatus,
};
use alloc::string::String;
use alloc::vec::Vec;

impl Agent {
    /// The framework acknowledged update `uuid` of a task: checkpointed, then applied.
    pub(super) fn acknowledge(
        &mut self,
        now: Instant,
        framework_id: &FrameworkId,
        task_id: &TaskId,
        uuid: [u8; 16],
    ) {
        if !self.updates.begin_ack(framework_id, task_id, uuid) {
            return; // A duplicate or unexpected acknowledgement is ignored.
        }
        let executor_id = self
            .executors
            .iter()
            .find(|((f, _), e)| f == framework_id && e.launched.contains_key(task_id))
            .map(|((_, e), _)| e.clone());
        if let Some(executor_id) = executor_id {
            self.record(Record::UpdateAcknowledged {
                framework_id: framework_id.clone(),
                executor_id,
                task_id: task_id.clone(),
                uuid,
            });
        }
        self.after_durable(
            now,
            Effect::Ack {
                framework_id: framework_id.clone(),
                task_id: task_id.clone(),
                uuid,
            },
        );
    }

    /// Drops the framework's terminated executors whose updates are all acknowledged.
    pub(super) fn forget_finished_executors_of(&mut self, framework_id: &FrameworkId) {
        let keys: Vec<(FrameworkId, ExecutorId)> = self
            .executors
            .keys()
            .filter(|(f, _)| f == framework_id)
            .cloned()
            .collect();
        for key in keys {
            self.forget_finished_executor(&key);
        }
    }

    /// Drops a terminated executor once none of its tasks has unacknowledged updates.
    pub(super) fn forget_finished_executor(&mut self, key: &(FrameworkId, ExecutorId)) {
        let Some(exec) = self.executors.get(key) else {
            return;
        };
        if exec.state != ExecutorState::Terminated {
            return;
        }
        if exec
            .launched
            .keys()
            .any(|t| self.updates.has_pending(&key.0, t) || self.ckpt.awaits_push(&key.0, t))
        {
            return;
        }
        if let Some(exec) = self.executors.remove(key) {
            self.schedule_sandbox_gc(&exec);
        }
        self.record(Record::ExecutorRemoved {
            framework_id: key.0.clone(),
            executor_id: key.1.clone(),
        });
        if !self.executors.keys().any(|(f, _)| f == &key.0) {
            self.frameworks.remove(&key.0);
            self.record(Record::FrameworkRemoved {
                framework_id: key.0.clone(),
            });
        }
    }

    /// Takes the framework's facts, checkpointing them when they are new or changed.
    pub(super) fn note_framework(&mut self, framework: FrameworkRecord) {
        if self.frameworks.get(&framework.id) != Some(&framework) {
            self.record(Record::Framework(framework.clone()));
            self.frameworks.insert(framework.id.clone(), framework);
        }
    }

    pub(super) fn agent_status(
        &mut self,
        task_id: &TaskId,
        state: TaskState,
        reason: StatusReason,
        message: &str,
        executor_id: &ExecutorId,
        wall: WallTime,
    ) -> TaskStatus {
        TaskStatus {
            task_id: task_id.clone(),
            state,
            message: Some(String::from(message)),
            source: StatusSource::Agent,
            reason: Some(reason),
            agent_id: self.id.clone(),
            executor_id: Some(executor_id.clone()),
            timestamp: wall,
            uuid: Some(self.new_uuid()),
            data: Vec::new(),
            unreachable_time: None,
        }
    }

    /// Queues an update: checkpointed, then pushed into its task's stream (and sent if it is
    /// the stream's head) once durable. Agent-generated updates are not bounded per task (they
    /// are at most a few per task); executors' updates are checked against
    /// [`super::updates::MAX_PENDING_PER_TASK`] before.
    pub(super) fn queue_update(
        &mut self,
        now: Instant,
        framework_id: FrameworkId,
        executor_id: &ExecutorId,
        status: TaskStatus,
    ) {
        let key = (framework_id.clone(), executor_id.clone());
        if let (Some(exec), Some(uuid)) = (self.executors.get_mut(&key), status.uuid) {
            exec.last_uuid.insert(status.task_id.clone(), uuid);
        }
        let update = StatusUpdate {
            framework_id,
            latest_state: status.state,
            status,
        };
        self.record(Record::UpdateQueued {
            executor_id: executor_id.clone(),
            update: update.clone(),
        });
        self.after_durable(now, Effect::Push(update));
    }

    /// Tasks to report when re-registering, with their newest known state.
    pub(super) fn task_reports(&self) -> Vec<TaskReport> {
        let mut out = Vec::new();
        for ((fid, eid), e) in &self.executors {
            let tasks = e
                .queued
                .iter()
                .map(|t| (t, TaskState::Staging))
                .chain(e.launched.values().map(|(t, s)| (t, *s)));
            for (t, state) in tasks {
                // A terminal task the framework has acknowledged is over: not reported (also
                // while that acknowledgement is being written: the master would otherwise keep
                // the task, waiting for an update the agent will not send again).
                if state.is_terminal()
                    && !self.updates.awaits_acknowledgement(fid, &t.task_id)
                    && !self.ckpt.awaits_push(fid, &t.task_id)
                {
                    continue;
                }
                let state = self.updates.latest_state(fid, &t.task_id).unwrap_or(state);
                out.push(TaskReport {
                    framework_id: fid.clone(),
                    executor_id: eid.clone(),
                    task_id: t.task_id.clone(),
                    name: t.name.clone(),
                    state,
                    resources: t.resources.clone(),
                    role: t.role.clone(),
                });
            }
        }
        out
    }
}
