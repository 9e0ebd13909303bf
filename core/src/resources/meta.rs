//! A resource's identity beyond name and type: the reservation stack, allocation role,
//! disk info, resource provider, shared and revocable flags; and Mesos role validation.

use crate::ids::Role;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

/// Longest role accepted (Mesos has no limit; ours keeps input bounded).
pub const MAX_ROLE_LEN: usize = 255;

/// Whether a reservation came from the agent's flags or from an operation (Mesos
/// `Resource.ReservationInfo.Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ReservationKind {
    /// Declared by the agent (`--resources=cpus(eng):2`).
    Static,
    /// Made by a `RESERVE` operation or the operator API.
    Dynamic,
}

/// One level of the reservation stack (Mesos `Resource.ReservationInfo`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reservation {
    pub kind: ReservationKind,
    pub role: Role,
    pub principal: Option<String>,
    pub labels: Vec<(String, String)>,
}

impl Reservation {
    /// A static reservation for `role` with no principal or labels.
    pub fn statik(role: Role) -> Reservation {
        Reservation {
            kind: ReservationKind::Static,
            role,
            principal: None,
            labels: Vec::new(),
        }
    }

    /// Whether this is a static reservation with no principal or labels, the only kind the
    /// text form `name(role):value` can express.
    pub fn is_plain_static(&self) -> bool {
        self.kind == ReservationKind::Static && self.principal.is_none() && self.labels.is_empty()
    }
}

/// The kind of a disk resource's backing (Mesos `Resource.DiskInfo.Source.Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DiskSourceKind {
    /// Unformatted storage from a resource provider (a pool slice, or a volume if it has an id).
    Raw,
    /// A directory on a shared filesystem; divisible.
    Path,
    /// A whole mounted filesystem; indivisible.
    Mount,
    /// A whole block device; indivisible.
    Block,
}

impl DiskSourceKind {
    /// The Mesos enum name.
    pub fn name(self) -> &'static str {
        match self {
            DiskSourceKind::Raw => "RAW",
            DiskSourceKind::Path => "PATH",
            DiskSourceKind::Mount => "MOUNT",
            DiskSourceKind::Block => "BLOCK",
        }
    }
}

/// Where a disk resource comes from (Mesos `Resource.DiskInfo.Source`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DiskSource {
    pub kind: DiskSourceKind,
    pub id: Option<String>,
    pub profile: Option<String>,
    pub metadata: Vec<(String, String)>,
    /// `path.root` or `mount.root`; may be relative to the agent work dir (MESOS-7550).
    pub root: Option<String>,
}

/// A persistent volume's identity (Mesos `Resource.DiskInfo.Persistence`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Persistence {
    pub id: String,
    pub principal: Option<String>,
}

/// Disk-specific identity (Mesos `Resource.DiskInfo`; the `Volume` is flattened into
/// `container_path` and `read_only`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DiskInfo {
    pub persistence: Option<Persistence>,
    pub container_path: Option<String>,
    pub read_only: bool,
    pub source: Option<DiskSource>,
}

/// Everything that makes a resource more than a plain unreserved `name:value`.
/// `ResourceMeta::default()` means a plain resource and compares equal to no meta at all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ResourceMeta {
    /// The reservation stack, bottom (agent-level) first; empty means unreserved.
    pub reservations: Vec<Reservation>,
    /// Mesos `Resource.AllocationInfo.role`: the role the resource is offered or allocated to.
    pub allocation_role: Option<Role>,
    pub disk: Option<DiskInfo>,
    /// Mesos `Resource.provider_id`.
    pub provider_id: Option<String>,
    /// Mesos `Resource.SharedInfo` present.
    pub shared: bool,
    /// Mesos `Resource.RevocableInfo` present.
    pub revocable: bool,
}

impl ResourceMeta {
    /// Whether this meta says nothing (equal to `ResourceMeta::default()`).
    pub fn is_plain(&self) -> bool {
        self.reservations.is_empty()
            && self.allocation_role.is_none()
            && self.disk.is_none()
            && self.provider_id.is_none()
            && !self.shared
            && !self.revocable
    }

    /// Checks every role: reservation roles must be valid and not `*`; the allocation role
    /// must be valid (`*` allowed).
    pub fn validate(&self) -> Result<(), MetaError> {
        for r in &self.reservations {
            if r.role.as_str() == "*" {
                return Err(MetaError::ReservedForStar);
            }
            validate_role(r.role.as_str()).map_err(MetaError::Role)?;
        }
        if let Some(r) = &self.allocation_role {
            validate_role(r.as_str()).map_err(MetaError::Role)?;
        }
        Ok(())
    }
}

/// Why a [`ResourceMeta`] is not acceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaError {
    /// A role is not a valid Mesos role.
    Role(RoleError),
    /// A reservation names role `*`, which means unreserved.
    ReservedForStar,
}

impl fmt::Display for MetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetaError::Role(e) => write!(f, "a role {e}"),
            MetaError::ReservedForStar => {
                f.write_str("a reservation is for role '*', which cannot be reserved for")
            }
        }
    }
}

/// Why a string is not a valid Mesos role (`A@1.5.0:src/common/roles.cpp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleError {
    Empty,
    TooLong,
    /// Starts or ends with `/`.
    EdgeSlash,
    /// Contains `//`.
    DoubleSlash,
    /// A `/`-separated component is `.`, `..` or `*`.
    ReservedComponent,
    /// A component starts with `-`.
    LeadingDash,
    /// Contains whitespace or a control character.
    SpaceOrControl,
}

impl fmt::Display for RoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RoleError::Empty => "is empty",
            RoleError::TooLong => "is longer than 255 bytes",
            RoleError::EdgeSlash => "starts or ends with '/'",
            RoleError::DoubleSlash => "contains '//'",
            RoleError::ReservedComponent => "has a component '.', '..' or '*'",
            RoleError::LeadingDash => "has a component starting with '-'",
            RoleError::SpaceOrControl => "contains whitespace or control characters",
        })
    }
}

/// Checks a role name the way Mesos does: `*` alone is valid; otherwise not empty, no
/// leading or trailing `/`, no `//`, no component `.`, `..` or `*` or starting with `-`, no
/// whitespace or control characters; and (our limit) at most [`MAX_ROLE_LEN`] bytes.
pub fn validate_role(role: &str) -> Result<(), RoleError> {
    if role == "*" {
        return Ok(());
    }
    if role.is_empty() {
        return Err(RoleError::Empty);
    }
    if role.len() > MAX_ROLE_LEN {
        return Err(RoleError::TooLong);
    }
    if role.starts_with('/') || role.ends_with('/') {
        return Err(RoleError::EdgeSlash);
    }
    if role.contains("//") {
        return Err(RoleError::DoubleSlash);
    }
    for c in role.split('/') {
        if c == "." || c == ".." || c == "*" {
            return Err(RoleError::ReservedComponent);
        }
        if c.starts_with('-') {
            return Err(RoleError::LeadingDash);
        }
    }
    if role.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(RoleError::SpaceOrControl);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_validated_like_mesos() {
        for ok in ["*", "eng", "eng/frontend", "a.b", "a-b", "x*y", "..a"] {
            assert_eq!(validate_role(ok), Ok(()), "{ok}");
        }
        let bad = [
            ("", RoleError::Empty),
            ("/eng", RoleError::EdgeSlash),
            ("eng/", RoleError::EdgeSlash),
            ("a//b", RoleError::DoubleSlash),
            (".", RoleError::ReservedComponent),
            ("..", RoleError::ReservedComponent),
            ("a/*", RoleError::ReservedComponent),
            ("a/../b", RoleError::ReservedComponent),
            ("-a", RoleError::LeadingDash),
            ("a/-b", RoleError::LeadingDash),
            ("a b", RoleError::SpaceOrControl),
            ("a\u{8}", RoleError::SpaceOrControl),
        ];
        for (role, want) in bad {
            assert_eq!(validate_role(role), Err(want), "{role:?}");
        }
        assert_eq!(validate_role(&"r".repeat(256)), Err(RoleError::TooLong));
    }

    #[test]
    fn default_meta_is_plain() {
        assert!(ResourceMeta::default().is_plain());
        let m = ResourceMeta {
            revocable: true,
            ..ResourceMeta::default()
        };
        assert!(!m.is_plain());
    }

    #[test]
    fn meta_refuses_reservations_for_star() {
        let m = ResourceMeta {
            reservations: alloc::vec![Reservation::statik(Role::from("*"))],
            ..Default::default()
        };
        assert_eq!(m.validate(), Err(MetaError::ReservedForStar));
        let m = ResourceMeta {
            allocation_role: Some(Role::from("*")),
            ..Default::default()
        };
        assert_eq!(m.validate(), Ok(()));
    }
}
