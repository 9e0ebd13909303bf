//! Weighted DRF shares (Mesos `DRFSorter::calculateShare`): the scalar-name table, per-client
//! scalar sums, and exact share comparison by integer cross-multiplication.
//!
//! A client (a role or a framework) has a dominant share: the largest `allocated / total` over
//! the scalar names present in the cluster total, divided by the client's weight. Shares are
//! kept as a fraction `num / den` and compared without floats, so two runs with the same
//! inputs always sort the same way.

use crate::resources::{Resource, Resources, Value};
use core::cmp::Ordering;

/// Most distinct scalar resource names that count towards fair sharing.
///
/// Full policy: names first seen after the table is full are ignored for DRF shares (as if
/// listed in Mesos' `--fair_sharing_excluded_resource_names`); they are still offered.
pub const MAX_SCALAR_NAMES: usize = 16;

/// The scalar names seen in agent totals, in first-seen order; a name keeps its index forever.
#[derive(Debug, Default)]
pub(super) struct ScalarNames {
    names: heapless::Vec<heapless::String<32>, MAX_SCALAR_NAMES>,
}

impl ScalarNames {
    /// The index of `name`, if it is in the table.
    pub(super) fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n.as_str() == name)
    }

    /// The index of `name`, adding it if there is room; `None` when the table is full.
    pub(super) fn intern(&mut self, name: &str) -> Option<usize> {
        if let Some(i) = self.index(name) {
            return Some(i);
        }
        let mut s = heapless::String::new();
        s.push_str(name).ok()?;
        self.names.push(s).ok()?;
        Some(self.names.len() - 1)
    }

    /// Adds every scalar name of `rs` that fits.
    pub(super) fn intern_all(&mut self, rs: &Resources) {
        for r in rs.iter() {
            if matches!(r.value, Value::Scalar(_)) {
                let _ = self.intern(&r.name);
            }
        }
    }
}

/// Scalar amounts in thousandths, one slot per interned name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Sums(pub(super) [i64; MAX_SCALAR_NAMES]);

impl Sums {
    /// Adds (`sign = 1`) or subtracts (`sign = -1`) the scalars of `rs` whose name is known.
    pub(super) fn apply(&mut self, names: &ScalarNames, rs: &Resources, sign: i64) {
        for r in rs.iter() {
            if let Value::Scalar(f) = r.value {
                if let Some(i) = names.index(&r.name) {
                    self.0[i] = self.0[i].saturating_add(sign.saturating_mul(f.milli()));
                }
            }
        }
    }

    /// Like [`Sums::apply`], for the resources of `rs` that match `pred` only.
    pub(super) fn apply_where(
        &mut self,
        names: &ScalarNames,
        rs: &Resources,
        sign: i64,
        pred: impl Fn(&Resource) -> bool,
    ) {
        for r in rs.iter() {
            if let Value::Scalar(f) = r.value {
                if !pred(r) {
                    continue;
                }
                if let Some(i) = names.index(&r.name) {
                    self.0[i] = self.0[i].saturating_add(sign.saturating_mul(f.milli()));
                }
            }
        }
    }

    /// The amount for name index `i`.
    pub(super) fn get(&self, i: usize) -> i64 {
        self.0[i]
    }
}

/// A dominant share before weighting: `num / den`, with `den > 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Share {
    num: u64,
    den: u64,
}

impl Default for Share {
    fn default() -> Share {
        Share::ZERO
    }
}

impl Share {
    pub(super) const ZERO: Share = Share { num: 0, den: 1 };

    /// The largest `allocated / total` over the names with a positive total.
    pub(super) fn dominant(allocated: &Sums, total: &Sums) -> Share {
        let mut best = Share::ZERO;
        for i in 0..MAX_SCALAR_NAMES {
            let den = total.get(i);
            if den <= 0 {
                continue;
            }
            let s = Share {
                num: allocated.get(i).max(0) as u64,
                den: den as u64,
            };
            // num_s/den_s > num_b/den_b; both products fit in u128.
            if u128::from(s.num) * u128::from(best.den) > u128::from(best.num) * u128::from(s.den) {
                best = s;
            }
        }
        best
    }
}

/// Compares `a / wa` with `b / wb` exactly (weights in thousandths, both > 0).
pub(super) fn cmp_weighted(a: Share, wa: u32, b: Share, wb: u32) -> Ordering {
    // a.num / (a.den * wa)  vs  b.num / (b.den * wb)
    //   <=>  a.num * b.den * wb  vs  b.num * a.den * wa   (all factors non-negative)
    let left = mul_wide(u128::from(a.num) * u128::from(b.den), u64::from(wb));
    let right = mul_wide(u128::from(b.num) * u128::from(a.den), u64::from(wa));
    left.cmp(&right)
}

/// `x * y` as a 256-bit number `(high, low)`, so that tuple order is numeric order.
fn mul_wide(x: u128, y: u64) -> (u128, u128) {
    let y = u128::from(y);
    let lo_part = (x & u128::from(u64::MAX)) * y;
    let hi_part = (x >> 64) * y;
    let lo = lo_part.wrapping_add(hi_part << 64);
    let carry = u128::from(lo < lo_part);
    ((hi_part >> 64) + carry, lo)
}

/// Moves `order[i]`, whose sort key has just grown, right to its place; the elements after
/// `i` must already be sorted by `cmp`. Allocates nothing; costs a binary search and a rotate.
pub(super) fn sift_right(order: &mut [u32], i: usize, mut cmp: impl FnMut(u32, u32) -> Ordering) {
    let x = order[i];
    let k = order[i + 1..].partition_point(|&y| cmp(y, x) == Ordering::Less);
    order[i..=i + k].rotate_left(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(num: u64, den: u64) -> Share {
        Share { num, den }
    }

    #[test]
    fn weighted_comparison_is_exact_where_floats_are_not() {
        // 1/3 vs 333333333333333/1e15 differ in the 16th digit.
        let a = share(1, 3);
        let b = share(333_333_333_333_333, 1_000_000_000_000_000);
        assert_eq!(cmp_weighted(a, 1000, b, 1000), Ordering::Greater);
        // Weight 2 halves the share: 1/2 at weight 2 equals 1/4 at weight 1.
        assert_eq!(
            cmp_weighted(share(1, 2), 2000, share(1, 4), 1000),
            Ordering::Equal
        );
        assert_eq!(
            cmp_weighted(share(1, 2), 1999, share(1, 4), 1000),
            Ordering::Greater
        );
    }

    #[test]
    fn wide_products_do_not_overflow() {
        let big = share(u64::MAX >> 1, u64::MAX >> 1);
        let almost = share((u64::MAX >> 1) - 1, u64::MAX >> 1);
        assert_eq!(
            cmp_weighted(big, u32::MAX, almost, u32::MAX),
            Ordering::Greater
        );
        assert_eq!(cmp_weighted(big, u32::MAX, big, u32::MAX), Ordering::Equal);
        assert_eq!(
            mul_wide(u128::MAX, u64::MAX),
            (
                u128::from(u64::MAX) - 1,
                u128::MAX - u128::from(u64::MAX) + 1
            )
        );
    }

    #[test]
    fn dominant_share_is_the_largest_fraction() {
        let mut total = Sums::default();
        let mut alloc = Sums::default();
        total.0[0] = 10_000; // cpus 10
        total.0[1] = 100_000; // mem 100
        alloc.0[0] = 1_000; // 10%
        alloc.0[1] = 30_000; // 30%
        assert_eq!(Share::dominant(&alloc, &total), share(30_000, 100_000));
        // A name missing from the total is skipped.
        alloc.0[2] = 5;
        assert_eq!(Share::dominant(&alloc, &total), share(30_000, 100_000));
    }

    #[test]
    fn sift_right_keeps_order_sorted() {
        // Sorted by key before element 1's key grew from 1 to 4.
        let keys = [5u32, 4, 2, 3, 9];
        let mut order = [1u32, 2, 3, 0, 4];
        sift_right(&mut order, 0, |a, b| {
            keys[a as usize].cmp(&keys[b as usize])
        });
        assert_eq!(order, [2, 3, 1, 0, 4]);
        // Growing past everything moves it to the end.
        let keys = [5u32, 10, 2, 3, 9];
        let mut order = [1u32, 2, 3, 0, 4];
        sift_right(&mut order, 0, |a, b| {
            keys[a as usize].cmp(&keys[b as usize])
        });
        assert_eq!(order, [2, 3, 0, 4, 1]);
    }
}
