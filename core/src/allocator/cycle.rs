//! One allocation cycle (Mesos `HierarchicalAllocatorProcess::__allocate`, fair-share stage).
//!
//! At the start of a cycle the roles with offerable frameworks are sorted by weighted DRF share
//! and each role's frameworks are sorted by DRF share within their segment of one framework
//! array. Agents are then visited in a seeded random order. On each agent, for each role in
//! order, the candidate is everything free there that the role may use (unreserved, or reserved
//! to it); if it is allocatable, it goes whole to the first framework of the role that has not
//! filtered it (coarse-grained, Mesos' behaviour), and the role moves on.
//!
//! Mesos re-sorts all roles and frameworks for every agent, which made cycles cost
//! O(agents x frameworks x log frameworks) (MESOS-9239). Here the order is kept sorted instead:
//! after an agent, each role and framework that received an offer is moved right to its new
//! place by a binary search and a rotate ([`share::sift_right`]); shares only grow during a
//! cycle, so nothing else moves. The snapshot order used within one agent is the one Mesos
//! would compute for it.

use super::share::{cmp_weighted, sift_right, Share};
use super::{Allocator, FrameworkEntry, Offer, RoleEntry, MIN_CPUS_MILLI, MIN_MEM_MILLI};
use crate::ids::{AgentSlot, FrameworkSlot};
use crate::resources::Resources;
use crate::time::Instant;
use core::cmp::Ordering;

/// DRF order of frameworks within a role: share (weight 1), then allocation count, then slot.
fn fw_cmp(fws: &[FrameworkEntry], a: u32, b: u32) -> Ordering {
    let (x, y) = (&fws[a as usize], &fws[b as usize]);
    cmp_weighted(x.share, 1, y.share, 1)
        .then(x.count.cmp(&y.count))
        .then(a.cmp(&b))
}

/// Weighted DRF order of roles: share / weight, then allocation count, then slot.
fn role_cmp(roles: &[RoleEntry], a: u32, b: u32) -> Ordering {
    let (x, y) = (&roles[a as usize], &roles[b as usize]);
    cmp_weighted(x.share, x.weight_milli, y.share, y.weight_milli)
        .then(x.count.cmp(&y.count))
        .then(a.cmp(&b))
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
        self.agent_order.clear();
        for (i, a) in self.agents.iter().enumerate() {
            if a.registered && a.active {
                self.agent_order.push(i as u32);
            }
        }
        self.rng.shuffle(&mut self.agent_order);
        for k in 0..self.agent_order.len() {
            let agent = self.agent_order[k];
            self.allocate_agent(now, agent, out);
        }
    }

    /// Refreshes every share and builds the sorted role order and framework segments.
    fn sort_clients(&mut self) {
        for r in self.roles.iter_mut() {
            r.share = Share::dominant(&r.allocated, &self.total);
            r.seg_len = 0;
        }
        for f in self.frameworks.iter_mut().filter(|f| f.registered) {
            f.share = Share::dominant(&f.allocated, &self.total);
            if f.active && !f.suppressed {
                self.roles[f.role as usize].seg_len += 1;
            }
        }
        // Counting sort of the offerable frameworks into one segment per role.
        self.role_order.clear();
        let mut start = 0u32;
        for (i, r) in self.roles.iter_mut().enumerate() {
            if r.seg_len > 0 {
                r.seg_start = start;
                start += r.seg_len;
                r.seg_len = 0;
                self.role_order.push(i as u32);
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
        for &r in &self.role_order {
            let r = &self.roles[r as usize];
            let seg = &mut self.fw_order[r.seg_start as usize..(r.seg_start + r.seg_len) as usize];
            seg.sort_unstable_by(|&a, &b| fw_cmp(&self.frameworks, a, b));
        }
        self.role_order
            .sort_unstable_by(|&a, &b| role_cmp(&self.roles, a, b));
    }

    /// Offers what is free on `agent`, one coarse-grained offer per role at most, then moves
    /// the roles and frameworks that received something to their new place in the order.
    fn allocate_agent(&mut self, now: Instant, agent: u32, out: &mut dyn FnMut(Offer<'_>)) {
        self.touched.clear();
        for ri in 0..self.role_order.len() {
            if self.agents[agent as usize].available.is_empty() {
                break;
            }
            let r = self.role_order[ri] as usize;
            let Some(role) = self.roles[r].name.as_ref() else {
                continue;
            };
            self.candidate
                .copy_filtered_from(&self.agents[agent as usize].available, |res| {
                    res.is_unreserved() || res.reservation_role() == Some(role)
                });
            if !allocatable(&self.candidate) {
                continue;
            }
            let (start, len) = (
                self.roles[r].seg_start as usize,
                self.roles[r].seg_len as usize,
            );
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
                if let Some(role) = self.roles[r].name.as_ref() {
                    out(Offer {
                        framework: FrameworkSlot(fw),
                        role,
                        agent: AgentSlot(agent),
                        resources: &self.candidate,
                    });
                }
                // At most one entry per role per agent, so `touched` never outgrows its capacity.
                self.touched.push((ri as u32, fj as u32));
                break;
            }
        }
        // Positions of later roles are unaffected by moving an earlier one right only if the
        // later ones move first, hence the reverse order.
        for t in (0..self.touched.len()).rev() {
            let (ri, fj) = self.touched[t];
            let r = self.role_order[ri as usize] as usize;
            let (start, len) = (
                self.roles[r].seg_start as usize,
                self.roles[r].seg_len as usize,
            );
            let seg = &mut self.fw_order[start..start + len];
            sift_right(seg, fj as usize - start, |a, b| {
                fw_cmp(&self.frameworks, a, b)
            });
            let role = &mut self.roles[r];
            role.share = Share::dominant(&role.allocated, &self.total);
            sift_right(&mut self.role_order, ri as usize, |a, b| {
                role_cmp(&self.roles, a, b)
            });
        }
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
        let f = &mut self.frameworks[fw as usize];
        f.allocated.apply(&self.names, &self.candidate, 1);
        f.count += 1;
        f.share = Share::dominant(&f.allocated, &self.total);
        let role = &mut self.roles[f.role as usize];
        role.allocated.apply(&self.names, &self.candidate, 1);
        role.count += 1;
        true
    }
}
