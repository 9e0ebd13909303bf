//! Unit tests of MULTI_ROLE frameworks (one allocator slot per role), UPDATE_WEIGHTS and
//! MARK_AGENT_GONE, and the roles of tasks recovered after a master restart.

use super::*;
use crate::ids::ExecutorId;
use crate::registry::OpError;
use crate::wire::{FrameworkRecord, StatusReason, TaskReport};

fn roles(names: &[&str]) -> Vec<Role> {
    names.iter().map(|r| Role::from(*r)).collect()
}

fn multi_role_spec(id: Option<FrameworkId>, names: &[&str]) -> FrameworkSpec {
    FrameworkSpec {
        id,
        name: "fw".to_string(),
        user: "u".to_string(),
        role: Role::from("*"),
        failover_timeout: Duration::from_secs(60),
        checkpoint: true,
        hostname: None,
        principal: None,
        capabilities: FrameworkCapabilities {
            multi_role: true,
            ..FrameworkCapabilities::default()
        },
        roles: roles(names),
    }
}

fn subscribe_roles(f: &mut Fixture, stream: u64, names: &[&str]) -> (FrameworkId, String) {
    let s =
        f.m.handle_subscribe(
            f.now,
            wall(),
            StreamId(stream),
            multi_role_spec(None, names),
        )
        .unwrap();
    f.pump();
    (s.framework_id, s.stream_token)
}

fn slot(f: &Fixture, fid: &FrameworkId, role: &str) -> Option<FrameworkSlot> {
    f.m.frameworks[fid].slot_of(&Role::from(role))
}

fn offer_roles(offers: &[OfferRecord]) -> Vec<&str> {
    let mut r: Vec<&str> = offers.iter().map(|o| o.role.as_str()).collect();
    r.sort();
    r
}

fn update(f: &mut Fixture, conn: u64, fid: &FrameworkId, task: &str, state: TaskState) {
    let mut u = status(task, state, 1);
    u.framework_id = fid.clone();
    f.m.handle_agent_message(f.now, wall(), ConnId(conn), AgentToMaster::StatusUpdate(u));
    f.pump();
}

fn updates(out: &[MasterOutput]) -> Vec<TaskStatus> {
    out.iter()
        .filter_map(|o| match o {
            MasterOutput::ToFramework {
                event: SchedulerEvent::Update(s),
                ..
            } => Some(s.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_multi_role_framework_gets_offers_in_each_of_its_roles() {
    let mut f = Fixture::new();
    f.register(1, 5051);
    f.register(2, 5052);
    let (fid, _) = subscribe_roles(&mut f, 10, &["a", "b"]);
    let (sa, sb) = (slot(&f, &fid, "a").unwrap(), slot(&f, &fid, "b").unwrap());
    assert_ne!(sa, sb, "one allocator slot per role");
    let offers = f.allocate();
    // Two agents, two roles of equal share: DRF gives each role one agent.
    assert_eq!(offer_roles(&offers), ["a", "b"]);
    assert!(offers.iter().all(|o| o.framework_id == fid));
    let view = f.m.framework(&fid).unwrap();
    assert_eq!(view.spec.subscribed_roles(), roles(&["a", "b"]).as_slice());
    assert_eq!(view.spec.role.as_str(), "a");
}

#[test]
fn declines_filter_only_their_role_and_suppress_revive_act_on_the_named_roles() {
    let mut f = Fixture::new();
    f.register(1, 5051);
    let (fid, token) = subscribe_roles(&mut f, 10, &["a", "b"]);
    let first = f.allocate();
    assert_eq!(first.len(), 1, "one agent: one offer");
    let role = first[0].role.clone();
    let other = if role.as_str() == "a" { "b" } else { "a" };
    // Declining with a long filter filters only the slot of the offer's role.
    f.call(
        &fid,
        &token,
        SchedulerCall::Decline {
            offer_ids: vec![first[0].id.clone()],
            refuse: Some(Duration::from_secs(1000)),
        },
    )
    .unwrap();
    assert_eq!(
        f.m.allocator
            .filter_count(slot(&f, &fid, role.as_str()).unwrap()),
        1
    );
    assert_eq!(
        f.m.allocator.filter_count(slot(&f, &fid, other).unwrap()),
        0
    );
    let second = f.allocate();
    assert_eq!(offer_roles(&second), [other]);
    // SUPPRESS of the other role, then decline it: nothing is offered (one filtered, one suppressed).
    f.call(
        &fid,
        &token,
        SchedulerCall::Suppress {
            roles: roles(&[other]),
        },
    )
    .unwrap();
    assert!(f.m.allocator.is_suppressed(slot(&f, &fid, other).unwrap()));
    assert!(!f
        .m
        .allocator
        .is_suppressed(slot(&f, &fid, role.as_str()).unwrap()));
    assert!(
        f.m.framework(&fid).unwrap().active,
        "one role still wants offers"
    );
    f.call(
        &fid,
        &token,
        SchedulerCall::Decline {
            offer_ids: vec![second[0].id.clone()],
            refuse: Some(Duration::ZERO),
        },
    )
    .unwrap();
    assert!(f.allocate().is_empty());
    // REVIVE of the first role clears its filter: it is offered again.
    f.call(
        &fid,
        &token,
        SchedulerCall::Revive {
            roles: vec![role.clone()],
        },
    )
    .unwrap();
    assert_eq!(
        f.m.allocator
            .filter_count(slot(&f, &fid, role.as_str()).unwrap()),
        0
    );
    assert_eq!(offer_roles(&f.allocate()), [role.as_str()]);
    // SUPPRESS without roles suppresses every role.
    f.call(&fid, &token, SchedulerCall::Suppress { roles: Vec::new() })
        .unwrap();
    assert!(!f.m.framework(&fid).unwrap().active);
}

#[test]
fn a_task_is_accounted_to_its_offers_role_and_released_there() {
    let mut f = Fixture::new();
    let agent = f.register(1, 5051);
    let (fid, token) = subscribe_roles(&mut f, 10, &["a", "b"]);
    let offer = f.allocate().remove(0);
    let role = offer.role.clone();
    f.call(
        &fid,
        &token,
        SchedulerCall::Accept {
            offer_ids: vec![offer.id.clone()],
            operations: vec![launch("t1", &agent, "cpus:1;mem:128")],
            refuse: Some(Duration::ZERO),
        },
    )
    .unwrap();
    let task_slot = slot(&f, &fid, role.as_str()).unwrap();
    let agent_slot = f.m.agents[&agent].slot;
    let held = f.m.allocator.allocation(task_slot, agent_slot).cloned();
    assert_eq!(held, Some(Resources::parse("cpus:1;mem:128").unwrap()));
    assert_eq!(f.m.tasks[&(fid.clone(), TaskId::from("t1"))].role, role);
    update(&mut f, 1, &fid, "t1", TaskState::Finished);
    assert_eq!(f.m.allocator.allocation(task_slot, agent_slot), None);
    assert_eq!(f.m.allocator.mismatched_recovers(), 0);
}

#[test]
fn resubscription_may_add_roles_but_not_drop_one_with_live_tasks() {
    let mut f = Fixture::new();
    let agent = f.register(1, 5051);
    let (fid, token) = subscribe_roles(&mut f, 10, &["a"]);
    let offer = f.allocate().remove(0);
    f.call(
        &fid,
        &token,
        SchedulerCall::Accept {
            offer_ids: vec![offer.id.clone()],
            operations: vec![launch("t1", &agent, "cpus:1")],
            refuse: None,
        },
    )
    .unwrap();
    update(&mut f, 1, &fid, "t1", TaskState::Running);
    // Adding a role takes one more slot.
    let spec = multi_role_spec(Some(fid.clone()), &["a", "b"]);
    f.m.handle_subscribe(f.now, wall(), StreamId(11), spec)
        .unwrap();
    f.pump();
    assert!(slot(&f, &fid, "b").is_some());
    // Dropping "a" while t1 runs in it is refused, and nothing changes.
    let spec = multi_role_spec(Some(fid.clone()), &["b"]);
    let err = f.m.handle_subscribe(f.now, wall(), StreamId(12), spec);
    assert_eq!(
        err,
        Err(SubscribeError::InvalidRoles(RolesError::RemovedWithTasks(
            Role::from("a")
        )))
    );
    assert!(err.unwrap_err().to_string().contains("role 'a'"));
    assert!(slot(&f, &fid, "a").is_some());
    // Dropping "b" (no tasks) gives its slot back.
    let b = slot(&f, &fid, "b").unwrap();
    let spec = multi_role_spec(Some(fid.clone()), &["a"]);
    f.m.handle_subscribe(f.now, wall(), StreamId(13), spec)
        .unwrap();
    f.pump();
    assert!(slot(&f, &fid, "b").is_none());
    assert_eq!(f.m.framework_slots.owner(b.0), None);
    // Without MULTI_ROLE a role change is refused as before.
    let mut single = multi_role_spec(Some(fid.clone()), &[]);
    single.capabilities.multi_role = false;
    single.role = Role::from("c");
    assert!(matches!(
        f.m.handle_subscribe(f.now, wall(), StreamId(14), single),
        Err(SubscribeError::RoleChanged { .. })
    ));
}

#[test]
fn roles_are_bounded_unique_and_slots_come_back_at_teardown() {
    let mut f = Fixture::new();
    let nine: Vec<String> = (0..9).map(|i| alloc::format!("r{i}")).collect();
    let nine: Vec<&str> = nine.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        f.m.handle_subscribe(f.now, wall(), StreamId(1), multi_role_spec(None, &nine)),
        Err(SubscribeError::InvalidRoles(RolesError::TooMany(9)))
    );
    assert_eq!(
        f.m.handle_subscribe(
            f.now,
            wall(),
            StreamId(1),
            multi_role_spec(None, &["x", "x"])
        ),
        Err(SubscribeError::InvalidRoles(RolesError::Duplicate(
            Role::from("x")
        )))
    );
    // The fixture has 8 framework slots: an 8-role framework takes them all.
    let (fid, token) = subscribe_roles(&mut f, 2, &nine[..8]);
    let spec = multi_role_spec(None, &["y"]);
    assert_eq!(
        f.m.handle_subscribe(f.now, wall(), StreamId(3), spec.clone()),
        Err(SubscribeError::TooManyFrameworks)
    );
    f.call(&fid, &token, SchedulerCall::Teardown).unwrap();
    f.m.handle_subscribe(f.now, wall(), StreamId(4), spec)
        .unwrap();
}

/// Runs an operator call to its answer, writing the registry.
fn operator(f: &mut Fixture, call: OperatorCall) -> Result<(), OperatorError> {
    let ticket = f.m.handle_operator_call(f.now, wall(), call)?;
    f.pump();
    match f.m.poll_operator_completion() {
        Some((t, result)) if t == ticket => result,
        other => panic!("expected the answer to {ticket:?}, got {other:?}"),
    }
}

#[test]
fn update_weights_is_answered_after_durable_applied_and_survives_a_restart() {
    let mut f = Fixture::new();
    f.auto_persist = false;
    let ticket =
        f.m.handle_operator_call(
            f.now,
            wall(),
            OperatorCall::UpdateWeights(vec![(Role::from("prod"), 2500)]),
        )
        .unwrap();
    f.pump();
    assert_eq!(f.m.poll_operator_completion(), None, "not durable yet");
    assert_eq!(f.m.allocator.weight(&Role::from("prod")), 1000);
    f.persist();
    assert_eq!(f.m.poll_operator_completion(), Some((ticket, Ok(()))));
    assert_eq!(f.m.allocator.weight(&Role::from("prod")), 2500);
    assert!((f.m.role_weight(&Role::from("prod")) - 2.5).abs() < 1e-9);
    // A bad weight is refused by the registry and changes nothing.
    assert_eq!(
        operator(
            &mut f,
            OperatorCall::UpdateWeights(vec![(Role::from("prod"), 0)])
        ),
        Err(OperatorError::Refused(OpError::BadWeight))
    );
    assert_eq!(f.m.allocator.weight(&Role::from("prod")), 2500);
    // A master restarted over the same registry reapplies the weight when it recovers.
    let registry = f.m.registry().clone();
    let cfg = f.m.config().clone();
    let mut m = Master::new(cfg, registry, T0, wall());
    assert_eq!(m.allocator.weight(&Role::from("prod")), 1000);
    m.handle_leadership(T0, wall(), Leadership::BecameLeader);
    let entry = m.poll_registry_write(T0, wall()).unwrap();
    m.handle_registry_written(T0, wall(), entry.index, WriteResult::Durable);
    assert_eq!(m.phase(), Phase::Leading);
    assert_eq!(m.allocator.weight(&Role::from("prod")), 2500);
}

#[test]
fn mark_agent_gone_reports_tasks_gone_by_operator_and_refuses_the_agent() {
    let mut f = Fixture::new();
    let agent = f.register(1, 5051);
    let spec = FrameworkSpec {
        capabilities: FrameworkCapabilities {
            partition_aware: true,
            ..FrameworkCapabilities::default()
        },
        roles: Vec::new(),
        role: Role::from("*"),
        ..multi_role_spec(None, &[])
    };
    let s =
        f.m.handle_subscribe(f.now, wall(), StreamId(10), spec)
            .unwrap();
    f.pump();
    let (aware, aware_token) = (s.framework_id, s.stream_token);
    let (plain, plain_token) = f.subscribe(11, Duration::ZERO);
    for (fid, token, task) in [(&aware, &aware_token, "t1"), (&plain, &plain_token, "t2")] {
        let offers = f.allocate();
        let offer = offers.iter().find(|o| &o.framework_id == fid).unwrap();
        f.call(
            fid,
            token,
            SchedulerCall::Accept {
                offer_ids: vec![offer.id.clone()],
                operations: vec![launch(task, &agent, "cpus:0.5")],
                refuse: Some(Duration::ZERO),
            },
        )
        .unwrap();
        update(&mut f, 1, fid, task, TaskState::Running);
    }
    // Unknown agents are refused at once.
    assert_eq!(
        f.m.handle_operator_call(
            f.now,
            wall(),
            OperatorCall::MarkAgentGone(AgentId::from("nope"))
        ),
        Err(OperatorError::UnknownAgent)
    );
    f.auto_persist = false;
    let ticket =
        f.m.handle_operator_call(f.now, wall(), OperatorCall::MarkAgentGone(agent.clone()))
            .unwrap();
    let before = f.pump();
    assert!(
        updates(&before).is_empty(),
        "nothing before durable: {before:?}"
    );
    assert_eq!(f.m.poll_operator_completion(), None);
    let out = f.persist();
    assert_eq!(f.m.poll_operator_completion(), Some((ticket, Ok(()))));
    let ups = updates(&out);
    let t1 = ups.iter().find(|s| s.task_id.as_str() == "t1").unwrap();
    let t2 = ups.iter().find(|s| s.task_id.as_str() == "t2").unwrap();
    assert_eq!(t1.state, TaskState::GoneByOperator);
    assert_eq!(t2.state, TaskState::Lost);
    assert!(ups
        .iter()
        .all(|s| s.reason == Some(StatusReason::AgentRemovedByOperator)));
    assert!(out.iter().any(|o| matches!(
        o,
        MasterOutput::ToAgent {
            conn: ConnId(1),
            msg: MasterToAgent::Refused {
                forget_id: true,
                ..
            }
        }
    )));
    assert!(out
        .iter()
        .any(|o| matches!(o, MasterOutput::CloseAgent { conn: ConnId(1) })));
    assert!(f.m.agent(&agent).is_none());
    assert_eq!(f.m.tasks().count(), 0);
    assert!(f.m.registry().gone.iter().any(|(g, _)| g == &agent));
    let gone_task =
        f.m.completed_tasks()
            .find(|t| t.task_id.as_str() == "t1")
            .unwrap();
    assert_eq!(gone_task.state, TaskState::GoneByOperator);
    // The gone agent coming back is refused and told to forget its id.
    let info = f.agent_info(5051);
    f.m.handle_agent_message(
        f.now,
        wall(),
        ConnId(2),
        AgentToMaster::Reregister {
            id: agent.clone(),
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
            msg: MasterToAgent::Refused { forget_id: true, reason }
        } if reason.contains("marked gone")
    )));
    // Marking it gone again is answered 200 without a change.
    assert_eq!(operator(&mut f, OperatorCall::MarkAgentGone(agent)), Ok(()));
}

#[test]
fn after_a_master_restart_recovered_tasks_count_to_the_role_their_agent_reports() {
    let mut f = Fixture::new();
    // Two agents, so that each role gets one in the first cycle; the one offered to `b` is used.
    let agents = [f.register(1, 5051), f.register(2, 5052)];
    let (fid, token) = subscribe_roles(&mut f, 10, &["a", "b"]);
    let offers = f.allocate();
    let offer = offers.iter().find(|o| o.role.as_str() == "b").unwrap();
    let (conn, port) = if offer.agent_id == agents[0] {
        (1, 5051)
    } else {
        (2, 5052)
    };
    let agent = offer.agent_id.clone();
    let out = f
        .call(
            &fid,
            &token,
            SchedulerCall::Accept {
                offer_ids: vec![offer.id.clone()],
                operations: vec![launch("t1", &agent, "cpus:1;mem:128")],
                refuse: Some(Duration::ZERO),
            },
        )
        .unwrap();
    let sent_role = out.iter().find_map(|o| match o {
        MasterOutput::ToAgent {
            msg: MasterToAgent::RunTask { task, .. },
            ..
        } => task.role.clone(),
        _ => None,
    });
    assert_eq!(
        sent_role,
        Some(Role::from("b")),
        "the agent is told the role"
    );

    // A new master over the same registry; the agent re-registers with its tasks: t1 with its
    // role, t0 as an agent that does not know roles reports it.
    let registry = f.m.registry().clone();
    let cfg = f.m.config().clone();
    f.m = Master::new(cfg, registry, f.now, wall());
    f.m.handle_leadership(f.now, wall(), Leadership::BecameLeader);
    f.pump();
    let report = |task: &str, role: Option<&str>| TaskReport {
        framework_id: fid.clone(),
        executor_id: ExecutorId::from(task),
        task_id: TaskId::from(task),
        name: task.to_string(),
        state: TaskState::Running,
        resources: Resources::parse("cpus:0.5;mem:64").unwrap(),
        role: role.map(Role::from),
    };
    let info = f.agent_info(port);
    f.m.handle_agent_message(
        f.now,
        wall(),
        ConnId(conn),
        AgentToMaster::Reregister {
            id: agent.clone(),
            info,
            checkpointed: crate::resources::Resources::new(),
            frameworks: vec![FrameworkRecord {
                id: fid.clone(),
                name: "fw".to_string(),
                user: "u".to_string(),
                checkpoint: true,
                role: Role::from("a"),
            }],
            tasks: vec![report("t1", Some("b")), report("t0", None)],
        },
    );
    f.pump();
    let task_role = |f: &Fixture, t: &str| f.m.tasks[&(fid.clone(), TaskId::from(t))].role.clone();
    assert_eq!(task_role(&f, "t1"), Role::from("b"));
    assert_eq!(task_role(&f, "t0"), Role::from("a"));
    let agent_slot = f.m.agents[&agent].slot;
    let (sa, sb) = (slot(&f, &fid, "a").unwrap(), slot(&f, &fid, "b").unwrap());
    let half = Some(Resources::parse("cpus:0.5;mem:64").unwrap());
    assert_eq!(f.m.allocator.allocation(sb, agent_slot).cloned(), half);
    assert_eq!(f.m.allocator.allocation(sa, agent_slot).cloned(), half);
    assert!(
        f.allocate().is_empty(),
        "no offers before the scheduler is back"
    );

    // The scheduler comes back with both roles: no second slot for `b`.
    f.m.handle_subscribe(
        f.now,
        wall(),
        StreamId(11),
        multi_role_spec(Some(fid.clone()), &["a", "b"]),
    )
    .unwrap();
    f.pump();
    assert_eq!(f.m.frameworks[&fid].role_slots.len(), 2);
    assert_eq!(slot(&f, &fid, "b"), Some(sb));
    update(&mut f, conn, &fid, "t1", TaskState::Finished);
    update(&mut f, conn, &fid, "t0", TaskState::Finished);
    assert_eq!(f.m.allocator.allocation(sb, agent_slot), None);
    assert_eq!(f.m.allocator.allocation(sa, agent_slot), None);
    assert_eq!(f.m.allocator.mismatched_recovers(), 0);
}
