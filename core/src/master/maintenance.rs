//! Maintenance on the master (Mesos maintenance primitives): the operator's schedule, START and
//! STOP_MAINTENANCE calls, inverse offers to frameworks with tasks on DRAINING machines and their
//! answers, and the removal of agents on machines brought DOWN.
//!
//! The schedule and the modes live in the registry (`Registry::maintenance`); what is kept here
//! is soft state that a new leader rebuilds: the inverse offers outstanding and each framework's
//! answer per agent.

use super::{Master, MasterOutput, OperatorCall, OperatorError, SchedulerEvent};
use crate::ids::{AgentId, FrameworkId, OfferId};
use crate::registry::{check_machines, check_schedule, MachineId, MachineMode, Op, Unavailability};
use crate::time::{Instant, WallTime};
use crate::wire::MasterToAgent;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

/// The reason Mesos gives an agent on a machine brought DOWN, and its tasks.
pub const MACHINE_DOWN_REASON: &str = "Operator initiated 'Machine DOWN'";

/// An inverse offer (Mesos `InverseOffer`): the master asks a framework to give back the whole
/// of an agent by the start of its machine's unavailability.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InverseOfferRecord {
    pub id: OfferId,
    pub framework_id: FrameworkId,
    pub agent_id: AgentId,
    pub unavailability: Unavailability,
}

/// A framework's answer to an inverse offer (Mesos `InverseOfferStatus.Status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InverseOfferAnswer {
    /// Sent, not answered yet.
    Unknown,
    Accept,
    Decline,
}

/// What GET_MAINTENANCE_STATUS shows per framework (Mesos `InverseOfferStatus`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InverseOfferStatus {
    pub framework_id: FrameworkId,
    pub status: InverseOfferAnswer,
    /// When the inverse offer was sent or last answered.
    pub timestamp: WallTime,
}

/// The cluster's maintenance status (Mesos `maintenance.ClusterStatus`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MaintenanceStatus {
    /// DRAINING machines with the answers of the frameworks asked on their agents.
    pub draining: Vec<(MachineId, Vec<InverseOfferStatus>)>,
    pub down: Vec<MachineId>,
}

/// What the master remembers per (agent, framework) asked: the unavailability it was asked
/// about, so a schedule change asks again, and the answer.
#[derive(Clone, Debug)]
struct Asked {
    unavailability: Unavailability,
    status: InverseOfferStatus,
}

/// The master's soft maintenance state. Bounded by agents x frameworks: one entry per
/// (agent, framework) with live tasks on a DRAINING machine; entries go when the agent, the
/// framework or the machine's DRAINING mode goes.
#[derive(Debug, Default)]
pub(super) struct MaintenanceState {
    /// Inverse offers not answered yet.
    outstanding: BTreeMap<OfferId, InverseOfferRecord>,
    asked: BTreeMap<(AgentId, FrameworkId), Asked>,
}

impl Master {
    /// Checks a maintenance operator call as Mesos does (with its messages) and gives the
    /// registry operation that carries it out.
    pub(super) fn maintenance_op(&self, call: &OperatorCall) -> Result<Op, OperatorError> {
        let reg = self.registry();
        let refused = |(e, m): (crate::registry::MaintenanceError, Option<&MachineId>)| {
            OperatorError::Invalid(e.message(m))
        };
        match call {
            OperatorCall::UpdateMaintenanceSchedule(windows) => {
                check_schedule(reg, windows).map_err(refused)?;
                Ok(Op::UpdateSchedule {
                    windows: windows.clone(),
                })
            }
            OperatorCall::StartMaintenance(machines) => {
                check_machines(reg, machines, MachineMode::Draining).map_err(refused)?;
                Ok(Op::StartMaintenance {
                    machines: machines.clone(),
                })
            }
            OperatorCall::StopMaintenance(machines) => {
                check_machines(reg, machines, MachineMode::Down).map_err(refused)?;
                Ok(Op::StopMaintenance {
                    machines: machines.clone(),
                })
            }
            _ => Err(OperatorError::Invalid(String::from(
                "not a maintenance call",
            ))),
        }
    }

    /// Acts on a maintenance call whose registry write is durable.
    pub(super) fn finish_maintenance_call(
        &mut self,
        now: Instant,
        wall: WallTime,
        call: &OperatorCall,
    ) {
        match call {
            OperatorCall::UpdateMaintenanceSchedule(windows) => {
                self.log(alloc::format!(
                    "updated the maintenance schedule ({} window(s))",
                    windows.len()
                ));
            }
            OperatorCall::StartMaintenance(machines) => {
                // Mesos `/machine/down`: each agent on the machines is told to shut down and
                // removed at once, so its tasks are reported lost.
                let down: Vec<AgentId> = self
                    .agents
                    .values()
                    .filter(|a| {
                        machines
                            .iter()
                            .any(|m| m.is_agent(&a.info.hostname, &a.info.ip))
                    })
                    .map(|a| a.id.clone())
                    .collect();
                for id in down {
                    if let Some(conn) = self.agent_conn(&id) {
                        self.shut_down_agent(conn, &self.frameworks_on(&id), MACHINE_DOWN_REASON);
                    }
                    self.remove_agent(now, wall, &id, MACHINE_DOWN_REASON);
                }
                self.log(alloc::format!(
                    "started maintenance on {} machine(s)",
                    machines.len()
                ));
            }
            OperatorCall::StopMaintenance(machines) => {
                self.log(alloc::format!(
                    "stopped maintenance on {} machine(s)",
                    machines.len()
                ));
            }
            _ => {}
        }
        self.tick_maintenance(wall);
    }

    /// Tells an agent to kill the given frameworks' executors and forget its id (the effect of
    /// Mesos' `ShutdownMessage`).
    pub(super) fn shut_down_agent(
        &mut self,
        conn: super::ConnId,
        frameworks: &[FrameworkId],
        reason: &str,
    ) {
        for framework_id in frameworks {
            self.outputs.push_back(MasterOutput::ToAgent {
                conn,
                msg: MasterToAgent::ShutdownFramework {
                    framework_id: framework_id.clone(),
                },
            });
        }
        self.outputs.push_back(MasterOutput::ToAgent {
            conn,
            msg: MasterToAgent::Refused {
                reason: String::from(reason),
                forget_id: true,
            },
        });
    }

    /// Frameworks with tasks on an agent, each once.
    fn frameworks_on(&self, agent: &AgentId) -> Vec<FrameworkId> {
        let mut ids: Vec<FrameworkId> = self
            .tasks
            .values()
            .filter(|t| &t.agent_id == agent)
            .map(|t| t.framework_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Refuses an agent announcing a machine that is DOWN (Mesos refuses its registration and
    /// re-registration with a `ShutdownMessage`): the frameworks it reports are shut down there.
    /// Returns true when refused.
    pub(super) fn refuse_down_machine(
        &mut self,
        conn: super::ConnId,
        hostname: &str,
        ip: &str,
        frameworks: &[FrameworkId],
    ) -> bool {
        if self.registry().machine_mode(hostname, ip) != MachineMode::Down {
            return false;
        }
        self.log(alloc::format!(
            "refusing an agent on machine ({hostname}, {ip}): the machine is DOWN for maintenance"
        ));
        self.shut_down_agent(conn, frameworks, "Machine is `DOWN`");
        true
    }

    /// The unavailability of an agent's machine when it is DRAINING.
    fn draining(&self, agent: &AgentId) -> Option<Unavailability> {
        let info = &self.agents.get(agent)?.info;
        self.registry()
            .maintenance
            .iter()
            .find(|m| m.mode == MachineMode::Draining && m.id.is_agent(&info.hostname, &info.ip))
            .map(|m| m.unavailability)
    }

    /// Mesos' allocator `deallocate()`: run every tick. Forgets what no longer holds (an agent,
    /// framework or DRAINING mode gone, or a new unavailability), rescinding those inverse
    /// offers, and sends one inverse offer per (framework, agent) with live tasks on a DRAINING
    /// machine not asked yet about this unavailability.
    pub(super) fn tick_maintenance(&mut self, wall: WallTime) {
        let m = &self.maintenance;
        if self.registry().maintenance.is_empty() && m.asked.is_empty() && m.outstanding.is_empty()
        {
            return;
        }
        let mut draining: BTreeMap<AgentId, Unavailability> = BTreeMap::new();
        if !self.registry().maintenance.is_empty() {
            for id in self.agents.keys() {
                if let Some(u) = self.draining(id) {
                    draining.insert(id.clone(), u);
                }
            }
        }
        let frameworks = &self.frameworks;
        let still = |(agent, fw): &(AgentId, FrameworkId), u: &Unavailability| {
            frameworks.contains_key(fw) && draining.get(agent) == Some(u)
        };
        self.maintenance
            .asked
            .retain(|key, asked| still(key, &asked.unavailability));
        let stale: Vec<OfferId> = self
            .maintenance
            .outstanding
            .values()
            .filter(|o| {
                let key = (o.agent_id.clone(), o.framework_id.clone());
                !self.maintenance.asked.contains_key(&key)
            })
            .map(|o| o.id.clone())
            .collect();
        for id in stale {
            if let Some(o) = self.maintenance.outstanding.remove(&id) {
                if let Some(stream) = self.frameworks.get(&o.framework_id).and_then(|f| f.stream) {
                    self.outputs.push_back(MasterOutput::ToFramework {
                        stream,
                        event: SchedulerEvent::RescindInverseOffer(id),
                    });
                }
            }
        }
        if draining.is_empty() {
            return;
        }
        let mut wanted: Vec<(AgentId, FrameworkId)> = self
            .tasks
            .values()
            .filter(|t| !t.state.is_terminal() && draining.contains_key(&t.agent_id))
            .map(|t| (t.agent_id.clone(), t.framework_id.clone()))
            .filter(|key| !self.maintenance.asked.contains_key(key))
            .collect();
        wanted.sort();
        wanted.dedup();
        let mut per_stream: BTreeMap<super::StreamId, Vec<InverseOfferRecord>> = BTreeMap::new();
        for (agent_id, framework_id) in wanted {
            let Some(stream) = self.frameworks.get(&framework_id).and_then(|f| f.stream) else {
                // Asked once it has a stream again.
                continue;
            };
            let Some(&unavailability) = draining.get(&agent_id) else {
                continue;
            };
            let id = self.new_offer_id();
            let offer = InverseOfferRecord {
                id: id.clone(),
                framework_id: framework_id.clone(),
                agent_id: agent_id.clone(),
                unavailability,
            };
            self.maintenance.asked.insert(
                (agent_id, framework_id.clone()),
                Asked {
                    unavailability,
                    status: InverseOfferStatus {
                        framework_id,
                        status: InverseOfferAnswer::Unknown,
                        timestamp: wall,
                    },
                },
            );
            self.maintenance.outstanding.insert(id, offer.clone());
            per_stream.entry(stream).or_default().push(offer);
        }
        for (stream, offers) in per_stream {
            self.outputs.push_back(MasterOutput::ToFramework {
                stream,
                event: SchedulerEvent::InverseOffers(offers),
            });
        }
    }

    /// ACCEPT_INVERSE_OFFERS and DECLINE_INVERSE_OFFERS: records the framework's answer. An id
    /// that is not an outstanding inverse offer of this framework is ignored, as Mesos does.
    pub(super) fn answer_inverse_offers(
        &mut self,
        wall: WallTime,
        framework_id: &FrameworkId,
        ids: &[OfferId],
        answer: InverseOfferAnswer,
    ) {
        for id in ids {
            let ours = self
                .maintenance
                .outstanding
                .get(id)
                .is_some_and(|o| &o.framework_id == framework_id);
            if !ours {
                self.log(alloc::format!(
                    "ignoring an answer to inverse offer {id}: it is no longer valid"
                ));
                continue;
            }
            let Some(o) = self.maintenance.outstanding.remove(id) else {
                continue;
            };
            if let Some(asked) = self
                .maintenance
                .asked
                .get_mut(&(o.agent_id, o.framework_id))
            {
                asked.status.status = answer;
                asked.status.timestamp = wall;
            }
        }
    }

    /// GET_MAINTENANCE_STATUS: the DRAINING machines with the answers given for their agents,
    /// and the DOWN machines.
    pub fn maintenance_status(&self) -> MaintenanceStatus {
        let mut out = MaintenanceStatus::default();
        for m in &self.registry().maintenance {
            match m.mode {
                MachineMode::Down => out.down.push(m.id.clone()),
                MachineMode::Draining => {
                    let statuses = self
                        .maintenance
                        .asked
                        .iter()
                        .filter(|((agent, _), _)| {
                            self.agents
                                .get(agent)
                                .is_some_and(|a| m.id.is_agent(&a.info.hostname, &a.info.ip))
                        })
                        .map(|(_, asked)| asked.status.clone())
                        .collect();
                    out.draining.push((m.id.clone(), statuses));
                }
                MachineMode::Up => {}
            }
        }
        out
    }

    /// The inverse offers not answered yet, in id order.
    pub fn inverse_offers(&self) -> impl Iterator<Item = &InverseOfferRecord> {
        self.maintenance.outstanding.values()
    }
}
