//! Offer operations on resources (Mesos `Offer.Operation` RESERVE, UNRESERVE, CREATE and
//! DESTROY, also reached through the operator calls RESERVE_RESOURCES, UNRESERVE_RESOURCES,
//! CREATE_VOLUMES and DESTROY_VOLUMES): the operation type and the per-resource helpers that
//! the master and agent share (reservation stack push and pop, persistent volume stripping).
//!
//! Layout: [`validate`] checks an operation against its requester with Mesos 1.5's rules and
//! messages (`A@1.5.0:src/master/validation.cpp`, namespace `operation`); [`apply`] converts a
//! collection (Mesos `Resources::apply`) and rebuilds an agent's total from its checkpointed
//! resources. Nothing here reads a clock or allocates beyond the resources it builds.

mod apply;
mod validate;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_props;

pub use apply::{
    apply_checkpointed_resources, checkpointed_resources, ApplyError, CheckpointError,
};
pub use validate::{
    DiskProblem, FrameworkCapabilities, FrameworkRequest, OperationError, ResourceProblem,
    ResourcesProblem, ValidationContext, VolumeProblem,
};

use super::meta::{Reservation, ReservationKind, ResourceMeta};
use super::resource::{Resource, ResourceError};
use super::Resources;
use alloc::sync::Arc;

/// One operation on an agent's resources. Each holds the resources in their converted form:
/// RESERVE and UNRESERVE name the reserved resources (the reservation to add or remove is the
/// top of each stack), CREATE and DESTROY name the persistent volumes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceOperation {
    /// Mesos `Offer.Operation.Reserve`: pushes the top reservation onto each resource.
    Reserve(Resources),
    /// Mesos `Offer.Operation.Unreserve`: pops the top reservation of each resource.
    Unreserve(Resources),
    /// Mesos `Offer.Operation.Create`: turns reserved disk into persistent volumes.
    Create(Resources),
    /// Mesos `Offer.Operation.Destroy`: turns persistent volumes back into plain disk.
    Destroy(Resources),
}

/// Which of the four operations, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperationKind {
    Reserve,
    Unreserve,
    Create,
    Destroy,
}

impl OperationKind {
    /// The Mesos enum name (`RESERVE`, ...).
    pub fn name(self) -> &'static str {
        match self {
            OperationKind::Reserve => "RESERVE",
            OperationKind::Unreserve => "UNRESERVE",
            OperationKind::Create => "CREATE",
            OperationKind::Destroy => "DESTROY",
        }
    }
}

impl ResourceOperation {
    /// Which operation this is.
    pub fn kind(&self) -> OperationKind {
        match self {
            ResourceOperation::Reserve(_) => OperationKind::Reserve,
            ResourceOperation::Unreserve(_) => OperationKind::Unreserve,
            ResourceOperation::Create(_) => OperationKind::Create,
            ResourceOperation::Destroy(_) => OperationKind::Destroy,
        }
    }

    /// The resources the operation names (reserved resources or volumes).
    pub fn resources(&self) -> &Resources {
        match self {
            ResourceOperation::Reserve(r)
            | ResourceOperation::Unreserve(r)
            | ResourceOperation::Create(r)
            | ResourceOperation::Destroy(r) => r,
        }
    }

    /// The operation that undoes this one: UNRESERVE for RESERVE, DESTROY for CREATE and
    /// the other way round, on the same resources.
    pub fn inverse(&self) -> ResourceOperation {
        match self {
            ResourceOperation::Reserve(r) => ResourceOperation::Unreserve(r.clone()),
            ResourceOperation::Unreserve(r) => ResourceOperation::Reserve(r.clone()),
            ResourceOperation::Create(r) => ResourceOperation::Destroy(r.clone()),
            ResourceOperation::Destroy(r) => ResourceOperation::Create(r.clone()),
        }
    }

    /// Checks the operation for `ctx`'s requester with Mesos' rules; see [`validate`].
    pub fn validate(&self, ctx: &ValidationContext<'_>) -> Result<(), OperationError> {
        validate::validate(self, ctx)
    }

    /// The converted collection (Mesos `Resources::apply`), all or nothing; see [`apply`].
    pub fn apply(&self, resources: &Resources) -> Result<Resources, ApplyError> {
        apply::apply(self, resources)
    }
}

/// Whether the top of the reservation stack is a dynamic reservation (Mesos
/// `Resources::isDynamicallyReserved`). The role is [`Resource::reservation_role`].
pub fn is_dynamically_reserved(r: &Resource) -> bool {
    r.meta()
        .and_then(|m| m.reservations.last())
        .is_some_and(|top| top.kind == ReservationKind::Dynamic)
}

/// Whether the resource is a persistent volume: disk info with a persistence id (Mesos
/// `Resources::isPersistentVolume`).
pub fn is_persistent_volume(r: &Resource) -> bool {
    r.meta()
        .and_then(|m| m.disk.as_ref())
        .is_some_and(|d| d.persistence.is_some())
}

/// Whether the reservation stack has more than one level (Mesos
/// `Resources::hasRefinedReservations`).
pub fn has_refined_reservations(r: &Resource) -> bool {
    r.meta().is_some_and(|m| m.reservations.len() > 1)
}

/// Whether an agent must checkpoint the resource: it is dynamically reserved or a persistent
/// volume (Mesos agent `needCheckpointing`).
pub fn needs_checkpointing(r: &Resource) -> bool {
    is_dynamically_reserved(r) || is_persistent_volume(r)
}

/// The resource with its top reservation removed (Mesos `Resources::popReservation`);
/// `None` if it is unreserved. `cpus(eng/web on eng)` becomes `cpus(eng)`.
pub fn pop_reservation(r: &Resource) -> Option<Resource> {
    let m = r.meta()?;
    if m.reservations.is_empty() {
        return None;
    }
    let mut meta = m.clone();
    meta.reservations.pop();
    Some(with_meta(r, meta))
}

/// The resource with `reservation` pushed on top of its stack (Mesos
/// `Resources::pushReservation`). Refuses what [`Resource::with_meta`] refuses (an invalid
/// role or `*`); whether the new level refines the old one is checked by validation.
pub fn push_reservation(r: &Resource, reservation: Reservation) -> Result<Resource, ResourceError> {
    let mut meta = r.meta().cloned().unwrap_or_default();
    meta.reservations.push(reservation);
    r.clone().with_meta(meta)
}

/// The resource without its dynamic reservations (the top of the stack down to the first
/// static level), as the agent's `--resources` declared it.
pub fn pop_dynamic_reservations(r: &Resource) -> Resource {
    let Some(m) = r.meta() else {
        return r.clone();
    };
    let mut meta = m.clone();
    while meta
        .reservations
        .last()
        .is_some_and(|top| top.kind == ReservationKind::Dynamic)
    {
        meta.reservations.pop();
    }
    with_meta(r, meta)
}

/// The disk a persistent volume was created from: persistence, container path and mode
/// removed (the whole disk info if it has no source), and not shared. Other resources are
/// returned unchanged except for the shared flag.
pub fn strip_volume(r: &Resource) -> Resource {
    let Some(m) = r.meta() else {
        return r.clone();
    };
    let mut meta = m.clone();
    if let Some(d) = &mut meta.disk {
        if d.source.is_some() {
            d.persistence = None;
            d.container_path = None;
            d.read_only = false;
        } else {
            meta.disk = None;
        }
    }
    meta.shared = false;
    with_meta(r, meta)
}

/// The resource without its allocation role (Mesos `Resources::unallocate` on one resource).
pub fn unallocated(r: &Resource) -> Resource {
    match r.meta() {
        Some(m) if m.allocation_role.is_some() => {
            let mut meta = m.clone();
            meta.allocation_role = None;
            with_meta(r, meta)
        }
        _ => r.clone(),
    }
}

/// `r` with `meta`, stored as `None` when plain. Only used for metas derived from a valid
/// one by removing parts, which stay valid.
fn with_meta(r: &Resource, meta: ResourceMeta) -> Resource {
    Resource {
        name: r.name.clone(),
        value: r.value.clone(),
        meta: if meta.is_plain() {
            None
        } else {
            Some(Arc::new(meta))
        },
    }
}
