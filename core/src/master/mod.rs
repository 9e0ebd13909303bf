//! The master state machine: agents, frameworks, offers, tasks and status updates, driven by
//! inputs with the time passed in and drained through pollers.
//!
//! Method kinds (as in quinn-proto's `Connection`): getters (`&self`, see `view.rs`),
//! `handle_*` inputs, and pollers. After every input the driver drains, in this order:
//! 1. [`Master::poll_registry_write`]: persist the entry, then feed [`Master::handle_registry_written`];
//! 2. [`Master::poll_output`]: messages to agents and frameworks, logs, fatal errors;
//! 3. [`Master::poll_timeout`]: when to call [`Master::handle_timeout`] next.
//!
//! Nothing that depends on a registry write is sent before that write is reported durable.

mod agents;
mod events;
mod frameworks;
mod maintenance;
mod offers;
mod operator;
mod partition;
mod quota;
mod reservations;
mod tasks;
mod view;

pub use events::OperatorEvent;
pub use frameworks::{
    CallError, CompletedFramework, FrameworkCapabilities, FrameworkSpec, Operation, RolesError,
    SchedulerCall, SubscribeError, TaskLaunch, MAX_MESSAGE_DATA, MAX_ROLES_PER_FRAMEWORK,
};
pub use maintenance::{
    InverseOfferAnswer, InverseOfferRecord, InverseOfferStatus, MaintenanceStatus,
    MACHINE_DOWN_REASON,
};
pub use operator::{OperatorCall, OperatorError, OperatorTicket};
pub use tasks::GroupLaunch;
pub use view::{AgentView, FrameworkView, TaskView};

use crate::allocator::{Allocator, AllocatorConfig};
use crate::ids::{AgentId, AgentSlot, FrameworkId, FrameworkSlot, OfferId, Role, TaskId};
use crate::registry::{Applied, Completion, Entry, Registrar, Registry, WriteResult};
use crate::resources::Resources;
use crate::rng::Rng;
use crate::task_state::TaskState;
use crate::time::{Duration, Instant, WallTime};
use crate::wire::{AgentInfo, MasterToAgent, TaskStatus};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;

/// Torn-down frameworks remembered, so agents that come back are told to shut them down and
/// schedulers cannot resubscribe to them (Mesos keeps 50 completed frameworks).
pub const MAX_REMOVED_FRAMEWORKS: usize = 1_000;

/// The version mesolite reports as its Mesos API level.
pub const MESOS_VERSION: &str = "1.5.0";

/// Tunables of the master; defaults are Mesos 1.5's.
#[derive(Clone, Debug)]
pub struct MasterConfig {
    pub allocation_interval: Duration,
    pub max_agents: u32,
    pub max_frameworks: u32,
    /// How often the master pings each agent (Mesos `--agent_ping_timeout`, 15 s).
    pub ping_interval: Duration,
    /// Unanswered pings after which an agent is marked unreachable (Mesos
    /// `--max_agent_ping_timeouts`, 5).
    pub max_missed_pings: u32,
    /// After a master restart, how long admitted agents have to re-register before they are
    /// marked unreachable (Mesos `--agent_reregister_timeout`, 10 min).
    pub agent_reregister_timeout: Duration,
    /// Most of the admitted agents, in hundredths of a percent (10_000 is 100%), that the
    /// re-registration timeout may mark unreachable (Mesos `--recovery_agent_removal_limit`).
    pub recovery_agent_removal_limit: u32,
    /// How often the registry's unreachable and gone lists are pruned (Mesos
    /// `--registry_gc_interval`, 15 min).
    pub registry_gc_interval: Duration,
    /// Unreachable and gone entries older than this are pruned (Mesos `--registry_max_agent_age`,
    /// 2 weeks).
    pub registry_max_agent_age: Duration,
    /// Most entries kept in each of the unreachable and gone lists (Mesos
    /// `--registry_max_agent_count`, 102400).
    pub registry_max_agent_count: u32,
    /// Tasks of unreachable agents remembered per framework (Mesos
    /// `--max_unreachable_tasks_per_framework`, 1000); the oldest goes first.
    pub max_unreachable_tasks_per_framework: usize,
    /// Scheduler stream heartbeat (Mesos `DEFAULT_HEARTBEAT_INTERVAL`, 15 s).
    pub heartbeat_interval: Duration,
    /// Bounded history kept per task.
    pub max_statuses_per_task: usize,
    /// Completed tasks kept per framework (Mesos `--max_completed_tasks_per_framework`, 1000).
    pub max_completed_tasks_per_framework: usize,
    /// Torn-down frameworks kept for the APIs (Mesos `--max_completed_frameworks`, 50).
    pub max_completed_frameworks: usize,
    /// Seed of the master's generator (offer shuffling, stream ids).
    pub seed: u64,
    /// Where the master serves, reported in `master_info`.
    pub hostname: String,
    pub ip: String,
    pub port: u16,
}

impl MasterConfig {
    pub fn new(hostname: String, ip: String, port: u16, seed: u64) -> Self {
        MasterConfig {
            allocation_interval: Duration::from_secs(1),
            max_agents: 10_000,
            max_frameworks: 1_000,
            ping_interval: Duration::from_secs(15),
            max_missed_pings: 5,
            agent_reregister_timeout: Duration::from_secs(600),
            recovery_agent_removal_limit: 10_000,
            registry_gc_interval: Duration::from_secs(15 * 60),
            registry_max_agent_age: Duration::from_secs(14 * 86_400),
            registry_max_agent_count: 102_400,
            max_unreachable_tasks_per_framework: 1_000,
            heartbeat_interval: Duration::from_secs(15),
            max_statuses_per_task: 16,
            max_completed_tasks_per_framework: 1_000,
            max_completed_frameworks: 50,
            seed,
            hostname,
            ip,
            port,
        }
    }
}

/// Identifies one agent connection in the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

/// Identifies one scheduler event stream in the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId(pub u64);

/// Leadership, fed by the driver (single-master mode feeds `BecameLeader` at start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leadership {
    BecameLeader,
    LostLeadership,
}

/// Where the master is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not the leader: serves nothing.
    Standby,
    /// Leader, waiting for its `Recover` registry write to become durable (calls get 503).
    Recovering,
    /// Serving.
    Leading,
}

/// A resource offer outstanding with a framework.
#[derive(Clone, Debug, PartialEq)]
pub struct OfferRecord {
    pub id: OfferId,
    pub framework_id: FrameworkId,
    pub agent_id: AgentId,
    pub role: Role,
    pub resources: Resources,
}

/// Events for a scheduler's stream (the v1 `Event` union, before JSON).
#[derive(Clone, Debug, PartialEq)]
pub enum SchedulerEvent {
    Subscribed {
        framework_id: FrameworkId,
        heartbeat_interval: Duration,
    },
    Offers(Vec<OfferRecord>),
    Rescind(OfferId),
    Update(TaskStatus),
    /// An agent was removed (`executor_id` None) or a custom executor ended.
    Failure {
        agent_id: AgentId,
        executor_id: Option<crate::ids::ExecutorId>,
        status: Option<i32>,
    },
    Error(String),
    /// Opaque bytes from an executor (the v1 `Event.Message`).
    Message {
        agent_id: AgentId,
        executor_id: crate::ids::ExecutorId,
        data: Vec<u8>,
    },
    Heartbeat,
    /// Maintenance inverse offers (the v1 `INVERSE_OFFERS` event).
    InverseOffers(Vec<InverseOfferRecord>),
    /// An inverse offer withdrawn (the v1 `RESCIND_INVERSE_OFFER` event).
    RescindInverseOffer(OfferId),
}

/// Outputs for the driver to carry out.
#[derive(Clone, Debug, PartialEq)]
pub enum MasterOutput {
    ToAgent {
        conn: ConnId,
        msg: MasterToAgent,
    },
    /// Close an agent connection (protocol violation or refusal).
    CloseAgent {
        conn: ConnId,
    },
    ToFramework {
        stream: StreamId,
        event: SchedulerEvent,
    },
    /// Close a scheduler stream (the framework was torn down or replaced).
    CloseStream {
        stream: StreamId,
    },
    /// An event for the operator event stream (only while an operator is subscribed).
    Operator(OperatorEvent),
    Log(String),
    /// The registry could not be persisted: the master must exit without serving more.
    Fatal(String),
}

/// What a pending registry operation will do once it is durable.
#[derive(Debug)]
enum PendingOp {
    Recover,
    Admit {
        conn: ConnId,
        info: AgentInfo,
        checkpointed: Resources,
    },
    Reregister {
        conn: ConnId,
        rereg: agents::Reregistration,
    },
    /// An agent removal; nothing waits on it.
    Remove,
    /// An agent being marked unreachable (Mesos `markUnreachable`); the master acts once durable.
    Unreachable {
        id: AgentId,
        at: WallTime,
    },
    /// Registry GC of the unreachable and gone lists.
    Prune,
    /// An operator call (UPDATE_WEIGHTS, MARK_AGENT_GONE) waiting to be answered.
    Operator(operator::PendingCall),
}

/// The master.
pub struct Master {
    cfg: MasterConfig,
    rng: Rng,
    phase: Phase,
    registrar: Registrar,
    allocator: Allocator,
    agents: BTreeMap<AgentId, agents::AgentEntry>,
    conns: BTreeMap<ConnId, AgentId>,
    agent_slots: Slots<AgentId>,
    frameworks: BTreeMap<FrameworkId, frameworks::FrameworkEntry>,
    framework_slots: Slots<FrameworkId>,
    streams: BTreeMap<StreamId, FrameworkId>,
    offers: BTreeMap<OfferId, OfferRecord>,
    tasks: BTreeMap<(FrameworkId, TaskId), tasks::TaskEntry>,
    /// Tasks of agents marked unreachable (Mesos `Framework::unreachableTasks`), kept for
    /// reconciliation and the APIs until the agent comes back, is marked gone or is pruned.
    unreachable_tasks: BTreeMap<(FrameworkId, TaskId), partition::UnreachableTask>,
    /// Address (ip, port) of each agent this master marked unreachable, so a new agent
    /// registering there settles the old one's unreachable tasks.
    unreachable_addresses: BTreeMap<AgentId, (String, u16)>,
    /// Agents whose `MarkUnreachable` write is in flight: their re-registration waits.
    marking_unreachable: alloc::collections::BTreeSet<AgentId>,
    /// When admitted agents that have not re-registered since the master recovered are marked
    /// unreachable (once; `None` after).
    reregister_deadline: Option<Instant>,
    /// The next registry GC.
    next_registry_gc: Instant,
    /// Removed tasks, oldest first, at most `max_completed_tasks_per_framework` per framework.
    completed_tasks: VecDeque<tasks::TaskEntry>,
    completed_per_framework: BTreeMap<FrameworkId, usize>,
    /// Torn-down frameworks, oldest first, at most `max_completed_frameworks`.
    completed_frameworks: VecDeque<frameworks::CompletedFramework>,
    pending: BTreeMap<u64, PendingOp>,
    /// Answers to operator calls, for [`Master::poll_operator_completion`].
    operator_done: VecDeque<(OperatorTicket, Result<(), OperatorError>)>,
    /// Whether an operator is subscribed to the event stream, and its next heartbeat.
    operator_subscribed: bool,
    next_operator_heartbeat: Instant,
    /// Agent connections that closed while their (re-)registration waited for the registry.
    closed_conns: alloc::collections::BTreeSet<ConnId>,
    /// Positions of the admitted agents in the durable registry, for the registry version they
    /// were taken from: a failover looks up thousands of agents in one unchanged registry.
    admitted_index: (Option<u64>, BTreeMap<AgentId, usize>),
    /// Frameworks torn down by this master, newest last, at most `MAX_REMOVED_FRAMEWORKS`.
    removed_frameworks: VecDeque<FrameworkId>,
    /// Inverse offers and the frameworks' answers (soft state; the schedule is in the registry).
    maintenance: maintenance::MaintenanceState,
    next_tag: u64,
    next_offer: u64,
    next_framework: u64,
    next_tick: Instant,
    outputs: VecDeque<MasterOutput>,
    start_time: WallTime,
    elected_time: Option<WallTime>,
}

/// Dense slots for the allocator's tables, handed out and returned.
struct Slots<K> {
    owners: Vec<Option<K>>,
    free: Vec<u32>,
}

impl<K: Clone> Slots<K> {
    fn new(capacity: u32) -> Self {
        Slots {
            owners: Vec::new(),
            free: (0..capacity).rev().collect(),
        }
    }
    fn take(&mut self, owner: K) -> Option<u32> {
        let slot = self.free.pop()?;
        let i = slot as usize;
        if self.owners.len() <= i {
            self.owners.resize(i + 1, None);
        }
        self.owners[i] = Some(owner);
        Some(slot)
    }
    fn give_back(&mut self, slot: u32) {
        if let Some(o) = self.owners.get_mut(slot as usize) {
            if o.take().is_some() {
                self.free.push(slot);
            }
        }
    }
    fn owner(&self, slot: u32) -> Option<&K> {
        self.owners.get(slot as usize).and_then(|o| o.as_ref())
    }
}

impl Master {
    /// A master over the registry read from disk. It serves nothing until it is told it leads
    /// and its `Recover` write is durable.
    pub fn new(cfg: MasterConfig, registry: Registry, now: Instant, wall: WallTime) -> Self {
        let allocator = Allocator::new(AllocatorConfig {
            max_agents: cfg.max_agents,
            max_frameworks: cfg.max_frameworks,
            allocation_interval: cfg.allocation_interval,
            seed: cfg.seed,
        });
        let rng = Rng::from_seed(cfg.seed ^ 0x6d61_7374_6572);
        Master {
            agent_slots: Slots::new(cfg.max_agents),
            framework_slots: Slots::new(cfg.max_frameworks),
            registrar: Registrar::new(registry, 1024),
            allocator,
            rng,
            phase: Phase::Standby,
            agents: BTreeMap::new(),
            conns: BTreeMap::new(),
            frameworks: BTreeMap::new(),
            streams: BTreeMap::new(),
            offers: BTreeMap::new(),
            tasks: BTreeMap::new(),
            unreachable_tasks: BTreeMap::new(),
            marking_unreachable: alloc::collections::BTreeSet::new(),
            unreachable_addresses: BTreeMap::new(),
            reregister_deadline: None,
            next_registry_gc: now,
            completed_tasks: VecDeque::new(),
            completed_per_framework: BTreeMap::new(),
            completed_frameworks: VecDeque::new(),
            pending: BTreeMap::new(),
            operator_done: VecDeque::new(),
            operator_subscribed: false,
            next_operator_heartbeat: now,
            closed_conns: alloc::collections::BTreeSet::new(),
            admitted_index: (None, BTreeMap::new()),
            removed_frameworks: VecDeque::new(),
            maintenance: maintenance::MaintenanceState::default(),
            next_tag: 0,
            next_offer: 0,
            next_framework: 0,
            next_tick: now + Duration::from_secs(1),
            outputs: VecDeque::new(),
            start_time: wall,
            elected_time: None,
            cfg,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn config(&self) -> &MasterConfig {
        &self.cfg
    }

    /// The durable registry.
    pub fn registry(&self) -> &Registry {
        self.registrar.registry()
    }

    /// Leadership changes (single-master mode: `BecameLeader` once, at start).
    pub fn handle_leadership(&mut self, _now: Instant, wall: WallTime, change: Leadership) {
        match change {
            Leadership::BecameLeader => {
                if self.phase == Phase::Standby {
                    self.phase = Phase::Recovering;
                    self.elected_time = Some(wall);
                    let leader = alloc::format!("{}:{}", self.cfg.ip, self.cfg.port);
                    self.submit(crate::registry::Op::Recover { leader }, PendingOp::Recover);
                }
            }
            Leadership::LostLeadership => {
                self.phase = Phase::Standby;
                self.log(String::from("lost leadership; now a standby"));
            }
        }
    }

    /// The next registry entry to persist, if any. Batches that change nothing complete here
    /// without a write, so outputs may follow even when this returns `None`.
    pub fn poll_registry_write(&mut self, now: Instant, wall: WallTime) -> Option<Entry> {
        let entry = self.registrar.poll_write().cloned();
        self.drain_completions(now, wall);
        entry
    }

    /// The driver reports what happened to an entry from [`Master::poll_registry_write`].
    pub fn handle_registry_written(
        &mut self,
        now: Instant,
        wall: WallTime,
        index: u64,
        result: WriteResult,
    ) {
        if let Err(e) = self.registrar.handle_write_done(index, result) {
            self.outputs
                .push_back(MasterOutput::Fatal(alloc::format!("registrar: {e}")));
        }
        self.drain_completions(now, wall);
    }

    fn drain_completions(&mut self, now: Instant, wall: WallTime) {
        while let Some(done) = self.registrar.poll_completion() {
            self.complete(now, wall, done);
        }
    }

    /// True when registry operations wait to be written (the driver's store task should run).
    pub fn has_registry_work(&self) -> bool {
        self.registrar.queued() > 0
    }

    /// The snapshot to write now, if the registrar wants one (never while a write is in flight).
    /// Report it with [`Master::handle_snapshot_written`].
    pub fn poll_snapshot(&self) -> Option<&Registry> {
        self.registrar
            .wants_snapshot()
            .then(|| self.registrar.registry())
    }

    pub fn handle_snapshot_written(&mut self) {
        self.registrar.handle_snapshot_written();
    }

    /// Entries the recovered log holds past its snapshot (so the snapshot interval counts them).
    pub fn set_log_entries_since_snapshot(&mut self, n: u64) {
        self.registrar.set_entries_since_snapshot(n);
    }

    fn complete(&mut self, now: Instant, wall: WallTime, done: Completion) {
        let Some(op) = self.pending.remove(&done.tag) else {
            return;
        };
        let outcome = match done.outcome {
            crate::registry::Outcome::Done(r) => r,
            crate::registry::Outcome::Failed => {
                self.outputs.push_back(MasterOutput::Fatal(String::from(
                    "registry write failed; refusing to go on with state that is not durable",
                )));
                return;
            }
            crate::registry::Outcome::Abandoned => {
                self.phase = Phase::Standby;
                match op {
                    PendingOp::Operator(call) => self.abandon_operator_call(call),
                    PendingOp::Unreachable { id, .. } => {
                        self.marking_unreachable.remove(&id);
                    }
                    _ => {}
                }
                return;
            }
        };
        match op {
            PendingOp::Recover => {
                if let Ok(Applied::Recovered { epoch }) = outcome {
                    self.phase = Phase::Leading;
                    self.apply_registry_weights();
                    self.apply_registry_quotas();
                    self.reregister_deadline = Some(now + self.cfg.agent_reregister_timeout);
                    self.next_registry_gc = now + self.cfg.registry_gc_interval;
                    let n = self.registry().admitted.len();
                    self.log(alloc::format!(
                        "recovered registry (leader epoch {epoch}, {n} admitted agents); serving"
                    ));
                }
            }
            PendingOp::Admit {
                conn,
                info,
                checkpointed,
            } => self.finish_admission(now, wall, conn, info, checkpointed, outcome),
            PendingOp::Reregister { conn, rereg } => {
                self.finish_reregistration(now, wall, conn, rereg, outcome)
            }
            PendingOp::Remove => {}
            PendingOp::Unreachable { id, at } => {
                self.finish_mark_unreachable(now, wall, id, at, outcome)
            }
            PendingOp::Prune => self.finish_prune(outcome),
            PendingOp::Operator(call) => self.finish_operator_call(now, wall, call, outcome),
        }
    }

    fn submit(&mut self, op: crate::registry::Op, pending: PendingOp) {
        let tag = self.next_tag;
        self.next_tag += 1;
        match self.registrar.submit(op, tag) {
            Ok(()) => {
                self.pending.insert(tag, pending);
            }
            Err(e) => {
                self.log(alloc::format!("registry operation refused: {e}"));
                if let PendingOp::Unreachable { id, .. } = &pending {
                    // Tried again at the next ping tick or never (after a restart's deadline).
                    self.marking_unreachable.remove(id);
                }
                if let PendingOp::Admit { conn, .. } | PendingOp::Reregister { conn, .. } = pending
                {
                    self.outputs.push_back(MasterOutput::ToAgent {
                        conn,
                        msg: MasterToAgent::Refused {
                            reason: alloc::format!("master is busy: {e}"),
                            forget_id: false,
                        },
                    });
                }
            }
        }
    }

    /// The next output to carry out.
    pub fn poll_output(&mut self) -> Option<MasterOutput> {
        self.outputs.pop_front()
    }

    /// When [`Master::handle_timeout`] must run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let alloc = if self.phase == Phase::Leading {
            self.allocator.poll_timeout()
        } else {
            None
        };
        Some(match alloc {
            Some(a) if a < self.next_tick => a,
            _ => self.next_tick,
        })
    }

    /// Runs due timers: allocation, pings, heartbeats, framework failover.
    pub fn handle_timeout(&mut self, now: Instant, wall: WallTime) {
        if self.phase != Phase::Leading {
            if now >= self.next_tick {
                self.next_tick = now + Duration::from_secs(1);
            }
            return;
        }
        let mut offered: Vec<(AgentSlot, FrameworkSlot, Role, Resources)> = Vec::new();
        self.allocator.handle_timeout(now, &mut |o| {
            offered.push((o.agent, o.framework, o.role.clone(), o.resources.clone()));
        });
        self.deliver_offers(now, offered);
        if now >= self.next_tick {
            self.next_tick = now + Duration::from_secs(1);
            self.tick_agents(now, wall);
            self.tick_partitions(now, wall);
            self.tick_frameworks(now, wall);
            self.tick_operator(now);
            self.tick_maintenance(wall);
        }
    }

    fn deliver_offers(
        &mut self,
        now: Instant,
        offered: Vec<(AgentSlot, FrameworkSlot, Role, Resources)>,
    ) {
        let mut per_stream: BTreeMap<StreamId, Vec<OfferRecord>> = BTreeMap::new();
        for (agent_slot, fw_slot, role, resources) in offered {
            let (Some(agent_id), Some(fw_id)) = (
                self.agent_slots.owner(agent_slot.0).cloned(),
                self.framework_slots.owner(fw_slot.0).cloned(),
            ) else {
                continue;
            };
            let stream = self.frameworks.get(&fw_id).and_then(|f| f.stream);
            let Some(stream) = stream else {
                // The framework lost its stream between trigger and cycle: give the resources back.
                self.allocator
                    .recover(now, fw_slot, agent_slot, &resources, None);
                continue;
            };
            let id = self.new_offer_id();
            let offer = OfferRecord {
                id: id.clone(),
                framework_id: fw_id.clone(),
                agent_id,
                role,
                resources,
            };
            if let Some(f) = self.frameworks.get_mut(&fw_id) {
                f.offers.push(id.clone());
            }
            self.offers.insert(id, offer.clone());
            per_stream.entry(stream).or_default().push(offer);
        }
        for (stream, offers) in per_stream {
            self.outputs.push_back(MasterOutput::ToFramework {
                stream,
                event: SchedulerEvent::Offers(offers),
            });
        }
    }

    /// A new offer id (Mesos `<cluster>-<epoch>-O<n>`); offers and inverse offers share the
    /// sequence.
    pub(super) fn new_offer_id(&mut self) -> OfferId {
        let id = OfferId::new(alloc::format!(
            "{}-{}-O{}",
            self.registry().cluster_id,
            self.registry().leader_epoch,
            self.next_offer
        ));
        self.next_offer += 1;
        id
    }

    fn log(&mut self, line: String) {
        self.outputs.push_back(MasterOutput::Log(line));
    }

    fn require_leading(&self) -> Result<(), CallError> {
        match self.phase {
            Phase::Leading => Ok(()),
            _ => Err(CallError::NotReady),
        }
    }

    /// A status the master itself decided: operator subscribers see the task change and the
    /// framework gets the update.
    fn publish_status(&mut self, framework_id: &FrameworkId, status: TaskStatus) {
        self.operator_event(OperatorEvent::TaskUpdated {
            framework_id: framework_id.clone(),
            status: status.clone(),
            state: status.state,
        });
        self.send_status(framework_id, status);
    }

    /// Sends a status to the framework's stream, if it has one (reliable updates are retried by the agent).
    fn send_status(&mut self, framework_id: &FrameworkId, status: TaskStatus) {
        if let Some(stream) = self.frameworks.get(framework_id).and_then(|f| f.stream) {
            self.outputs.push_back(MasterOutput::ToFramework {
                stream,
                event: SchedulerEvent::Update(status),
            });
        }
    }

    fn master_status(
        &self,
        task_id: TaskId,
        state: TaskState,
        reason: crate::wire::StatusReason,
        message: &str,
        agent_id: Option<AgentId>,
        wall: WallTime,
    ) -> TaskStatus {
        TaskStatus {
            task_id,
            state,
            message: Some(String::from(message)),
            source: crate::wire::StatusSource::Master,
            reason: Some(reason),
            agent_id,
            executor_id: None,
            timestamp: wall,
            uuid: None,
            data: Vec::new(),
            unreachable_time: None,
        }
    }
}

impl core::fmt::Debug for Master {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Master")
            .field("phase", &self.phase)
            .field("agents", &self.agents.len())
            .field("frameworks", &self.frameworks.len())
            .field("tasks", &self.tasks.len())
            .finish()
    }
}

#[cfg(test)]
mod tests;
