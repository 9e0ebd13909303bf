//! `Resources`: a bag of resources merged by identity (Mesos `Resources`), with checked,
//! all-or-nothing, allocation-free arithmetic.
//!
//! Invariants of every `Resources` value: no entry has an empty value (zero scalar, no ranges,
//! no items); no two mergeable entries share an identity; no two entries are equal; all
//! entries with one name have one type; every entry passed [`Resource::validate`].

use super::resource::Resource;
use super::value::{Value, ValueError};
use super::Fixed;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why resource arithmetic was refused; the operand is left unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithError {
    /// A scalar sum does not fit in [`Fixed`].
    Overflow,
    /// Something to subtract is not there.
    NotContained,
    /// A resource has the same name as an existing one but another type.
    TypeMismatch,
    /// An indivisible (or shared) resource is already present.
    Duplicate,
    /// Ranges or set items exceed their fixed capacity.
    CapacityExceeded,
}

impl fmt::Display for ArithError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArithError::Overflow => "resource amount overflows",
            ArithError::NotContained => "resources to subtract are not all present",
            ArithError::TypeMismatch => "a resource with the same name has a different type",
            ArithError::Duplicate => "an indivisible resource is already present",
            ArithError::CapacityExceeded => "too many separate ranges or set items in one resource",
        })
    }
}

impl From<ValueError> for ArithError {
    fn from(e: ValueError) -> ArithError {
        match e {
            ValueError::TypeMismatch => ArithError::TypeMismatch,
            ValueError::Overflow => ArithError::Overflow,
            ValueError::NotContained => ArithError::NotContained,
            ValueError::CapacityExceeded => ArithError::CapacityExceeded,
        }
    }
}

/// Resources merged by identity. Equality ignores entry order.
#[derive(Clone, Debug, Default)]
pub struct Resources {
    entries: Vec<Resource>,
}

/// Where adding one resource lands. It only lives on the stack for one call; boxing the
/// large variant would allocate on the hot path.
#[allow(clippy::large_enum_variant)]
enum AddPlan {
    /// Drop it (empty value).
    Nothing,
    /// Replace entry `i`'s value with the merged value.
    Merge(usize, Value),
    /// Append it.
    Push,
}

impl Resources {
    /// No resources; does not allocate.
    pub const fn new() -> Resources {
        Resources {
            entries: Vec::new(),
        }
    }

    /// No resources, with room for `n` entries.
    pub fn with_capacity(n: usize) -> Resources {
        Resources {
            entries: Vec::with_capacity(n),
        }
    }

    /// The entries, in insertion order.
    pub fn iter(&self) -> core::slice::Iter<'_, Resource> {
        self.entries.iter()
    }

    /// The entries as a slice.
    pub fn as_slice(&self) -> &[Resource] {
        &self.entries
    }

    /// Number of entries (not of units).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries that fit without reallocating.
    pub fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    /// Works out how `r` would be added, without changing anything.
    fn plan_add(&self, r: &Resource) -> Result<AddPlan, ArithError> {
        if r.value.is_empty() {
            return Ok(AddPlan::Nothing);
        }
        let mergeable = r.is_mergeable();
        let mut target = None;
        for (i, e) in self.entries.iter().enumerate() {
            if e.name != r.name {
                continue;
            }
            if e.value_type() != r.value_type() {
                return Err(ArithError::TypeMismatch);
            }
            if mergeable {
                if target.is_none() && e.same_identity(r) {
                    target = Some(i);
                }
            } else if e == r {
                return Err(ArithError::Duplicate);
            }
        }
        match target {
            Some(i) => Ok(AddPlan::Merge(
                i,
                self.entries[i].value.checked_add(&r.value)?,
            )),
            None => Ok(AddPlan::Push),
        }
    }

    fn apply_add(&mut self, r: &Resource, plan: AddPlan) {
        match plan {
            AddPlan::Nothing => {}
            AddPlan::Merge(i, v) => self.entries[i].value = v,
            AddPlan::Push => self.entries.push(r.clone()),
        }
    }

    /// Adds one resource: merges it into the entry with the same identity (scalars add,
    /// ranges and sets unite) or appends it. An empty value is ignored. Indivisible and
    /// shared resources are never merged; adding one that is already present is `Duplicate`.
    /// On error nothing changes. Does not allocate for a plain resource when capacity suffices.
    pub fn add(&mut self, r: &Resource) -> Result<(), ArithError> {
        let plan = self.plan_add(r)?;
        self.apply_add(r, plan);
        Ok(())
    }

    /// Adds every resource of `other`, or nothing on error.
    pub fn add_all(&mut self, other: &Resources) -> Result<(), ArithError> {
        // `other` has at most one entry per identity, so each check against `self` stands
        // for the state `self` will be in when that entry is applied.
        for r in &other.entries {
            self.plan_add(r)?;
        }
        for r in &other.entries {
            let plan = self.plan_add(r).unwrap_or(AddPlan::Nothing);
            self.apply_add(r, plan);
        }
        Ok(())
    }

    /// The index of the entry `r` would be taken from, and the value left behind.
    fn plan_subtract(&self, r: &Resource) -> Result<(usize, Value), ArithError> {
        if r.is_mergeable() {
            let i = self
                .entries
                .iter()
                .position(|e| e.same_identity(r))
                .ok_or(ArithError::NotContained)?;
            let left = self.entries[i]
                .value
                .checked_sub(&r.value)
                .map_err(|e| match e {
                    ValueError::TypeMismatch => ArithError::NotContained,
                    other => other.into(),
                })?;
            Ok((i, left))
        } else {
            let i = self
                .entries
                .iter()
                .position(|e| e == r)
                .ok_or(ArithError::NotContained)?;
            Ok((i, empty_like(&r.value)))
        }
    }

    fn apply_subtract(&mut self, i: usize, left: Value) {
        if left.is_empty() {
            // `remove` keeps the order of the rest, so printing stays stable.
            self.entries.remove(i);
        } else {
            self.entries[i].value = left;
        }
    }

    /// Takes one resource away; `NotContained` if it is not all there. An entry that reaches
    /// zero or empty is removed. Indivisible and shared resources are only removed whole.
    pub fn subtract_one(&mut self, r: &Resource) -> Result<(), ArithError> {
        if r.value.is_empty() {
            return Ok(());
        }
        let (i, left) = self.plan_subtract(r)?;
        self.apply_subtract(i, left);
        Ok(())
    }

    /// Takes `other` away, or nothing on error (`NotContained` unless `self.contains(other)`;
    /// `CapacityExceeded` if punching holes in ranges would need too many ranges).
    pub fn subtract(&mut self, other: &Resources) -> Result<(), ArithError> {
        // Entries of `other` have distinct identities (or are distinct whole units), so each
        // touches a different entry of `self` and can be checked independently first.
        for r in &other.entries {
            self.plan_subtract(r)?;
        }
        for r in &other.entries {
            if let Ok((i, left)) = self.plan_subtract(r) {
                self.apply_subtract(i, left);
            }
        }
        Ok(())
    }

    /// Whether `self` holds at least one resource equal to or containing `r`.
    pub fn contains_one(&self, r: &Resource) -> bool {
        if r.value.is_empty() {
            return true;
        }
        if r.is_mergeable() {
            self.entries
                .iter()
                .any(|e| e.same_identity(r) && e.value.contains(&r.value))
        } else {
            self.entries.iter().any(|e| e == r)
        }
    }

    /// Whether `self` is a superset of `other` (Mesos `Resources::contains`).
    pub fn contains(&self, other: &Resources) -> bool {
        other.entries.iter().all(|r| self.contains_one(r))
    }

    /// Sum of the scalar entries named `name`, whatever their reservation or meta
    /// (saturating at [`Fixed::MAX`]).
    pub fn scalar(&self, name: &str) -> Fixed {
        self.entries
            .iter()
            .filter(|e| e.name.as_str() == name)
            .filter_map(Resource::scalar_value)
            .fold(Fixed::ZERO, Fixed::saturating_add)
    }

    /// Makes `self` equal to `other`, reusing its capacity (no allocation if it suffices).
    pub fn copy_from(&mut self, other: &Resources) {
        self.entries.clear();
        self.entries.extend_from_slice(&other.entries);
    }

    /// Makes `self` the entries of `other` for which `f` is true, reusing capacity.
    pub fn copy_filtered_from(&mut self, other: &Resources, mut f: impl FnMut(&Resource) -> bool) {
        self.entries.clear();
        self.entries
            .extend(other.entries.iter().filter(|r| f(r)).cloned());
    }

    /// Removes everything, keeping the capacity.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Keeps only the entries for which `f` is true.
    pub fn retain(&mut self, f: impl FnMut(&Resource) -> bool) {
        self.entries.retain(f);
    }

    /// Builds from any resources, merging as [`Resources::add`] does; checks each with
    /// [`Resource::validate`] first.
    pub fn try_from_slice(rs: &[Resource]) -> Result<Resources, FromSliceError> {
        let mut out = Resources::with_capacity(rs.len());
        for (index, r) in rs.iter().enumerate() {
            r.validate()
                .map_err(|e| FromSliceError::Invalid { index, error: e })?;
            out.add(r)
                .map_err(|e| FromSliceError::Arith { index, error: e })?;
        }
        Ok(out)
    }
}

/// The empty value of the same type, standing for "nothing left" of a whole unit.
fn empty_like(v: &Value) -> Value {
    match v {
        Value::Scalar(_) => Value::Scalar(Fixed::ZERO),
        Value::Ranges(_) => Value::Ranges(Default::default()),
        Value::Set(_) => Value::Set(Default::default()),
    }
}

/// Why a list of resources cannot form a [`Resources`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FromSliceError {
    Invalid {
        index: usize,
        error: super::ResourceError,
    },
    Arith {
        index: usize,
        error: ArithError,
    },
}

impl fmt::Display for FromSliceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FromSliceError::Invalid { index, error } => write!(f, "resource #{index}: {error}"),
            FromSliceError::Arith { index, error } => write!(f, "resource #{index}: {error}"),
        }
    }
}

impl PartialEq for Resources {
    /// Same entries in any order.
    fn eq(&self, o: &Resources) -> bool {
        self.len() == o.len() && self.entries.iter().all(|r| o.entries.contains(r))
    }
}

impl Eq for Resources {}

impl<'a> IntoIterator for &'a Resources {
    type Item = &'a Resource;
    type IntoIter = core::slice::Iter<'a, Resource>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl Serialize for Resources {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.entries.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Resources {
    /// Decodes a list of resources and re-establishes every invariant (merging duplicates),
    /// refusing lists that cannot form a `Resources`.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Vec::<Resource>::deserialize(d)?;
        Resources::try_from_slice(&raw).map_err(serde::de::Error::custom)
    }
}
