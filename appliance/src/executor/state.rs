//! The executor's decisions (command executor for one `LAUNCH`, default executor for
//! `LAUNCH_GROUP`s): which status updates to send, when to signal the task, when to
//! resubscribe and when to exit. No I/O: time comes in as an argument, actions go out through
//! [`Supervisor::poll_action`] and the next deadline through [`Supervisor::poll_timeout`].
//!
//! Poll order after every input: drain `poll_action()` (performing each action in order), then
//! sleep until `poll_timeout()` or the next input, whichever is first.

use std::collections::VecDeque;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use mesolite_core::rng::Rng;
use mesolite_core::task_state::TaskState;
use mesolite_platform::process::Signal;

use super::env::ExecutorEnv;
use super::wire::{
    base64_decode, base64_encode, Call, Event, Id, KillPolicy, SubscribeBody, TaskInfo, TaskStatus,
    UpdateBody,
};

/// How long the executor waits for the agent to acknowledge its terminal update while connected
/// before it gives up and exits anyway.
pub(crate) const TERMINAL_ACK_TIMEOUT: Duration = Duration::from_secs(60);
/// The first pause before resubscribing after the agent connection dropped.
const INITIAL_BACKOFF: Duration = Duration::from_millis(500);

/// How the executor ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The terminal update of the task was acknowledged, or there was nothing to run.
    Completed,
    /// The agent never acknowledged the terminal update within [`TERMINAL_ACK_TIMEOUT`].
    AckTimedOut,
    /// The agent connection was lost for good (non-checkpointing framework, or the recovery
    /// timeout passed); the task was killed.
    AgentLost,
}

/// What to run for a task: program, `argv[0]`, the other arguments and the extra environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LaunchSpec {
    pub program: String,
    pub argv0: Option<String>,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// Something the driver must do.
#[derive(Debug)]
pub(crate) enum Action {
    /// Open a new `SUBSCRIBE` stream with the body from [`Supervisor::subscribe_call`].
    Subscribe,
    /// Start a task's process, then report with [`Supervisor::handle_launched`].
    Launch(Id, LaunchSpec),
    /// Send a signal to a task's process.
    Signal(Id, Signal),
    /// `POST` an `UPDATE` call built by [`Supervisor::update_call`].
    Send(TaskStatus),
    /// Stop the executor.
    Exit(Outcome),
}

/// What the executor is, decided by the first task it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing received yet.
    Empty,
    /// Mesos' command executor: one task from a `LAUNCH`.
    Command,
    /// Mesos' default executor: task groups from `LAUNCH_GROUP`s, each killed as a whole.
    Default,
}

/// An update not yet acknowledged by the agent.
#[derive(Debug)]
struct Unacked {
    status: TaskStatus,
    /// Whether the agent has been offered this update, by `UPDATE` or in a `SUBSCRIBE`.
    offered: bool,
}

#[derive(Debug)]
struct Task {
    id: Id,
    /// The `TaskInfo` as received, for `unacknowledged_tasks`.
    raw: serde_json::Value,
    kill_policy: Option<KillPolicy>,
    /// The task group (its index in launch order) in default-executor mode.
    group: Option<usize>,
    running: bool,
    kill_requested: bool,
    /// The grace period of a kill requested before the process started.
    pending_grace: Option<Duration>,
    /// When to escalate from SIGTERM to SIGKILL.
    sigkill_at: Option<Instant>,
    /// Whether the agent acknowledged any update of this task (then it knows the task).
    acknowledged_once: bool,
    terminal_sent: bool,
}

#[derive(Debug)]
enum Link {
    Subscribing,
    Connected,
    Disconnected { since: Instant, retry_at: Instant },
}

/// The executor's state: its tasks, their unacknowledged updates and the agent link.
#[derive(Debug)]
pub(crate) struct Supervisor {
    framework_id: Id,
    executor_id: Id,
    shutdown_grace: Duration,
    checkpoint: bool,
    recovery_timeout: Duration,
    backoff_max: Duration,
    backoff: Duration,
    rng: Rng,
    mode: Mode,
    tasks: Vec<Task>,
    groups: usize,
    /// Bounded by three updates (STARTING, RUNNING, terminal) per task plus one `TASK_FAILED`
    /// per task refused by this executor.
    unacked: Vec<Unacked>,
    actions: VecDeque<Action>,
    link: Link,
    shutting_down: bool,
    /// Exit anyway at this time if the terminal updates stay unacknowledged.
    ack_deadline: Option<Instant>,
    exited: bool,
}

impl Supervisor {
    pub fn new(env: &ExecutorEnv, seed: u64) -> Self {
        let mut actions = VecDeque::new();
        actions.push_back(Action::Subscribe);
        Self {
            framework_id: Id::new(env.framework_id.clone()),
            executor_id: Id::new(env.executor_id.clone()),
            shutdown_grace: env.shutdown_grace,
            checkpoint: env.checkpoint,
            recovery_timeout: env.recovery_timeout,
            backoff_max: env.backoff_max.max(INITIAL_BACKOFF),
            backoff: INITIAL_BACKOFF,
            rng: Rng::from_seed(seed),
            mode: Mode::Empty,
            tasks: Vec::new(),
            groups: 0,
            unacked: Vec::new(),
            actions,
            link: Link::Subscribing,
            shutting_down: false,
            ack_deadline: None,
            exited: false,
        }
    }

    // Getters.

    /// The tasks whose processes are running (the driver polls for their exits).
    pub fn running_tasks(&self) -> impl Iterator<Item = &Id> {
        self.tasks.iter().filter(|t| t.running).map(|t| &t.id)
    }

    /// The JSON body of a `SUBSCRIBE` call, carrying everything still unacknowledged. Marks the
    /// unacknowledged updates as offered.
    pub fn subscribe_call(&mut self) -> Vec<u8> {
        for u in &mut self.unacked {
            u.offered = true;
        }
        let tasks = self
            .tasks
            .iter()
            .filter(|t| !t.acknowledged_once)
            .map(|t| &t.raw)
            .collect();
        let updates = self
            .unacked
            .iter()
            .map(|u| UpdateBody { status: &u.status })
            .collect();
        let call = Call {
            kind: "SUBSCRIBE",
            framework_id: &self.framework_id,
            executor_id: &self.executor_id,
            subscribe: Some(SubscribeBody {
                unacknowledged_tasks: tasks,
                unacknowledged_updates: updates,
            }),
            update: None,
        };
        serde_json::to_vec(&call).unwrap_or_default()
    }

    /// The JSON body of an `UPDATE` call for `status`.
    pub fn update_call(&self, status: &TaskStatus) -> Vec<u8> {
        let call = Call {
            kind: "UPDATE",
            framework_id: &self.framework_id,
            executor_id: &self.executor_id,
            subscribe: None,
            update: Some(UpdateBody { status }),
        };
        serde_json::to_vec(&call).unwrap_or_default()
    }

    // Inputs.

    /// An event arrived on the subscription stream. `wall` is seconds since the Unix epoch.
    pub fn handle_event(&mut self, now: Instant, wall: f64, event: Event) {
        match event.kind.as_str() {
            "SUBSCRIBED" => self.handle_subscribed(now),
            "LAUNCH" => {
                if let Some(launch) = event.launch {
                    self.handle_launch(now, wall, launch.task);
                }
            }
            "LAUNCH_GROUP" => {
                if let Some(launch) = event.launch_group {
                    self.handle_launch_group(now, wall, launch.task_group.tasks);
                }
            }
            "KILL" => {
                if let Some(kill) = event.kill {
                    let grace = kill.kill_policy.as_ref().and_then(KillPolicy::grace);
                    self.handle_kill(now, &kill.task_id, grace);
                }
            }
            "ACKNOWLEDGED" => {
                if let Some(ack) = event.acknowledged {
                    self.handle_acknowledged(&ack.task_id, &ack.uuid);
                }
            }
            "SHUTDOWN" => self.handle_shutdown(now),
            "ERROR" => {
                let message = event.error.and_then(|e| e.message).unwrap_or_default();
                eprintln!("mesolite executor: the agent reported an error: {message}");
            }
            // HEARTBEAT, MESSAGE and types added later need no action.
            _ => {}
        }
    }

    fn handle_subscribed(&mut self, now: Instant) {
        self.link = Link::Connected;
        self.backoff = INITIAL_BACKOFF;
        // Updates created after the SUBSCRIBE body was built were not offered yet.
        for u in &mut self.unacked {
            if !u.offered {
                u.offered = true;
                self.actions.push_back(Action::Send(u.status.clone()));
            }
        }
        if self.all_terminal_sent() {
            self.ack_deadline = Some(now + TERMINAL_ACK_TIMEOUT);
        }
    }

    /// Parses a received `TaskInfo`; `None` (logged) when it has no usable task id.
    fn parse_task(raw: &serde_json::Value, what: &str) -> Option<TaskInfo> {
        match serde_json::from_value(raw.clone()) {
            Ok(info) => Some(info),
            Err(e) => {
                // Without a task id there is nobody to report a status for.
                eprintln!("mesolite executor: ignoring a {what} with an invalid task: {e}");
                None
            }
        }
    }

    fn handle_launch(&mut self, now: Instant, wall: f64, raw: serde_json::Value) {
        let Some(info) = Self::parse_task(&raw, "LAUNCH") else {
            return;
        };
        let refused = match self.mode {
            Mode::Empty => None,
            Mode::Command => Some("Attempted to run multiple tasks using a command executor"),
            Mode::Default => Some("The default executor runs task groups only (LAUNCH_GROUP)"),
        };
        if let Some(message) = refused {
            self.queue_update(info.task_id, TaskState::Failed, Some(message.into()), wall);
            return;
        }
        self.mode = Mode::Command;
        self.start_task(now, wall, info, raw, None);
    }

    /// `LAUNCH_GROUP`: every task of the group starts as its own child process.
    fn handle_launch_group(&mut self, now: Instant, wall: f64, raws: Vec<serde_json::Value>) {
        let infos: Vec<(TaskInfo, serde_json::Value)> = raws
            .into_iter()
            .filter_map(|raw| Some((Self::parse_task(&raw, "LAUNCH_GROUP")?, raw)))
            .collect();
        if self.mode == Mode::Command {
            for (info, _) in infos {
                let message = "Attempted to run a task group using a command executor";
                self.queue_update(info.task_id, TaskState::Failed, Some(message.into()), wall);
            }
            return;
        }
        self.mode = Mode::Default;
        let group = self.groups;
        self.groups += 1;
        for (info, raw) in infos {
            self.start_task(now, wall, info, raw, Some(group));
        }
    }

    fn start_task(
        &mut self,
        now: Instant,
        wall: f64,
        info: TaskInfo,
        raw: serde_json::Value,
        group: Option<usize>,
    ) {
        let spec = launch_spec(&info);
        self.tasks.push(Task {
            id: info.task_id.clone(),
            raw,
            kill_policy: info.kill_policy,
            group,
            running: false,
            kill_requested: false,
            pending_grace: None,
            sigkill_at: None,
            acknowledged_once: false,
            terminal_sent: false,
        });
        // MESOS-7941: the built-in executors send TASK_STARTING before TASK_RUNNING.
        self.queue_update(info.task_id.clone(), TaskState::Starting, None, wall);
        match spec {
            Ok(spec) => self.actions.push_back(Action::Launch(info.task_id, spec)),
            Err(message) => {
                self.finish_task(&info.task_id, TaskState::Failed, message.into(), now, wall)
            }
        }
    }

    /// The driver started the task's process (`Ok`) or could not (`Err` with the reason).
    pub fn handle_launched(
        &mut self,
        now: Instant,
        wall: f64,
        task_id: &Id,
        result: Result<(), String>,
    ) {
        let Some(task) = self.tasks.iter_mut().find(|t| &t.id == task_id) else {
            return;
        };
        if task.terminal_sent {
            return;
        }
        match result {
            Ok(()) => {
                task.running = true;
                let pending = task.kill_requested.then_some(task.pending_grace);
                task.kill_requested = false;
                self.queue_update(task_id.clone(), TaskState::Running, None, wall);
                if let Some(grace) = pending {
                    self.kill_task(now, task_id, grace);
                } else if self.shutting_down {
                    self.kill_task(now, task_id, Some(self.shutdown_grace));
                }
            }
            Err(message) => self.finish_task(task_id, TaskState::Failed, message, now, wall),
        }
    }

    /// `KILL`: the task, and in a default executor every task of its group.
    fn handle_kill(&mut self, now: Instant, task_id: &Id, grace: Option<Duration>) {
        let Some(task) = self.tasks.iter().find(|t| &t.id == task_id) else {
            return;
        };
        match task.group {
            Some(group) => self.kill_group(now, group, grace),
            None => self.kill_task(now, task_id, grace),
        }
    }

    /// Kills every unfinished task of a group (Mesos' default executor kills the whole group
    /// when one of its tasks is killed or fails).
    fn kill_group(&mut self, now: Instant, group: usize, grace: Option<Duration>) {
        let members: Vec<Id> = self
            .tasks
            .iter()
            .filter(|t| t.group == Some(group) && !t.terminal_sent)
            .map(|t| t.id.clone())
            .collect();
        for id in members {
            self.kill_task(now, &id, grace);
        }
    }

    /// Sends SIGTERM now and schedules SIGKILL after the grace period: the one in the `KILL`, else
    /// the task's kill policy, else the shutdown grace period. A second kill can shorten the grace.
    /// A task whose process has not started yet is killed as soon as it starts.
    fn kill_task(&mut self, now: Instant, task_id: &Id, grace: Option<Duration>) {
        let default_grace = self.shutdown_grace;
        let Some(task) = self
            .tasks
            .iter_mut()
            .find(|t| &t.id == task_id && !t.terminal_sent)
        else {
            return;
        };
        if !task.running {
            task.kill_requested = true;
            task.pending_grace = grace.or(task.pending_grace);
            return;
        }
        let grace = grace
            .or_else(|| task.kill_policy.as_ref().and_then(KillPolicy::grace))
            .unwrap_or(default_grace);
        let sigkill_at = now + grace;
        if !task.kill_requested {
            task.kill_requested = true;
            self.actions
                .push_back(Action::Signal(task_id.clone(), Signal::TERM));
        }
        if task.sigkill_at.is_none_or(|at| sigkill_at < at) {
            task.sigkill_at = Some(sigkill_at);
        }
    }

    fn handle_acknowledged(&mut self, task_id: &Id, uuid: &str) {
        let Some(uuid) = base64_decode(uuid) else {
            return;
        };
        let before = self.unacked.len();
        self.unacked.retain(|u| {
            !(&u.status.task_id == task_id
                && base64_decode(&u.status.uuid).is_some_and(|mine| mine == uuid))
        });
        if self.unacked.len() == before {
            return;
        }
        if let Some(task) = self.tasks.iter_mut().find(|t| &t.id == task_id) {
            task.acknowledged_once = true;
        }
        self.exit_if_done();
    }

    /// The agent sent `SHUTDOWN`, or the executor got SIGTERM/SIGINT: kill every task with the
    /// shutdown grace period and exit once their terminal updates are acknowledged.
    pub fn handle_shutdown(&mut self, now: Instant) {
        self.shutting_down = true;
        let ids: Vec<Id> = self
            .tasks
            .iter()
            .filter(|t| !t.terminal_sent)
            .map(|t| t.id.clone())
            .collect();
        for id in &ids {
            self.kill_task(now, id, Some(self.shutdown_grace));
        }
        if ids.is_empty() {
            self.exit_if_done();
        }
    }

    /// A task's process exited with `status`.
    pub fn handle_task_exit(&mut self, now: Instant, wall: f64, task_id: &Id, status: ExitStatus) {
        let Some(task) = self
            .tasks
            .iter_mut()
            .find(|t| &t.id == task_id && t.running)
        else {
            return;
        };
        task.running = false;
        task.sigkill_at = None;
        let state = if task.kill_requested {
            TaskState::Killed
        } else if status.success() {
            TaskState::Finished
        } else {
            TaskState::Failed
        };
        self.finish_task(task_id, state, describe_exit(status), now, wall);
    }

    /// The subscription could not be opened, or it ended.
    pub fn handle_disconnected(&mut self, now: Instant) {
        if !self.checkpoint {
            // A non-checkpointing framework's executor does not outlive its agent connection.
            self.give_up();
            return;
        }
        let since = match self.link {
            Link::Disconnected { since, .. } => since,
            Link::Subscribing | Link::Connected => now,
        };
        // While the agent is away, recovery_timeout bounds the wait instead of the ack timeout.
        self.ack_deadline = None;
        self.link = Link::Disconnected {
            since,
            retry_at: now + self.backoff,
        };
        self.backoff = (self.backoff * 2).min(self.backoff_max);
    }

    /// Time passed; fire what is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        for task in &mut self.tasks {
            if task.sigkill_at.is_some_and(|at| at <= now) {
                task.sigkill_at = None;
                self.actions
                    .push_back(Action::Signal(task.id.clone(), Signal::KILL));
            }
        }
        if let Link::Disconnected { since, retry_at } = self.link {
            if now >= since + self.recovery_timeout {
                self.give_up();
            } else if now >= retry_at {
                self.link = Link::Subscribing;
                self.actions.push_back(Action::Subscribe);
            }
        }
        if self.ack_deadline.is_some_and(|at| at <= now) {
            self.exit(Outcome::AckTimedOut);
        }
    }

    // Outputs.

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The earliest time [`Supervisor::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let sigkill = self.tasks.iter().filter_map(|t| t.sigkill_at).min();
        let link = match self.link {
            Link::Disconnected { since, retry_at } => {
                Some(retry_at.min(since + self.recovery_timeout))
            }
            Link::Subscribing | Link::Connected => None,
        };
        [sigkill, link, self.ack_deadline]
            .into_iter()
            .flatten()
            .min()
    }

    // Helpers.

    fn all_terminal_sent(&self) -> bool {
        !self.tasks.is_empty() && self.tasks.iter().all(|t| t.terminal_sent)
    }

    /// Sends a task's terminal update; in a default executor a task that failed or was killed
    /// takes the rest of its group with it.
    fn finish_task(
        &mut self,
        task_id: &Id,
        state: TaskState,
        message: String,
        now: Instant,
        wall: f64,
    ) {
        let Some(task) = self
            .tasks
            .iter_mut()
            .find(|t| &t.id == task_id && !t.terminal_sent)
        else {
            return;
        };
        task.terminal_sent = true;
        task.running = false;
        let group = task.group;
        self.queue_update(task_id.clone(), state, Some(message), wall);
        if let Some(group) = group.filter(|_| state != TaskState::Finished) {
            self.kill_group(now, group, None);
        }
        if self.all_terminal_sent() && matches!(self.link, Link::Connected) {
            self.ack_deadline = Some(now + TERMINAL_ACK_TIMEOUT);
        }
    }

    fn queue_update(&mut self, task_id: Id, state: TaskState, message: Option<String>, wall: f64) {
        let mut uuid = [0u8; 16];
        uuid[..8].copy_from_slice(&self.rng.next_u64().to_le_bytes());
        uuid[8..].copy_from_slice(&self.rng.next_u64().to_le_bytes());
        let status = TaskStatus {
            task_id,
            state: state.name(),
            source: "SOURCE_EXECUTOR",
            uuid: base64_encode(&uuid),
            timestamp: wall,
            executor_id: self.executor_id.clone(),
            message,
        };
        let offered = matches!(self.link, Link::Connected);
        if offered {
            self.actions.push_back(Action::Send(status.clone()));
        }
        self.unacked.push(Unacked { status, offered });
    }

    /// Exits when no task is left to run or report on.
    fn exit_if_done(&mut self) {
        let shutdown_idle = self.shutting_down && self.tasks.is_empty();
        if self.unacked.is_empty() && (shutdown_idle || self.all_terminal_sent()) {
            self.exit(Outcome::Completed);
        }
    }

    fn give_up(&mut self) {
        let running: Vec<Id> = self.running_tasks().cloned().collect();
        for id in running {
            self.actions.push_back(Action::Signal(id, Signal::KILL));
        }
        self.exit(Outcome::AgentLost);
    }

    fn exit(&mut self, outcome: Outcome) {
        if !self.exited {
            self.exited = true;
            self.actions.push_back(Action::Exit(outcome));
        }
    }
}

/// Turns a task's `CommandInfo` into what to execute.
fn launch_spec(info: &TaskInfo) -> Result<LaunchSpec, &'static str> {
    let command = info.command.as_ref().ok_or("The task has no command")?;
    let value = command
        .value
        .clone()
        .filter(|v| !v.is_empty())
        .ok_or("The task's command has no value")?;
    let env = command
        .environment
        .iter()
        .flat_map(|e| e.variables.iter().flatten())
        .filter_map(|v| Some((v.name.clone(), v.value.clone()?)))
        .collect();
    if command.shell.unwrap_or(true) {
        Ok(LaunchSpec {
            program: "/bin/sh".into(),
            argv0: None,
            args: vec!["-c".into(), value],
            env,
        })
    } else {
        let mut arguments = command.arguments.clone().unwrap_or_default().into_iter();
        Ok(LaunchSpec {
            program: value,
            argv0: arguments.next(),
            args: arguments.collect(),
            env,
        })
    }
}

/// Mesos' wording for a command's exit status.
pub(crate) fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("Command exited with status {code}"),
        (None, Some(sig)) => format!("Command terminated with signal {}", signal_name(sig)),
        (None, None) => format!("Command ended with wait status {}", status.into_raw()),
    }
}

/// `strsignal` text for the common signals.
fn signal_name(sig: i32) -> String {
    let name = match Signal::from_named_raw(sig) {
        Some(Signal::HUP) => "Hangup",
        Some(Signal::INT) => "Interrupt",
        Some(Signal::QUIT) => "Quit",
        Some(Signal::ILL) => "Illegal instruction",
        Some(Signal::ABORT) => "Aborted",
        Some(Signal::BUS) => "Bus error",
        Some(Signal::FPE) => "Floating point exception",
        Some(Signal::KILL) => "Killed",
        Some(Signal::USR1) => "User defined signal 1",
        Some(Signal::SEGV) => "Segmentation fault",
        Some(Signal::USR2) => "User defined signal 2",
        Some(Signal::PIPE) => "Broken pipe",
        Some(Signal::ALARM) => "Alarm clock",
        Some(Signal::TERM) => "Terminated",
        _ => return format!("signal {sig}"),
    };
    name.to_owned()
}
