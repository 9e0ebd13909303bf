//! `mesolite executor`: the command executor (Mesos' built-in `mesos-executor`) for one command
//! task, and the default executor (Mesos' `mesos-default-executor`) for task groups.
//!
//! The agent starts it in the executor's sandbox, in its own session, with the `MESOS_*`
//! environment ([`env`]). It subscribes to the agent over the v1 executor API ([`http`], [`wire`])
//! with blocking sockets and one `poll` loop ([`driver`]): no async runtime and no threads beyond
//! the one [`signal_wake`] needs.
//! A `LAUNCH` makes it a command executor: it runs the one task as a child and refuses further
//! tasks. A `LAUNCH_GROUP` makes it a default executor: each task of the group runs as its own
//! child (same argv/shell rules), and more groups may follow. Every task reports `TASK_STARTING`,
//! `TASK_RUNNING` and a terminal state ([`state`]). Killing one task of a group, or one of its
//! tasks failing, kills the rest of the group (they report `TASK_KILLED`); `SHUTDOWN` kills all.
//! It exits once the agent acknowledged every terminal update, or [`state::TERMINAL_ACK_TIMEOUT`]
//! (60 s) after the last one if the agent stays connected but silent, or when the agent
//! connection is lost for good (at once for a non-checkpointing framework, after
//! `MESOS_RECOVERY_TIMEOUT` of failed resubscriptions for a checkpointing one).
//!
//! Not supported: nested containers (group tasks share the executor's sandbox), health and
//! readiness checks, `TASK_KILLING`, user switching and container images.

mod driver;
mod env;
mod http;
mod http1;
mod signal_wake;
mod state;
mod wire;

#[cfg(test)]
mod tests;

use std::fmt;
use std::process::ExitCode;

use mesolite_platform::signals::SignalError;

pub(crate) use env::{EnvError, ExecutorEnv};
pub(crate) use state::Outcome;

/// Why the executor could not run at all.
#[derive(Debug)]
pub(crate) enum ExecutorError {
    Env(EnvError),
    Signals(SignalError),
}

impl fmt::Display for ExecutorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(e) => write!(f, "{e}"),
            Self::Signals(e) => write!(f, "{e}"),
        }
    }
}

/// Runs the executor described by `env` to the end, on the calling thread.
pub(crate) fn run_executor(env: ExecutorEnv) -> Result<Outcome, ExecutorError> {
    driver::drive(env)
}

/// The `mesolite executor` subcommand: configuration from the process environment; exit code 0
/// when every task's terminal update was acknowledged, 1 otherwise.
pub fn main() -> ExitCode {
    let result = ExecutorEnv::from_vars(std::env::vars())
        .map_err(ExecutorError::Env)
        .and_then(run_executor);
    match result {
        Ok(Outcome::Completed) => ExitCode::SUCCESS,
        Ok(outcome) => {
            eprintln!("mesolite executor: exiting: {outcome:?}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("mesolite executor: {e}");
            ExitCode::FAILURE
        }
    }
}
