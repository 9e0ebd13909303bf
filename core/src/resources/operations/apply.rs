//! Applying an operation to a collection (Mesos `Resources::apply`), and an agent's
//! checkpointed resources: which part of its total they are, and how the total is rebuilt
//! from the static `--resources` on restart (Mesos agent `applyCheckpointedResources`).

use super::{
    is_dynamically_reserved, is_persistent_volume, needs_checkpointing, pop_dynamic_reservations,
    pop_reservation, strip_volume, OperationKind, ResourceOperation,
};
use crate::resources::collection::{ArithError, Resources};
use crate::resources::resource::Resource;
use alloc::boxed::Box;
use core::fmt;

/// Why an operation cannot be applied to a collection; the collection is unchanged.
/// `Display` is Mesos' text (`Invalid RESERVE Operation: ...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyError {
    /// RESERVE or UNRESERVE of an unreserved resource.
    NotReserved(OperationKind),
    /// RESERVE or UNRESERVE of a resource whose top reservation is static.
    NotDynamicallyReserved(OperationKind),
    /// What the operation consumes is not there: `have` is the collection at that point.
    NotContained {
        kind: OperationKind,
        have: Resources,
        want: Resources,
    },
    /// CREATE or DESTROY of a resource without disk info.
    MissingDisk(OperationKind),
    /// CREATE or DESTROY of a disk without persistence id.
    MissingPersistence(OperationKind),
    /// CREATE of a volume whose disk is not there.
    InsufficientDisk(Box<Resource>),
    /// DESTROY of a volume that is not there.
    VolumeNotFound(Box<Resource>),
    /// Adding the converted resources failed (overflow, a duplicate whole disk or shared
    /// volume, too many ranges).
    Arith {
        kind: OperationKind,
        error: ArithError,
    },
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyError::NotReserved(k @ OperationKind::Reserve) => {
                write!(
                    f,
                    "Invalid {} Operation: Resource must be reserved",
                    k.name()
                )
            }
            ApplyError::NotReserved(k) => {
                write!(
                    f,
                    "Invalid {} Operation: Resource is not reserved",
                    k.name()
                )
            }
            ApplyError::NotDynamicallyReserved(k @ OperationKind::Reserve) => write!(
                f,
                "Invalid {} Operation: Resource must be dynamically reserved",
                k.name()
            ),
            ApplyError::NotDynamicallyReserved(k) => write!(
                f,
                "Invalid {} Operation: Resource is not dynamically reserved",
                k.name()
            ),
            ApplyError::NotContained { kind, have, want } => write!(
                f,
                "Invalid {} Operation: {have} does not contain {want}",
                kind.name()
            ),
            ApplyError::MissingDisk(k) => {
                write!(f, "Invalid {} Operation: Missing 'disk'", k.name())
            }
            ApplyError::MissingPersistence(k) => {
                write!(f, "Invalid {} Operation: Missing 'persistence'", k.name())
            }
            ApplyError::InsufficientDisk(v) => write!(
                f,
                "Invalid CREATE Operation: Insufficient disk resources for persistent volume {v}"
            ),
            ApplyError::VolumeNotFound(v) => write!(
                f,
                "Invalid DESTROY Operation: Persistent volume {v} does not exist"
            ),
            ApplyError::Arith { kind, error } => {
                write!(f, "Invalid {} Operation: {error}", kind.name())
            }
        }
    }
}

fn one(r: &Resource) -> Resources {
    let mut out = Resources::with_capacity(1);
    // Adding one resource to an empty collection cannot fail.
    let _ = out.add(r);
    out
}

/// Converts `resources` by `op`, one named resource at a time as Mesos does (a later one
/// sees the conversions of the earlier ones). On any error nothing is returned and the input
/// is untouched. Validation ([`ResourceOperation::validate`]) is separate; this only checks
/// what the conversion itself needs.
pub(super) fn apply(
    op: &ResourceOperation,
    resources: &Resources,
) -> Result<Resources, ApplyError> {
    let kind = op.kind();
    let arith = |error| ApplyError::Arith { kind, error };
    let mut result = resources.clone();
    for r in op.resources() {
        match op {
            ResourceOperation::Reserve(_) => {
                let Some(popped) = pop_reservation(r) else {
                    return Err(ApplyError::NotReserved(kind));
                };
                if !is_dynamically_reserved(r) {
                    return Err(ApplyError::NotDynamicallyReserved(kind));
                }
                let popped = one(&popped);
                if !result.contains(&popped) {
                    return Err(ApplyError::NotContained {
                        kind,
                        have: result,
                        want: popped,
                    });
                }
                result.subtract(&popped).map_err(arith)?;
                result.add(r).map_err(arith)?;
            }
            ResourceOperation::Unreserve(_) => {
                let Some(popped) = pop_reservation(r) else {
                    return Err(ApplyError::NotReserved(kind));
                };
                if !is_dynamically_reserved(r) {
                    return Err(ApplyError::NotDynamicallyReserved(kind));
                }
                if !result.contains_one(r) {
                    return Err(ApplyError::NotContained {
                        kind,
                        have: result,
                        want: one(r),
                    });
                }
                result.subtract_one(r).map_err(arith)?;
                result.add(&popped).map_err(arith)?;
            }
            ResourceOperation::Create(_) => {
                check_volume_shape(kind, r)?;
                let stripped = strip_volume(r);
                if !result.contains_one(&stripped) {
                    return Err(ApplyError::InsufficientDisk(Box::new(r.clone())));
                }
                result.subtract_one(&stripped).map_err(arith)?;
                result.add(r).map_err(arith)?;
            }
            ResourceOperation::Destroy(_) => {
                check_volume_shape(kind, r)?;
                if !result.contains_one(r) {
                    return Err(ApplyError::VolumeNotFound(Box::new(r.clone())));
                }
                // Mesos also refuses a shared volume with other copies left; our collections
                // hold a shared volume at most once, so there are none.
                result.subtract_one(r).map_err(arith)?;
                result.add(&strip_volume(r)).map_err(arith)?;
            }
        }
    }
    Ok(result)
}

fn check_volume_shape(kind: OperationKind, r: &Resource) -> Result<(), ApplyError> {
    match r.meta().and_then(|m| m.disk.as_ref()) {
        None => Err(ApplyError::MissingDisk(kind)),
        Some(d) if d.persistence.is_none() => Err(ApplyError::MissingPersistence(kind)),
        Some(_) => Ok(()),
    }
}

/// The part of an agent's total it must checkpoint and send when it registers: dynamically
/// reserved resources and persistent volumes (Mesos `checkpointed_resources`).
pub fn checkpointed_resources(total: &Resources) -> Resources {
    let mut out = Resources::new();
    out.copy_filtered_from(total, needs_checkpointing);
    out
}

/// Why an agent's checkpointed resources do not fit its static `--resources`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckpointError {
    /// A checkpointed resource is neither dynamically reserved nor a persistent volume.
    Unexpected {
        checkpointed: Resources,
        agent: Resources,
        resource: Box<Resource>,
    },
    /// The static resource a checkpointed one was made from is not (or no longer) there.
    Incompatible {
        checkpointed: Resources,
        agent: Resources,
        total: Resources,
        stripped: Box<Resource>,
    },
    /// Adding a checkpointed resource failed.
    Arith {
        checkpointed: Resources,
        agent: Resources,
        error: ArithError,
    },
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (checkpointed, agent) = match self {
            CheckpointError::Unexpected {
                checkpointed,
                agent,
                ..
            }
            | CheckpointError::Incompatible {
                checkpointed,
                agent,
                ..
            }
            | CheckpointError::Arith {
                checkpointed,
                agent,
                ..
            } => (checkpointed, agent),
        };
        write!(
            f,
            "Checkpointed resources {checkpointed} are incompatible with agent resources {agent}: "
        )?;
        match self {
            CheckpointError::Unexpected { resource, .. } => {
                write!(f, "Unexpected checkpointed resources {resource}")
            }
            CheckpointError::Incompatible {
                total, stripped, ..
            } => write!(
                f,
                "Incompatible agent resources: {total} does not contain {stripped}"
            ),
            CheckpointError::Arith { error, .. } => write!(f, "{error}"),
        }
    }
}

/// An agent's total from its static resources and its checkpointed ones: each checkpointed
/// resource replaces the static resource it was made from (its dynamic reservations popped
/// and its volume stripped), which must be there.
pub fn apply_checkpointed_resources(
    agent: &Resources,
    checkpointed: &Resources,
) -> Result<Resources, CheckpointError> {
    let mut total = agent.clone();
    for r in checkpointed {
        if !needs_checkpointing(r) {
            return Err(CheckpointError::Unexpected {
                checkpointed: checkpointed.clone(),
                agent: agent.clone(),
                resource: Box::new(r.clone()),
            });
        }
        let mut stripped = pop_dynamic_reservations(r);
        if is_persistent_volume(r) {
            stripped = strip_volume(&stripped);
        }
        if !total.contains_one(&stripped) {
            return Err(CheckpointError::Incompatible {
                checkpointed: checkpointed.clone(),
                agent: agent.clone(),
                total,
                stripped: Box::new(stripped),
            });
        }
        let arith = |error| CheckpointError::Arith {
            checkpointed: checkpointed.clone(),
            agent: agent.clone(),
            error,
        };
        total.subtract_one(&stripped).map_err(arith)?;
        total.add(r).map_err(arith)?;
    }
    Ok(total)
}
