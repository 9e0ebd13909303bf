//! Resources with Mesos' full identity: scalar (3-decimal fixed point), ranges and sets,
//! reservation stack, allocation role, disk source, provider id, shared, revocable.
//!
//! Layout: [`fixed`] (scalar amounts), [`value`] (scalar, ranges, sets), [`meta`] (identity
//! beyond the name, role validation), [`resource`] (one resource), [`collection`]
//! (`Resources` arithmetic), [`text`] (Mesos' `cpus:2;ports:[1-2]` text form).
//!
//! Arithmetic merges only resources of equal identity (name, type and whole meta), never
//! goes negative, never overflows silently, and is all-or-nothing. It does not allocate on
//! plain resources when the `Vec` has room.

pub mod collection;
pub mod fixed;
pub mod meta;
pub mod operations;
pub mod resource;
pub mod text;
pub mod value;

pub use collection::{ArithError, FromSliceError, Resources};
pub use fixed::Fixed;
pub use meta::{
    validate_role, DiskInfo, DiskSource, DiskSourceKind, MetaError, Persistence, Reservation,
    ReservationKind, ResourceMeta, RoleError, MAX_ROLE_LEN,
};
pub use resource::{Name, Resource, ResourceError, Snippet, MAX_NAME_LEN};
pub use text::ParseError;
pub use value::{
    CapacityExceeded, Item, ItemSet, Range, RangeSet, RangeSetError, Value, ValueType, MAX_ITEMS,
    MAX_ITEM_LEN, MAX_RANGES,
};

#[cfg(test)]
mod tests;
