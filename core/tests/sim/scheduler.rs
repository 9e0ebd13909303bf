//! Scripted schedulers: subscribe, launch small command tasks from offers until each launched
//! its quota, decline the rest, acknowledge every reliable update, reconcile, sometimes kill a
//! task, and sometimes drop their stream and fail over with the same framework id.

use std::collections::BTreeMap;

use mesolite_core::ids::{AgentId, ExecutorId, FrameworkId, OfferId, Role, TaskId};
use mesolite_core::master::{
    FrameworkSpec, OfferRecord, Operation, SchedulerCall, SchedulerEvent, StreamId, TaskLaunch,
};
use mesolite_core::resources::Resources;
use mesolite_core::task_state::TaskState;
use mesolite_core::time::{Duration, Instant};
use mesolite_core::wire::{CommandSpec, ExecutorSpec, TaskStatus};

use crate::config::{between, chance};
use crate::world::{Ev, Stream, World};

/// How often a scheduler wakes up to (re)subscribe, reconcile or kill (ms).
const WAKE_MS: (u64, u64) = (1_000, 3_000);
/// Explicit reconciliation of unfinished tasks, every this often while subscribed.
const RECONCILE_EVERY: Duration = Duration::from_secs(30);
/// Resources of one task.
pub const TASK_RESOURCES: &str = "cpus:0.1;mem:32";
/// Resources of a custom executor (the master counts them with each of its tasks).
pub const EXECUTOR_RESOURCES: &str = "cpus:0.05;mem:16";

/// A task as its scheduler knows it.
#[derive(Debug, Clone)]
pub struct SchedTask {
    pub agent: AgentId,
    /// Every state the scheduler received, oldest first.
    pub states: Vec<TaskState>,
    /// The first terminal state received.
    pub terminal: Option<TaskState>,
    /// The terminal state whose reliable update the scheduler acknowledged.
    pub acked_terminal: Option<TaskState>,
}

/// Scenario controls of a scheduler's behaviour.
#[derive(Debug, Clone, Default)]
pub struct SchedScript {
    /// Decline every offer with this filter instead of launching.
    pub decline_all: Option<Option<Duration>>,
    /// Never fail over or kill on its own (scenarios drive it).
    pub quiet: bool,
}

#[derive(Debug)]
pub struct SimScheduler {
    pub idx: usize,
    pub fid: Option<FrameworkId>,
    pub stream: Option<u64>,
    pub token: Option<String>,
    pub subscribed: bool,
    pub subscriptions: u32,
    pub resubscribe_at: Instant,
    pub target: usize,
    /// Until `keep_launching_until` the scheduler keeps this many tasks running; then it
    /// launches only up to `target` in all.
    pub concurrency: usize,
    pub keep_launching_until: Instant,
    pub tasks: BTreeMap<TaskId, SchedTask>,
    pub offers: BTreeMap<OfferId, OfferRecord>,
    pub next_task: u64,
    pub next_reconcile: Instant,
    pub call_at: u64,
    pub failover_timeout: Duration,
    pub script: SchedScript,
    /// Told the master SUPPRESS (and no REVIVE since).
    pub suppressed: bool,
    /// Tears its framework down once done (after the faults stop), then goes away.
    pub teardown_when_done: bool,
    pub teardown_sent: bool,
    /// Gone for good: torn down and its stream closed.
    pub finished: bool,
    /// Share of launches that use a custom executor shared by several tasks (ppm).
    pub custom_executor_ppm: u64,
    /// Subscribes with the PARTITION_AWARE capability (TASK_UNREACHABLE instead of TASK_LOST).
    pub partition_aware: bool,
    pub next_executor: u64,
    /// (time, agent) of every offer received.
    pub offers_seen: Vec<(Instant, AgentId)>,
    /// (time, agent, filter) of every decline sent.
    pub declines: Vec<(Instant, AgentId, Option<Duration>)>,
}

impl SimScheduler {
    pub fn new(idx: usize, target: usize, failover_timeout: Duration) -> SimScheduler {
        SimScheduler {
            idx,
            concurrency: 0,
            keep_launching_until: Instant::ZERO,
            fid: None,
            stream: None,
            token: None,
            subscribed: false,
            subscriptions: 0,
            resubscribe_at: Instant::ZERO,
            target,
            tasks: BTreeMap::new(),
            offers: BTreeMap::new(),
            next_task: 0,
            next_reconcile: Instant::ZERO,
            call_at: 0,
            failover_timeout,
            script: SchedScript::default(),
            suppressed: false,
            teardown_when_done: false,
            teardown_sent: false,
            finished: false,
            custom_executor_ppm: 0,
            partition_aware: false,
            next_executor: 0,
            offers_seen: Vec::new(),
            declines: Vec::new(),
        }
    }

    /// Launched its quota and saw every task end.
    pub fn done(&self, now: Instant) -> bool {
        now >= self.keep_launching_until
            && self.tasks.len() >= self.target
            && self.tasks.values().all(|t| t.terminal.is_some())
    }

    /// How many tasks it would launch now.
    fn wants(&self, now: Instant) -> usize {
        if now < self.keep_launching_until {
            let running = self.tasks.values().filter(|t| t.terminal.is_none()).count();
            self.concurrency.saturating_sub(running)
        } else {
            self.target.saturating_sub(self.tasks.len())
        }
    }

    fn spec(&self) -> FrameworkSpec {
        FrameworkSpec {
            id: self.fid.clone(),
            name: format!("sched{}", self.idx),
            user: "sim".to_string(),
            role: Role::from("*"),
            failover_timeout: self.failover_timeout,
            checkpoint: true,
            hostname: None,
            principal: None,
            capabilities: mesolite_core::master::FrameworkCapabilities {
                partition_aware: self.partition_aware,
                ..Default::default()
            },
            roles: Vec::new(),
        }
    }
}

impl World {
    pub fn sched_wake(&mut self, i: usize) {
        let now = self.now;
        let s = &self.scheds[i];
        if s.finished {
            return;
        }
        if s.stream.is_none() && now >= s.resubscribe_at {
            self.sched_subscribe(i);
        } else if self.scheds[i].subscribed {
            if now >= self.scheds[i].next_reconcile {
                self.sched_reconcile(i);
            }
            let s = &self.scheds[i];
            let want = s.wants(now);
            let faults = self.in_fault_window();
            if faults && want == 0 && !s.suppressed && chance(&mut self.rng, 300_000) {
                self.scheds[i].suppressed = true;
                self.sched_call(i, SchedulerCall::Suppress { roles: vec![] });
            } else if (want > 0 || !faults) && self.scheds[i].suppressed {
                self.scheds[i].suppressed = false;
                self.sched_call(i, SchedulerCall::Revive { roles: vec![] });
            }
            let s = &self.scheds[i];
            if s.teardown_when_done && !self.in_fault_window() && self.sched_done(i) {
                self.trace(format!("sched{i} is done and tears its framework down"));
                self.scheds[i].teardown_sent = true;
                self.sched_call(i, SchedulerCall::Teardown);
            }
            let quiet = self.scheds[i].script.quiet;
            if !quiet && self.in_fault_window() && chance(&mut self.rng, self.cfg.sched_kill_ppm) {
                let running: Vec<(TaskId, AgentId)> = self.scheds[i]
                    .tasks
                    .iter()
                    .filter(|(_, t)| t.terminal.is_none())
                    .map(|(id, t)| (id.clone(), t.agent.clone()))
                    .collect();
                if !running.is_empty() {
                    let (task_id, agent_id) =
                        running[self.rng.below(running.len() as u64) as usize].clone();
                    self.trace(format!("sched{i} kills {task_id}"));
                    self.sched_call(
                        i,
                        SchedulerCall::Kill {
                            task_id,
                            agent_id: Some(agent_id),
                        },
                    );
                }
            }
        }
        let d = between(&mut self.rng, WAKE_MS.0, WAKE_MS.1);
        self.push_in(d, Ev::SchedWake { sched: i });
    }

    /// Opens a new event stream with SUBSCRIBE (with the framework id once it has one).
    pub fn sched_subscribe(&mut self, i: usize) {
        let stream = self.new_id();
        self.streams.insert(
            stream,
            Stream {
                sched: i,
                gen: 0,
                master_open: false,
                sched_open: true,
                master_told: false,
                token: None,
                at: 0,
            },
        );
        self.scheds[i].stream = Some(stream);
        self.scheds[i].subscribed = false;
        let d = self.net_delay() * 2;
        self.push_in(d, Ev::Subscribe { sched: i, stream });
    }

    pub fn deliver_subscribe(&mut self, i: usize, stream: u64) {
        let (now, wall) = (self.now, self.wall());
        if !self.streams.get(&stream).is_some_and(|s| s.sched_open) {
            return;
        }
        let spec = self.scheds[i].spec();
        let result = self
            .master
            .as_mut()
            .map(|m| m.handle_subscribe(now, wall, StreamId(stream), spec));
        match result {
            Some(Ok(sub)) => {
                if let Some(fid) = &self.scheds[i].fid {
                    if *fid != sub.framework_id {
                        let msg = format!(
                            "sched{i} re-subscribed as {fid} but was given {}",
                            sub.framework_id
                        );
                        self.fail(msg);
                    }
                }
                let gen = self.master_gen;
                let st = self.streams.get_mut(&stream).expect("present");
                st.gen = gen;
                st.master_open = true;
                st.token = Some(sub.stream_token);
            }
            other => {
                let why = match other {
                    Some(Err(e)) => e.to_string(),
                    _ => "master is down".to_string(),
                };
                self.trace(format!("sched{i} cannot subscribe: {why}"));
                let d = self.net_delay();
                self.push_in(d, Ev::StreamEnded { stream });
            }
        }
    }

    pub fn deliver_sched_event(&mut self, stream: u64, event: SchedulerEvent) {
        let Some(st) = self.streams.get(&stream) else {
            return;
        };
        let i = st.sched;
        if !st.sched_open || self.scheds[i].stream != Some(stream) {
            return;
        }
        let token = st.token.clone();
        match event {
            SchedulerEvent::Subscribed { framework_id, .. } => {
                let s = &mut self.scheds[i];
                if s.fid.as_ref().is_some_and(|f| *f != framework_id) {
                    let msg =
                        format!("sched{i} got SUBSCRIBED for another framework {framework_id}");
                    self.fail(msg);
                    return;
                }
                s.fid = Some(framework_id.clone());
                s.token = token;
                s.subscribed = true;
                s.subscriptions += 1;
                // A (re-)subscription revives the framework.
                s.suppressed = false;
                self.trace(format!("sched{i} subscribed as {framework_id}"));
                self.sched_reconcile(i);
            }
            SchedulerEvent::Offers(offers) => self.sched_offers(i, offers),
            SchedulerEvent::Rescind(id) => {
                self.scheds[i].offers.remove(&id);
            }
            SchedulerEvent::Update(status) => self.sched_update(i, status),
            SchedulerEvent::Failure {
                agent_id,
                executor_id,
                status,
            } => {
                self.trace(format!(
                    "sched{i} FAILURE agent {agent_id} executor {executor_id:?} status {status:?}"
                ));
                // A command task's generated executor has the task's id; Mesos sends no FAILURE for it.
                let command = executor_id
                    .as_ref()
                    .is_some_and(|e| self.scheds[i].tasks.contains_key(&TaskId::new(e.as_str())));
                if command {
                    let msg = format!(
                        "sched{i} got a FAILURE event for command executor {executor_id:?}"
                    );
                    self.fail(msg);
                }
            }
            SchedulerEvent::Error(e) => self.trace(format!("sched{i} ERROR {e}")),
            SchedulerEvent::Heartbeat
            | SchedulerEvent::Message { .. }
            | SchedulerEvent::InverseOffers(_)
            | SchedulerEvent::RescindInverseOffer(_) => {}
        }
    }

    fn sched_offers(&mut self, i: usize, offers: Vec<OfferRecord>) {
        let per_task = Resources::parse(TASK_RESOURCES).expect("task resources parse");
        for o in offers {
            let now = self.now;
            self.scheds[i].offers_seen.push((now, o.agent_id.clone()));
            let s = &self.scheds[i];
            let want = s.wants(now);
            let script = s.script.decline_all;
            let accept = script.is_none() && want > 0 && chance(&mut self.rng, 850_000);
            if !accept {
                let refuse = match script {
                    Some(r) => r,
                    None if want == 0 => Some(Duration::from_secs(30)),
                    None => match self.rng.below(3) {
                        0 => None,
                        _ => Some(Duration::from_millis(between(&mut self.rng, 100, 20_000))),
                    },
                };
                self.scheds[i]
                    .declines
                    .push((now, o.agent_id.clone(), refuse));
                self.sched_call(
                    i,
                    SchedulerCall::Decline {
                        offer_ids: vec![o.id.clone()],
                        refuse,
                    },
                );
                continue;
            }
            let n = want.min(between(&mut self.rng, 1, 3) as usize);
            let mut left = o.resources.clone();
            let mut launches = Vec::new();
            let custom = chance(&mut self.rng, self.scheds[i].custom_executor_ppm);
            let exec_res = Resources::parse(EXECUTOR_RESOURCES).expect("executor resources parse");
            let executor = if custom {
                let s = &mut self.scheds[i];
                // Reuse the last executor id now and then, so tasks join a running executor.
                if s.next_executor == 0 || chance(&mut self.rng, 500_000) {
                    s.next_executor += 1;
                }
                let s = &self.scheds[i];
                Some(ExecutorSpec {
                    executor_id: ExecutorId::new(format!("x{i}-{}", s.next_executor)),
                    name: "custom executor".to_string(),
                    command: Some(CommandSpec {
                        shell: true,
                        value: "./my-executor".to_string(),
                        ..CommandSpec::default()
                    }),
                    resources: exec_res.clone(),
                    data: None,
                })
            } else {
                None
            };
            let mut needed = per_task.clone();
            if custom {
                let _ = needed.add_all(&exec_res);
            }
            for _ in 0..n {
                if !left.contains(&needed) || left.subtract(&needed).is_err() {
                    break;
                }
                let s = &mut self.scheds[i];
                let task_id = TaskId::new(format!("s{i}-t{}", s.next_task));
                s.next_task += 1;
                s.tasks.insert(
                    task_id.clone(),
                    SchedTask {
                        agent: o.agent_id.clone(),
                        states: Vec::new(),
                        terminal: None,
                        acked_terminal: None,
                    },
                );
                launches.push(TaskLaunch {
                    task_id: task_id.clone(),
                    name: format!("task {task_id}"),
                    agent_id: o.agent_id.clone(),
                    resources: per_task.clone(),
                    command: if custom {
                        None
                    } else {
                        Some(CommandSpec {
                            shell: true,
                            value: "sleep 1".to_string(),
                            ..CommandSpec::default()
                        })
                    },
                    executor: executor.clone(),
                    kill_grace: None,
                    data: Vec::new(),
                    invalid: None,
                });
            }
            self.stats.tasks_launched += launches.len() as u64;
            if !launches.is_empty() {
                self.progress();
            }
            let refuse = match self.rng.below(2) {
                0 => None,
                _ => Some(Duration::from_millis(between(&mut self.rng, 100, 10_000))),
            };
            let names: Vec<String> = launches.iter().map(|l| l.task_id.to_string()).collect();
            self.trace(format!(
                "sched{i} accepts {} on {}: {names:?}",
                o.id, o.agent_id
            ));
            self.sched_call(
                i,
                SchedulerCall::Accept {
                    offer_ids: vec![o.id.clone()],
                    operations: vec![Operation::Launch(launches)],
                    refuse,
                },
            );
        }
    }

    fn sched_update(&mut self, i: usize, status: TaskStatus) {
        let tid = status.task_id.clone();
        let state = status.state;
        let Some(t) = self.scheds[i].tasks.get_mut(&tid) else {
            let msg = format!("sched{i} got an update for task {tid} it never launched");
            self.fail(msg);
            return;
        };
        if let Some(acked) = t.acked_terminal {
            if acked != state {
                let msg = format!(
                    "task {tid} of sched{i}: acknowledged {} and then received {} (from {:?}, {:?})",
                    acked.name(),
                    state.name(),
                    status.source,
                    status.reason
                );
                self.fail(msg);
                return;
            }
        }
        let changed = t.states.last() != Some(&state);
        if t.states.len() < 32 {
            t.states.push(state);
        }
        // TASK_UNKNOWN answers reconciliation of a task the master no longer knows on an agent
        // it no longer knows (Mesos' table): a partition-aware framework gives the task up.
        let ended = state.is_terminal() || state == TaskState::Unknown;
        if ended && t.terminal.is_none() {
            t.terminal = Some(state);
            self.stats.tasks_finished += 1;
        }
        let t = self.scheds[i].tasks.get_mut(&tid).expect("present");
        let uuid = status.uuid;
        if let Some(uuid) = uuid {
            if state.is_terminal() {
                t.acked_terminal = Some(state);
                let fid = self.scheds[i].fid.clone();
                if let Some(fid) = fid {
                    self.check_terminal_agrees(&fid, &tid, state);
                }
            }
            let t = self.scheds[i].tasks.get_mut(&tid).expect("present");
            let agent_id = status.agent_id.clone().unwrap_or_else(|| t.agent.clone());
            self.sched_call(
                i,
                SchedulerCall::Acknowledge {
                    agent_id,
                    task_id: tid.clone(),
                    uuid,
                },
            );
        }
        if changed {
            self.progress();
            let reliable = if uuid.is_some() { "" } else { " (no uuid)" };
            self.trace(format!("sched{i} sees {tid} {}{reliable}", state.name()));
        }
    }

    /// Explicit reconciliation of every task not yet seen terminal.
    pub fn sched_reconcile(&mut self, i: usize) {
        if chance(&mut self.rng, 150_000) {
            self.scheds[i].next_reconcile = self.now + RECONCILE_EVERY;
            self.sched_call(i, SchedulerCall::Reconcile { tasks: Vec::new() });
            return;
        }
        let s = &mut self.scheds[i];
        s.next_reconcile = self.now + RECONCILE_EVERY;
        let tasks: Vec<(TaskId, Option<AgentId>)> = s
            .tasks
            .iter()
            .filter(|(_, t)| t.terminal.is_none())
            .map(|(id, t)| (id.clone(), Some(t.agent.clone())))
            .collect();
        if !tasks.is_empty() {
            self.sched_call(i, SchedulerCall::Reconcile { tasks });
        }
    }

    /// Sends a call on the scheduler's (ordered) call connection, if it is subscribed.
    pub fn sched_call(&mut self, i: usize, call: SchedulerCall) {
        let s = &self.scheds[i];
        let (Some(fid), Some(token), true) = (s.fid.clone(), s.token.clone(), s.subscribed) else {
            return;
        };
        let at = self.ordered(s.call_at);
        self.scheds[i].call_at = at;
        self.push_at(
            at,
            Ev::SchedCall {
                sched: i,
                fid,
                token,
                call,
            },
        );
    }

    pub fn deliver_call(&mut self, i: usize, fid: FrameworkId, token: String, call: SchedulerCall) {
        let (now, wall) = (self.now, self.wall());
        let Some(m) = self.master.as_mut() else {
            return;
        };
        let name = call_name(&call);
        if let Err(e) = m.handle_scheduler_call(now, wall, &fid, Some(&token), call) {
            self.trace(format!("sched{i} {name} refused: {e}"));
        }
    }

    pub fn stream_ended(&mut self, stream: u64) {
        let Some(st) = self.streams.get_mut(&stream) else {
            return;
        };
        st.sched_open = false;
        let i = st.sched;
        if self.scheds[i].stream == Some(stream) && self.scheds[i].teardown_sent {
            self.trace(format!("sched{i} was torn down and exits"));
            self.sched_lost_stream(i, 0);
            self.scheds[i].finished = true;
        } else if self.scheds[i].stream == Some(stream) {
            self.trace(format!("sched{i} loses its stream"));
            let d = between(&mut self.rng, 200, 3_000);
            self.sched_lost_stream(i, d);
        }
    }

    fn sched_lost_stream(&mut self, i: usize, resubscribe_in: u64) {
        let now = self.now;
        let s = &mut self.scheds[i];
        s.stream = None;
        s.token = None;
        s.subscribed = false;
        s.offers.clear();
        s.resubscribe_at = now + Duration::from_millis(resubscribe_in);
    }

    /// The scheduler drops its stream on purpose and comes back later with the same framework id,
    /// well within its failover timeout.
    pub fn sched_failover(&mut self, i: usize) {
        if !self.scheds[i].subscribed || self.scheds[i].script.quiet {
            return;
        }
        self.failover_now(i, None);
    }

    /// Closes the scheduler's stream and resubscribes after `back_in` (random if `None`).
    pub fn failover_now(&mut self, i: usize, back_in: Option<Duration>) {
        let Some(stream) = self.scheds[i].stream else {
            return;
        };
        self.stats.failovers += 1;
        let st = self.streams.get_mut(&stream).expect("present");
        st.sched_open = false;
        let tell_master = st.master_open;
        if tell_master {
            let d = self.net_delay();
            self.push_in(d, Ev::MasterStreamClosed { stream });
        }
        let max = (self.scheds[i].failover_timeout.as_millis() / 3).clamp(1_000, 30_000);
        let back = match back_in {
            Some(d) => d.as_millis(),
            None => between(&mut self.rng, 500, max),
        };
        self.trace(format!("sched{i} closes its stream; back in {back} ms"));
        self.sched_lost_stream(i, back);
    }

    pub fn master_stream_closed(&mut self, stream: u64) {
        let (now, wall) = (self.now, self.wall());
        let Some(st) = self.streams.get_mut(&stream) else {
            return;
        };
        if st.master_told {
            return;
        }
        st.master_told = true;
        st.master_open = false;
        if st.gen != self.master_gen {
            return;
        }
        if let Some(m) = self.master.as_mut() {
            m.handle_stream_closed(now, wall, StreamId(stream));
        }
    }
}

fn call_name(call: &SchedulerCall) -> &'static str {
    match call {
        SchedulerCall::Teardown => "TEARDOWN",
        SchedulerCall::Accept { .. } => "ACCEPT",
        SchedulerCall::Decline { .. } => "DECLINE",
        SchedulerCall::Revive { .. } => "REVIVE",
        SchedulerCall::Suppress { .. } => "SUPPRESS",
        SchedulerCall::Shutdown { .. } => "SHUTDOWN",
        SchedulerCall::Message { .. } => "MESSAGE",
        SchedulerCall::Kill { .. } => "KILL",
        SchedulerCall::Acknowledge { .. } => "ACKNOWLEDGE",
        SchedulerCall::Reconcile { .. } => "RECONCILE",
        SchedulerCall::AcceptInverseOffers { .. } => "ACCEPT_INVERSE_OFFERS",
        SchedulerCall::DeclineInverseOffers { .. } => "DECLINE_INVERSE_OFFERS",
    }
}
