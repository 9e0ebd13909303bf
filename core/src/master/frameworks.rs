//! Master side of frameworks: subscription, the scheduler calls, stream loss and failover timeouts.

use super::{Master, MasterOutput, SchedulerEvent, StreamId};
use crate::ids::{AgentId, ExecutorId, FrameworkId, FrameworkSlot, OfferId, Role, TaskId};
use crate::resources::Resources;
use crate::time::{Duration, Instant, WallTime};
use crate::wire::{CommandSpec, ExecutorSpec, FrameworkRecord, MasterToAgent};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Longest `failover_timeout` honoured (365 days, like Mesos' filter cap).
const MAX_FAILOVER_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// Most roles one MULTI_ROLE framework may subscribe to. Each role takes one of the
/// allocator's framework slots (`MasterConfig::max_frameworks` in all).
pub const MAX_ROLES_PER_FRAMEWORK: usize = 8;

/// Largest `data` of a MESSAGE call: the message must fit in one internal frame to the agent.
pub const MAX_MESSAGE_DATA: usize = crate::wire::MAX_FRAME_LEN - 64 * 1024;

/// What a scheduler says about itself when it subscribes (the parts of Mesos `FrameworkInfo` the master uses).
#[derive(Clone, Debug, PartialEq)]
pub struct FrameworkSpec {
    pub id: Option<FrameworkId>,
    pub name: String,
    pub user: String,
    pub role: Role,
    pub failover_timeout: Duration,
    pub checkpoint: bool,
    pub hostname: Option<String>,
    pub principal: Option<String>,
    pub capabilities: FrameworkCapabilities,
    /// With `MULTI_ROLE`: every role the framework subscribes to (Mesos `FrameworkInfo.roles`),
    /// at most [`MAX_ROLES_PER_FRAMEWORK`]; `role` is the first. Empty for a framework whose
    /// only role is `role`.
    pub roles: Vec<Role>,
}

impl FrameworkSpec {
    /// The roles the framework subscribes to: `roles`, or just `role` when that is empty.
    pub fn subscribed_roles(&self) -> &[Role] {
        if self.roles.is_empty() {
            core::slice::from_ref(&self.role)
        } else {
            &self.roles
        }
    }
}

/// The Mesos `FrameworkInfo.Capability` values that change what the master does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameworkCapabilities {
    /// `PARTITION_AWARE`: unknown tasks are reported `TASK_GONE`/`TASK_UNKNOWN`/`TASK_UNREACHABLE`
    /// instead of `TASK_LOST`.
    pub partition_aware: bool,
    /// `TASK_KILLING_STATE`: the framework understands `TASK_KILLING`.
    pub task_killing_state: bool,
    /// `MULTI_ROLE`: the framework subscribes with `roles` rather than `role`.
    pub multi_role: bool,
    /// `RESERVATION_REFINEMENT`: may reserve for a sub-role on top of a reservation.
    pub reservation_refinement: bool,
    /// `SHARED_RESOURCES`: may create shared persistent volumes.
    pub shared_resources: bool,
}

/// One of a framework's roles and the allocator slot that stands for the framework in it.
#[derive(Clone, Debug)]
pub(super) struct RoleSlot {
    pub role: Role,
    pub slot: FrameworkSlot,
    pub suppressed: bool,
}

/// A framework the master knows.
#[derive(Debug)]
pub(super) struct FrameworkEntry {
    pub spec: FrameworkSpec,
    pub id: FrameworkId,
    /// The allocator slot of `spec.role` (the first role).
    pub slot: FrameworkSlot,
    /// One allocator slot per subscribed role, `slot` among them: the allocator knows one role
    /// per slot, so a MULTI_ROLE framework is one allocator client per role.
    pub role_slots: Vec<RoleSlot>,
    pub stream: Option<StreamId>,
    pub stream_token: String,
    pub offers: Vec<OfferId>,
    pub registered_time: Option<WallTime>,
    pub reregistered_time: Option<WallTime>,
    /// Set while disconnected with a failover timeout: when it expires the framework is torn down.
    pub failover_deadline: Option<Instant>,
    pub next_heartbeat: Instant,
    /// Every role is suppressed (SUPPRESS without roles, or with all of them).
    pub suppressed: bool,
    /// Known only from a re-registering agent; no scheduler has subscribed to this master yet.
    pub recovered: bool,
}

impl FrameworkEntry {
    /// The allocator slot of one of the framework's roles.
    pub fn slot_of(&self, role: &Role) -> Option<FrameworkSlot> {
        self.role_slots
            .iter()
            .find(|r| &r.role == role)
            .map(|r| r.slot)
    }
}

/// A torn-down framework kept for the APIs (Mesos `completed_frameworks`).
#[derive(Clone, Debug)]
pub struct CompletedFramework {
    pub id: FrameworkId,
    pub spec: FrameworkSpec,
    pub registered_time: Option<WallTime>,
    pub reregistered_time: Option<WallTime>,
    pub unregistered_time: WallTime,
}

/// One task of a LAUNCH operation, already validated for shape by the API layer.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskLaunch {
    pub task_id: TaskId,
    pub name: String,
    pub agent_id: AgentId,
    pub resources: Resources,
    /// Set for command tasks (the master generates a command executor).
    pub command: Option<CommandSpec>,
    /// Set for tasks with a custom executor (its `command` is set).
    pub executor: Option<ExecutorSpec>,
    pub kill_grace: Option<Duration>,
    pub data: Vec<u8>,
    /// Set by the API layer when the task uses something mesolite does not implement or is
    /// malformed: the master answers `TASK_ERROR` with `REASON_TASK_INVALID` and this message.
    pub invalid: Option<String>,
}

/// Offer operations (Mesos `Offer.Operation`); reservations and volumes come with the allocation issue.
#[derive(Clone, Debug, PartialEq)]
pub enum Operation {
    Launch(Vec<TaskLaunch>),
    /// LAUNCH_GROUP: tasks launched atomically under one default executor.
    LaunchGroup(super::tasks::GroupLaunch),
    /// RESERVE, UNRESERVE, CREATE or DESTROY (resources as the framework sent them, with
    /// their allocation role).
    Resource(crate::resources::operations::ResourceOperation),
    /// An operation mesolite does not support yet; its name goes into the error.
    Unsupported(&'static str),
}

/// Scheduler calls other than SUBSCRIBE (Mesos `scheduler::Call`).
#[derive(Clone, Debug, PartialEq)]
pub enum SchedulerCall {
    Teardown,
    Accept {
        offer_ids: Vec<OfferId>,
        operations: Vec<Operation>,
        refuse: Option<Duration>,
    },
    Decline {
        offer_ids: Vec<OfferId>,
        refuse: Option<Duration>,
    },
    /// Clears filters and resumes offers for the listed roles (empty: all of the framework's).
    Revive {
        roles: Vec<Role>,
    },
    /// Stops offers for the listed roles (empty: all of the framework's).
    Suppress {
        roles: Vec<Role>,
    },
    /// Shuts a custom executor down.
    Shutdown {
        executor_id: ExecutorId,
        agent_id: AgentId,
    },
    /// Opaque bytes for an executor, best effort.
    Message {
        agent_id: AgentId,
        executor_id: ExecutorId,
        data: Vec<u8>,
    },
    Kill {
        task_id: TaskId,
        agent_id: Option<AgentId>,
    },
    Acknowledge {
        agent_id: AgentId,
        task_id: TaskId,
        uuid: [u8; 16],
    },
    Reconcile {
        tasks: Vec<(TaskId, Option<AgentId>)>,
    },
    /// Answers maintenance inverse offers. `refuse` is accepted and not used: an inverse offer
    /// is sent once per (framework, agent) and unavailability, never again after an answer.
    AcceptInverseOffers {
        inverse_offer_ids: Vec<OfferId>,
        refuse: Option<Duration>,
    },
    DeclineInverseOffers {
        inverse_offer_ids: Vec<OfferId>,
        refuse: Option<Duration>,
    },
}

/// Why a SUBSCRIBE was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubscribeError {
    NotReady,
    TooManyFrameworks,
    InvalidRole(String),
    /// The framework was torn down; it must subscribe afresh, without an id.
    Removed(FrameworkId),
    /// A re-subscription without MULTI_ROLE asked for another role.
    RoleChanged {
        from: Role,
        to: Role,
    },
    /// The MULTI_ROLE `roles` are unusable.
    InvalidRoles(RolesError),
}

/// Why a MULTI_ROLE framework's `roles` were refused (400).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RolesError {
    /// More than [`MAX_ROLES_PER_FRAMEWORK`] roles.
    TooMany(usize),
    /// A role appears twice.
    Duplicate(Role),
    /// A re-subscription drops a role that still has live tasks.
    RemovedWithTasks(Role),
}

impl fmt::Display for RolesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RolesError::TooMany(n) => write!(
                f,
                "a framework may subscribe to at most {MAX_ROLES_PER_FRAMEWORK} roles, not {n}"
            ),
            RolesError::Duplicate(r) => {
                write!(f, "'FrameworkInfo.roles' contains duplicate role '{r}'")
            }
            RolesError::RemovedWithTasks(r) => write!(
                f,
                "role '{r}' cannot be removed from the framework while it has tasks in that role"
            ),
        }
    }
}

impl fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubscribeError::NotReady => f.write_str("Master has not finished recovery"),
            SubscribeError::TooManyFrameworks => {
                f.write_str("the master has no room for another framework")
            }
            SubscribeError::InvalidRole(r) => write!(f, "invalid role '{r}'"),
            SubscribeError::Removed(id) => write!(
                f,
                "framework {id} was torn down; subscribe without a framework id"
            ),
            SubscribeError::RoleChanged { from, to } => write!(
                f,
                "a framework cannot change its role on re-subscription (from '{from}' to '{to}')"
            ),
            SubscribeError::InvalidRoles(e) => e.fmt(f),
        }
    }
}

/// Why a scheduler call was refused; the API layer maps these to HTTP statuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// 503: recovering or not the leader.
    NotReady,
    /// 403: the framework has no open stream.
    NotSubscribed,
    /// 400: the `Mesos-Stream-Id` header does not match the framework's stream.
    WrongStreamId,
    /// 400: no such framework.
    UnknownFramework,
    /// 400: the call is malformed or invalid.
    Invalid(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::NotReady => f.write_str("Master has not finished recovery"),
            CallError::NotSubscribed => f.write_str("Framework is not subscribed"),
            CallError::WrongStreamId => f.write_str("The stream ID included in this request didn't match the stream ID currently associated with framework"),
            CallError::UnknownFramework => f.write_str("Framework cannot be found"),
            CallError::Invalid(m) => f.write_str(m),
        }
    }
}

/// Checks a subscription's roles: valid names, and for MULTI_ROLE at most
/// [`MAX_ROLES_PER_FRAMEWORK`] without duplicates; `role` becomes the first of `roles`.
fn check_roles(spec: &mut FrameworkSpec) -> Result<(), SubscribeError> {
    if !spec.capabilities.multi_role {
        spec.roles.clear();
    }
    if spec.roles.len() > MAX_ROLES_PER_FRAMEWORK {
        return Err(SubscribeError::InvalidRoles(RolesError::TooMany(
            spec.roles.len(),
        )));
    }
    for (i, role) in spec.roles.iter().enumerate() {
        if spec.roles[..i].contains(role) {
            return Err(SubscribeError::InvalidRoles(RolesError::Duplicate(
                role.clone(),
            )));
        }
    }
    if let Some(first) = spec.roles.first() {
        spec.role = first.clone();
    }
    for role in spec.subscribed_roles() {
        if crate::resources::validate_role(role.as_str()).is_err() {
            return Err(SubscribeError::InvalidRole(String::from(role.as_str())));
        }
    }
    Ok(())
}

/// The answer to a successful SUBSCRIBE.
#[derive(Clone, Debug, PartialEq)]
pub struct Subscribed {
    pub framework_id: FrameworkId,
    /// The value of the `Mesos-Stream-Id` header.
    pub stream_token: String,
}

impl Master {
    /// SUBSCRIBE on a new stream. With `spec.id` set this is a re-subscription (failover);
    /// the old stream, if any, is closed and the framework keeps its tasks.
    pub fn handle_subscribe(
        &mut self,
        now: Instant,
        wall: WallTime,
        stream: StreamId,
        mut spec: FrameworkSpec,
    ) -> Result<Subscribed, SubscribeError> {
        if self.phase != super::Phase::Leading {
            return Err(SubscribeError::NotReady);
        }
        spec.failover_timeout = spec.failover_timeout.min(MAX_FAILOVER_TIMEOUT);
        check_roles(&mut spec)?;
        let token = self.new_stream_token();
        let id = match spec.id.clone() {
            Some(id) => id,
            None => {
                let id = FrameworkId::new(alloc::format!(
                    "{}-{:04}-{:04}",
                    self.registry().cluster_id,
                    self.registry().leader_epoch,
                    self.next_framework
                ));
                self.next_framework += 1;
                id
            }
        };
        spec.id = Some(id.clone());
        if self.is_removed_framework(&id) {
            return Err(SubscribeError::Removed(id));
        }
        let (added, removed) = self.role_changes(&id, &spec)?;
        let new_slots = if self.frameworks.contains_key(&id) {
            self.take_role_slots(now, &id, &added)?
        } else {
            Vec::new()
        };
        if let Some(existing) = self.frameworks.get_mut(&id) {
            let old = existing.stream.replace(stream);
            existing.stream_token = token.clone();
            existing.spec = spec;
            existing.failover_deadline = None;
            existing.recovered = false;
            existing.suppressed = false;
            existing.reregistered_time = Some(wall);
            existing.next_heartbeat = now + self.cfg.heartbeat_interval;
            if let Some(old) = old {
                self.streams.remove(&old);
                self.outputs.push_back(MasterOutput::ToFramework {
                    stream: old,
                    event: SchedulerEvent::Error(String::from("Framework failed over")),
                });
                self.outputs
                    .push_back(MasterOutput::CloseStream { stream: old });
            }
            // Offers go back first, so each returns to the slot of its role before slots change.
            self.rescind_offers_of(&id);
            let mut gone: Vec<FrameworkSlot> = Vec::new();
            if let Some(fw) = self.frameworks.get_mut(&id) {
                fw.role_slots.retain(|r| {
                    let keep = !removed.contains(&r.role);
                    if !keep {
                        gone.push(r.slot);
                    }
                    keep
                });
                fw.role_slots.extend(new_slots);
                if let Some(first) = fw.slot_of(&fw.spec.role) {
                    fw.slot = first;
                }
            }
            for slot in gone {
                self.allocator.remove_framework(slot);
                self.framework_slots.give_back(slot.0);
            }
            for slot in self.slots_of(&id) {
                self.allocator.activate_framework(slot);
                self.allocator.revive(now, slot);
            }
            if let Some(fw) = self.frameworks.get_mut(&id) {
                for r in &mut fw.role_slots {
                    r.suppressed = false;
                }
            }
            self.operator_event(super::OperatorEvent::FrameworkUpdated(id.clone()));
        } else {
            let role_slots = self.take_role_slots(now, &id, spec.subscribed_roles())?;
            let Some(slot) = role_slots.first().map(|r| r.slot) else {
                return Err(SubscribeError::TooManyFrameworks);
            };
            self.frameworks.insert(
                id.clone(),
                FrameworkEntry {
                    spec,
                    id: id.clone(),
                    slot,
                    role_slots,
                    stream: Some(stream),
                    stream_token: token.clone(),
                    offers: Vec::new(),
                    registered_time: Some(wall),
                    reregistered_time: None,
                    failover_deadline: None,
                    next_heartbeat: now + self.cfg.heartbeat_interval,
                    suppressed: false,
                    recovered: false,
                },
            );
            self.operator_event(super::OperatorEvent::FrameworkAdded(id.clone()));
        }
        self.streams.insert(stream, id.clone());
        self.outputs.push_back(MasterOutput::ToFramework {
            stream,
            event: SchedulerEvent::Subscribed {
                framework_id: id.clone(),
                heartbeat_interval: self.cfg.heartbeat_interval,
            },
        });
        self.outputs.push_back(MasterOutput::ToFramework {
            stream,
            event: SchedulerEvent::Heartbeat,
        });
        self.log(alloc::format!("framework {id} subscribed"));
        Ok(Subscribed {
            framework_id: id,
            stream_token: token,
        })
    }

    /// The roles a re-subscription adds and removes, checked: only MULTI_ROLE frameworks may
    /// change roles, and a role with live tasks may not go. Nothing changes here.
    fn role_changes(
        &self,
        id: &FrameworkId,
        spec: &FrameworkSpec,
    ) -> Result<(Vec<Role>, Vec<Role>), SubscribeError> {
        let Some(existing) = self.frameworks.get(id) else {
            return Ok((Vec::new(), Vec::new()));
        };
        let old = existing.spec.subscribed_roles();
        let new = spec.subscribed_roles();
        let added: Vec<Role> = new.iter().filter(|r| !old.contains(r)).cloned().collect();
        let removed: Vec<Role> = old.iter().filter(|r| !new.contains(r)).cloned().collect();
        if added.is_empty() && removed.is_empty() {
            return Ok((added, removed));
        }
        if !spec.capabilities.multi_role {
            return Err(SubscribeError::RoleChanged {
                from: existing.spec.role.clone(),
                to: spec.role.clone(),
            });
        }
        for role in &removed {
            let busy = self
                .tasks
                .values()
                .any(|t| &t.framework_id == id && &t.role == role && !t.released);
            if busy {
                return Err(SubscribeError::InvalidRoles(RolesError::RemovedWithTasks(
                    role.clone(),
                )));
            }
        }
        Ok((added, removed))
    }

    /// Registers a framework with the allocator once per role, each in its own slot; on
    /// failure every slot taken here is given back.
    fn take_role_slots(
        &mut self,
        now: Instant,
        id: &FrameworkId,
        roles: &[Role],
    ) -> Result<Vec<RoleSlot>, SubscribeError> {
        let mut taken: Vec<RoleSlot> = Vec::new();
        for role in roles {
            let slot = self.framework_slots.take(id.clone()).map(FrameworkSlot);
            let added = slot.filter(|s| self.allocator.add_framework(now, *s, role, true).is_ok());
            match added {
                Some(slot) => taken.push(RoleSlot {
                    role: role.clone(),
                    slot,
                    suppressed: false,
                }),
                None => {
                    if let Some(s) = slot {
                        self.framework_slots.give_back(s.0);
                    }
                    for r in taken {
                        self.allocator.remove_framework(r.slot);
                        self.framework_slots.give_back(r.slot.0);
                    }
                    return Err(SubscribeError::TooManyFrameworks);
                }
            }
        }
        Ok(taken)
    }

    /// The allocator slot of `role` for a task recovered from an agent. A framework known only
    /// from agents' re-registrations gets a slot for each role its tasks use (it was MULTI_ROLE),
    /// so their resources go back to that role when they end; `None` when the framework is
    /// unknown or subscribed without `role`, or no slot is left.
    pub(super) fn role_slot_for_recovery(
        &mut self,
        now: Instant,
        id: &FrameworkId,
        role: &Role,
    ) -> Option<FrameworkSlot> {
        let fw = self.frameworks.get(id)?;
        if let Some(slot) = fw.slot_of(role) {
            return Some(slot);
        }
        if !fw.recovered {
            return None;
        }
        let taken = self
            .take_role_slots(now, id, core::slice::from_ref(role))
            .ok()?;
        let fw = self.frameworks.get_mut(id)?;
        if fw.spec.roles.is_empty() {
            fw.spec.roles.push(fw.spec.role.clone());
        }
        fw.spec.roles.push(role.clone());
        fw.spec.capabilities.multi_role = true;
        let slot = taken.first().map(|r| r.slot);
        fw.role_slots.extend(taken);
        // Like the framework's other slots: no offers until its scheduler subscribes.
        if let Some(slot) = slot {
            self.allocator.deactivate_framework(slot);
        }
        slot
    }

    /// A framework's first role and its slot (`Role::default()` and `None` if it is unknown).
    pub(super) fn first_role_slot(&self, id: &FrameworkId) -> (Role, Option<FrameworkSlot>) {
        self.frameworks
            .get(id)
            .map(|f| (f.spec.role.clone(), Some(f.slot)))
            .unwrap_or_default()
    }

    /// Every allocator slot of a framework.
    pub(super) fn slots_of(&self, id: &FrameworkId) -> Vec<FrameworkSlot> {
        self.frameworks
            .get(id)
            .map(|f| f.role_slots.iter().map(|r| r.slot).collect())
            .unwrap_or_default()
    }

    fn new_stream_token(&mut self) -> String {
        let a = self.rng.next_u64();
        let b = self.rng.next_u64();
        // Formatted as a version-4 UUID, as Mesos does.
        alloc::format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            (b >> 48) & 0x3fff | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }

    /// A scheduler stream ended (the connection closed). Offers are rescinded at once; with a
    /// zero failover timeout the framework is torn down, otherwise its tasks keep running
    /// until the timeout expires.
    pub fn handle_stream_closed(&mut self, now: Instant, wall: WallTime, stream: StreamId) {
        let Some(id) = self.streams.remove(&stream) else {
            return;
        };
        let Some(fw) = self.frameworks.get_mut(&id) else {
            return;
        };
        if fw.stream != Some(stream) {
            return;
        }
        fw.stream = None;
        let timeout = fw.spec.failover_timeout;
        self.rescind_offers_of(&id);
        for slot in self.slots_of(&id) {
            self.allocator.deactivate_framework(slot);
        }
        self.operator_event(super::OperatorEvent::FrameworkUpdated(id.clone()));
        if timeout == Duration::ZERO {
            self.log(alloc::format!(
                "framework {id} disconnected with failover_timeout 0; tearing it down"
            ));
            self.teardown(wall, &id);
        } else {
            if let Some(fw) = self.frameworks.get_mut(&id) {
                fw.failover_deadline = Some(now + timeout);
            }
            self.log(alloc::format!(
                "framework {id} disconnected; its tasks keep running for up to {} s",
                timeout.as_secs()
            ));
        }
    }

    /// A scheduler call other than SUBSCRIBE. `stream_token` is the request's `Mesos-Stream-Id`.
    pub fn handle_scheduler_call(
        &mut self,
        now: Instant,
        wall: WallTime,
        framework_id: &FrameworkId,
        stream_token: Option<&str>,
        call: SchedulerCall,
    ) -> Result<(), CallError> {
        self.require_leading()?;
        let fw = self
            .frameworks
            .get(framework_id)
            .ok_or(CallError::UnknownFramework)?;
        if fw.stream.is_none() {
            return Err(CallError::NotSubscribed);
        }
        if stream_token != Some(fw.stream_token.as_str()) {
            return Err(CallError::WrongStreamId);
        }
        match call {
            SchedulerCall::Teardown => {
                self.log(alloc::format!(
                    "framework {framework_id} asked to be torn down"
                ));
                self.teardown(wall, framework_id);
            }
            SchedulerCall::Decline { offer_ids, refuse } => {
                for id in offer_ids {
                    self.return_offer(now, framework_id, &id, refuse);
                }
            }
            SchedulerCall::Accept {
                offer_ids,
                operations,
                refuse,
            } => self.accept(now, wall, framework_id, offer_ids, operations, refuse)?,
            SchedulerCall::Revive { roles } => {
                for slot in self.set_suppressed(framework_id, &roles, false) {
                    self.allocator.revive(now, slot);
                }
            }
            SchedulerCall::Suppress { roles } => {
                for slot in self.set_suppressed(framework_id, &roles, true) {
                    self.allocator.suppress(slot);
                }
            }
            SchedulerCall::Shutdown {
                executor_id,
                agent_id,
            } => {
                // As in Mesos, an unknown or disconnected agent makes this a no-op.
                if let Some(conn) = self.agent_conn(&agent_id) {
                    self.outputs.push_back(MasterOutput::ToAgent {
                        conn,
                        msg: MasterToAgent::ShutdownExecutor {
                            framework_id: framework_id.clone(),
                            executor_id,
                        },
                    });
                }
            }
            SchedulerCall::Message {
                agent_id,
                executor_id,
                data,
            } => {
                if data.len() > MAX_MESSAGE_DATA {
                    return Err(CallError::Invalid(alloc::format!(
                        "message.data is {} bytes; at most {MAX_MESSAGE_DATA} are accepted",
                        data.len()
                    )));
                }
                match self.agent_conn(&agent_id) {
                    Some(conn) => self.outputs.push_back(MasterOutput::ToAgent {
                        conn,
                        msg: MasterToAgent::FrameworkMessage {
                            framework_id: framework_id.clone(),
                            executor_id,
                            data,
                        },
                    }),
                    // Messages are unreliable: one for an agent that is not connected is dropped.
                    None => self.log(alloc::format!(
                        "dropping a message of framework {framework_id} for executor {executor_id} on agent {agent_id}: the agent is not connected"
                    )),
                }
            }
            SchedulerCall::Kill { task_id, agent_id } => {
                self.kill_task(wall, framework_id, task_id, agent_id)
            }
            SchedulerCall::Acknowledge {
                agent_id,
                task_id,
                uuid,
            } => self.acknowledge(framework_id, agent_id, task_id, uuid)?,
            SchedulerCall::Reconcile { tasks } => self.reconcile(wall, framework_id, tasks),
            SchedulerCall::AcceptInverseOffers {
                inverse_offer_ids, ..
            } => self.answer_inverse_offers(
                wall,
                framework_id,
                &inverse_offer_ids,
                super::InverseOfferAnswer::Accept,
            ),
            SchedulerCall::DeclineInverseOffers {
                inverse_offer_ids, ..
            } => self.answer_inverse_offers(
                wall,
                framework_id,
                &inverse_offer_ids,
                super::InverseOfferAnswer::Decline,
            ),
        }
        Ok(())
    }

    /// Marks the framework's slots for `roles` suppressed or not and returns them: an empty
    /// list means all its roles; roles it does not subscribe to are ignored (as in Mesos).
    fn set_suppressed(
        &mut self,
        framework_id: &FrameworkId,
        roles: &[Role],
        suppressed: bool,
    ) -> Vec<FrameworkSlot> {
        let Some(fw) = self.frameworks.get_mut(framework_id) else {
            return Vec::new();
        };
        let mut slots = Vec::new();
        for r in &mut fw.role_slots {
            if roles.is_empty() || roles.contains(&r.role) {
                r.suppressed = suppressed;
                slots.push(r.slot);
            }
        }
        fw.suppressed = fw.role_slots.iter().all(|r| r.suppressed);
        slots
    }

    /// Removes a framework: its offers are rescinded, its tasks killed, its agents told to shut it down.
    pub(super) fn teardown(&mut self, wall: WallTime, framework_id: &FrameworkId) {
        self.rescind_offers_of(framework_id);
        for agent_id in self.agents_running(framework_id) {
            if let Some(conn) = self.agent_conn(&agent_id) {
                self.outputs.push_back(MasterOutput::ToAgent {
                    conn,
                    msg: MasterToAgent::ShutdownFramework {
                        framework_id: framework_id.clone(),
                    },
                });
            }
        }
        self.remove_framework_tasks(wall, framework_id);
        if self.removed_frameworks.len() >= super::MAX_REMOVED_FRAMEWORKS {
            self.removed_frameworks.pop_front();
        }
        self.removed_frameworks.push_back(framework_id.clone());
        if let Some(fw) = self.frameworks.remove(framework_id) {
            self.operator_event(super::OperatorEvent::FrameworkRemoved(fw.spec.clone()));
            for r in &fw.role_slots {
                self.allocator.remove_framework(r.slot);
                self.framework_slots.give_back(r.slot.0);
            }
            if let Some(stream) = fw.stream {
                self.streams.remove(&stream);
                self.outputs.push_back(MasterOutput::CloseStream { stream });
            }
            self.remember_completed_framework(CompletedFramework {
                id: fw.id,
                spec: fw.spec,
                registered_time: fw.registered_time,
                reregistered_time: fw.reregistered_time,
                unregistered_time: wall,
            });
        }
        self.log(alloc::format!("framework {framework_id} removed"));
    }

    /// Keeps a torn-down framework for the APIs; the oldest beyond the bound is forgotten with
    /// its completed tasks.
    fn remember_completed_framework(&mut self, done: CompletedFramework) {
        self.completed_frameworks.push_back(done);
        while self.completed_frameworks.len() > self.cfg.max_completed_frameworks {
            if let Some(old) = self.completed_frameworks.pop_front() {
                self.forget_completed_tasks_of(&old.id);
            }
        }
    }

    /// Torn-down frameworks, oldest first (at most `max_completed_frameworks`).
    pub fn completed_frameworks(&self) -> impl Iterator<Item = &CompletedFramework> {
        self.completed_frameworks.iter()
    }

    pub(super) fn is_removed_framework(&self, id: &FrameworkId) -> bool {
        self.removed_frameworks.contains(id)
    }

    /// A framework learned from a re-registering agent: known, but waiting for its scheduler.
    pub(super) fn recover_framework(&mut self, now: Instant, record: &FrameworkRecord) {
        if self.frameworks.contains_key(&record.id) {
            return;
        }
        let Some(slot) = self.framework_slots.take(record.id.clone()) else {
            return;
        };
        let slot = FrameworkSlot(slot);
        let role = record.role.clone();
        if self
            .allocator
            .add_framework(now, slot, &role, false)
            .is_err()
        {
            self.framework_slots.give_back(slot.0);
            return;
        }
        self.frameworks.insert(
            record.id.clone(),
            FrameworkEntry {
                spec: FrameworkSpec {
                    id: Some(record.id.clone()),
                    name: record.name.clone(),
                    user: record.user.clone(),
                    role: role.clone(),
                    failover_timeout: Duration::ZERO,
                    checkpoint: record.checkpoint,
                    hostname: None,
                    principal: None,
                    capabilities: FrameworkCapabilities::default(),
                    roles: Vec::new(),
                },
                id: record.id.clone(),
                slot,
                role_slots: alloc::vec![RoleSlot {
                    role: role.clone(),
                    slot,
                    suppressed: false,
                }],
                stream: None,
                stream_token: String::new(),
                offers: Vec::new(),
                registered_time: None,
                reregistered_time: None,
                failover_deadline: None,
                next_heartbeat: now,
                suppressed: false,
                recovered: true,
            },
        );
        self.operator_event(super::OperatorEvent::FrameworkAdded(record.id.clone()));
    }

    /// Heartbeats and failover deadlines.
    pub(super) fn tick_frameworks(&mut self, now: Instant, wall: WallTime) {
        let mut expired = Vec::new();
        for fw in self.frameworks.values_mut() {
            if let Some(stream) = fw.stream {
                if now >= fw.next_heartbeat {
                    fw.next_heartbeat = now + self.cfg.heartbeat_interval;
                    self.outputs.push_back(MasterOutput::ToFramework {
                        stream,
                        event: SchedulerEvent::Heartbeat,
                    });
                }
            } else if fw.failover_deadline.is_some_and(|d| now >= d) {
                expired.push(fw.id.clone());
            }
        }
        for id in expired {
            self.log(alloc::format!(
                "framework {id} did not come back within its failover timeout"
            ));
            self.teardown(wall, &id);
        }
    }
}
