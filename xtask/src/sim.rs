//! `cargo xtask sim`: runs the deterministic whole-cluster simulation (mesolite-core's `sim` test), bounded in time.
//!
//! The harness reads MESOLITE_SIM_SEEDS (how many seeds to run) or MESOLITE_SIM_SEED (replay one seed).

use std::path::Path;
use std::time::Duration;

use crate::cmd;
use crate::{flag_value, parse_number, XtaskError};

/// Where cargo finds the `sim` test target of mesolite-core; the job is skipped while neither exists.
const HARNESS: [&str; 2] = ["core/tests/sim.rs", "core/tests/sim/main.rs"];
/// Seeds run when neither `--seeds` nor `--seed` is given.
pub const DEFAULT_SEEDS: u64 = 200;
/// The bound on the whole run, release build included, unless `--timeout` says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1200);

/// Which seeds the simulation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seeds {
    /// Seeds 0..n (the harness decides how it derives them).
    Count(u64),
    /// Exactly one seed, to replay a failure.
    One(u64),
}

/// Options of `cargo xtask sim`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimArgs {
    pub seeds: Seeds,
    pub timeout: Duration,
}

impl SimArgs {
    /// The options `cargo xtask ci` uses.
    pub fn for_ci() -> SimArgs {
        SimArgs {
            seeds: Seeds::Count(DEFAULT_SEEDS),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn parse(args: &[String]) -> Result<SimArgs, XtaskError> {
        let mut count = None;
        let mut one = None;
        let mut timeout = DEFAULT_TIMEOUT;
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            if let Some(v) = flag_value("--seeds", arg, &mut rest)? {
                count = Some(parse_number("--seeds", v)?);
            } else if let Some(v) = flag_value("--seed", arg, &mut rest)? {
                one = Some(parse_number("--seed", v)?);
            } else if let Some(v) = flag_value("--timeout", arg, &mut rest)? {
                timeout = Duration::from_secs(parse_number("--timeout", v)?);
            } else {
                return Err(XtaskError::Usage(format!("`sim` does not know `{arg}`")));
            }
        }
        let seeds = match (count, one) {
            (Some(_), Some(_)) => {
                return Err(XtaskError::Usage(
                    "`sim` takes either `--seeds N` or `--seed S`, not both".to_string(),
                ))
            }
            (Some(0), None) => {
                return Err(XtaskError::Usage(
                    "`--seeds` must be at least 1".to_string(),
                ))
            }
            (Some(n), None) => Seeds::Count(n),
            (None, Some(s)) => Seeds::One(s),
            (None, None) => Seeds::Count(DEFAULT_SEEDS),
        };
        Ok(SimArgs { seeds, timeout })
    }
}

pub fn run(args: &SimArgs) -> Result<(), XtaskError> {
    if !HARNESS.iter().any(|path| Path::new(path).is_file()) {
        println!(
            "skipped: sim harness not present yet (no {})",
            HARNESS.join(" or ")
        );
        return Ok(());
    }
    let mut test = cmd::cargo();
    match args.seeds {
        Seeds::Count(n) => test
            .env_remove("MESOLITE_SIM_SEED")
            .env("MESOLITE_SIM_SEEDS", n.to_string()),
        Seeds::One(s) => test
            .env_remove("MESOLITE_SIM_SEEDS")
            .env("MESOLITE_SIM_SEED", s.to_string()),
    };
    test.args([
        "test",
        "-p",
        "mesolite-core",
        "--test",
        "sim",
        "--release",
        "--",
        "--nocapture",
    ]);
    cmd::run_bounded(&mut test, args.timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<SimArgs, XtaskError> {
        let owned: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        SimArgs::parse(&owned)
    }

    #[test]
    fn defaults_to_200_seeds() {
        assert_eq!(parse(&[]).unwrap(), SimArgs::for_ci());
        assert_eq!(parse(&[]).unwrap().seeds, Seeds::Count(200));
    }

    #[test]
    fn accepts_both_flag_spellings() {
        assert_eq!(parse(&["--seeds", "7"]).unwrap().seeds, Seeds::Count(7));
        assert_eq!(parse(&["--seeds=7"]).unwrap().seeds, Seeds::Count(7));
        assert_eq!(parse(&["--seed=42"]).unwrap().seeds, Seeds::One(42));
        assert_eq!(
            parse(&["--seed", "42", "--timeout", "5"]).unwrap(),
            SimArgs {
                seeds: Seeds::One(42),
                timeout: Duration::from_secs(5)
            }
        );
    }

    #[test]
    fn rejects_bad_input_as_usage_errors() {
        for bad in [
            &["--seeds"][..],
            &["--seeds", "-1"],
            &["--seeds", "0"],
            &["--seed", "x"],
            &["--seeds", "2", "--seed", "3"],
            &["--sed", "3"],
        ] {
            let err = parse(bad).unwrap_err();
            assert!(matches!(err, XtaskError::Usage(_)), "{bad:?}: {err}");
        }
    }
}
