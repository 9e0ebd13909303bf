//! Agent side of executors, containers and tasks: launch, the executor API calls, kill,
//! framework shutdown, executor exit and registration deadlines.

use super::{Agent, AgentOutput, ExecutorStream};
use crate::ids::{ContainerId, ExecutorId, FrameworkId, TaskId};
use crate::task_state::TaskState;
use crate::time::{Duration, Instant, WallTime};
use crate::wire::{
    executor_dir, sandbox_path, AgentToMaster, FrameworkRecord, StatusReason, StatusSource,
    StatusUpdate, TaskReport, TaskSpec, TaskStatus,
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
    /// Started; must subscribe before the deadline.
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
        self.frameworks.insert(fid.clone(), framework);
        let key = (fid.clone(), task.executor.executor_id.clone());
        if let Some(exec) = self.executors.get_mut(&key) {
            match (exec.state, exec.stream) {
                (ExecutorState::Running, Some(stream)) => {
                    exec.launched
                        .insert(task.task_id.clone(), (task.clone(), TaskState::Staging));
                    self.outputs.push_back(AgentOutput::ToExecutor {
                        stream,
                        event: ExecutorEvent::Launch(Box::new(task)),
                    });
                }
                (ExecutorState::Launching { .. }, _) | (ExecutorState::Running, None) => {
                    exec.queued.push(task)
                }
                _ => {
                    let status = self.agent_status(
                        &task.task_id,
                        TaskState::Lost,
                        StatusReason::ExecutorTerminated,
                        "executor is terminating",
                        &key.1,
                        wall,
                    );
                    self.queue_update(now, fid, status);
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
        self.frameworks.insert(fid.clone(), framework);
        let key = (fid.clone(), executor.executor_id.clone());
        let ids: Vec<TaskId> = tasks.iter().map(|t| t.task_id.clone()).collect();
        if let Some(exec) = self.executors.get_mut(&key) {
            match (exec.state, exec.stream) {
                (ExecutorState::Running, Some(stream)) => {
                    for t in &tasks {
                        exec.launched
                            .insert(t.task_id.clone(), (t.clone(), TaskState::Staging));
                    }
                    exec.groups.push(ids);
                    self.outputs.push_back(AgentOutput::ToExecutor {
                        stream,
                        event: ExecutorEvent::LaunchGroup(tasks),
                    });
                }
                (ExecutorState::Launching { .. }, _) | (ExecutorState::Running, None) => {
                    exec.groups.push(ids);
                    exec.queued.extend(tasks);
                }
                _ => {
                    for task_id in ids {
                        let status = self.agent_status(
                            &task_id,
                            TaskState::Lost,
                            StatusReason::ExecutorTerminated,
                            "executor is terminating",
                            &key.1,
                            wall,
                        );
                        self.queue_update(now, fid.clone(), status);
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
        let checkpoint = self.frameworks.get(&fid).is_some_and(|f| f.checkpoint);
        let env = alloc::vec![
            (String::from("MESOS_FRAMEWORK_ID"), fid.to_string()),
            (String::from("MESOS_EXECUTOR_ID"), executor_id.to_string()),
            (String::from("MESOS_AGENT_ID"), agent_id.to_string()),
            (String::from("MESOS_SLAVE_ID"), agent_id.to_string()),
            (String::from("MESOS_CONTAINER_ID"), container_id.to_string()),
            (
                String::from("MESOS_CHECKPOINT"),
                String::from(if checkpoint { "1" } else { "0" })
            ),
            (
                String::from("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"),
                alloc::format!("{}secs", self.cfg.executor_shutdown_grace.as_secs()),
            ),
        ];
        self.outputs.push_back(AgentOutput::LaunchExecutor {
            framework_id: fid.clone(),
            executor_id: executor_id.clone(),
            container_id: container_id.clone(),
            sandbox,
            executor_dir: dir,
            command: executor.command.clone(),
            env,
        });
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

    /// SUBSCRIBE from an executor on a new event stream.
    pub fn handle_executor_subscribe(
        &mut self,
        _now: Instant,
        stream: ExecutorStream,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
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
        if let Some(old) = exec.stream.replace(stream) {
            self.streams.remove(&old);
            self.outputs
                .push_back(AgentOutput::CloseExecutorStream { stream: old });
        }
        exec.state = ExecutorState::Running;
        let container_id = exec.container_id.clone();
        let spec = Box::new(exec.spec.clone());
        let queued = core::mem::take(&mut exec.queued);
        for t in &queued {
            exec.launched
                .insert(t.task_id.clone(), (t.clone(), TaskState::Staging));
        }
        self.streams.insert(stream, key);
        self.outputs.push_back(AgentOutput::ToExecutor {
            stream,
            event: ExecutorEvent::Subscribed {
                framework,
                executor: spec,
                agent_id,
                container_id,
            },
        });
        let groups = exec.groups.clone();
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
            self.outputs
                .push_back(AgentOutput::ToExecutor { stream, event });
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
        let entry = exec
            .launched
            .get_mut(&status.task_id)
            .ok_or(ExecutorCallError::UnknownTask)?;
        entry.1 = status.state;
        status.agent_id = self.id.clone();
        status.executor_id = Some(executor_id.clone());
        status.source = StatusSource::Executor;
        if status.timestamp.unix_nanos == 0 {
            status.timestamp = wall;
        }
        let task_id = status.task_id.clone();
        self.try_queue_update(now, framework_id.clone(), status)
            .map_err(|_| ExecutorCallError::QueueFull)?;
        self.outputs.push_back(AgentOutput::ToExecutor {
            stream,
            event: ExecutorEvent::Acknowledged { task_id, uuid },
        });
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
        let command_executor = exec.command_executor;
        if let Some(stream) = exec.stream.take() {
            self.streams.remove(&stream);
            self.outputs
                .push_back(AgentOutput::CloseExecutorStream { stream });
        }
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
            self.queue_update(now, key.0.clone(), status);
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
                self.queue_update(now, key.0.clone(), status);
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
        match exec.stream {
            Some(stream) => self.outputs.push_back(AgentOutput::ToExecutor {
                stream,
                event: ExecutorEvent::Kill {
                    task_id: task_id.clone(),
                    grace,
                },
            }),
            None => {
                let container = exec.container_id.clone();
                self.outputs.push_back(AgentOutput::KillContainer {
                    container_id: container,
                    force: true,
                });
            }
        }
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
        match exec.stream {
            Some(stream) => self.outputs.push_back(AgentOutput::ToExecutor {
                stream,
                event: ExecutorEvent::Shutdown,
            }),
            None => self.outputs.push_back(AgentOutput::KillContainer {
                container_id: container,
                force: false,
            }),
        }
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
            let queued: Vec<TaskId> = exec.queued.iter().map(|t| t.task_id.clone()).collect();
            exec.killing.extend(exec.launched.keys().cloned());
            exec.killing.extend(queued.iter().cloned());
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
                self.queue_update(now, key.0.clone(), status);
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
            self.queue_update(now, framework_id.clone(), status);
        }
        self.log(alloc::format!(
            "shutting down executor {executor_id} of framework {framework_id}"
        ));
        self.begin_shutdown(now, &key, container);
    }

    /// MESSAGE from the scheduler, passed to the executor if it is subscribed (unreliable).
    pub(super) fn framework_message(
        &mut self,
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
            Some(stream) => self.outputs.push_back(AgentOutput::ToExecutor {
                stream,
                event: ExecutorEvent::Message(data),
            }),
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

    pub(super) fn acknowledge(
        &mut self,
        now: Instant,
        framework_id: &FrameworkId,
        task_id: &TaskId,
        uuid: [u8; 16],
    ) {
        if let Some(next) =
            self.updates
                .acknowledge(now, self.cfg.status_retry_min, framework_id, task_id, uuid)
        {
            self.outputs
                .push_back(AgentOutput::ToMaster(AgentToMaster::StatusUpdate(next)));
        }
        let keys: Vec<(FrameworkId, ExecutorId)> = self
            .executors
            .keys()
            .filter(|(f, _)| f == framework_id)
            .cloned()
            .collect();
        for key in keys {
            self.forget_finished_executor(&key);
        }
    }

    /// Drops a terminated executor once none of its tasks has unacknowledged updates.
    fn forget_finished_executor(&mut self, key: &(FrameworkId, ExecutorId)) {
        let Some(exec) = self.executors.get(key) else {
            return;
        };
        if exec.state != ExecutorState::Terminated {
            return;
        }
        if exec
            .launched
            .keys()
            .any(|t| self.updates.has_pending(&key.0, t))
        {
            return;
        }
        self.executors.remove(key);
        if !self.executors.keys().any(|(f, _)| f == &key.0) {
            self.frameworks.remove(&key.0);
        }
    }

    pub(super) fn handle_executor_deadlines(&mut self, now: Instant, wall: WallTime) {
        let mut late: Vec<((FrameworkId, ExecutorId), ContainerId, bool)> = Vec::new();
        for (key, e) in &self.executors {
            match e.state {
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
                    self.queue_update(now, key.0.clone(), status);
                }
            } else if let Some(exec) = self.executors.get_mut(&key) {
                // Kill again at most every grace period until the process is reaped.
                exec.state = ExecutorState::Terminating {
                    kill_at: now + self.cfg.executor_shutdown_grace,
                };
            }
            self.outputs.push_back(AgentOutput::KillContainer {
                container_id: container,
                force: true,
            });
        }
    }

    fn agent_status(
        &mut self,
        task_id: &TaskId,
        state: TaskState,
        reason: StatusReason,
        message: &str,
        executor_id: &ExecutorId,
        wall: WallTime,
    ) -> TaskStatus {
        TaskStatus {
            task_id: task_id.clone(),
            state,
            message: Some(String::from(message)),
            source: StatusSource::Agent,
            reason: Some(reason),
            agent_id: self.id.clone(),
            executor_id: Some(executor_id.clone()),
            timestamp: wall,
            uuid: Some(self.new_uuid()),
            data: Vec::new(),
            unreachable_time: None,
        }
    }

    /// Queues an update in its task's stream and sends it if it is the stream's head.
    fn try_queue_update(
        &mut self,
        now: Instant,
        framework_id: FrameworkId,
        status: TaskStatus,
    ) -> Result<(), super::updates::QueueError> {
        let update = StatusUpdate {
            framework_id,
            latest_state: status.state,
            status,
        };
        if let Some(send) = self.updates.push(now, self.cfg.status_retry_min, update)? {
            if self.link == super::MasterLink::Registered {
                self.outputs
                    .push_back(AgentOutput::ToMaster(AgentToMaster::StatusUpdate(send)));
            }
        }
        Ok(())
    }

    /// Queues an update the agent generated itself (its stream is bounded; see `updates.rs`).
    fn queue_update(&mut self, now: Instant, framework_id: FrameworkId, status: TaskStatus) {
        if self.try_queue_update(now, framework_id, status).is_err() {
            self.log(String::from(
                "status update queue full; dropping an agent-generated update",
            ));
        }
    }

    /// Tasks to report when re-registering, with their newest known state.
    pub(super) fn task_reports(&self) -> Vec<TaskReport> {
        let mut out = Vec::new();
        for ((fid, eid), e) in &self.executors {
            let tasks = e
                .queued
                .iter()
                .map(|t| (t, TaskState::Staging))
                .chain(e.launched.values().map(|(t, s)| (t, *s)));
            for (t, state) in tasks {
                // A terminal task the framework has acknowledged is over: not reported.
                if state.is_terminal() && !self.updates.has_pending(fid, &t.task_id) {
                    continue;
                }
                let state = self.updates.latest_state(fid, &t.task_id).unwrap_or(state);
                out.push(TaskReport {
                    framework_id: fid.clone(),
                    executor_id: eid.clone(),
                    task_id: t.task_id.clone(),
                    name: t.name.clone(),
                    state,
                    resources: t.resources.clone(),
                });
            }
        }
        out
    }

    /// Executors on this agent, for the state endpoints.
    pub fn executors(&self) -> impl Iterator<Item = ExecutorView<'_>> {
        self.executors.values().map(|e| ExecutorView {
            framework_id: &e.framework_id,
            executor_id: &e.executor_id,
            container_id: &e.container_id,
            state: e.state,
            tasks: e
                .queued
                .iter()
                .map(|t| (t, TaskState::Staging))
                .chain(e.launched.values().map(|(t, s)| (t, *s)))
                .collect(),
        })
    }
}
