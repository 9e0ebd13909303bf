//! The process clock: monotonic time for core's timers and wall time for reported fields.

use mesolite_core::time::{Instant, WallTime};

/// Converts between the OS clocks and core's time types. Core instants are milliseconds since
/// this clock was created.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    origin: std::time::Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    pub fn new() -> Self {
        Clock {
            origin: std::time::Instant::now(),
        }
    }

    /// Monotonic now, for timers.
    pub fn now(&self) -> Instant {
        Instant::from_millis(self.origin.elapsed().as_millis() as u64)
    }

    /// Wall-clock now, for reported fields only.
    pub fn wall(&self) -> WallTime {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        WallTime { unix_nanos: nanos }
    }

    /// The OS instant of a core instant (for `smol::Timer::at`).
    pub fn to_std(&self, t: Instant) -> std::time::Instant {
        self.origin + std::time::Duration::from_millis(t.as_millis())
    }
}

/// A driver's timer: sleeps until `deadline()` (re-read whenever `wake` fires, since inputs move
/// deadlines) and calls `fire()` when it passes.
pub async fn run_timer(
    clock: Clock,
    wake: smol::channel::Receiver<()>,
    deadline: impl Fn() -> Option<Instant>,
    fire: impl Fn(),
) {
    loop {
        let due = deadline();
        let sleep = async {
            match due {
                Some(t) => {
                    smol::Timer::at(clock.to_std(t)).await;
                }
                None => std::future::pending::<()>().await,
            }
            true
        };
        let woken = async {
            if wake.recv().await.is_err() {
                std::future::pending::<()>().await;
            }
            false
        };
        if smol::future::or(sleep, woken).await {
            fire();
        }
    }
}

/// A seed for a state machine's generator, from the OS random source (falls back to time and pid).
pub fn random_seed() -> u64 {
    let mut buf = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
        .is_ok()
    {
        return u64::from_le_bytes(buf);
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ ((std::process::id() as u64) << 32)
}

/// A fresh random cluster id (16 hex characters).
pub fn random_cluster_id() -> String {
    format!("{:016x}", random_seed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic_and_wall_is_recent() {
        let c = Clock::new();
        let a = c.now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = c.now();
        assert!(b.as_millis() >= a.as_millis() + 5);
        // After 2020-01-01.
        assert!(c.wall().unix_nanos > 1_577_836_800_000_000_000);
        assert_ne!(random_seed(), random_seed());
    }
}
