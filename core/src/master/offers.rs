//! Offers on the master: ACCEPT (offer validation, operations in order, leftovers declined
//! with the call's filter), and offers returned to the allocator, taken and rescinded.

use super::frameworks::{CallError, Operation};
use super::{Master, MasterOutput, OfferRecord, SchedulerEvent};
use crate::ids::{AgentId, FrameworkId, OfferId};
use crate::resources::Resources;
use crate::task_state::TaskState;
use crate::time::{Duration, Instant, WallTime};
use crate::wire::StatusReason;
use alloc::string::String;
use alloc::vec::Vec;

impl Master {
    /// Launches what an ACCEPT asks for, Mesos' way: operations in order, unused resources
    /// declined with the call's filter.
    pub(super) fn accept(
        &mut self,
        now: Instant,
        wall: WallTime,
        framework_id: &FrameworkId,
        offer_ids: Vec<OfferId>,
        operations: Vec<Operation>,
        refuse: Option<Duration>,
    ) -> Result<(), CallError> {
        let refuse = Some(refuse.unwrap_or(Duration::from_secs(5)));
        if let Some(Operation::Unsupported(name)) = operations
            .iter()
            .find(|o| matches!(o, Operation::Unsupported(_)))
        {
            for id in &offer_ids {
                self.return_offer(now, framework_id, id, None);
            }
            return Err(CallError::Invalid(alloc::format!(
                "operation {name} is not supported by mesolite yet"
            )));
        }
        // Validate offers: unique, ours, outstanding, one agent.
        let mut offers: Vec<OfferRecord> = Vec::new();
        let mut invalid: Option<String> = None;
        for id in &offer_ids {
            if offers.iter().any(|o| &o.id == id) {
                invalid = Some(alloc::format!("offer {id} appears twice"));
                continue;
            }
            match self.take_offer(framework_id, id) {
                Some(o) => {
                    if offers.first().is_some_and(|f| f.agent_id != o.agent_id) {
                        invalid = Some(String::from("offers span more than one agent"));
                    }
                    offers.push(o);
                }
                None => invalid = Some(alloc::format!("offer {id} is no longer valid")),
            }
        }
        if offer_ids.is_empty() {
            invalid = Some(String::from("no offer ids given"));
        }
        if let Some(why) = invalid {
            for o in &offers {
                self.recover_offer(now, o, None);
            }
            for op in &operations {
                if let Operation::Resource(r) = op {
                    self.log(alloc::format!(
                        "Dropping {} offer operation from framework {framework_id}: {why}",
                        r.kind().name()
                    ));
                }
            }
            let launches = operations.into_iter().flat_map(|op| match op {
                Operation::Launch(tasks) => tasks,
                Operation::LaunchGroup(group) => group.tasks,
                Operation::Resource(_) | Operation::Unsupported(_) => Vec::new(),
            });
            for t in launches {
                let status = self.master_status(
                    t.task_id,
                    TaskState::Lost,
                    StatusReason::InvalidOffers,
                    &why,
                    Some(t.agent_id),
                    wall,
                );
                self.send_status(framework_id, status);
            }
            return Ok(());
        }
        let agent_id = offers[0].agent_id.clone();
        let role = offers[0].role.clone();
        let mut remaining = Resources::new();
        for o in &offers {
            // Same identities on one agent always add; a failure would mean corrupt offers.
            let _ = remaining.add_all(&o.resources);
        }
        for op in operations {
            match op {
                Operation::Launch(tasks) => {
                    for t in tasks {
                        self.launch_task(
                            now,
                            wall,
                            framework_id,
                            &agent_id,
                            &role,
                            &mut remaining,
                            t,
                        );
                    }
                }
                Operation::LaunchGroup(group) => self.launch_group(
                    now,
                    wall,
                    framework_id,
                    &agent_id,
                    &role,
                    &mut remaining,
                    group,
                ),
                Operation::Resource(op) => {
                    self.offer_operation(framework_id, &agent_id, &role, &mut remaining, op)
                }
                Operation::Unsupported(_) => {}
            }
        }
        if !remaining.is_empty() {
            let leftover = OfferRecord {
                id: offers[0].id.clone(),
                framework_id: framework_id.clone(),
                agent_id,
                role,
                resources: remaining,
            };
            self.recover_offer(now, &leftover, refuse);
        }
        Ok(())
    }

    /// Returns an offer's resources to the allocator, with a refusal filter.
    pub(super) fn return_offer(
        &mut self,
        now: Instant,
        framework_id: &FrameworkId,
        id: &OfferId,
        refuse: Option<Duration>,
    ) {
        let Some(offer) = self.take_offer(framework_id, id) else {
            return;
        };
        self.recover_offer(now, &offer, Some(refuse.unwrap_or(Duration::from_secs(5))));
    }

    /// Gives an offer's resources back to the allocator; `now` matters only with a filter.
    pub(super) fn recover_offer(
        &mut self,
        now: Instant,
        offer: &OfferRecord,
        refuse: Option<Duration>,
    ) {
        let fw_slot = self
            .frameworks
            .get(&offer.framework_id)
            .and_then(|f| f.slot_of(&offer.role));
        let agent_slot = self.agents.get(&offer.agent_id).map(|a| a.slot);
        if let (Some(fs), Some(ag)) = (fw_slot, agent_slot) {
            self.allocator
                .recover(now, fs, ag, &offer.resources, refuse);
        }
    }

    /// Removes an offer that belongs to `framework_id`.
    pub(super) fn take_offer(
        &mut self,
        framework_id: &FrameworkId,
        id: &OfferId,
    ) -> Option<OfferRecord> {
        if self.offers.get(id).map(|o| &o.framework_id) != Some(framework_id) {
            return None;
        }
        let offer = self.offers.remove(id)?;
        if let Some(f) = self.frameworks.get_mut(framework_id) {
            f.offers.retain(|o| o != id);
        }
        Some(offer)
    }

    /// Rescinds every outstanding offer of a framework and returns the resources without a filter.
    pub(super) fn rescind_offers_of(&mut self, framework_id: &FrameworkId) {
        let ids: Vec<OfferId> = self
            .frameworks
            .get(framework_id)
            .map(|f| f.offers.clone())
            .unwrap_or_default();
        self.rescind(ids);
    }

    /// Rescinds every outstanding offer on an agent.
    pub(super) fn rescind_offers_on_agent(&mut self, agent_id: &AgentId) {
        let ids: Vec<OfferId> = self
            .offers
            .values()
            .filter(|o| &o.agent_id == agent_id)
            .map(|o| o.id.clone())
            .collect();
        self.rescind(ids);
    }

    /// Rescinds offers; their resources come back without a filter (so no time is needed).
    pub(super) fn rescind(&mut self, ids: Vec<OfferId>) {
        for id in ids {
            let Some(fw_id) = self.offers.get(&id).map(|o| o.framework_id.clone()) else {
                continue;
            };
            let Some(offer) = self.take_offer(&fw_id, &id) else {
                continue;
            };
            self.recover_offer(Instant::ZERO, &offer, None);
            if let Some(stream) = self.frameworks.get(&fw_id).and_then(|f| f.stream) {
                self.outputs.push_back(MasterOutput::ToFramework {
                    stream,
                    event: SchedulerEvent::Rescind(id),
                });
            }
        }
    }
}
