//! Unit tests of the master state machine: one `check`-style fixture drives it with an in-memory
//! registry disk and asserts on its outputs.

use super::*;
use crate::registry::Registry;
use crate::wire::{AgentToMaster, StatusSource, StatusUpdate, TaskStatus};
use alloc::string::ToString;
use alloc::vec;

const T0: Instant = Instant::from_millis(0);

fn wall() -> WallTime {
    WallTime {
        unix_nanos: 1_700_000_000_000_000_000,
    }
}

struct Fixture {
    m: Master,
    now: Instant,
    /// Entries written to the simulated disk, in order.
    disk: Vec<Entry>,
    /// When false, writes stay pending until `persist` is called.
    auto_persist: bool,
    pending: Option<Entry>,
}

impl Fixture {
    fn new() -> Self {
        let mut cfg = MasterConfig::new("m".to_string(), "10.0.0.1".to_string(), 5050, 7);
        cfg.max_agents = 16;
        cfg.max_frameworks = 8;
        let mut f = Fixture {
            m: Master::new(cfg, Registry::new_cluster("c"), T0, wall()),
            now: T0,
            disk: Vec::new(),
            auto_persist: true,
            pending: None,
        };
        f.m.handle_leadership(T0, wall(), Leadership::BecameLeader);
        f.pump();
        assert_eq!(f.m.phase(), Phase::Leading);
        f
    }

    /// Runs the registry write loop; returns the outputs produced.
    fn pump(&mut self) -> Vec<MasterOutput> {
        loop {
            if self.pending.is_none() {
                self.pending = self.m.poll_registry_write(self.now, wall());
            }
            match self.pending.take() {
                Some(e) if self.auto_persist => {
                    let index = e.index;
                    self.disk.push(e);
                    self.m
                        .handle_registry_written(self.now, wall(), index, WriteResult::Durable);
                }
                other => {
                    self.pending = other;
                    break;
                }
            }
        }
        let mut out = Vec::new();
        while let Some(o) = self.m.poll_output() {
            out.push(o);
        }
        out
    }

    fn persist(&mut self) -> Vec<MasterOutput> {
        let e = self.pending.take().expect("a write is pending");
        let index = e.index;
        self.disk.push(e);
        self.m
            .handle_registry_written(self.now, wall(), index, WriteResult::Durable);
        self.auto_persist = true;
        self.pump()
    }

    fn agent_info(&self, port: u16) -> AgentInfo {
        AgentInfo {
            hostname: "a".to_string(),
            ip: "10.0.0.2".to_string(),
            port,
            resources: Resources::parse("cpus:2;mem:1024").unwrap(),
            attributes: Vec::new(),
            domain: None,
            version: "1.5.0".to_string(),
        }
    }

    fn register(&mut self, conn: u64, port: u16) -> AgentId {
        let info = self.agent_info(port);
        self.m.handle_agent_message(
            self.now,
            wall(),
            ConnId(conn),
            AgentToMaster::Register {
                info,
                checkpointed: crate::resources::Resources::new(),
            },
        );
        let out = self.pump();
        out.into_iter()
            .find_map(|o| match o {
                MasterOutput::ToAgent {
                    msg: MasterToAgent::Registered { id },
                    ..
                } => Some(id),
                _ => None,
            })
            .expect("registered")
    }

    fn subscribe(&mut self, stream: u64, failover: Duration) -> (FrameworkId, String) {
        let spec = FrameworkSpec {
            id: None,
            name: "fw".to_string(),
            user: "u".to_string(),
            role: Role::from("*"),
            failover_timeout: failover,
            checkpoint: true,
            hostname: None,
            principal: None,
            capabilities: FrameworkCapabilities::default(),
            roles: Vec::new(),
        };
        let s = self
            .m
            .handle_subscribe(self.now, wall(), StreamId(stream), spec)
            .unwrap();
        self.pump();
        (s.framework_id, s.stream_token)
    }

    /// Advances time and runs timers; returns the offers delivered.
    fn allocate(&mut self) -> Vec<OfferRecord> {
        self.now = self.now + Duration::from_secs(2);
        self.m.handle_timeout(self.now, wall());
        self.pump()
            .into_iter()
            .flat_map(|o| match o {
                MasterOutput::ToFramework {
                    event: SchedulerEvent::Offers(offers),
                    ..
                } => offers,
                _ => Vec::new(),
            })
            .collect()
    }

    fn call(
        &mut self,
        fid: &FrameworkId,
        token: &str,
        call: SchedulerCall,
    ) -> Result<Vec<MasterOutput>, CallError> {
        self.m
            .handle_scheduler_call(self.now, wall(), fid, Some(token), call)?;
        Ok(self.pump())
    }
}

fn launch(task: &str, agent: &AgentId, resources: &str) -> Operation {
    Operation::Launch(vec![TaskLaunch {
        task_id: TaskId::from(task),
        name: task.to_string(),
        agent_id: agent.clone(),
        resources: Resources::parse(resources).unwrap(),
        command: Some(crate::wire::CommandSpec {
            shell: true,
            value: "true".to_string(),
            ..Default::default()
        }),
        executor: None,
        kill_grace: None,
        data: Vec::new(),
        invalid: None,
    }])
}

fn status(task: &str, state: TaskState, uuid: u8) -> StatusUpdate {
    StatusUpdate {
        framework_id: FrameworkId::from("ignored"),
        status: TaskStatus {
            task_id: TaskId::from(task),
            state,
            message: None,
            source: StatusSource::Executor,
            reason: None,
            agent_id: None,
            executor_id: None,
            timestamp: wall(),
            uuid: Some([uuid; 16]),
            data: Vec::new(),
            unreachable_time: None,
        },
        latest_state: state,
    }
}

#[test]
fn registration_is_answered_only_after_the_admission_is_durable() {
    let mut f = Fixture::new();
    f.auto_persist = false;
    let info = f.agent_info(5051);
    f.m.handle_agent_message(
        f.now,
        wall(),
        ConnId(1),
        AgentToMaster::Register {
            info,
            checkpointed: crate::resources::Resources::new(),
        },
    );
    let before = f.pump();
    assert!(
        !before.iter().any(|o| matches!(
            o,
            MasterOutput::ToAgent {
                msg: MasterToAgent::Registered { .. },
                ..
            }
        )),
        "Registered must wait for the write: {before:?}"
    );
    assert!(f.m.registry().admitted.is_empty());
    let after = f.persist();
    assert!(after.iter().any(|o| matches!(o, MasterOutput::ToAgent { msg: MasterToAgent::Registered { id }, .. } if id.as_str() == "c-S0")));
    assert_eq!(f.m.registry().admitted.len(), 1);
}

#[test]
fn an_unchanged_agent_reregisters_without_a_registry_write() {
    let mut f = Fixture::new();
    let id = f.register(1, 5051);
    let writes = f.disk.len();
    f.m.handle_agent_disconnected(f.now, ConnId(1));
    let info = f.agent_info(5051);
    f.m.handle_agent_message(
        f.now,
        wall(),
        ConnId(2),
        AgentToMaster::Reregister {
            id: id.clone(),
            info,
            checkpointed: crate::resources::Resources::new(),
            frameworks: Vec::new(),
            tasks: Vec::new(),
        },
    );
    let out = f.pump();
    assert!(out.iter().any(|o| matches!(
        o,
        MasterOutput::ToAgent {
            conn: ConnId(2),
            msg: MasterToAgent::Reregistered { .. }
        }
    )));
    assert_eq!(f.disk.len(), writes, "no write for an unchanged agent");
    // A changed agent costs one write.
    f.m.handle_agent_disconnected(f.now, ConnId(2));
    let mut info = f.agent_info(5051);
    info.resources = Resources::parse("cpus:4;mem:1024").unwrap();
    f.m.handle_agent_message(
        f.now,
        wall(),
        ConnId(3),
        AgentToMaster::Reregister {
            id,
            info,
            checkpointed: crate::resources::Resources::new(),
            frameworks: Vec::new(),
            tasks: Vec::new(),
        },
    );
    f.pump();
    assert_eq!(f.disk.len(), writes + 1);
}

#[test]
fn unknown_agent_ids_are_told_to_register_afresh() {
    let mut f = Fixture::new();
    let info = f.agent_info(5051);
    f.m.handle_agent_message(
        f.now,
        wall(),
        ConnId(1),
        AgentToMaster::Reregister {
            id: AgentId::from("other-S9"),
            info,
            checkpointed: crate::resources::Resources::new(),
            frameworks: Vec::new(),
            tasks: Vec::new(),
        },
    );
    let out = f.pump();
    assert!(out.iter().any(|o| matches!(
        o,
        MasterOutput::ToAgent {
            msg: MasterToAgent::Refused {
                forget_id: true,
                ..
            },
            ..
        }
    )));
}

#[test]
fn a_task_runs_end_to_end_and_is_removed_after_its_terminal_ack() {
    let mut f = Fixture::new();
    let agent = f.register(1, 5051);
    let (fid, token) = f.subscribe(10, Duration::ZERO);
    let offers = f.allocate();
    assert_eq!(offers.len(), 1);
    assert_eq!(
        offers[0].resources,
        Resources::parse("cpus:2;mem:1024").unwrap()
    );
    let out = f
        .call(
            &fid,
            &token,
            SchedulerCall::Accept {
                offer_ids: vec![offers[0].id.clone()],
                operations: vec![launch("t1", &agent, "cpus:1;mem:128")],
                refuse: None,
            },
        )
        .unwrap();
    assert!(out.iter().any(|o| matches!(
        o,
        MasterOutput::ToAgent {
            conn: ConnId(1),
            msg: MasterToAgent::RunTask { .. }
        }
    )));
    assert_eq!(f.m.tasks().next().unwrap().state, TaskState::Staging);
    let mut u = status("t1", TaskState::Finished, 3);
    u.framework_id = fid.clone();
    f.m.handle_agent_message(f.now, wall(), ConnId(1), AgentToMaster::StatusUpdate(u));
    let out = f.pump();
    let update = out.iter().find_map(|o| match o {
        MasterOutput::ToFramework {
            event: SchedulerEvent::Update(s),
            ..
        } => Some(s.clone()),
        _ => None,
    });
    let update = update.expect("the update reaches the framework");
    assert_eq!(update.agent_id.as_ref(), Some(&agent));
    assert_eq!(update.uuid, Some([3; 16]));
    // Terminal: the resources are offered again even before the acknowledgement.
    let offers = f.allocate();
    assert_eq!(
        offers
            .iter()
            .map(|o| o.resources.scalar("cpus").milli())
            .sum::<i64>(),
        2000
    );
    assert_eq!(f.m.tasks().count(), 1);
    let out = f
        .call(
            &fid,
            &token,
            SchedulerCall::Acknowledge {
                agent_id: agent.clone(),
                task_id: TaskId::from("t1"),
                uuid: [3; 16],
            },
        )
        .unwrap();
    assert!(out.iter().any(|o| matches!(
        o,
        MasterOutput::ToAgent {
            msg: MasterToAgent::Acknowledge { .. },
            ..
        }
    )));
    assert_eq!(f.m.tasks().count(), 0);
    assert_eq!(f.m.completed_tasks().count(), 1);
}

#[test]
fn launching_more_than_the_offer_holds_is_a_task_error() {
    let mut f = Fixture::new();
    let agent = f.register(1, 5051);
    let (fid, token) = f.subscribe(10, Duration::ZERO);
    let offers = f.allocate();
    let out = f
        .call(
            &fid,
            &token,
            SchedulerCall::Accept {
                offer_ids: vec![offers[0].id.clone()],
                operations: vec![launch("big", &agent, "cpus:3")],
                refuse: Some(Duration::ZERO),
            },
        )
        .unwrap();
    assert!(out.iter().any(|o| matches!(o, MasterOutput::ToFramework { event: SchedulerEvent::Update(s), .. } if s.state == TaskState::Error)));
    assert_eq!(f.m.tasks().count(), 0);
    // Everything went back: the next cycle offers the whole agent again.
    let offers = f.allocate();
    assert_eq!(
        offers[0].resources,
        Resources::parse("cpus:2;mem:1024").unwrap()
    );
}

#[test]
fn stale_offers_make_launches_lost_and_unsupported_operations_are_refused() {
    let mut f = Fixture::new();
    let agent = f.register(1, 5051);
    let (fid, token) = f.subscribe(10, Duration::ZERO);
    let offers = f.allocate();
    let out = f
        .call(
            &fid,
            &token,
            SchedulerCall::Accept {
                offer_ids: vec![OfferId::from("nope")],
                operations: vec![launch("t", &agent, "cpus:1")],
                refuse: None,
            },
        )
        .unwrap();
    assert!(out.iter().any(|o| matches!(o, MasterOutput::ToFramework { event: SchedulerEvent::Update(s), .. } if s.state == TaskState::Lost && s.uuid.is_none())));
    let err = f
        .call(
            &fid,
            &token,
            SchedulerCall::Accept {
                offer_ids: vec![offers[0].id.clone()],
                operations: vec![Operation::Unsupported("CREATE_VOLUME")],
                refuse: None,
            },
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "operation CREATE_VOLUME is not supported by mesolite yet"
    );
    assert_eq!(f.m.offers().count(), 0, "the offer was returned");
}

#[test]
fn calls_need_the_right_stream_and_a_subscribed_framework() {
    let mut f = Fixture::new();
    let (fid, token) = f.subscribe(10, Duration::from_secs(60));
    assert_eq!(
        f.call(&fid, "wrong", SchedulerCall::Revive { roles: vec![] })
            .unwrap_err(),
        CallError::WrongStreamId
    );
    assert_eq!(
        f.call(
            &FrameworkId::from("x"),
            &token,
            SchedulerCall::Revive { roles: vec![] }
        )
        .unwrap_err(),
        CallError::UnknownFramework
    );
    f.m.handle_stream_closed(f.now, wall(), StreamId(10));
    f.pump();
    assert_eq!(
        f.call(&fid, &token, SchedulerCall::Revive { roles: vec![] })
            .unwrap_err(),
        CallError::NotSubscribed
    );
}

#[test]
fn a_disconnected_framework_is_torn_down_after_its_failover_timeout() {
    let mut f = Fixture::new();
    let agent = f.register(1, 5051);
    let (fid, token) = f.subscribe(10, Duration::from_secs(30));
    let offers = f.allocate();
    f.call(
        &fid,
        &token,
        SchedulerCall::Accept {
            offer_ids: vec![offers[0].id.clone()],
            operations: vec![launch("t1", &agent, "cpus:1")],
            refuse: None,
        },
    )
    .unwrap();
    f.m.handle_stream_closed(f.now, wall(), StreamId(10));
    f.pump();
    assert_eq!(
        f.m.tasks().count(),
        1,
        "tasks keep running within the failover timeout"
    );
    for _ in 0..10 {
        f.allocate();
    }
    assert_eq!(f.m.tasks().count(), 1);
    let mut shutdown = false;
    for _ in 0..10 {
        f.now = f.now + Duration::from_secs(2);
        f.m.handle_timeout(f.now, wall());
        shutdown |= f.pump().iter().any(|o| {
            matches!(
                o,
                MasterOutput::ToAgent {
                    msg: MasterToAgent::ShutdownFramework { .. },
                    ..
                }
            )
        });
    }
    assert!(shutdown, "the agent is told to shut the framework down");
    assert_eq!(f.m.tasks().count(), 0);
    assert_eq!(f.m.frameworks().count(), 0);
}

#[test]
fn a_framework_resubscribing_within_its_timeout_keeps_its_tasks() {
    let mut f = Fixture::new();
    let agent = f.register(1, 5051);
    let (fid, token) = f.subscribe(10, Duration::from_secs(30));
    let offers = f.allocate();
    f.call(
        &fid,
        &token,
        SchedulerCall::Accept {
            offer_ids: vec![offers[0].id.clone()],
            operations: vec![launch("t1", &agent, "cpus:1")],
            refuse: None,
        },
    )
    .unwrap();
    f.m.handle_stream_closed(f.now, wall(), StreamId(10));
    let spec = FrameworkSpec {
        id: Some(fid.clone()),
        name: "fw".to_string(),
        user: "u".to_string(),
        role: Role::from("*"),
        failover_timeout: Duration::from_secs(30),
        checkpoint: true,
        hostname: None,
        principal: None,
        capabilities: FrameworkCapabilities::default(),
        roles: Vec::new(),
    };
    let s =
        f.m.handle_subscribe(f.now, wall(), StreamId(11), spec)
            .unwrap();
    assert_eq!(s.framework_id, fid);
    for _ in 0..30 {
        f.allocate();
    }
    assert_eq!(f.m.tasks().count(), 1);
}

#[test]
fn agents_that_stop_answering_pings_lose_their_offers_and_are_closed() {
    let mut f = Fixture::new();
    f.register(1, 5051);
    let (_fid, _token) = f.subscribe(10, Duration::ZERO);
    assert_eq!(f.allocate().len(), 1);
    let mut rescinded = false;
    let mut closed = false;
    for _ in 0..60 {
        f.now = f.now + Duration::from_secs(2);
        f.m.handle_timeout(f.now, wall());
        for o in f.pump() {
            rescinded |= matches!(
                o,
                MasterOutput::ToFramework {
                    event: SchedulerEvent::Rescind(_),
                    ..
                }
            );
            closed |= matches!(o, MasterOutput::CloseAgent { conn: ConnId(1) });
        }
    }
    assert!(rescinded && closed);
    assert!(f.m.agents().all(|a| !a.active));
    assert_eq!(f.m.offers().count(), 0);
}

#[test]
fn a_failed_registry_write_is_fatal() {
    let mut f = Fixture::new();
    f.auto_persist = false;
    let info = f.agent_info(5051);
    f.m.handle_agent_message(
        f.now,
        wall(),
        ConnId(1),
        AgentToMaster::Register {
            info,
            checkpointed: crate::resources::Resources::new(),
        },
    );
    f.pump();
    let e = f.pending.take().unwrap();
    f.m.handle_registry_written(f.now, wall(), e.index, WriteResult::Failed);
    let out = f.pump();
    assert!(out.iter().any(|o| matches!(o, MasterOutput::Fatal(_))));
    assert!(!out.iter().any(|o| matches!(
        o,
        MasterOutput::ToAgent {
            msg: MasterToAgent::Registered { .. },
            ..
        }
    )));
}

#[test]
fn a_new_agent_at_the_address_of_a_disconnected_one_replaces_it() {
    let mut f = Fixture::new();
    let old = f.register(1, 5051);
    let (fid, token) = f.subscribe(10, Duration::ZERO);
    let offers = f.allocate();
    f.call(
        &fid,
        &token,
        SchedulerCall::Accept {
            offer_ids: vec![offers[0].id.clone()],
            operations: vec![launch("t1", &old, "cpus:1")],
            refuse: None,
        },
    )
    .unwrap();
    f.m.handle_agent_disconnected(f.now, ConnId(1));
    let mut info = f.agent_info(5051);
    info.resources = Resources::parse("cpus:8;mem:1024").unwrap();
    f.m.handle_agent_message(
        f.now,
        wall(),
        ConnId(2),
        AgentToMaster::Register {
            info,
            checkpointed: crate::resources::Resources::new(),
        },
    );
    let out = f.pump();
    assert!(out.iter().any(|o| matches!(o, MasterOutput::ToFramework { event: SchedulerEvent::Update(s), .. } if s.state == TaskState::Lost && s.task_id.as_str() == "t1")));
    assert!(out.iter().any(|o| matches!(o, MasterOutput::ToFramework { event: SchedulerEvent::Failure { agent_id, executor_id: None, .. }, .. } if *agent_id == old)));
    let ids: Vec<&AgentId> = f.m.agents().map(|a| a.id).collect();
    assert_eq!(ids.len(), 1);
    assert_ne!(ids[0], &old);
    assert!(
        f.m.registry().admitted.iter().all(|a| a.id != old),
        "the registry forgets the old agent"
    );
    assert_eq!(f.m.tasks().count(), 0);
}

#[test]
fn a_registration_retried_from_the_same_agent_keeps_its_id_and_loses_unsent_tasks() {
    let mut f = Fixture::new();
    let id = f.register(1, 5051);
    let (fid, token) = f.subscribe(10, Duration::ZERO);
    let offers = f.allocate();
    f.call(
        &fid,
        &token,
        SchedulerCall::Accept {
            offer_ids: vec![offers[0].id.clone()],
            operations: vec![launch("t1", &id, "cpus:1")],
            refuse: None,
        },
    )
    .unwrap();
    // The agent never heard `Registered` (so it never ran t1) and registers again, still connected.
    let info = f.agent_info(5051);
    f.m.handle_agent_message(
        f.now,
        wall(),
        ConnId(2),
        AgentToMaster::Register {
            info,
            checkpointed: crate::resources::Resources::new(),
        },
    );
    let out = f.pump();
    assert!(out.iter().any(|o| matches!(o, MasterOutput::ToAgent { conn: ConnId(2), msg: MasterToAgent::Registered { id: again } } if *again == id)));
    assert!(out
        .iter()
        .any(|o| matches!(o, MasterOutput::CloseAgent { conn: ConnId(1) })));
    assert!(out.iter().any(|o| matches!(o, MasterOutput::ToFramework { event: SchedulerEvent::Update(s), .. } if s.state == TaskState::Lost)));
    assert_eq!(f.m.agents().count(), 1);
    assert_eq!(f.m.tasks().count(), 0);
    // Its resources are whole again.
    let offers = f.allocate();
    assert_eq!(
        offers[0].resources,
        Resources::parse("cpus:2;mem:1024").unwrap()
    );
}

mod maintenance;
mod partition;
mod quota;
mod roles;
mod scheduler_api;
mod task_group;
