//! Dynamic reservations and persistent volumes on the master: the offer operations RESERVE,
//! UNRESERVE, CREATE and DESTROY inside an ACCEPT (Mesos `Master::_accept`), and the operator's
//! RESERVE_RESOURCES, UNRESERVE_RESOURCES, CREATE_VOLUMES and DESTROY_VOLUMES. Each is validated
//! with Mesos' rules, converts the resources in the allocator, and the agent is sent its new
//! checkpointed resources (Mesos `CheckpointResourcesMessage`); the agent is their owner and
//! reports them when it re-registers.

use super::{Master, MasterOutput, OperatorError};
use crate::ids::{AgentId, AgentSlot, FrameworkId, Role};
use crate::resources::operations::{
    checkpointed_resources, pop_reservation, strip_volume, unallocated, FrameworkCapabilities,
    FrameworkRequest, ResourceOperation, ValidationContext,
};
use crate::resources::{Resource, Resources};
use crate::wire::MasterToAgent;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// What an operation takes out of an agent's resources and what it puts in (allocation roles
/// removed): the two sides of the allocator's conversion.
fn conversion(op: &ResourceOperation) -> (Resources, Resources) {
    let named = unallocated_all(op.resources());
    let other = |f: &dyn Fn(&Resource) -> Option<Resource>| {
        let mut out = Resources::new();
        for r in named.iter() {
            if let Some(c) = f(r) {
                let _ = out.add(&c);
            }
        }
        out
    };
    match op {
        ResourceOperation::Reserve(_) => (other(&pop_reservation), named),
        ResourceOperation::Unreserve(_) => {
            let popped = other(&pop_reservation);
            (named, popped)
        }
        ResourceOperation::Create(_) => (other(&|r| Some(strip_volume(r))), named),
        ResourceOperation::Destroy(_) => {
            let stripped = other(&|r| Some(strip_volume(r)));
            (named, stripped)
        }
    }
}

/// `resources` without allocation roles.
fn unallocated_all(resources: &Resources) -> Resources {
    let mut out = Resources::new();
    for r in resources.iter() {
        let _ = out.add(&unallocated(r));
    }
    out
}

/// The same operation on `resources`.
fn with_resources(op: &ResourceOperation, resources: Resources) -> ResourceOperation {
    match op {
        ResourceOperation::Reserve(_) => ResourceOperation::Reserve(resources),
        ResourceOperation::Unreserve(_) => ResourceOperation::Unreserve(resources),
        ResourceOperation::Create(_) => ResourceOperation::Create(resources),
        ResourceOperation::Destroy(_) => ResourceOperation::Destroy(resources),
    }
}

impl Master {
    /// One RESERVE, UNRESERVE, CREATE or DESTROY of an ACCEPT, applied to the offers'
    /// `remaining` resources. An invalid operation is dropped with its reason in the log, and
    /// the rest of the ACCEPT goes on (Mesos 1.5 has no operation feedback).
    pub(super) fn offer_operation(
        &mut self,
        framework_id: &FrameworkId,
        agent_id: &AgentId,
        role: &Role,
        remaining: &mut Resources,
        op: ResourceOperation,
    ) {
        let kind = op.kind().name();
        match self.try_offer_operation(framework_id, agent_id, role, remaining, &op) {
            Ok(()) => self.log(format!(
                "applied {kind} of {} from framework {framework_id} on agent {agent_id}",
                op.resources()
            )),
            Err(why) => self.log(format!(
                "Dropping {kind} offer operation from framework {framework_id}: {why}"
            )),
        }
    }

    fn try_offer_operation(
        &mut self,
        framework_id: &FrameworkId,
        agent_id: &AgentId,
        role: &Role,
        remaining: &mut Resources,
        op: &ResourceOperation,
    ) -> Result<(), String> {
        let fw = self
            .frameworks
            .get(framework_id)
            .ok_or_else(|| String::from("the framework is unknown"))?;
        let fw_slot = fw
            .slot_of(role)
            .ok_or_else(|| format!("the framework has no role '{role}'"))?;
        let agent_slot = self
            .agents
            .get(agent_id)
            .map(|a| a.slot)
            .ok_or_else(|| format!("agent {agent_id} is unknown"))?;
        let checkpointed = self.checkpointed_on(agent_slot);
        let used = self.used_on_agent(agent_id);
        let roles = fw.spec.subscribed_roles().to_vec();
        let ctx = ValidationContext {
            principal: fw.spec.principal.as_deref(),
            framework: Some(FrameworkRequest {
                id: framework_id,
                roles: &roles,
                capabilities: FrameworkCapabilities {
                    reservation_refinement: fw.spec.capabilities.reservation_refinement,
                    shared_resources: fw.spec.capabilities.shared_resources,
                },
            }),
            checkpointed: &checkpointed,
            used: &used,
        };
        op.validate(&ctx).map_err(|e| e.to_string())?;
        let plain = with_resources(op, unallocated_all(op.resources()));
        let converted = plain.apply(remaining).map_err(|e| e.to_string())?;
        let (from, to) = conversion(op);
        self.allocator
            .update_allocation(fw_slot, agent_slot, &from, &to)
            .map_err(|e| e.to_string())?;
        *remaining = converted;
        self.send_checkpointed_resources(agent_id);
        Ok(())
    }

    /// An operator's RESERVE_RESOURCES, UNRESERVE_RESOURCES, CREATE_VOLUMES or DESTROY_VOLUMES
    /// on an agent's free resources. Outstanding offers on the agent are rescinded first, so
    /// that what they held is free again (Mesos rescinds as many as needed). `Ok` is Mesos'
    /// 202; an invalid operation is 400, resources that are not free 409.
    pub fn handle_resource_operation(
        &mut self,
        agent_id: &AgentId,
        principal: Option<&str>,
        op: ResourceOperation,
    ) -> Result<(), OperatorError> {
        if self.phase != super::Phase::Leading {
            return Err(OperatorError::NotReady);
        }
        let agent_slot = self
            .agents
            .get(agent_id)
            .map(|a| a.slot)
            .ok_or(OperatorError::UnknownAgent)?;
        let checkpointed = self.checkpointed_on(agent_slot);
        let used = self.used_on_agent(agent_id);
        let ctx = ValidationContext {
            principal,
            framework: None,
            checkpointed: &checkpointed,
            used: &used,
        };
        op.validate(&ctx)
            .map_err(|e| OperatorError::Invalid(e.to_string()))?;
        self.rescind_offers_on_agent(agent_id);
        let (from, to) = conversion(&op);
        self.allocator
            .update_available(agent_slot, &from, &to)
            .map_err(|e| {
                OperatorError::Conflict(format!(
                    "Invalid {} operation on agent {agent_id}: {e}",
                    op.kind().name()
                ))
            })?;
        self.log(format!(
            "operator applied {} of {} on agent {agent_id}",
            op.kind().name(),
            op.resources()
        ));
        self.send_checkpointed_resources(agent_id);
        Ok(())
    }

    /// An agent's dynamic reservations and persistent volumes, from its total.
    fn checkpointed_on(&self, agent: AgentSlot) -> Resources {
        self.allocator
            .total(agent)
            .map(checkpointed_resources)
            .unwrap_or_default()
    }

    /// What live tasks (and their executors) of each framework use on an agent.
    fn used_on_agent(&self, agent_id: &AgentId) -> Vec<Resources> {
        let mut by_framework: BTreeMap<&FrameworkId, Resources> = BTreeMap::new();
        for t in self.tasks.values() {
            if &t.agent_id == agent_id && !t.released {
                let used = by_framework.entry(&t.framework_id).or_default();
                for r in t.resources.iter() {
                    // A shared volume used by two tasks of one framework is one volume.
                    if !used.contains_one(r) {
                        let _ = used.add(r);
                    }
                }
            }
        }
        by_framework.into_values().collect()
    }

    /// Sends an agent its dynamic reservations and persistent volumes as the master now has
    /// them (from its total in the allocator).
    fn send_checkpointed_resources(&mut self, agent_id: &AgentId) {
        let Some(agent) = self.agents.get(agent_id) else {
            return;
        };
        let (Some(conn), Some(total)) = (agent.conn, self.allocator.total(agent.slot)) else {
            return;
        };
        let resources = checkpointed_resources(total);
        self.outputs.push_back(MasterOutput::ToAgent {
            conn,
            msg: MasterToAgent::CheckpointResources { resources },
        });
    }
}
