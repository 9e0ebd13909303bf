//! The simulated cluster: one master, agents, scripted schedulers and simulated executors on a
//! virtual clock, joined by a network of ordered, delayed, cuttable connections. Every message,
//! timer and fault is an event in one heap ordered by (time, sequence), so a seed replays exactly.

use std::collections::{BTreeMap, VecDeque};

use mesolite_core::agent::ExecutorEvent;
use mesolite_core::agent::{Agent, AgentConfig, AgentOutput};
use mesolite_core::ids::AgentId;
use mesolite_core::ids::{FrameworkId, OfferId, TaskId};
use mesolite_core::master::{ConnId, Master, MasterOutput, SchedulerCall, SchedulerEvent};
use mesolite_core::resources::Resources;
use mesolite_core::rng::Rng;
use mesolite_core::task_state::TaskState;
use mesolite_core::time::{Duration, Instant, WallTime};
use mesolite_core::wire::{AgentInfo, AgentToMaster, MasterToAgent};

use crate::agent_life::AgentDisk;
use crate::config::{between, chance, SimConfig};
use crate::disk::Disk;
use crate::executor::SimExecutor;
use crate::report::{short_a2m, short_m2a};
use crate::scheduler::SimScheduler;

/// The master's ping interval times the pings it lets go unanswered.
pub fn cfg_ping_window(cfg: &SimConfig) -> Duration {
    cfg.ping_interval
        .saturating_mul(u64::from(cfg.max_missed_pings))
}

/// Wall-clock time of virtual instant zero (only reported in statuses, never used for timers).
const WALL_EPOCH_NANOS: u64 = 1_700_000_000_000_000_000;
/// Trace lines kept for a failure report when not tracing verbosely.
const TRACE_TAIL: usize = 60;
/// Timer firings at one instant beyond which a state machine is taken to spin.
const MAX_TIMER_SPIN: u32 = 10_000;
/// No task change for this long after the faults stop is reported as a livelock.
const LIVELOCK_AFTER: Duration = Duration::from_secs(300);

/// Bound on events in one run.
const MAX_STEPS: u64 = 2_000_000;

/// Something that happens at a virtual time.
#[derive(Debug)]
pub enum Ev {
    /// An agent's connection attempt reaches the master (or finds it down).
    Connect {
        agent: usize,
    },
    ToMaster {
        conn: u64,
        msg: AgentToMaster,
    },
    ToAgent {
        conn: u64,
        msg: MasterToAgent,
    },
    /// The master's end of a connection learns it is closed.
    MasterSideClosed {
        conn: u64,
    },
    /// The agent's end of a connection learns it is closed.
    AgentSideClosed {
        conn: u64,
    },
    DiskDone {
        gen: u64,
        index: u64,
    },
    MasterRestart,
    FaultTick,
    Subscribe {
        sched: usize,
        stream: u64,
    },
    SchedCall {
        sched: usize,
        fid: FrameworkId,
        token: String,
        call: SchedulerCall,
    },
    SchedEvent {
        stream: u64,
        event: SchedulerEvent,
    },
    /// The scheduler learns its event stream ended.
    StreamEnded {
        stream: u64,
    },
    /// The master learns a scheduler's stream closed.
    MasterStreamClosed {
        stream: u64,
    },
    SchedWake {
        sched: usize,
    },
    ExecSubscribe {
        agent: usize,
        container: String,
    },
    ExecEvent {
        agent: usize,
        container: String,
        stream: u64,
        event: ExecutorEvent,
    },
    ExecStep {
        agent: usize,
        container: String,
        task: TaskId,
        state: TaskState,
    },
    ContainerExit {
        agent: usize,
        container: String,
        status: i32,
    },
    /// An agent's checkpoint batch reaches the disk.
    AgentDiskDone {
        agent: usize,
        gen: u64,
        seq: u64,
    },
    /// A crashed agent process is started again.
    AgentRestart {
        agent: usize,
    },
}

/// One agent process and its end of the master connection.
pub struct SimAgent {
    pub agent: Agent,
    pub current: Option<u64>,
    pub total: Resources,
    /// Ids this agent was told by `Registered`/`Reregistered`, in order.
    pub ids: Vec<AgentId>,
    /// Its configuration, to start it again after a crash.
    pub cfg: AgentConfig,
    /// The process runs (false between a crash and the restart).
    pub up: bool,
    /// Incarnation, bumped by each crash.
    pub gen: u64,
    pub disk: AgentDisk,
    /// Cut off from the master until then: its frames vanish and it cannot connect.
    pub isolated_until: Instant,
}

/// An agent↔master connection (TCP: ordered and reliable until closed).
#[derive(Debug)]
pub struct Conn {
    pub agent: usize,
    /// The master incarnation the connection was made to.
    pub gen: u64,
    pub agent_open: bool,
    pub master_open: bool,
    /// The master was told the connection closed (or the master it belonged to is gone).
    pub master_told: bool,
    /// Reset by the network: everything in flight is lost, both ends are told.
    pub cut: bool,
    /// Silently dead: frames vanish and nobody is told; timeouts must notice.
    pub blackholed: bool,
    pub to_master_at: u64,
    pub to_agent_at: u64,
    /// The agent id the master named on this connection (`Registered`/`Reregistered`).
    pub registered: Option<AgentId>,
}

/// A scheduler's event stream (a long-lived HTTP response).
#[derive(Debug)]
pub struct Stream {
    pub sched: usize,
    pub gen: u64,
    pub master_open: bool,
    pub sched_open: bool,
    pub master_told: bool,
    pub token: Option<String>,
    pub at: u64,
}

#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub events: u64,
    pub operator_events: u64,
    pub master_crashes: u64,
    pub fatal_restarts: u64,
    pub torn_writes: u64,
    pub failed_writes: u64,
    pub conn_cuts: u64,
    pub blackholes: u64,
    pub failovers: u64,
    pub executor_crashes: u64,
    pub tasks_launched: u64,
    pub tasks_finished: u64,
    /// `RunTask` messages lost with their connection (the agent's re-registration must heal them).
    pub run_tasks_lost: u64,
    pub agent_crashes: u64,
    pub partitions: u64,
}

impl Stats {
    /// Adds another run's counts to these.
    pub fn add(&mut self, o: &Stats) {
        self.events += o.events;
        self.operator_events += o.operator_events;
        self.master_crashes += o.master_crashes;
        self.fatal_restarts += o.fatal_restarts;
        self.torn_writes += o.torn_writes;
        self.failed_writes += o.failed_writes;
        self.conn_cuts += o.conn_cuts;
        self.blackholes += o.blackholes;
        self.failovers += o.failovers;
        self.executor_crashes += o.executor_crashes;
        self.tasks_launched += o.tasks_launched;
        self.tasks_finished += o.tasks_finished;
        self.run_tasks_lost += o.run_tasks_lost;
        self.agent_crashes += o.agent_crashes;
        self.partitions += o.partitions;
    }
}

enum Who {
    Event,
    Master,
    Agent(usize),
}

/// The whole simulated cluster.
pub struct World {
    pub seed: u64,
    pub cfg: SimConfig,
    pub rng: Rng,
    pub now: Instant,
    seq: u64,
    events: BTreeMap<(u64, u64), Ev>,
    pub master: Option<Master>,
    pub master_gen: u64,
    pub disk: Disk,
    /// The registry write in flight: (master incarnation, index, record bytes).
    pub write: Option<(u64, u64, Vec<u8>)>,
    pub agents: Vec<SimAgent>,
    pub scheds: Vec<SimScheduler>,
    pub conns: BTreeMap<u64, Conn>,
    pub streams: BTreeMap<u64, Stream>,
    pub execs: BTreeMap<(usize, String), SimExecutor>,
    pub exec_streams: BTreeMap<u64, (usize, String)>,
    next_id: u64,
    pub verbose: bool,
    trace: VecDeque<String>,
    pub violation: Option<String>,
    pub last_progress: Instant,
    pub stats: Stats,
    timer_spin: (u64, u32),
    /// Scenario hook: the next this-many registry writes fail.
    pub fail_writes: u32,
    /// Scenario hook: outputs the master emitted, in order (only `Fatal` and agent messages).
    pub fatal_seen: u32,
    /// Tasks whose `RunTask` was lost with its connection (never reached an agent); only named
    /// in the stuck report.
    pub lost_run_tasks: std::collections::BTreeSet<(FrameworkId, TaskId)>,
    /// Every offer id a master sent to a scheduler, across master incarnations.
    pub offer_ids_sent: std::collections::BTreeSet<OfferId>,
    /// Terminal states an agent acknowledged to the executor (so durable on the agent's disk).
    pub durable_terminals: BTreeMap<(FrameworkId, TaskId), TaskState>,
}

impl World {
    pub fn new(seed: u64, cfg: SimConfig, verbose: bool) -> World {
        let mut rng = Rng::from_seed(seed ^ 0x5349_4d55_4c41_5445);
        let cluster = format!("sim{seed:x}");
        let mut w = World {
            seed,
            rng: Rng::from_seed(0),
            now: Instant::ZERO,
            seq: 0,
            events: BTreeMap::new(),
            master: None,
            master_gen: 1,
            disk: Disk::new(&cluster),
            write: None,
            agents: Vec::new(),
            scheds: Vec::new(),
            conns: BTreeMap::new(),
            streams: BTreeMap::new(),
            execs: BTreeMap::new(),
            exec_streams: BTreeMap::new(),
            next_id: 1,
            verbose,
            trace: VecDeque::new(),
            violation: None,
            last_progress: Instant::ZERO,
            stats: Stats::default(),
            timer_spin: (0, 0),
            fail_writes: 0,
            fatal_seen: 0,
            lost_run_tasks: Default::default(),
            offer_ids_sent: Default::default(),
            durable_terminals: BTreeMap::new(),
            cfg: cfg.clone(),
        };
        for i in 0..cfg.agents {
            let cpus = between(&mut rng, 1, 4);
            let mem = 256 * between(&mut rng, 2, 8);
            let text = format!("cpus:{cpus};mem:{mem};disk:1000;ports:[31000-31009]");
            let total = Resources::parse(&text).expect("simulated agent resources parse");
            let info = AgentInfo {
                hostname: format!("agent{i}"),
                ip: format!("10.0.1.{}", i + 1),
                port: 5051,
                resources: total.clone(),
                attributes: mesolite_core::attributes::parse_attributes(&format!(
                    "rack:r{}",
                    i % 2
                ))
                .expect("simulated agent attributes parse"),
                domain: None,
                version: mesolite_core::master::MESOS_VERSION.to_string(),
            };
            let mut cfg = AgentConfig::new(info, rng.next_u64());
            // Mesos' agent waits the master's whole ping window before it gives up on it.
            cfg.master_timeout = cfg_ping_window(&w.cfg);
            // Sandbox GC within the run, so removals race with everything else.
            cfg.gc_delay = Duration::from_secs(3);
            let agent = Agent::new(cfg.clone(), Instant::ZERO);
            w.agents.push(SimAgent {
                agent,
                current: None,
                total,
                ids: Vec::new(),
                cfg,
                up: true,
                gen: 0,
                disk: AgentDisk::default(),
                isolated_until: Instant::ZERO,
            });
        }
        for i in 0..cfg.schedulers {
            let target = between(
                &mut rng,
                cfg.tasks_per_scheduler.0,
                cfg.tasks_per_scheduler.1,
            );
            let mut s = SimScheduler::new(i, target as usize, cfg.failover_timeout);
            s.concurrency = between(&mut rng, 1, 4) as usize;
            s.keep_launching_until = Instant::ZERO + cfg.fault_window;
            s.teardown_when_done = rng.below(2) == 0;
            s.custom_executor_ppm = rng.below(400_000);
            s.partition_aware = rng.below(2) == 0;
            w.scheds.push(s);
            let at = between(&mut rng, 0, 3_000);
            w.push_at(at, Ev::SchedWake { sched: i });
        }
        w.rng = rng;
        w.start_master();
        if cfg.fault_window > Duration::ZERO {
            w.push_at(1_000, Ev::FaultTick);
        }
        w
    }

    // ----- time, events, trace -----

    pub fn wall(&self) -> WallTime {
        WallTime {
            unix_nanos: WALL_EPOCH_NANOS + self.now.as_millis() * 1_000_000,
        }
    }

    pub fn ms(&self) -> u64 {
        self.now.as_millis()
    }

    pub fn push_at(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.events.insert((at, self.seq), ev);
    }

    pub fn push_in(&mut self, delay: u64, ev: Ev) {
        let at = self.ms() + delay;
        self.push_at(at, ev);
    }

    /// The delay of one message on the network.
    pub fn net_delay(&mut self) -> u64 {
        let (lo, hi) = self.cfg.net_delay_ms;
        let mut d = between(&mut self.rng, lo, hi);
        if self.in_fault_window() && chance(&mut self.rng, self.cfg.spike_ppm) {
            d += between(&mut self.rng, 0, self.cfg.spike_ms);
        }
        d
    }

    /// Delivery time after `last` (per-direction order of one connection) and a fresh delay.
    pub fn ordered(&mut self, last: u64) -> u64 {
        let d = self.net_delay();
        (self.ms() + d).max(last)
    }

    pub fn in_fault_window(&self) -> bool {
        self.now < Instant::ZERO + self.cfg.fault_window
    }

    pub fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn trace(&mut self, line: impl AsRef<str>) {
        let line = format!("[{:>9.3}s] {}", self.ms() as f64 / 1000.0, line.as_ref());
        if self.verbose {
            println!("{line}");
        }
        if self.trace.len() >= TRACE_TAIL {
            self.trace.pop_front();
        }
        self.trace.push_back(line);
    }

    pub fn trace_tail(&self) -> String {
        self.trace.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    pub fn fail(&mut self, what: impl AsRef<str>) {
        if self.violation.is_none() {
            let msg = format!("at {} ms: {}", self.ms(), what.as_ref());
            self.trace(format!("VIOLATION {msg}"));
            self.violation = Some(msg);
        }
    }

    pub fn progress(&mut self) {
        self.last_progress = self.now;
    }

    // ----- the driver loop -----

    /// Runs until every scheduler is done, an invariant fails, or the run is stuck.
    pub fn run(&mut self) -> Result<(), String> {
        loop {
            if let Some(v) = &self.violation {
                return Err(v.clone());
            }
            if self.all_done() {
                return self.settle();
            }
            let faults_over = Instant::ZERO + self.cfg.fault_window;
            let stalled_since = self.last_progress.max(faults_over);
            if self.now.saturating_since(stalled_since) > LIVELOCK_AFTER {
                return Err(format!(
                    "livelock: no task progress for {} s after the faults stopped\n{}",
                    LIVELOCK_AFTER.as_secs(),
                    self.stuck_report()
                ));
            }
            if self.now > Instant::ZERO + self.cfg.max_time || self.stats.events > MAX_STEPS {
                return Err(format!(
                    "not quiescent by {} s ({} events)\n{}",
                    self.ms() / 1000,
                    self.stats.events,
                    self.stuck_report()
                ));
            }
            if !self.step() {
                return Err(format!("nothing left to run\n{}", self.stuck_report()));
            }
        }
    }

    /// Runs until `pred` holds or `limit` of virtual time passes; invariants are checked throughout.
    pub fn run_until(
        &mut self,
        limit: Duration,
        mut pred: impl FnMut(&World) -> bool,
    ) -> Result<(), String> {
        let end = self.now + limit;
        while !pred(self) {
            if let Some(v) = &self.violation {
                return Err(format!("{v}\n{}", self.trace_tail()));
            }
            if self.now > end || !self.step() {
                return Err(format!(
                    "condition not reached by {} ms\n{}\n{}",
                    self.ms(),
                    self.stuck_report(),
                    self.trace_tail()
                ));
            }
        }
        match &self.violation {
            Some(v) => Err(format!("{v}\n{}", self.trace_tail())),
            None => Ok(()),
        }
    }

    pub fn all_done(&self) -> bool {
        (0..self.scheds.len()).all(|i| self.sched_done(i))
    }

    /// Scheduler `i` launched its quota and saw each task end.
    pub fn sched_done(&self, i: usize) -> bool {
        self.scheds[i].done(self.now)
    }

    /// One step: the earliest event or timer, then every output drained, then the invariants.
    pub fn step(&mut self) -> bool {
        let mut best: Option<(u64, Who)> = self.events.keys().next().map(|k| (k.0, Who::Event));
        let consider = |t: Option<Instant>, who: Who, best: &mut Option<(u64, Who)>| {
            if let Some(t) = t {
                if best.as_ref().is_none_or(|(b, _)| t.as_millis() < *b) {
                    *best = Some((t.as_millis(), who));
                }
            }
        };
        if let Some(m) = &self.master {
            consider(m.poll_timeout(), Who::Master, &mut best);
        }
        for (i, a) in self.agents.iter().enumerate().filter(|(_, a)| a.up) {
            consider(a.agent.poll_timeout(), Who::Agent(i), &mut best);
        }
        let Some((at, who)) = best else {
            return false;
        };
        if at > self.ms() {
            self.now = Instant::from_millis(at);
        }
        self.stats.events += 1;
        let (now, wall) = (self.now, self.wall());
        match who {
            Who::Event => {
                let (_, ev) = self.events.pop_first().expect("an event is due");
                self.dispatch(ev);
            }
            Who::Master => {
                self.spin_guard("master");
                if let Some(m) = self.master.as_mut() {
                    m.handle_timeout(now, wall);
                }
            }
            Who::Agent(i) => {
                self.spin_guard("agent");
                self.agents[i].agent.handle_timeout(now, wall);
            }
        }
        self.drain();
        self.check_invariants();
        true
    }

    fn spin_guard(&mut self, who: &str) {
        if self.timer_spin.0 == self.ms() {
            self.timer_spin.1 += 1;
            if self.timer_spin.1 > MAX_TIMER_SPIN {
                self.fail(format!(
                    "the {who} asks for its timer again and again at the same instant (poll_timeout does not advance)"
                ));
            }
        } else {
            self.timer_spin = (self.ms(), 0);
        }
    }

    fn dispatch(&mut self, ev: Ev) {
        let (now, wall) = (self.now, self.wall());
        match ev {
            Ev::Connect { agent } => self.connect(agent),
            Ev::ToMaster { conn, msg } => {
                let ok = self.conns.get(&conn).is_some_and(|c| {
                    c.master_open && !c.cut && !c.blackholed && c.gen == self.master_gen
                });
                if !ok || self.master.is_none() {
                    return;
                }
                if self.verbose {
                    let line = format!("agent→master c{conn}: {}", short_a2m(&msg));
                    self.trace(line);
                }
                if let Some(m) = self.master.as_mut() {
                    m.handle_agent_message(now, wall, ConnId(conn), msg);
                }
            }
            Ev::ToAgent { conn, msg } => {
                let Some(c) = self.conns.get(&conn) else {
                    return;
                };
                let a = c.agent;
                if !c.agent_open || c.cut || c.blackholed || self.agents[a].current != Some(conn) {
                    self.lost_in_transit(&msg);
                    return;
                }
                if let MasterToAgent::Registered { id } | MasterToAgent::Reregistered { id } = &msg
                {
                    self.check_durable_id(id, "delivered");
                    if self.agents[a].ids.last() != Some(id) {
                        self.agents[a].ids.push(id.clone());
                    }
                }
                if self.verbose {
                    let line = format!("master→agent{a} c{conn}: {}", short_m2a(&msg));
                    self.trace(line);
                }
                self.agents[a].agent.handle_master_message(now, wall, msg);
            }
            Ev::MasterSideClosed { conn } => self.master_side_closed(conn),
            Ev::AgentSideClosed { conn } => {
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                if !c.agent_open {
                    return;
                }
                c.agent_open = false;
                let a = c.agent;
                if self.agents[a].current == Some(conn) {
                    self.agents[a].current = None;
                    self.trace(format!("agent{a} sees connection c{conn} close"));
                    self.agents[a].agent.handle_master_disconnected(now);
                }
            }
            Ev::DiskDone { gen, index } => self.disk_done(gen, index),
            Ev::MasterRestart => self.start_master(),
            Ev::FaultTick => self.fault_tick(),
            Ev::Subscribe { sched, stream } => self.deliver_subscribe(sched, stream),
            Ev::SchedCall {
                sched,
                fid,
                token,
                call,
            } => self.deliver_call(sched, fid, token, call),
            Ev::SchedEvent { stream, event } => self.deliver_sched_event(stream, event),
            Ev::StreamEnded { stream } => self.stream_ended(stream),
            Ev::MasterStreamClosed { stream } => self.master_stream_closed(stream),
            Ev::SchedWake { sched } => self.sched_wake(sched),
            Ev::ExecSubscribe { agent, container } => self.exec_subscribe(agent, container),
            Ev::ExecEvent {
                agent,
                container,
                stream,
                event,
            } => self.exec_event(agent, container, stream, event),
            Ev::ExecStep {
                agent,
                container,
                task,
                state,
            } => self.exec_step(agent, container, task, state),
            Ev::ContainerExit {
                agent,
                container,
                status,
            } => self.container_exit(agent, container, status),
            Ev::AgentDiskDone { agent, gen, seq } => self.agent_disk_done(agent, gen, seq),
            Ev::AgentRestart { agent } => self.restart_agent(agent),
        }
    }

    // ----- draining outputs -----

    pub fn drain(&mut self) {
        loop {
            let mut busy = self.drain_master();
            for i in 0..self.agents.len() {
                if self.agents[i].up {
                    busy |= self.poll_agent_checkpoint(i);
                    busy |= self.drain_agent(i);
                }
            }
            if !busy {
                break;
            }
        }
    }

    fn drain_master(&mut self) -> bool {
        let (now, wall) = (self.now, self.wall());
        let mut busy = false;
        let gen = self.master_gen;
        let Some(m) = self.master.as_mut() else {
            return false;
        };
        if let Some(entry) = m.poll_registry_write(now, wall) {
            busy = true;
            let record = Disk::record(&entry);
            if let Some((_, pending, _)) = &self.write {
                let msg = format!(
                    "poll_registry_write handed out entry {} while entry {pending} is still being written",
                    entry.index
                );
                self.fail(msg);
                return false;
            }
            let (lo, hi) = self.cfg.disk_delay_ms;
            let d = between(&mut self.rng, lo, hi);
            self.write = Some((gen, entry.index, record));
            self.push_in(
                d,
                Ev::DiskDone {
                    gen,
                    index: entry.index,
                },
            );
        }
        let m = self.master.as_mut().expect("present");
        if let Some(reg) = m.poll_snapshot() {
            let reg = reg.clone();
            self.disk.write_snapshot(&reg);
            self.master
                .as_mut()
                .expect("present")
                .handle_snapshot_written();
        }
        while let Some(out) = self.master.as_mut().and_then(|m| m.poll_output()) {
            busy = true;
            self.master_output(out);
        }
        busy
    }

    /// An operator event must name what the master holds when it is produced (the driver renders
    /// it from the master's getters at that moment).
    fn check_operator_event(&mut self, event: &mesolite_core::master::OperatorEvent) {
        use mesolite_core::master::OperatorEvent as E;
        let Some(m) = self.master.as_ref() else {
            return;
        };
        let present = match event {
            E::TaskAdded {
                framework_id,
                task_id,
            } => m.task(framework_id, task_id).is_some(),
            E::AgentAdded(id) => m.agent(id).is_some(),
            E::FrameworkAdded(id) | E::FrameworkUpdated(id) => m.framework(id).is_some(),
            E::AgentRemoved(id) => m.agent(id).is_none(),
            E::TaskUpdated { .. } | E::FrameworkRemoved(_) | E::Heartbeat => true,
        };
        assert!(
            present,
            "operator event {event:?} names something the master does not hold"
        );
        self.stats.operator_events += 1;
    }

    fn master_output(&mut self, out: MasterOutput) {
        match out {
            MasterOutput::ToAgent { conn, msg } => {
                let conn = conn.0;
                if let MasterToAgent::Registered { id } | MasterToAgent::Reregistered { id } = &msg
                {
                    self.check_durable_id(id, "sent");
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.registered = Some(id.clone());
                    }
                }
                let Some(c) = self.conns.get(&conn) else {
                    return;
                };
                if !c.master_open || c.gen != self.master_gen {
                    self.lost_in_transit(&msg);
                    return;
                }
                let at = self.ordered(c.to_agent_at);
                self.conns.get_mut(&conn).expect("present").to_agent_at = at;
                self.push_at(at, Ev::ToAgent { conn, msg });
            }
            MasterOutput::CloseAgent { conn } => {
                let conn = conn.0;
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                if !c.master_open {
                    return;
                }
                c.master_open = false;
                let last = c.to_agent_at;
                let at = self.ordered(last);
                self.conns.get_mut(&conn).expect("present").to_agent_at = at;
                self.trace(format!("master closes c{conn}"));
                self.push_at(at, Ev::AgentSideClosed { conn });
                self.push_in(0, Ev::MasterSideClosed { conn });
            }
            MasterOutput::ToFramework { stream, event } => {
                let stream = stream.0;
                if let SchedulerEvent::Offers(offers) = &event {
                    for o in offers {
                        self.check_offer_source(o);
                        self.check_offer_id_new(o);
                    }
                }
                let Some(st) = self.streams.get(&stream) else {
                    return;
                };
                if !st.master_open || st.gen != self.master_gen {
                    return;
                }
                let at = self.ordered(st.at);
                self.streams.get_mut(&stream).expect("present").at = at;
                self.push_at(at, Ev::SchedEvent { stream, event });
            }
            MasterOutput::CloseStream { stream } => {
                let stream = stream.0;
                let Some(st) = self.streams.get_mut(&stream) else {
                    return;
                };
                if !st.master_open {
                    return;
                }
                st.master_open = false;
                let last = st.at;
                let at = self.ordered(last);
                self.streams.get_mut(&stream).expect("present").at = at;
                self.push_at(at, Ev::StreamEnded { stream });
                self.push_in(0, Ev::MasterStreamClosed { stream });
            }
            MasterOutput::Operator(event) => self.check_operator_event(&event),
            MasterOutput::Log(line) => self.trace(format!("master: {line}")),
            MasterOutput::Fatal(why) => {
                self.fatal_seen += 1;
                self.stats.fatal_restarts += 1;
                self.trace(format!("master FATAL: {why}"));
                self.crash_master("fatal error");
            }
        }
    }

    fn drain_agent(&mut self, i: usize) -> bool {
        let mut busy = false;
        while let Some(out) = self.agents[i].agent.poll_output() {
            busy = true;
            match out {
                AgentOutput::ConnectMaster => {
                    let d = self.net_delay() * 2;
                    self.push_in(d, Ev::Connect { agent: i });
                }
                AgentOutput::DisconnectMaster => {
                    if let Some(conn) = self.agents[i].current.take() {
                        self.agent_closes(conn);
                    }
                    let now = self.now;
                    self.agents[i].agent.handle_master_disconnected(now);
                }
                AgentOutput::ToMaster(msg) => {
                    let Some(conn) = self.agents[i].current else {
                        continue;
                    };
                    let Some(c) = self.conns.get(&conn) else {
                        continue;
                    };
                    if !c.agent_open {
                        continue;
                    }
                    let at = self.ordered(c.to_master_at);
                    self.conns.get_mut(&conn).expect("present").to_master_at = at;
                    self.push_at(at, Ev::ToMaster { conn, msg });
                }
                AgentOutput::LaunchExecutor {
                    framework_id,
                    executor_id,
                    container_id,
                    ..
                } => self.launch_executor(i, framework_id, executor_id, container_id),
                AgentOutput::ToExecutor { stream, event } => {
                    if let ExecutorEvent::Acknowledged { uuid, task_id } = &event {
                        // An update for a task that durably ended already is dropped, and
                        // acknowledged so that the executor forgets it.
                        let ended = self.agents[i]
                            .agent
                            .checkpoint_state()
                            .executors
                            .values()
                            .filter_map(|x| x.tasks.get(task_id))
                            .any(|t| t.latest_state().is_some_and(|s| s.is_terminal()));
                        if !ended && !self.agents[i].disk.durable_uuids.contains(uuid) {
                            let msg = format!(
                                "agent{i} acknowledged update of task {task_id} to its executor before it was durable"
                            );
                            self.fail(msg);
                        }
                    }
                    self.send_to_executor(stream.0, event)
                }
                AgentOutput::CloseExecutorStream { stream } => self.close_exec_stream(stream.0),
                AgentOutput::KillContainer {
                    container_id,
                    force,
                } => self.kill_container(i, container_id.as_str().to_string(), force),
                AgentOutput::SyncVolumes { create, remove } => {
                    // Simulated schedulers make no volumes; the disk holds none to sync.
                    self.trace(format!("agent{i}: volumes +{create:?} -{remove:?}"));
                }
                AgentOutput::RemoveSandbox { path } => {
                    // Sandbox GC must never remove a dir holding a live executor's sandbox.
                    self.trace(format!("agent{i}: remove {path}"));
                    let a = &self.agents[i].agent;
                    let id = a.id().map(|id| id.as_str().to_string()).unwrap_or_default();
                    let live = a.executors().find(|e| {
                        let s = format!(
                            "slaves/{id}/frameworks/{}/executors/{}/runs/{}",
                            e.framework_id, e.executor_id, e.container_id
                        );
                        s == path || s.starts_with(&format!("{path}/"))
                    });
                    if let Some(e) = live {
                        let msg = format!(
                            "agent{i} removes {path}, which holds the sandbox of live executor {}",
                            e.executor_id
                        );
                        self.fail(msg);
                    }
                }
                AgentOutput::Log(line) => self.trace(format!("agent{i}: {line}")),
                AgentOutput::Fatal(why) => {
                    self.trace(format!("agent{i} FATAL: {why}"));
                    self.crash_agent(i, "fatal error");
                    return true;
                }
                // The simulation never begins a teardown.
                AgentOutput::Finished => self.trace(format!("agent{i}: finished")),
            }
        }
        busy
    }

    // ----- connections -----

    fn lost_in_transit(&mut self, msg: &MasterToAgent) {
        if let MasterToAgent::RunTask { framework, task } = msg {
            self.trace(format!(
                "RunTask {} is lost with its connection",
                task.task_id
            ));
            self.stats.run_tasks_lost += 1;
            self.lost_run_tasks
                .insert((framework.id.clone(), task.task_id.clone()));
        }
    }

    fn connect(&mut self, agent: usize) {
        let now = self.now;
        if !self.agents[agent].up {
            return;
        }
        let refused = self.master.is_none()
            || self.now < self.agents[agent].isolated_until
            || (self.in_fault_window() && chance(&mut self.rng, self.cfg.connect_fail_ppm));
        if refused {
            self.trace(format!("agent{agent} cannot connect"));
            self.agents[agent].agent.handle_master_disconnected(now);
            return;
        }
        let id = self.new_id();
        self.conns.insert(
            id,
            Conn {
                agent,
                gen: self.master_gen,
                agent_open: true,
                master_open: true,
                master_told: false,
                cut: false,
                blackholed: false,
                to_master_at: 0,
                to_agent_at: 0,
                registered: None,
            },
        );
        self.agents[agent].current = Some(id);
        self.trace(format!("agent{agent} connected as c{id}"));
        self.agents[agent].agent.handle_master_connected(now);
    }

    /// The agent closes its end: frames already sent still arrive, then the master sees the close.
    pub fn agent_closes(&mut self, conn: u64) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.agent_open = false;
        if c.blackholed || c.cut || !c.master_open {
            return;
        }
        let last = c.to_master_at;
        let at = self.ordered(last);
        self.conns.get_mut(&conn).expect("present").to_master_at = at;
        self.push_at(at, Ev::MasterSideClosed { conn });
    }

    fn master_side_closed(&mut self, conn: u64) {
        let now = self.now;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.master_told {
            return;
        }
        c.master_told = true;
        c.master_open = false;
        if c.gen != self.master_gen {
            return;
        }
        if let Some(m) = self.master.as_mut() {
            m.handle_agent_disconnected(now, ConnId(conn));
        }
    }

    /// The network resets a connection: in-flight frames are lost and both ends are told.
    pub fn cut_conn(&mut self, conn: u64) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.cut {
            return;
        }
        c.cut = true;
        self.stats.conn_cuts += 1;
        self.trace(format!("network resets c{conn}"));
        let d1 = self.net_delay();
        let d2 = self.net_delay();
        self.push_in(d1, Ev::AgentSideClosed { conn });
        self.push_in(d2, Ev::MasterSideClosed { conn });
    }

    // ----- reporting -----
}
