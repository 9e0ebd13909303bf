//! Master side of partitions (Mesos 1.5 §4.5-4.6): agents that stop answering pings, or do not
//! re-register after a master restart, are marked unreachable once the registry says so; their
//! tasks are kept as unreachable tasks and recovered, not killed, when the agent comes back; and
//! the registry's unreachable and gone lists are pruned periodically.

use super::tasks::TaskEntry;
use super::{Master, MasterOutput, PendingOp, SchedulerEvent};
use crate::ids::{AgentId, FrameworkId, TaskId};
use crate::registry::{Applied, Op, OpError};
use crate::task_state::TaskState;
use crate::time::{Instant, WallTime};
use crate::wire::{StatusReason, TaskReport};
use alloc::vec::Vec;

/// A task of an unreachable agent (an entry of Mesos' `Framework::unreachableTasks`).
#[derive(Clone, Debug)]
pub(super) struct UnreachableTask {
    /// The task as the master last knew it; its state is what the framework was told
    /// (`TASK_UNREACHABLE`, or `TASK_LOST` without PARTITION_AWARE), or its terminal state when
    /// that was still waiting for an acknowledgement.
    pub task: TaskEntry,
    /// When its agent was marked unreachable (`TaskStatus.unreachable_time`).
    pub since: WallTime,
}

impl Master {
    /// Starts Mesos `markUnreachable`: the agent stops getting offers now; `Op::MarkUnreachable`
    /// is written, and only once it is durable are its tasks reported and the agent dropped
    /// ([`Master::finish_mark_unreachable`]). A second call while the write is in flight does
    /// nothing.
    pub(super) fn mark_unreachable(&mut self, wall: WallTime, id: &AgentId, why: &str) {
        if !self.marking_unreachable.insert(id.clone()) {
            return;
        }
        if let Some(slot) = self.agents.get(id).map(|a| a.slot) {
            self.allocator.deactivate_agent(slot);
            self.rescind_offers_on_agent(id);
        }
        self.log(alloc::format!("marking agent {id} unreachable: {why}"));
        let op = Op::MarkUnreachable {
            id: id.clone(),
            at: wall,
        };
        self.submit(
            op,
            PendingOp::Unreachable {
                id: id.clone(),
                at: wall,
            },
        );
    }

    /// `Op::MarkUnreachable` is durable: the agent leaves the master (connection closed,
    /// allocator slot freed), each of its live tasks is reported `TASK_UNREACHABLE`
    /// (`REASON_AGENT_REMOVED`, `unreachable_time` set) to PARTITION_AWARE frameworks and
    /// `TASK_LOST` to others, and is kept as an unreachable task. Frameworks get a FAILURE
    /// event naming the agent (Mesos `slaveLost`).
    pub(super) fn finish_mark_unreachable(
        &mut self,
        now: Instant,
        wall: WallTime,
        id: AgentId,
        at: WallTime,
        outcome: Result<Applied, OpError>,
    ) {
        self.marking_unreachable.remove(&id);
        match outcome {
            Ok(Applied::Marked | Applied::Unchanged) => {}
            Ok(other) => {
                self.log(alloc::format!(
                    "unexpected registry answer {other:?} marking agent {id} unreachable"
                ));
                return;
            }
            Err(e) => {
                // Removed or marked gone meanwhile: that path already dealt with it.
                self.log(alloc::format!("agent {id} was not marked unreachable: {e}"));
                return;
            }
        }
        if let Some(agent) = self.agents.get(&id) {
            let address = (agent.info.ip.clone(), agent.info.port);
            self.unreachable_addresses.insert(id.clone(), address);
            self.drop_unreachable_agent(now, wall, &id, at);
        } else {
            // An agent recovered from the registry that never re-registered: the master holds
            // none of its tasks; frameworks still learn that the agent is lost.
            let streams: Vec<_> = self.frameworks.values().filter_map(|f| f.stream).collect();
            for stream in streams {
                self.outputs.push_back(MasterOutput::ToFramework {
                    stream,
                    event: SchedulerEvent::Failure {
                        agent_id: id.clone(),
                        executor_id: None,
                        status: None,
                    },
                });
            }
        }
        self.log(alloc::format!(
            "agent {id} is unreachable; its tasks are kept and recovered if it re-registers"
        ));
    }

    /// Keeps an unreachable task, at most `max_unreachable_tasks_per_framework` per framework
    /// (the one unreachable longest goes first; the scan is linear, only when full).
    pub(super) fn remember_unreachable(&mut self, task: TaskEntry, since: WallTime) {
        let max = self.cfg.max_unreachable_tasks_per_framework;
        if max == 0 {
            return;
        }
        let fw = task.framework_id.clone();
        let of_fw = || self.unreachable_tasks.iter().filter(|(k, _)| k.0 == fw);
        if of_fw().count() >= max {
            let oldest = of_fw().min_by_key(|(_, u)| u.since).map(|(k, _)| k.clone());
            if let Some(key) = oldest {
                self.unreachable_tasks.remove(&key);
            }
        }
        self.unreachable_tasks.insert(
            (task.framework_id.clone(), task.task_id.clone()),
            UnreachableTask { task, since },
        );
    }

    /// A re-registering agent's tasks that were unreachable go back to the live tasks with the
    /// state the agent reports, and their frameworks are told that state (Mesos 1.5
    /// `__reregisterSlave`: for every framework, partition-aware or not; nothing is killed).
    /// Unreachable tasks the agent no longer has are reported `TASK_GONE` (`TASK_LOST` without
    /// PARTITION_AWARE) and completed. Tasks of `removed` frameworks are forgotten.
    pub(super) fn recover_unreachable_tasks(
        &mut self,
        wall: WallTime,
        agent: &AgentId,
        reported: &[TaskReport],
        removed: &[FrameworkId],
    ) {
        self.unreachable_addresses.remove(agent);
        let keys: Vec<(FrameworkId, TaskId)> = self
            .unreachable_tasks
            .iter()
            .filter(|(_, u)| &u.task.agent_id == agent)
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            let Some(UnreachableTask { mut task, .. }) = self.unreachable_tasks.remove(&key) else {
                continue;
            };
            if removed.contains(&task.framework_id) {
                continue;
            }
            let report = reported
                .iter()
                .find(|r| r.framework_id == task.framework_id && r.task_id == task.task_id);
            let Some(report) = report else {
                let state = if self.is_partition_aware(&task.framework_id) {
                    TaskState::Gone
                } else {
                    TaskState::Lost
                };
                let status = self.master_status(
                    task.task_id.clone(),
                    state,
                    StatusReason::AgentRemoved,
                    "the agent re-registered without this task",
                    Some(agent.clone()),
                    wall,
                );
                self.publish_status(&task.framework_id, status);
                if !task.state.is_terminal() {
                    task.state = state;
                }
                self.remember_completed(task);
                continue;
            };
            task.state = report.state;
            task.released = report.state.is_terminal();
            if !task.released {
                let fw_slot = self
                    .frameworks
                    .get(&task.framework_id)
                    .and_then(|f| f.slot_of(&task.role));
                let agent_slot = self.agents.get(agent).map(|a| a.slot);
                if let (Some(fs), Some(ag)) = (fw_slot, agent_slot) {
                    let _ = self.allocator.add_allocated(fs, ag, &task.resources);
                }
            }
            // As Mesos: `REASON_AGENT_REREGISTERED`.
            let mut status = self.master_status(
                task.task_id.clone(),
                report.state,
                StatusReason::AgentReregistered,
                "Agent re-registered",
                Some(agent.clone()),
                wall,
            );
            if task.executor_id.as_str() != task.task_id.as_str() {
                status.executor_id = Some(task.executor_id.clone());
            }
            let framework_id = task.framework_id.clone();
            self.tasks.insert(key, task);
            self.publish_status(&framework_id, status);
        }
    }

    /// Drops every unreachable task of an agent the operator marked gone: each is reported
    /// `TASK_GONE_BY_OPERATOR` (`TASK_LOST` without PARTITION_AWARE) and completed.
    pub(super) fn drop_gone_unreachable_tasks(&mut self, wall: WallTime, agent: &AgentId) {
        self.unreachable_addresses.remove(agent);
        let keys: Vec<(FrameworkId, TaskId)> = self
            .unreachable_tasks
            .iter()
            .filter(|(_, u)| &u.task.agent_id == agent)
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            let Some(UnreachableTask { mut task, .. }) = self.unreachable_tasks.remove(&key) else {
                continue;
            };
            let state = if self.is_partition_aware(&task.framework_id) {
                TaskState::GoneByOperator
            } else {
                TaskState::Lost
            };
            let status = self.master_status(
                task.task_id.clone(),
                state,
                StatusReason::AgentRemovedByOperator,
                "the operator marked the agent gone",
                Some(agent.clone()),
                wall,
            );
            self.publish_status(&task.framework_id, status);
            if !task.state.is_terminal() || task.state == TaskState::Lost {
                task.state = state;
            }
            self.remember_completed(task);
        }
    }

    pub(super) fn is_partition_aware(&self, framework: &FrameworkId) -> bool {
        self.frameworks
            .get(framework)
            .is_some_and(|f| f.spec.capabilities.partition_aware)
    }

    /// The partition timers: the re-registration deadline after a master restart, and registry GC.
    pub(super) fn tick_partitions(&mut self, now: Instant, wall: WallTime) {
        if self.reregister_deadline.is_some_and(|d| now >= d) {
            self.reregister_deadline = None;
            self.mark_stragglers(wall);
        }
        if now >= self.next_registry_gc {
            self.next_registry_gc = now + self.cfg.registry_gc_interval;
            self.registry_gc(wall);
        }
    }

    /// `--agent-reregister-timeout` passed since the master recovered: admitted agents that did
    /// not re-register are marked unreachable, unless they are more than
    /// `--recovery-agent-removal-limit` of the admitted agents. Past the limit Mesos exits (fails
    /// over) as a safety valve; a single edge master has nobody to fail over to, so it logs and
    /// leaves them recovered (still admitted, free to re-register, reconciliation of their tasks
    /// unanswered).
    fn mark_stragglers(&mut self, wall: WallTime) {
        let total = self.registry().admitted.len();
        let stragglers: Vec<AgentId> = self
            .registry()
            .admitted
            .iter()
            .filter(|a| !self.agents.contains_key(&a.id))
            .map(|a| a.id.clone())
            .collect();
        if stragglers.is_empty() {
            return;
        }
        let limit = u64::from(self.cfg.recovery_agent_removal_limit);
        if stragglers.len() as u64 * 10_000 > total as u64 * limit {
            self.log(alloc::format!(
                "{} of {total} admitted agents did not re-register within {} s, more than the \
                 recovery agent removal limit of {}.{:02}%; leaving them recovered (not marked \
                 unreachable)",
                stragglers.len(),
                self.cfg.agent_reregister_timeout.as_secs(),
                limit / 100,
                limit % 100
            ));
            return;
        }
        let why = alloc::format!(
            "did not re-register within {} s of the master's recovery",
            self.cfg.agent_reregister_timeout.as_secs()
        );
        for id in stragglers {
            self.mark_unreachable(wall, &id, &why);
        }
    }

    /// Registry GC: submits `Op::Prune` when an unreachable or gone entry is older than
    /// `--registry-max-agent-age` or a list is longer than `--registry-max-agent-count`.
    fn registry_gc(&mut self, wall: WallTime) {
        let age_nanos = self
            .cfg
            .registry_max_agent_age
            .as_millis()
            .saturating_mul(1_000_000);
        let older_than = WallTime {
            unix_nanos: wall.unix_nanos.saturating_sub(age_nanos),
        };
        let max_count = self.cfg.registry_max_agent_count;
        let reg = self.registry();
        let due = |list: &[(AgentId, WallTime)]| {
            list.len() > max_count as usize || list.iter().any(|(_, at)| *at < older_than)
        };
        if !due(&reg.unreachable) && !due(&reg.gone) {
            return;
        }
        self.submit(
            Op::Prune {
                older_than,
                max_count,
            },
            PendingOp::Prune,
        );
    }

    /// `Op::Prune` is durable: unreachable tasks of agents no longer in the unreachable list are
    /// forgotten (Mesos 1.5.3, MESOS-8887).
    pub(super) fn finish_prune(&mut self, outcome: Result<Applied, OpError>) {
        let Ok(Applied::Pruned { unreachable, gone }) = outcome else {
            return;
        };
        let before = self.unreachable_tasks.len();
        let reg = self.registrar.registry();
        self.unreachable_tasks
            .retain(|_, u| reg.unreachable.iter().any(|(id, _)| *id == u.task.agent_id));
        self.unreachable_addresses
            .retain(|id, _| reg.unreachable.iter().any(|(u, _)| u == id));
        let dropped = before - self.unreachable_tasks.len();
        self.log(alloc::format!(
            "registry GC pruned {unreachable} unreachable and {gone} gone agent(s) and \
             {dropped} unreachable task(s)"
        ));
    }

    /// A new agent registered at `ip:port`: an unreachable agent this master knew there is
    /// gone with the process that ran it (as Mesos replaces a disconnected agent at the same
    /// address), so its unreachable tasks are reported `TASK_GONE` (`TASK_LOST` without
    /// PARTITION_AWARE) and completed. Its registry entry stays until registry GC.
    pub(super) fn replace_unreachable_at(&mut self, wall: WallTime, ip: &str, port: u16) {
        let old: Vec<AgentId> = self
            .unreachable_addresses
            .iter()
            .filter(|(_, (i, p))| i == ip && *p == port)
            .map(|(id, _)| id.clone())
            .collect();
        for id in old {
            self.log(alloc::format!(
                "a new agent registered at the address of unreachable agent {id}; its tasks are gone"
            ));
            self.recover_unreachable_tasks(wall, &id, &[], &[]);
        }
    }

    /// The unreachable task with this key, if any.
    pub(super) fn unreachable_task(
        &self,
        framework: &FrameworkId,
        task: &TaskId,
    ) -> Option<&UnreachableTask> {
        self.unreachable_tasks
            .get(&(framework.clone(), task.clone()))
    }

    /// Whether a MarkUnreachable write for this agent is in flight.
    pub(super) fn is_marking_unreachable(&self, id: &AgentId) -> bool {
        self.marking_unreachable.contains(id)
    }

    /// Forgets the unreachable tasks of a removed framework.
    pub(super) fn forget_unreachable_tasks_of(&mut self, framework: &FrameworkId) {
        self.unreachable_tasks.retain(|(f, _), _| f != framework);
    }

    /// The in-memory removal of an agent marked unreachable; see [`Master::drop_agent`].
    fn drop_unreachable_agent(&mut self, now: Instant, wall: WallTime, id: &AgentId, at: WallTime) {
        self.drop_agent(
            now,
            wall,
            id,
            "agent is unreachable",
            super::agents::Removal::Unreachable(at),
        );
    }
}
