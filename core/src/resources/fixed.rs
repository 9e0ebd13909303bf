//! `Fixed`: a non-negative scalar resource amount in thousandths (Mesos' 3-decimal fixed point).
//!
//! Mesos stores scalars as `double` but rounds every value to 3 decimal digits
//! (`convertToFixed`: `llround(value * 1000)`), so `0.1 + 0.2 == 0.3` holds. We keep the
//! thousandths as an `i64` and never hold a negative or NaN amount.

use core::fmt;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A scalar amount in thousandths: `Fixed::from_milli(1500)` is 1.5 cpus.
///
/// Values built by this module are never negative; [`Fixed::from_milli`] is `const` and
/// accepts any `i64`, but every resource constructor and the decoder refuse negatives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fixed(i64);

impl Fixed {
    /// Zero, the amount a scalar resource disappears at.
    pub const ZERO: Fixed = Fixed(0);
    /// The largest representable amount (about 9.2e15 units).
    pub const MAX: Fixed = Fixed(i64::MAX);

    /// An amount of `m` thousandths.
    pub const fn from_milli(m: i64) -> Fixed {
        Fixed(m)
    }

    /// A whole number of units (`from_units(2)` is `2.000`); `None` on overflow.
    pub const fn from_units(u: i64) -> Option<Fixed> {
        match u.checked_mul(1000) {
            Some(m) => Some(Fixed(m)),
            None => None,
        }
    }

    /// The amount in thousandths.
    pub const fn milli(self) -> i64 {
        self.0
    }

    /// Whether the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Converts a `f64`, rounding to 3 decimals half away from zero like Mesos' `llround`.
    /// Returns `None` for NaN, infinities, negative values (`-0.0` is zero) and values too
    /// large for the `i64` thousandths.
    pub fn from_f64(v: f64) -> Option<Fixed> {
        if !v.is_finite() || v < 0.0 {
            return None;
        }
        let x = v * 1000.0;
        // 2^63 as f64; anything at or above it does not fit in an i64.
        if x >= 9_223_372_036_854_775_808.0 {
            return None;
        }
        // `core` has no `f64::round`, so round by hand: truncate, then look at the fraction.
        let t = x as i64;
        let frac = x - t as f64;
        if frac >= 0.5 {
            t.checked_add(1).map(Fixed)
        } else {
            Some(Fixed(t))
        }
    }

    /// The amount as a `f64` (exact for amounts below 2^53 thousandths).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Sum, or `None` on overflow.
    pub fn checked_add(self, o: Fixed) -> Option<Fixed> {
        self.0.checked_add(o.0).map(Fixed)
    }

    /// Difference, or `None` if it would be negative (or overflow).
    pub fn checked_sub(self, o: Fixed) -> Option<Fixed> {
        match self.0.checked_sub(o.0) {
            Some(d) if d >= 0 => Some(Fixed(d)),
            _ => None,
        }
    }

    /// Sum, clamped at [`Fixed::MAX`].
    pub fn saturating_add(self, o: Fixed) -> Fixed {
        Fixed(self.0.saturating_add(o.0))
    }

    /// Difference, clamped at zero.
    pub fn saturating_sub(self, o: Fixed) -> Fixed {
        Fixed(self.0.saturating_sub(o.0).max(0))
    }

    /// Parses a non-negative decimal number, rounding to 3 decimals half away from zero
    /// (`0.0005` is 1 thousandth, `0.00049` is zero).
    ///
    /// Plain decimals (`2`, `0.5`, `.5`, `1024.125`) are converted exactly from their digits;
    /// other forms that Rust's `f64` parser accepts (`1e3`) go through [`Fixed::from_f64`].
    /// `NaN`, `inf`, negative numbers and amounts above [`Fixed::MAX`] give `None`.
    pub fn parse(s: &str) -> Option<Fixed> {
        match parse_plain_decimal(s) {
            Decimal::Value(f) => Some(f),
            Decimal::Overflow => None,
            Decimal::NotPlain => s.parse::<f64>().ok().and_then(Fixed::from_f64),
        }
    }
}

enum Decimal {
    Value(Fixed),
    Overflow,
    NotPlain,
}

/// Converts `digits[.digits]` (or `.digits`) exactly, rounding the 4th decimal half up.
fn parse_plain_decimal(s: &str) -> Decimal {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return Decimal::NotPlain;
    }
    let mut milli: i64 = 0;
    for b in int.bytes() {
        milli = match milli
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(b - b'0')))
        {
            Some(m) => m,
            None => return Decimal::Overflow,
        };
    }
    let Some(mut milli) = milli.checked_mul(1000) else {
        return Decimal::Overflow;
    };
    let fb = frac.as_bytes();
    let mut scale = 100;
    let mut frac_milli = 0;
    for &b in fb.iter().take(3) {
        frac_milli += i64::from(b - b'0') * scale;
        scale /= 10;
    }
    if fb.len() > 3 && fb[3] >= b'5' {
        frac_milli += 1;
    }
    milli = match milli.checked_add(frac_milli) {
        Some(m) => m,
        None => return Decimal::Overflow,
    };
    Decimal::Value(Fixed(milli))
}

impl fmt::Display for Fixed {
    /// Prints the shortest exact decimal: `2`, `0.5`, `1024`, `0.125`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < 0 {
            f.write_str("-")?;
        }
        let a = self.0.unsigned_abs();
        let (int, frac) = (a / 1000, a % 1000);
        if frac == 0 {
            write!(f, "{int}")
        } else if frac % 100 == 0 {
            write!(f, "{int}.{}", frac / 100)
        } else if frac % 10 == 0 {
            write!(f, "{int}.{:02}", frac / 10)
        } else {
            write!(f, "{int}.{frac:03}")
        }
    }
}

impl Serialize for Fixed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for Fixed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = i64::deserialize(d)?;
        if m < 0 {
            return Err(serde::de::Error::custom("negative scalar resource amount"));
        }
        Ok(Fixed(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn display_has_no_trailing_zeros() {
        let cases = [
            (2000, "2"),
            (500, "0.5"),
            (1_024_000, "1024"),
            (125, "0.125"),
            (10, "0.01"),
            (0, "0"),
        ];
        for (m, want) in cases {
            assert_eq!(Fixed::from_milli(m).to_string(), want);
        }
        assert_eq!(Fixed::from_milli(1050).to_string(), "1.05");
    }

    #[test]
    fn parse_rounds_half_away_from_zero_at_three_decimals() {
        assert_eq!(Fixed::parse("0.1"), Some(Fixed::from_milli(100)));
        assert_eq!(Fixed::parse("0.0005"), Some(Fixed::from_milli(1)));
        assert_eq!(Fixed::parse("0.00049"), Some(Fixed::ZERO));
        assert_eq!(Fixed::parse("1.9995"), Some(Fixed::from_milli(2000)));
        assert_eq!(Fixed::parse(".5"), Some(Fixed::from_milli(500)));
        assert_eq!(Fixed::parse("3."), Some(Fixed::from_milli(3000)));
        assert_eq!(Fixed::parse("1e3"), Some(Fixed::from_milli(1_000_000)));
        assert_eq!(Fixed::parse("-0"), Some(Fixed::ZERO));
    }

    #[test]
    fn parse_refuses_nan_inf_negative_and_huge() {
        for bad in [
            "nan",
            "NaN",
            "inf",
            "-inf",
            "-1",
            "-0.5",
            "",
            ".",
            "1.2.3",
            "x",
            "99999999999999999999",
            "1e300",
        ] {
            assert_eq!(Fixed::parse(bad), None, "{bad}");
        }
        assert_eq!(Fixed::parse("9223372036854775.807"), Some(Fixed::MAX));
        assert_eq!(Fixed::parse("9223372036854775.808"), None);
    }

    #[test]
    fn from_f64_matches_mesos_llround() {
        assert_eq!(Fixed::from_f64(0.1), Some(Fixed::from_milli(100)));
        assert_eq!(Fixed::from_f64(0.0005), Some(Fixed::from_milli(1)));
        assert_eq!(Fixed::from_f64(2.5), Some(Fixed::from_milli(2500)));
        assert_eq!(Fixed::from_f64(-0.0), Some(Fixed::ZERO));
        assert_eq!(Fixed::from_f64(f64::NAN), None);
        assert_eq!(Fixed::from_f64(f64::INFINITY), None);
        assert_eq!(Fixed::from_f64(-1.0), None);
        assert_eq!(Fixed::from_f64(1e300), None);
        assert_eq!(Fixed::from_milli(1500).as_f64(), 1.5);
    }

    #[test]
    fn checked_arithmetic_never_goes_negative_or_wraps() {
        let one = Fixed::from_milli(1000);
        assert_eq!(one.checked_sub(Fixed::from_milli(1001)), None);
        assert_eq!(one.checked_sub(one), Some(Fixed::ZERO));
        assert_eq!(Fixed::MAX.checked_add(Fixed::from_milli(1)), None);
        assert_eq!(Fixed::MAX.saturating_add(one), Fixed::MAX);
        assert_eq!(Fixed::ZERO.saturating_sub(one), Fixed::ZERO);
    }

    #[test]
    fn decoding_refuses_negative_amounts() {
        let bytes = postcard::to_allocvec(&-5i64).unwrap();
        assert!(postcard::from_bytes::<Fixed>(&bytes).is_err());
        let bytes = postcard::to_allocvec(&Fixed::from_milli(5)).unwrap();
        assert_eq!(
            postcard::from_bytes::<Fixed>(&bytes).unwrap(),
            Fixed::from_milli(5)
        );
    }
}
