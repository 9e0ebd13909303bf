//! One allocation cycle (Mesos `HierarchicalAllocatorProcess::__allocate`): the quota stage,
//! then the fair-share stage, each over all active agents in one seeded random order.
//!
//! DRF runs at every level of the role tree (Mesos' hierarchical `DRFSorter`): siblings are
//! compared by the weighted dominant share of their whole subtree, and the cycle descends the
//! tree depth-first, lowest share first. A role that has both frameworks and sub-roles takes
//! part among its children as one more entry whose share is its own frameworks' allocation
//! under the role's weight (Mesos' virtual `.` leaf). Within a role, frameworks are sorted by
//! unweighted DRF share.
//!
//! * Quota stage: for each quota role with an unsatisfied guarantee, in DRF order, its
//!   subtree is walked; a leaf's candidate is its reservations plus unreserved scalars chopped
//!   to the unsatisfied guarantee (guaranteed names) or to the headroom and limit (others).
//! * Fair-share stage: the whole tree is walked; a leaf's candidate is everything free that
//!   it may use (unreserved, or reserved to it or an ancestor), with unreserved scalars chopped
//!   so that no unsatisfied guarantee loses its headroom and no limit is passed.
//!
//! A candidate that is allocatable goes whole to the leaf's first framework that has not
//! filtered it (coarse-grained, Mesos' behaviour). A framework may so get two offers for one
//! agent in a cycle: its quota part and its fair-share part.
//!
//! Mesos re-sorts every sorter for every agent (MESOS-9239). Here the orders are kept sorted:
//! after an agent, a framework that received an offer is moved right by a binary search and a
//! rotate ([`share::sift_right`]), and the child segments on the path from its role to the
//! root are re-sorted by insertion (they are short and nearly sorted). Shares only grow during
//! a cycle. The order used within one agent is the one Mesos would compute for it.

use super::quota::UNBOUNDED;
use super::roles::{is_quota_unreserved, RoleEntry, NO_ROLE};
use super::share::{cmp_weighted, sift_right, Share, Sums};
use super::{Allocator, FrameworkEntry, Offer, MIN_CPUS_MILLI, MIN_MEM_MILLI};
use crate::ids::{AgentSlot, FrameworkSlot};
use crate::resources::{Fixed, Resource, Resources, Value};
use crate::time::Instant;
use core::cmp::Ordering;

/// Marks a child-order entry that stands for a node's own frameworks, not its subtree.
const SELF_BIT: u32 = 1 << 31;

/// DRF order of frameworks within a role: share (weight 1), then allocation count, then slot.
fn fw_cmp(fws: &[FrameworkEntry], a: u32, b: u32) -> Ordering {
    let (x, y) = (&fws[a as usize], &fws[b as usize]);
    cmp_weighted(x.share, 1, y.share, 1)
        .then(x.count.cmp(&y.count))
        .then(a.cmp(&b))
}

/// The weighted DRF key of a child-order entry.
fn kid_key(roles: &[RoleEntry], e: u32) -> (Share, u32, u64) {
    let r = &roles[(e & !SELF_BIT) as usize];
    if e & SELF_BIT != 0 {
        (r.own_share, r.weight_milli, r.own_count)
    } else {
        (r.subtree_share, r.weight_milli, r.subtree_count)
    }
}

/// Weighted DRF order among siblings: share / weight, then allocation count, then entry.
fn kid_cmp(roles: &[RoleEntry], a: u32, b: u32) -> Ordering {
    let ((sa, wa, ca), (sb, wb, cb)) = (kid_key(roles, a), kid_key(roles, b));
    cmp_weighted(sa, wa, sb, wb)
        .then(ca.cmp(&cb))
        .then(a.cmp(&b))
}

/// Sorts a short, nearly sorted slice in place without allocating.
fn insertion_sort(seg: &mut [u32], mut cmp: impl FnMut(u32, u32) -> Ordering) {
    for i in 1..seg.len() {
        let x = seg[i];
        let mut j = i;
        while j > 0 && cmp(seg[j - 1], x) == Ordering::Greater {
            seg[j] = seg[j - 1];
            j -= 1;
        }
        seg[j] = x;
    }
}

/// Mesos 1.5 `allocatable`: at least 0.01 cpus or 32 MB of memory.
fn allocatable(r: &Resources) -> bool {
    r.scalar("cpus").milli() >= MIN_CPUS_MILLI || r.scalar("mem").milli() >= MIN_MEM_MILLI
}

impl Allocator {
    /// Runs one full cycle now over all active agents, handing each offer to `out`. Allocates
    /// nothing once the scratch space and the records have reached their working size.
    pub fn allocate(&mut self, now: Instant, out: &mut dyn FnMut(Offer<'_>)) {
        self.touch_time(now);
        self.trigger_at = None;
        self.cycles += 1;
        self.sort_clients();
        self.start_headroom();
        self.agent_order.clear();
        for (i, a) in self.agents.iter().enumerate() {
            if a.registered && a.active {
                self.agent_order.push(i as u32);
            }
        }
        self.rng.shuffle(&mut self.agent_order);
        if !self.quota_order.is_empty() {
            for k in 0..self.agent_order.len() {
                let agent = self.agent_order[k];
                self.allocate_agent(now, agent, true, out);
            }
        }
        for k in 0..self.agent_order.len() {
            let agent = self.agent_order[k];
            self.allocate_agent(now, agent, false, out);
        }
    }

    /// Refreshes every share and builds the framework segments, the child segments of the
    /// role tree (live nodes only) and the quota role order.
    fn sort_clients(&mut self) {
        for r in self.roles.iter_mut() {
            r.own_share = Share::dominant(&r.own, &self.total);
            r.subtree_share = Share::dominant(&r.subtree, &self.total);
            r.seg_len = 0;
            r.kid_len = 0;
            r.live = false;
            r.dirty = false;
            r.cover = NO_ROLE;
        }
        for i in 0..self.roles.len() {
            if self.roles[i].name.is_none() {
                continue;
            }
            let mut x = i as u32;
            while x != NO_ROLE && self.roles[x as usize].quota == NO_ROLE {
                x = self.roles[x as usize].parent;
            }
            if x != NO_ROLE {
                self.roles[i].cover = self.roles[x as usize].quota;
            }
        }
        for f in self.frameworks.iter_mut().filter(|f| f.registered) {
            f.share = Share::dominant(&f.allocated, &self.total);
            if f.active && !f.suppressed {
                self.roles[f.role as usize].seg_len += 1;
            }
        }
        // Counting sort of the offerable frameworks into one segment per role.
        let mut start = 0u32;
        for r in self.roles.iter_mut() {
            if r.seg_len > 0 {
                r.seg_start = start;
                start += r.seg_len;
                r.seg_len = 0;
            }
        }
        self.fw_order.clear();
        self.fw_order.resize(start as usize, 0);
        for (i, f) in self.frameworks.iter().enumerate() {
            if f.registered && f.active && !f.suppressed {
                let r = &mut self.roles[f.role as usize];
                self.fw_order[(r.seg_start + r.seg_len) as usize] = i as u32;
                r.seg_len += 1;
            }
        }
        for r in self.roles.iter().filter(|r| r.seg_len > 1) {
            let seg = &mut self.fw_order[r.seg_start as usize..(r.seg_start + r.seg_len) as usize];
            seg.sort_unstable_by(|&a, &b| fw_cmp(&self.frameworks, a, b));
        }
        self.build_tree_order();
        self.quota_order.clear();
        for (q, e) in self.quotas.iter().enumerate() {
            if self.roles[e.role as usize].live {
                self.quota_order.push(q as u32);
            }
        }
        let (quotas, roles) = (&self.quotas, &self.roles);
        self.quota_order.sort_unstable_by(|&a, &b| {
            kid_cmp(roles, quotas[a as usize].role, quotas[b as usize].role)
        });
    }

    /// Marks live nodes and lays out and sorts the child segments (the root's first).
    fn build_tree_order(&mut self) {
        for i in 0..self.roles.len() {
            if self.roles[i].seg_len == 0 {
                continue;
            }
            let mut x = i as u32;
            while x != NO_ROLE && !self.roles[x as usize].live {
                self.roles[x as usize].live = true;
                x = self.roles[x as usize].parent;
            }
        }
        let mut root_len = 0u32;
        for i in 0..self.roles.len() {
            if self.roles[i].live {
                match self.roles[i].parent {
                    NO_ROLE => root_len += 1,
                    p => self.roles[p as usize].kid_len += 1,
                }
            }
        }
        // A node with offerable frameworks and live children competes as its own child too.
        let mut start = root_len;
        for r in self.roles.iter_mut().filter(|r| r.live && r.kid_len > 0) {
            if r.seg_len > 0 {
                r.kid_len += 1;
            }
            // Filled from the end; `kid_start` is back at the segment start once filled.
            start += r.kid_len;
            r.kid_start = start;
        }
        self.kid_order.clear();
        self.kid_order.resize(start as usize, 0);
        self.root_len = root_len;
        let mut root_fill = root_len;
        for i in 0..self.roles.len() {
            let r = &self.roles[i];
            if !r.live {
                continue;
            }
            if r.kid_len > 0 && r.seg_len > 0 {
                let r = &mut self.roles[i];
                r.kid_start -= 1;
                self.kid_order[r.kid_start as usize] = i as u32 | SELF_BIT;
            }
            let at = match self.roles[i].parent {
                NO_ROLE => {
                    root_fill -= 1;
                    root_fill
                }
                p => {
                    let p = &mut self.roles[p as usize];
                    p.kid_start -= 1;
                    p.kid_start
                }
            };
            self.kid_order[at as usize] = i as u32;
        }
        let roles = &self.roles;
        self.kid_order[..root_len as usize].sort_unstable_by(|&a, &b| kid_cmp(roles, a, b));
        for r in roles.iter().filter(|r| r.live && r.kid_len > 1) {
            let seg = &mut self.kid_order[r.kid_start as usize..(r.kid_start + r.kid_len) as usize];
            seg.sort_unstable_by(|&a, &b| kid_cmp(roles, a, b));
        }
    }

    /// One stage on one agent, then the orders are brought up to date.
    fn allocate_agent(
        &mut self,
        now: Instant,
        agent: u32,
        quota_stage: bool,
        out: &mut dyn FnMut(Offer<'_>),
    ) {
        self.touched.clear();
        if quota_stage {
            for qi in 0..self.quota_order.len() {
                let q = self.quota_order[qi] as usize;
                if self.quotas[q].is_satisfied() {
                    continue;
                }
                let node = self.quotas[q].role;
                self.walk(now, agent, Some(node), true, out);
            }
        } else {
            self.walk(now, agent, None, false, out);
        }
        self.fix_order();
    }

    /// Visits the leaves of the subtree of `root` (the whole tree for `None`) in DRF order,
    /// offering to each, until the agent has nothing left.
    fn walk(
        &mut self,
        now: Instant,
        agent: u32,
        root: Option<u32>,
        quota_stage: bool,
        out: &mut dyn FnMut(Offer<'_>),
    ) {
        self.stack.clear();
        match root {
            None => self.stack.push((0, self.root_len)),
            Some(n) => {
                let r = &self.roles[n as usize];
                if r.kid_len == 0 {
                    self.offer_leaf(now, agent, n, quota_stage, out);
                    return;
                }
                self.stack.push((r.kid_start, r.kid_start + r.kid_len));
            }
        }
        while let Some(&(pos, end)) = self.stack.last() {
            if self.agents[agent as usize].available.is_empty() {
                return;
            }
            if pos == end {
                self.stack.pop();
                continue;
            }
            if let Some(top) = self.stack.last_mut() {
                top.0 += 1;
            }
            let e = self.kid_order[pos as usize];
            let n = e & !SELF_BIT;
            let r = &self.roles[n as usize];
            if e & SELF_BIT != 0 || r.kid_len == 0 {
                self.offer_leaf(now, agent, n, quota_stage, out);
            } else {
                // Depth is bounded by the node count, the stack's capacity.
                self.stack.push((r.kid_start, r.kid_start + r.kid_len));
            }
        }
    }

    /// Offers the leaf role `node`'s candidate on `agent` to its first unfiltered framework.
    fn offer_leaf(
        &mut self,
        now: Instant,
        agent: u32,
        node: u32,
        quota_stage: bool,
        out: &mut dyn FnMut(Offer<'_>),
    ) {
        let (start, len, q) = {
            let r = &self.roles[node as usize];
            (r.seg_start as usize, r.seg_len as usize, r.cover)
        };
        if len == 0 || (quota_stage && (q == NO_ROLE || self.quotas[q as usize].is_satisfied())) {
            return;
        }
        let Some(role) = self.roles[node as usize].name.as_ref() else {
            return;
        };
        self.candidate
            .copy_filtered_from(&self.agents[agent as usize].available, |res| {
                res.is_allocatable_to(role)
            });
        let mut budget = Sums::default();
        if self.budget(q, quota_stage, &mut budget) {
            self.chop(&budget);
        }
        if !allocatable(&self.candidate) {
            return;
        }
        let unsat_before = self.unsatisfied_of(q);
        for fj in start..start + len {
            let fw = self.fw_order[fj];
            if self
                .filters
                .is_filtered(now, fw as usize, agent, &self.candidate)
            {
                continue;
            }
            if !self.grant(fw, agent) {
                continue;
            }
            if let Some(role) = self.roles[node as usize].name.as_ref() {
                out(Offer {
                    framework: FrameworkSlot(fw),
                    role,
                    agent: AgentSlot(agent),
                    resources: &self.candidate,
                });
            }
            let candidate = core::mem::take(&mut self.candidate);
            self.note_grant(q, &candidate, &unsat_before);
            self.candidate = candidate;
            // At most one entry per leaf per agent and stage: within the touched capacity.
            self.touched.push((node, fj as u32));
            return;
        }
    }

    /// Shrinks the unreserved, non-revocable scalars of the candidate to `budget` per name.
    fn chop(&mut self, budget: &Sums) {
        self.excess.clear();
        let mut left = *budget;
        for r in self.candidate.iter() {
            let Value::Scalar(v) = r.value else {
                continue;
            };
            if !is_quota_unreserved(r) {
                continue;
            }
            let Some(i) = self.names.index(&r.name) else {
                continue;
            };
            if left.0[i] == UNBOUNDED {
                continue;
            }
            let keep = v.milli().min(left.0[i].max(0));
            left.0[i] -= keep;
            if keep < v.milli() {
                // Cloning a name or an `Arc` meta does not allocate; `excess` keeps its capacity.
                let _ = self.excess.add(&Resource {
                    name: r.name.clone(),
                    value: Value::Scalar(Fixed::from_milli(v.milli() - keep)),
                    meta: r.meta.clone(),
                });
            }
        }
        if !self.excess.is_empty() {
            let _ = self.candidate.subtract(&self.excess);
        }
    }

    /// Moves the frameworks and roles that received offers on the last agent to their place.
    fn fix_order(&mut self) {
        if self.touched.is_empty() {
            return;
        }
        self.dirty.clear();
        let mut root_dirty = false;
        for t in 0..self.touched.len() {
            let (node, fj) = self.touched[t];
            let (start, len) = {
                let r = &self.roles[node as usize];
                (r.seg_start as usize, r.seg_len as usize)
            };
            let seg = &mut self.fw_order[start..start + len];
            sift_right(seg, fj as usize - start, |a, b| {
                fw_cmp(&self.frameworks, a, b)
            });
            let r = &mut self.roles[node as usize];
            r.own_share = Share::dominant(&r.own, &self.total);
            if r.kid_len > 0 && !r.dirty {
                r.dirty = true;
                self.dirty.push(node);
            }
            let mut x = node;
            while x != NO_ROLE {
                let r = &mut self.roles[x as usize];
                r.subtree_share = Share::dominant(&r.subtree, &self.total);
                let p = r.parent;
                if p == NO_ROLE {
                    root_dirty = true;
                } else if !self.roles[p as usize].dirty {
                    self.roles[p as usize].dirty = true;
                    self.dirty.push(p);
                }
                x = p;
            }
        }
        let roles = &mut self.roles;
        for &d in &self.dirty {
            let r = &mut roles[d as usize];
            r.dirty = false;
            let (s, l) = (r.kid_start as usize, r.kid_len as usize);
            insertion_sort(&mut self.kid_order[s..s + l], |a, b| kid_cmp(roles, a, b));
        }
        if root_dirty {
            let l = self.root_len as usize;
            insertion_sort(&mut self.kid_order[..l], |a, b| kid_cmp(roles, a, b));
        }
        let quotas = &self.quotas;
        insertion_sort(&mut self.quota_order, |a, b| {
            kid_cmp(roles, quotas[a as usize].role, quotas[b as usize].role)
        });
    }

    /// Allocates the candidate to `fw` on `agent`; false (and nothing changed) if the record
    /// pool is full or the arithmetic fails.
    fn grant(&mut self, fw: u32, agent: u32) -> bool {
        let Some(id) = self.records.get_or_insert(fw, agent) else {
            self.withheld += 1;
            return false;
        };
        let rec = &mut self.records.get_mut(id).resources;
        if rec.add_all(&self.candidate).is_err() {
            if rec.is_empty() {
                self.records.remove(id);
            }
            return false;
        }
        if self.agents[agent as usize]
            .available
            .subtract(&self.candidate)
            .is_err()
        {
            let rec = &mut self.records.get_mut(id).resources;
            let _ = rec.subtract(&self.candidate);
            if rec.is_empty() {
                self.records.remove(id);
            }
            return false;
        }
        let candidate = core::mem::take(&mut self.candidate);
        self.apply_alloc(fw, &candidate, 1, true);
        self.candidate = candidate;
        let f = &mut self.frameworks[fw as usize];
        f.share = Share::dominant(&f.allocated, &self.total);
        true
    }
}
