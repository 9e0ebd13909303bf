//! cargo xtask: mesolite's routine jobs (ci, dist, bench, sim, interop), dispatched from the command line.
//!
//! Every job shells out to cargo, rustup and `file` with `std::process::Command`, prints each command
//! before it runs it, and ends with exit code 0 (success), 1 (a step failed) or 2 (bad usage).
//! xtask has no dependencies on purpose: it must build wherever a Rust toolchain does.

mod bench;
mod ci;
mod cmd;
mod dist;
mod interop;
mod sim;

use std::fmt;
use std::io;
use std::process::{ExitCode, ExitStatus};
use std::time::Duration;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  ci                     fmt check, clippy -D warnings, tests, no_std build of mesolite-core for
                         thumbv7em-none-eabihf, benches compile, 200 simulation seeds; prints wall time
  dist                   static release binaries for x86_64- and aarch64-unknown-linux-musl, checked
                         with `file` to be statically linked; the x86_64 binary must be < 4 MiB
  bench [--quick]        machine description, the allocator and registry benches, idle RSS of a
                         master and an agent (--quick sets MESOLITE_BENCH_QUICK=1 for smaller cases)
  sim [--seeds N | --seed S] [--timeout SECS]
                         the deterministic simulation (core/tests/sim.rs) in release mode:
                         N seeds (default 200, MESOLITE_SIM_SEEDS) or replay one seed S
                         (MESOLITE_SIM_SEED); killed after SECS seconds (default 1200)
  interop [--tasks N] [--keep]
                         pymesos 0.3.15 (in target/interop-venv, needs Python <= 3.10) against a real
                         master and agent: a scheduler running N command tasks (default 50), the
                         operator clients, a custom executor; --keep keeps the work dirs and logs
  help                   this text
";

/// Why an xtask job stopped; each variant maps to an exit code in `main`.
#[derive(Debug)]
pub enum XtaskError {
    /// The command line was wrong; the message says how.
    Usage(String),
    /// A command could not be started at all (for example the program is not installed).
    Spawn { command: String, source: io::Error },
    /// A command ran and exited unsuccessfully.
    CommandFailed { command: String, status: ExitStatus },
    /// A command ran longer than its bound and was killed.
    TimedOut { command: String, limit: Duration },
    /// A file or directory operation failed.
    Io { what: String, source: io::Error },
    /// A check on a result failed (not static, too large, process exited early, ...).
    Check(String),
}

impl fmt::Display for XtaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XtaskError::Usage(msg) => write!(f, "{msg} (try `cargo xtask help`)"),
            XtaskError::Spawn { command, source } => {
                write!(f, "could not start `{command}`: {source}")
            }
            XtaskError::CommandFailed { command, status } => {
                write!(f, "`{command}` failed: {status}")
            }
            XtaskError::TimedOut { command, limit } => {
                write!(
                    f,
                    "`{command}` did not finish within {} s and was killed",
                    limit.as_secs()
                )
            }
            XtaskError::Io { what, source } => write!(f, "{what}: {source}"),
            XtaskError::Check(msg) => f.write_str(msg),
        }
    }
}

impl XtaskError {
    fn exit_code(&self) -> ExitCode {
        match self {
            XtaskError::Usage(_) => ExitCode::from(2),
            _ => ExitCode::from(1),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = cmd::enter_workspace_root().and_then(|()| dispatch(&args));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err}");
            err.exit_code()
        }
    }
}

fn dispatch(args: &[String]) -> Result<(), XtaskError> {
    let Some((command, rest)) = args.split_first() else {
        print!("{USAGE}");
        return Ok(());
    };
    match command.as_str() {
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        "ci" => {
            no_options("ci", rest)?;
            ci::run()
        }
        "dist" => {
            no_options("dist", rest)?;
            dist::run()
        }
        "bench" => bench::run(&bench::BenchArgs::parse(rest)?),
        "sim" => sim::run(&sim::SimArgs::parse(rest)?),
        "interop" => interop::run(&interop::InteropArgs::parse(rest)?),
        other => Err(XtaskError::Usage(format!("unknown subcommand `{other}`"))),
    }
}

fn no_options(command: &str, rest: &[String]) -> Result<(), XtaskError> {
    match rest.first() {
        None => Ok(()),
        Some(arg) => Err(XtaskError::Usage(format!(
            "`{command}` takes no arguments, got `{arg}`"
        ))),
    }
}

/// Splits `--name=value` or `--name value` from an argument list; `None` when `arg` is not `--name`.
pub fn flag_value<'a>(
    name: &str,
    arg: &'a str,
    rest: &mut std::slice::Iter<'a, String>,
) -> Result<Option<&'a str>, XtaskError> {
    if arg == name {
        return match rest.next() {
            Some(value) => Ok(Some(value.as_str())),
            None => Err(XtaskError::Usage(format!("`{name}` needs a value"))),
        };
    }
    match arg
        .strip_prefix(name)
        .and_then(|tail| tail.strip_prefix('='))
    {
        Some(value) => Ok(Some(value)),
        None => Ok(None),
    }
}

/// Parses a non-negative decimal number given to flag `name`.
pub fn parse_number(name: &str, value: &str) -> Result<u64, XtaskError> {
    value.parse::<u64>().map_err(|_| {
        XtaskError::Usage(format!(
            "`{name}` expects a non-negative whole number, got `{value}`"
        ))
    })
}
