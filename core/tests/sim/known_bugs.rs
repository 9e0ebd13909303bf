//! Core bugs the simulation found that are not fixed yet: each has a name, a workaround that
//! keeps the harness useful for finding other bugs, and a count in the run's statistics.
//! `MESOLITE_SIM_STRICT=all` (or a comma-separated list of names) turns workarounds off.

/// Whether the workaround for the known bug `name` (one of the `WORK_AROUND_*` names) is on.
/// `MESOLITE_SIM_STRICT=all` (or `1`) turns every workaround off, `MESOLITE_SIM_STRICT=a,b` the
/// named ones, so a fix can be checked: with the bug fixed, the strict run passes.
pub fn work_around(name: &str) -> bool {
    static STRICT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    match STRICT.get_or_init(|| std::env::var("MESOLITE_SIM_STRICT").ok()) {
        None => true,
        Some(v) => !(v == "1" || v == "all" || v.split(',').any(|n| n.trim() == name)),
    }
}

/// Known core bug (see the harness report): a `RunTask` lost with its connection leaves the task
/// STAGING in the master forever, because a re-registering agent's task list is not reconciled
/// against the master's. Unless strict, such tasks do not count against quiescence.
pub const WORK_AROUND_LOST_RUN_TASK: &str = "lost_run_task";

/// Known core bug (see the harness report): an admission or re-registration whose registry
/// write completes after its connection closed activates the agent on the dead connection.
/// Unless strict, the harness reports the close to the master a second time.
pub const WORK_AROUND_ACTIVATION_ON_CLOSED_CONN: &str = "closed_conn";

/// Known core bug (see the harness report): an agent re-registering after a master restart
/// reports terminal tasks whose updates were all acknowledged (their executor still runs
/// other tasks), and the new master keeps them forever. Unless strict, settling ignores
/// terminal tasks the scheduler already acknowledged.
pub const WORK_AROUND_REPORTED_ACKED_TASKS: &str = "reported_acked_task";

/// Known core bug (see the harness report): the master sends a FAILURE event when a command
/// task's generated executor exits after the task was acknowledged and removed. Unless strict,
/// such events are counted instead of failing the run.
pub const WORK_AROUND_COMMAND_EXECUTOR_FAILURE: &str = "command_executor_failure";

/// Known core bug (see the harness report): an agent that re-registers after its framework was
/// torn down brings the framework back as "recovered", forever, with its tasks, and the agent
/// retries their updates forever. Unless strict, settling ignores what belongs to a
/// framework its scheduler tore down that the master shows as recovered.
pub const WORK_AROUND_RESURRECTED_FRAMEWORK: &str = "resurrected_framework";
