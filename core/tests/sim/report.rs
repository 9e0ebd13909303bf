//! The end of a run: settling after the schedulers finish (every update acknowledged, nothing
//! leaked), and the report of what is stuck when a run does not converge.

use mesolite_core::ids::AgentId;
use mesolite_core::time::Duration;
use mesolite_core::wire::{AgentToMaster, MasterToAgent};

use crate::world::World;

/// After the schedulers are done, the cluster must settle within this.
const SETTLE_WITHIN: Duration = Duration::from_secs(1_800);

impl World {
    /// After the schedulers are done: every reliable update is acknowledged (agents hold no
    /// executors), the master holds no tasks, and every active agent is
    /// at some moment wholly offered or used (the allocator leaked nothing).
    pub fn settle(&mut self) -> Result<(), String> {
        let end = self.now + SETTLE_WITHIN;
        let mut whole: std::collections::BTreeSet<AgentId> = Default::default();
        loop {
            if let Some(v) = &self.violation {
                return Err(v.clone());
            }
            let mut open = Vec::new();
            for (i, a) in self.agents.iter().enumerate() {
                for e in a.agent.executors() {
                    open.push(format!(
                        "agent{i} still holds executor {} ({:?}) with tasks {:?}",
                        e.executor_id,
                        e.state,
                        e.tasks
                            .iter()
                            .map(|(t, s)| format!("{}:{}", t.task_id, s.name()))
                            .collect::<Vec<_>>()
                    ));
                }
            }
            match &self.master {
                None => open.push("the master is down".to_string()),
                Some(m) => {
                    for t in m.tasks() {
                        open.push(format!(
                            "the master still holds task {} ({}) on {}",
                            t.task_id,
                            t.state.name(),
                            t.agent_id
                        ));
                    }
                    // With no framework to offer to there is nothing to observe.
                    let offerable = m.frameworks().any(|f| f.active);
                    for a in m.agents().filter(|a| a.active && offerable) {
                        let mut sum = a.allocated.clone();
                        let _ = sum.add_all(&a.offered);
                        if sum == a.info.resources {
                            whole.insert(a.id.clone());
                        } else if !whole.contains(a.id) {
                            open.push(format!(
                                "agent {} was never wholly offered: tasks {} + offers {} of {}",
                                a.id, a.allocated, a.offered, a.info.resources
                            ));
                        }
                    }
                }
            }
            if open.is_empty() {
                return Ok(());
            }
            if self.now > end || !self.step() {
                return Err(format!(
                    "not settled {} s after the schedulers finished:\n  {}",
                    SETTLE_WITHIN.as_secs(),
                    open.join("\n  ")
                ));
            }
        }
    }

    /// What is still open: each scheduler's unfinished tasks as the scheduler, master and agents see them.
    pub fn stuck_report(&self) -> String {
        let mut out = String::new();
        let master_state = match &self.master {
            None => "down".to_string(),
            Some(m) => format!("{:?}", m.phase()),
        };
        out.push_str(&format!(
            "master #{} {master_state}; registry on disk: {} bytes of log\n",
            self.master_gen,
            self.disk.log.len()
        ));
        for (i, a) in self.agents.iter().enumerate() {
            out.push_str(&format!(
                "agent{i}: id {:?}, link {:?}, conn {:?}\n",
                a.agent.id().map(|x| x.as_str().to_string()),
                a.agent.link(),
                a.current
            ));
        }
        for s in &self.scheds {
            out.push_str(&format!(
                "sched{}: framework {:?}, subscribed {}, {}/{} tasks launched\n",
                s.idx,
                s.fid.as_ref().map(|f| f.as_str().to_string()),
                s.subscribed,
                s.tasks.len(),
                s.target
            ));
            for (tid, t) in s.tasks.iter().filter(|(_, t)| t.terminal.is_none()) {
                let in_master = self.master.as_ref().and_then(|m| {
                    m.tasks()
                        .find(|v| v.task_id == tid && Some(v.framework_id) == s.fid.as_ref())
                        .map(|v| format!("{} on {}", v.state.name(), v.agent_id))
                });
                let mut on_agents = Vec::new();
                for (ai, a) in self.agents.iter().enumerate() {
                    for e in a.agent.executors() {
                        for (spec, st) in &e.tasks {
                            if &spec.task_id == tid {
                                on_agents.push(format!("agent{ai}:{}/{:?}", st.name(), e.state));
                            }
                        }
                    }
                }
                let lost = s
                    .fid
                    .as_ref()
                    .is_some_and(|f| self.lost_run_tasks.contains(&(f.clone(), tid.clone())));
                out.push_str(&format!(
                    "  task {tid} on {}{}: scheduler saw {:?}; master: {:?}; agents: {:?}\n",
                    t.agent,
                    if lost {
                        " (RunTask lost in transit)"
                    } else {
                        ""
                    },
                    t.states.iter().map(|s| s.name()).collect::<Vec<_>>(),
                    in_master,
                    on_agents
                ));
            }
        }
        out
    }
}

pub fn short_a2m(m: &AgentToMaster) -> String {
    match m {
        AgentToMaster::Register { .. } => "Register".into(),
        AgentToMaster::Reregister { id, tasks, .. } => {
            format!("Reregister {id} ({} tasks)", tasks.len())
        }
        AgentToMaster::StatusUpdate(u) => format!(
            "StatusUpdate {} {} (latest {})",
            u.status.task_id,
            u.status.state.name(),
            u.latest_state.name()
        ),
        AgentToMaster::Pong { seq } => format!("Pong {seq}"),
        AgentToMaster::ExecutorExited { executor_id, .. } => {
            format!("ExecutorExited {executor_id}")
        }
        AgentToMaster::ExecutorMessage { executor_id, .. } => {
            format!("ExecutorMessage {executor_id}")
        }
        AgentToMaster::Unregister => "Unregister".into(),
    }
}

pub fn short_m2a(m: &MasterToAgent) -> String {
    match m {
        MasterToAgent::Registered { id } => format!("Registered {id}"),
        MasterToAgent::Reregistered { id } => format!("Reregistered {id}"),
        MasterToAgent::Refused { reason, .. } => format!("Refused ({reason})"),
        MasterToAgent::Ping { seq } => format!("Ping {seq}"),
        MasterToAgent::RunTask { task, .. } => format!("RunTask {}", task.task_id),
        MasterToAgent::RunTaskGroup {
            executor, tasks, ..
        } => {
            format!(
                "RunTaskGroup {} ({} tasks)",
                executor.executor_id,
                tasks.len()
            )
        }
        MasterToAgent::KillTask { task_id, .. } => format!("KillTask {task_id}"),
        MasterToAgent::Acknowledge { task_id, .. } => format!("Acknowledge {task_id}"),
        MasterToAgent::ShutdownFramework { framework_id } => {
            format!("ShutdownFramework {framework_id}")
        }
        MasterToAgent::ShutdownExecutor { executor_id, .. } => {
            format!("ShutdownExecutor {executor_id}")
        }
        MasterToAgent::FrameworkMessage { executor_id, .. } => {
            format!("FrameworkMessage {executor_id}")
        }
        MasterToAgent::CheckpointResources { resources } => {
            format!("CheckpointResources {resources}")
        }
    }
}
