//! Master side of agents: registration, re-registration (after a reconnect or a master restart),
//! liveness pings, and disconnection.

use super::{ConnId, Master, MasterOutput, PendingOp, Phase};
use crate::ids::{AgentId, AgentSlot, FrameworkId};
use crate::registry::{AgentRecord, Applied, Op, OpError};
use crate::resources::operations::apply_checkpointed_resources;
use crate::resources::Resources;
use crate::task_state::TaskState;
use crate::time::{Instant, WallTime};
use crate::wire::{
    AgentInfo, AgentToMaster, FrameworkRecord, MasterToAgent, StatusReason, TaskReport,
};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write as _;

/// How an agent leaves the master.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Removal {
    /// Replaced by a new agent at its address (Mesos `removeSlave`).
    Removed,
    /// Marked gone by the operator (Mesos `markAgentGone`).
    Gone,
    /// Marked unreachable at this time (Mesos `markUnreachable`): its tasks are kept as
    /// unreachable tasks, and it may come back.
    Unreachable(WallTime),
}

/// An agent the master knows and has admitted.
#[derive(Debug)]
pub(super) struct AgentEntry {
    pub id: AgentId,
    pub info: AgentInfo,
    pub slot: AgentSlot,
    pub conn: Option<ConnId>,
    pub registered_time: WallTime,
    pub reregistered_time: Option<WallTime>,
    /// Sequence of the last ping sent and pings not answered since the last pong.
    pub ping_seq: u64,
    pub missed_pings: u32,
    pub next_ping: Instant,
}

/// A re-registration waiting for its registry write.
#[derive(Debug)]
pub(super) struct Reregistration {
    pub id: AgentId,
    pub info: AgentInfo,
    /// The agent's dynamic reservations and persistent volumes.
    pub checkpointed: Resources,
    pub frameworks: Vec<FrameworkRecord>,
    pub tasks: Vec<TaskReport>,
}

/// The registry's view of an agent's info (what must be durable to admit it).
pub(super) fn record_of(info: &AgentInfo) -> AgentRecord {
    let mut attributes_text = String::new();
    for (i, a) in info.attributes.iter().enumerate() {
        if i > 0 {
            attributes_text.push(';');
        }
        let _ = write!(attributes_text, "{a}");
    }
    AgentRecord {
        hostname: info.hostname.clone(),
        ip: info.ip.clone(),
        port: info.port,
        resources_text: info.resources.to_string(),
        attributes_text,
    }
}

impl Master {
    /// An agent connection was closed by the network or the driver.
    pub fn handle_agent_disconnected(&mut self, _now: Instant, conn: ConnId) {
        let Some(id) = self.conns.remove(&conn) else {
            // Closed while its (re-)registration waits for the registry: remember, so the
            // completion does not activate the agent on a dead connection.
            let waiting = self.pending.values().any(|p| {
                matches!(p, PendingOp::Admit { conn: c, .. } | PendingOp::Reregister { conn: c, .. } if *c == conn)
            });
            if waiting {
                self.closed_conns.insert(conn);
            }
            return;
        };
        self.deactivate_agent(&id, "connection closed");
    }

    fn deactivate_agent(&mut self, id: &AgentId, why: &str) {
        let Some(agent) = self.agents.get_mut(id) else {
            return;
        };
        if let Some(conn) = agent.conn.take() {
            self.conns.remove(&conn);
        }
        let slot = agent.slot;
        self.allocator.deactivate_agent(slot);
        self.rescind_offers_on_agent(id);
        self.log(alloc::format!(
            "agent {id} disconnected ({why}); its tasks keep running and it may re-register"
        ));
    }

    /// A message from an agent connection.
    pub fn handle_agent_message(
        &mut self,
        now: Instant,
        wall: WallTime,
        conn: ConnId,
        msg: AgentToMaster,
    ) {
        if self.phase != Phase::Leading {
            // Not serving yet: the agent retries with backoff.
            self.outputs.push_back(MasterOutput::ToAgent {
                conn,
                msg: MasterToAgent::Refused {
                    reason: String::from("master has not finished recovery"),
                    forget_id: false,
                },
            });
            return;
        }
        match msg {
            AgentToMaster::Register { info, checkpointed } => {
                self.register_agent(now, wall, conn, info, checkpointed)
            }
            AgentToMaster::Reregister {
                id,
                info,
                checkpointed,
                frameworks,
                tasks,
            } => self.reregister_agent(
                now,
                wall,
                conn,
                Reregistration {
                    id,
                    info,
                    checkpointed,
                    frameworks,
                    tasks,
                },
            ),
            AgentToMaster::Pong { seq } => {
                if let Some(agent) = self.conns.get(&conn).and_then(|id| self.agents.get_mut(id)) {
                    if seq == agent.ping_seq {
                        agent.missed_pings = 0;
                    }
                }
            }
            AgentToMaster::StatusUpdate(update) => {
                if let Some(agent_id) = self.conns.get(&conn).cloned() {
                    self.handle_status_update(now, wall, &agent_id, update);
                }
            }
            AgentToMaster::ExecutorExited {
                framework_id,
                executor_id,
                status,
                command_executor,
            } => {
                // Generated command executors produce no FAILURE event (as in Mesos).
                if let (Some(agent_id), false) = (self.conns.get(&conn).cloned(), command_executor)
                {
                    self.handle_executor_exited(&agent_id, &framework_id, executor_id, status);
                }
            }
            AgentToMaster::ExecutorMessage {
                framework_id,
                executor_id,
                data,
            } => {
                if let Some(agent_id) = self.conns.get(&conn).cloned() {
                    self.handle_executor_message(&agent_id, &framework_id, executor_id, data);
                }
            }
            AgentToMaster::Unregister => {
                // Mesos `unregisterSlave`: the agent ended its tasks and leaves for good.
                if let Some(agent_id) = self.conns.get(&conn).cloned() {
                    self.remove_agent(now, wall, &agent_id, "the agent shut down");
                }
            }
        }
    }

    fn register_agent(
        &mut self,
        now: Instant,
        wall: WallTime,
        conn: ConnId,
        info: AgentInfo,
        checkpointed: Resources,
    ) {
        if self.refuse_down_machine(conn, &info.hostname, &info.ip, &[]) {
            return;
        }
        if let Some(id) = self.conns.get(&conn) {
            // A retry on a connection that is already registered: answer again.
            let id = id.clone();
            self.outputs.push_back(MasterOutput::ToAgent {
                conn,
                msg: MasterToAgent::Registered { id },
            });
            return;
        }
        let same_address = |ip: &str, port: u16| ip == info.ip && port == info.port;
        // A registration from the address of a connected agent with the same info is that agent
        // retrying after its `Registered` was lost (Mesos resends the acknowledgement): it keeps
        // its id. It registers without an id, so it runs nothing: tasks sent to it were lost.
        let retry = self
            .agents
            .values()
            .find(|a| {
                a.conn.is_some()
                    && same_address(&a.info.ip, a.info.port)
                    && record_of(&a.info) == record_of(&info)
            })
            .map(|a| a.id.clone());
        if let Some(id) = retry {
            self.lose_unreported_tasks(now, wall, &id, &[]);
            if self.activate_agent(now, wall, conn, id.clone(), info, &checkpointed, false) {
                self.outputs.push_back(MasterOutput::ToAgent {
                    conn,
                    msg: MasterToAgent::Registered { id: id.clone() },
                });
                self.log(alloc::format!(
                    "agent {id} registered again from its address; same id"
                ));
            }
            return;
        }
        // Any other agent known at that address is replaced (Mesos removes the old agent): its
        // tasks are gone with the process that ran them.
        let mut stale: Vec<AgentId> = self
            .agents
            .values()
            .filter(|a| same_address(&a.info.ip, a.info.port))
            .map(|a| a.id.clone())
            .collect();
        stale.extend(
            self.registry()
                .admitted
                .iter()
                .filter(|a| {
                    !self.agents.contains_key(&a.id) && same_address(&a.info.ip, a.info.port)
                })
                .map(|a| a.id.clone()),
        );
        for id in stale {
            self.remove_agent(now, wall, &id, "a new agent registered at its address");
        }
        self.replace_unreachable_at(wall, &info.ip, info.port);
        let op = Op::AdmitAgent {
            info: record_of(&info),
        };
        self.submit(
            op,
            PendingOp::Admit {
                conn,
                info,
                checkpointed,
            },
        );
    }

    pub(super) fn finish_admission(
        &mut self,
        now: Instant,
        wall: WallTime,
        conn: ConnId,
        info: AgentInfo,
        checkpointed: Resources,
        outcome: Result<Applied, OpError>,
    ) {
        if self.closed_conns.remove(&conn) {
            // Admitted, but the agent is gone; it registers afresh at the same address, which
            // replaces this admission.
            self.log(String::from(
                "an agent disconnected before its registration completed",
            ));
            return;
        }
        let id = match outcome {
            Ok(Applied::Admitted { id }) => id,
            other => {
                let reason = match other {
                    Err(e) => alloc::format!("registry refused admission: {e}"),
                    Ok(a) => alloc::format!("unexpected registry answer {a:?}"),
                };
                self.refuse(conn, reason);
                return;
            }
        };
        if !self.activate_agent(now, wall, conn, id.clone(), info, &checkpointed, false) {
            return;
        }
        self.outputs.push_back(MasterOutput::ToAgent {
            conn,
            msg: MasterToAgent::Registered { id: id.clone() },
        });
        self.log(alloc::format!("agent {id} registered"));
    }

    fn refuse(&mut self, conn: ConnId, reason: String) {
        self.refuse_with(conn, reason, false);
    }

    fn refuse_with(&mut self, conn: ConnId, reason: String, forget_id: bool) {
        self.log(alloc::format!("refusing agent connection: {reason}"));
        self.outputs.push_back(MasterOutput::ToAgent {
            conn,
            msg: MasterToAgent::Refused { reason, forget_id },
        });
    }

    /// Puts an admitted agent into the live tables and the allocator, with its total: its
    /// resources converted by its dynamic reservations and persistent volumes. Returns false if
    /// it could not (the agent is refused, saying why).
    #[allow(clippy::too_many_arguments)]
    fn activate_agent(
        &mut self,
        now: Instant,
        wall: WallTime,
        conn: ConnId,
        id: AgentId,
        info: AgentInfo,
        checkpointed: &Resources,
        reregistered: bool,
    ) -> bool {
        let total = match apply_checkpointed_resources(&info.resources, checkpointed) {
            Ok(total) => total,
            Err(e) => {
                self.refuse(conn, alloc::format!("agent {id}: {e}"));
                return false;
            }
        };
        if let Some(existing) = self.agents.get_mut(&id) {
            // Known and live in memory (a reconnect): move it to the new connection.
            if let Some(old) = existing.conn.replace(conn) {
                if old != conn {
                    self.conns.remove(&old);
                    self.outputs
                        .push_back(MasterOutput::CloseAgent { conn: old });
                }
            }
            existing.reregistered_time = Some(wall);
            existing.missed_pings = 0;
            existing.next_ping = now + self.cfg.ping_interval;
            let slot = existing.slot;
            existing.info = info;
            if self.allocator.total(slot) != Some(&total) {
                let _ = self.allocator.update_agent_total(now, slot, &total);
            }
            self.allocator.activate_agent(slot);
            self.conns.insert(conn, id);
            return true;
        }
        let Some(slot) = self.agent_slots.take(id.clone()) else {
            self.refuse(
                conn,
                alloc::format!("the master is full ({} agents)", self.cfg.max_agents),
            );
            return false;
        };
        let slot = AgentSlot(slot);
        if let Err(e) = self.allocator.add_agent(now, slot, &total) {
            self.agent_slots.give_back(slot.0);
            self.refuse(conn, alloc::format!("allocator refused agent: {e}"));
            return false;
        }
        self.agents.insert(
            id.clone(),
            AgentEntry {
                id: id.clone(),
                info,
                slot,
                conn: Some(conn),
                registered_time: wall,
                reregistered_time: if reregistered { Some(wall) } else { None },
                ping_seq: 0,
                missed_pings: 0,
                next_ping: now + self.cfg.ping_interval,
            },
        );
        self.conns.insert(conn, id.clone());
        self.operator_event(super::OperatorEvent::AgentAdded(id));
        true
    }

    fn reregister_agent(
        &mut self,
        now: Instant,
        wall: WallTime,
        conn: ConnId,
        rereg: Reregistration,
    ) {
        let reported: Vec<FrameworkId> = rereg.frameworks.iter().map(|f| f.id.clone()).collect();
        if self.refuse_down_machine(conn, &rereg.info.hostname, &rereg.info.ip, &reported) {
            return;
        }
        let record = record_of(&rereg.info);
        if self.registry().gone.iter().any(|(g, _)| g == &rereg.id) {
            // Mesos answers a gone agent with `ShutdownMessage("Agent has been marked gone")`,
            // and the agent kills everything: here each framework it reports is shut down first.
            for fw in &rereg.frameworks {
                self.outputs.push_back(MasterOutput::ToAgent {
                    conn,
                    msg: MasterToAgent::ShutdownFramework {
                        framework_id: fw.id.clone(),
                    },
                });
            }
            let reason = alloc::format!("agent {} has been marked gone", rereg.id);
            self.refuse_with(conn, reason, true);
            return;
        }
        if self.is_marking_unreachable(&rereg.id) {
            // Mesos ignores it while `markUnreachable` is in flight; the agent retries and then
            // finds itself unreachable, which re-admits it.
            let reason = alloc::format!(
                "agent {} is being marked unreachable; retry shortly",
                rereg.id
            );
            self.refuse(conn, reason);
            return;
        }
        let known = self
            .admitted_position(&rereg.id)
            .map(|pos| self.registry().admitted[pos].info == record);
        match known {
            // Unreachable, or pruned from the unreachable list by registry GC (an id this
            // cluster issued): Mesos `MarkSlaveReachable` admits it again, tasks and all.
            None if self.is_unreachable_or_own(&rereg.id) => {
                let op = Op::MarkReachable {
                    id: rereg.id.clone(),
                    info: record,
                };
                self.submit(op, PendingOp::Reregister { conn, rereg });
            }
            None => {
                let reason =
                    alloc::format!("agent {} is not in the registry; register afresh", rereg.id);
                self.refuse_with(conn, reason, true);
            }
            // The Mesos 1.5 fix: an unchanged agent costs no registry write.
            Some(true) => {
                self.finish_reregistration(now, wall, conn, rereg, Ok(Applied::Unchanged))
            }
            Some(false) => {
                let op = Op::UpdateAgentInfo {
                    id: rereg.id.clone(),
                    info: record,
                };
                self.submit(op, PendingOp::Reregister { conn, rereg });
            }
        }
    }

    /// The position of an admitted agent in the durable registry, through an index rebuilt
    /// only when the registry changed.
    fn admitted_position(&mut self, id: &AgentId) -> Option<usize> {
        let reg = self.registrar.registry();
        if self.admitted_index.0 != Some(reg.version) {
            let index = &mut self.admitted_index.1;
            index.clear();
            for (pos, a) in reg.admitted.iter().enumerate() {
                index.insert(a.id.clone(), pos);
            }
            self.admitted_index.0 = Some(reg.version);
        }
        self.admitted_index.1.get(id).copied()
    }

    /// In the unreachable list, or an id of the form `<cluster_id>-S<n>` this cluster issued
    /// (`n` below `next_agent_number`).
    fn is_unreachable_or_own(&self, id: &AgentId) -> bool {
        let reg = self.registry();
        if reg.unreachable.iter().any(|(u, _)| u == id) {
            return true;
        }
        id.as_str()
            .strip_prefix(reg.cluster_id.as_str())
            .and_then(|rest| rest.strip_prefix("-S"))
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u64>().ok())
            .is_some_and(|n| n < reg.next_agent_number)
    }

    pub(super) fn finish_reregistration(
        &mut self,
        now: Instant,
        wall: WallTime,
        conn: ConnId,
        rereg: Reregistration,
        outcome: Result<Applied, OpError>,
    ) {
        if let Err(e) = outcome {
            self.refuse(
                conn,
                alloc::format!("registry refused re-registration: {e}"),
            );
            return;
        }
        let Reregistration {
            id,
            info,
            checkpointed,
            frameworks,
            tasks,
        } = rereg;
        if self.closed_conns.remove(&conn) {
            self.log(alloc::format!(
                "agent {id} disconnected before its re-registration completed"
            ));
            // Admitted but not live, like an agent not back after a restart: if it stays away
            // it is marked unreachable again when the re-registration deadline passes.
            let deadline = now + self.cfg.agent_reregister_timeout;
            self.reregister_deadline = Some(
                self.reregister_deadline
                    .map_or(deadline, |d| d.min(deadline)),
            );
            return;
        }
        // Tasks are placed only on agents the master holds, and leave with them: an agent it
        // did not hold (after a master restart, or back from unreachable) has none here, which
        // spares a scan of every task per re-registration during a failover.
        let held_before = self.agents.contains_key(&id);
        if !self.activate_agent(now, wall, conn, id.clone(), info, &checkpointed, true) {
            return;
        }
        // Frameworks torn down while the agent was away are shut down there, not revived.
        let mut removed: Vec<FrameworkId> = Vec::new();
        for fw in &frameworks {
            if self.is_removed_framework(&fw.id) {
                removed.push(fw.id.clone());
                self.outputs.push_back(MasterOutput::ToAgent {
                    conn,
                    msg: MasterToAgent::ShutdownFramework {
                        framework_id: fw.id.clone(),
                    },
                });
            } else {
                self.recover_framework(now, fw);
            }
        }
        // Tasks the master sent that the agent does not have were lost on the way (Mesos
        // `reconcileKnownSlave`).
        if held_before {
            self.lose_unreported_tasks(now, wall, &id, &tasks);
        }
        self.recover_unreachable_tasks(wall, &id, &tasks, &removed);
        for report in tasks {
            if !removed.contains(&report.framework_id) {
                self.recover_task(now, &id, report);
            }
        }
        self.outputs.push_back(MasterOutput::ToAgent {
            conn,
            msg: MasterToAgent::Reregistered { id: id.clone() },
        });
        self.log(alloc::format!("agent {id} re-registered"));
    }

    /// Removes an agent for good (Mesos `removeSlave`): its offers are rescinded, its tasks
    /// reported lost to their frameworks (no uuid: nothing to acknowledge), frameworks get a
    /// FAILURE with the agent id, and the registry forgets it.
    pub(super) fn remove_agent(&mut self, now: Instant, wall: WallTime, id: &AgentId, why: &str) {
        self.drop_agent(now, wall, id, why, Removal::Removed);
        self.submit(Op::RemoveAgent { id: id.clone() }, PendingOp::Remove);
        self.log(alloc::format!("removed agent {id}: {why}"));
    }

    /// Removes an agent the operator marked gone, once `MarkGone` is durable (Mesos
    /// `_markAgentGone`): like [`Master::remove_agent`], but tasks become `TASK_GONE_BY_OPERATOR`
    /// for PARTITION_AWARE frameworks (`TASK_LOST` for others) with
    /// `REASON_AGENT_REMOVED_BY_OPERATOR`, and a connected agent is told to shut its frameworks
    /// down and forget its id.
    pub(super) fn remove_gone_agent(&mut self, now: Instant, wall: WallTime, id: &AgentId) {
        if let Some(conn) = self.agent_conn(id) {
            let mut frameworks: Vec<FrameworkId> = self
                .tasks
                .values()
                .filter(|t| &t.agent_id == id)
                .map(|t| t.framework_id.clone())
                .collect();
            frameworks.sort();
            frameworks.dedup();
            for framework_id in frameworks {
                self.outputs.push_back(MasterOutput::ToAgent {
                    conn,
                    msg: MasterToAgent::ShutdownFramework { framework_id },
                });
            }
            self.outputs.push_back(MasterOutput::ToAgent {
                conn,
                msg: MasterToAgent::Refused {
                    reason: String::from("Agent has been marked gone"),
                    forget_id: true,
                },
            });
        }
        self.drop_agent(
            now,
            wall,
            id,
            "the operator marked the agent gone",
            Removal::Gone,
        );
        self.drop_gone_unreachable_tasks(wall, id);
        self.log(alloc::format!("agent {id} marked gone by the operator"));
    }

    /// The in-memory part of removing an agent; see [`Master::remove_agent`]. An unreachable
    /// agent's live tasks are kept as unreachable tasks instead of completed.
    pub(super) fn drop_agent(
        &mut self,
        now: Instant,
        wall: WallTime,
        id: &AgentId,
        why: &str,
        how: Removal,
    ) {
        if self.agents.contains_key(id) {
            self.rescind_offers_on_agent(id);
        }
        let keys: Vec<(FrameworkId, crate::ids::TaskId)> = self
            .tasks
            .iter()
            .filter(|(_, t)| &t.agent_id == id)
            .map(|(k, _)| k.clone())
            .collect();
        let mut frameworks: Vec<FrameworkId> = Vec::new();
        for key in keys {
            let Some(mut task) = self.tasks.remove(&key) else {
                continue;
            };
            let partition_aware = self.is_partition_aware(&task.framework_id);
            let (state, reason) = match how {
                Removal::Gone if partition_aware => (
                    TaskState::GoneByOperator,
                    StatusReason::AgentRemovedByOperator,
                ),
                Removal::Gone => (TaskState::Lost, StatusReason::AgentRemovedByOperator),
                Removal::Removed => (TaskState::Lost, StatusReason::AgentRemoved),
                Removal::Unreachable(_) if partition_aware => {
                    (TaskState::Unreachable, StatusReason::AgentRemoved)
                }
                Removal::Unreachable(_) => (TaskState::Lost, StatusReason::AgentRemoved),
            };
            if !frameworks.contains(&task.framework_id) {
                frameworks.push(task.framework_id.clone());
            }
            if let Removal::Unreachable(at) = how {
                // A terminal update still waiting for its acknowledgement is not contradicted:
                // the agent resends it when it comes back.
                if !task.state.is_terminal() {
                    let mut status = self.master_status(
                        task.task_id.clone(),
                        state,
                        reason,
                        why,
                        Some(id.clone()),
                        wall,
                    );
                    status.unreachable_time = Some(at);
                    self.publish_status(&task.framework_id, status);
                    task.state = state;
                }
                task.released = true;
                self.remember_unreachable(task, at);
                continue;
            }
            // Every task is reported, as Mesos `__removeSlave` does; only live ones change state.
            let status = self.master_status(
                task.task_id.clone(),
                state,
                reason,
                why,
                Some(id.clone()),
                wall,
            );
            self.publish_status(&task.framework_id, status);
            if !task.state.is_terminal() {
                task.state = state;
            }
            self.remember_completed(task);
        }
        for fid in frameworks {
            if let Some(stream) = self.frameworks.get(&fid).and_then(|f| f.stream) {
                self.outputs.push_back(MasterOutput::ToFramework {
                    stream,
                    event: super::SchedulerEvent::Failure {
                        agent_id: id.clone(),
                        executor_id: None,
                        status: None,
                    },
                });
            }
        }
        if let Some(agent) = self.agents.remove(id) {
            if let Some(conn) = agent.conn {
                self.conns.remove(&conn);
                self.outputs.push_back(MasterOutput::CloseAgent { conn });
            }
            self.allocator.remove_agent(agent.slot);
            self.agent_slots.give_back(agent.slot.0);
        }
        let _ = now;
        self.operator_event(super::OperatorEvent::AgentRemoved(id.clone()));
    }

    /// Pings agents that are due (Mesos' `SlaveObserver`) and marks unreachable the ones that
    /// missed `max_missed_pings` in a row. An agent whose connection closed is still counted (its
    /// pings have nowhere to go), so an agent that does not come back is marked unreachable after
    /// the same `ping_interval x max_missed_pings`.
    pub(super) fn tick_agents(&mut self, now: Instant, wall: WallTime) {
        let mut silent: Vec<AgentId> = Vec::new();
        for agent in self.agents.values_mut() {
            if now < agent.next_ping || self.marking_unreachable.contains(&agent.id) {
                continue;
            }
            if agent.missed_pings >= self.cfg.max_missed_pings {
                silent.push(agent.id.clone());
                continue;
            }
            agent.ping_seq += 1;
            agent.missed_pings += 1;
            agent.next_ping = now + self.cfg.ping_interval;
            if let Some(conn) = agent.conn {
                self.outputs.push_back(MasterOutput::ToAgent {
                    conn,
                    msg: MasterToAgent::Ping {
                        seq: agent.ping_seq,
                    },
                });
            }
        }
        for id in silent {
            let why = alloc::format!(
                "no pong to {} pings {} s apart",
                self.cfg.max_missed_pings,
                self.cfg.ping_interval.as_secs()
            );
            self.mark_unreachable(wall, &id, &why);
        }
    }

    /// Agents admitted in the registry that have not re-registered since this master started.
    pub fn recovered_agent_ids(&self) -> impl Iterator<Item = &AgentId> {
        self.registry()
            .admitted
            .iter()
            .map(|a| &a.id)
            .filter(move |id| !self.agents.contains_key(*id))
    }

    /// True while some admitted agent has not re-registered with this master.
    pub(super) fn any_recovering_agent(&self) -> bool {
        self.registry()
            .admitted
            .iter()
            .any(|a| !self.agents.contains_key(&a.id))
    }

    /// Admitted in the registry but not re-registered with this master yet.
    pub(super) fn is_recovering_agent(&self, id: &AgentId) -> bool {
        !self.agents.contains_key(id) && self.registry().admitted.iter().any(|a| &a.id == id)
    }

    pub(super) fn agent_conn(&self, id: &AgentId) -> Option<ConnId> {
        self.agents.get(id).and_then(|a| a.conn)
    }

    pub(super) fn agents_running(&self, framework: &FrameworkId) -> Vec<AgentId> {
        let mut ids: Vec<AgentId> = self
            .tasks
            .values()
            .filter(|t| &t.framework_id == framework)
            .map(|t| t.agent_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}
