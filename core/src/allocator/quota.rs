//! Quota: Mesos 1.5 `SET_QUOTA`/`REMOVE_QUOTA` (a guarantee that is also the limit: call
//! [`Allocator::set_quota`] with the same resources twice) and Mesos 1.9 `UPDATE_QUOTA`
//! (separate guarantees and limits), and the quota headroom bookkeeping of a cycle.
//!
//! A role's *consumption* of quota (Mesos 1.5 `consumed quota`) is what frameworks in the role
//! and its descendants hold unreserved, plus everything reserved to the role or a descendant
//! on any registered agent, allocated or not (MESOS-4527). Only scalars count; revocable
//! resources never do. The *unsatisfied guarantee* is `guarantee - consumption`, floored at
//! zero; the *required headroom* is its sum over all quota roles; the *available headroom* is
//! the unreserved, non-revocable free scalars of all registered agents. A cycle never lets a
//! role take unreserved resources that would bring the available headroom below the required
//! one (other than its own unsatisfied part), and never brings a role's consumption above its
//! limit. Names not listed in a limit are unbounded; names not listed in a guarantee are not
//! guaranteed.
//!
//! Bound: [`MAX_QUOTAS`] roles with quota; full is `QuotaTableFull`. Quotas do not nest: a
//! role may not have quota when an ancestor or descendant has one (`NestedQuota`), which keeps
//! the required headroom a plain sum (Mesos 1.5 allows quota on top-level roles only).

use super::roles::{is_quota_unreserved, within, NO_ROLE};
use super::share::{Sums, MAX_SCALAR_NAMES};
use super::{Allocator, AllocatorError};
use crate::ids::{AgentSlot, Role};
use crate::resources::{Fixed, Resources};

/// Most roles with a quota at once.
pub const MAX_QUOTAS: usize = 64;
/// No bound, in a limit or a budget.
pub(super) const UNBOUNDED: i64 = i64::MAX;

/// One role's quota, with its consumption kept current.
#[derive(Debug)]
pub(super) struct QuotaEntry {
    /// The role's node slot.
    pub(super) role: u32,
    pub(super) guarantee: Sums,
    /// [`UNBOUNDED`] for names without a limit.
    pub(super) limit: Sums,
    guarantee_res: Resources,
    limit_res: Resources,
    /// Scalars reserved to the role or a descendant on all registered agents.
    pub(super) reserved: Sums,
    /// Unreserved scalars allocated to frameworks in the role or a descendant.
    pub(super) alloc_unreserved: Sums,
}

impl QuotaEntry {
    pub(super) fn consumed(&self, i: usize) -> i64 {
        self.alloc_unreserved
            .get(i)
            .saturating_add(self.reserved.get(i))
    }

    pub(super) fn unsatisfied(&self, i: usize) -> i64 {
        self.guarantee
            .get(i)
            .saturating_sub(self.consumed(i))
            .max(0)
    }

    pub(super) fn limit_room(&self, i: usize) -> i64 {
        let l = self.limit.get(i);
        if l == UNBOUNDED {
            UNBOUNDED
        } else {
            l.saturating_sub(self.consumed(i)).max(0)
        }
    }

    pub(super) fn is_satisfied(&self) -> bool {
        (0..MAX_SCALAR_NAMES).all(|i| self.unsatisfied(i) == 0)
    }
}

/// A role's quota as set: the guarantee and the limit (Mesos 1.9 `QuotaConfig`; in the 1.5
/// view the guarantee is the quota).
#[derive(Clone, Copy, Debug)]
pub struct QuotaView<'a> {
    pub role: &'a Role,
    pub guarantee: &'a Resources,
    pub limit: &'a Resources,
}

/// The quota headroom of the running cycle (see the module comment).
#[derive(Debug, Default)]
pub(super) struct Headroom {
    /// Whether any quota exists; when not, nothing is chopped.
    pub(super) active: bool,
    pub(super) available: Sums,
    pub(super) required: Sums,
}

/// Checks that quota resources are plain scalars.
fn check_plain_scalars(rs: &Resources) -> Result<(), AllocatorError> {
    for r in rs.iter() {
        if !r.is_plain_scalar() {
            return Err(AllocatorError::InvalidQuota);
        }
    }
    Ok(())
}

impl Allocator {
    /// Sets (or replaces) `role`'s quota (Mesos 1.9 `UPDATE_QUOTA`; for Mesos 1.5 `SET_QUOTA`
    /// pass the guarantee as the limit too). Both must be plain unreserved scalars; each
    /// guaranteed amount must not exceed the limit of that name when one is given. Empty
    /// guarantee and limit remove the quota. Triggers a cycle.
    pub fn set_quota(
        &mut self,
        role: &Role,
        guarantee: &Resources,
        limit: &Resources,
    ) -> Result<(), AllocatorError> {
        if role.as_str() == "*" {
            return Err(AllocatorError::QuotaOnDefaultRole);
        }
        check_plain_scalars(guarantee)?;
        check_plain_scalars(limit)?;
        if guarantee.is_empty() && limit.is_empty() {
            return match self.remove_quota(role) {
                Err(AllocatorError::UnknownQuota) => Ok(()),
                other => other,
            };
        }
        for g in guarantee.iter() {
            let has_limit = limit.iter().any(|l| l.name == g.name);
            if has_limit && guarantee.scalar(&g.name) > limit.scalar(&g.name) {
                return Err(AllocatorError::GuaranteeAboveLimit);
            }
        }
        for q in &self.quotas {
            let other = self.roles[q.role as usize]
                .name
                .as_ref()
                .map_or("", Role::as_str);
            if other != role.as_str()
                && (within(role.as_str(), other) || within(other, role.as_str()))
            {
                return Err(AllocatorError::NestedQuota);
            }
        }
        let existing = self
            .find_role(role)
            .map(|r| self.roles[r as usize].quota)
            .filter(|&q| q != NO_ROLE);
        if existing.is_none() && self.quotas.len() >= MAX_QUOTAS {
            return Err(AllocatorError::QuotaTableFull);
        }
        for rs in [guarantee, limit] {
            for r in rs.iter() {
                if self.names.intern(&r.name).is_none() {
                    return Err(AllocatorError::TooManyResourceNames);
                }
            }
        }
        let node = self
            .intern_role(role)
            .ok_or(AllocatorError::RoleTableFull)?;
        let mut entry = QuotaEntry {
            role: node,
            guarantee: Sums::default(),
            limit: Sums([UNBOUNDED; MAX_SCALAR_NAMES]),
            guarantee_res: guarantee.clone(),
            limit_res: limit.clone(),
            reserved: Sums::default(),
            alloc_unreserved: Sums::default(),
        };
        entry.guarantee.apply(&self.names, guarantee, 1);
        for r in limit.iter() {
            if let Some(i) = self.names.index(&r.name) {
                entry.limit.0[i] = limit.scalar(&r.name).milli();
            }
        }
        // Consumption so far: reservations on every agent, unreserved allocations of every
        // framework in the subtree.
        for a in self.agents.iter().filter(|a| a.registered) {
            entry.reserved.apply_where(&self.names, &a.total, 1, |r| {
                !r.is_revocable()
                    && r.reservation_role()
                        .is_some_and(|rr| within(rr.as_str(), role.as_str()))
            });
        }
        for (slot, f) in self.frameworks.iter().enumerate() {
            let in_subtree = f.registered
                && self.roles[f.role as usize]
                    .name
                    .as_ref()
                    .is_some_and(|n| within(n.as_str(), role.as_str()));
            if in_subtree {
                for (_, held) in self.allocations(crate::ids::FrameworkSlot(slot as u32)) {
                    entry
                        .alloc_unreserved
                        .apply_where(&self.names, held, 1, is_quota_unreserved);
                }
            }
        }
        match existing {
            Some(q) => self.quotas[q as usize] = entry,
            None => {
                self.roles[node as usize].quota = self.quotas.len() as u32;
                self.quotas.push(entry);
            }
        }
        self.trigger(self.last_now);
        Ok(())
    }

    /// Removes `role`'s quota (Mesos `REMOVE_QUOTA`); `UnknownQuota` if it has none.
    /// Triggers a cycle.
    pub fn remove_quota(&mut self, role: &Role) -> Result<(), AllocatorError> {
        let node = self.find_role(role).ok_or(AllocatorError::UnknownQuota)?;
        let q = self.roles[node as usize].quota;
        if q == NO_ROLE {
            return Err(AllocatorError::UnknownQuota);
        }
        self.quotas.swap_remove(q as usize);
        if let Some(moved) = self.quotas.get(q as usize) {
            self.roles[moved.role as usize].quota = q;
        }
        self.roles[node as usize].quota = NO_ROLE;
        self.release_role_if_unused(node);
        self.trigger(self.last_now);
        Ok(())
    }

    /// `role`'s quota, if it has one.
    pub fn quota(&self, role: &Role) -> Option<QuotaView<'_>> {
        let node = self.find_role(role)?;
        let q = self.roles[node as usize].quota;
        self.quota_view(q)
    }

    /// Every quota, in no particular order.
    pub fn quotas(&self) -> impl Iterator<Item = QuotaView<'_>> + '_ {
        (0..self.quotas.len() as u32).filter_map(|q| self.quota_view(q))
    }

    fn quota_view(&self, q: u32) -> Option<QuotaView<'_>> {
        let e = self.quotas.get(q as usize)?;
        Some(QuotaView {
            role: self.roles[e.role as usize].name.as_ref()?,
            guarantee: &e.guarantee_res,
            limit: &e.limit_res,
        })
    }

    /// How much of scalar `name` `role` consumes towards its quota (see the module comment);
    /// zero without a quota.
    pub fn quota_consumed(&self, role: &Role, name: &str) -> Fixed {
        let q = self
            .find_role(role)
            .map(|r| self.roles[r as usize].quota)
            .filter(|&q| q != NO_ROLE);
        match (q, self.names.index(name)) {
            (Some(q), Some(i)) => Fixed::from_milli(self.quotas[q as usize].consumed(i)),
            _ => Fixed::ZERO,
        }
    }

    /// Scalars reserved to `role` exactly on `agent` (static and dynamic), for operators.
    pub fn reserved_scalar(&self, agent: AgentSlot, role: &Role, name: &str) -> Fixed {
        self.agent(agent).map_or(Fixed::ZERO, |a| {
            a.total
                .iter()
                .filter(|r| r.name.as_str() == name && r.reservation_role() == Some(role))
                .filter_map(|r| r.scalar_value())
                .fold(Fixed::ZERO, Fixed::saturating_add)
        })
    }

    /// Adds (`sign = 1`) or subtracts reservations in an agent total to the quotas they count
    /// towards.
    pub(super) fn apply_reserved(&mut self, rs: &Resources, sign: i64) {
        if self.quotas.is_empty() {
            return;
        }
        for q in self.quotas.iter_mut() {
            let Some(role) = self.roles[q.role as usize].name.as_ref() else {
                continue;
            };
            q.reserved.apply_where(&self.names, rs, sign, |r| {
                !r.is_revocable()
                    && r.reservation_role()
                        .is_some_and(|rr| within(rr.as_str(), role.as_str()))
            });
        }
    }

    /// Computes the headroom at the start of a cycle.
    pub(super) fn start_headroom(&mut self) {
        let h = &mut self.headroom;
        h.active = !self.quotas.is_empty();
        h.available = Sums::default();
        h.required = Sums::default();
        if !h.active {
            return;
        }
        for a in self.agents.iter().filter(|a| a.registered) {
            h.available
                .apply_where(&self.names, &a.available, 1, is_quota_unreserved);
        }
        for q in &self.quotas {
            for i in 0..MAX_SCALAR_NAMES {
                h.required.0[i] = h.required.0[i].saturating_add(q.unsatisfied(i));
            }
        }
    }

    /// The most of each unreserved scalar a leaf role covered by quota `q` (or none) may take
    /// now; `false` when nothing is bounded. Stage 1 (`quota_stage`) gives guaranteed names
    /// up to the unsatisfied guarantee; otherwise a role may use the headroom that no
    /// unsatisfied guarantee needs, plus its own unsatisfied part. Limits bound both.
    pub(super) fn budget(&self, q: u32, quota_stage: bool, out: &mut Sums) -> bool {
        if !self.headroom.active {
            return false;
        }
        let h = &self.headroom;
        let quota = (q != NO_ROLE).then(|| &self.quotas[q as usize]);
        let mut bounded = false;
        for i in 0..MAX_SCALAR_NAMES {
            let slack = h.available.get(i).saturating_sub(h.required.get(i)).max(0);
            let b = match quota {
                None if h.required.get(i) == 0 => UNBOUNDED,
                None => slack,
                Some(e) if quota_stage && e.guarantee.get(i) > 0 => e.unsatisfied(i),
                Some(e) => {
                    let room = e.limit_room(i);
                    let head = if h.required.get(i) == 0 {
                        UNBOUNDED
                    } else {
                        slack.saturating_add(e.unsatisfied(i))
                    };
                    room.min(head)
                }
            };
            bounded |= b != UNBOUNDED;
            out.0[i] = b;
        }
        bounded
    }

    /// Updates the headroom after `granted` went to a leaf under quota `q` (or none);
    /// `unsat_before` is that quota's unsatisfied guarantee before the grant.
    pub(super) fn note_grant(&mut self, q: u32, granted: &Resources, unsat_before: &Sums) {
        if !self.headroom.active {
            return;
        }
        self.headroom
            .available
            .apply_where(&self.names, granted, -1, is_quota_unreserved);
        if q != NO_ROLE {
            let e = &self.quotas[q as usize];
            for i in 0..MAX_SCALAR_NAMES {
                let delta = e.unsatisfied(i) - unsat_before.get(i);
                self.headroom.required.0[i] = self.headroom.required.0[i].saturating_add(delta);
            }
        }
    }

    /// The unsatisfied guarantee of quota `q` per name (zeros without a quota).
    pub(super) fn unsatisfied_of(&self, q: u32) -> Sums {
        let mut s = Sums::default();
        if let Some(e) = self.quotas.get(q as usize) {
            for i in 0..MAX_SCALAR_NAMES {
                s.0[i] = e.unsatisfied(i);
            }
        }
        s
    }
}
