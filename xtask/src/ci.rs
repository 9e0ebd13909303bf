//! `cargo xtask ci`: every check a change must pass, in order, with the wall time of each step.
//!
//! The steps stop at the first failure; the summary names the failed step and the total wall time.

use std::time::{Duration, Instant};

use crate::cmd;
use crate::sim;
use crate::XtaskError;

/// The embedded target (Cortex-M4F, no operating system) mesolite-core must keep building for.
const EMBEDDED_TARGET: &str = "thumbv7em-none-eabihf";

type Step = (&'static str, fn() -> Result<(), XtaskError>);

const STEPS: [Step; 6] = [
    ("fmt", fmt),
    ("clippy", clippy),
    ("test", test),
    ("no_std build", embedded),
    ("benches compile", benches),
    ("sim", simulate),
];

pub fn run() -> Result<(), XtaskError> {
    let started = Instant::now();
    let mut timings: Vec<(&str, Duration)> = Vec::new();
    let mut outcome = Ok(());
    for (name, step) in STEPS {
        eprintln!("\n==> ci: {name}");
        let step_started = Instant::now();
        let result = step();
        timings.push((name, step_started.elapsed()));
        if let Err(err) = result {
            outcome = Err(XtaskError::Check(format!("ci step `{name}` failed: {err}")));
            break;
        }
    }
    println!();
    println!("ci summary:");
    for (name, took) in &timings {
        println!("  {name:<16} {}", cmd::seconds(*took));
    }
    let verdict = if outcome.is_ok() { "passed" } else { "FAILED" };
    println!(
        "ci {verdict}; total wall time {}",
        cmd::seconds(started.elapsed())
    );
    outcome
}

fn fmt() -> Result<(), XtaskError> {
    cmd::run(cmd::cargo().args(["fmt", "--all", "--", "--check"]))
}

fn clippy() -> Result<(), XtaskError> {
    cmd::run(cmd::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
}

fn test() -> Result<(), XtaskError> {
    // --no-fail-fast: one failing test binary must not hide the failures of the others.
    cmd::run(cmd::cargo().args(["test", "--workspace", "--no-fail-fast"]))
}

fn embedded() -> Result<(), XtaskError> {
    cmd::ensure_target(EMBEDDED_TARGET)?;
    cmd::run(cmd::cargo().args(["build", "-p", "mesolite-core", "--target", EMBEDDED_TARGET]))
}

fn benches() -> Result<(), XtaskError> {
    cmd::run(cmd::cargo().args(["bench", "--workspace", "--no-run"]))
}

fn simulate() -> Result<(), XtaskError> {
    sim::run(&sim::SimArgs::for_ci())
}
