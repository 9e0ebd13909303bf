//! Offer filters (Mesos `RefusedOfferFilter`): per framework, a bounded list of
//! "do not offer me a subset of these resources on this agent until then".
//!
//! Storage is one preallocated table with a fixed region of [`Filters::per_framework`] slots
//! for each framework slot, so lookups scan a short contiguous list and nothing is allocated
//! after a slot's `refused` set has reached its working size.
//!
//! Full policy: when a framework already holds `per_framework` filters, a new filter replaces an
//! expired one if there is one, otherwise the one that expires soonest. An evicted filter only
//! means an extra offer the framework may decline again; it never breaks an invariant.

use crate::resources::Resources;
use crate::time::Instant;
use alloc::boxed::Box;
use alloc::vec::Vec;

/// One refusal: `refused` on `agent` until `expires` (exclusive).
#[derive(Debug)]
struct Filter {
    agent: u32,
    expires: Instant,
    refused: Resources,
}

/// The filter table; see the module comment for its bound and full policy.
#[derive(Debug)]
pub(super) struct Filters {
    per_framework: usize,
    slots: Box<[Filter]>,
    /// Filters in use per framework: `slots[fw * per_framework ..][.. len[fw]]`.
    len: Box<[u32]>,
}

impl Filters {
    /// Room for `per_framework` filters for each of `frameworks` slots, allocated now.
    pub(super) fn new(frameworks: usize, per_framework: usize) -> Filters {
        let per_framework = per_framework.max(1);
        let total = frameworks.saturating_mul(per_framework);
        let mut slots = Vec::with_capacity(total);
        slots.resize_with(total, || Filter {
            agent: 0,
            expires: Instant::ZERO,
            refused: Resources::new(),
        });
        Filters {
            per_framework,
            slots: slots.into_boxed_slice(),
            len: alloc::vec![0; frameworks].into_boxed_slice(),
        }
    }

    /// The bound on filters per framework.
    pub(super) fn per_framework(&self) -> usize {
        self.per_framework
    }

    fn region(&self, fw: usize) -> core::ops::Range<usize> {
        let start = fw * self.per_framework;
        start..start + self.len[fw] as usize
    }

    /// Filters `fw` holds (expired ones included until they are swept).
    pub(super) fn count(&self, fw: usize) -> usize {
        self.len.get(fw).map_or(0, |&n| n as usize)
    }

    /// Adds a filter for (`fw`, `agent`); replaces per the full policy when `fw` has no room.
    pub(super) fn insert(
        &mut self,
        now: Instant,
        fw: usize,
        agent: u32,
        refused: &Resources,
        expires: Instant,
    ) {
        if fw >= self.len.len() {
            return;
        }
        let base = fw * self.per_framework;
        let n = self.len[fw] as usize;
        let slot = if n < self.per_framework {
            self.len[fw] += 1;
            base + n
        } else {
            // Full: an expired filter, else the soonest-expiring one (lowest index on ties).
            let region = &self.slots[base..base + n];
            let pick = region
                .iter()
                .position(|f| f.expires <= now)
                .or_else(|| {
                    region
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, f)| f.expires)
                        .map(|(i, _)| i)
                })
                .unwrap_or(0);
            base + pick
        };
        let f = &mut self.slots[slot];
        f.agent = agent;
        f.expires = expires;
        f.refused.copy_from(refused);
    }

    /// Whether an unexpired filter of `fw` on `agent` refuses all of `candidate`
    /// (the refused set contains the candidate, so a bigger candidate passes).
    pub(super) fn is_filtered(
        &self,
        now: Instant,
        fw: usize,
        agent: u32,
        candidate: &Resources,
    ) -> bool {
        if self.count(fw) == 0 {
            return false;
        }
        self.slots[self.region(fw)]
            .iter()
            .any(|f| f.agent == agent && now < f.expires && f.refused.contains(candidate))
    }

    /// Removes filter `i` of `fw`'s region by swapping the last one into its place; the removed
    /// slot keeps its capacity for reuse.
    fn remove_at(&mut self, fw: usize, i: usize) {
        let base = fw * self.per_framework;
        let last = self.len[fw] as usize - 1;
        self.slots.swap(base + i, base + last);
        self.slots[base + last].refused.clear();
        self.len[fw] -= 1;
    }

    /// Removes the filters of `fw` that match `pred`.
    fn remove_where(&mut self, fw: usize, mut pred: impl FnMut(&Filter) -> bool) {
        let mut i = 0;
        while i < self.count(fw) {
            if pred(&self.slots[fw * self.per_framework + i]) {
                self.remove_at(fw, i);
            } else {
                i += 1;
            }
        }
    }

    /// Removes every filter of `fw` (revive, deactivation, removal).
    pub(super) fn clear_framework(&mut self, fw: usize) {
        self.remove_where(fw, |_| true);
    }

    /// Removes every filter on `agent` (the agent slot is being freed). Scans the whole table.
    pub(super) fn clear_agent(&mut self, agent: u32) {
        for fw in 0..self.len.len() {
            self.remove_where(fw, |f| f.agent == agent);
        }
    }

    /// Removes filters that have expired by `now`. Scans the filters in use.
    pub(super) fn expire(&mut self, now: Instant) {
        for fw in 0..self.len.len() {
            self.remove_where(fw, |f| f.expires <= now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(s: &str) -> Resources {
        Resources::parse(s).unwrap()
    }

    #[test]
    fn full_framework_evicts_expired_then_soonest_expiring() {
        let mut f = Filters::new(2, 2);
        let t = Instant::from_millis;
        let r = res("cpus:1");
        f.insert(t(0), 0, 7, &r, t(100));
        f.insert(t(0), 0, 8, &r, t(50));
        // Full: the soonest-expiring filter (agent 8) goes.
        f.insert(t(0), 0, 9, &r, t(200));
        assert!(f.is_filtered(t(0), 0, 7, &r));
        assert!(!f.is_filtered(t(0), 0, 8, &r));
        assert!(f.is_filtered(t(0), 0, 9, &r));
        // At t=150 agent 7's filter has expired and is the one replaced.
        f.insert(t(150), 0, 10, &r, t(1000));
        assert!(f.is_filtered(t(150), 0, 9, &r));
        assert!(f.is_filtered(t(150), 0, 10, &r));
        assert_eq!(f.count(0), 2);
        // Framework 1 is unaffected by framework 0 being full.
        assert_eq!(f.count(1), 0);
    }

    #[test]
    fn clearing_by_agent_framework_and_time() {
        let mut f = Filters::new(2, 4);
        let t = Instant::from_millis;
        let r = res("cpus:1");
        f.insert(t(0), 0, 1, &r, t(10));
        f.insert(t(0), 0, 2, &r, t(20));
        f.insert(t(0), 1, 1, &r, t(30));
        f.clear_agent(1);
        assert_eq!((f.count(0), f.count(1)), (1, 0));
        f.expire(t(20));
        assert_eq!(f.count(0), 0);
        f.insert(t(0), 1, 3, &r, t(30));
        f.clear_framework(1);
        assert_eq!(f.count(1), 0);
        // Out-of-range framework slots are ignored, not a panic.
        f.insert(t(0), 5, 3, &r, t(30));
        assert!(!f.is_filtered(t(0), 5, 3, &r));
    }
}
