//! Simulated executors (one per container): subscribe after a delay, run each task through
//! STARTING, RUNNING and FINISHED or FAILED, answer KILL and SHUTDOWN with TASK_KILLED, and exit
//! once their terminal updates are acknowledged, which the agent learns as a container exit.

use std::collections::BTreeMap;

use mesolite_core::agent::{ExecutorCallError, ExecutorEvent, ExecutorStream};
use mesolite_core::ids::{ContainerId, ExecutorId, FrameworkId, TaskId};
use mesolite_core::task_state::TaskState;
use mesolite_core::wire::{StatusSource, TaskStatus};

use crate::config::{between, chance};
use crate::world::{Ev, World};

/// One task as its executor runs it.
#[derive(Debug, Default)]
pub struct ExecTask {
    /// The last state the agent accepted from the executor.
    pub sent: Option<TaskState>,
    pub killed: bool,
    pub terminal_uuid: Option<[u8; 16]>,
    pub terminal_acked: bool,
    /// The agent acknowledged an update of this task (it no longer counts as unacknowledged).
    pub any_acked: bool,
}

#[derive(Debug)]
pub struct SimExecutor {
    pub fid: FrameworkId,
    pub eid: ExecutorId,
    pub container: ContainerId,
    pub alive: bool,
    pub stream: Option<u64>,
    /// Delivery order of events from the agent.
    pub at: u64,
    pub tasks: BTreeMap<TaskId, ExecTask>,
    pub exiting: bool,
    /// Updates the agent took but has not acknowledged, oldest first (resent on SUBSCRIBE).
    pub unacked: Vec<TaskStatus>,
}

impl World {
    pub fn launch_executor(
        &mut self,
        agent: usize,
        fid: FrameworkId,
        eid: ExecutorId,
        container: ContainerId,
    ) {
        let key = container.as_str().to_string();
        self.execs.insert(
            (agent, key.clone()),
            SimExecutor {
                fid,
                eid,
                container,
                alive: true,
                stream: None,
                at: 0,
                tasks: BTreeMap::new(),
                exiting: false,
                unacked: Vec::new(),
            },
        );
        // The driver reports the process group; sometimes the agent crashes before it does.
        if chance(&mut self.rng, 900_000) {
            let pid = 1000 + self.new_id() as u32;
            let cid = self.execs[&(agent, key.clone())].container.clone();
            self.agents[agent].agent.handle_executor_pid(&cid, pid);
        }
        let fw = self.in_fault_window();
        if fw && chance(&mut self.rng, self.cfg.launch_fail_ppm) {
            self.trace(format!("container {key} on agent{agent} fails to start"));
            self.push_in(
                0,
                Ev::ContainerExit {
                    agent,
                    container: key,
                    status: 127 << 8,
                },
            );
            return;
        }
        let d = if fw && chance(&mut self.rng, self.cfg.slow_executor_ppm) {
            between(&mut self.rng, 55_000, 70_000)
        } else {
            between(&mut self.rng, 10, 1_500)
        };
        self.push_in(
            d,
            Ev::ExecSubscribe {
                agent,
                container: key,
            },
        );
    }

    pub fn exec_subscribe(&mut self, agent: usize, container: String) {
        let now = self.now;
        let key = (agent, container.clone());
        let Some(e) = self.execs.get(&key) else {
            return;
        };
        if !e.alive || e.stream.is_some() {
            return;
        }
        if self.agent_down(agent) {
            self.schedule_resubscribe(agent, container);
            return;
        }
        let (fid, eid) = (e.fid.clone(), e.eid.clone());
        let unacked_tasks: Vec<TaskId> = e
            .tasks
            .iter()
            .filter(|(_, t)| !t.any_acked)
            .map(|(id, _)| id.clone())
            .collect();
        let unacked = e.unacked.clone();
        let stream = self.new_id();
        self.exec_streams.insert(stream, key.clone());
        self.execs.get_mut(&key).expect("present").stream = Some(stream);
        let wall = self.wall();
        let r = self.agents[agent].agent.handle_executor_subscribe_with(
            now,
            wall,
            ExecutorStream(stream),
            &fid,
            &eid,
            &unacked_tasks,
            unacked,
        );
        if let Err(err) = r {
            self.trace(format!(
                "executor {eid} on agent{agent} cannot subscribe: {err}"
            ));
            self.exec_streams.remove(&stream);
            self.execs.get_mut(&key).expect("present").stream = None;
            let d = between(&mut self.rng, 1, 100);
            self.push_in(
                d,
                Ev::ContainerExit {
                    agent,
                    container,
                    status: 1 << 8,
                },
            );
        }
    }

    pub fn send_to_executor(&mut self, stream: u64, event: ExecutorEvent) {
        let Some(key) = self.exec_streams.get(&stream).cloned() else {
            return;
        };
        let last = self.execs.get(&key).map_or(0, |e| e.at);
        let at = self.ordered(last);
        if let Some(e) = self.execs.get_mut(&key) {
            e.at = at;
        }
        self.push_at(
            at,
            Ev::ExecEvent {
                agent: key.0,
                container: key.1,
                stream,
                event,
            },
        );
    }

    pub fn close_exec_stream(&mut self, stream: u64) {
        if let Some(key) = self.exec_streams.remove(&stream) {
            if let Some(e) = self.execs.get_mut(&key) {
                if e.stream == Some(stream) {
                    e.stream = None;
                }
            }
        }
    }

    pub fn exec_event(
        &mut self,
        agent: usize,
        container: String,
        stream: u64,
        event: ExecutorEvent,
    ) {
        let key = (agent, container.clone());
        let Some(e) = self.execs.get_mut(&key) else {
            return;
        };
        if !e.alive || e.stream != Some(stream) {
            return;
        }
        match event {
            ExecutorEvent::Subscribed { .. } => {}
            ExecutorEvent::Launch(task) => {
                let tid = task.task_id.clone();
                if e.tasks.contains_key(&tid) {
                    let msg = format!(
                        "task {tid} is launched twice in container {container} on agent{agent}"
                    );
                    self.fail(msg);
                    return;
                }
                e.tasks.insert(tid.clone(), ExecTask::default());
                let (lo, hi) = self.cfg.task_runtime_ms;
                let t1 = between(&mut self.rng, 5, 300);
                let t2 = t1 + between(&mut self.rng, 5, 300);
                let t3 = t2 + between(&mut self.rng, lo, hi);
                let end = if chance(&mut self.rng, self.cfg.task_failure_ppm) {
                    TaskState::Failed
                } else {
                    TaskState::Finished
                };
                for (d, state) in [
                    (t1, TaskState::Starting),
                    (t2, TaskState::Running),
                    (t3, end),
                ] {
                    self.push_in(
                        d,
                        Ev::ExecStep {
                            agent,
                            container: container.clone(),
                            task: tid.clone(),
                            state,
                        },
                    );
                }
            }
            ExecutorEvent::Kill { task_id, .. } => {
                let Some(t) = e.tasks.get_mut(&task_id) else {
                    return;
                };
                if t.sent.is_some_and(|s| s.is_terminal()) || t.killed {
                    return;
                }
                t.killed = true;
                let d = between(&mut self.rng, 10, 500);
                self.push_in(
                    d,
                    Ev::ExecStep {
                        agent,
                        container,
                        task: task_id,
                        state: TaskState::Killed,
                    },
                );
            }
            ExecutorEvent::Acknowledged { task_id, uuid } => {
                let mut durable_terminal = None;
                if let Some(pos) = e.unacked.iter().position(|u| u.uuid == Some(uuid)) {
                    let u = e.unacked.remove(pos);
                    if u.state.is_terminal() {
                        durable_terminal = Some(u.state);
                    }
                }
                if let Some(t) = e.tasks.get_mut(&task_id) {
                    t.any_acked = true;
                    if t.terminal_uuid == Some(uuid) {
                        t.terminal_acked = true;
                    }
                }
                let fid = e.fid.clone();
                let eid = e.eid.clone();
                // An update for a task the agent already ended another way (an executor that
                // comes back after the agent declared it gone) is acknowledged so the executor
                // forgets it, but it is not what the agent made durable.
                let agent_end = self.agents[agent]
                    .agent
                    .checkpoint_state()
                    .executors
                    .get(&(fid.clone(), eid))
                    .and_then(|x| x.tasks.get(&task_id))
                    .and_then(|t| t.latest_state())
                    .filter(|s| s.is_terminal());
                let durable_terminal =
                    durable_terminal.filter(|s| agent_end.is_none_or(|end| end == *s));
                if let Some(state) = durable_terminal {
                    self.note_durable_terminal(fid, task_id, state);
                }
                self.maybe_exit(&key);
            }
            // The simulated schedulers launch no task groups.
            ExecutorEvent::Message(_) | ExecutorEvent::LaunchGroup(_) => {}
            ExecutorEvent::Shutdown => {
                let mut kill = Vec::new();
                for (tid, t) in e.tasks.iter_mut() {
                    if !t.sent.is_some_and(|s| s.is_terminal()) && !t.killed {
                        t.killed = true;
                        kill.push(tid.clone());
                    }
                }
                e.exiting = true;
                for tid in kill {
                    let d = between(&mut self.rng, 10, 300);
                    self.push_in(
                        d,
                        Ev::ExecStep {
                            agent,
                            container: container.clone(),
                            task: tid,
                            state: TaskState::Killed,
                        },
                    );
                }
                let d = between(&mut self.rng, 400, 1_500);
                self.push_in(
                    d,
                    Ev::ContainerExit {
                        agent,
                        container,
                        status: 0,
                    },
                );
            }
        }
    }

    /// Exits once every task's terminal update was acknowledged (as the command executor does).
    fn maybe_exit(&mut self, key: &(usize, String)) {
        let Some(e) = self.execs.get_mut(key) else {
            return;
        };
        if e.exiting || e.tasks.is_empty() || !e.tasks.values().all(|t| t.terminal_acked) {
            return;
        }
        e.exiting = true;
        let d = between(&mut self.rng, 10, 300);
        self.push_in(
            d,
            Ev::ContainerExit {
                agent: key.0,
                container: key.1.clone(),
                status: 0,
            },
        );
    }

    pub fn exec_step(&mut self, agent: usize, container: String, task: TaskId, state: TaskState) {
        let (now, wall) = (self.now, self.wall());
        let key = (agent, container.clone());
        let Some(e) = self.execs.get(&key) else {
            return;
        };
        if !e.alive {
            return;
        }
        let Some(t) = e.tasks.get(&task) else { return };
        if t.sent.is_some_and(|s| s.is_terminal()) || (t.killed && state != TaskState::Killed) {
            return;
        }
        if self.agent_down(agent) {
            self.push_in(
                1_000,
                Ev::ExecStep {
                    agent,
                    container,
                    task,
                    state,
                },
            );
            return;
        }
        let (fid, eid) = (e.fid.clone(), e.eid.clone());
        let mut uuid = [0u8; 16];
        uuid[..8].copy_from_slice(&self.rng.next_u64().to_le_bytes());
        uuid[8..].copy_from_slice(&self.rng.next_u64().to_le_bytes());
        let status = TaskStatus {
            task_id: task.clone(),
            state,
            message: None,
            source: StatusSource::Executor,
            reason: None,
            agent_id: None,
            executor_id: None,
            timestamp: wall,
            uuid: Some(uuid),
            data: Vec::new(),
            unreachable_time: None,
        };
        match self.agents[agent]
            .agent
            .handle_executor_update(now, wall, &fid, &eid, status.clone())
        {
            Ok(()) => {
                let e = self.execs.get_mut(&key).expect("present");
                e.unacked.push(status);
                let t = e.tasks.get_mut(&task).expect("present");
                t.sent = Some(state);
                if state.is_terminal() {
                    t.terminal_uuid = Some(uuid);
                }
            }
            Err(err) => {
                self.trace(format!(
                    "executor {eid} on agent{agent}: update {task} {} refused: {err}",
                    state.name()
                ));
                let retry = matches!(
                    err,
                    ExecutorCallError::NotSubscribed | ExecutorCallError::QueueFull
                );
                if !retry {
                    return;
                }
                self.push_in(
                    1_000,
                    Ev::ExecStep {
                        agent,
                        container,
                        task,
                        state,
                    },
                );
            }
        }
    }

    pub fn kill_container(&mut self, agent: usize, container: String, force: bool) {
        let key = (agent, container.clone());
        if !self.execs.get(&key).is_some_and(|e| e.alive) {
            return;
        }
        let d = between(&mut self.rng, 5, 200);
        let status = if force { 9 } else { 15 };
        self.push_in(
            d,
            Ev::ContainerExit {
                agent,
                container,
                status,
            },
        );
    }

    pub fn container_exit(&mut self, agent: usize, container: String, status: i32) {
        let (now, wall) = (self.now, self.wall());
        let key = (agent, container);
        let Some(e) = self.execs.get_mut(&key) else {
            return;
        };
        if !e.alive {
            return;
        }
        e.alive = false;
        if let Some(s) = e.stream.take() {
            self.exec_streams.remove(&s);
        }
        let cid = e.container.clone();
        if self.agent_down(agent) {
            // The restarted agent learns it from the pid it watches.
            return;
        }
        self.agents[agent]
            .agent
            .handle_container_exited(now, wall, &cid, status);
    }
}
