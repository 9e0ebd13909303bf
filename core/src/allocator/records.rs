//! Allocation records: what each framework holds on each agent (offered or in use), kept in
//! one preallocated pool and threaded on two intrusive doubly linked lists, one per agent and
//! one per framework, so that removal of either side and lookups are cheap and allocate nothing.
//!
//! Bound: [`Records::capacity`] records in total (one per (framework, agent) pair holding
//! resources). Full policy: a new pair is refused (`None` from [`Records::get_or_insert`]); the
//! allocator then withholds that offer and `add_allocated` reports `TableFull`.

use crate::resources::Resources;
use alloc::boxed::Box;
use alloc::vec::Vec;

/// Entries a new record has room for before it grows.
const RECORD_ENTRIES: usize = 8;

/// "No record" in the links.
pub(super) const NIL: u32 = u32::MAX;

/// What framework `fw` holds on agent `agent`.
#[derive(Debug)]
pub(super) struct Record {
    pub(super) fw: u32,
    pub(super) agent: u32,
    pub(super) resources: Resources,
    agent_prev: u32,
    agent_next: u32,
    fw_prev: u32,
    fw_next: u32,
}

/// The pool and its list heads.
#[derive(Debug)]
pub(super) struct Records {
    items: Vec<Record>,
    /// Freed records, chained through `agent_next`; they keep their `resources` capacity.
    free: u32,
    agent_head: Box<[u32]>,
    fw_head: Box<[u32]>,
}

impl Records {
    /// A pool of `capacity` records for `agents` x `frameworks` slots; allocates now, once.
    pub(super) fn new(capacity: usize, agents: usize, frameworks: usize) -> Records {
        Records {
            items: Vec::with_capacity(capacity),
            free: NIL,
            agent_head: alloc::vec![NIL; agents].into_boxed_slice(),
            fw_head: alloc::vec![NIL; frameworks].into_boxed_slice(),
        }
    }

    /// Most records the pool holds.
    pub(super) fn capacity(&self) -> usize {
        self.items.capacity()
    }

    /// The record for (`fw`, `agent`), if any.
    pub(super) fn find(&self, fw: u32, agent: u32) -> Option<u32> {
        let mut i = *self.agent_head.get(agent as usize)?;
        while i != NIL {
            let r = &self.items[i as usize];
            if r.fw == fw {
                return Some(i);
            }
            i = r.agent_next;
        }
        None
    }

    /// The record for (`fw`, `agent`), created empty if missing; `None` when the pool is full.
    pub(super) fn get_or_insert(&mut self, fw: u32, agent: u32) -> Option<u32> {
        if let Some(i) = self.find(fw, agent) {
            return Some(i);
        }
        if agent as usize >= self.agent_head.len() || fw as usize >= self.fw_head.len() {
            return None;
        }
        let id = if self.free != NIL {
            let id = self.free;
            self.free = self.items[id as usize].agent_next;
            id
        } else if self.items.len() < self.items.capacity() {
            self.items.push(Record {
                fw,
                agent,
                // Room for a typical agent's entries (cpus, mem, disk, ports, and a few
                // reserved ones), so that a freed record reused for a bigger agent does not
                // grow inside a cycle.
                resources: Resources::with_capacity(RECORD_ENTRIES),
                agent_prev: NIL,
                agent_next: NIL,
                fw_prev: NIL,
                fw_next: NIL,
            });
            (self.items.len() - 1) as u32
        } else {
            return None;
        };
        let a_head = self.agent_head[agent as usize];
        let f_head = self.fw_head[fw as usize];
        {
            let r = &mut self.items[id as usize];
            r.fw = fw;
            r.agent = agent;
            r.agent_prev = NIL;
            r.agent_next = a_head;
            r.fw_prev = NIL;
            r.fw_next = f_head;
        }
        if a_head != NIL {
            self.items[a_head as usize].agent_prev = id;
        }
        if f_head != NIL {
            self.items[f_head as usize].fw_prev = id;
        }
        self.agent_head[agent as usize] = id;
        self.fw_head[fw as usize] = id;
        Some(id)
    }

    /// Unlinks record `id` and returns it to the free list (its contents are cleared).
    pub(super) fn remove(&mut self, id: u32) {
        let (fw, agent, ap, an, fp, fnx) = {
            let r = &self.items[id as usize];
            (
                r.fw,
                r.agent,
                r.agent_prev,
                r.agent_next,
                r.fw_prev,
                r.fw_next,
            )
        };
        if ap != NIL {
            self.items[ap as usize].agent_next = an;
        } else {
            self.agent_head[agent as usize] = an;
        }
        if an != NIL {
            self.items[an as usize].agent_prev = ap;
        }
        if fp != NIL {
            self.items[fp as usize].fw_next = fnx;
        } else {
            self.fw_head[fw as usize] = fnx;
        }
        if fnx != NIL {
            self.items[fnx as usize].fw_prev = fp;
        }
        let r = &mut self.items[id as usize];
        r.resources.clear();
        r.fw = NIL;
        r.agent = NIL;
        r.agent_prev = NIL;
        r.fw_prev = NIL;
        r.fw_next = NIL;
        r.agent_next = self.free;
        self.free = id;
    }

    pub(super) fn get(&self, id: u32) -> &Record {
        &self.items[id as usize]
    }

    pub(super) fn get_mut(&mut self, id: u32) -> &mut Record {
        &mut self.items[id as usize]
    }

    /// The first record on `agent`, for walking with [`Records::next_on_agent`].
    pub(super) fn first_on_agent(&self, agent: u32) -> u32 {
        self.agent_head.get(agent as usize).copied().unwrap_or(NIL)
    }

    pub(super) fn next_on_agent(&self, id: u32) -> u32 {
        self.items[id as usize].agent_next
    }

    /// The first record of `fw`, for walking with [`Records::next_of_framework`].
    pub(super) fn first_of_framework(&self, fw: u32) -> u32 {
        self.fw_head.get(fw as usize).copied().unwrap_or(NIL)
    }

    pub(super) fn next_of_framework(&self, id: u32) -> u32 {
        self.items[id as usize].fw_next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agents_of(r: &Records, fw: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut i = r.first_of_framework(fw);
        while i != NIL {
            out.push(r.get(i).agent);
            i = r.next_of_framework(i);
        }
        out
    }

    #[test]
    fn lists_stay_consistent_through_removal_and_reuse() {
        let mut r = Records::new(3, 4, 4);
        let a = r.get_or_insert(0, 1).unwrap();
        let b = r.get_or_insert(0, 2).unwrap();
        let c = r.get_or_insert(1, 2).unwrap();
        assert_eq!(r.get_or_insert(0, 2), Some(b));
        // Full: a fourth pair is refused.
        assert_eq!(r.get_or_insert(2, 3), None);
        assert_eq!(agents_of(&r, 0), [2, 1]);
        r.remove(b);
        assert_eq!(agents_of(&r, 0), [1]);
        assert_eq!(r.find(1, 2), Some(c));
        assert_eq!(r.find(0, 2), None);
        // The freed record is reused.
        assert_eq!(r.get_or_insert(3, 3), Some(b));
        r.remove(a);
        r.remove(c);
        assert_eq!(r.first_on_agent(2), NIL);
        assert_eq!(agents_of(&r, 3), [3]);
        // Out-of-range slots are refused, not a panic.
        assert_eq!(r.get_or_insert(9, 0), None);
        assert_eq!(r.find(0, 99), None);
    }
}
