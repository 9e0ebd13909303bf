//! The registry (Mesos `mesos.internal.Registry`): the master's small durable state, and [`apply`],
//! the one deterministic way it changes.
//!
//! Only agent churn, leader changes and operator actions are written here; tasks, frameworks,
//! offers and reservations never are (Mesos 1.5, registry §4.1-4.3).

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};
use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, Role, MAX_ID_LEN};
use crate::resources::Resources;
use crate::time::WallTime;

use super::maintenance::{self, MachineId, MachineRecord, MaintenanceError, MaintenanceWindow};

/// Longest leader address accepted in [`Op::Recover`].
pub const MAX_LEADER_LEN: usize = 255;
/// Longest agent hostname accepted in an [`AgentRecord`].
pub const MAX_HOSTNAME_LEN: usize = 255;
/// Longest agent IP address text accepted in an [`AgentRecord`].
pub const MAX_IP_LEN: usize = 64;
/// Longest resources text accepted in an [`AgentRecord`].
pub const MAX_RESOURCES_TEXT_LEN: usize = 8 * 1024;
/// Longest attributes text accepted in an [`AgentRecord`].
pub const MAX_ATTRIBUTES_TEXT_LEN: usize = 4 * 1024;
/// Most admitted agents the registry holds; a further admission is refused with
/// [`OpError::RegistryFull`]. The master's `--max-agents` is expected to be lower.
pub const MAX_ADMITTED_AGENTS: usize = 102_400;
/// Most entries in each of the unreachable and gone lists (Mesos `--registry_max_agent_count`);
/// when full, the oldest entry is evicted to make room (the rule Mesos' registry GC applies).
pub const MAX_REMEMBERED_AGENTS: usize = 102_400;
/// Most roles with a stored weight. The allocator keeps room for this many roles beyond one per
/// framework slot (`allocator::EXTRA_ROLES`), so a durable weight always fits in its table.
pub const MAX_WEIGHTS: usize = crate::allocator::EXTRA_ROLES;
/// Largest weight accepted, in thousandths (weight 1,000,000.0); the allocator keeps weights in a `u32`.
pub const MAX_WEIGHT_MILLI: u64 = 1_000_000_000;
/// Most roles with a quota; like weights, each fits in the allocator's extra role slots.
pub const MAX_QUOTAS: usize = crate::allocator::EXTRA_ROLES;

/// What the registry keeps about an admitted agent (Mesos `SlaveInfo`, reduced).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub hostname: String,
    pub ip: String,
    pub port: u16,
    /// The agent's resources in Mesos text form (`cpus:2;mem:1024`).
    pub resources_text: String,
    /// The agent's attributes in Mesos text form (`rack:a;zone:1`).
    pub attributes_text: String,
}

/// An agent in the registry's admitted list (Mesos `Registry.Slave`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmittedAgent {
    pub id: AgentId,
    pub info: AgentRecord,
}

/// A role's weight (Mesos `WeightInfo`), in thousandths, written by [`Op::UpdateWeights`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightRecord {
    pub role: Role,
    pub weight_milli: u64,
}

/// A role's quota (Mesos `QuotaConfig`), written by [`Op::UpdateQuota`]: plain scalar
/// guarantees and limits; a resource named in neither is neither guaranteed nor limited. Mesos
/// 1.5's `SET_QUOTA` stores its guarantee as both. (Until quota was written, every registry held
/// an empty list, so this shape replaced an unused one without a format change.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaRecord {
    pub role: Role,
    pub guarantees: Resources,
    pub limits: Resources,
}

impl QuotaRecord {
    /// No guarantee and no limit: Mesos' default quota, which is stored as no record.
    pub fn is_default(&self) -> bool {
        self.guarantees.is_empty() && self.limits.is_empty()
    }
}

/// Maintenance mode of a machine (Mesos `MachineInfo.Mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MachineMode {
    Up,
    Draining,
    Down,
}

/// The master's durable state.
///
/// The field order is the on-disk order (postcard is not self-describing): new fields go at the
/// end together with a new snapshot format version. `serde(default)` on the reserved lists only
/// helps self-describing encodings (JSON dumps); postcard relies on the version byte.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    /// Index of the last log entry applied (0 for a fresh cluster). Set by [`apply_entry`].
    pub version: u64,
    /// The cluster's random id, chosen once when the registry is created; the prefix of agent ids.
    pub cluster_id: String,
    /// Address of the most recent leader (Mesos `Registry.master`).
    pub leader: String,
    /// Incremented by every [`Op::Recover`]: each leadership term has its own number.
    pub leader_epoch: u64,
    /// The `<n>` of the next agent id `<cluster_id>-S<n>`; never reused.
    pub next_agent_number: u64,
    /// Admitted agents in admission order.
    pub admitted: Vec<AdmittedAgent>,
    /// Agents marked unreachable, oldest first, with the time they were marked.
    pub unreachable: Vec<(AgentId, WallTime)>,
    /// Agents the operator marked gone, oldest first; they are refused forever.
    pub gone: Vec<(AgentId, WallTime)>,
    #[serde(default)]
    pub weights: Vec<WeightRecord>,
    #[serde(default)]
    pub quotas: Vec<QuotaRecord>,
    #[serde(default)]
    pub maintenance: Vec<MachineRecord>,
}

impl Registry {
    /// The registry of a brand-new cluster. The caller chooses `cluster_id` (the platform draws
    /// it from the OS random source; a simulation from its seed).
    pub fn new_cluster(cluster_id: &str) -> Registry {
        Registry {
            version: 0,
            cluster_id: String::from(cluster_id),
            leader: String::new(),
            leader_epoch: 0,
            next_agent_number: 0,
            admitted: Vec::new(),
            unreachable: Vec::new(),
            gone: Vec::new(),
            weights: Vec::new(),
            quotas: Vec::new(),
            maintenance: Vec::new(),
        }
    }

    /// The admitted agent with this id.
    pub fn admitted_agent(&self, id: &AgentId) -> Option<&AdmittedAgent> {
        self.admitted.iter().find(|a| a.id == *id)
    }

    /// Checks the invariants [`apply`] relies on, for a registry read from disk: field and list
    /// bounds, each agent id in at most one list, and every id this cluster generated numbered
    /// below `next_agent_number` (so a new admission can never collide).
    pub fn validate(&self) -> Result<(), RegistryInvalid> {
        if self.cluster_id.is_empty() || self.cluster_id.len() > MAX_ID_LEN {
            return Err(RegistryInvalid::BadClusterId);
        }
        if self.leader.len() > MAX_LEADER_LEN {
            return Err(RegistryInvalid::FieldTooLong("leader"));
        }
        if self.admitted.len() > MAX_ADMITTED_AGENTS
            || self.unreachable.len() > MAX_REMEMBERED_AGENTS
            || self.gone.len() > MAX_REMEMBERED_AGENTS
        {
            return Err(RegistryInvalid::TooManyAgents);
        }
        let mut seen = BTreeSet::new();
        let ids = self
            .admitted
            .iter()
            .map(|a| &a.id)
            .chain(self.unreachable.iter().map(|(id, _)| id))
            .chain(self.gone.iter().map(|(id, _)| id));
        for id in ids {
            check_agent_id(id).map_err(|_| RegistryInvalid::BadAgentId)?;
            if !seen.insert(id.as_str()) {
                return Err(RegistryInvalid::DuplicateAgent);
            }
            if let Some(n) = own_agent_number(&self.cluster_id, id) {
                if n >= self.next_agent_number {
                    return Err(RegistryInvalid::AgentNumberAhead);
                }
            }
        }
        if self.weights.len() > MAX_WEIGHTS {
            return Err(RegistryInvalid::BadWeights);
        }
        for (i, w) in self.weights.iter().enumerate() {
            let bad = w.weight_milli == 0
                || w.weight_milli > MAX_WEIGHT_MILLI
                || crate::resources::validate_role(w.role.as_str()).is_err()
                || self.weights[..i].iter().any(|o| o.role == w.role);
            if bad {
                return Err(RegistryInvalid::BadWeights);
            }
        }
        if self.quotas.len() > MAX_QUOTAS {
            return Err(RegistryInvalid::BadQuotas);
        }
        for (i, q) in self.quotas.iter().enumerate() {
            if check_quota(q).is_err() || self.quotas[..i].iter().any(|o| o.role == q.role) {
                return Err(RegistryInvalid::BadQuotas);
            }
        }
        if !maintenance::check_stored(&self.maintenance) {
            return Err(RegistryInvalid::BadMaintenance);
        }
        for a in &self.admitted {
            check_record(&a.info).map_err(|e| match e {
                OpError::FieldTooLong(f) => RegistryInvalid::FieldTooLong(f),
                _ => RegistryInvalid::BadAgentId,
            })?;
        }
        Ok(())
    }
}

/// Why a registry read from disk is unusable although it decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryInvalid {
    BadClusterId,
    BadAgentId,
    FieldTooLong(&'static str),
    TooManyAgents,
    DuplicateAgent,
    AgentNumberAhead,
    /// Too many weights, a duplicate role, or a weight out of range.
    BadWeights,
    /// Too many quotas, a duplicate role, a bad role or non-scalar resources.
    BadQuotas,
    /// Too many scheduled machines, one twice, an invalid one, or one stored UP.
    BadMaintenance,
}

impl fmt::Display for RegistryInvalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryInvalid::BadClusterId => f.write_str("cluster id is empty or too long"),
            RegistryInvalid::BadAgentId => f.write_str("an agent id is empty or too long"),
            RegistryInvalid::FieldTooLong(field) => write!(f, "a {field} is too long"),
            RegistryInvalid::TooManyAgents => f.write_str("more agents than the registry bounds"),
            RegistryInvalid::DuplicateAgent => f.write_str("an agent id appears twice"),
            RegistryInvalid::AgentNumberAhead => {
                f.write_str("an agent id is numbered at or above next_agent_number")
            }
            RegistryInvalid::BadWeights => {
                f.write_str("the role weights are too many, name a role twice, or are out of range")
            }
            RegistryInvalid::BadQuotas => f.write_str(
                "the role quotas are too many, name a role twice, or hold invalid resources",
            ),
            RegistryInvalid::BadMaintenance => f.write_str(
                "the maintenance schedule is too big, names a machine twice or holds an invalid one",
            ),
        }
    }
}

/// A change to the registry. The variant order is the on-disk order: append, never reorder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// A master became leader (Mesos `Recover`): records it and starts a new epoch. Always
    /// written, so a new leader proves it can write before it serves.
    Recover { leader: String },
    /// First registration of an agent (Mesos `AdmitSlave`): assigns `<cluster_id>-S<n>`.
    AdmitAgent { info: AgentRecord },
    /// Reregistration with a changed record (Mesos `UpdateSlave`); an unchanged one costs no write.
    UpdateAgentInfo { id: AgentId, info: AgentRecord },
    /// Moves an admitted agent to the unreachable list (Mesos `MarkSlaveUnreachable`).
    MarkUnreachable { id: AgentId, at: WallTime },
    /// An unreachable or forgotten agent reregistered (Mesos `MarkSlaveReachable`): admits it
    /// again with `info`. Unlike the brief's `{ id }`, it carries the record because the
    /// unreachable list keeps only ids, as Mesos' does.
    MarkReachable { id: AgentId, info: AgentRecord },
    /// The agent left gracefully (Mesos `RemoveSlave`): dropped from the admitted list.
    RemoveAgent { id: AgentId },
    /// The operator marked the agent gone (Mesos `MarkSlaveGone`): refused forever after.
    MarkGone { id: AgentId, at: WallTime },
    /// The operator set role weights (Mesos `UpdateWeights`): each replaces the role's stored
    /// weight or is appended. Added after the first log format; older logs never contain it.
    UpdateWeights { weights: Vec<WeightRecord> },
    /// Registry GC (Mesos `Prune`, run every `--registry_gc_interval`): drops unreachable and gone
    /// entries marked before `older_than`, then the oldest entries of each list beyond
    /// `max_count`. Mesos lists the ids to drop; the rule is written instead, so the entry stays
    /// small however many agents it drops, and it replays to the same lists. Appended after
    /// `UpdateWeights`; older logs never contain it.
    Prune {
        older_than: WallTime,
        max_count: u32,
    },
    /// The operator set quotas (Mesos `UpdateQuota`, written by SET_QUOTA, REMOVE_QUOTA and
    /// UPDATE_QUOTA): each replaces the role's quota; a default one removes it. Appended after
    /// `Prune`; older logs never contain it.
    UpdateQuota { quotas: Vec<QuotaRecord> },
    /// The operator posted a maintenance schedule (Mesos `UpdateSchedule`): it replaces the
    /// schedule; new machines start DRAINING, scheduled ones keep their mode, machines left out
    /// are UP again. Appended after `UpdateQuota`; older logs never contain it.
    UpdateSchedule { windows: Vec<MaintenanceWindow> },
    /// The operator started maintenance (Mesos `StartMaintenance`): DRAINING machines go DOWN.
    StartMaintenance { machines: Vec<MachineId> },
    /// The operator stopped maintenance (Mesos `StopMaintenance`): DOWN machines leave the
    /// schedule and are UP.
    StopMaintenance { machines: Vec<MachineId> },
}

/// What an operation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    Recovered {
        epoch: u64,
    },
    Admitted {
        id: AgentId,
    },
    Updated,
    /// Nothing changed; such an operation is never written.
    Unchanged,
    Marked,
    Removed,
    /// Registry GC dropped this many unreachable and gone entries.
    Pruned {
        unreachable: usize,
        gone: usize,
    },
}

/// Why an operation was refused. A refused operation changes nothing and is never written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpError {
    /// The agent is not in the list the operation needs it in.
    UnknownAgent,
    /// The agent was marked gone and may not come back.
    AgentGone,
    /// [`MAX_ADMITTED_AGENTS`] are admitted.
    RegistryFull,
    /// A text field is longer than its bound.
    FieldTooLong(&'static str),
    /// An agent id is empty or longer than [`MAX_ID_LEN`].
    BadAgentId,
    /// A weight is zero or above [`MAX_WEIGHT_MILLI`], or its role is invalid.
    BadWeight,
    /// The update would store more than [`MAX_WEIGHTS`] weights.
    TooManyWeights,
    /// A quota names an invalid role (or `*`), or holds something other than plain scalars.
    BadQuota,
    /// The update would store more than [`MAX_QUOTAS`] quotas.
    TooManyQuotas,
    /// A maintenance operation broke one of Mesos' rules (see [`MaintenanceError`]).
    Maintenance(MaintenanceError),
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpError::UnknownAgent => f.write_str("agent is not known to the registry"),
            OpError::AgentGone => f.write_str("agent was marked gone"),
            OpError::RegistryFull => {
                write!(f, "registry already holds {MAX_ADMITTED_AGENTS} agents")
            }
            OpError::FieldTooLong(field) => write!(f, "agent {field} is too long"),
            OpError::BadAgentId => f.write_str("agent id is empty or too long"),
            OpError::BadWeight => write!(
                f,
                "a weight must be positive and at most {} and name a valid role",
                MAX_WEIGHT_MILLI / 1000
            ),
            OpError::TooManyWeights => {
                write!(f, "at most {MAX_WEIGHTS} roles may have a weight")
            }
            OpError::BadQuota => f.write_str(
                "a quota must name a valid role other than '*' and hold only plain scalar resources",
            ),
            OpError::TooManyQuotas => write!(f, "at most {MAX_QUOTAS} roles may have a quota"),
            OpError::Maintenance(e) => e.fmt(f),
        }
    }
}

/// Applies `op` to `reg`. Deterministic: the same registry and op give the same result and the
/// same registry on every machine. On `Err` or `Ok(Applied::Unchanged)` the registry is untouched.
pub fn apply(reg: &mut Registry, op: &Op) -> Result<Applied, OpError> {
    let plan = plan(reg, op)?;
    Ok(commit(reg, plan, op))
}

/// [`apply`] for an op the caller gives up: its strings move into the registry instead of being
/// copied.
pub fn apply_owned(reg: &mut Registry, op: Op) -> Result<Applied, OpError> {
    let plan = plan(reg, &op)?;
    Ok(commit(reg, plan, op))
}

/// The decision part of [`apply`]: what to change, found by reading only.
enum Plan {
    Unchanged,
    Recover,
    Admit,
    Update { pos: usize },
    Unreachable { pos: usize, at: WallTime },
    Reachable { from_unreachable: Option<usize> },
    Remove { pos: usize },
    GoneFromAdmitted { pos: usize, at: WallTime },
    GoneFromUnreachable { pos: usize, at: WallTime },
    Weights,
    Prune { unreachable: usize, gone: usize },
    Quotas,
    Schedule,
    StartMaintenance,
    StopMaintenance,
}

fn plan(reg: &Registry, op: &Op) -> Result<Plan, OpError> {
    match op {
        Op::Recover { leader } => {
            if leader.len() > MAX_LEADER_LEN {
                return Err(OpError::FieldTooLong("leader address"));
            }
            Ok(Plan::Recover)
        }
        Op::AdmitAgent { info } => {
            check_record(info)?;
            if reg.admitted.len() >= MAX_ADMITTED_AGENTS {
                return Err(OpError::RegistryFull);
            }
            // `validate` on load and `MarkReachable` keep every generated id below
            // `next_agent_number`, so the new id cannot collide: no scan is needed.
            Ok(Plan::Admit)
        }
        Op::UpdateAgentInfo { id, info } => {
            check_record(info)?;
            let pos = admitted_pos(reg, id).ok_or(OpError::UnknownAgent)?;
            if reg.admitted[pos].info == *info {
                Ok(Plan::Unchanged)
            } else {
                Ok(Plan::Update { pos })
            }
        }
        Op::MarkUnreachable { id, at } => match admitted_pos(reg, id) {
            Some(pos) => Ok(Plan::Unreachable { pos, at: *at }),
            None if unreachable_pos(reg, id).is_some() => Ok(Plan::Unchanged),
            None => Err(OpError::UnknownAgent),
        },
        Op::MarkReachable { id, info } => {
            check_agent_id(id)?;
            check_record(info)?;
            if gone_pos(reg, id).is_some() {
                return Err(OpError::AgentGone);
            }
            if admitted_pos(reg, id).is_some() {
                // Mesos: an agent reregistering after a failover before it was marked
                // unreachable is already in the right state.
                return Ok(Plan::Unchanged);
            }
            if reg.admitted.len() >= MAX_ADMITTED_AGENTS {
                return Err(OpError::RegistryFull);
            }
            Ok(Plan::Reachable {
                from_unreachable: unreachable_pos(reg, id),
            })
        }
        Op::RemoveAgent { id } => admitted_pos(reg, id)
            .map(|pos| Plan::Remove { pos })
            .ok_or(OpError::UnknownAgent),
        Op::MarkGone { id, at } => {
            if gone_pos(reg, id).is_some() {
                return Ok(Plan::Unchanged);
            }
            if let Some(pos) = admitted_pos(reg, id) {
                return Ok(Plan::GoneFromAdmitted { pos, at: *at });
            }
            unreachable_pos(reg, id)
                .map(|pos| Plan::GoneFromUnreachable { pos, at: *at })
                .ok_or(OpError::UnknownAgent)
        }
        Op::UpdateWeights { weights } => plan_weights(reg, weights),
        Op::UpdateQuota { quotas } => plan_quotas(reg, quotas),
        Op::UpdateSchedule { windows } => {
            maintenance::check_schedule(reg, windows).map_err(|(e, _)| OpError::Maintenance(e))?;
            if maintenance::scheduled(reg, windows) == reg.maintenance {
                Ok(Plan::Unchanged)
            } else {
                Ok(Plan::Schedule)
            }
        }
        Op::StartMaintenance { machines } => {
            maintenance::check_machines(reg, machines, MachineMode::Draining)
                .map_err(|(e, _)| OpError::Maintenance(e))?;
            Ok(Plan::StartMaintenance)
        }
        Op::StopMaintenance { machines } => {
            maintenance::check_machines(reg, machines, MachineMode::Down)
                .map_err(|(e, _)| OpError::Maintenance(e))?;
            Ok(Plan::StopMaintenance)
        }
        Op::Prune {
            older_than,
            max_count,
        } => {
            let unreachable = prune_count(&reg.unreachable, *older_than, *max_count);
            let gone = prune_count(&reg.gone, *older_than, *max_count);
            if unreachable == 0 && gone == 0 {
                Ok(Plan::Unchanged)
            } else {
                Ok(Plan::Prune { unreachable, gone })
            }
        }
    }
}

/// How many entries of an unreachable or gone list [`Op::Prune`] drops: those marked before
/// `older_than`, and then the oldest beyond `max_count`.
fn prune_count(list: &[(AgentId, WallTime)], older_than: WallTime, max_count: u32) -> usize {
    let old = list.iter().filter(|(_, at)| *at < older_than).count();
    let left = list.len() - old;
    old + left.saturating_sub(max_count as usize)
}

/// Drops what [`prune_count`] counted: old entries first, then the front (oldest) of what is left.
fn prune(list: &mut Vec<(AgentId, WallTime)>, older_than: WallTime, max_count: u32) {
    list.retain(|(_, at)| *at >= older_than);
    let excess = list.len().saturating_sub(max_count as usize);
    list.drain(..excess);
}

/// Checks a weight update: valid roles and weights, and room for the new roles. Unchanged when
/// every weight is already stored.
fn plan_weights(reg: &Registry, weights: &[WeightRecord]) -> Result<Plan, OpError> {
    let mut added = 0usize;
    let mut changed = false;
    for (i, w) in weights.iter().enumerate() {
        if w.weight_milli == 0
            || w.weight_milli > MAX_WEIGHT_MILLI
            || crate::resources::validate_role(w.role.as_str()).is_err()
        {
            return Err(OpError::BadWeight);
        }
        // A role named twice counts once; the last weight wins.
        if weights[i + 1..].iter().any(|later| later.role == w.role) {
            continue;
        }
        match reg.weights.iter().find(|s| s.role == w.role) {
            Some(stored) => changed |= stored.weight_milli != w.weight_milli,
            None => {
                added += 1;
                changed = true;
            }
        }
    }
    if reg.weights.len() + added > MAX_WEIGHTS {
        return Err(OpError::TooManyWeights);
    }
    Ok(if changed {
        Plan::Weights
    } else {
        Plan::Unchanged
    })
}

/// A quota's role is valid and not `*`; its resources are plain scalars (no reservation, disk,
/// provider, shared or revocable identity), each named once.
fn check_quota(q: &QuotaRecord) -> Result<(), OpError> {
    if q.role.as_str() == "*" || crate::resources::validate_role(q.role.as_str()).is_err() {
        return Err(OpError::BadQuota);
    }
    for list in [&q.guarantees, &q.limits] {
        for (i, r) in list.iter().enumerate() {
            if !r.is_plain_scalar() || list.as_slice()[..i].iter().any(|o| o.name == r.name) {
                return Err(OpError::BadQuota);
            }
        }
    }
    Ok(())
}

fn plan_quotas(reg: &Registry, quotas: &[QuotaRecord]) -> Result<Plan, OpError> {
    let mut after: Vec<&QuotaRecord> = reg.quotas.iter().collect();
    let mut changed = false;
    for q in quotas {
        check_quota(q)?;
        let old = after.iter().position(|o| o.role == q.role);
        changed |= match old {
            Some(pos) => *after[pos] != *q,
            None => !q.is_default(),
        };
        if let Some(pos) = old {
            after.remove(pos);
        }
        if !q.is_default() {
            after.push(q);
        }
    }
    if after.len() > MAX_QUOTAS {
        return Err(OpError::TooManyQuotas);
    }
    Ok(if changed {
        Plan::Quotas
    } else {
        Plan::Unchanged
    })
}

/// Where [`commit`] gets the strings it stores: copied from a borrowed op, moved from an owned
/// one. Only the parts a plan stores are taken, so nothing else is copied.
trait OpParts {
    fn leader(self) -> String;
    fn info(self) -> AgentRecord;
    fn id_and_info(self) -> (AgentId, AgentRecord);
    fn weights(self) -> Vec<WeightRecord>;
    fn prune_rule(self) -> (WallTime, u32);
    fn quotas(self) -> Vec<QuotaRecord>;
    fn windows(self) -> Vec<MaintenanceWindow>;
    fn machines(self) -> Vec<MachineId>;
}

impl OpParts for &Op {
    fn leader(self) -> String {
        match self {
            Op::Recover { leader } => leader.clone(),
            _ => String::new(),
        }
    }
    fn info(self) -> AgentRecord {
        match self {
            Op::AdmitAgent { info } | Op::UpdateAgentInfo { info, .. } => info.clone(),
            _ => AgentRecord::default(),
        }
    }
    fn id_and_info(self) -> (AgentId, AgentRecord) {
        match self {
            Op::MarkReachable { id, info } => (id.clone(), info.clone()),
            _ => (AgentId::default(), AgentRecord::default()),
        }
    }
    fn weights(self) -> Vec<WeightRecord> {
        match self {
            Op::UpdateWeights { weights } => weights.clone(),
            _ => Vec::new(),
        }
    }
    fn prune_rule(self) -> (WallTime, u32) {
        match self {
            Op::Prune {
                older_than,
                max_count,
            } => (*older_than, *max_count),
            _ => (WallTime::default(), u32::MAX),
        }
    }
    fn quotas(self) -> Vec<QuotaRecord> {
        match self {
            Op::UpdateQuota { quotas } => quotas.clone(),
            _ => Vec::new(),
        }
    }
    fn windows(self) -> Vec<MaintenanceWindow> {
        match self {
            Op::UpdateSchedule { windows } => windows.clone(),
            _ => Vec::new(),
        }
    }
    fn machines(self) -> Vec<MachineId> {
        match self {
            Op::StartMaintenance { machines } | Op::StopMaintenance { machines } => {
                machines.clone()
            }
            _ => Vec::new(),
        }
    }
}

impl OpParts for Op {
    fn leader(self) -> String {
        match self {
            Op::Recover { leader } => leader,
            _ => String::new(),
        }
    }
    fn info(self) -> AgentRecord {
        match self {
            Op::AdmitAgent { info } | Op::UpdateAgentInfo { info, .. } => info,
            _ => AgentRecord::default(),
        }
    }
    fn id_and_info(self) -> (AgentId, AgentRecord) {
        match self {
            Op::MarkReachable { id, info } => (id, info),
            _ => (AgentId::default(), AgentRecord::default()),
        }
    }
    fn weights(self) -> Vec<WeightRecord> {
        match self {
            Op::UpdateWeights { weights } => weights,
            _ => Vec::new(),
        }
    }
    fn prune_rule(self) -> (WallTime, u32) {
        (&self).prune_rule()
    }
    fn quotas(self) -> Vec<QuotaRecord> {
        match self {
            Op::UpdateQuota { quotas } => quotas,
            _ => Vec::new(),
        }
    }
    fn windows(self) -> Vec<MaintenanceWindow> {
        match self {
            Op::UpdateSchedule { windows } => windows,
            _ => Vec::new(),
        }
    }
    fn machines(self) -> Vec<MachineId> {
        match self {
            Op::StartMaintenance { machines } | Op::StopMaintenance { machines } => machines,
            _ => Vec::new(),
        }
    }
}

/// The mutation part of [`apply`], following a plan made from the same op. The `_ =>` arms of
/// [`OpParts`] are never taken because a plan is only made from its own kind of op.
fn commit(reg: &mut Registry, plan: Plan, op: impl OpParts) -> Applied {
    match plan {
        Plan::Unchanged => Applied::Unchanged,
        Plan::Recover => {
            reg.leader = op.leader();
            reg.leader_epoch += 1;
            Applied::Recovered {
                epoch: reg.leader_epoch,
            }
        }
        Plan::Admit => {
            let id = agent_id(&reg.cluster_id, reg.next_agent_number);
            reg.next_agent_number += 1;
            reg.admitted.push(AdmittedAgent {
                id: id.clone(),
                info: op.info(),
            });
            Applied::Admitted { id }
        }
        Plan::Update { pos } => {
            reg.admitted[pos].info = op.info();
            Applied::Updated
        }
        Plan::Unreachable { pos, at } => {
            let agent = reg.admitted.remove(pos);
            remember(&mut reg.unreachable, agent.id, at);
            Applied::Marked
        }
        Plan::Reachable { from_unreachable } => {
            if let Some(pos) = from_unreachable {
                reg.unreachable.remove(pos);
            }
            let (id, info) = op.id_and_info();
            if let Some(n) = own_agent_number(&reg.cluster_id, &id) {
                reg.next_agent_number = reg.next_agent_number.max(n.saturating_add(1));
            }
            reg.admitted.push(AdmittedAgent { id, info });
            Applied::Marked
        }
        Plan::Remove { pos } => {
            reg.admitted.remove(pos);
            Applied::Removed
        }
        Plan::GoneFromAdmitted { pos, at } => {
            let agent = reg.admitted.remove(pos);
            remember(&mut reg.gone, agent.id, at);
            Applied::Marked
        }
        Plan::GoneFromUnreachable { pos, at } => {
            let (id, _) = reg.unreachable.remove(pos);
            remember(&mut reg.gone, id, at);
            Applied::Marked
        }
        Plan::Weights => {
            for w in op.weights() {
                match reg.weights.iter_mut().find(|s| s.role == w.role) {
                    Some(stored) => stored.weight_milli = w.weight_milli,
                    None => reg.weights.push(w),
                }
            }
            Applied::Updated
        }
        Plan::Prune { unreachable, gone } => {
            let (older_than, max_count) = op.prune_rule();
            prune(&mut reg.unreachable, older_than, max_count);
            prune(&mut reg.gone, older_than, max_count);
            Applied::Pruned { unreachable, gone }
        }
        Plan::Quotas => {
            for q in op.quotas() {
                reg.quotas.retain(|o| o.role != q.role);
                if !q.is_default() {
                    reg.quotas.push(q);
                }
            }
            Applied::Updated
        }
        Plan::Schedule => {
            reg.maintenance = maintenance::scheduled(reg, &op.windows());
            Applied::Updated
        }
        Plan::StartMaintenance => {
            maintenance::set_mode(reg, &op.machines(), MachineMode::Down);
            Applied::Updated
        }
        Plan::StopMaintenance => {
            maintenance::unschedule(reg, &op.machines());
            Applied::Updated
        }
    }
}

/// Appends to a bounded list, evicting the oldest entry when it is full.
fn remember(list: &mut Vec<(AgentId, WallTime)>, id: AgentId, at: WallTime) {
    if list.len() >= MAX_REMEMBERED_AGENTS {
        list.remove(0);
    }
    list.push((id, at));
}

fn admitted_pos(reg: &Registry, id: &AgentId) -> Option<usize> {
    reg.admitted.iter().position(|a| a.id == *id)
}

fn unreachable_pos(reg: &Registry, id: &AgentId) -> Option<usize> {
    reg.unreachable.iter().position(|(u, _)| u == id)
}

fn gone_pos(reg: &Registry, id: &AgentId) -> Option<usize> {
    reg.gone.iter().position(|(g, _)| g == id)
}

fn check_agent_id(id: &AgentId) -> Result<(), OpError> {
    if id.as_str().is_empty() || id.as_str().len() > MAX_ID_LEN {
        return Err(OpError::BadAgentId);
    }
    Ok(())
}

fn check_record(info: &AgentRecord) -> Result<(), OpError> {
    let limits: [(&str, usize, &'static str); 4] = [
        (&info.hostname, MAX_HOSTNAME_LEN, "hostname"),
        (&info.ip, MAX_IP_LEN, "ip"),
        (&info.resources_text, MAX_RESOURCES_TEXT_LEN, "resources"),
        (&info.attributes_text, MAX_ATTRIBUTES_TEXT_LEN, "attributes"),
    ];
    for (value, max, name) in limits {
        if value.len() > max {
            return Err(OpError::FieldTooLong(name));
        }
    }
    Ok(())
}

/// `<cluster_id>-S<n>`, built with one allocation.
fn agent_id(cluster_id: &str, n: u64) -> AgentId {
    let mut id = String::with_capacity(cluster_id.len() + 2 + 20);
    let _ = write!(id, "{cluster_id}-S{n}");
    AgentId(id)
}

/// The `<n>` of an id of the form `<cluster_id>-S<n>`, if this cluster generated it.
fn own_agent_number(cluster_id: &str, id: &AgentId) -> Option<u64> {
    let rest = id.as_str().strip_prefix(cluster_id)?.strip_prefix("-S")?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}
