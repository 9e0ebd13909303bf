//! Resource values (Mesos `Value`): a scalar, a normalized set of port-like ranges, or a
//! normalized set of text items, each with its capacity in the type so cloning never allocates.

use super::fixed::Fixed;
use core::fmt;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Most disjoint ranges one resource may hold after merging (Mesos has no limit; agents
/// typically offer one or two port ranges).
pub const MAX_RANGES: usize = 16;
/// Most items one set resource may hold.
pub const MAX_ITEMS: usize = 8;
/// Longest set item, in bytes.
pub const MAX_ITEM_LEN: usize = 32;

/// One set item: 1 to [`MAX_ITEM_LEN`] bytes, no whitespace, control characters or
/// `,;:()[]{}` (those would break the text form).
/// Lengths are stored as `u8` to keep [`Value`] small.
pub type Item = heapless::String<MAX_ITEM_LEN, u8>;

/// An inclusive range `begin..=end` (Mesos `Value.Range`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Range {
    pub begin: u64,
    pub end: u64,
}

impl Range {
    /// The range `begin..=end`.
    pub const fn new(begin: u64, end: u64) -> Range {
        Range { begin, end }
    }

    /// How many values the range holds (`u64::MAX + 1` saturates).
    pub fn count(self) -> u64 {
        (self.end - self.begin).saturating_add(1)
    }
}

/// The kind of a [`Value`] (Mesos `Value.Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ValueType {
    Scalar,
    Ranges,
    Set,
}

impl ValueType {
    /// The Mesos enum name: `SCALAR`, `RANGES`, `SET`.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Scalar => "SCALAR",
            ValueType::Ranges => "RANGES",
            ValueType::Set => "SET",
        }
    }
}

/// The result would not fit in the fixed capacity of a [`RangeSet`] or [`ItemSet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityExceeded;

impl fmt::Display for CapacityExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "more than {MAX_RANGES} ranges or {MAX_ITEMS} set items")
    }
}

/// Why ranges cannot form a [`RangeSet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeSetError {
    /// A range has `begin > end`.
    Inverted(Range),
    /// More than [`MAX_RANGES`] disjoint ranges remain after merging.
    CapacityExceeded,
}

/// Sorted, disjoint, non-adjacent ranges: `[1-2, 3-4]` is stored as `[1-4]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RangeSet(heapless::Vec<Range, MAX_RANGES, u8>);

impl RangeSet {
    /// The empty set.
    pub const fn new() -> RangeSet {
        RangeSet(heapless::Vec::new())
    }

    /// Normalizes any ranges (unsorted, overlapping, adjacent).
    pub fn from_ranges(ranges: &[Range]) -> Result<RangeSet, RangeSetError> {
        let mut s = RangeSet::new();
        for &r in ranges {
            if r.begin > r.end {
                return Err(RangeSetError::Inverted(r));
            }
            s.insert(r).map_err(|_| RangeSetError::CapacityExceeded)?;
        }
        Ok(s)
    }

    /// The ranges, sorted and disjoint.
    pub fn as_slice(&self) -> &[Range] {
        &self.0
    }

    /// Whether no value is in the set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many values the set holds (saturating).
    pub fn count(&self) -> u64 {
        self.0.iter().fold(0u64, |n, r| n.saturating_add(r.count()))
    }

    /// Whether `v` is in the set.
    pub fn contains_value(&self, v: u64) -> bool {
        self.0.iter().any(|r| r.begin <= v && v <= r.end)
    }

    /// Adds one range (`begin <= end` is the caller's duty; an inverted range is ignored).
    pub fn insert(&mut self, r: Range) -> Result<(), CapacityExceeded> {
        if r.begin > r.end {
            return Ok(());
        }
        let mut one = RangeSet::new();
        // A fresh set has room for one range.
        let _ = one.0.push(r);
        *self = self.union(&one)?;
        Ok(())
    }

    /// Every value of `other` is in `self`.
    pub fn contains(&self, other: &RangeSet) -> bool {
        // Both sides are merged, so each range of `other` must sit inside one range of `self`.
        let mut i = 0;
        for o in &other.0 {
            while i < self.0.len() && self.0[i].end < o.begin {
                i += 1;
            }
            match self.0.get(i) {
                Some(s) if s.begin <= o.begin && o.end <= s.end => {}
                _ => return false,
            }
        }
        true
    }

    /// The union, merged.
    pub fn union(&self, other: &RangeSet) -> Result<RangeSet, CapacityExceeded> {
        let mut out = RangeSet::new();
        let (a, b) = (&self.0, &other.0);
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let next = if j >= b.len() || (i < a.len() && a[i].begin <= b[j].begin) {
                i += 1;
                a[i - 1]
            } else {
                j += 1;
                b[j - 1]
            };
            out.push_sorted(next)?;
        }
        Ok(out)
    }

    /// The values of `self` not in `other` (`other` need not be contained).
    pub fn difference(&self, other: &RangeSet) -> Result<RangeSet, CapacityExceeded> {
        let mut out = RangeSet::new();
        let b = &other.0;
        let mut j = 0;
        for r in &self.0 {
            while j < b.len() && b[j].end < r.begin {
                j += 1;
            }
            let mut start = r.begin;
            let mut covered = false;
            let mut k = j;
            while k < b.len() && b[k].begin <= r.end {
                let s = b[k];
                if s.begin > start {
                    out.push_sorted(Range::new(start, s.begin - 1))?;
                }
                if s.end >= r.end {
                    covered = true;
                    break;
                }
                // `s.end < r.end <= u64::MAX`, so this cannot overflow.
                start = s.end + 1;
                k += 1;
            }
            if !covered {
                out.push_sorted(Range::new(start, r.end))?;
            }
        }
        Ok(out)
    }

    /// Appends a range that begins no earlier than the last one, merging overlap and adjacency.
    fn push_sorted(&mut self, r: Range) -> Result<(), CapacityExceeded> {
        if let Some(last) = self.0.last_mut() {
            if r.begin <= last.end.saturating_add(1) {
                last.end = last.end.max(r.end);
                return Ok(());
            }
        }
        self.0.push(r).map_err(|_| CapacityExceeded)
    }

    /// Whether the ranges are sorted, valid, disjoint and non-adjacent.
    fn is_normalized(&self) -> bool {
        self.0.iter().all(|r| r.begin <= r.end)
            && self
                .0
                .windows(2)
                .all(|w| w[0].end.saturating_add(1) < w[1].begin && w[0].end < u64::MAX)
    }
}

impl Serialize for RangeSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RangeSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = heapless::Vec::<Range, MAX_RANGES, u8>::deserialize(d)?;
        let s = RangeSet(v);
        if !s.is_normalized() {
            return Err(serde::de::Error::custom(
                "ranges are not sorted, disjoint and merged",
            ));
        }
        Ok(s)
    }
}

/// Whether `s` is a valid set item.
pub fn is_valid_item(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ITEM_LEN
        && s.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !",;:()[]{}".contains(c))
}

/// Sorted, deduplicated text items (Mesos `Value.Set`).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemSet(heapless::Vec<Item, MAX_ITEMS, u8>);

impl ItemSet {
    /// The empty set.
    pub const fn new() -> ItemSet {
        ItemSet(heapless::Vec::new())
    }

    /// The items, sorted.
    pub fn as_slice(&self) -> &[Item] {
        &self.0
    }

    /// Whether the set has no items.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether `item` is in the set.
    pub fn contains_item(&self, item: &str) -> bool {
        self.0.binary_search_by(|i| i.as_str().cmp(item)).is_ok()
    }

    /// Adds `item` (a no-op if present). `Ok(false)` if `item` is not a valid item.
    pub fn insert(&mut self, item: &str) -> Result<bool, CapacityExceeded> {
        if !is_valid_item(item) {
            return Ok(false);
        }
        match self.0.binary_search_by(|i| i.as_str().cmp(item)) {
            Ok(_) => Ok(true),
            Err(pos) => {
                let mut s = Item::new();
                // `is_valid_item` bounded the length.
                let _ = s.push_str(item);
                self.0.insert(pos, s).map_err(|_| CapacityExceeded)?;
                Ok(true)
            }
        }
    }

    /// Every item of `other` is in `self`.
    pub fn contains(&self, other: &ItemSet) -> bool {
        other.0.iter().all(|i| self.contains_item(i))
    }

    /// The union.
    pub fn union(&self, other: &ItemSet) -> Result<ItemSet, CapacityExceeded> {
        let mut out = self.clone();
        for i in &other.0 {
            out.insert(i)?;
        }
        Ok(out)
    }

    /// The items of `self` not in `other`.
    pub fn difference(&self, other: &ItemSet) -> ItemSet {
        let mut out = self.clone();
        out.0.retain(|i| !other.contains_item(i));
        out
    }

    fn is_normalized(&self) -> bool {
        self.0.iter().all(|i| is_valid_item(i)) && self.0.windows(2).all(|w| w[0] < w[1])
    }
}

impl Serialize for ItemSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ItemSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = heapless::Vec::<Item, MAX_ITEMS, u8>::deserialize(d)?;
        let s = ItemSet(v);
        if !s.is_normalized() {
            return Err(serde::de::Error::custom(
                "set items are invalid, unsorted or repeated",
            ));
        }
        Ok(s)
    }
}

/// A resource's value (Mesos `Value` restricted to the three resource types).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Value {
    Scalar(Fixed),
    Ranges(RangeSet),
    Set(ItemSet),
}

/// Why two values cannot be combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueError {
    TypeMismatch,
    Overflow,
    NotContained,
    CapacityExceeded,
}

impl Value {
    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Scalar(_) => ValueType::Scalar,
            Value::Ranges(_) => ValueType::Ranges,
            Value::Set(_) => ValueType::Set,
        }
    }

    /// A zero scalar, no ranges or no items: such a resource is dropped from `Resources`.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Scalar(f) => f.is_zero(),
            Value::Ranges(r) => r.is_empty(),
            Value::Set(s) => s.is_empty(),
        }
    }

    /// `self` is at least `other` (scalar `>=`, ranges and sets superset); false across types.
    pub fn contains(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => b.milli() >= 0 && a >= b,
            (Value::Ranges(a), Value::Ranges(b)) => a.contains(b),
            (Value::Set(a), Value::Set(b)) => a.contains(b),
            _ => false,
        }
    }

    /// The sum (scalar) or union (ranges, sets). A negative scalar operand (only
    /// constructible through [`Fixed::from_milli`]) is refused as `Overflow`.
    pub(crate) fn checked_add(&self, other: &Value) -> Result<Value, ValueError> {
        match (self, other) {
            (Value::Scalar(_), Value::Scalar(b)) if b.milli() < 0 => Err(ValueError::Overflow),
            (Value::Scalar(a), Value::Scalar(b)) => a
                .checked_add(*b)
                .map(Value::Scalar)
                .ok_or(ValueError::Overflow),
            (Value::Ranges(a), Value::Ranges(b)) => a
                .union(b)
                .map(Value::Ranges)
                .map_err(|_| ValueError::CapacityExceeded),
            (Value::Set(a), Value::Set(b)) => a
                .union(b)
                .map(Value::Set)
                .map_err(|_| ValueError::CapacityExceeded),
            _ => Err(ValueError::TypeMismatch),
        }
    }

    /// The difference; `NotContained` unless `self` contains `other` (a negative scalar
    /// operand is never contained).
    pub(crate) fn checked_sub(&self, other: &Value) -> Result<Value, ValueError> {
        match (self, other) {
            (Value::Scalar(_), Value::Scalar(b)) if b.milli() < 0 => Err(ValueError::NotContained),
            (Value::Scalar(a), Value::Scalar(b)) => a
                .checked_sub(*b)
                .map(Value::Scalar)
                .ok_or(ValueError::NotContained),
            (Value::Ranges(a), Value::Ranges(b)) => {
                if !a.contains(b) {
                    return Err(ValueError::NotContained);
                }
                a.difference(b)
                    .map(Value::Ranges)
                    .map_err(|_| ValueError::CapacityExceeded)
            }
            (Value::Set(a), Value::Set(b)) => {
                if !a.contains(b) {
                    return Err(ValueError::NotContained);
                }
                Ok(Value::Set(a.difference(b)))
            }
            _ => Err(ValueError::TypeMismatch),
        }
    }
}

impl fmt::Display for Value {
    /// Mesos' text form: `2`, `[31000-32000, 33000-34000]`, `{a, b}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Scalar(x) => write!(f, "{x}"),
            Value::Ranges(r) => {
                f.write_str("[")?;
                for (i, r) in r.as_slice().iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}-{}", r.begin, r.end)?;
                }
                f.write_str("]")
            }
            Value::Set(s) => {
                f.write_str("{")?;
                for (i, item) in s.as_slice().iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(item)?;
                }
                f.write_str("}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(r: &[(u64, u64)]) -> RangeSet {
        let v: alloc::vec::Vec<Range> = r.iter().map(|&(b, e)| Range::new(b, e)).collect();
        RangeSet::from_ranges(&v).unwrap()
    }

    #[test]
    fn ranges_merge_overlap_and_adjacency() {
        assert_eq!(
            rs(&[(5, 9), (1, 2), (3, 4)]).as_slice(),
            &[Range::new(1, 9)]
        );
        assert_eq!(
            rs(&[(1, 5), (2, 3), (10, 12)]).as_slice(),
            &[Range::new(1, 5), Range::new(10, 12)]
        );
        assert_eq!(
            rs(&[(u64::MAX, u64::MAX), (0, u64::MAX - 1)]).as_slice(),
            &[Range::new(0, u64::MAX)]
        );
        assert_eq!(
            RangeSet::from_ranges(&[Range::new(3, 2)]),
            Err(RangeSetError::Inverted(Range::new(3, 2)))
        );
    }

    #[test]
    fn range_difference_splits_and_respects_capacity() {
        let a = rs(&[(1, 100)]);
        assert_eq!(
            a.difference(&rs(&[(50, 50)])).unwrap(),
            rs(&[(1, 49), (51, 100)])
        );
        assert_eq!(a.difference(&rs(&[(0, 200)])).unwrap(), RangeSet::new());
        assert_eq!(
            a.difference(&rs(&[(1, 1), (100, 100)])).unwrap(),
            rs(&[(2, 99)])
        );
        let full = rs(&[(0, u64::MAX)]);
        assert_eq!(
            full.difference(&rs(&[(u64::MAX, u64::MAX)])).unwrap(),
            rs(&[(0, u64::MAX - 1)])
        );
        let holes: alloc::vec::Vec<(u64, u64)> =
            (1..=MAX_RANGES as u64).map(|i| (i * 10, i * 10)).collect();
        assert_eq!(
            rs(&[(0, 1000)]).difference(&rs(&holes)),
            Err(CapacityExceeded)
        );
        assert_eq!(
            rs(&[(10, 1000)])
                .difference(&rs(&holes))
                .unwrap()
                .as_slice()
                .len(),
            MAX_RANGES
        );
    }

    #[test]
    fn range_containment_needs_one_covering_range() {
        let a = rs(&[(1, 10), (20, 30)]);
        assert!(a.contains(&rs(&[(2, 3), (25, 30)])));
        assert!(!a.contains(&rs(&[(9, 21)])));
        assert!(!a.contains(&rs(&[(31, 31)])));
        assert!(a.contains(&RangeSet::new()));
    }

    #[test]
    fn items_stay_sorted_unique_and_bounded() {
        let mut s = ItemSet::new();
        assert_eq!(s.insert("b"), Ok(true));
        assert_eq!(s.insert("a"), Ok(true));
        assert_eq!(s.insert("b"), Ok(true));
        assert_eq!(s.insert("bad item"), Ok(false));
        assert_eq!(
            s.as_slice()
                .iter()
                .map(|i| i.as_str())
                .collect::<alloc::vec::Vec<_>>(),
            ["a", "b"]
        );
        for i in 0..6 {
            s.insert(&alloc::format!("x{i}")).unwrap();
        }
        assert_eq!(s.insert("zz"), Err(CapacityExceeded));
    }

    #[test]
    fn decoding_refuses_bad_items() {
        for bad in [
            alloc::vec!["b", "a"],
            alloc::vec!["a", "a"],
            alloc::vec!["a b"],
            alloc::vec![""],
        ] {
            let bytes = postcard::to_allocvec(&bad).unwrap();
            assert!(postcard::from_bytes::<ItemSet>(&bytes).is_err(), "{bad:?}");
        }
        let long = alloc::vec!["x".repeat(33)];
        assert!(postcard::from_bytes::<ItemSet>(&postcard::to_allocvec(&long).unwrap()).is_err());
        let many: alloc::vec::Vec<alloc::string::String> =
            (0..9).map(|i| alloc::format!("i{i}")).collect();
        assert!(postcard::from_bytes::<ItemSet>(&postcard::to_allocvec(&many).unwrap()).is_err());
        let ok = alloc::vec!["a", "b"];
        let s = postcard::from_bytes::<ItemSet>(&postcard::to_allocvec(&ok).unwrap()).unwrap();
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn negative_scalars_are_never_added_or_contained() {
        let one = Value::Scalar(Fixed::from_milli(1000));
        let neg = Value::Scalar(Fixed::from_milli(-1));
        assert_eq!(one.checked_add(&neg), Err(ValueError::Overflow));
        assert_eq!(one.checked_sub(&neg), Err(ValueError::NotContained));
        assert!(!one.contains(&neg));
    }

    #[test]
    fn decoding_refuses_unnormalized_ranges() {
        let raw: heapless::Vec<Range, 4> =
            heapless::Vec::from_slice(&[Range::new(5, 6), Range::new(1, 2)]).unwrap();
        let bytes = postcard::to_allocvec(&raw).unwrap();
        assert!(postcard::from_bytes::<RangeSet>(&bytes).is_err());
        let too_many: alloc::vec::Vec<Range> =
            (0..17u64).map(|i| Range::new(i * 3, i * 3)).collect();
        let bytes = postcard::to_allocvec(&too_many).unwrap();
        assert!(postcard::from_bytes::<RangeSet>(&bytes).is_err());
        let ok = rs(&[(1, 2), (5, 6)]);
        let bytes = postcard::to_allocvec(&ok).unwrap();
        assert_eq!(postcard::from_bytes::<RangeSet>(&bytes).unwrap(), ok);
    }
}
