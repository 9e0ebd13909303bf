//! Core's own time types: a monotonic `Instant` for timers and a `WallTime` for reported fields.
//!
//! Core never reads a clock; drivers pass `now` into every input.

use core::ops::{Add, Sub};
use serde::{Deserialize, Serialize};

/// A span of time with millisecond resolution.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Duration(u64);

impl Duration {
    pub const ZERO: Duration = Duration(0);
    pub const MAX: Duration = Duration(u64::MAX);

    pub const fn from_millis(ms: u64) -> Self {
        Duration(ms)
    }
    pub const fn from_secs(s: u64) -> Self {
        Duration(s.saturating_mul(1000))
    }
    pub const fn as_millis(self) -> u64 {
        self.0
    }
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }
    /// Seconds as a float, for reported fields only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
    /// Converts possibly-bad float seconds (from the network) to a duration:
    /// NaN and negative values give `None`, huge values saturate.
    pub fn try_from_secs_f64(s: f64) -> Option<Self> {
        if s.is_nan() || s < 0.0 {
            return None;
        }
        let ms = s * 1000.0;
        if ms >= u64::MAX as f64 {
            Some(Duration::MAX)
        } else {
            Some(Duration(ms as u64))
        }
    }
    pub const fn saturating_mul(self, k: u64) -> Self {
        Duration(self.0.saturating_mul(k))
    }
    pub const fn min(self, other: Duration) -> Duration {
        if self.0 < other.0 {
            self
        } else {
            other
        }
    }
    pub const fn max(self, other: Duration) -> Duration {
        if self.0 > other.0 {
            self
        } else {
            other
        }
    }
}

/// A point on a monotonic clock, in milliseconds since an arbitrary origin chosen by the driver.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Instant(u64);

impl Instant {
    pub const ZERO: Instant = Instant(0);
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }
    pub const fn as_millis(self) -> u64 {
        self.0
    }
    /// Time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub const fn saturating_since(self, earlier: Instant) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d.0))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_since(earlier)
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, d: Duration) -> Duration {
        Duration(self.0.saturating_add(d.0))
    }
}

/// Wall-clock time (nanoseconds since the Unix epoch), used only for fields reported to users
/// (`TaskStatus.timestamp`, `registered_time`); never for timers.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct WallTime {
    pub unix_nanos: u64,
}

impl WallTime {
    pub fn as_secs_f64(self) -> f64 {
        self.unix_nanos as f64 / 1e9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_seconds_from_network_are_sanitized() {
        assert_eq!(Duration::try_from_secs_f64(f64::NAN), None);
        assert_eq!(Duration::try_from_secs_f64(-1.0), None);
        assert_eq!(
            Duration::try_from_secs_f64(5.0),
            Some(Duration::from_secs(5))
        );
        assert_eq!(Duration::try_from_secs_f64(1e300), Some(Duration::MAX));
    }

    #[test]
    fn instant_arithmetic_saturates() {
        let t = Instant::from_millis(10);
        assert_eq!(t - Instant::from_millis(20), Duration::ZERO);
        assert_eq!((t + Duration::MAX).as_millis(), u64::MAX);
    }
}
