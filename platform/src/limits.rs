//! Process resource limits: raising the open-files limit so a master can hold thousands of
//! agent connections.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// The kernel's default ceiling for open files (`fs.nr_open`), used when the hard limit is
/// unlimited: Linux refuses a soft `RLIMIT_NOFILE` above `fs.nr_open`.
const NR_OPEN_DEFAULT: u64 = 1 << 20;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the soft limit now in force.
///
/// Every agent connection of a master is one descriptor, and the usual soft limit (1,024) is
/// far below the 10,000 agents a master admits by default; the hard limit is what an
/// unprivileged process may raise it to. A soft limit already at or above the target is left
/// alone.
pub fn raise_open_files_limit() -> std::io::Result<u64> {
    let limit = getrlimit(Resource::Nofile);
    let target = limit.maximum.unwrap_or(NR_OPEN_DEFAULT);
    match limit.current {
        // `None` is RLIM_INFINITY: nothing to raise.
        None => return Ok(u64::MAX),
        Some(current) if current >= target => return Ok(current),
        Some(_) => {}
    }
    let raised = Rlimit {
        current: Some(target),
        maximum: limit.maximum,
    };
    setrlimit(Resource::Nofile, raised)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_open_files_limit_is_raised_to_the_hard_limit() {
        let before = getrlimit(Resource::Nofile);
        let Some(hard) = before.maximum else {
            // An unlimited hard limit cannot be lowered and raised back by an unprivileged
            // test; the raise itself is still exercised.
            assert!(raise_open_files_limit().unwrap() >= before.current.unwrap_or(u64::MAX));
            return;
        };
        // Lower the soft limit by one (harmless for tests running beside this one), then raise.
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(hard - 1),
                maximum: Some(hard),
            },
        )
        .unwrap();
        assert_eq!(raise_open_files_limit().unwrap(), hard);
        assert_eq!(getrlimit(Resource::Nofile).current, Some(hard));
        // Already at the hard limit: unchanged.
        assert_eq!(raise_open_files_limit().unwrap(), hard);
    }
}
