//! The agent's side of checkpointing: records collect into a pending batch, the driver writes
//! one batch at a time with one `fdatasync` (group commit), and what must not happen before a
//! change is durable waits for its batch.
//!
//! # The driver's obligations
//!
//! After every input, besides draining [`Agent::poll_output`]:
//!
//! 1. If [`Agent::poll_checkpoint`] hands out a batch, append it to the checkpoint log with one
//!    write and one `fdatasync` (platform `checkpoint::AgentCheckpoint::append`), off the event
//!    loop if it likes, and report with [`Agent::handle_checkpoint_written`]. At most one batch is
//!    in flight; records produced meanwhile form the next batch, so one fsync covers every update
//!    and acknowledgement that arrived during the previous one.
//! 2. After a durable batch, compact when the log is large: write
//!    [`Agent::checkpoint_state`] as the snapshot (it is exactly what the durable log holds).
//! 3. On [`AgentOutput::Fatal`] exit with the message: a failed write leaves the checkpoint
//!    unknown, and the agent recovers from the disk when it is restarted.
//!
//! # What waits for durability
//!
//! - Every output towards executors and containers ([`AgentOutput::LaunchExecutor`],
//!   [`AgentOutput::ToExecutor`], [`AgentOutput::CloseExecutorStream`],
//!   [`AgentOutput::KillContainer`]) leaves in order after every record produced before it is
//!   durable. So an executor is started only once it and its tasks are checkpointed (no orphan
//!   container after a crash), and `ACKNOWLEDGED` tells an executor it may forget an update only
//!   once the update is on disk.
//! - A status update enters its stream, and so is forwarded to the master, only once durable.
//!   Forwarding earlier would be allowed by the master (the framework sees at-least-once
//!   delivery anyway), but a crash could then make the framework see a terminal state that the
//!   restarted agent no longer knows and contradicts (its executor gone, the task reported
//!   `TASK_LOST`). Forwarding after the fsync costs one batch of latency, not throughput.
//! - An acknowledgement from the framework pops its stream, and releases the next update, only
//!   once durable, so a restarted agent never resends an update older than one already seen.
//! - A new agent id is recorded before anything that uses it (sandboxes are named after it).
//!
//! Outputs towards the master (registration, pongs, executor messages) and logs do not wait.
//! With nothing to write, nothing waits and nothing is allocated.

use super::checkpoint::{CheckpointBatch, CheckpointState, Record};
use super::{Agent, AgentOutput};
use crate::ids::{ContainerId, FrameworkId, TaskId};
use crate::time::Instant;
use crate::wire::{AgentToMaster, StatusUpdate};
use alloc::string::String;
use alloc::vec::Vec;

/// How the driver's write of a batch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointWritten {
    /// The batch is on disk (written and fsynced).
    Durable,
    /// The write or the fsync failed: fatal for the agent.
    Failed,
}

/// Something that waits for the records before it to be durable.
#[derive(Debug)]
pub(super) enum Effect {
    Output(AgentOutput),
    /// A status update enters its stream.
    Push(StatusUpdate),
    /// The head of a stream is acknowledged.
    Ack {
        framework_id: FrameworkId,
        task_id: TaskId,
        uuid: [u8; 16],
    },
}

/// Batches of records and the effects waiting for them.
#[derive(Debug, Default)]
pub(super) struct Checkpointer {
    /// What the durable checkpoint holds.
    pub durable: CheckpointState,
    pending: Vec<Record>,
    pending_effects: Vec<Effect>,
    in_flight: Option<CheckpointBatch>,
    in_flight_effects: Vec<Effect>,
    next_seq: u64,
    failed: bool,
}

impl Checkpointer {
    pub fn new(durable: CheckpointState) -> Checkpointer {
        Checkpointer {
            durable,
            next_seq: 1,
            ..Checkpointer::default()
        }
    }

    /// Whether an update of the task waits for its record to be durable.
    pub fn awaits_push(&self, framework_id: &FrameworkId, task_id: &TaskId) -> bool {
        self.pending_effects
            .iter()
            .chain(&self.in_flight_effects)
            .any(|e| {
                matches!(e, Effect::Push(u)
                    if u.framework_id == *framework_id && u.status.task_id == *task_id)
            })
    }
}

impl Agent {
    /// The next batch to persist, if records are waiting and none is in flight.
    pub fn poll_checkpoint(&mut self) -> Option<&CheckpointBatch> {
        let c = &mut self.ckpt;
        if c.failed || c.in_flight.is_some() || c.pending.is_empty() {
            return None;
        }
        let seq = c.next_seq;
        c.next_seq += 1;
        c.in_flight_effects = core::mem::take(&mut c.pending_effects);
        c.in_flight = Some(CheckpointBatch {
            seq,
            records: core::mem::take(&mut c.pending),
        });
        c.in_flight.as_ref()
    }

    /// Reports how the write of batch `seq` ended. A failure (or a `seq` that is not in flight,
    /// a driver bug) makes the agent emit [`AgentOutput::Fatal`] and stop checkpointing.
    pub fn handle_checkpoint_written(&mut self, now: Instant, seq: u64, result: CheckpointWritten) {
        let batch = match self.ckpt.in_flight.take() {
            Some(b) if b.seq == seq => b,
            other => {
                self.ckpt.in_flight = other;
                return self.checkpoint_failed(alloc::format!(
                    "checkpoint batch {seq} was reported written but is not being written"
                ));
            }
        };
        if result == CheckpointWritten::Failed {
            return self.checkpoint_failed(String::from(
                "writing the agent checkpoint failed; restart the agent to recover from it",
            ));
        }
        for r in batch.records {
            if let Err(e) = self.ckpt.durable.apply(r) {
                return self.checkpoint_failed(alloc::format!(
                    "the agent's own checkpoint records do not replay: {e}"
                ));
            }
        }
        let effects = core::mem::take(&mut self.ckpt.in_flight_effects);
        for e in effects {
            self.apply_effect(now, e);
        }
        self.check_teardown(now);
    }

    /// The durable checkpoint, for writing a compacted snapshot.
    pub fn checkpoint_state(&self) -> &CheckpointState {
        &self.ckpt.durable
    }

    /// Whether the checkpoint has records not yet durable (pending or in flight).
    pub fn checkpoint_busy(&self) -> bool {
        !self.ckpt.pending.is_empty() || self.ckpt.in_flight.is_some()
    }

    /// The driver started container `container_id`'s process as process group `pid`
    /// (Mesos `pids/forked.pid`): checkpointed so a restarted agent can kill it.
    pub fn handle_executor_pid(&mut self, container_id: &ContainerId, pid: u32) {
        let Some(key) = self.containers.get(container_id).cloned() else {
            return;
        };
        if let Some(e) = self.executors.get_mut(&key) {
            e.pid = Some(pid);
        }
        self.record(Record::ExecutorPid {
            framework_id: key.0,
            executor_id: key.1,
            container_id: container_id.clone(),
            pid,
        });
    }

    fn checkpoint_failed(&mut self, why: String) {
        self.ckpt.failed = true;
        self.outputs.push_back(AgentOutput::Fatal(why));
    }

    pub(super) fn record(&mut self, r: Record) {
        self.ckpt.pending.push(r);
    }

    /// Runs `e` once every record produced so far is durable (at once if none is waiting).
    pub(super) fn after_durable(&mut self, now: Instant, e: Effect) {
        let c = &mut self.ckpt;
        if !c.pending.is_empty() || c.failed {
            c.pending_effects.push(e);
        } else if c.in_flight.is_some() {
            c.in_flight_effects.push(e);
        } else {
            self.apply_effect(now, e);
        }
    }

    /// An output towards executors or containers: ordered behind the checkpoint.
    pub(super) fn emit_exec(&mut self, now: Instant, out: AgentOutput) {
        self.after_durable(now, Effect::Output(out));
    }

    fn apply_effect(&mut self, now: Instant, e: Effect) {
        match e {
            Effect::Output(out) => self.outputs.push_back(out),
            Effect::Push(update) => {
                if let Some(send) = self.updates.push(now, self.cfg.status_retry_min, update) {
                    if self.link == super::MasterLink::Registered {
                        self.outputs
                            .push_back(AgentOutput::ToMaster(AgentToMaster::StatusUpdate(send)));
                    }
                }
            }
            Effect::Ack {
                framework_id,
                task_id,
                uuid,
            } => {
                let next = self.updates.acknowledge(
                    now,
                    self.cfg.status_retry_min,
                    &framework_id,
                    &task_id,
                    uuid,
                );
                if let Some(next) = next {
                    if self.link == super::MasterLink::Registered {
                        self.outputs
                            .push_back(AgentOutput::ToMaster(AgentToMaster::StatusUpdate(next)));
                    }
                }
                self.forget_finished_executors_of(&framework_id);
            }
        }
    }
}
