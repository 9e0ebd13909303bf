//! One resource (Mesos `Resource`): a name, a value and an optional shared `ResourceMeta`;
//! its identity (what may be merged) and divisibility.

use super::meta::{DiskSourceKind, MetaError, Reservation, ResourceMeta};
use super::value::{
    is_valid_item, ItemSet, Range, RangeSet, RangeSetError, Value, ValueType, MAX_ITEMS, MAX_RANGES,
};
use super::Fixed;
use crate::ids::Role;
use alloc::sync::Arc;
use core::fmt;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest resource name, in bytes.
pub const MAX_NAME_LEN: usize = 32;

/// A resource name: 1 to 32 bytes of `[A-Za-z0-9_./-]`.
pub type Name = heapless::String<MAX_NAME_LEN>;

/// A bounded, printable excerpt of offending input for error messages: at most 32 bytes,
/// control characters replaced by `?`, cut input ends in `...`.
pub type Snippet = heapless::String<32>;

/// Builds a [`Snippet`] of `s`.
pub fn snippet(s: &str) -> Snippet {
    let mut out = Snippet::new();
    let fits = s.len() <= 32 && !s.chars().any(char::is_control);
    for c in s.chars() {
        let c = if c.is_control() { '?' } else { c };
        if !fits && out.len() + c.len_utf8() > 29 {
            // 29 bytes plus "..." fit in 32.
            let _ = out.push_str("...");
            return out;
        }
        if out.push(c).is_err() {
            break;
        }
    }
    out
}

/// Whether `s` is a valid resource name.
pub fn is_valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
}

/// Validates and copies a resource name.
pub fn name(s: &str) -> Result<Name, ResourceError> {
    if !is_valid_name(s) {
        return Err(ResourceError::InvalidName(snippet(s)));
    }
    let mut n = Name::new();
    // `is_valid_name` bounded the length.
    let _ = n.push_str(s);
    Ok(n)
}

/// Why a resource cannot be built or decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceError {
    /// The name is not 1 to 32 bytes of `[A-Za-z0-9_./-]`.
    InvalidName(Snippet),
    /// A scalar amount is negative.
    NegativeScalar { name: Name },
    /// A range has `begin > end`.
    InvertedRange { name: Name, begin: u64, end: u64 },
    /// More than [`MAX_RANGES`] disjoint ranges.
    TooManyRanges { name: Name },
    /// A set item is empty, too long or has a forbidden character.
    InvalidItem { name: Name, item: Snippet },
    /// More than [`MAX_ITEMS`] distinct items.
    TooManyItems { name: Name },
    /// A role in the meta is invalid, or a reservation is for `*`.
    InvalidMeta { name: Name, problem: MetaError },
}

impl fmt::Display for ResourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceError::InvalidName(n) => {
                write!(f, "resource name '{n}' is not 1 to 32 characters of A-Z a-z 0-9 _ . / -")
            }
            ResourceError::NegativeScalar { name } => write!(f, "resource '{name}': the amount is negative"),
            ResourceError::InvertedRange { name, begin, end } => {
                write!(f, "resource '{name}': range {begin}-{end} ends before it begins")
            }
            ResourceError::TooManyRanges { name } => {
                write!(f, "resource '{name}': more than {MAX_RANGES} separate ranges")
            }
            ResourceError::InvalidItem { name, item } => write!(
                f,
                "resource '{name}': set item '{item}' is not 1 to 32 bytes without whitespace or ,;:()[]{{}}"
            ),
            ResourceError::TooManyItems { name } => write!(f, "resource '{name}': more than {MAX_ITEMS} set items"),
            ResourceError::InvalidMeta { name, problem } => write!(f, "resource '{name}': {problem}"),
        }
    }
}

/// One resource. `meta: None` is a plain unreserved resource, the common case; cloning
/// never allocates (the meta is shared through an `Arc`).
#[derive(Clone, Debug)]
pub struct Resource {
    pub name: Name,
    pub value: Value,
    pub meta: Option<Arc<ResourceMeta>>,
}

impl Resource {
    /// A plain scalar resource, e.g. `cpus:2`.
    pub fn scalar(name: &str, v: Fixed) -> Result<Resource, ResourceError> {
        let name = self::name(name)?;
        if v.milli() < 0 {
            return Err(ResourceError::NegativeScalar { name });
        }
        Ok(Resource {
            name,
            value: Value::Scalar(v),
            meta: None,
        })
    }

    /// A plain ranges resource, e.g. `ports:[31000-32000]`; ranges may be unsorted or overlap.
    pub fn ranges(name: &str, r: &[Range]) -> Result<Resource, ResourceError> {
        let name = self::name(name)?;
        match RangeSet::from_ranges(r) {
            Ok(s) => Ok(Resource {
                name,
                value: Value::Ranges(s),
                meta: None,
            }),
            Err(RangeSetError::Inverted(Range { begin, end })) => {
                Err(ResourceError::InvertedRange { name, begin, end })
            }
            Err(RangeSetError::CapacityExceeded) => Err(ResourceError::TooManyRanges { name }),
        }
    }

    /// A plain set resource, e.g. `zones:{a,b}`; repeated items collapse.
    pub fn set(name: &str, items: &[&str]) -> Result<Resource, ResourceError> {
        let name = self::name(name)?;
        let mut s = ItemSet::new();
        for item in items {
            match s.insert(item) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(ResourceError::InvalidItem {
                        name,
                        item: snippet(item),
                    })
                }
                Err(_) => return Err(ResourceError::TooManyItems { name }),
            }
        }
        Ok(Resource {
            name,
            value: Value::Set(s),
            meta: None,
        })
    }

    /// The same resource with `meta` (validated); a plain meta is stored as `None`.
    pub fn with_meta(mut self, meta: ResourceMeta) -> Result<Resource, ResourceError> {
        meta.validate()
            .map_err(|problem| ResourceError::InvalidMeta {
                name: self.name.clone(),
                problem,
            })?;
        self.meta = if meta.is_plain() {
            None
        } else {
            Some(Arc::new(meta))
        };
        Ok(self)
    }

    /// The same resource statically reserved for `role` (Mesos `cpus(role):2`), replacing
    /// any meta. Role `*` means unreserved.
    pub fn reserved_static(self, role: Role) -> Result<Resource, ResourceError> {
        if role.as_str() == "*" {
            return self.with_meta(ResourceMeta::default());
        }
        let meta = ResourceMeta {
            reservations: alloc::vec![Reservation::statik(role)],
            ..ResourceMeta::default()
        };
        self.with_meta(meta)
    }

    /// The meta, or `None` for a plain resource (also when a plain meta is stored).
    pub fn meta(&self) -> Option<&ResourceMeta> {
        self.meta.as_deref().filter(|m| !m.is_plain())
    }

    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        self.value.value_type()
    }

    /// The scalar amount, or `None` for ranges and sets.
    pub fn scalar_value(&self) -> Option<Fixed> {
        match self.value {
            Value::Scalar(f) => Some(f),
            _ => None,
        }
    }

    /// Equal name, type and meta: such resources merge when added (if divisible).
    pub fn same_identity(&self, o: &Resource) -> bool {
        self.name == o.name && self.value_type() == o.value_type() && meta_eq(&self.meta, &o.meta)
    }

    /// False for MOUNT and BLOCK disks and RAW disks with an id: those are consumed whole
    /// (Mesos `Resources::isDiskSource` exclusivity in `addable`/`subtractable`).
    pub fn is_divisible(&self) -> bool {
        let Some(src) = self
            .meta()
            .and_then(|m| m.disk.as_ref())
            .and_then(|d| d.source.as_ref())
        else {
            return true;
        };
        match src.kind {
            DiskSourceKind::Mount | DiskSourceKind::Block => false,
            DiskSourceKind::Raw => src.id.is_none(),
            DiskSourceKind::Path => true,
        }
    }

    /// Whether arithmetic may merge or split this resource: divisible and not shared.
    /// Shared resources (Mesos keeps a use count) are treated as whole units here.
    pub fn is_mergeable(&self) -> bool {
        self.is_divisible() && !self.meta().is_some_and(|m| m.shared)
    }

    /// The role of the top (most refined) reservation; `None` if unreserved.
    pub fn reservation_role(&self) -> Option<&Role> {
        self.meta()
            .and_then(|m| m.reservations.last())
            .map(|r| &r.role)
    }

    /// Whether the resource may be offered to `role` (Mesos `Resources::isAllocatableTo`):
    /// it is unreserved, or reserved for `role` or for an ancestor of `role` (`eng` resources
    /// go to `eng/web`). Does not allocate.
    pub fn is_allocatable_to(&self, role: &Role) -> bool {
        match self.reservation_role() {
            None => true,
            Some(r) => {
                let (r, role) = (r.as_str(), role.as_str());
                role.strip_prefix(r)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            }
        }
    }

    /// Whether this is a plain scalar: a scalar with no reservation, disk, provider, shared or
    /// revocable identity (what quota may name).
    pub fn is_plain_scalar(&self) -> bool {
        self.scalar_value().is_some() && self.meta().is_none_or(|m| m.is_plain())
    }

    /// Whether the reservation stack is empty.
    pub fn is_unreserved(&self) -> bool {
        self.meta().is_none_or(|m| m.reservations.is_empty())
    }

    /// The role the resource is allocated or offered to, if any.
    pub fn allocation_role(&self) -> Option<&Role> {
        self.meta().and_then(|m| m.allocation_role.as_ref())
    }

    /// Whether the resource is revocable.
    pub fn is_revocable(&self) -> bool {
        self.meta().is_some_and(|m| m.revocable)
    }

    /// Whether the resource is shared.
    pub fn is_shared(&self) -> bool {
        self.meta().is_some_and(|m| m.shared)
    }

    /// Checks name, value and meta as the decoder and `Resources::add` expect.
    pub fn validate(&self) -> Result<(), ResourceError> {
        if !is_valid_name(&self.name) {
            return Err(ResourceError::InvalidName(snippet(&self.name)));
        }
        match &self.value {
            Value::Scalar(f) if f.milli() < 0 => {
                return Err(ResourceError::NegativeScalar {
                    name: self.name.clone(),
                })
            }
            Value::Set(s) => {
                if let Some(bad) = s.as_slice().iter().find(|i| !is_valid_item(i)) {
                    return Err(ResourceError::InvalidItem {
                        name: self.name.clone(),
                        item: snippet(bad),
                    });
                }
            }
            _ => {}
        }
        if let Some(m) = self.meta() {
            m.validate().map_err(|problem| ResourceError::InvalidMeta {
                name: self.name.clone(),
                problem,
            })?;
        }
        Ok(())
    }
}

/// Meta equality where `None` and a plain meta are the same; pointer-equal metas are equal
/// without a deep comparison.
fn meta_eq(a: &Option<Arc<ResourceMeta>>, b: &Option<Arc<ResourceMeta>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => Arc::ptr_eq(x, y) || **x == **y,
        (Some(x), None) | (None, Some(x)) => x.is_plain(),
    }
}

impl PartialEq for Resource {
    fn eq(&self, o: &Resource) -> bool {
        self.name == o.name && self.value == o.value && meta_eq(&self.meta, &o.meta)
    }
}

impl Eq for Resource {}

/// The wire shape of a [`Resource`]; the meta travels inline, not as an `Arc`.
#[derive(Serialize)]
struct ResourceWireRef<'a> {
    name: &'a Name,
    value: &'a Value,
    meta: Option<&'a ResourceMeta>,
}

#[derive(Deserialize)]
struct ResourceWire {
    name: Name,
    value: Value,
    meta: Option<ResourceMeta>,
}

impl Serialize for Resource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ResourceWireRef {
            name: &self.name,
            value: &self.value,
            meta: self.meta(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Resource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = ResourceWire::deserialize(d)?;
        let meta = w.meta.filter(|m| !m.is_plain()).map(Arc::new);
        let r = Resource {
            name: w.name,
            value: w.value,
            meta,
        };
        r.validate().map_err(serde::de::Error::custom)?;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::meta::{DiskInfo, DiskSource};
    use alloc::string::{String, ToString};

    fn disk(kind: DiskSourceKind, id: Option<&str>) -> Resource {
        let source = DiskSource {
            kind,
            id: id.map(String::from),
            profile: None,
            metadata: alloc::vec![],
            root: None,
        };
        let meta = ResourceMeta {
            disk: Some(DiskInfo {
                source: Some(source),
                ..DiskInfo::default()
            }),
            ..Default::default()
        };
        Resource::scalar("disk", Fixed::from_milli(100_000))
            .unwrap()
            .with_meta(meta)
            .unwrap()
    }

    #[test]
    fn constructors_validate_names_values_and_items() {
        assert!(Resource::scalar("cpus", Fixed::from_milli(500)).is_ok());
        assert!(matches!(
            Resource::scalar("cp us", Fixed::ZERO),
            Err(ResourceError::InvalidName(_))
        ));
        assert!(matches!(
            Resource::scalar("", Fixed::ZERO),
            Err(ResourceError::InvalidName(_))
        ));
        assert!(matches!(
            Resource::scalar(&"x".repeat(33), Fixed::ZERO),
            Err(ResourceError::InvalidName(_))
        ));
        assert!(matches!(
            Resource::scalar("cpus", Fixed::from_milli(-1)),
            Err(ResourceError::NegativeScalar { .. })
        ));
        assert!(matches!(
            Resource::ranges("ports", &[Range::new(9, 8)]),
            Err(ResourceError::InvertedRange {
                begin: 9,
                end: 8,
                ..
            })
        ));
        assert!(matches!(
            Resource::set("zones", &["a b"]),
            Err(ResourceError::InvalidItem { .. })
        ));
        let many = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        assert!(matches!(
            Resource::set("zones", &many),
            Err(ResourceError::TooManyItems { .. })
        ));
        assert_eq!(
            Resource::scalar("cpus", Fixed::from_milli(-1))
                .unwrap_err()
                .to_string(),
            "resource 'cpus': the amount is negative"
        );
    }

    #[test]
    fn identity_ignores_value_and_treats_plain_meta_as_none() {
        let a = Resource::scalar("cpus", Fixed::from_milli(1)).unwrap();
        let b = Resource::scalar("cpus", Fixed::from_milli(2)).unwrap();
        assert!(a.same_identity(&b));
        let mut c = b.clone();
        c.meta = Some(Arc::new(ResourceMeta::default()));
        assert!(a.same_identity(&c));
        assert_eq!(b, c);
        let r = a.clone().reserved_static(Role::from("eng")).unwrap();
        assert!(!a.same_identity(&r));
        assert_eq!(r.reservation_role().map(Role::as_str), Some("eng"));
        assert!(!r.is_unreserved());
        assert!(a
            .clone()
            .reserved_static(Role::from("*"))
            .unwrap()
            .is_unreserved());
        assert!(a.clone().reserved_static(Role::from("a//b")).is_err());
    }

    #[test]
    fn reserved_resources_go_to_the_role_and_its_descendants() {
        let plain = Resource::scalar("cpus", Fixed::from_milli(1)).unwrap();
        let eng = plain.clone().reserved_static(Role::from("eng")).unwrap();
        assert!(plain.is_allocatable_to(&Role::from("ops")));
        assert!(eng.is_allocatable_to(&Role::from("eng")));
        assert!(eng.is_allocatable_to(&Role::from("eng/web")));
        assert!(!eng.is_allocatable_to(&Role::from("engine")));
        assert!(!eng.is_allocatable_to(&Role::from("ops")));
        assert!(!eng.is_allocatable_to(&Role::from("*")));
    }

    #[test]
    fn whole_disks_are_indivisible() {
        assert!(!disk(DiskSourceKind::Mount, None).is_divisible());
        assert!(!disk(DiskSourceKind::Block, None).is_divisible());
        assert!(!disk(DiskSourceKind::Raw, Some("vol-1")).is_divisible());
        assert!(disk(DiskSourceKind::Raw, None).is_divisible());
        assert!(disk(DiskSourceKind::Path, None).is_divisible());
        assert!(Resource::scalar("disk", Fixed::ZERO)
            .unwrap()
            .is_divisible());
    }

    #[test]
    fn snippets_are_bounded_and_printable() {
        assert_eq!(snippet("a\nb").as_str(), "a?b");
        let long = snippet(&"é".repeat(40));
        assert!(long.len() <= 32 && long.ends_with("..."));
        assert_eq!(snippet(&"x".repeat(32)).as_str(), "x".repeat(32));
    }

    #[test]
    fn postcard_round_trip_keeps_meta_and_refuses_bad_names() {
        let r = disk(DiskSourceKind::Mount, Some("m1"));
        let bytes = postcard::to_allocvec(&r).unwrap();
        assert_eq!(postcard::from_bytes::<Resource>(&bytes).unwrap(), r);
        let bad = Resource {
            name: Name::try_from("bad name").unwrap(),
            ..r
        };
        let bytes = postcard::to_allocvec(&bad).unwrap();
        assert!(postcard::from_bytes::<Resource>(&bytes).is_err());
    }
}
