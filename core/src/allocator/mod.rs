//! The allocator (Mesos `HierarchicalAllocatorProcess`): weighted DRF at every level of the
//! role tree, quota (guarantees and limits), reservations, offer filters, suppress/revive and
//! batched allocation cycles.
//!
//! Four kinds of methods, as elsewhere in core:
//! * getters (`available`, `allocation`, `weight`, ...);
//! * inputs that change the cluster picture (`add_agent`, `add_framework`, `recover`, ...),
//!   some of which *trigger* an allocation: they only set a flag, so that many events
//!   collapse into one cycle (Mesos MESOS-6904 batching);
//! * `poll_timeout()`, the next instant the driver must call `handle_timeout`;
//! * `handle_timeout(now, out)` / `allocate(now, out)`, which run a cycle and hand each offer
//!   to `out` as an [`Offer`] borrowing the allocator's scratch space.
//!
//! Memory: every table is allocated once by [`Allocator::new`], sized from
//! [`AllocatorConfig::max_agents`] and [`AllocatorConfig::max_frameworks`]. `Resources` values
//! inside the tables grow to their working size on first use and are then reused, so a cycle
//! in steady state allocates nothing (`core/benches/allocator.rs` counts it). Bounds and full
//! policies:
//! * agents, frameworks: one slot each, addressed by [`AgentSlot`]/[`FrameworkSlot`];
//!   a slot outside the table is `TableFull`, a slot in use is `SlotInUse`;
//! * roles: `max_frameworks + EXTRA_ROLES` nodes of the role tree (see [`roles`]); a node
//!   lives while it has a framework, a child, a non-default weight or a quota; full is
//!   `RoleTableFull`;
//! * quotas: [`MAX_QUOTAS`] (see [`quota`]);
//! * allocation records: `RECORDS_PER_AGENT * max_agents` (framework, agent) pairs; full
//!   withholds the offer (counted in [`Allocator::withheld_offers`]) or is `TableFull`;
//! * offer filters: see [`filters`]; scalar names for shares: see [`share::MAX_SCALAR_NAMES`].

mod cycle;
mod filters;
mod ops;
mod quota;
mod records;
mod roles;
mod share;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_props;
#[cfg(test)]
mod tests_tree;

use crate::ids::{AgentSlot, FrameworkSlot, Role};
use crate::resources::{ArithError, Fixed, Resources};
use crate::rng::Rng;
use crate::time::{Duration, Instant};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use filters::Filters;
use quota::{Headroom, QuotaEntry};
use records::{Records, NIL};
use roles::RoleEntry;
use share::{ScalarNames, Share, Sums};

pub use quota::{QuotaView, MAX_QUOTAS};
pub use share::MAX_SCALAR_NAMES;

/// Role slots beyond one per framework, for roles that only carry a weight.
pub const EXTRA_ROLES: usize = 64;
/// Allocation records per agent slot, on average over the cluster.
pub const RECORDS_PER_AGENT: usize = 8;
/// The default role weight, in thousandths (Mesos weight 1.0).
pub const DEFAULT_WEIGHT_MILLI: u32 = 1000;
/// Longest offer filter (Mesos clamps `refuse_seconds` to 365 days, MESOS-7660).
pub const MAX_REFUSE: Duration = Duration::from_secs(365 * 24 * 3600);
/// Smallest CPU amount worth offering, in thousandths (Mesos 1.5 `MIN_CPUS` 0.01).
pub const MIN_CPUS_MILLI: i64 = 10;
/// Smallest memory amount worth offering, in thousandths of a MB (Mesos 1.5 `MIN_MEM` 32 MB).
pub const MIN_MEM_MILLI: i64 = 32_000;

/// Sizes and timing of an [`Allocator`], fixed for its lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocatorConfig {
    /// Agent slots (`--max-agents`).
    pub max_agents: u32,
    /// Framework slots (`--max-frameworks`).
    pub max_frameworks: u32,
    /// Period of the allocation cycle and minimum filter duration (`--allocation_interval`, 1 s).
    pub allocation_interval: Duration,
    /// Seed of the agent shuffle.
    pub seed: u64,
}

/// One offer produced by a cycle: what `role` (a leaf of the walk) may take on `agent`, now
/// allocated to `framework` (Mesos creates one `Offer` per (framework, role, agent)). A
/// framework in a quota role may get two for one agent in a cycle, the quota stage's and the
/// fair-share stage's; they may be merged or sent as two offers.
#[derive(Clone, Copy, Debug)]
pub struct Offer<'a> {
    pub framework: FrameworkSlot,
    pub role: &'a Role,
    pub agent: AgentSlot,
    pub resources: &'a Resources,
}

/// Why an allocator input was refused; nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocatorError {
    /// The slot is outside the table, or the allocation record pool is full.
    TableFull,
    /// The agent or framework slot is already registered.
    SlotInUse,
    /// The role table is full.
    RoleTableFull,
    /// No agent is registered in that slot.
    UnknownAgent,
    /// No framework is registered in that slot.
    UnknownFramework,
    /// The resources are not all free on the agent.
    NotAvailable,
    /// The new total is smaller than what is allocated on the agent.
    TotalBelowAllocated,
    /// A weight must be positive.
    InvalidWeight,
    /// Resource arithmetic failed (for example too many port ranges).
    Arith(ArithError),
    /// The resources are not all allocated to the framework on the agent.
    NotAllocated,
    /// A conversion must keep every scalar amount (it only changes reservations or volumes).
    QuantityMismatch,
    /// Quota resources must be plain unreserved scalars.
    InvalidQuota,
    /// Quota cannot be set on the default role `*`.
    QuotaOnDefaultRole,
    /// A guarantee is larger than the limit for the same resource.
    GuaranteeAboveLimit,
    /// An ancestor or descendant of the role already has a quota.
    NestedQuota,
    /// The quota table is full.
    QuotaTableFull,
    /// The role has no quota.
    UnknownQuota,
    /// More distinct scalar names than the allocator tracks.
    TooManyResourceNames,
}

impl fmt::Display for AllocatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllocatorError::TableFull => {
                f.write_str("allocator table is full (raise --max-agents or --max-frameworks)")
            }
            AllocatorError::SlotInUse => f.write_str("allocator slot is already in use"),
            AllocatorError::RoleTableFull => f.write_str("too many roles in use"),
            AllocatorError::UnknownAgent => f.write_str("agent is not known to the allocator"),
            AllocatorError::UnknownFramework => {
                f.write_str("framework is not known to the allocator")
            }
            AllocatorError::NotAvailable => f.write_str("resources are not available on the agent"),
            AllocatorError::TotalBelowAllocated => {
                f.write_str("new agent total is smaller than the resources allocated on it")
            }
            AllocatorError::InvalidWeight => f.write_str("role weight must be positive"),
            AllocatorError::Arith(e) => write!(f, "resource arithmetic failed: {e}"),
            AllocatorError::NotAllocated => {
                f.write_str("resources are not allocated to the framework on the agent")
            }
            AllocatorError::QuantityMismatch => f.write_str(
                "conversion changes scalar amounts; it may only change reservations or volumes",
            ),
            AllocatorError::InvalidQuota => {
                f.write_str("quota resources must be plain unreserved scalar resources")
            }
            AllocatorError::QuotaOnDefaultRole => f.write_str("quota cannot be set on role '*'"),
            AllocatorError::GuaranteeAboveLimit => {
                f.write_str("quota guarantee is larger than the limit of the same resource")
            }
            AllocatorError::NestedQuota => {
                f.write_str("an ancestor or descendant of the role already has a quota")
            }
            AllocatorError::QuotaTableFull => {
                write!(f, "too many roles with quota (at most {MAX_QUOTAS})")
            }
            AllocatorError::UnknownQuota => f.write_str("role has no quota"),
            AllocatorError::TooManyResourceNames => write!(
                f,
                "too many distinct scalar resource names (at most {MAX_SCALAR_NAMES})"
            ),
        }
    }
}

#[derive(Debug, Default)]
struct AgentEntry {
    registered: bool,
    active: bool,
    total: Resources,
    available: Resources,
}

#[derive(Debug, Default)]
struct FrameworkEntry {
    registered: bool,
    active: bool,
    suppressed: bool,
    role: u32,
    allocated: Sums,
    /// Allocations made so far (Mesos sorter `allocation.count`), the first tie-breaker.
    count: u64,
    /// Refreshed at the start of each cycle and after each of its allocations.
    share: Share,
}

fn boxed<T: Default>(n: usize) -> Box<[T]> {
    let mut v = Vec::with_capacity(n);
    v.resize_with(n, T::default);
    v.into_boxed_slice()
}

/// The allocator state machine; see the module documentation.
#[derive(Debug)]
pub struct Allocator {
    cfg: AllocatorConfig,
    rng: Rng,
    agents: Box<[AgentEntry]>,
    frameworks: Box<[FrameworkEntry]>,
    roles: Box<[RoleEntry]>,
    /// Quotas, at most [`MAX_QUOTAS`]; a role node points at its entry.
    quotas: Vec<QuotaEntry>,
    names: ScalarNames,
    /// Scalar total of all registered agents (the DRF denominator).
    total: Sums,
    records: Records,
    filters: Filters,
    // Scratch space for cycles, sized once; none of these can outgrow its capacity.
    /// Registered, active agents in shuffled order; at most `max_agents`.
    agent_order: Vec<u32>,
    /// Live nodes of the role tree, one DRF-sorted segment per node's children (the root's
    /// first, `root_len` long); at most twice the role table size.
    kid_order: Vec<u32>,
    root_len: u32,
    /// Quota roles with offerable frameworks, in DRF order; at most [`MAX_QUOTAS`].
    quota_order: Vec<u32>,
    /// The depth-first walk's (position, end) in child segments; at most the role table size.
    stack: Vec<(u32, u32)>,
    /// Nodes whose child segment must be re-sorted; at most the role table size.
    dirty: Vec<u32>,
    /// Offerable frameworks, one DRF-sorted segment per role; at most `max_frameworks`.
    fw_order: Vec<u32>,
    /// (role node, framework position) offered on the current agent; one per role at most.
    touched: Vec<(u32, u32)>,
    headroom: Headroom,
    /// Work space for chopping the candidate; grows to the largest agent once.
    excess: Resources,
    /// The current candidate (and the offer's resources); grows to the largest agent once.
    candidate: Resources,
    /// Work space of `update_agent_total`; grows to the largest agent once.
    scratch: Resources,
    // Timers.
    last_now: Instant,
    trigger_at: Option<Instant>,
    next_periodic: Option<Instant>,
    // Counters.
    cycles: u64,
    withheld: u64,
    mismatched_recovers: u64,
}

impl Allocator {
    /// Builds an allocator with every table allocated now, on the heap.
    pub fn new(cfg: AllocatorConfig) -> Allocator {
        let agents = cfg.max_agents as usize;
        let frameworks = cfg.max_frameworks as usize;
        let roles = frameworks + EXTRA_ROLES;
        let per_fw = (2 * agents / frameworks.max(1))
            .clamp(16, 1024)
            .min(agents.max(1));
        Allocator {
            cfg,
            rng: Rng::from_seed(cfg.seed),
            agents: boxed(agents),
            frameworks: boxed(frameworks),
            roles: boxed(roles),
            quotas: Vec::with_capacity(MAX_QUOTAS),
            names: ScalarNames::default(),
            total: Sums::default(),
            records: Records::new(agents.saturating_mul(RECORDS_PER_AGENT), agents, frameworks),
            filters: Filters::new(frameworks, per_fw),
            agent_order: Vec::with_capacity(agents),
            kid_order: Vec::with_capacity(2 * roles),
            root_len: 0,
            quota_order: Vec::with_capacity(MAX_QUOTAS),
            stack: Vec::with_capacity(roles + 1),
            dirty: Vec::with_capacity(roles),
            fw_order: Vec::with_capacity(frameworks),
            touched: Vec::with_capacity(roles),
            headroom: Headroom::default(),
            excess: Resources::with_capacity(16),
            candidate: Resources::with_capacity(16),
            scratch: Resources::with_capacity(16),
            last_now: Instant::ZERO,
            trigger_at: None,
            next_periodic: None,
            cycles: 0,
            withheld: 0,
            mismatched_recovers: 0,
        }
    }

    // ----- getters -----

    /// The configuration this allocator was built with.
    pub fn config(&self) -> &AllocatorConfig {
        &self.cfg
    }

    /// Free resources on `agent`, or `None` if no agent is registered there.
    pub fn available(&self, agent: AgentSlot) -> Option<&Resources> {
        self.agent(agent).map(|a| &a.available)
    }

    /// The total of `agent`, or `None` if no agent is registered there.
    pub fn total(&self, agent: AgentSlot) -> Option<&Resources> {
        self.agent(agent).map(|a| &a.total)
    }

    /// What `fw` holds (offered or in use) on `agent`.
    pub fn allocation(&self, fw: FrameworkSlot, agent: AgentSlot) -> Option<&Resources> {
        self.records
            .find(fw.0, agent.0)
            .map(|i| &self.records.get(i).resources)
    }

    /// Every agent where `fw` holds resources, with what it holds there.
    pub fn allocations(
        &self,
        fw: FrameworkSlot,
    ) -> impl Iterator<Item = (AgentSlot, &Resources)> + '_ {
        let mut i = self.records.first_of_framework(fw.0);
        core::iter::from_fn(move || {
            if i == NIL {
                return None;
            }
            let r = self.records.get(i);
            i = self.records.next_of_framework(i);
            Some((AgentSlot(r.agent), &r.resources))
        })
    }

    /// The amount of scalar `name` allocated to `fw` over all agents (zero for names that do
    /// not count towards fair sharing).
    pub fn allocated_scalar(&self, fw: FrameworkSlot, name: &str) -> Fixed {
        match (self.framework(fw), self.names.index(name)) {
            (Some(f), Some(i)) => Fixed::from_milli(f.allocated.get(i)),
            _ => Fixed::ZERO,
        }
    }

    /// Whether `fw` is registered and suppressed.
    pub fn is_suppressed(&self, fw: FrameworkSlot) -> bool {
        self.framework(fw).is_some_and(|f| f.suppressed)
    }

    /// Offer filters `fw` currently holds (expired ones until the next sweep).
    pub fn filter_count(&self, fw: FrameworkSlot) -> usize {
        self.filters.count(fw.0 as usize)
    }

    /// The bound on filters per framework.
    pub fn filters_per_framework(&self) -> usize {
        self.filters.per_framework()
    }

    /// The bound on (framework, agent) allocation records.
    pub fn record_capacity(&self) -> usize {
        self.records.capacity()
    }

    /// Allocation cycles run so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Offers not made because the allocation record pool was full.
    pub fn withheld_offers(&self) -> u64 {
        self.withheld
    }

    /// `recover` calls ignored because the resources were not allocated to that framework there.
    pub fn mismatched_recovers(&self) -> u64 {
        self.mismatched_recovers
    }

    fn agent(&self, agent: AgentSlot) -> Option<&AgentEntry> {
        self.agents.get(agent.0 as usize).filter(|a| a.registered)
    }

    fn framework(&self, fw: FrameworkSlot) -> Option<&FrameworkEntry> {
        self.frameworks.get(fw.0 as usize).filter(|f| f.registered)
    }

    // ----- agents -----

    /// Registers an agent with `total` resources, all free (Mesos `addSlave`); triggers a cycle.
    pub fn add_agent(
        &mut self,
        now: Instant,
        agent: AgentSlot,
        total: &Resources,
    ) -> Result<(), AllocatorError> {
        let a = self
            .agents
            .get_mut(agent.0 as usize)
            .ok_or(AllocatorError::TableFull)?;
        if a.registered {
            return Err(AllocatorError::SlotInUse);
        }
        a.registered = true;
        a.active = true;
        a.total.copy_from(total);
        a.available.copy_from(total);
        self.names.intern_all(total);
        self.total.apply(&self.names, total, 1);
        self.apply_reserved(total, 1);
        self.trigger(now);
        Ok(())
    }

    /// Replaces an agent's total (Mesos `updateSlave`); what is allocated stays allocated and
    /// the rest is free. Triggers a cycle.
    pub fn update_agent_total(
        &mut self,
        now: Instant,
        agent: AgentSlot,
        total: &Resources,
    ) -> Result<(), AllocatorError> {
        if self.agent(agent).is_none() {
            return Err(AllocatorError::UnknownAgent);
        }
        self.scratch.copy_from(total);
        let mut i = self.records.first_on_agent(agent.0);
        while i != NIL {
            self.scratch
                .subtract(&self.records.get(i).resources)
                .map_err(|_| AllocatorError::TotalBelowAllocated)?;
            i = self.records.next_on_agent(i);
        }
        let old = core::mem::take(&mut self.agents[agent.0 as usize].total);
        self.apply_reserved(&old, -1);
        self.agents[agent.0 as usize].total = old;
        self.apply_reserved(total, 1);
        let a = &mut self.agents[agent.0 as usize];
        self.total.apply(&self.names, &a.total, -1);
        self.names.intern_all(total);
        self.total.apply(&self.names, total, 1);
        a.total.copy_from(total);
        a.available.copy_from(&self.scratch);
        self.trigger(now);
        Ok(())
    }

    /// Forgets an agent: its total leaves the cluster, allocations on it are dropped from the
    /// frameworks' shares, and filters on it are removed. Unknown slots are ignored.
    pub fn remove_agent(&mut self, agent: AgentSlot) {
        if self.agent(agent).is_none() {
            return;
        }
        let mut i = self.records.first_on_agent(agent.0);
        while i != NIL {
            let next = self.records.next_on_agent(i);
            self.drop_record_shares(i);
            self.records.remove(i);
            i = next;
        }
        self.filters.clear_agent(agent.0);
        let old = core::mem::take(&mut self.agents[agent.0 as usize].total);
        self.apply_reserved(&old, -1);
        self.agents[agent.0 as usize].total = old;
        let a = &mut self.agents[agent.0 as usize];
        self.total.apply(&self.names, &a.total, -1);
        a.registered = false;
        a.active = false;
        a.total.clear();
        a.available.clear();
    }

    /// Stops offers from an agent (Mesos `deactivateSlave`); its resources stay counted.
    pub fn deactivate_agent(&mut self, agent: AgentSlot) {
        if let Some(a) = self
            .agents
            .get_mut(agent.0 as usize)
            .filter(|a| a.registered)
        {
            a.active = false;
        }
    }

    /// Resumes offers from an agent (Mesos `activateSlave`).
    pub fn activate_agent(&mut self, agent: AgentSlot) {
        if let Some(a) = self
            .agents
            .get_mut(agent.0 as usize)
            .filter(|a| a.registered)
        {
            a.active = true;
        }
    }

    /// Subtracts a record's resources from its framework's, roles' and quota's sums.
    fn drop_record_shares(&mut self, i: u32) {
        let fw = self.records.get(i).fw;
        let res = core::mem::take(&mut self.records.get_mut(i).resources);
        self.apply_alloc(fw, &res, -1, false);
        self.records.get_mut(i).resources = res;
    }

    // ----- frameworks and roles -----

    /// Registers a framework in `role` (Mesos `addFramework`; a MULTI_ROLE framework takes
    /// one slot per role); `role` may be nested (`eng/web`), its ancestors are implied;
    /// triggers a cycle if it is active.
    pub fn add_framework(
        &mut self,
        now: Instant,
        fw: FrameworkSlot,
        role: &Role,
        active: bool,
    ) -> Result<(), AllocatorError> {
        match self.frameworks.get(fw.0 as usize) {
            None => return Err(AllocatorError::TableFull),
            Some(f) if f.registered => return Err(AllocatorError::SlotInUse),
            Some(_) => {}
        }
        let r = self
            .intern_role(role)
            .ok_or(AllocatorError::RoleTableFull)?;
        self.roles[r as usize].frameworks += 1;
        self.frameworks[fw.0 as usize] = FrameworkEntry {
            registered: true,
            active,
            suppressed: false,
            role: r,
            allocated: Sums::default(),
            count: 0,
            share: Share::ZERO,
        };
        if active {
            self.trigger(now);
        } else {
            self.touch_time(now);
        }
        Ok(())
    }

    /// Forgets a framework: everything it still holds goes back to the agents' free pools
    /// (the master has removed its tasks and offers; Mesos does that with `recoverResources`
    /// calls before `removeFramework`), and its filters go. Unknown slots are ignored.
    pub fn remove_framework(&mut self, fw: FrameworkSlot) {
        if self.framework(fw).is_none() {
            return;
        }
        let mut i = self.records.first_of_framework(fw.0);
        while i != NIL {
            let next = self.records.next_of_framework(i);
            self.drop_record_shares(i);
            let r = self.records.get(i);
            if self.agents[r.agent as usize]
                .available
                .add_all(&r.resources)
                .is_err()
            {
                self.mismatched_recovers += 1;
            }
            self.records.remove(i);
            i = next;
        }
        self.filters.clear_framework(fw.0 as usize);
        let role = self.frameworks[fw.0 as usize].role;
        self.frameworks[fw.0 as usize] = FrameworkEntry::default();
        let r = &mut self.roles[role as usize];
        r.frameworks -= 1;
        self.release_role_if_unused(role);
    }

    /// Resumes offers to a framework (Mesos `activateFramework`); triggers a cycle.
    pub fn activate_framework(&mut self, fw: FrameworkSlot) {
        if let Some(f) = self
            .frameworks
            .get_mut(fw.0 as usize)
            .filter(|f| f.registered)
        {
            f.active = true;
            self.trigger(self.last_now);
        }
    }

    /// Stops offers to a framework and removes its filters (Mesos `deactivateFramework`).
    pub fn deactivate_framework(&mut self, fw: FrameworkSlot) {
        if let Some(f) = self
            .frameworks
            .get_mut(fw.0 as usize)
            .filter(|f| f.registered)
        {
            f.active = false;
            self.filters.clear_framework(fw.0 as usize);
        }
    }

    /// Stops offers to a framework until it revives (v1 `SUPPRESS`); outstanding offers stay.
    pub fn suppress(&mut self, fw: FrameworkSlot) {
        if let Some(f) = self
            .frameworks
            .get_mut(fw.0 as usize)
            .filter(|f| f.registered)
        {
            f.suppressed = true;
        }
    }

    /// Resumes offers to a framework and clears all its filters (v1 `REVIVE`); triggers a cycle.
    pub fn revive(&mut self, now: Instant, fw: FrameworkSlot) {
        if let Some(f) = self
            .frameworks
            .get_mut(fw.0 as usize)
            .filter(|f| f.registered)
        {
            f.suppressed = false;
            self.filters.clear_framework(fw.0 as usize);
            self.trigger(now);
        }
    }

    // ----- resources coming back -----

    /// Records resources already in use by `fw` on `agent` (tasks found on a re-registering
    /// agent, Mesos `addSlave` with `used`). Does not trigger a cycle.
    pub fn add_allocated(
        &mut self,
        fw: FrameworkSlot,
        agent: AgentSlot,
        resources: &Resources,
    ) -> Result<(), AllocatorError> {
        if self.framework(fw).is_none() {
            return Err(AllocatorError::UnknownFramework);
        }
        let a = self.agent(agent).ok_or(AllocatorError::UnknownAgent)?;
        if !a.available.contains(resources) {
            return Err(AllocatorError::NotAvailable);
        }
        let id = self
            .records
            .get_or_insert(fw.0, agent.0)
            .ok_or(AllocatorError::TableFull)?;
        let rec = &mut self.records.get_mut(id).resources;
        if let Err(e) = rec.add_all(resources) {
            if rec.is_empty() {
                self.records.remove(id);
            }
            return Err(AllocatorError::Arith(e));
        }
        if let Err(e) = self.agents[agent.0 as usize].available.subtract(resources) {
            let rec = &mut self.records.get_mut(id).resources;
            let _ = rec.subtract(resources);
            if rec.is_empty() {
                self.records.remove(id);
            }
            return Err(AllocatorError::Arith(e));
        }
        self.apply_alloc(fw.0, resources, 1, false);
        Ok(())
    }

    /// Takes resources back from `fw` on `agent` into the agent's free pool (Mesos
    /// `recoverResources`: decline, rescind, unused part of an accept, finished task).
    ///
    /// With `refuse` of `Some(d)`, `d > 0`, the framework gets a filter refusing any candidate
    /// that is a subset of `resources` on that agent until `now + max(min(d, 365 days),
    /// allocation_interval)` (MESOS-4302). Does not trigger a cycle: freed resources wait for
    /// the next periodic one, as in Mesos. Unknown agents or frameworks are ignored (a
    /// removal may race with a decline); resources not allocated there are ignored and
    /// counted in [`Allocator::mismatched_recovers`].
    pub fn recover(
        &mut self,
        now: Instant,
        fw: FrameworkSlot,
        agent: AgentSlot,
        resources: &Resources,
        refuse: Option<Duration>,
    ) {
        self.touch_time(now);
        if self.framework(fw).is_none() || self.agent(agent).is_none() {
            return;
        }
        let Some(id) = self.records.find(fw.0, agent.0) else {
            self.mismatched_recovers += 1;
            return;
        };
        let rec = &mut self.records.get_mut(id).resources;
        if rec.subtract(resources).is_err() {
            self.mismatched_recovers += 1;
            return;
        }
        if self.agents[agent.0 as usize]
            .available
            .add_all(resources)
            .is_err()
        {
            // Cannot happen for resources that came from this agent; undo and count it.
            let _ = self.records.get_mut(id).resources.add_all(resources);
            self.mismatched_recovers += 1;
            return;
        }
        if self.records.get(id).resources.is_empty() {
            self.records.remove(id);
        }
        self.apply_alloc(fw.0, resources, -1, false);
        if let Some(d) = refuse.filter(|d| *d > Duration::ZERO) {
            let expires = now + d.min(MAX_REFUSE).max(self.cfg.allocation_interval);
            self.filters
                .insert(now, fw.0 as usize, agent.0, resources, expires);
        }
    }

    // ----- timers -----

    fn touch_time(&mut self, now: Instant) {
        if now > self.last_now {
            self.last_now = now;
        }
        if self.next_periodic.is_none() {
            self.next_periodic = Some(now + self.cfg.allocation_interval);
        }
    }

    /// Asks for a cycle at the next `handle_timeout` (batched: repeated triggers collapse).
    fn trigger(&mut self, now: Instant) {
        self.touch_time(now);
        self.trigger_at = Some(self.trigger_at.map_or(now, |t| t.min(now)));
    }

    /// When `handle_timeout` must next be called: the next periodic cycle, or sooner when a
    /// cycle was triggered. `None` before any agent or framework was added.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.trigger_at, self.next_periodic) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs a cycle if one is due (periodic, every `allocation_interval`, or triggered), after
    /// sweeping expired filters. Calling it early does nothing.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut dyn FnMut(Offer<'_>)) {
        self.touch_time(now);
        let periodic = self.next_periodic.is_some_and(|t| now >= t);
        let triggered = self.trigger_at.is_some_and(|t| now >= t);
        if !periodic && !triggered {
            return;
        }
        self.filters.expire(now);
        self.allocate(now, out);
        if periodic {
            self.next_periodic = Some(now + self.cfg.allocation_interval);
        }
    }
}
