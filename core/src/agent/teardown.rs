//! The agent ending its own work: `--recover cleanup` (kill every recovered executor, report
//! its tasks ended, exit) and shutdown (`mesolite agent --shutdown` or SIGUSR1: end every task,
//! unregister from the master, exit). Mesos `Slave::shutdown` and `--recover=cleanup`.

use super::{Agent, AgentOutput, ExecutorState, MasterLink};
use crate::ids::FrameworkId;
use crate::time::{Duration, Instant, WallTime};
use crate::wire::{AgentToMaster, StatusReason};
use alloc::collections::BTreeSet;

/// How long a finishing agent waits, once its executors are gone, for frameworks to acknowledge
/// the last status updates. Updates still unacknowledged then stay in the checkpoint (after
/// `cleanup`) and are sent by the next start.
pub const TEARDOWN_ACK_WAIT: Duration = Duration::from_secs(10);

/// Which way the agent ends its work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Teardown {
    /// `--recover cleanup`: every recovered executor is killed at once and its unfinished tasks
    /// become `TASK_LOST` with `REASON_AGENT_RESTARTED`; the agent keeps its id and checkpoint,
    /// so a later start registers with the same id and no tasks.
    Cleanup,
    /// Shutdown: every executor is asked to shut down (its tasks end `TASK_KILLED`), then the
    /// agent unregisters, and the master removes it.
    Shutdown,
}

#[derive(Debug)]
pub(super) struct TeardownState {
    kind: Teardown,
    /// Past this, unacknowledged updates no longer hold the exit back.
    give_up_acks_at: Instant,
    finished: bool,
}

impl TeardownState {
    pub fn deadline(&self) -> Option<Instant> {
        (!self.finished).then_some(self.give_up_acks_at)
    }
}

impl Agent {
    /// Starts ending every executor the `kind` way. The agent emits [`AgentOutput::Finished`]
    /// once no executor process remains, everything is checkpointed, and every status update
    /// is acknowledged or [`TEARDOWN_ACK_WAIT`] has passed; the driver then exits.
    pub fn begin_teardown(&mut self, now: Instant, wall: WallTime, kind: Teardown) {
        if self.teardown.is_some() {
            return;
        }
        self.teardown = Some(TeardownState {
            kind,
            give_up_acks_at: now + self.cfg.executor_shutdown_grace + TEARDOWN_ACK_WAIT,
            finished: false,
        });
        let keys: alloc::vec::Vec<_> = self
            .executors
            .iter()
            .filter(|(_, e)| e.state != ExecutorState::Terminated)
            .map(|(k, _)| k.clone())
            .collect();
        self.log(alloc::format!(
            "{}: ending {} executor(s)",
            match kind {
                Teardown::Cleanup => "recovering with --recover cleanup",
                Teardown::Shutdown => "shutting down",
            },
            keys.len()
        ));
        match kind {
            Teardown::Cleanup => {
                for key in keys {
                    self.end_executor_as_lost(
                        now,
                        wall,
                        &key,
                        StatusReason::AgentRestarted,
                        "the agent restarted with --recover cleanup",
                    );
                }
            }
            Teardown::Shutdown => {
                let frameworks: BTreeSet<FrameworkId> = keys.into_iter().map(|k| k.0).collect();
                for f in frameworks {
                    self.shutdown_framework(now, wall, &f);
                }
            }
        }
        self.check_teardown(now);
    }

    /// How the agent is ending its work, if it is.
    pub fn teardown(&self) -> Option<Teardown> {
        self.teardown.as_ref().map(|t| t.kind)
    }

    /// Emits [`AgentOutput::Finished`] (after `Unregister` when shutting down) once the
    /// teardown is complete.
    pub(super) fn check_teardown(&mut self, now: Instant) {
        let Some(t) = &self.teardown else { return };
        if t.finished {
            return;
        }
        let (kind, give_up) = (t.kind, t.give_up_acks_at);
        let running = self
            .executors
            .values()
            .any(|e| e.state != ExecutorState::Terminated);
        if running || self.checkpoint_busy() {
            return;
        }
        // Terminated executors are forgotten once their tasks' updates are acknowledged.
        let unacknowledged = !self.executors.is_empty();
        if unacknowledged && now < give_up {
            return;
        }
        if unacknowledged {
            self.log(alloc::string::String::from(
                "some status updates are not acknowledged yet; they stay in the checkpoint",
            ));
        }
        if kind == Teardown::Shutdown && self.link == MasterLink::Registered {
            self.outputs
                .push_back(AgentOutput::ToMaster(AgentToMaster::Unregister));
        }
        self.outputs.push_back(AgentOutput::Finished);
        if let Some(t) = self.teardown.as_mut() {
            t.finished = true;
        }
    }
}
