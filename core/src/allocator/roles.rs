//! The role tree (Mesos hierarchical roles, `eng/web`): interning a role with its implicit
//! ancestors, releasing unused nodes, weights, and keeping every node's allocation sums (its
//! own frameworks', and its whole subtree's) in step with framework allocations.
//!
//! A role's node lives in the role table while it has a framework, a child node, a non-default
//! weight or a quota. Interning `a/b/c` also interns `a` and `a/b` if they are missing; each
//! node takes a slot, so deep roles use several slots of the same bounded table.

use super::share::{Share, Sums};
use super::{Allocator, AllocatorError, DEFAULT_WEIGHT_MILLI};
use crate::ids::Role;
use crate::resources::Resources;

/// "No role": the parent of a top-level role, or no quota on a node.
pub(super) const NO_ROLE: u32 = u32::MAX;

/// Whether `role` is `ancestor` or one of its descendants (`eng/web` is within `eng`).
pub(super) fn within(role: &str, ancestor: &str) -> bool {
    role.strip_prefix(ancestor)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Whether a resource counts towards quota and headroom: unreserved and not revocable.
pub(super) fn is_quota_unreserved(r: &crate::resources::Resource) -> bool {
    r.is_unreserved() && !r.is_revocable()
}

/// One node of the role tree.
#[derive(Debug)]
pub(super) struct RoleEntry {
    /// The interned name; `None` for a free slot.
    pub(super) name: Option<Role>,
    pub(super) parent: u32,
    /// Live child nodes.
    pub(super) children: u32,
    pub(super) weight_milli: u32,
    /// Framework slots registered directly in this role.
    pub(super) frameworks: u32,
    /// Index into the quota table, or [`NO_ROLE`].
    pub(super) quota: u32,
    /// Allocated to frameworks directly in this role.
    pub(super) own: Sums,
    /// Allocated to frameworks in this role or any descendant (what its parent compares).
    pub(super) subtree: Sums,
    /// Allocations made so far, the first DRF tie-breaker (own, and subtree).
    pub(super) own_count: u64,
    pub(super) subtree_count: u64,
    /// Refreshed at the start of each cycle and after each agent that changed them.
    pub(super) own_share: Share,
    pub(super) subtree_share: Share,
    // Cycle scratch.
    /// This role's segment of the cycle's framework order (offerable frameworks only).
    pub(super) seg_start: u32,
    pub(super) seg_len: u32,
    /// This node's segment of the cycle's child order (live children, plus itself when it
    /// has both offerable frameworks and live children).
    pub(super) kid_start: u32,
    pub(super) kid_len: u32,
    /// Whether this node or a descendant has an offerable framework this cycle.
    pub(super) live: bool,
    /// Whether the child segment must be re-sorted after the current agent.
    pub(super) dirty: bool,
    /// The quota covering this node (its own or its nearest ancestor's), or [`NO_ROLE`].
    pub(super) cover: u32,
}

impl Default for RoleEntry {
    fn default() -> RoleEntry {
        RoleEntry {
            name: None,
            parent: NO_ROLE,
            children: 0,
            weight_milli: DEFAULT_WEIGHT_MILLI,
            frameworks: 0,
            quota: NO_ROLE,
            own: Sums::default(),
            subtree: Sums::default(),
            own_count: 0,
            subtree_count: 0,
            own_share: Share::ZERO,
            subtree_share: Share::ZERO,
            seg_start: 0,
            seg_len: 0,
            kid_start: 0,
            kid_len: 0,
            live: false,
            dirty: false,
            cover: NO_ROLE,
        }
    }
}

impl Allocator {
    /// The weight of `role` in thousandths (the default for unknown roles).
    pub fn weight(&self, role: &Role) -> u32 {
        self.find_role(role).map_or(DEFAULT_WEIGHT_MILLI, |r| {
            self.roles[r as usize].weight_milli
        })
    }

    /// The parent of `role` in the role tree (`eng` for `eng/web`), `None` for a top-level
    /// role. Pure name arithmetic; the roles need not be known.
    pub fn parent_role(role: &Role) -> Option<&str> {
        role.as_str().rfind('/').map(|i| &role.as_str()[..i])
    }

    /// Roles currently in the role tree (with a framework, a child, a weight or a quota).
    pub fn roles(&self) -> impl Iterator<Item = &Role> + '_ {
        self.roles.iter().filter_map(|r| r.name.as_ref())
    }

    /// The amount of scalar `name` allocated to frameworks in `role` and all its descendants.
    pub fn role_allocated_scalar(&self, role: &Role, name: &str) -> crate::resources::Fixed {
        match (self.find_role(role), self.names.index(name)) {
            (Some(r), Some(i)) => {
                crate::resources::Fixed::from_milli(self.roles[r as usize].subtree.get(i))
            }
            _ => crate::resources::Fixed::ZERO,
        }
    }

    /// Sets a role's weight in thousandths (Mesos `updateWeights`; 1000 is weight 1.0). The
    /// weight applies to the role's node: it scales the share of its whole subtree when
    /// compared with its siblings. Takes effect at the next cycle.
    pub fn set_weight(&mut self, role: &Role, weight_milli: u32) -> Result<(), AllocatorError> {
        if weight_milli == 0 {
            return Err(AllocatorError::InvalidWeight);
        }
        let r = self
            .intern_role(role)
            .ok_or(AllocatorError::RoleTableFull)?;
        self.roles[r as usize].weight_milli = weight_milli;
        self.release_role_if_unused(r);
        Ok(())
    }

    pub(super) fn find_role_str(&self, role: &str) -> Option<u32> {
        self.roles
            .iter()
            .position(|r| r.name.as_ref().map(Role::as_str) == Some(role))
            .map(|i| i as u32)
    }

    pub(super) fn find_role(&self, role: &Role) -> Option<u32> {
        self.find_role_str(role.as_str())
    }

    /// The slot of `role`, interning it and its missing ancestors if needed; `None` (and
    /// nothing changed) when the table has too few free slots.
    pub(super) fn intern_role(&mut self, role: &Role) -> Option<u32> {
        if let Some(r) = self.find_role(role) {
            return Some(r);
        }
        let name = role.as_str();
        // Count the missing nodes first, so that a full table changes nothing.
        let mut missing = 0;
        for (i, _) in name
            .match_indices('/')
            .chain(core::iter::once((name.len(), "")))
        {
            if self.find_role_str(&name[..i]).is_none() {
                missing += 1;
            }
        }
        let free = self.roles.iter().filter(|r| r.name.is_none()).count();
        if free < missing {
            return None;
        }
        let mut parent = NO_ROLE;
        for (i, _) in name
            .match_indices('/')
            .chain(core::iter::once((name.len(), "")))
        {
            let prefix = &name[..i];
            parent = match self.find_role_str(prefix) {
                Some(r) => r,
                None => {
                    let slot = self.roles.iter().position(|r| r.name.is_none())? as u32;
                    if parent != NO_ROLE {
                        self.roles[parent as usize].children += 1;
                    }
                    self.roles[slot as usize] = RoleEntry {
                        name: Some(Role::new(prefix)),
                        parent,
                        ..RoleEntry::default()
                    };
                    slot
                }
            };
        }
        Some(parent)
    }

    /// Frees a node with no frameworks, no children, the default weight and no quota, then
    /// its ancestors if that leaves them unused.
    pub(super) fn release_role_if_unused(&mut self, mut r: u32) {
        while r != NO_ROLE {
            let e = &mut self.roles[r as usize];
            if e.frameworks != 0
                || e.children != 0
                || e.weight_milli != DEFAULT_WEIGHT_MILLI
                || e.quota != NO_ROLE
            {
                return;
            }
            let parent = e.parent;
            *e = RoleEntry::default();
            if parent != NO_ROLE {
                self.roles[parent as usize].children -= 1;
            }
            r = parent;
        }
    }

    /// Adds (`sign = 1`) or subtracts (`sign = -1`) `rs`, allocated to `fw`, to the sums of
    /// the framework, its role, every ancestor, and the quota covering them. With `count`,
    /// also counts one allocation (DRF tie-breaker) along the same path.
    pub(super) fn apply_alloc(&mut self, fw: u32, rs: &Resources, sign: i64, count: bool) {
        let f = &mut self.frameworks[fw as usize];
        f.allocated.apply(&self.names, rs, sign);
        if count {
            f.count += 1;
        }
        let mut x = f.role;
        let own = &mut self.roles[x as usize];
        own.own.apply(&self.names, rs, sign);
        if count {
            own.own_count += 1;
        }
        while x != NO_ROLE {
            let node = &mut self.roles[x as usize];
            node.subtree.apply(&self.names, rs, sign);
            if count {
                node.subtree_count += 1;
            }
            if node.quota != NO_ROLE {
                self.quotas[node.quota as usize]
                    .alloc_unreserved
                    .apply_where(&self.names, rs, sign, is_quota_unreserved);
            }
            x = node.parent;
        }
    }
}
