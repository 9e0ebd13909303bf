//! The agent state machine: registration with the master, executors → containers → tasks,
//! and the reliable status update path (at-least-once, in order per task).
//!
//! Method kinds as in the master: getters, `handle_*` inputs, and pollers. After every input the
//! driver drains, in this order, [`Agent::poll_checkpoint`] (persist the batch, see `persist.rs`
//! for the rules), [`Agent::poll_output`], and then asks [`Agent::poll_timeout`].
//!
//! A fresh agent starts with [`Agent::new`]; an agent that finds a checkpoint under its work dir
//! starts with [`Agent::recover`] (see `recovery.rs`).

pub mod checkpoint;
mod checkpoint_v1;
mod executors;
mod gc;
mod persist;
pub mod reconfiguration;
mod recovery;
mod status;
mod teardown;
mod updates;
mod view;
pub mod volumes;

pub use checkpoint::{CheckpointBatch, CheckpointState, Record};
pub use executors::{ExecutorCallError, ExecutorEvent, ExecutorState, ExecutorView};
pub use persist::CheckpointWritten;
pub use recovery::{start_from, StartFrom};
pub use teardown::{Teardown, TEARDOWN_ACK_WAIT};
pub use view::{AgentTaskView, ExecutorDetail};

use crate::ids::{AgentId, ContainerId, ExecutorId, FrameworkId};
use crate::resources::Resources;
use crate::rng::Rng;
use crate::time::{Duration, Instant, WallTime};
use crate::wire::{AgentInfo, AgentToMaster, CommandSpec, FrameworkRecord, MasterToAgent};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;

/// Tunables of the agent; defaults are Mesos 1.5's where it has one.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    pub info: AgentInfo,
    /// Reconnect delay: uniform in [0, factor], doubling per failed attempt, capped at `backoff_max`.
    pub backoff_factor: Duration,
    pub backoff_max: Duration,
    /// Silence from the master after which it counts as lost (Mesos: 15 s × 5 pings).
    pub master_timeout: Duration,
    /// Status update retry: from `retry_min` doubling to `retry_max` (Mesos: 10 s to 10 min).
    pub status_retry_min: Duration,
    pub status_retry_max: Duration,
    /// Time an executor has to subscribe after it is launched (Mesos: 1 min).
    pub executor_registration_timeout: Duration,
    /// Time a recovered executor has to subscribe again after an agent restart before it is
    /// declared gone (Mesos `--executor_reregistration_timeout`: 2 s, at most 15 s).
    pub executor_reregistration_timeout: Duration,
    /// SIGTERM to SIGKILL grace for executors being shut down (Mesos: 5 s).
    pub executor_shutdown_grace: Duration,
    /// Time after an executor ended before its sandbox is removed (Mesos `--gc_delay`: 1 week).
    pub gc_delay: Duration,
    /// Disk share kept free, in permille: the fuller the disk, the sooner sandboxes go (Mesos
    /// `--gc_disk_headroom`: 0.1, here 100).
    pub gc_disk_headroom_permille: u16,
    /// How often the driver measures the work dir's disk and calls [`Agent::handle_disk_usage`]
    /// (Mesos `--disk_watch_interval`: 1 min); the agent itself does not use it.
    pub disk_watch_interval: Duration,
    pub seed: u64,
}

impl AgentConfig {
    pub fn new(info: AgentInfo, seed: u64) -> Self {
        AgentConfig {
            info,
            backoff_factor: Duration::from_secs(1),
            backoff_max: Duration::from_secs(4),
            master_timeout: Duration::from_secs(75),
            status_retry_min: Duration::from_secs(10),
            status_retry_max: Duration::from_secs(600),
            executor_registration_timeout: Duration::from_secs(60),
            executor_reregistration_timeout: Duration::from_secs(2),
            executor_shutdown_grace: Duration::from_secs(5),
            gc_delay: Duration::from_secs(7 * 86_400),
            gc_disk_headroom_permille: 100,
            disk_watch_interval: Duration::from_secs(60),
            seed,
        }
    }
}

/// Identifies one executor's event stream in the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExecutorStream(pub u64);

/// Where the agent stands with its master.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MasterLink {
    /// No connection; the driver is told to connect at the deadline.
    Disconnected { retry_at: Instant },
    /// The driver is connecting.
    Connecting,
    /// Connected, (re)registration sent, waiting for the answer.
    Registering,
    /// Registered: status updates flow.
    Registered,
}

/// Outputs for the driver to carry out.
#[derive(Clone, Debug, PartialEq)]
pub enum AgentOutput {
    /// Open a connection to the master, then call [`Agent::handle_master_connected`] or
    /// [`Agent::handle_master_disconnected`].
    ConnectMaster,
    /// Close the master connection (it went silent).
    DisconnectMaster,
    ToMaster(AgentToMaster),
    /// Create the sandbox `<work_dir>/<sandbox>`, point `<work_dir>/<executor_dir>/runs/latest` at it,
    /// and start the executor in its own session: `mesolite executor` when `command` is `None`.
    LaunchExecutor {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        container_id: ContainerId,
        sandbox: String,
        executor_dir: String,
        command: Option<CommandSpec>,
        env: Vec<(String, String)>,
        /// Persistent volumes of the executor and its first tasks, linked into the sandbox.
        volumes: Vec<volumes::VolumeMount>,
    },
    ToExecutor {
        stream: ExecutorStream,
        event: ExecutorEvent,
    },
    /// Close an executor's event stream.
    CloseExecutorStream {
        stream: ExecutorStream,
    },
    /// Signal the container's process group: SIGTERM now when `force` is false, SIGKILL when true.
    /// For a recovered container the process group is the pid in [`ExecutorView::pid`].
    KillContainer {
        container_id: ContainerId,
        force: bool,
    },
    /// Make the persistent volume directories `<work_dir>/<create>` exist (with parents) and
    /// remove the trees `<work_dir>/<remove>` (volumes destroyed by the framework or operator).
    /// Every path is under `volumes/roles/` (see [`volumes::volume_path`]).
    SyncVolumes {
        create: Vec<String>,
        remove: Vec<String>,
    },
    /// Remove the directory tree `<work_dir>/<path>`: an ended executor's sandbox, or a dir of
    /// the sandbox layout that holds no live sandbox (see `gc.rs`). Never anything outside
    /// `slaves/`.
    RemoveSandbox {
        path: String,
    },
    Log(String),
    /// The agent cannot go on (its checkpoint could not be written): the driver exits with this
    /// message, and the agent recovers from its checkpoint when restarted.
    Fatal(String),
    /// The teardown begun with [`Agent::begin_teardown`] is complete: the driver exits (0) once
    /// the outputs before this one are sent.
    Finished,
}

/// The agent.
pub struct Agent {
    cfg: AgentConfig,
    rng: Rng,
    id: Option<AgentId>,
    link: MasterLink,
    /// Consecutive failed connection attempts, for the backoff.
    attempts: u32,
    last_heard: Instant,
    frameworks: BTreeMap<FrameworkId, FrameworkRecord>,
    /// Dynamic reservations and persistent volumes (see `volumes.rs`).
    checkpointed: Resources,
    executors: BTreeMap<(FrameworkId, ExecutorId), executors::ExecutorEntry>,
    containers: BTreeMap<ContainerId, (FrameworkId, ExecutorId)>,
    streams: BTreeMap<ExecutorStream, (FrameworkId, ExecutorId)>,
    updates: updates::UpdateStreams,
    outputs: VecDeque<AgentOutput>,
    ckpt: persist::Checkpointer,
    teardown: Option<teardown::TeardownState>,
    gc: gc::GcSchedule,
}

impl Agent {
    /// A fresh agent; it asks to connect to the master at once.
    pub fn new(cfg: AgentConfig, now: Instant) -> Self {
        let rng = Rng::from_seed(cfg.seed ^ 0x0061_6765_6e74);
        Agent {
            rng,
            id: None,
            link: MasterLink::Disconnected { retry_at: now },
            attempts: 0,
            last_heard: now,
            frameworks: BTreeMap::new(),
            checkpointed: Resources::new(),
            executors: BTreeMap::new(),
            containers: BTreeMap::new(),
            streams: BTreeMap::new(),
            updates: updates::UpdateStreams::default(),
            outputs: VecDeque::new(),
            ckpt: persist::Checkpointer::new(CheckpointState::default()),
            teardown: None,
            gc: gc::GcSchedule::default(),
            cfg,
        }
    }

    pub fn id(&self) -> Option<&AgentId> {
        self.id.as_ref()
    }

    pub fn info(&self) -> &AgentInfo {
        &self.cfg.info
    }

    pub fn link(&self) -> MasterLink {
        self.link
    }

    pub fn config(&self) -> &AgentConfig {
        &self.cfg
    }

    /// The next output to carry out.
    pub fn poll_output(&mut self) -> Option<AgentOutput> {
        self.outputs.pop_front()
    }

    /// When [`Agent::handle_timeout`] must run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next = match self.link {
            MasterLink::Disconnected { retry_at } => Some(retry_at),
            MasterLink::Registering | MasterLink::Registered => {
                Some(self.last_heard + self.cfg.master_timeout)
            }
            MasterLink::Connecting => None,
        };
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        if self.link == MasterLink::Registered {
            consider(self.updates.next_retry());
        }
        for e in self.executors.values() {
            consider(e.deadline());
        }
        consider(self.teardown.as_ref().and_then(|t| t.deadline()));
        consider(self.gc.deadline());
        next
    }

    /// Runs due timers: reconnecting, master silence, status retries, executor deadlines,
    /// sandbox removals.
    pub fn handle_timeout(&mut self, now: Instant, wall: WallTime) {
        match self.link {
            MasterLink::Disconnected { retry_at } if now >= retry_at => {
                self.link = MasterLink::Connecting;
                self.outputs.push_back(AgentOutput::ConnectMaster);
            }
            MasterLink::Registering | MasterLink::Registered
                if now >= self.last_heard + self.cfg.master_timeout =>
            {
                self.log(alloc::format!(
                    "no word from the master for {} s; reconnecting (tasks keep running)",
                    self.cfg.master_timeout.as_secs()
                ));
                self.outputs.push_back(AgentOutput::DisconnectMaster);
                self.lose_master(now);
            }
            _ => {}
        }
        if self.link == MasterLink::Registered {
            for update in self.updates.due(now, self.cfg.status_retry_max) {
                self.outputs
                    .push_back(AgentOutput::ToMaster(AgentToMaster::StatusUpdate(update)));
            }
        }
        self.handle_executor_deadlines(now, wall);
        self.check_teardown(now);
        self.run_gc(now);
    }

    /// The driver's connection to the master is up: (re)register.
    pub fn handle_master_connected(&mut self, now: Instant) {
        self.link = MasterLink::Registering;
        self.last_heard = now;
        let msg = match &self.id {
            None => AgentToMaster::Register {
                info: self.cfg.info.clone(),
                checkpointed: self.checkpointed.clone(),
            },
            Some(id) => AgentToMaster::Reregister {
                id: id.clone(),
                info: self.cfg.info.clone(),
                checkpointed: self.checkpointed.clone(),
                frameworks: self.frameworks.values().cloned().collect(),
                tasks: self.task_reports(),
            },
        };
        self.outputs.push_back(AgentOutput::ToMaster(msg));
    }

    /// The connection attempt failed or the connection closed.
    pub fn handle_master_disconnected(&mut self, now: Instant) {
        if matches!(self.link, MasterLink::Disconnected { .. }) {
            return;
        }
        self.lose_master(now);
    }

    fn lose_master(&mut self, now: Instant) {
        // Uniform in [0, factor × 2^attempts], capped, so a restarted master is not flooded.
        let cap = self
            .cfg
            .backoff_factor
            .saturating_mul(1u64 << self.attempts.min(16))
            .min(self.cfg.backoff_max);
        let delay = Duration::from_millis(self.rng.below(cap.as_millis() + 1));
        self.attempts = self.attempts.saturating_add(1);
        self.link = MasterLink::Disconnected {
            retry_at: now + delay,
        };
        self.updates.pause();
    }

    /// A message from the master.
    pub fn handle_master_message(&mut self, now: Instant, wall: WallTime, msg: MasterToAgent) {
        self.last_heard = now;
        match msg {
            MasterToAgent::Registered { id } | MasterToAgent::Reregistered { id } => {
                if self.id.as_ref().is_some_and(|old| *old != id) {
                    self.log(alloc::format!(
                        "master assigned id {id}, replacing the old one"
                    ));
                }
                if self.link != MasterLink::Registered {
                    self.log(alloc::format!("registered with the master as {id}"));
                }
                let recorded = self.ckpt.durable.identity.as_ref().map(|(i, _)| i);
                if self.id.as_ref() != Some(&id) || recorded.is_none() {
                    // Recorded before anything that uses the id, so it is durable first.
                    self.record(checkpoint::Record::Identity {
                        id: id.clone(),
                        info: self.cfg.info.clone(),
                    });
                }
                self.id = Some(id);
                self.link = MasterLink::Registered;
                self.attempts = 0;
                for update in self.updates.resume(now, self.cfg.status_retry_min) {
                    self.outputs
                        .push_back(AgentOutput::ToMaster(AgentToMaster::StatusUpdate(update)));
                }
            }
            MasterToAgent::Refused { reason, forget_id } => {
                self.log(alloc::format!("master refused registration: {reason}"));
                if forget_id {
                    self.id = None;
                }
                self.outputs.push_back(AgentOutput::DisconnectMaster);
                self.lose_master(now);
            }
            MasterToAgent::Ping { seq } => {
                self.outputs
                    .push_back(AgentOutput::ToMaster(AgentToMaster::Pong { seq }));
            }
            MasterToAgent::RunTask { .. } | MasterToAgent::RunTaskGroup { .. }
                if self.teardown.is_some() =>
            {
                // As Mesos' terminating agent: the master reconciles the task when the agent
                // re-registers or is removed.
                self.log(alloc::string::String::from(
                    "ignoring a task from the master: the agent is ending its work",
                ));
            }
            MasterToAgent::RunTask { framework, task } => {
                self.run_task(now, wall, framework, *task)
            }
            MasterToAgent::RunTaskGroup {
                framework,
                executor,
                tasks,
            } => self.run_task_group(now, wall, framework, *executor, tasks),
            MasterToAgent::KillTask {
                framework_id,
                task_id,
            } => self.kill_task(now, wall, &framework_id, &task_id),
            MasterToAgent::Acknowledge {
                framework_id,
                task_id,
                uuid,
            } => self.acknowledge(now, &framework_id, &task_id, uuid),
            MasterToAgent::ShutdownFramework { framework_id } => {
                self.shutdown_framework(now, wall, &framework_id)
            }
            MasterToAgent::ShutdownExecutor {
                framework_id,
                executor_id,
            } => self.shutdown_executor(now, wall, &framework_id, &executor_id),
            MasterToAgent::FrameworkMessage {
                framework_id,
                executor_id,
                data,
            } => self.framework_message(now, &framework_id, &executor_id, data),
            MasterToAgent::CheckpointResources { resources } => {
                self.checkpoint_resources(now, resources)
            }
        }
    }

    fn log(&mut self, line: String) {
        self.outputs.push_back(AgentOutput::Log(line));
    }

    fn new_uuid(&mut self) -> [u8; 16] {
        let a = self.rng.next_u64().to_le_bytes();
        let b = self.rng.next_u64().to_le_bytes();
        let mut u = [0u8; 16];
        u[..8].copy_from_slice(&a);
        u[8..].copy_from_slice(&b);
        u[6] = (u[6] & 0x0f) | 0x40;
        u[8] = (u[8] & 0x3f) | 0x80;
        u
    }
}

impl core::fmt::Debug for Agent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Agent")
            .field("id", &self.id)
            .field("link", &self.link)
            .field("executors", &self.executors.len())
            .finish()
    }
}

#[cfg(test)]
mod tests;
