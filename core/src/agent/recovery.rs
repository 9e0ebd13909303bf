//! Agent recovery after a restart (Mesos `Slave::recover` with `--recover=reconnect`): the agent
//! is rebuilt from its [`CheckpointState`], re-registers at once with its id and tasks, waits
//! `executor_reregistration_timeout` for its executors to subscribe again, and resends every
//! unacknowledged status update once the master has it back.
//!
//! `--recover=cleanup` (kill every old executor and exit) is not implemented; neither is
//! `--strict=false`: a checkpoint that does not read refuses the start (see the platform's
//! `checkpoint` module).
//!
//! # The driver's obligations on a restart
//!
//! 1. Read the checkpoint (platform `checkpoint::AgentCheckpoint::open`). If it holds an identity
//!    whose info differs from the flags', run [`super::reconfiguration::check`] with the
//!    configured policy and exit with its refusal if any.
//! 2. Build the agent with [`Agent::recover`] instead of [`Agent::new`] when the checkpoint is
//!    not empty, and serve the executor API at once: executors retry SUBSCRIBE for a while.
//! 3. For each executor in [`Agent::executors`] with a `pid`, watch that process group: it is
//!    no longer the agent's child, so poll it (`kill(pid, 0)` or a pidfd) and call
//!    [`Agent::handle_container_exited`] (wait status `-1`, unknown) when it is gone, also when it
//!    is already gone at start. Map `KillContainer` of those containers to that pid.
//! 4. Drain the pollers as after any input (the first batch re-records a changed identity).

use super::checkpoint::{CheckpointState, Record};
use super::executors::ExecutorEntry;
use super::reconfiguration::{self, ReconfigurationPolicy, Refusal};
use super::{Agent, AgentConfig, AgentOutput, ExecutorEvent, ExecutorState, ExecutorStream};
use crate::ids::{ExecutorId, FrameworkId, TaskId};
use crate::task_state::TaskState;
use crate::time::{Instant, WallTime};
use crate::wire::{AgentInfo, StatusReason, TaskStatus};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// How a starting agent uses what its checkpoint holds (Mesos `Slave::recover`, with the
/// reboot fallback Mesos added in 1.4).
#[derive(Debug)]
pub enum StartFrom<'a> {
    /// Nothing is checkpointed: a new agent ([`Agent::new`]).
    New,
    /// Recover the checkpointed agent ([`Agent::recover`]): its info is unchanged, or changed as
    /// the policy allows. After a reboot none of its executors survived, and their pids may
    /// belong to unrelated processes now: they are reported gone, never signalled.
    Checkpoint { rebooted: bool },
    /// The host rebooted and the policy refuses the change: the checkpoint is set aside and
    /// the agent starts as a new agent.
    DiscardAfterReboot(Refusal<'a>),
    /// The policy refuses the change and the host did not reboot: the agent does not start.
    Refuse(Refusal<'a>),
}

/// Decides how an agent configured with `info` starts from `state`. The host rebooted when
/// both boot ids are known and differ (Mesos compares `meta/boot_id`).
pub fn start_from<'a>(
    state: &'a CheckpointState,
    info: &'a AgentInfo,
    policy: ReconfigurationPolicy,
    boot_id: Option<&str>,
    recorded_boot_id: Option<&str>,
) -> StartFrom<'a> {
    if state.is_empty() {
        return StartFrom::New;
    }
    let rebooted = matches!((boot_id, recorded_boot_id), (Some(b), Some(r)) if b != r);
    let refusal = state
        .info()
        .and_then(|old| reconfiguration::check(policy, old, info).err());
    match (refusal, rebooted) {
        (None, _) => StartFrom::Checkpoint { rebooted },
        (Some(r), true) => StartFrom::DiscardAfterReboot(r),
        (Some(r), false) => StartFrom::Refuse(r),
    }
}

impl Agent {
    /// An agent rebuilt from its checkpoint: its id, frameworks, executors (each waiting to
    /// subscribe again until `now + cfg.executor_reregistration_timeout`), tasks and queued
    /// status updates. It asks to connect to the master at once and re-registers with its id and
    /// tasks; the queued updates are resent, in order per task, once it is re-registered.
    ///
    /// An executor whose process ended while the agent was down is learned from the driver
    /// (`handle_container_exited`) or, without a pid, at the re-registration deadline.
    pub fn recover(cfg: AgentConfig, now: Instant, state: CheckpointState) -> Agent {
        let mut agent = Agent::new(cfg, now);
        agent.id = state.agent_id().cloned();
        if let (Some(id), Some(info)) = (state.agent_id(), state.info()) {
            if *info != agent.cfg.info {
                // The driver checked the change against the reconfiguration policy.
                let record = Record::Identity {
                    id: id.clone(),
                    info: agent.cfg.info.clone(),
                };
                agent.record(record);
            }
        }
        agent.frameworks = state.frameworks.clone();
        agent.checkpointed = state.checkpointed.clone();
        agent.resync_volumes();
        // Queued updates must not be sent before the master has the agent back.
        agent.updates.pause();
        let deadline = now + agent.cfg.executor_reregistration_timeout;
        let mut recovered = 0usize;
        for ((fid, eid), e) in &state.executors {
            let mut launched = BTreeMap::new();
            let mut last_uuid = BTreeMap::new();
            let mut groups = Vec::new();
            for (tasks, group) in &e.adds {
                if *group {
                    groups.push(tasks.iter().map(|t| t.task_id.clone()).collect());
                }
                for t in tasks {
                    let ckpt = e.tasks.get(&t.task_id);
                    let task_state = ckpt
                        .and_then(|c| c.latest_state())
                        .unwrap_or(TaskState::Staging);
                    if let Some(uuid) = ckpt.and_then(|c| c.latest_uuid()) {
                        last_uuid.insert(t.task_id.clone(), uuid);
                    }
                    launched.insert(t.task_id.clone(), (t.clone(), task_state));
                    for u in ckpt.map(|c| c.pending.iter()).into_iter().flatten() {
                        // Paused until re-registration; `resume` sends every head.
                        agent
                            .updates
                            .push(now, agent.cfg.status_retry_min, u.clone());
                    }
                }
            }
            let entry = ExecutorEntry {
                framework_id: fid.clone(),
                executor_id: eid.clone(),
                container_id: e.container_id.clone(),
                state: if e.ended {
                    ExecutorState::Terminated
                } else {
                    ExecutorState::Launching { deadline }
                },
                stream: None,
                queued: Vec::new(),
                launched,
                killing: Vec::new(),
                command_executor: e.command_executor,
                groups,
                spec: e.spec.clone(),
                pid: e.pid,
                recovered: !e.ended,
                last_uuid,
            };
            if !e.ended {
                agent
                    .containers
                    .insert(e.container_id.clone(), (fid.clone(), eid.clone()));
                recovered += 1;
            }
            agent.executors.insert((fid.clone(), eid.clone()), entry);
        }
        let pending = agent.updates_pending_count();
        // The records made above (a changed identity) stay pending.
        agent.ckpt.durable = state;
        let keys: Vec<_> = agent.executors.keys().cloned().collect();
        for key in keys {
            agent.forget_finished_executor(&key);
        }
        agent.log(alloc::format!(
            "recovered {} from the checkpoint: {} executors waiting to re-subscribe, {} status \
             updates to resend",
            agent.id.as_ref().map_or_else(
                || alloc::string::String::from("an agent"),
                |id| alloc::format!("agent {id}")
            ),
            recovered,
            pending
        ));
        agent
    }

    fn updates_pending_count(&self) -> usize {
        self.executors
            .values()
            .flat_map(|e| e.launched.keys().map(move |t| (&e.framework_id, t)))
            .map(|(f, t)| self.updates.len(f, t))
            .sum()
    }

    /// The unacknowledged updates an executor sends with SUBSCRIBE, oldest first.
    pub(super) fn accept_resent_updates(
        &mut self,
        now: Instant,
        wall: WallTime,
        key: &(FrameworkId, ExecutorId),
        stream: ExecutorStream,
        updates: Vec<TaskStatus>,
    ) {
        // Per task, the executor's list is in order; everything up to the newest update the
        // agent accepted was accepted already.
        let mut skip: BTreeMap<TaskId, usize> = BTreeMap::new();
        if let Some(exec) = self.executors.get(key) {
            for (task_id, last) in &exec.last_uuid {
                let mine = updates.iter().filter(|u| &u.task_id == task_id);
                if let Some(pos) = mine.clone().position(|u| u.uuid == Some(*last)) {
                    skip.insert(task_id.clone(), pos + 1);
                }
            }
        }
        for status in updates {
            let Some(uuid) = status.uuid else { continue };
            let task_id = status.task_id.clone();
            let seen = skip.get_mut(&task_id).is_some_and(|n| {
                let dup = *n > 0;
                *n = n.saturating_sub(1);
                dup
            });
            let terminal = self
                .executors
                .get(key)
                .and_then(|e| e.launched.get(&task_id))
                .is_some_and(|(_, s)| s.is_terminal());
            if seen || terminal || self.updates.contains(&key.0, &task_id, uuid) {
                self.emit_exec(
                    now,
                    AgentOutput::ToExecutor {
                        stream,
                        event: ExecutorEvent::Acknowledged { task_id, uuid },
                    },
                );
                continue;
            }
            if let Err(e) = self.handle_executor_update(now, wall, &key.0, &key.1, status) {
                self.log(alloc::format!(
                    "dropping an update executor {} resent for task {task_id}: {e}",
                    key.1
                ));
            }
        }
    }

    /// A recovered executor did not subscribe again within `executor_reregistration_timeout`
    /// (Mesos `reregisterExecutorTimeout`): its unfinished tasks become `TASK_LOST` with
    /// `REASON_EXECUTOR_REREGISTRATION_TIMEOUT` (what Mesos sends frameworks that are not
    /// PARTITION_AWARE; the agent does not know the capability), and its process group is
    /// killed if its pid is known. Without a pid there is nothing to kill or wait for.
    pub(super) fn declare_gone(
        &mut self,
        now: Instant,
        wall: WallTime,
        key: &(FrameworkId, ExecutorId),
    ) {
        let message = alloc::format!(
            "executor did not re-subscribe within {} ms after the agent restarted",
            self.cfg.executor_reregistration_timeout.as_millis()
        );
        self.log(alloc::format!(
            "executor {} of framework {} is gone: {message}",
            key.1,
            key.0
        ));
        self.end_executor_as_lost(
            now,
            wall,
            key,
            StatusReason::ExecutorReregistrationTimeout,
            &message,
        );
    }

    /// Ends an executor from the agent's side: its unfinished tasks become `TASK_LOST` with
    /// `reason`, and its process group is killed if its pid is known (without a pid there is
    /// nothing to kill or wait for).
    pub(super) fn end_executor_as_lost(
        &mut self,
        now: Instant,
        wall: WallTime,
        key: &(FrameworkId, ExecutorId),
        reason: StatusReason,
        message: &str,
    ) {
        let Some(exec) = self.executors.get_mut(key) else {
            return;
        };
        exec.recovered = false;
        let mut unfinished: Vec<TaskId> = Vec::new();
        for t in exec.queued.drain(..) {
            exec.launched
                .insert(t.task_id.clone(), (t, TaskState::Staging));
        }
        for (id, (_, state)) in exec.launched.iter_mut() {
            if !state.is_terminal() {
                *state = TaskState::Lost;
                unfinished.push(id.clone());
            }
        }
        let container = exec.container_id.clone();
        let pid = exec.pid;
        for task_id in unfinished {
            let status =
                self.agent_status(&task_id, TaskState::Lost, reason, message, &key.1, wall);
            self.queue_update(now, key.0.clone(), &key.1, status);
        }
        match pid {
            Some(_) => {
                if let Some(exec) = self.executors.get_mut(key) {
                    exec.state = ExecutorState::Terminating {
                        kill_at: now + self.cfg.executor_shutdown_grace,
                    };
                }
                self.emit_exec(
                    now,
                    AgentOutput::KillContainer {
                        container_id: container,
                        force: true,
                    },
                );
            }
            None => {
                if let Some(exec) = self.executors.get_mut(key) {
                    exec.state = ExecutorState::Terminated;
                }
                self.containers.remove(&container);
                self.record(Record::ExecutorEnded {
                    framework_id: key.0.clone(),
                    executor_id: key.1.clone(),
                });
                self.forget_finished_executor(key);
            }
        }
    }
}
