//! Validation of RESERVE, UNRESERVE, CREATE and DESTROY against the requester (a framework
//! or the operator), following Mesos 1.5 (`src/master/validation.cpp`, namespaces
//! `resource` and `operation`) check for check and message for message.
//!
//! Deviations, each marked where it happens: an operation with no resources is refused (Mesos
//! has a TODO); the RESERVATION_REFINEMENT check applies to the framework (every mesolite agent
//! has the capability, and Mesos only filters refined resources out of such frameworks'
//! offers); a persistent volume's container path must be relative and must not contain `..`;
//! the persistence id is checked with [`validate_id`]; a multiple-provider message names the
//! first two providers found.

use super::{has_refined_reservations, is_dynamically_reserved, is_persistent_volume, unallocated};
use super::{OperationKind, ResourceOperation};
use crate::ids::{validate_id, FrameworkId, IdError, Role};
use crate::resources::meta::ReservationKind;
use crate::resources::resource::{Name, Resource, ResourceError};
use crate::resources::Resources;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The framework capabilities that change what an operation may do (Mesos
/// `FrameworkInfo.Capability`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameworkCapabilities {
    /// RESERVATION_REFINEMENT: may reserve for a sub-role on top of an existing reservation.
    pub reservation_refinement: bool,
    /// SHARED_RESOURCES: may create shared persistent volumes.
    pub shared_resources: bool,
}

/// A framework asking for an operation through ACCEPT.
#[derive(Clone, Copy, Debug)]
pub struct FrameworkRequest<'a> {
    pub id: &'a FrameworkId,
    /// Every role of the framework (several for a MULTI_ROLE framework).
    pub roles: &'a [Role],
    pub capabilities: FrameworkCapabilities,
}

/// Everything validation looks at besides the operation itself.
#[derive(Clone, Copy, Debug)]
pub struct ValidationContext<'a> {
    /// The authenticated principal of the requester, if authentication is on.
    pub principal: Option<&'a str>,
    /// The framework, or `None` for the operator API (RESERVE_RESOURCES, ...).
    pub framework: Option<FrameworkRequest<'a>>,
    /// The agent's checkpointed resources ([`super::checkpointed_resources`]): CREATE checks
    /// persistence ids against them, DESTROY that the volumes exist.
    pub checkpointed: &'a Resources,
    /// Resources used by live tasks and executors on the agent, one entry per framework
    /// (a shared volume may be in several). DESTROY refuses volumes found here.
    pub used: &'a [Resources],
}

/// What is wrong with one resource by itself (Mesos `Resources::validate(Resource)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceProblem {
    /// Name, value or a role is invalid.
    Invalid(ResourceError),
    /// A reservation is for `*`.
    ReservedForStar,
    /// A level above the first is static.
    RefinedStatic,
    /// A level's role is not a strict sub-role of the level below.
    NotRefinement { descendant: Role, ancestor: Role },
    /// Disk info on a resource not named `disk`.
    DiskInfoNotDisk(Name),
    /// Shared, but not named `disk`.
    SharedNotDisk(Name),
    /// Shared, but not a persistent volume.
    SharedNotVolume,
}

impl fmt::Display for ResourceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceProblem::Invalid(e) => write!(f, "{e}"),
            ResourceProblem::ReservedForStar => {
                f.write_str("Invalid reservation: role \"*\" cannot be reserved")
            }
            ResourceProblem::RefinedStatic => {
                f.write_str("Invalid refined reservation: A refined reservation cannot be STATIC")
            }
            ResourceProblem::NotRefinement {
                descendant,
                ancestor,
            } => write!(
                f,
                "Invalid refined reservation: role '{descendant}' is not a refinement of '{ancestor}'"
            ),
            ResourceProblem::DiskInfoNotDisk(name) => {
                write!(f, "DiskInfo should not be set for {name} resource")
            }
            ResourceProblem::SharedNotDisk(name) => write!(f, "Resource {name} cannot be shared"),
            ResourceProblem::SharedNotVolume => f.write_str("Only persistent volumes can be shared"),
        }
    }
}

/// What is wrong with a resource's disk info (Mesos `validateDiskInfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiskProblem {
    RevocableVolume,
    UnreservedVolume,
    /// A persistence id without a container path (Mesos: no `volume`).
    MissingVolume,
    PersistenceId(IdError),
    /// Ours: the container path is empty, absolute or contains `..`.
    ContainerPath(String),
    /// A container path without a persistence id.
    NonPersistentVolume,
    /// Disk info with nothing in it.
    Empty,
}

impl fmt::Display for DiskProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiskProblem::RevocableVolume => {
                f.write_str("Persistent volumes cannot be created from revocable resources")
            }
            DiskProblem::UnreservedVolume => {
                f.write_str("Persistent volumes cannot be created from unreserved resources")
            }
            DiskProblem::MissingVolume => {
                f.write_str("Expecting 'volume' to be set for persistent volume")
            }
            DiskProblem::PersistenceId(e) => {
                write!(f, "Invalid persistence ID for persistent volume: {e}")
            }
            DiskProblem::ContainerPath(p) => write!(
                f,
                "Container path '{p}' of persistent volume must be a non-empty relative path without '..'"
            ),
            DiskProblem::NonPersistentVolume => f.write_str("Non-persistent volume not supported"),
            DiskProblem::Empty => f.write_str("DiskInfo is set but empty"),
        }
    }
}

/// Why the resources of an operation are invalid in themselves (Mesos `resource::validate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourcesProblem {
    Resource {
        resource: Box<Resource>,
        problem: ResourceProblem,
    },
    /// The `gpus` total is fractional.
    Gpus,
    Disk(DiskProblem),
    /// A dynamic reservation of revocable resources.
    RevocableReservation(Box<Resource>),
}

impl fmt::Display for ResourcesProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourcesProblem::Resource { resource, problem } => {
                write!(f, "Invalid resources: Resource '{resource}' is invalid: {problem}")
            }
            ResourcesProblem::Gpus => f.write_str(
                "Invalid 'gpus' resource: The 'gpus' resource must be an unsigned integer",
            ),
            ResourcesProblem::Disk(p) => write!(f, "Invalid DiskInfo: {p}"),
            ResourcesProblem::RevocableReservation(r) => write!(
                f,
                "Invalid ReservationInfo: Dynamically reserved resource {r} cannot be created from revocable resources"
            ),
        }
    }
}

/// Why a CREATE or DESTROY names something that is not a persistent volume (Mesos
/// `validatePersistentVolume`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VolumeProblem {
    NoDiskInfo(Box<Resource>),
    NoPersistence,
    ReadOnly,
}

impl fmt::Display for VolumeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VolumeProblem::NoDiskInfo(r) => write!(f, "Resource {r} does not have DiskInfo"),
            VolumeProblem::NoPersistence => f.write_str("'persistence' is not set in DiskInfo"),
            VolumeProblem::ReadOnly => f.write_str("Read-only persistent volume not supported"),
        }
    }
}

/// Why an operation is dropped. `Display` is Mesos' reason text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperationError {
    /// The resources are invalid in themselves.
    Resources(ResourcesProblem),
    /// Ours: the operation names no resources.
    Empty,
    /// Some resources come from a resource provider and some from the agent.
    ProviderMix,
    /// The resources come from several resource providers (the first two are named).
    MultipleProviders { first: String, second: String },
    /// RESERVE or UNRESERVE of a resource whose top reservation is not dynamic.
    NotDynamicallyReserved(Box<Resource>),
    /// Ours (Mesos checks the agent): refinement by a framework without the capability.
    RefinementNotCapable {
        kind: OperationKind,
        resource: Box<Resource>,
    },
    /// RESERVE by an authenticated principal of a reservation without principal.
    ReserveWithoutPrincipal { principal: String },
    /// RESERVE by an authenticated principal of a reservation for another principal.
    ReservePrincipalMismatch { principal: String, reserved: String },
    /// RESERVE by a framework of a resource that was not offered to a role.
    ReserveUnallocated(Box<Resource>),
    /// RESERVE by a framework for a role other than the one the resource is allocated to.
    ReserveRoleNotAllocationRole { reservation: Role, allocation: Role },
    /// RESERVE by a framework of resources allocated to a role it does not have.
    ReserveAllocationRoleNotFrameworks { allocation: Role, roles: Vec<Role> },
    /// RESERVE through the operator API of allocated resources.
    ReserveAllocatedByOperator,
    /// A framework's RESERVE or CREATE with resources not allocated to any role.
    NotAllocatedToRole { kind: OperationKind },
    /// A framework's RESERVE or CREATE with resources allocated to several roles.
    MultipleAllocationRoles {
        kind: OperationKind,
        later: Role,
        earlier: Role,
    },
    /// UNRESERVE of a persistent volume.
    UnreserveVolume(Box<Resource>),
    /// CREATE or DESTROY of something that is not a persistent volume.
    NotPersistentVolume(VolumeProblem),
    /// CREATE of a volume whose persistence id is already used for the role on the agent.
    DuplicatePersistenceId(String),
    /// CREATE of a shared volume by a framework without SHARED_RESOURCES.
    SharedNotCapable {
        volume: Box<Resource>,
        framework: FrameworkId,
    },
    /// CREATE by an authenticated principal of a volume without principal.
    CreateWithoutPrincipal { principal: String },
    /// CREATE by an authenticated principal of a volume for another principal.
    CreatePrincipalMismatch { principal: String, volume: String },
    /// DESTROY of a volume the agent does not have.
    VolumesNotFound,
    /// DESTROY of a volume a live task or executor uses.
    VolumesInUse,
}

/// Mesos `stringify(hashset<string>)`: `{ a, b }`.
fn role_set(f: &mut fmt::Formatter<'_>, roles: &[Role]) -> fmt::Result {
    f.write_str("{ ")?;
    for (i, r) in roles.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{r}")?;
    }
    f.write_str(" }")
}

impl fmt::Display for OperationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OperationError::Resources(p) => write!(f, "Invalid resources: {p}"),
            OperationError::Empty => f.write_str("Invalid resources: Resource cannot be empty"),
            OperationError::ProviderMix => f.write_str(
                "Invalid resources: Some resources have a resource provider and some do not",
            ),
            OperationError::MultipleProviders { first, second } => write!(
                f,
                "Invalid resources: The resources have multiple resource providers: {first}, {second}"
            ),
            OperationError::NotDynamicallyReserved(r) => {
                write!(f, "Resource {r} is not dynamically reserved")
            }
            OperationError::RefinementNotCapable { kind, resource } => {
                let (what, verb) = match kind {
                    OperationKind::Create | OperationKind::Destroy => ("Volume", "created"),
                    OperationKind::Reserve | OperationKind::Unreserve => ("Resource", "reserved"),
                };
                write!(
                    f,
                    "{what} {resource} with reservation refinement cannot be {verb} by a framework without RESERVATION_REFINEMENT capability"
                )
            }
            OperationError::ReserveWithoutPrincipal { principal } => write!(
                f,
                "A reserve operation was attempted by principal '{principal}', but there is a reserved resource in the request with no principal set"
            ),
            OperationError::ReservePrincipalMismatch {
                principal,
                reserved,
            } => write!(
                f,
                "A reserve operation was attempted by authenticated principal '{principal}', which does not match a reserved resource in the request with principal '{reserved}'"
            ),
            OperationError::ReserveUnallocated(r) => write!(
                f,
                "A reserve operation was attempted on unallocated resource {r}, but frameworks can only perform reservations on allocated resources"
            ),
            OperationError::ReserveRoleNotAllocationRole {
                reservation,
                allocation,
            } => write!(
                f,
                "A reserve operation was attempted for a resource with role '{reservation}', but the resource was allocated to role '{allocation}'"
            ),
            OperationError::ReserveAllocationRoleNotFrameworks { allocation, roles } => {
                write!(
                    f,
                    "A reserve operation was attempted for a resource allocated to role '{allocation}', but the framework only has roles '"
                )?;
                role_set(f, roles)?;
                f.write_str("'")
            }
            OperationError::ReserveAllocatedByOperator => f.write_str(
                "A reserve operation was attempted with an allocated resource, but the operator API only allows reservations to be made to unallocated resources",
            ),
            OperationError::NotAllocatedToRole { kind } => write!(
                f,
                "{}The resources are not allocated to a role",
                single_role_prefix(*kind)
            ),
            OperationError::MultipleAllocationRoles {
                kind,
                later,
                earlier,
            } => write!(
                f,
                "{}The resources have multiple allocation roles ('{later}' and '{earlier}') but only one allocation role is allowed",
                single_role_prefix(*kind)
            ),
            OperationError::UnreserveVolume(r) => write!(
                f,
                "A dynamically reserved persistent volume {r} cannot be unreserved directly. Please destroy the persistent volume first then unreserve the resource"
            ),
            OperationError::NotPersistentVolume(p) => write!(f, "Not a persistent volume: {p}"),
            OperationError::DuplicatePersistenceId(id) => {
                write!(f, "Persistence ID '{id}' is not unique")
            }
            OperationError::SharedNotCapable { volume, framework } => write!(
                f,
                "Create volume operation for '{volume}' has been attempted by framework '{framework}' with no SHARED_RESOURCES capability"
            ),
            OperationError::CreateWithoutPrincipal { principal } => write!(
                f,
                "Create volume operation attempted by principal '{principal}', but there is a volume in the operation with no principal set in 'disk.persistence'"
            ),
            OperationError::CreatePrincipalMismatch { principal, volume } => write!(
                f,
                "Create volume operation attempted by authenticated principal '{principal}', which does not match a volume in the operation with principal '{volume}' set in 'disk.persistence'"
            ),
            OperationError::VolumesNotFound => f.write_str("Persistent volumes not found"),
            OperationError::VolumesInUse => f.write_str("Persistent volumes in use"),
        }
    }
}

fn single_role_prefix(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::Create | OperationKind::Destroy => "Invalid volume resources: ",
        OperationKind::Reserve | OperationKind::Unreserve => "Invalid reservation resources: ",
    }
}

/// Checks `op` for the requester in `ctx`. The first problem found is returned, in Mesos'
/// order of checks.
pub(super) fn validate(
    op: &ResourceOperation,
    ctx: &ValidationContext<'_>,
) -> Result<(), OperationError> {
    let resources = op.resources();
    if resources.is_empty() {
        // Deviation: Mesos 1.5 has a TODO here and lets an empty operation through.
        return Err(OperationError::Empty);
    }
    match op {
        ResourceOperation::Reserve(r) => validate_reserve(r, ctx),
        ResourceOperation::Unreserve(r) => validate_unreserve(r),
        ResourceOperation::Create(r) => validate_create(r, ctx),
        ResourceOperation::Destroy(r) => validate_destroy(r, ctx),
    }
}

/// Mesos `operation::validate(Reserve)`.
fn validate_reserve(
    resources: &Resources,
    ctx: &ValidationContext<'_>,
) -> Result<(), OperationError> {
    validate_resources(resources).map_err(OperationError::Resources)?;
    validate_single_provider(resources)?;
    for r in resources {
        if !is_dynamically_reserved(r) {
            return Err(OperationError::NotDynamicallyReserved(Box::new(r.clone())));
        }
        check_refinement_capability(OperationKind::Reserve, r, ctx)?;
        if let Some(principal) = ctx.principal {
            let top = r.meta().and_then(|m| m.reservations.last());
            match top.and_then(|t| t.principal.as_deref()) {
                None => {
                    return Err(OperationError::ReserveWithoutPrincipal {
                        principal: principal.into(),
                    })
                }
                Some(p) if p != principal => {
                    return Err(OperationError::ReservePrincipalMismatch {
                        principal: principal.into(),
                        reserved: p.into(),
                    })
                }
                Some(_) => {}
            }
        }
        // A dynamically reserved resource has a reservation role.
        let Some(role) = r.reservation_role() else {
            return Err(OperationError::NotDynamicallyReserved(Box::new(r.clone())));
        };
        match &ctx.framework {
            Some(fw) => {
                let Some(alloc) = r.allocation_role() else {
                    return Err(OperationError::ReserveUnallocated(Box::new(r.clone())));
                };
                if alloc != role {
                    return Err(OperationError::ReserveRoleNotAllocationRole {
                        reservation: role.clone(),
                        allocation: alloc.clone(),
                    });
                }
                if !fw.roles.contains(alloc) {
                    return Err(OperationError::ReserveAllocationRoleNotFrameworks {
                        allocation: alloc.clone(),
                        roles: fw.roles.to_vec(),
                    });
                }
                // Mesos then checks that the reservation role is one of the framework's,
                // which the two checks above already imply.
            }
            None => {
                if r.allocation_role().is_some() {
                    return Err(OperationError::ReserveAllocatedByOperator);
                }
            }
        }
    }
    if ctx.framework.is_some() {
        validate_allocated_to_single_role(OperationKind::Reserve, resources)?;
    }
    Ok(())
}

/// Mesos `operation::validate(Unreserve)`. Whose reservation may be undone is a question
/// for the authorizer, as in Mesos.
fn validate_unreserve(resources: &Resources) -> Result<(), OperationError> {
    validate_resources(resources).map_err(OperationError::Resources)?;
    validate_single_provider(resources)?;
    for r in resources {
        if !is_dynamically_reserved(r) {
            return Err(OperationError::NotDynamicallyReserved(Box::new(r.clone())));
        }
        if is_persistent_volume(r) {
            return Err(OperationError::UnreserveVolume(Box::new(r.clone())));
        }
    }
    Ok(())
}

/// Mesos `operation::validate(Create)`.
fn validate_create(volumes: &Resources, ctx: &ValidationContext<'_>) -> Result<(), OperationError> {
    validate_resources(volumes).map_err(OperationError::Resources)?;
    validate_single_provider(volumes)?;
    validate_persistent_volumes(volumes)?;
    validate_unique_persistence_ids(ctx.checkpointed.iter().chain(volumes.iter()))?;
    for v in volumes {
        if let Some(fw) = &ctx.framework {
            if v.is_shared() && !fw.capabilities.shared_resources {
                return Err(OperationError::SharedNotCapable {
                    volume: Box::new(v.clone()),
                    framework: fw.id.clone(),
                });
            }
        }
        check_refinement_capability(OperationKind::Create, v, ctx)?;
        if let Some(principal) = ctx.principal {
            let owner = v
                .meta()
                .and_then(|m| m.disk.as_ref())
                .and_then(|d| d.persistence.as_ref())
                .and_then(|p| p.principal.as_deref());
            match owner {
                None => {
                    return Err(OperationError::CreateWithoutPrincipal {
                        principal: principal.into(),
                    })
                }
                Some(p) if p != principal => {
                    return Err(OperationError::CreatePrincipalMismatch {
                        principal: principal.into(),
                        volume: p.into(),
                    })
                }
                Some(_) => {}
            }
        }
    }
    if ctx.framework.is_some() {
        validate_allocated_to_single_role(OperationKind::Create, volumes)?;
    }
    Ok(())
}

/// Mesos `operation::validate(Destroy)`. Volumes, checkpointed and used resources are
/// compared without their allocation role.
fn validate_destroy(
    volumes: &Resources,
    ctx: &ValidationContext<'_>,
) -> Result<(), OperationError> {
    let volumes: Vec<Resource> = volumes.iter().map(unallocated).collect();
    let mut plain = Resources::with_capacity(volumes.len());
    for v in &volumes {
        // Unallocating can only merge entries. A shared volume named twice is refused as a
        // duplicate here and checked once; the existence and use checks below see every one.
        let _ = plain.add(v);
    }
    validate_resources(&plain).map_err(OperationError::Resources)?;
    validate_single_provider(&plain)?;
    validate_persistent_volumes(&plain)?;
    for v in &volumes {
        if v.meta().is_some_and(|m| m.provider_id.is_some()) {
            continue;
        }
        if !holds_unallocated(ctx.checkpointed.iter(), v) {
            return Err(OperationError::VolumesNotFound);
        }
    }
    for used in ctx.used {
        if volumes.iter().any(|v| holds_unallocated(used.iter(), v)) {
            return Err(OperationError::VolumesInUse);
        }
    }
    Ok(())
}

/// Whether one of `entries`, without its allocation role, holds all of `r` (also without).
fn holds_unallocated<'a>(entries: impl Iterator<Item = &'a Resource>, r: &Resource) -> bool {
    let r = unallocated(r);
    entries.map(unallocated).any(|e| {
        if r.is_mergeable() {
            e.same_identity(&r) && e.value.contains(&r.value)
        } else {
            e == r
        }
    })
}

/// Ours, standing in for Mesos' agent capability check: a framework without
/// RESERVATION_REFINEMENT may not make or use refined reservations.
fn check_refinement_capability(
    kind: OperationKind,
    r: &Resource,
    ctx: &ValidationContext<'_>,
) -> Result<(), OperationError> {
    match &ctx.framework {
        Some(fw) if !fw.capabilities.reservation_refinement && has_refined_reservations(r) => {
            Err(OperationError::RefinementNotCapable {
                kind,
                resource: Box::new(r.clone()),
            })
        }
        _ => Ok(()),
    }
}

/// Mesos `resource::validate`: each resource by itself, then gpus, disk info and dynamic
/// reservation info across them.
pub(crate) fn validate_resources(resources: &Resources) -> Result<(), ResourcesProblem> {
    for r in resources {
        validate_resource(r).map_err(|problem| ResourcesProblem::Resource {
            resource: Box::new(r.clone()),
            problem,
        })?;
    }
    if resources.scalar("gpus").milli() % 1000 != 0 {
        return Err(ResourcesProblem::Gpus);
    }
    for r in resources {
        validate_disk_info(r).map_err(ResourcesProblem::Disk)?;
    }
    for r in resources {
        if is_dynamically_reserved(r) && r.is_revocable() {
            return Err(ResourcesProblem::RevocableReservation(Box::new(r.clone())));
        }
    }
    Ok(())
}

/// Mesos `Resources::validate(Resource)`, for what our types can express wrongly.
fn validate_resource(r: &Resource) -> Result<(), ResourceProblem> {
    let Some(m) = r.meta() else {
        return r.validate().map_err(ResourceProblem::Invalid);
    };
    if m.reservations.iter().any(|l| l.role.as_str() == "*") {
        return Err(ResourceProblem::ReservedForStar);
    }
    r.validate().map_err(ResourceProblem::Invalid)?;
    for pair in m.reservations.windows(2) {
        let (ancestor, descendant) = (&pair[0], &pair[1]);
        if descendant.kind == ReservationKind::Static {
            return Err(ResourceProblem::RefinedStatic);
        }
        if !is_strict_subrole(descendant.role.as_str(), ancestor.role.as_str()) {
            return Err(ResourceProblem::NotRefinement {
                descendant: descendant.role.clone(),
                ancestor: ancestor.role.clone(),
            });
        }
    }
    if m.disk.is_some() && r.name.as_str() != "disk" {
        return Err(ResourceProblem::DiskInfoNotDisk(r.name.clone()));
    }
    if m.shared {
        if r.name.as_str() != "disk" {
            return Err(ResourceProblem::SharedNotDisk(r.name.clone()));
        }
        if !is_persistent_volume(r) {
            return Err(ResourceProblem::SharedNotVolume);
        }
    }
    Ok(())
}

/// Whether `descendant` is below `ancestor` in the role tree (`eng/web` below `eng`).
fn is_strict_subrole(descendant: &str, ancestor: &str) -> bool {
    descendant
        .strip_prefix(ancestor)
        .is_some_and(|rest| rest.len() > 1 && rest.starts_with('/'))
}

/// Mesos `validateDiskInfo` for one resource.
fn validate_disk_info(r: &Resource) -> Result<(), DiskProblem> {
    let Some(d) = r.meta().and_then(|m| m.disk.as_ref()) else {
        return Ok(());
    };
    if let Some(p) = &d.persistence {
        if r.is_revocable() {
            return Err(DiskProblem::RevocableVolume);
        }
        if r.is_unreserved() {
            return Err(DiskProblem::UnreservedVolume);
        }
        let Some(path) = &d.container_path else {
            return Err(DiskProblem::MissingVolume);
        };
        validate_id("persistence ID", &p.id).map_err(DiskProblem::PersistenceId)?;
        // Deviation: Mesos leaves the container path to the agent's isolator.
        if !is_safe_relative_path(path) {
            return Err(DiskProblem::ContainerPath(path.clone()));
        }
    } else if d.container_path.is_some() {
        return Err(DiskProblem::NonPersistentVolume);
    } else if d.source.is_none() {
        return Err(DiskProblem::Empty);
    }
    Ok(())
}

/// Non-empty, relative, and no `..` component: the path stays inside the sandbox.
fn is_safe_relative_path(path: &str) -> bool {
    !path.is_empty() && !path.starts_with('/') && !path.split('/').any(|c| c == "..")
}

/// Mesos `internal::validateSingleResourceProvider`.
fn validate_single_provider(resources: &Resources) -> Result<(), OperationError> {
    let mut without = false;
    let mut first: Option<&str> = None;
    let mut second: Option<&str> = None;
    for r in resources {
        match r.meta().and_then(|m| m.provider_id.as_deref()) {
            None => without = true,
            Some(p) if first.is_none() => first = Some(p),
            Some(p) if first != Some(p) && second.is_none() => second = Some(p),
            Some(_) => {}
        }
    }
    match (without, first, second) {
        (true, Some(_), _) => Err(OperationError::ProviderMix),
        (false, Some(a), Some(b)) => Err(OperationError::MultipleProviders {
            first: a.into(),
            second: b.into(),
        }),
        _ => Ok(()),
    }
}

/// Mesos `resource::validatePersistentVolume`. Its "no volume" case cannot happen here:
/// [`validate_resources`] reports a persistence id without container path first.
fn validate_persistent_volumes(volumes: &Resources) -> Result<(), OperationError> {
    for v in volumes {
        let problem = match v.meta().and_then(|m| m.disk.as_ref()) {
            None => Some(VolumeProblem::NoDiskInfo(Box::new(v.clone()))),
            Some(d) if d.persistence.is_none() => Some(VolumeProblem::NoPersistence),
            Some(d) if d.read_only => Some(VolumeProblem::ReadOnly),
            Some(_) => None,
        };
        if let Some(p) = problem {
            return Err(OperationError::NotPersistentVolume(p));
        }
    }
    Ok(())
}

/// Mesos `resource::validateUniquePersistenceID`: ids are unique per reservation role on an
/// agent. Quadratic, over an agent's volumes only.
fn validate_unique_persistence_ids<'a>(
    all: impl Iterator<Item = &'a Resource>,
) -> Result<(), OperationError> {
    let mut seen: Vec<(Option<&Role>, &str)> = Vec::new();
    for r in all {
        let Some(p) = r
            .meta()
            .and_then(|m| m.disk.as_ref())
            .and_then(|d| d.persistence.as_ref())
        else {
            continue;
        };
        let key = (r.reservation_role(), p.id.as_str());
        if seen.contains(&key) {
            return Err(OperationError::DuplicatePersistenceId(p.id.clone()));
        }
        seen.push(key);
    }
    Ok(())
}

/// Mesos `resource::validateAllocatedToSingleRole`.
fn validate_allocated_to_single_role(
    kind: OperationKind,
    resources: &Resources,
) -> Result<(), OperationError> {
    let mut role: Option<&Role> = None;
    for r in resources {
        let Some(this) = r.allocation_role() else {
            return Err(OperationError::NotAllocatedToRole { kind });
        };
        match role {
            None => role = Some(this),
            Some(earlier) if earlier != this => {
                return Err(OperationError::MultipleAllocationRoles {
                    kind,
                    later: this.clone(),
                    earlier: earlier.clone(),
                })
            }
            Some(_) => {}
        }
    }
    Ok(())
}
