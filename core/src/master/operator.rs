//! Operator calls that change the registry (UPDATE_WEIGHTS, MARK_AGENT_GONE, the quota calls):
//! each is answered only once its registry write is durable, through
//! [`Master::poll_operator_completion`].

use super::{Master, PendingOp, Phase};
use crate::ids::{AgentId, Role};
use crate::registry::{Applied, Op, OpError, QuotaRecord, WeightRecord};
use crate::resources::Resources;
use crate::time::{Instant, WallTime};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// An operator call that changes durable state (Mesos v1 master `Call`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperatorCall {
    /// `UPDATE_WEIGHTS`: role weights in thousandths (1000 is weight 1.0).
    UpdateWeights(alloc::vec::Vec<(Role, u64)>),
    /// `MARK_AGENT_GONE`: the operator asserts the agent is dead and will not come back.
    MarkAgentGone(AgentId),
    /// `SET_QUOTA` (Mesos 1.5): the guarantee, which is also the limit.
    SetQuota {
        role: Role,
        guarantee: Resources,
        force: bool,
    },
    /// `REMOVE_QUOTA`.
    RemoveQuota(Role),
    /// `UPDATE_QUOTA` (Mesos 1.9): separate guarantees and limits per role.
    UpdateQuota {
        quotas: Vec<QuotaRecord>,
        force: bool,
    },
    /// `UPDATE_MAINTENANCE_SCHEDULE`: replaces the maintenance schedule.
    UpdateMaintenanceSchedule(Vec<crate::registry::MaintenanceWindow>),
    /// `START_MAINTENANCE`: DRAINING machines go DOWN; their agents are removed.
    StartMaintenance(Vec<crate::registry::MachineId>),
    /// `STOP_MAINTENANCE`: DOWN machines are UP again and leave the schedule.
    StopMaintenance(Vec<crate::registry::MachineId>),
}

/// Names one accepted operator call until its answer comes out of
/// [`Master::poll_operator_completion`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OperatorTicket(pub u64);

/// Why an operator call failed; the API layer maps these to HTTP statuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperatorError {
    /// 503: recovering or not the leader.
    NotReady,
    /// 400: no agent with that id is admitted, unreachable or gone.
    UnknownAgent,
    /// 400: the registry refused the change (bad weight, too many weights, ...).
    Refused(OpError),
    /// 503: the registrar's queue is full; the operator may retry.
    Busy,
    /// 503: leadership was lost before the change became durable.
    Abandoned,
    /// 400: the call is invalid; the message is Mesos'.
    Invalid(String),
    /// 409: the call conflicts with the cluster (a quota overcommitting it, resources an
    /// operation needs that are not free).
    Conflict(String),
}

impl fmt::Display for OperatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OperatorError::NotReady => f.write_str("Master has not finished recovery"),
            OperatorError::UnknownAgent => f.write_str("Unknown agent"),
            OperatorError::Refused(e) => e.fmt(f),
            OperatorError::Busy => f.write_str("the registrar is busy; retry later"),
            OperatorError::Abandoned => {
                f.write_str("the master lost leadership before the change was durable")
            }
            OperatorError::Invalid(why) | OperatorError::Conflict(why) => f.write_str(why),
        }
    }
}

/// An operator call waiting for its registry write.
#[derive(Debug)]
pub(super) struct PendingCall {
    ticket: OperatorTicket,
    call: OperatorCall,
}

impl Master {
    /// Starts an operator call that changes the registry. `Ok` means the change was submitted;
    /// its answer comes later from [`Master::poll_operator_completion`] (after the write is
    /// durable, or at once when nothing needed writing).
    pub fn handle_operator_call(
        &mut self,
        _now: Instant,
        wall: WallTime,
        call: OperatorCall,
    ) -> Result<OperatorTicket, OperatorError> {
        if self.phase != Phase::Leading {
            return Err(OperatorError::NotReady);
        }
        let op = match &call {
            OperatorCall::UpdateWeights(weights) => Op::UpdateWeights {
                weights: weights
                    .iter()
                    .map(|(role, weight_milli)| WeightRecord {
                        role: role.clone(),
                        weight_milli: *weight_milli,
                    })
                    .collect(),
            },
            OperatorCall::MarkAgentGone(id) => {
                let reg = self.registry();
                let known = self.agents.contains_key(id)
                    || reg.admitted_agent(id).is_some()
                    || reg.unreachable.iter().any(|(u, _)| u == id)
                    || reg.gone.iter().any(|(g, _)| g == id);
                if !known {
                    return Err(OperatorError::UnknownAgent);
                }
                Op::MarkGone {
                    id: id.clone(),
                    at: wall,
                }
            }
            OperatorCall::SetQuota {
                role,
                guarantee,
                force,
            } => Op::UpdateQuota {
                quotas: alloc::vec![self.check_set_quota(role, guarantee, *force)?],
            },
            OperatorCall::RemoveQuota(role) => Op::UpdateQuota {
                quotas: alloc::vec![self.check_remove_quota(role)?],
            },
            OperatorCall::UpdateQuota { quotas, force } => {
                self.check_update_quota(quotas, *force)?;
                Op::UpdateQuota {
                    quotas: quotas.clone(),
                }
            }
            OperatorCall::UpdateMaintenanceSchedule(_)
            | OperatorCall::StartMaintenance(_)
            | OperatorCall::StopMaintenance(_) => self.maintenance_op(&call)?,
        };
        let ticket = OperatorTicket(self.next_tag);
        let tag = self.next_tag;
        self.next_tag += 1;
        self.registrar
            .submit(op, tag)
            .map_err(|_| OperatorError::Busy)?;
        self.pending
            .insert(tag, PendingOp::Operator(PendingCall { ticket, call }));
        Ok(ticket)
    }

    /// The answer to an operator call from [`Master::handle_operator_call`], once it is durable.
    pub fn poll_operator_completion(
        &mut self,
    ) -> Option<(OperatorTicket, Result<(), OperatorError>)> {
        self.operator_done.pop_front()
    }

    /// Carries out an operator call whose registry write completed.
    pub(super) fn finish_operator_call(
        &mut self,
        now: Instant,
        wall: WallTime,
        pending: PendingCall,
        outcome: Result<Applied, OpError>,
    ) {
        let result = match outcome {
            Err(OpError::UnknownAgent) => Err(OperatorError::UnknownAgent),
            Err(e) => Err(OperatorError::Refused(e)),
            Ok(_) => {
                match &pending.call {
                    OperatorCall::UpdateWeights(weights) => {
                        for (role, _) in weights {
                            self.apply_registry_weight(role);
                        }
                        self.log(alloc::format!(
                            "updated the weights of {} role(s)",
                            weights.len()
                        ));
                    }
                    OperatorCall::MarkAgentGone(id) => {
                        let id = id.clone();
                        self.remove_gone_agent(now, wall, &id);
                    }
                    OperatorCall::SetQuota { role, .. } | OperatorCall::RemoveQuota(role) => {
                        let role = role.clone();
                        self.apply_registry_quota(&role);
                        self.log(alloc::format!("updated the quota of role '{role}'"));
                    }
                    OperatorCall::UpdateQuota { quotas, .. } => {
                        let roles: Vec<Role> = quotas.iter().map(|q| q.role.clone()).collect();
                        for role in &roles {
                            self.apply_registry_quota(role);
                        }
                        self.log(alloc::format!(
                            "updated the quota of {} role(s)",
                            roles.len()
                        ));
                    }
                    call @ (OperatorCall::UpdateMaintenanceSchedule(_)
                    | OperatorCall::StartMaintenance(_)
                    | OperatorCall::StopMaintenance(_)) => {
                        self.finish_maintenance_call(now, wall, call)
                    }
                }
                Ok(())
            }
        };
        self.operator_done.push_back((pending.ticket, result));
    }

    /// An operator call abandoned with the registrar (leadership lost).
    pub(super) fn abandon_operator_call(&mut self, pending: PendingCall) {
        self.operator_done
            .push_back((pending.ticket, Err(OperatorError::Abandoned)));
    }

    /// Gives the allocator every weight the registry holds (on recovery: weights survive a
    /// restart).
    pub(super) fn apply_registry_weights(&mut self) {
        let roles: alloc::vec::Vec<Role> = self
            .registry()
            .weights
            .iter()
            .map(|w| w.role.clone())
            .collect();
        for role in roles {
            self.apply_registry_weight(&role);
        }
    }

    /// Gives the allocator the registry's weight of one role.
    fn apply_registry_weight(&mut self, role: &Role) {
        let Some(milli) = self
            .registry()
            .weights
            .iter()
            .find(|w| &w.role == role)
            .map(|w| w.weight_milli)
        else {
            return;
        };
        // The registry bounds weights to `MAX_WEIGHT_MILLI`, which fits a u32.
        let milli = u32::try_from(milli).unwrap_or(u32::MAX);
        if let Err(e) = self.allocator.set_weight(role, milli) {
            self.log(alloc::format!(
                "the allocator refused the weight of role '{role}': {e}"
            ));
        }
    }
}
