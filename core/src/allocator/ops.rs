//! Conversions that change what resources are, not how much there is: RESERVE, UNRESERVE,
//! CREATE and DESTROY applied by a framework to an offer's resources (Mesos
//! `updateAllocation`) or by an operator to an agent's free resources (Mesos
//! `updateAvailable`). Both replace `from` with `to` in the agent's total as well, and keep
//! the quota reservation accounting in step. Neither triggers a cycle.

use super::{Allocator, AllocatorError};
use crate::ids::{AgentSlot, FrameworkSlot};
use crate::resources::{Resources, Value};

/// Whether `from` and `to` hold the same amount of every scalar name.
fn same_scalars(from: &Resources, to: &Resources) -> bool {
    let same = |a: &Resources, b: &Resources| {
        a.iter()
            .all(|r| !matches!(r.value, Value::Scalar(_)) || a.scalar(&r.name) == b.scalar(&r.name))
    };
    same(from, to) && same(to, from)
}

/// `base - from + to`, into `out`; nothing is assumed about `out` beforehand.
fn convert(
    out: &mut Resources,
    base: &Resources,
    from: &Resources,
    to: &Resources,
    missing: AllocatorError,
) -> Result<(), AllocatorError> {
    out.copy_from(base);
    if !out.contains(from) {
        return Err(missing);
    }
    out.subtract(from).map_err(AllocatorError::Arith)?;
    out.add_all(to).map_err(AllocatorError::Arith)
}

impl Allocator {
    /// Replaces `from` with `to` in what `fw` holds on `agent` and in the agent's total
    /// (Mesos `updateAllocation`, for operations in an ACCEPT). `to` must have the same scalar
    /// amounts as `from`. On error nothing changed.
    pub fn update_allocation(
        &mut self,
        fw: FrameworkSlot,
        agent: AgentSlot,
        from: &Resources,
        to: &Resources,
    ) -> Result<(), AllocatorError> {
        if self.framework(fw).is_none() {
            return Err(AllocatorError::UnknownFramework);
        }
        let a = self.agent(agent).ok_or(AllocatorError::UnknownAgent)?;
        if !same_scalars(from, to) {
            return Err(AllocatorError::QuantityMismatch);
        }
        let id = self
            .records
            .find(fw.0, agent.0)
            .ok_or(AllocatorError::NotAllocated)?;
        let mut total = Resources::with_capacity(a.total.len() + to.len());
        convert(&mut total, &a.total, from, to, AllocatorError::NotAllocated)?;
        let mut held = Resources::with_capacity(self.records.get(id).resources.len() + to.len());
        convert(
            &mut held,
            &self.records.get(id).resources,
            from,
            to,
            AllocatorError::NotAllocated,
        )?;
        self.apply_alloc(fw.0, from, -1, false);
        self.names.intern_all(to);
        self.apply_alloc(fw.0, to, 1, false);
        self.replace_total(agent, total, from, to);
        self.records.get_mut(id).resources = held;
        Ok(())
    }

    /// Replaces free resources `from` on `agent` with `to`, in its free pool and total (Mesos
    /// `updateAvailable`, for operator RESERVE/UNRESERVE/CREATE/DESTROY). `NotAvailable` when
    /// `from` is not all free; `to` must have the same scalar amounts. On error nothing changed.
    pub fn update_available(
        &mut self,
        agent: AgentSlot,
        from: &Resources,
        to: &Resources,
    ) -> Result<(), AllocatorError> {
        let a = self.agent(agent).ok_or(AllocatorError::UnknownAgent)?;
        if !same_scalars(from, to) {
            return Err(AllocatorError::QuantityMismatch);
        }
        let mut available = Resources::with_capacity(a.available.len() + to.len());
        convert(
            &mut available,
            &a.available,
            from,
            to,
            AllocatorError::NotAvailable,
        )?;
        let mut total = Resources::with_capacity(a.total.len() + to.len());
        convert(&mut total, &a.total, from, to, AllocatorError::NotAvailable)?;
        self.names.intern_all(to);
        self.replace_total(agent, total, from, to);
        self.agents[agent.0 as usize].available = available;
        Ok(())
    }

    /// Installs an agent's converted total and moves the reservation and cluster sums.
    fn replace_total(
        &mut self,
        agent: AgentSlot,
        total: Resources,
        from: &Resources,
        to: &Resources,
    ) {
        self.apply_reserved(from, -1);
        self.apply_reserved(to, 1);
        self.total.apply(&self.names, from, -1);
        self.total.apply(&self.names, to, 1);
        self.agents[agent.0 as usize].total = total;
    }
}
