//! Master side of tasks: launch, status updates forwarded end to end, acknowledgements, kill,
//! reconciliation, and tasks recovered from re-registering agents.

use super::frameworks::TaskLaunch;
use super::{Master, MasterOutput, OperatorEvent};
use crate::ids::{AgentId, ExecutorId, FrameworkId, Role, TaskId};
use crate::resources::Resources;
use crate::task_state::TaskState;
use crate::time::{Instant, WallTime};
use crate::wire::{
    ExecutorSpec, FrameworkRecord, MasterToAgent, StatusReason, StatusUpdate, TaskReport, TaskSpec,
    TaskStatus,
};
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

/// A LAUNCH_GROUP operation (Mesos `Offer.Operation.LaunchGroup`): tasks that start together
/// under one default executor, or not at all.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupLaunch {
    pub executor_id: ExecutorId,
    pub executor_name: String,
    pub executor_resources: Resources,
    /// Each task has `command` set and `executor` unset (the API layer marks others invalid).
    pub tasks: Vec<TaskLaunch>,
    /// Set by the API layer when the executor is malformed or uses something mesolite does not
    /// implement: every task gets `TASK_ERROR` with `REASON_TASK_GROUP_INVALID` and this message.
    pub invalid: Option<String>,
}

/// A task the master tracks (Mesos `Task`).
#[derive(Clone, Debug)]
pub(super) struct TaskEntry {
    pub task_id: TaskId,
    pub name: String,
    pub framework_id: FrameworkId,
    pub agent_id: AgentId,
    pub executor_id: ExecutorId,
    /// The latest state the master knows (the agent's `latest_state`).
    pub state: TaskState,
    pub resources: Resources,
    /// Recent statuses, oldest first, bounded by `max_statuses_per_task` (data cleared, as Mesos does).
    pub statuses: VecDeque<TaskStatus>,
    /// State and uuid of the update currently waiting for the framework's acknowledgement.
    pub status_update_state: Option<TaskState>,
    pub status_update_uuid: Option<[u8; 16]>,
    /// Resources already given back to the allocator (at the first terminal state).
    pub released: bool,
    /// The role the task's resources are allocated to (its offer's role): they go back to the
    /// framework's allocator slot of this role.
    pub role: Role,
    /// A running hash of what the views show of this task other than `state` and the
    /// `status_update_*` fields: what it was created with ([`TaskEntry::stamped`]) and every
    /// status recorded since. Entries with equal fingerprints (and those fields equal) show
    /// the same, so the operator API reuses a task's rendering while they stay equal. Whatever
    /// changes another shown field must fold the change in here.
    pub fingerprint: u64,
}

impl TaskEntry {
    /// The entry with its fingerprint taken from what it was created with (its statuses are
    /// folded in as they are recorded).
    fn stamped(mut self) -> Self {
        let mut h = Fnv::new();
        let _ = core::fmt::write(
            &mut h,
            format_args!(
                "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
                self.task_id,
                self.name,
                self.framework_id,
                self.agent_id,
                self.executor_id,
                self.resources,
                self.role,
                self.statuses
            ),
        );
        self.fingerprint = h.0;
        self
    }

    /// Records a status (the oldest goes when `max` are kept) and folds it into the fingerprint.
    fn record_status(&mut self, status: TaskStatus, max: usize) {
        let mut h = Fnv(self.fingerprint);
        let _ = core::fmt::write(&mut h, format_args!("|{status:?}"));
        self.fingerprint = h.0;
        if self.statuses.len() >= max {
            self.statuses.pop_front();
        }
        self.statuses.push_back(status);
    }
}

/// 64-bit FNV-1a over formatted text: no allocation, and the same text always hashes the same.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl core::fmt::Write for Fnv {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Ok(())
    }
}

impl Master {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn launch_task(
        &mut self,
        _now: Instant,
        wall: WallTime,
        framework_id: &FrameworkId,
        agent_id: &AgentId,
        role: &Role,
        remaining: &mut Resources,
        launch: TaskLaunch,
    ) {
        let error = |m: &Master, why: String| {
            m.master_status(
                launch.task_id.clone(),
                TaskState::Error,
                StatusReason::TaskInvalid,
                &why,
                Some(agent_id.clone()),
                wall,
            )
        };
        let key = (framework_id.clone(), launch.task_id.clone());
        let invalid = if let Some(why) = self.task_error(framework_id, agent_id, &launch) {
            Some(why)
        } else if launch.command.is_some() == launch.executor.is_some() {
            Some(String::from(
                "exactly one of 'command' and 'executor' must be set",
            ))
        } else {
            None
        };
        if let Some(why) = invalid {
            let status = error(self, why);
            self.send_status(framework_id, status);
            return;
        }
        let mut needed = launch.resources.clone();
        if let Some(executor) = &launch.executor {
            if needed.add_all(&executor.resources).is_err() {
                let status = error(self, String::from("task and executor resources overflow"));
                self.send_status(framework_id, status);
                return;
            }
        }
        if needed.is_empty() {
            let status = error(self, String::from("task uses no resources"));
            self.send_status(framework_id, status);
            return;
        }
        if remaining.subtract(&needed).is_err() {
            let status = error(
                self,
                alloc::format!(
                    "task {} uses more resources ({needed}) than the offers hold ({remaining})",
                    launch.task_id
                ),
            );
            self.send_status(framework_id, status);
            return;
        }
        let Some(conn) = self.agent_conn(agent_id) else {
            // The agent went away after the offer: give the resources back.
            let status = self.master_status(
                launch.task_id.clone(),
                TaskState::Lost,
                StatusReason::AgentDisconnected,
                "agent disconnected before the task could be sent",
                Some(agent_id.clone()),
                wall,
            );
            let _ = remaining.add_all(&needed);
            self.send_status(framework_id, status);
            return;
        };
        let executor = launch.executor.unwrap_or_else(|| ExecutorSpec {
            executor_id: ExecutorId::new(launch.task_id.as_str()),
            name: alloc::format!("Command Executor (Task: {})", launch.task_id),
            command: None,
            resources: Resources::new(),
            data: None,
        });
        let fw = &self.frameworks[framework_id];
        let framework = FrameworkRecord {
            id: framework_id.clone(),
            name: fw.spec.name.clone(),
            user: fw.spec.user.clone(),
            checkpoint: fw.spec.checkpoint,
            role: fw.spec.role.clone(),
        };
        let spec = TaskSpec {
            task_id: launch.task_id.clone(),
            name: launch.name.clone(),
            resources: launch.resources,
            executor: executor.clone(),
            command: launch.command,
            kill_grace: launch.kill_grace,
            data: launch.data,
            role: Some(role.clone()),
        };
        self.tasks.insert(
            key,
            TaskEntry {
                task_id: launch.task_id.clone(),
                name: launch.name,
                framework_id: framework_id.clone(),
                agent_id: agent_id.clone(),
                executor_id: executor.executor_id,
                state: TaskState::Staging,
                resources: needed,
                statuses: VecDeque::new(),
                status_update_state: None,
                status_update_uuid: None,
                released: false,
                role: role.clone(),
                fingerprint: 0,
            }
            .stamped(),
        );
        self.operator_event(OperatorEvent::TaskAdded {
            framework_id: framework_id.clone(),
            task_id: launch.task_id.clone(),
        });
        self.outputs.push_back(MasterOutput::ToAgent {
            conn,
            msg: MasterToAgent::RunTask {
                framework,
                task: Box::new(spec),
            },
        });
        self.log(alloc::format!(
            "launching task {} of framework {framework_id} on agent {agent_id}",
            launch.task_id
        ));
    }

    /// LAUNCH_GROUP: validates the whole group first; one invalid task, or resources that do not
    /// fit, fail every task of it with `TASK_ERROR` (`REASON_TASK_GROUP_INVALID`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn launch_group(
        &mut self,
        _now: Instant,
        wall: WallTime,
        framework_id: &FrameworkId,
        agent_id: &AgentId,
        role: &Role,
        remaining: &mut Resources,
        group: GroupLaunch,
    ) {
        let invalid = self.validate_group(framework_id, agent_id, &group);
        // A running executor of this framework on this agent already holds its resources.
        let executor_known = self.tasks.values().any(|t| {
            &t.framework_id == framework_id
                && &t.agent_id == agent_id
                && t.executor_id == group.executor_id
                && !t.state.is_terminal()
        });
        let mut needed = Resources::new();
        let mut overflow = false;
        if !executor_known {
            overflow |= needed.add_all(&group.executor_resources).is_err();
        }
        for t in &group.tasks {
            overflow |= needed.add_all(&t.resources).is_err();
        }
        let invalid = invalid.or_else(|| {
            if overflow {
                Some(String::from("task group resources overflow"))
            } else if needed.is_empty() {
                Some(String::from("task group uses no resources"))
            } else {
                let mut left = remaining.clone();
                left.subtract(&needed).is_err().then(|| {
                    alloc::format!(
                        "task group uses more resources ({needed}) than the offers hold ({remaining})"
                    )
                })
            }
        });
        if let Some(why) = invalid {
            for t in &group.tasks {
                let status = self.master_status(
                    t.task_id.clone(),
                    TaskState::Error,
                    StatusReason::TaskGroupInvalid,
                    &why,
                    Some(agent_id.clone()),
                    wall,
                );
                self.send_status(framework_id, status);
            }
            if group.tasks.is_empty() {
                self.log(alloc::format!(
                    "ignoring a LAUNCH_GROUP of framework {framework_id}: {why}"
                ));
            }
            return;
        }
        let Some(conn) = self.agent_conn(agent_id) else {
            for t in &group.tasks {
                let status = self.master_status(
                    t.task_id.clone(),
                    TaskState::Lost,
                    StatusReason::AgentDisconnected,
                    "agent disconnected before the task group could be sent",
                    Some(agent_id.clone()),
                    wall,
                );
                self.send_status(framework_id, status);
            }
            return;
        };
        // Checked above: the group fits.
        let _ = remaining.subtract(&needed);
        let executor = ExecutorSpec {
            executor_id: group.executor_id.clone(),
            name: group.executor_name.clone(),
            command: None,
            resources: group.executor_resources.clone(),
            data: None,
        };
        let framework = self.framework_record(framework_id);
        let mut specs = Vec::with_capacity(group.tasks.len());
        for (i, launch) in group.tasks.into_iter().enumerate() {
            // The executor's resources are accounted with the group's first task.
            let mut held = launch.resources.clone();
            if i == 0 && !executor_known {
                let _ = held.add_all(&group.executor_resources);
            }
            specs.push(TaskSpec {
                task_id: launch.task_id.clone(),
                name: launch.name.clone(),
                resources: launch.resources,
                executor: executor.clone(),
                command: launch.command,
                kill_grace: launch.kill_grace,
                data: launch.data,
                role: Some(role.clone()),
            });
            self.tasks.insert(
                (framework_id.clone(), launch.task_id.clone()),
                TaskEntry {
                    task_id: launch.task_id.clone(),
                    name: launch.name,
                    framework_id: framework_id.clone(),
                    agent_id: agent_id.clone(),
                    executor_id: group.executor_id.clone(),
                    state: TaskState::Staging,
                    resources: held,
                    statuses: VecDeque::new(),
                    status_update_state: None,
                    status_update_uuid: None,
                    released: false,
                    role: role.clone(),
                    fingerprint: 0,
                }
                .stamped(),
            );
            self.operator_event(OperatorEvent::TaskAdded {
                framework_id: framework_id.clone(),
                task_id: launch.task_id,
            });
        }
        self.log(alloc::format!(
            "launching a group of {} tasks under executor {} of framework {framework_id} on agent {agent_id}",
            specs.len(),
            group.executor_id
        ));
        self.outputs.push_back(MasterOutput::ToAgent {
            conn,
            msg: MasterToAgent::RunTaskGroup {
                framework,
                executor: Box::new(executor),
                tasks: specs,
            },
        });
    }

    /// The first reason a task group cannot launch, Mesos' group validation.
    fn validate_group(
        &self,
        framework_id: &FrameworkId,
        agent_id: &AgentId,
        group: &GroupLaunch,
    ) -> Option<String> {
        if let Some(why) = &group.invalid {
            return Some(why.clone());
        }
        if group.tasks.is_empty() {
            return Some(String::from("Task group must contain at least one task"));
        }
        // A command task's generated executor has the task's id: that executor is not a default one.
        if self.tasks.values().any(|t| {
            &t.framework_id == framework_id
                && &t.agent_id == agent_id
                && t.executor_id == group.executor_id
                && t.task_id.as_str() == t.executor_id.as_str()
                && !t.state.is_terminal()
        }) {
            return Some(alloc::format!(
                "executor {} is already in use by a command task",
                group.executor_id
            ));
        }
        for (i, t) in group.tasks.iter().enumerate() {
            let why = if let Some(why) = self.task_error(framework_id, agent_id, t) {
                Some(why)
            } else if group.tasks[..i].iter().any(|o| o.task_id == t.task_id) {
                Some(alloc::format!("Task has duplicate ID: {}", t.task_id))
            } else if t.executor.is_some() {
                Some(alloc::format!(
                    "task {}: 'TaskInfo.executor' must not be set in a task group",
                    t.task_id
                ))
            } else if t.command.is_none() {
                Some(alloc::format!(
                    "task {}: 'TaskInfo.command' must be set in a task group",
                    t.task_id
                ))
            } else {
                None
            };
            if why.is_some() {
                return why;
            }
        }
        None
    }

    /// What makes one task unlaunchable whether it comes alone or in a group: a field the API
    /// layer refused, an empty id, another agent than the offers', or an id already in use.
    fn task_error(
        &self,
        framework_id: &FrameworkId,
        agent_id: &AgentId,
        t: &TaskLaunch,
    ) -> Option<String> {
        if let Some(why) = &t.invalid {
            Some(why.clone())
        } else if t.task_id.as_str().is_empty() {
            Some(String::from("task_id.value must not be empty"))
        } else if &t.agent_id != agent_id {
            Some(alloc::format!(
                "task {} names agent {} but the offers are on {agent_id}",
                t.task_id,
                t.agent_id
            ))
        } else if self
            .tasks
            .contains_key(&(framework_id.clone(), t.task_id.clone()))
            || self.unreachable_task(framework_id, &t.task_id).is_some()
        {
            Some(alloc::format!("Task has duplicate ID: {}", t.task_id))
        } else {
            None
        }
    }

    /// The framework facts an agent needs with a launch.
    fn framework_record(&self, framework_id: &FrameworkId) -> FrameworkRecord {
        let fw = &self.frameworks[framework_id];
        FrameworkRecord {
            id: framework_id.clone(),
            name: fw.spec.name.clone(),
            user: fw.spec.user.clone(),
            checkpoint: fw.spec.checkpoint,
            role: fw.spec.role.clone(),
        }
    }

    /// A reliable status update from an agent: record it, release resources at the first terminal
    /// state, and forward it to the framework (the agent retries until it is acknowledged).
    pub(super) fn handle_status_update(
        &mut self,
        now: Instant,
        _wall: WallTime,
        agent_id: &AgentId,
        update: StatusUpdate,
    ) {
        let key = (update.framework_id.clone(), update.status.task_id.clone());
        let max = self.cfg.max_statuses_per_task;
        let mut release = None;
        let known = self.tasks.contains_key(&key);
        if let Some(task) = self.tasks.get_mut(&key) {
            task.state = update.latest_state;
            task.status_update_state = Some(update.status.state);
            task.status_update_uuid = update.status.uuid;
            let mut recorded = update.status.clone();
            recorded.data.clear();
            task.record_status(recorded, max);
            if update.latest_state.is_terminal() && !task.released {
                task.released = true;
                release = Some(task.clone());
            }
        } else if !self.frameworks.contains_key(&update.framework_id) {
            // The framework is gone: acknowledge on its behalf so the agent does not retry forever.
            if let (Some(uuid), Some(conn)) = (update.status.uuid, self.agent_conn(agent_id)) {
                self.outputs.push_back(MasterOutput::ToAgent {
                    conn,
                    msg: MasterToAgent::Acknowledge {
                        framework_id: update.framework_id.clone(),
                        task_id: update.status.task_id.clone(),
                        uuid,
                    },
                });
            }
            return;
        }
        if let Some(task) = release {
            self.release_task_resources(now, &task);
        }
        let mut status = update.status;
        if status.agent_id.is_none() {
            status.agent_id = Some(agent_id.clone());
        }
        if known {
            self.operator_event(OperatorEvent::TaskUpdated {
                framework_id: update.framework_id.clone(),
                status: status.clone(),
                state: update.latest_state,
            });
        }
        self.send_status(&update.framework_id, status);
    }

    /// ACKNOWLEDGE from a scheduler: forwarded to the agent; a terminal acknowledged task is removed.
    pub(super) fn acknowledge(
        &mut self,
        framework_id: &FrameworkId,
        agent_id: AgentId,
        task_id: TaskId,
        uuid: [u8; 16],
    ) -> Result<(), super::CallError> {
        let key = (framework_id.clone(), task_id.clone());
        if let Some(task) = self.tasks.get(&key) {
            if task.status_update_uuid == Some(uuid)
                && task.status_update_state.is_some_and(|s| s.is_terminal())
            {
                let task = self.tasks.remove(&key).expect("present");
                self.remember_completed(task);
            }
        }
        if let Some(conn) = self.agent_conn(&agent_id) {
            self.outputs.push_back(MasterOutput::ToAgent {
                conn,
                msg: MasterToAgent::Acknowledge {
                    framework_id: framework_id.clone(),
                    task_id,
                    uuid,
                },
            });
        }
        Ok(())
    }

    /// Moves a removed task to the completed tasks, keeping at most
    /// `max_completed_tasks_per_framework` per framework (the oldest of that framework goes).
    pub(super) fn remember_completed(&mut self, task: TaskEntry) {
        let max = self.cfg.max_completed_tasks_per_framework;
        if max == 0 {
            return;
        }
        let count = self
            .completed_per_framework
            .entry(task.framework_id.clone())
            .or_insert(0);
        if *count >= max {
            if let Some(pos) = self
                .completed_tasks
                .iter()
                .position(|t| t.framework_id == task.framework_id)
            {
                self.completed_tasks.remove(pos);
            }
        } else {
            *count += 1;
        }
        self.completed_tasks.push_back(task);
    }

    /// Drops the completed tasks of a framework that is no longer remembered at all.
    pub(super) fn forget_completed_tasks_of(&mut self, framework_id: &FrameworkId) {
        if self.completed_per_framework.remove(framework_id).is_some() {
            self.completed_tasks
                .retain(|t| &t.framework_id != framework_id);
        }
    }

    /// KILL: forwarded to the agent; an unknown task gets TASK_LOST from the master.
    pub(super) fn kill_task(
        &mut self,
        wall: WallTime,
        framework_id: &FrameworkId,
        task_id: TaskId,
        agent_id: Option<AgentId>,
    ) {
        let key = (framework_id.clone(), task_id.clone());
        let Some(task) = self.tasks.get(&key) else {
            if self.unreachable_task(framework_id, &task_id).is_some() {
                // Its agent is unreachable: the kill cannot be delivered. The framework hears
                // the task's state when the agent comes back and may kill it then.
                self.log(alloc::format!(
                    "cannot kill task {task_id} of framework {framework_id}: its agent is unreachable"
                ));
                return;
            }
            // The task may be on an agent that has not re-registered yet: say nothing, as
            // reconciliation does.
            if agent_id
                .as_ref()
                .map_or(self.any_recovering_agent(), |a| self.is_recovering_agent(a))
            {
                return;
            }
            let status = self.master_status(
                task_id,
                TaskState::Lost,
                StatusReason::Reconciliation,
                "Attempted to kill an unknown task",
                agent_id,
                wall,
            );
            self.send_status(framework_id, status);
            return;
        };
        if let Some(conn) = self.agent_conn(&task.agent_id) {
            self.outputs.push_back(MasterOutput::ToAgent {
                conn,
                msg: MasterToAgent::KillTask {
                    framework_id: framework_id.clone(),
                    task_id,
                },
            });
        }
    }

    /// RECONCILE: explicit (listed tasks) or implicit (empty list: every task of the framework),
    /// answered with Mesos' table (reference §7.4). Answers carry no uuid and need no
    /// acknowledgement.
    pub(super) fn reconcile(
        &mut self,
        wall: WallTime,
        framework_id: &FrameworkId,
        tasks: Vec<(TaskId, Option<AgentId>)>,
    ) {
        let partition_aware = self
            .frameworks
            .get(framework_id)
            .is_some_and(|f| f.spec.capabilities.partition_aware);
        // Without PARTITION_AWARE every "unknown" answer is TASK_LOST.
        let or_lost = |s: TaskState| if partition_aware { s } else { TaskState::Lost };
        let mut answers: Vec<TaskStatus> = Vec::new();
        if tasks.is_empty() {
            for t in self
                .tasks
                .values()
                .filter(|t| &t.framework_id == framework_id)
            {
                answers.push(self.known_task_answer(t, wall));
            }
            // Unreachable tasks are known too (Mesos answers only live ones implicitly; telling
            // the framework costs nothing and saves it an explicit round).
            for u in self
                .unreachable_tasks
                .values()
                .filter(|u| &u.task.framework_id == framework_id)
            {
                answers.push(self.unreachable_task_answer(u, partition_aware, wall));
            }
        } else {
            for (task_id, agent_id) in tasks {
                let key = (framework_id.clone(), task_id.clone());
                if let Some(t) = self.tasks.get(&key) {
                    // (2) Known: its latest status-update state.
                    answers.push(self.known_task_answer(t, wall));
                    continue;
                }
                if let Some(u) = self.unreachable_task(framework_id, &task_id) {
                    // (5) On an unreachable agent; answered from the kept task even when the
                    // call names no agent (Mesos would say TASK_UNKNOWN then).
                    answers.push(self.unreachable_task_answer(u, partition_aware, wall));
                    continue;
                }
                let registered = agent_id
                    .as_ref()
                    .is_some_and(|a| self.agents.contains_key(a));
                let transitioning = agent_id
                    .as_ref()
                    .map_or(self.any_recovering_agent(), |a| self.is_recovering_agent(a));
                let unreachable = agent_id.as_ref().and_then(|a| {
                    self.registry()
                        .unreachable
                        .iter()
                        .find(|(id, _)| id == a)
                        .map(|(_, at)| *at)
                });
                let gone = agent_id
                    .as_ref()
                    .is_some_and(|a| self.registry().gone.iter().any(|(id, _)| id == a));
                let (state, message, unreachable_time) = if registered {
                    // (3) The agent is registered and does not have it.
                    (
                        or_lost(TaskState::Gone),
                        "Reconciliation: Task is unknown to the agent",
                        None,
                    )
                } else if transitioning {
                    // (4) The agent may still report it: no answer, the framework retries.
                    continue;
                } else if let Some(at) = unreachable {
                    // (5) The agent is unreachable.
                    (
                        or_lost(TaskState::Unreachable),
                        "Reconciliation: Task is unreachable",
                        Some(at),
                    )
                } else if gone {
                    // (6) The operator marked the agent gone.
                    (
                        or_lost(TaskState::GoneByOperator),
                        "Reconciliation: Task is gone",
                        None,
                    )
                } else {
                    // (7) Unknown task on an unknown agent.
                    (
                        or_lost(TaskState::Unknown),
                        "Reconciliation: Task is unknown",
                        None,
                    )
                };
                let mut status = self.master_status(
                    task_id,
                    state,
                    StatusReason::Reconciliation,
                    message,
                    agent_id,
                    wall,
                );
                status.unreachable_time = unreachable_time;
                answers.push(status);
            }
        }
        for status in answers {
            self.send_status(framework_id, status);
        }
    }

    /// The reconciliation answer for a task of an unreachable agent: `TASK_UNREACHABLE` with
    /// `unreachable_time` (`TASK_LOST` without PARTITION_AWARE), or the terminal state still
    /// waiting for its acknowledgement.
    fn unreachable_task_answer(
        &self,
        u: &super::partition::UnreachableTask,
        partition_aware: bool,
        wall: WallTime,
    ) -> TaskStatus {
        let t = &u.task;
        let (state, message) = match t.status_update_state.unwrap_or(t.state) {
            s if s.is_terminal() && s != TaskState::Lost => {
                (s, "Reconciliation: Latest task state")
            }
            _ if partition_aware => (
                TaskState::Unreachable,
                "Reconciliation: Task is unreachable",
            ),
            _ => (TaskState::Lost, "Reconciliation: Task is unreachable"),
        };
        let mut status = self.master_status(
            t.task_id.clone(),
            state,
            StatusReason::Reconciliation,
            message,
            Some(t.agent_id.clone()),
            wall,
        );
        if state == TaskState::Unreachable {
            status.unreachable_time = Some(u.since);
        }
        status
    }

    /// The reconciliation answer for a task the master knows: the state of the update waiting
    /// for acknowledgement if any, else the latest state.
    fn known_task_answer(&self, t: &TaskEntry, wall: WallTime) -> TaskStatus {
        let mut status = self.master_status(
            t.task_id.clone(),
            t.status_update_state.unwrap_or(t.state),
            StatusReason::Reconciliation,
            "Reconciliation: Latest task state",
            Some(t.agent_id.clone()),
            wall,
        );
        // Command executors are implicit: Mesos' `Task` has no executor id for them.
        if t.executor_id.as_str() != t.task_id.as_str() {
            status.executor_id = Some(t.executor_id.clone());
        }
        status
    }

    /// MESSAGE from an executor: forwarded to its scheduler if it is connected (unreliable).
    pub(super) fn handle_executor_message(
        &mut self,
        agent_id: &AgentId,
        framework_id: &FrameworkId,
        executor_id: ExecutorId,
        data: Vec<u8>,
    ) {
        if let Some(stream) = self.frameworks.get(framework_id).and_then(|f| f.stream) {
            self.outputs.push_back(MasterOutput::ToFramework {
                stream,
                event: super::SchedulerEvent::Message {
                    agent_id: agent_id.clone(),
                    executor_id,
                    data,
                },
            });
        }
    }

    pub(super) fn handle_executor_exited(
        &mut self,
        agent_id: &AgentId,
        framework_id: &FrameworkId,
        executor_id: ExecutorId,
        status: i32,
    ) {
        if let Some(stream) = self.frameworks.get(framework_id).and_then(|f| f.stream) {
            self.outputs.push_back(MasterOutput::ToFramework {
                stream,
                event: super::SchedulerEvent::Failure {
                    agent_id: agent_id.clone(),
                    executor_id: Some(executor_id),
                    status: Some(status),
                },
            });
        }
    }

    /// A task reported by a re-registering agent (after a master restart).
    pub(super) fn recover_task(&mut self, now: Instant, agent_id: &AgentId, report: TaskReport) {
        let key = (report.framework_id.clone(), report.task_id.clone());
        if self.tasks.contains_key(&key) {
            return;
        }
        let (role, fw_slot) = match &report.role {
            Some(role) => match self.role_slot_for_recovery(now, &report.framework_id, role) {
                Some(slot) => (role.clone(), Some(slot)),
                None => self.first_role_slot(&report.framework_id),
            },
            // Agents that do not know the role (protocol version 2, tasks checkpointed before
            // roles were) count the task towards the framework's first role.
            None => self.first_role_slot(&report.framework_id),
        };
        let agent_slot = self.agents.get(agent_id).map(|a| a.slot);
        let released = report.state.is_terminal();
        if !released {
            if let (Some(fs), Some(ag)) = (fw_slot, agent_slot) {
                let _ = self.allocator.add_allocated(fs, ag, &report.resources);
            }
        }
        let event = OperatorEvent::TaskAdded {
            framework_id: report.framework_id.clone(),
            task_id: report.task_id.clone(),
        };
        self.tasks.insert(
            key,
            TaskEntry {
                task_id: report.task_id,
                name: report.name,
                framework_id: report.framework_id,
                agent_id: agent_id.clone(),
                executor_id: report.executor_id,
                state: report.state,
                resources: report.resources,
                statuses: VecDeque::new(),
                status_update_state: None,
                status_update_uuid: None,
                released,
                role,
                fingerprint: 0,
            }
            .stamped(),
        );
        self.operator_event(event);
    }

    /// Reports lost, and forgets, the non-terminal tasks the master placed on a re-registering
    /// agent that the agent does not report (their RunTask was lost with a connection).
    pub(super) fn lose_unreported_tasks(
        &mut self,
        now: Instant,
        wall: WallTime,
        agent: &AgentId,
        reported: &[TaskReport],
    ) {
        let missing: Vec<(FrameworkId, TaskId)> = self
            .tasks
            .iter()
            .filter(|(_, t)| &t.agent_id == agent && !t.state.is_terminal())
            .filter(|(_, t)| {
                !reported
                    .iter()
                    .any(|r| r.framework_id == t.framework_id && r.task_id == t.task_id)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in missing {
            let Some(mut task) = self.tasks.remove(&key) else {
                continue;
            };
            if !task.released {
                task.released = true;
                self.release_task_resources(now, &task);
            }
            let status = self.master_status(
                task.task_id.clone(),
                TaskState::Lost,
                StatusReason::Reconciliation,
                "the agent does not know this task: it was lost before it reached the agent",
                Some(agent.clone()),
                wall,
            );
            self.publish_status(&task.framework_id, status);
            task.state = TaskState::Lost;
            self.remember_completed(task);
        }
    }

    fn release_task_resources(&mut self, now: Instant, task: &TaskEntry) {
        let fw_slot = self
            .frameworks
            .get(&task.framework_id)
            .and_then(|f| f.slot_of(&task.role));
        let agent_slot = self.agents.get(&task.agent_id).map(|a| a.slot);
        if let (Some(fs), Some(ag)) = (fw_slot, agent_slot) {
            self.allocator.recover(now, fs, ag, &task.resources, None);
        }
    }

    /// Drops every task of a removed framework (the agents were told to shut it down).
    pub(super) fn remove_framework_tasks(&mut self, _wall: WallTime, framework_id: &FrameworkId) {
        let keys: Vec<(FrameworkId, TaskId)> = self
            .tasks
            .keys()
            .filter(|(f, _)| f == framework_id)
            .cloned()
            .collect();
        for key in keys {
            if let Some(mut task) = self.tasks.remove(&key) {
                if !task.state.is_terminal() {
                    task.state = TaskState::Killed;
                }
                self.remember_completed(task);
            }
        }
        self.forget_unreachable_tasks_of(framework_id);
    }
}

#[cfg(test)]
mod fingerprint_tests {
    use super::*;
    use crate::time::WallTime;
    use crate::wire::StatusSource;

    fn entry(name: &str, agent: &str, resources: &str) -> TaskEntry {
        TaskEntry {
            task_id: TaskId::new("t1"),
            name: String::from(name),
            framework_id: FrameworkId::new("f1"),
            agent_id: AgentId::new(agent),
            executor_id: ExecutorId::new("t1"),
            state: TaskState::Staging,
            resources: Resources::parse(resources).expect("valid resources"),
            statuses: VecDeque::new(),
            status_update_state: None,
            status_update_uuid: None,
            released: false,
            role: Role::new("*"),
            fingerprint: 0,
        }
        .stamped()
    }

    fn status(uuid: u8, secs: u64) -> TaskStatus {
        TaskStatus {
            task_id: TaskId::new("t1"),
            state: TaskState::Running,
            message: None,
            source: StatusSource::Executor,
            reason: None,
            agent_id: None,
            executor_id: None,
            timestamp: WallTime {
                unix_nanos: secs * 1_000_000_000,
            },
            uuid: Some([uuid; 16]),
            data: Vec::new(),
            unreachable_time: None,
        }
    }

    #[test]
    fn the_fingerprint_follows_what_a_task_shows() {
        let a = entry("a", "S1", "cpus:1");
        assert_eq!(a.fingerprint, entry("a", "S1", "cpus:1").fingerprint);
        for other in [
            entry("b", "S1", "cpus:1"),
            entry("a", "S2", "cpus:1"),
            entry("a", "S1", "cpus:2"),
        ] {
            assert_ne!(a.fingerprint, other.fingerprint);
        }
        // Every recorded status moves it, a repeated one too, and the same history gives the
        // same fingerprint whatever the window of kept statuses.
        let mut b = entry("a", "S1", "cpus:1");
        let mut c = entry("a", "S1", "cpus:1");
        let mut seen = alloc::vec![a.fingerprint];
        for (uuid, secs) in [(1, 1), (1, 1), (2, 1), (2, 2)] {
            b.record_status(status(uuid, secs), 2);
            c.record_status(status(uuid, secs), 2);
            assert!(!seen.contains(&b.fingerprint));
            seen.push(b.fingerprint);
            assert_eq!(b.fingerprint, c.fingerprint);
        }
        assert_eq!(b.statuses.len(), 2);
        // Same statuses kept, different history: [x, y, y] vs [x, x, y] then y.
        let mut d = entry("a", "S1", "cpus:1");
        let mut e = entry("a", "S1", "cpus:1");
        for s in [status(1, 1), status(2, 2), status(2, 2)] {
            d.record_status(s, 2);
        }
        for s in [status(1, 1), status(1, 1), status(2, 2)] {
            e.record_status(s, 2);
        }
        assert_ne!(d.fingerprint, e.fingerprint);
    }
}
