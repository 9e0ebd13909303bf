//! Quota calls (SET_QUOTA and REMOVE_QUOTA of Mesos 1.5, UPDATE_QUOTA of Mesos 1.9): checked
//! as Mesos' quota handler checks them, then written to the registry as `Op::UpdateQuota`; the
//! allocator gets a quota only once it is durable (and again from the registry on recovery).

use super::{Master, OperatorError};
use crate::ids::Role;
use crate::registry::QuotaRecord;
use crate::resources::{Resource, Resources};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

impl Master {
    /// SET_QUOTA (Mesos 1.5): `guarantee` becomes both the role's guarantee and its limit. The
    /// role must have no quota yet; unless `force`, all guarantees together must fit the
    /// cluster's capacity (409 otherwise, as Mesos).
    pub(super) fn check_set_quota(
        &self,
        role: &Role,
        guarantee: &Resources,
        force: bool,
    ) -> Result<QuotaRecord, OperatorError> {
        let invalid = |why: String| {
            OperatorError::Invalid(format!("Failed to validate set quota request: {why}"))
        };
        check_quota_role(role).map_err(invalid)?;
        check_scalars(guarantee).map_err(invalid)?;
        if self.registry().quotas.iter().any(|q| &q.role == role) {
            return Err(invalid(format!(
                "Cannot set quota for role '{role}' which already has quota"
            )));
        }
        if role.as_str().contains('/') {
            return Err(OperatorError::Invalid(format!(
                "Setting quota on nested role '{role}' is not supported yet"
            )));
        }
        let record = QuotaRecord {
            role: role.clone(),
            guarantees: guarantee.clone(),
            limits: guarantee.clone(),
        };
        if !force {
            if let Some((guaranteed, capacity)) = self.overcommit(core::slice::from_ref(&record)) {
                return Err(OperatorError::Conflict(format!(
                    "Quota guarantees overcommit the cluster (use 'force' to bypass this \
                     check): Total quota guarantees '{guaranteed}' exceed cluster capacity \
                     '{capacity}'"
                )));
            }
        }
        Ok(record)
    }

    /// REMOVE_QUOTA: the role must have a quota.
    pub(super) fn check_remove_quota(&self, role: &Role) -> Result<QuotaRecord, OperatorError> {
        if !self.registry().quotas.iter().any(|q| &q.role == role) {
            return Err(OperatorError::Invalid(format!(
                "Failed to remove quota: Role '{role}' has no quota set"
            )));
        }
        Ok(QuotaRecord {
            role: role.clone(),
            guarantees: Resources::new(),
            limits: Resources::new(),
        })
    }

    /// UPDATE_QUOTA (Mesos 1.9): each config replaces its role's quota (no guarantees and no
    /// limits is the default quota, which removes it). Every guarantee must be within the
    /// limit of its name, and unless `force` all guarantees together must fit the cluster.
    pub(super) fn check_update_quota(
        &self,
        quotas: &[QuotaRecord],
        force: bool,
    ) -> Result<(), OperatorError> {
        let invalid = |why: String| OperatorError::Invalid(format!("Invalid QuotaConfig: {why}"));
        for q in quotas {
            if q.role.as_str().contains('/') {
                return Err(OperatorError::Invalid(format!(
                    "Updating quota on nested role '{}' is not supported yet",
                    q.role
                )));
            }
            check_quota_role(&q.role).map_err(invalid)?;
            check_scalars(&q.guarantees).map_err(invalid)?;
            check_scalars(&q.limits).map_err(invalid)?;
            for g in q.guarantees.iter() {
                let limit = q.limits.iter().find(|l| l.name == g.name);
                if let (Some(limit), Some(want)) = (limit, g.scalar_value()) {
                    if limit.scalar_value().is_some_and(|l| want > l) {
                        return Err(invalid(format!(
                            "role '{}' guarantee '{g}' is greater than its limit '{limit}'",
                            q.role
                        )));
                    }
                }
            }
        }
        if !force {
            if let Some((guaranteed, capacity)) = self.overcommit(quotas) {
                return Err(invalid(format!(
                    "total quota guarantees '{guaranteed}' exceed cluster capacity \
                     '{capacity}' (use 'force' flag to bypass this check)"
                )));
            }
        }
        Ok(())
    }

    /// The total guarantees with `changes` applied and the cluster's capacity (the
    /// non-revocable scalars of every registered agent, connected or not, as Mesos counts
    /// them), when the guarantees do not fit.
    fn overcommit(&self, changes: &[QuotaRecord]) -> Option<(Resources, Resources)> {
        let mut guaranteed = Resources::new();
        let kept = self
            .registry()
            .quotas
            .iter()
            .filter(|q| !changes.iter().any(|c| c.role == q.role));
        for q in kept.chain(changes.iter()) {
            for g in q.guarantees.iter() {
                let _ = guaranteed.add(g);
            }
        }
        let mut capacity = Resources::new();
        for agent in self.agents.values() {
            let Some(total) = self.allocator.total(agent.slot) else {
                continue;
            };
            for r in total.iter().filter(|r| !r.is_revocable()) {
                if let Some(plain) = r
                    .scalar_value()
                    .and_then(|v| Resource::scalar(&r.name, v).ok())
                {
                    let _ = capacity.add(&plain);
                }
            }
        }
        (!capacity.contains(&guaranteed)).then_some((guaranteed, capacity))
    }

    /// Gives the allocator every quota the registry holds (on recovery: quotas survive a
    /// restart).
    pub(super) fn apply_registry_quotas(&mut self) {
        let roles: Vec<Role> = self
            .registry()
            .quotas
            .iter()
            .map(|q| q.role.clone())
            .collect();
        for role in roles {
            self.apply_registry_quota(&role);
        }
    }

    /// Gives the allocator the registry's quota of one role (none: its quota is removed).
    pub(super) fn apply_registry_quota(&mut self, role: &Role) {
        let record = self
            .registry()
            .quotas
            .iter()
            .find(|q| &q.role == role)
            .cloned();
        let result = match &record {
            Some(q) => self.allocator.set_quota(role, &q.guarantees, &q.limits),
            None => match self.allocator.remove_quota(role) {
                Err(crate::allocator::AllocatorError::UnknownQuota) => Ok(()),
                other => other,
            },
        };
        if let Err(e) = result {
            self.log(format!(
                "the allocator refused the quota of role '{role}': {e}"
            ));
        }
    }

    /// Every quota in force, as the registry holds it.
    pub fn quotas(&self) -> &[QuotaRecord] {
        &self.registry().quotas
    }
}

/// A quota's role: valid, and not the default role.
fn check_quota_role(role: &Role) -> Result<(), String> {
    if role.as_str() == "*" {
        return Err(String::from("quota cannot be set for the default role '*'"));
    }
    crate::resources::validate_role(role.as_str())
        .map_err(|e| format!("invalid role '{role}': {e}"))
}

/// Quota resources: plain scalars (no reservation, disk, provider, shared or revocable
/// identity), each named once.
fn check_scalars(resources: &Resources) -> Result<(), String> {
    for (i, r) in resources.iter().enumerate() {
        if !r.is_plain_scalar() {
            return Err(format!(
                "quota resource '{r}' is not a plain scalar (only unreserved scalars without \
                 disk, shared or revocable information are allowed)"
            ));
        }
        if resources.as_slice()[..i].iter().any(|o| o.name == r.name) {
            return Err(format!("resource '{}' is named twice", r.name));
        }
    }
    Ok(())
}
