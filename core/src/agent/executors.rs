//! Agent side of executors, containers and tasks: launch, the executor API calls, kill,
//! framework shutdown, executor exit and registration deadlines.

use super::checkpoint::Record;
use super::{Agent, AgentOutput, ExecutorStream};
use crate::ids::{ContainerId, ExecutorId, FrameworkId, TaskId};
use crate::task_state::TaskState;
use crate::time::{Duration, Instant, WallTime};
use crate::wire::{
    executor_dir, sandbox_path, AgentToMaster, FrameworkRecord, StatusReason, StatusSource,
    TaskSpec, TaskStatus,
};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// Events for an executor's stream (the v1 executor `Event` union, before JSON).
#[derive(Clone, Debug, PartialEq)]
pub enum ExecutorEvent {
    Subscribed {
        framework: FrameworkRecord,
        /// The executor as the framework described it (or the generated one).
        executor: Box<crate::wire::ExecutorSpec>,
        agent_id: Option<crate::ids::AgentId>,
        container_id: ContainerId,
    },
    Launch(Box<TaskSpec>),
    /// A task group, delivered whole (the v1 executor `Event.LaunchGroup`).
    LaunchGroup(Vec<TaskSpec>),
    Kill {
        task_id: TaskId,
        grace: Option<Duration>,
    },
    Acknowledged {
        task_id: TaskId,
        uuid: [u8; 16],
    },
    /// Opaque bytes from the scheduler (the v1 executor `Event.Message`).
    Message(Vec<u8>),
    Shutdown,
}

/// Where an executor is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutorState {
    /// Started, or recovered after an agent restart (Mesos `REGISTERING` in both cases); must
    /// subscribe before the deadline.
    Launching { deadline: Instant },
    /// Subscribed (the stream may have dropped; it may subscribe again).
    Running,
    /// Told to shut down; force-killed at the deadline.
    Terminating { kill_at: Instant },
    /// The process ended; kept until its tasks' updates are acknowledged.
    Terminated,
}

/// An executor (and its one container) on this agent.
#[derive(Debug)]
pub(super) struct ExecutorEntry {
    pub framework_id: FrameworkId,
    pub executor_id: ExecutorId,
    pub container_id: ContainerId,
    pub state: ExecutorState,
    pub stream: Option<ExecutorStream>,
    /// Tasks waiting for the executor to subscribe.
    pub queued: Vec<TaskSpec>,
    /// Tasks handed to the executor, with their latest state.
    pub launched: BTreeMap<TaskId, (TaskSpec, TaskState)>,
    /// Tasks the framework asked to kill (a later exit reports them KILLED, not FAILED).
    pub killing: Vec<TaskId>,
    /// A generated command executor (`mesolite executor`), not the framework's own.
    pub command_executor: bool,
    /// The task groups this (default) executor runs, each delivered and killed as a whole.
    pub groups: Vec<Vec<TaskId>>,
    /// The executor as the framework described it (or the generated one).
    pub spec: crate::wire::ExecutorSpec,
    /// The container's process group, once the driver reported it.
    pub pid: Option<u32>,
    /// Recovered from the checkpoint and not subscribed again yet.
    pub recovered: bool,
    /// The uuid of the newest update accepted for each task, to drop updates an executor
    /// resends when it subscribes again.
    pub last_uuid: BTreeMap<TaskId, [u8; 16]>,
}

impl ExecutorEntry {
    /// The group `task_id` belongs to, if it was launched as part of one.
    fn group_of(&self, task_id: &TaskId) -> Option<&Vec<TaskId>> {
        self.groups.iter().find(|g| g.contains(task_id))
    }

    pub fn deadline(&self) -> Option<Instant> {
        match self.state {
            ExecutorState::Launching { deadline } => Some(deadline),
            ExecutorState::Terminating { kill_at } => Some(kill_at),
            _ => None,
        }
    }
}

/// A view of one executor for the agent's state endpoints.
#[derive(Debug)]
pub struct ExecutorView<'a> {
    pub framework_id: &'a FrameworkId,
    pub executor_id: &'a ExecutorId,
    pub container_id: &'a ContainerId,
    pub state: ExecutorState,
    pub tasks: Vec<(&'a TaskSpec, TaskState)>,
    /// The container's process group once known; after an agent restart the process is no
    /// longer the agent's child, so the driver watches this pid to learn that it ended.
    pub pid: Option<u32>,
}

/// Why an executor API call was refused (the driver answers 400 with this text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecutorCallError {
    UnknownExecutor,
    UnknownTask,
    StagingFromExecutor,
    MissingUuid,
    NotSubscribed,
    QueueFull,
    MessageTooLarge,
}

impl fmt::Display for ExecutorCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExecutorCallError::UnknownExecutor => "executor is not known to this agent",
            ExecutorCallError::UnknownTask => "task is not known to this executor",
            ExecutorCallError::StagingFromExecutor => "executors must not send TASK_STAGING",
            ExecutorCallError::MissingUuid => "status update has no uuid",
            ExecutorCallError::NotSubscribed => "executor is not subscribed",
            ExecutorCallError::QueueFull => {
                "too many unacknowledged status updates for this task; retry later"
            }
            ExecutorCallError::MessageTooLarge => "message.data is larger than 4 MiB less 64 KiB",
        })
    }
}

impl Agent {
    pub(super) fn run_task(
        &mut self,
        now: Instant,
        wall: WallTime,
        framework: FrameworkRecord,
        task: TaskSpec,
    ) {
        let Some(agent_id) = self.id.clone() else {
            return;
        };
        let fid = framework.id.clone();
        self.note_framework(framework);
        let key = (fid.clone(), task.executor.executor_id.clone());
        if let Some(exec) = self.executors.get_mut(&key) {
            let added = Record::TasksAdded {
                framework_id: fid.clone(),
                executor_id: key.1.clone(),
                tasks: alloc::vec![task.clone()],
                group: false,
            };
            match (exec.state, exec.stream) {
                (ExecutorState::Running, Some(stream)) => {
                    exec.launched
                        .insert(task.task_id.clone(), (task.clone(), TaskState::Staging));
                    self.record(added);
                    self.emit_exec(
                        now,
                        AgentOutput::ToExecutor {
                            stream,
                            event: ExecutorEvent::Launch(Box::new(task)),
                        },
                    );
                }
                (ExecutorState::Launching { .. }, _) | (ExecutorState::Running, None) => {
                    exec.queued.push(task);
                    self.record(added);
                }
                _ => {
                    exec.launched
                        .insert(task.task_id.clone(), (task.clone(), TaskState::Lost));
                    self.record(added);
                    let status = self.agent_status(
                        &task.task_id,
                        TaskState::Lost,
                        StatusReason::ExecutorTerminated,
                        "executor is terminating",
                        &key.1,
                        wall,
                    );
                    self.queue_update(now, fid, &key.1, status);
                }
            }
            return;
        }
        let executor = task.executor.clone();
        let command_executor = executor.command.is_none();
        self.start_executor(
            now,
            &agent_id,
            fid,
            &executor,
            alloc::vec![task],
            Vec::new(),
            command_executor,
        );
    }

    /// RunTaskGroup: the tasks go to their default executor together, or all are lost.
    pub(super) fn run_task_group(
        &mut self,
        now: Instant,
        wall: WallTime,
        framework: FrameworkRecord,
        executor: crate::wire::ExecutorSpec,
        tasks: Vec<TaskSpec>,
    ) {
        let Some(agent_id) = self.id.clone() else {
            return;
        };
        let fid = framework.id.clone();
        self.note_framework(framework);
        let key = (fid.clone(), executor.executor_id.clone());
        let ids: Vec<TaskId> = tasks.iter().map(|t| t.task_id.clone()).collect();
        if let Some(exec) = self.executors.get_mut(&key) {
            let added = Record::TasksAdded {
                framework_id: fid.clone(),
                executor_id: key.1.clone(),
                tasks: tasks.clone(),
                group: true,
            };
            match (exec.state, exec.stream) {
                (ExecutorState::Running, Some(stream)) => {
                    for t in &tasks {
                        exec.launched
                            .insert(t.task_id.clone(), (t.clone(), TaskState::Staging));
                    }
                    exec.groups.push(ids);
                    self.record(added);
                    self.emit_exec(
                        now,
                        AgentOutput::ToExecutor {
                            stream,
                            event: ExecutorEvent::LaunchGroup(tasks),
                        },
                    );
                }
                (ExecutorState::Launching { .. }, _) | (ExecutorState::Running, None) => {
                    exec.groups.push(ids);
                    exec.queued.extend(tasks);
                    self.record(added);
                }
                _ => {
                    for t in tasks {
                        exec.launched
                            .insert(t.task_id.clone(), (t, TaskState::Lost));
                    }
                    exec.groups.push(ids.clone());
                    self.record(added);
                    for task_id in ids {
                        let status = self.agent_status(
                            &task_id,
                            TaskState::Lost,
                            StatusReason::ExecutorTerminated,
                            "executor is terminating",
                            &key.1,
                            wall,
                        );
                        self.queue_update(now, fid.clone(), &key.1, status);
                    }
                }
            }
            return;
        }
        self.start_executor(
            now,
            &agent_id,
            fid,
            &executor,
            tasks,
            alloc::vec![ids],
            false,
        );
    }

    /// Creates the executor's container and asks the driver to start it with `queued` waiting
    /// for its subscription.
    #[allow(clippy::too_many_arguments)]
    fn start_executor(
        &mut self,
        now: Instant,
        agent_id: &crate::ids::AgentId,
        fid: FrameworkId,
        executor: &crate::wire::ExecutorSpec,
        queued: Vec<TaskSpec>,
        groups: Vec<Vec<TaskId>>,
        command_executor: bool,
    ) {
        let container_id = ContainerId::new(self.new_container_id());
        let executor_id = executor.executor_id.clone();
        let sandbox = sandbox_path(agent_id, &fid, &executor_id, &container_id);
        let dir = executor_dir(agent_id, &fid, &executor_id);
        // mesolite recovers every framework's executors, whatever `FrameworkInfo.checkpoint`
        // says, so every executor is told to re-subscribe to a restarted agent.
        let env = alloc::vec![
            (String::from("MESOS_FRAMEWORK_ID"), fid.to_string()),
            (String::from("MESOS_EXECUTOR_ID"), executor_id.to_string()),
            (String::from("MESOS_AGENT_ID"), agent_id.to_string()),
            (String::from("MESOS_SLAVE_ID"), agent_id.to_string()),
            (String::from("MESOS_CONTAINER_ID"), container_id.to_string()),
            (String::from("MESOS_CHECKPOINT"), String::from("1")),
            (
                String::from("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"),
                alloc::format!("{}secs", self.cfg.executor_shutdown_grace.as_secs()),
            ),
        ];
        self.record(Record::ExecutorLaunched {
            framework_id: fid.clone(),
            executor_id: executor_id.clone(),
            container_id: container_id.clone(),
            spec: executor.clone(),
            sandbox: sandbox.clone(),
            command_executor,
        });
        // One TasksAdded per group, in queue order; lone tasks one each.
        let mut i = 0;
        while i < queued.len() {
            let group = groups.iter().find(|g| g.contains(&queued[i].task_id));
            let n = match group {
                Some(g) => queued[i..]
                    .iter()
                    .take_while(|t| g.contains(&t.task_id))
                    .count(),
                None => 1,
            };
            self.record(Record::TasksAdded {
                framework_id: fid.clone(),
                executor_id: executor_id.clone(),
                tasks: queued[i..i + n].to_vec(),
                group: group.is_some(),
            });
            i += n;
        }
        self.emit_exec(
            now,
            AgentOutput::LaunchExecutor {
                framework_id: fid.clone(),
                executor_id: executor_id.clone(),
                container_id: container_id.clone(),
                sandbox,
                executor_dir: dir,
                command: executor.command.clone(),
                env,
                volumes: super::volumes::volume_mounts(
                    executor
                        .resources
                        .iter()
                        .chain(queued.iter().flat_map(|t| t.resources.iter())),
                ),
            },
        );
        let key = (fid.clone(), executor_id.clone());
        self.containers.insert(container_id.clone(), key.clone());
        self.executors.insert(
            key,
            ExecutorEntry {
                framework_id: fid,
                executor_id,
                container_id,
                state: ExecutorState::Launching {
                    deadline: now + self.cfg.executor_registration_timeout,
                },
                stream: None,
                queued,
                launched: BTreeMap::new(),
                killing: Vec::new(),
                command_executor,
                groups,
                spec: executor.clone(),
                pid: None,
                recovered: false,
                last_uuid: BTreeMap::new(),
            },
        );
    }

    fn new_container_id(&mut self) -> String {
        let u = self.new_uuid();
        let mut s = String::with_capacity(36);
        for (i, b) in u.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                s.push('-');
            }
            let _ = core::fmt::Write::write_fmt(&mut s, format_args!("{b:02x}"));
        }
        s
    }

    /// SUBSCRIBE from an executor that has nothing unacknowledged (a new executor). An executor
    /// subscribing again (after its stream dropped or the agent restarted) must use
    /// [`Agent::handle_executor_subscribe_with`] so that nothing it holds is lost or run twice.
    pub fn handle_executor_subscribe(
        &mut self,
        now: Instant,
        stream: ExecutorStream,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
    ) -> Result<(), ExecutorCallError> {
        self.handle_executor_subscribe_with(
            now,
            WallTime::default(),
            stream,
            framework_id,
            executor_id,
            &[],
            Vec::new(),
        )
    }

    /// SUBSCRIBE from an executor on a new event stream, with what the executor holds that the
    /// agent has not acknowledged: the tasks it received and has not had an update acknowledged
    /// for (`unacknowledged_tasks`) and its unacknowledged updates, oldest first.
    ///
    /// Updates are accepted as if sent again with UPDATE, except those the agent already
    /// accepted (matched by uuid against the newest accepted one) and those of tasks that are
    /// already terminal here; either way the executor gets `ACKNOWLEDGED` so it forgets them.
    /// After an agent restart, a task the agent handed over but the executor neither lists nor
    /// has an update for never reached it (the `LAUNCH` was lost with the agent): it is
    /// delivered again. The agent checkpoints whole `TaskSpec`s, which Mesos does not (it
    /// reports such tasks `TASK_LOST`, with a TODO to relaunch them instead).
    #[allow(clippy::too_many_arguments)]
    pub fn handle_executor_subscribe_with(
        &mut self,
        now: Instant,
        wall: WallTime,
        stream: ExecutorStream,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        unacknowledged_tasks: &[TaskId],
        unacknowledged_updates: Vec<TaskStatus>,
    ) -> Result<(), ExecutorCallError> {
        let key = (framework_id.clone(), executor_id.clone());
        let framework = self
            .frameworks
            .get(framework_id)
            .cloned()
            .ok_or(ExecutorCallError::UnknownExecutor)?;
        let agent_id = self.id.clone();
        let exec = self
            .executors
            .get_mut(&key)
            .ok_or(ExecutorCallError::UnknownExecutor)?;
        if matches!(
            exec.state,
            ExecutorState::Terminated | ExecutorState::Terminating { .. }
        ) {
            return Err(ExecutorCallError::UnknownExecutor);
        }
        let old = exec.stream.replace(stream);
        exec.state = ExecutorState::Running;
        let recovered = core::mem::replace(&mut exec.recovered, false);
        if recovered {
            // Handed over before the restart, unknown to the executor: deliver again.
            let lost: Vec<TaskId> = exec
                .launched
                .iter()
                .filter(|(id, (_, state))| {
                    *state == TaskState::Staging
                        && !unacknowledged_tasks.contains(id)
                        && !unacknowledged_updates.iter().any(|u| &u.task_id == *id)
                })
                .map(|(id, _)| id.clone())
                .collect();
            for id in lost {
                if let Some((spec, _)) = exec.launched.remove(&id) {
                    exec.queued.push(spec);
                }
            }
        }
        let container_id = exec.container_id.clone();
        let spec = Box::new(exec.spec.clone());
        let queued = core::mem::take(&mut exec.queued);
        for t in &queued {
            exec.launched
                .insert(t.task_id.clone(), (t.clone(), TaskState::Staging));
        }
        let groups = exec.groups.clone();
        if let Some(old) = old {
            self.streams.remove(&old);
            self.emit_exec(now, AgentOutput::CloseExecutorStream { stream: old });
        }
        self.streams.insert(stream, key.clone());
        self.emit_exec(
            now,
            AgentOutput::ToExecutor {
                stream,
                event: ExecutorEvent::Subscribed {
                    framework,
                    executor: spec,
                    agent_id,
                    container_id,
                },
            },
        );
        self.accept_resent_updates(now, wall, &key, stream, unacknowledged_updates);
        let mut queued = queued.into_iter().map(Some).collect::<Vec<_>>();
        for i in 0..queued.len() {
            let Some(t) = queued[i].take() else {
                continue;
            };
            let event = match groups.iter().find(|g| g.contains(&t.task_id)) {
                Some(group) => {
                    // The whole group goes in one LAUNCH_GROUP, in queue order.
                    let mut tasks = alloc::vec![t];
                    for slot in queued.iter_mut().skip(i + 1) {
                        if slot.as_ref().is_some_and(|o| group.contains(&o.task_id)) {
                            tasks.extend(slot.take());
                        }
                    }
                    ExecutorEvent::LaunchGroup(tasks)
                }
                None => ExecutorEvent::Launch(Box::new(t)),
            };
            self.emit_exec(now, AgentOutput::ToExecutor { stream, event });
        }
        // An executor recovered with nothing left to run was being shut down when the agent
        // stopped (that is not checkpointed): shut it down again.
        let idle = self.executors.get(&key).is_some_and(|e| {
            e.queued.is_empty() && e.launched.values().all(|(_, s)| s.is_terminal())
        });
        if recovered && idle {
            let container = self.executors[&key].container_id.clone();
            self.begin_shutdown(now, &key, container);
        }
        Ok(())
    }

    /// An executor's event stream closed; the executor may subscribe again while it lives.
    pub fn handle_executor_stream_closed(&mut self, stream: ExecutorStream) {
        if let Some(key) = self.streams.remove(&stream) {
            if let Some(exec) = self.executors.get_mut(&key) {
                if exec.stream == Some(stream) {
                    exec.stream = None;
                }
            }
        }
    }

    /// UPDATE from an executor: queued reliably, acknowledged to the executor, forwarded to the master.
    pub fn handle_executor_update(
        &mut self,
        now: Instant,
        wall: WallTime,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        mut status: TaskStatus,
    ) -> Result<(), ExecutorCallError> {
        let key = (framework_id.clone(), executor_id.clone());
        let exec = self
            .executors
            .get_mut(&key)
            .ok_or(ExecutorCallError::UnknownExecutor)?;
        let stream = exec.stream.ok_or(ExecutorCallError::NotSubscribed)?;
        if status.state == TaskState::Staging {
            return Err(ExecutorCallError::StagingFromExecutor);
        }
        let uuid = status.uuid.ok_or(ExecutorCallError::MissingUuid)?;
        let task_id = status.task_id.clone();
        let duplicate = exec.last_uuid.get(&task_id) == Some(&uuid)
            || self.updates.contains(framework_id, &task_id, uuid);
        let exec = self
            .executors
            .get_mut(&key)
            .ok_or(ExecutorCallError::UnknownExecutor)?;
        let entry = exec
            .launched
            .get_mut(&status.task_id)
            .ok_or(ExecutorCallError::UnknownTask)?;
        // A task ends once: an update after its terminal state (an executor that comes back
        // after the agent declared it gone) is acknowledged and dropped.
        let ended_as = entry.1.is_terminal().then_some(entry.1);
        if let (false, Some(end)) = (duplicate, ended_as) {
            let line = alloc::format!(
                "dropping update {} of task {task_id} from executor {executor_id}: the task \
                 already ended as {}",
                status.state.name(),
                end.name()
            );
            self.log(line);
        } else if !duplicate {
            if self.updates.len(framework_id, &task_id) >= super::updates::MAX_PENDING_PER_TASK {
                return Err(ExecutorCallError::QueueFull);
            }
            entry.1 = status.state;
            status.agent_id = self.id.clone();
            status.executor_id = Some(executor_id.clone());
            status.source = StatusSource::Executor;
            if status.timestamp.unix_nanos == 0 {
                status.timestamp = wall;
            }
            self.queue_update(now, framework_id.clone(), executor_id, status);
        }
        // The executor may forget the update once it is durable (see `persist.rs`).
        self.emit_exec(
            now,
            AgentOutput::ToExecutor {
                stream,
                event: ExecutorEvent::Acknowledged { task_id, uuid },
            },
        );
        Ok(())
    }

    /// The executor's process (its container) ended with `wait_status`.
    pub fn handle_container_exited(
        &mut self,
        now: Instant,
        wall: WallTime,
        container_id: &ContainerId,
        wait_status: i32,
    ) {
        let Some(key) = self.containers.remove(container_id) else {
            return;
        };
        let Some(exec) = self.executors.get_mut(&key) else {
            return;
        };
        exec.state = ExecutorState::Terminated;
        exec.recovered = false;
        let command_executor = exec.command_executor;
        let stream = exec.stream.take();
        self.record(Record::ExecutorEnded {
            framework_id: key.0.clone(),
            executor_id: key.1.clone(),
        });
        if let Some(stream) = stream {
            self.streams.remove(&stream);
            self.emit_exec(now, AgentOutput::CloseExecutorStream { stream });
        }
        let Some(exec) = self.executors.get_mut(&key) else {
            return;
        };
        let mut unfinished: Vec<(TaskId, bool)> = Vec::new();
        let queued: Vec<TaskSpec> = exec.queued.drain(..).collect();
        for t in queued {
            unfinished.push((t.task_id.clone(), exec.killing.contains(&t.task_id)));
            exec.launched
                .insert(t.task_id.clone(), (t, TaskState::Staging));
        }
        for (id, (_, state)) in exec.launched.iter() {
            if !state.is_terminal() {
                unfinished.push((id.clone(), exec.killing.contains(id)));
            }
        }
        for (task_id, killed) in unfinished {
            let (state, message) = if killed {
                (TaskState::Killed, "task killed; executor exited")
            } else {
                (
                    TaskState::Failed,
                    "executor exited before the task finished",
                )
            };
            let status = self.agent_status(
                &task_id,
                state,
                StatusReason::ExecutorTerminated,
                message,
                &key.1,
                wall,
            );
            if let Some(exec) = self.executors.get_mut(&key) {
                if let Some(entry) = exec.launched.get_mut(&task_id) {
                    entry.1 = state;
                }
            }
            self.queue_update(now, key.0.clone(), &key.1, status);
        }
        if self.link == super::MasterLink::Registered {
            self.outputs
                .push_back(AgentOutput::ToMaster(AgentToMaster::ExecutorExited {
                    framework_id: key.0.clone(),
                    executor_id: key.1.clone(),
                    status: wait_status,
                    command_executor,
                }));
        }
        self.forget_finished_executor(&key);
        self.check_teardown(now);
    }

    pub(super) fn kill_task(
        &mut self,
        now: Instant,
        wall: WallTime,
        framework_id: &FrameworkId,
        task_id: &TaskId,
    ) {
        let Some((key, exec)) = self.executors.iter_mut().find(|((f, _), e)| {
            f == framework_id
                && (e.launched.contains_key(task_id)
                    || e.queued.iter().any(|t| &t.task_id == task_id))
        }) else {
            self.log(alloc::format!(
                "asked to kill unknown task {task_id} of framework {framework_id}"
            ));
            return;
        };
        let key = key.clone();
        // Killing one task of a group kills the whole group (Mesos' default executor).
        let victims: Vec<TaskId> = exec
            .group_of(task_id)
            .cloned()
            .unwrap_or_else(|| alloc::vec![task_id.clone()]);
        if exec.queued.iter().any(|t| &t.task_id == task_id) {
            // Not yet with the executor: it never launches.
            let mut killed = Vec::new();
            while let Some(pos) = exec
                .queued
                .iter()
                .position(|t| victims.contains(&t.task_id))
            {
                let task = exec.queued.remove(pos);
                killed.push(task.task_id.clone());
                exec.launched
                    .insert(task.task_id.clone(), (task, TaskState::Killed));
            }
            let nothing_left =
                exec.queued.is_empty() && exec.launched.values().all(|(_, s)| s.is_terminal());
            let container = exec.container_id.clone();
            for victim in killed {
                let status = self.agent_status(
                    &victim,
                    TaskState::Killed,
                    StatusReason::TaskKilledDuringLaunch,
                    "killed before the executor received it",
                    &key.1,
                    wall,
                );
                self.queue_update(now, key.0.clone(), &key.1, status);
            }
            if nothing_left {
                self.begin_shutdown(now, &key, container);
            }
            return;
        }
        for victim in victims {
            if !exec.killing.contains(&victim) {
                exec.killing.push(victim);
            }
        }
        let grace = exec.launched.get(task_id).and_then(|(t, _)| t.kill_grace);
        let out = match exec.stream {
            Some(stream) => AgentOutput::ToExecutor {
                stream,
                event: ExecutorEvent::Kill {
                    task_id: task_id.clone(),
                    grace,
                },
            },
            None => AgentOutput::KillContainer {
                container_id: exec.container_id.clone(),
                force: true,
            },
        };
        self.emit_exec(now, out);
    }

    /// Asks an executor to shut down, force-killing it after the grace period.
    fn begin_shutdown(
        &mut self,
        now: Instant,
        key: &(FrameworkId, ExecutorId),
        container: ContainerId,
    ) {
        let grace = self.cfg.executor_shutdown_grace;
        let Some(exec) = self.executors.get_mut(key) else {
            return;
        };
        if matches!(exec.state, ExecutorState::Terminated) {
            return;
        }
        exec.state = ExecutorState::Terminating {
            kill_at: now + grace,
        };
        let out = match exec.stream {
            Some(stream) => AgentOutput::ToExecutor {
                stream,
                event: ExecutorEvent::Shutdown,
            },
            None => AgentOutput::KillContainer {
                container_id: container,
                force: false,
            },
        };
        self.emit_exec(now, out);
    }

    pub(super) fn shutdown_framework(
        &mut self,
        now: Instant,
        wall: WallTime,
        framework_id: &FrameworkId,
    ) {
        let keys: Vec<(FrameworkId, ExecutorId)> = self
            .executors
            .keys()
            .filter(|(f, _)| f == framework_id)
            .cloned()
            .collect();
        for key in keys {
            let Some(exec) = self.executors.get_mut(&key) else {
                continue;
            };
            // Queued tasks never reach the executor: they end here, once (not again when the
            // executor exits).
            let queued: Vec<TaskSpec> = exec.queued.drain(..).collect();
            exec.killing.extend(exec.launched.keys().cloned());
            let queued: Vec<TaskId> = queued
                .into_iter()
                .map(|t| {
                    let id = t.task_id.clone();
                    exec.launched.insert(id.clone(), (t, TaskState::Killed));
                    id
                })
                .collect();
            let container = exec.container_id.clone();
            for task_id in queued {
                let status = self.agent_status(
                    &task_id,
                    TaskState::Killed,
                    StatusReason::FrameworkRemoved,
                    "framework removed",
                    &key.1,
                    wall,
                );
                self.queue_update(now, key.0.clone(), &key.1, status);
            }
            self.begin_shutdown(now, &key, container);
        }
        self.log(alloc::format!("shutting down framework {framework_id}"));
    }

    /// SHUTDOWN from the scheduler: the executor's tasks count as killed, the executor is
    /// asked to shut down and destroyed after the grace period.
    pub(super) fn shutdown_executor(
        &mut self,
        now: Instant,
        wall: WallTime,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
    ) {
        let key = (framework_id.clone(), executor_id.clone());
        let Some(exec) = self.executors.get_mut(&key) else {
            self.log(alloc::format!(
                "asked to shut down unknown executor {executor_id} of framework {framework_id}"
            ));
            return;
        };
        if matches!(
            exec.state,
            ExecutorState::Terminated | ExecutorState::Terminating { .. }
        ) {
            return;
        }
        let queued: Vec<TaskSpec> = exec.queued.drain(..).collect();
        let launched: Vec<TaskId> = exec.launched.keys().cloned().collect();
        exec.killing.extend(launched);
        let container = exec.container_id.clone();
        for task in queued {
            let task_id = task.task_id.clone();
            if let Some(exec) = self.executors.get_mut(&key) {
                exec.launched
                    .insert(task_id.clone(), (task, TaskState::Killed));
            }
            let status = self.agent_status(
                &task_id,
                TaskState::Killed,
                StatusReason::ExecutorTerminated,
                "executor shut down by the framework",
                executor_id,
                wall,
            );
            self.queue_update(now, framework_id.clone(), executor_id, status);
        }
        self.log(alloc::format!(
            "shutting down executor {executor_id} of framework {framework_id}"
        ));
        self.begin_shutdown(now, &key, container);
    }

    /// MESSAGE from the scheduler, passed to the executor if it is subscribed (unreliable).
    pub(super) fn framework_message(
        &mut self,
        now: Instant,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        data: Vec<u8>,
    ) {
        let key = (framework_id.clone(), executor_id.clone());
        let stream = self
            .executors
            .get(&key)
            .filter(|e| e.state == ExecutorState::Running)
            .and_then(|e| e.stream);
        match stream {
            Some(stream) => self.emit_exec(
                now,
                AgentOutput::ToExecutor {
                    stream,
                    event: ExecutorEvent::Message(data),
                },
            ),
            None => self.log(alloc::format!(
                "dropping a message for executor {executor_id} of framework {framework_id}: it is not subscribed"
            )),
        }
    }

    /// MESSAGE from an executor: forwarded to the master for its scheduler (unreliable; dropped
    /// while the master is unreachable).
    pub fn handle_executor_message(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
        data: Vec<u8>,
    ) -> Result<(), ExecutorCallError> {
        let key = (framework_id.clone(), executor_id.clone());
        let exec = self
            .executors
            .get(&key)
            .ok_or(ExecutorCallError::UnknownExecutor)?;
        if exec.stream.is_none() {
            return Err(ExecutorCallError::NotSubscribed);
        }
        if data.len() > crate::master::MAX_MESSAGE_DATA {
            return Err(ExecutorCallError::MessageTooLarge);
        }
        if self.link == super::MasterLink::Registered {
            self.outputs
                .push_back(AgentOutput::ToMaster(AgentToMaster::ExecutorMessage {
                    framework_id: framework_id.clone(),
                    executor_id: executor_id.clone(),
                    data,
                }));
        } else {
            self.log(alloc::format!(
                "dropping a message from executor {executor_id}: the master is not reachable"
            ));
        }
        Ok(())
    }

    pub(super) fn handle_executor_deadlines(&mut self, now: Instant, wall: WallTime) {
        let mut late: Vec<((FrameworkId, ExecutorId), ContainerId, bool)> = Vec::new();
        let mut gone: Vec<(FrameworkId, ExecutorId)> = Vec::new();
        for (key, e) in &self.executors {
            match e.state {
                ExecutorState::Launching { deadline } if now >= deadline && e.recovered => {
                    gone.push(key.clone())
                }
                ExecutorState::Launching { deadline } if now >= deadline => {
                    late.push((key.clone(), e.container_id.clone(), true))
                }
                ExecutorState::Terminating { kill_at } if now >= kill_at => {
                    late.push((key.clone(), e.container_id.clone(), false))
                }
                _ => {}
            }
        }
        for (key, container, registration) in late {
            if registration {
                self.log(alloc::format!(
                    "executor {} did not subscribe in time; destroying its container",
                    key.1
                ));
                let tasks: Vec<TaskId> = self.executors[&key]
                    .queued
                    .iter()
                    .map(|t| t.task_id.clone())
                    .collect();
                if let Some(exec) = self.executors.get_mut(&key) {
                    for t in exec.queued.drain(..) {
                        exec.launched
                            .insert(t.task_id.clone(), (t, TaskState::Failed));
                    }
                    exec.state = ExecutorState::Terminating {
                        kill_at: now + self.cfg.executor_shutdown_grace,
                    };
                }
                for task_id in tasks {
                    let status = self.agent_status(
                        &task_id,
                        TaskState::Failed,
                        StatusReason::ExecutorRegistrationTimeout,
                        "executor did not subscribe in time",
                        &key.1,
                        wall,
                    );
                    self.queue_update(now, key.0.clone(), &key.1, status);
                }
            } else if let Some(exec) = self.executors.get_mut(&key) {
                // Kill again at most every grace period until the process is reaped.
                exec.state = ExecutorState::Terminating {
                    kill_at: now + self.cfg.executor_shutdown_grace,
                };
            }
            self.emit_exec(
                now,
                AgentOutput::KillContainer {
                    container_id: container,
                    force: true,
                },
            );
        }
        for key in gone {
            self.declare_gone(now, wall, &key);
        }
    }

    /// Executors on this agent, for the state endpoints.
    pub fn executors(&self) -> impl Iterator<Item = ExecutorView<'_>> {
        self.executors.values().map(|e| ExecutorView {
            framework_id: &e.framework_id,
            executor_id: &e.executor_id,
            container_id: &e.container_id,
            state: e.state,
            pid: e.pid,
            tasks: e
                .queued
                .iter()
                .map(|t| (t, TaskState::Staging))
                .chain(e.launched.values().map(|(t, s)| (t, *s)))
                .collect(),
        })
    }
}
