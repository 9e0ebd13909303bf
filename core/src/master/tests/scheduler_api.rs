//! Unit tests of the scheduler calls beyond the basic flow: invalid tasks, SHUTDOWN, MESSAGE,
//! REVIVE and SUPPRESS with roles, Mesos' reconciliation table and the completed-state bounds.

use super::*;
use crate::ids::ExecutorId;
use crate::wire::StatusReason;

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

fn with_task(op: Operation, f: impl Fn(&mut TaskLaunch)) -> Operation {
    match op {
        Operation::Launch(mut tasks) => {
            for t in &mut tasks {
                f(t);
            }
            Operation::Launch(tasks)
        }
        other => other,
    }
}

/// A subscribed framework with the given capabilities, on stream 10.
fn subscribe_with(f: &mut Fixture, caps: FrameworkCapabilities) -> (FrameworkId, String) {
    let spec = FrameworkSpec {
        id: None,
        name: "fw".to_string(),
        user: "u".to_string(),
        role: Role::from("*"),
        failover_timeout: Duration::ZERO,
        checkpoint: true,
        hostname: None,
        principal: None,
        capabilities: caps,
        roles: Vec::new(),
    };
    let s =
        f.m.handle_subscribe(f.now, wall(), StreamId(10), spec)
            .unwrap();
    f.pump();
    (s.framework_id, s.stream_token)
}

fn accept(
    f: &mut Fixture,
    fid: &FrameworkId,
    token: &str,
    offer: &OfferRecord,
    ops: Vec<Operation>,
) -> Vec<MasterOutput> {
    f.call(
        fid,
        token,
        SchedulerCall::Accept {
            offer_ids: vec![offer.id.clone()],
            operations: ops,
            refuse: None,
        },
    )
    .unwrap()
}

#[test]
fn an_invalid_task_gets_task_error_with_its_reason_and_uses_nothing() {
    let mut f = Fixture::new();
    let agent = f.register(1, 5051);
    let (fid, token) = f.subscribe(10, Duration::ZERO);
    let offers = f.allocate();
    let bad = with_task(launch("t1", &agent, "cpus:1"), |t| {
        t.invalid = Some("task 't1': command.uris (the fetcher) is not supported".to_string())
    });
    let good = launch("t2", &agent, "cpus:1");
    let out = accept(&mut f, &fid, &token, &offers[0], vec![bad, good]);
    let ups = updates(&out);
    assert_eq!(ups.len(), 1, "{ups:?}");
    assert_eq!(ups[0].task_id.as_str(), "t1");
    assert_eq!(ups[0].state, TaskState::Error);
    assert_eq!(ups[0].reason, Some(StatusReason::TaskInvalid));
    assert!(ups[0].message.as_deref().unwrap().contains("command.uris"));
    assert_eq!(ups[0].uuid, None);
    // The valid task of the same ACCEPT still runs.
    assert!(out.iter().any(|o| matches!(o, MasterOutput::ToAgent { msg: MasterToAgent::RunTask { task, .. }, .. } if task.task_id.as_str() == "t2")));
    assert_eq!(f.m.tasks().count(), 1);
}

#[test]
fn empty_and_duplicate_task_ids_get_task_error() {
    let mut f = Fixture::new();
    let agent = f.register(1, 5051);
    let (fid, token) = f.subscribe(10, Duration::ZERO);
    let offers = f.allocate();
    let out = accept(
        &mut f,
        &fid,
        &token,
        &offers[0],
        vec![
            launch("", &agent, "cpus:0.5"),
            launch("d", &agent, "cpus:0.5"),
            launch("d", &agent, "cpus:0.5"),
        ],
    );
    let ups = updates(&out);
    assert_eq!(ups.len(), 2, "{ups:?}");
    assert!(ups
        .iter()
        .all(|s| s.state == TaskState::Error && s.reason == Some(StatusReason::TaskInvalid)));
    assert_eq!(ups[0].task_id.as_str(), "");
    assert!(ups[1].message.as_deref().unwrap().contains("duplicate"));
    assert_eq!(f.m.tasks().count(), 1);
}

#[test]
fn shutdown_and_message_are_forwarded_to_the_agent_and_back() {
    let mut f = Fixture::new();
    let agent = f.register(1, 5051);
    let (fid, token) = f.subscribe(10, Duration::ZERO);
    let out = f
        .call(
            &fid,
            &token,
            SchedulerCall::Shutdown {
                executor_id: ExecutorId::from("e"),
                agent_id: agent.clone(),
            },
        )
        .unwrap();
    assert!(out.contains(&MasterOutput::ToAgent {
        conn: ConnId(1),
        msg: MasterToAgent::ShutdownExecutor {
            framework_id: fid.clone(),
            executor_id: ExecutorId::from("e"),
        },
    }));
    let out = f
        .call(
            &fid,
            &token,
            SchedulerCall::Message {
                agent_id: agent.clone(),
                executor_id: ExecutorId::from("e"),
                data: b"ping".to_vec(),
            },
        )
        .unwrap();
    assert!(out.contains(&MasterOutput::ToAgent {
        conn: ConnId(1),
        msg: MasterToAgent::FrameworkMessage {
            framework_id: fid.clone(),
            executor_id: ExecutorId::from("e"),
            data: b"ping".to_vec(),
        },
    }));
    // An unknown agent: nothing is sent, the call still succeeds.
    let out = f
        .call(
            &fid,
            &token,
            SchedulerCall::Shutdown {
                executor_id: ExecutorId::from("e"),
                agent_id: AgentId::from("nope"),
            },
        )
        .unwrap();
    assert!(!out
        .iter()
        .any(|o| matches!(o, MasterOutput::ToAgent { .. })));
    // Too much data is refused.
    let err = f
        .call(
            &fid,
            &token,
            SchedulerCall::Message {
                agent_id: agent.clone(),
                executor_id: ExecutorId::from("e"),
                data: vec![0; MAX_MESSAGE_DATA + 1],
            },
        )
        .unwrap_err();
    assert!(matches!(err, CallError::Invalid(_)));
    // Executor → scheduler.
    f.m.handle_agent_message(
        f.now,
        wall(),
        ConnId(1),
        AgentToMaster::ExecutorMessage {
            framework_id: fid.clone(),
            executor_id: ExecutorId::from("e"),
            data: b"pong".to_vec(),
        },
    );
    let out = f.pump();
    assert_eq!(
        out,
        vec![MasterOutput::ToFramework {
            stream: StreamId(10),
            event: SchedulerEvent::Message {
                agent_id: agent,
                executor_id: ExecutorId::from("e"),
                data: b"pong".to_vec(),
            },
        }]
    );
}

#[test]
fn suppress_and_revive_ignore_roles_the_framework_does_not_have() {
    let mut f = Fixture::new();
    f.register(1, 5051);
    let (fid, token) = f.subscribe(10, Duration::ZERO);
    let offers = f.allocate();
    f.call(
        &fid,
        &token,
        SchedulerCall::Decline {
            offer_ids: vec![offers[0].id.clone()],
            refuse: Some(Duration::ZERO),
        },
    )
    .unwrap();
    // A SUPPRESS for another role changes nothing.
    f.call(
        &fid,
        &token,
        SchedulerCall::Suppress {
            roles: vec![Role::from("other")],
        },
    )
    .unwrap();
    assert_eq!(f.allocate().len(), 1);
    assert!(f.m.frameworks().all(|v| v.active));
    let id = f.m.offers().next().unwrap().id.clone();
    f.call(
        &fid,
        &token,
        SchedulerCall::Decline {
            offer_ids: vec![id],
            refuse: Some(Duration::ZERO),
        },
    )
    .unwrap();
    // Its own role suppresses.
    f.call(
        &fid,
        &token,
        SchedulerCall::Suppress {
            roles: vec![Role::from("*")],
        },
    )
    .unwrap();
    assert!(f.allocate().is_empty());
    // A REVIVE for another role does not revive; an empty one does.
    f.call(
        &fid,
        &token,
        SchedulerCall::Revive {
            roles: vec![Role::from("other")],
        },
    )
    .unwrap();
    assert!(f.allocate().is_empty());
    f.call(&fid, &token, SchedulerCall::Revive { roles: vec![] })
        .unwrap();
    assert_eq!(f.allocate().len(), 1);
}

/// Runs `RECONCILE` and returns the answers as (task, state, message).
fn reconcile(
    f: &mut Fixture,
    fid: &FrameworkId,
    token: &str,
    tasks: Vec<(&str, Option<&AgentId>)>,
) -> Vec<TaskStatus> {
    let tasks = tasks
        .into_iter()
        .map(|(t, a)| (TaskId::from(t), a.cloned()))
        .collect();
    let out = f
        .call(fid, token, SchedulerCall::Reconcile { tasks })
        .unwrap();
    let ups = updates(&out);
    for s in &ups {
        assert_eq!(s.reason, Some(StatusReason::Reconciliation));
        assert_eq!(s.source, crate::wire::StatusSource::Master);
        assert_eq!(s.uuid, None);
    }
    ups
}

#[test]
fn reconciliation_follows_the_mesos_table() {
    for partition_aware in [false, true] {
        let mut f = Fixture::new();
        let agent = f.register(1, 5051);
        let (fid, token) = subscribe_with(
            &mut f,
            FrameworkCapabilities {
                partition_aware,
                ..Default::default()
            },
        );
        let offers = f.allocate();
        accept(
            &mut f,
            &fid,
            &token,
            &offers[0],
            vec![launch("known", &agent, "cpus:1")],
        );
        // The agent reports RUNNING, then FINISHED, the FINISHED waiting behind RUNNING's ack.
        let mut u = status("known", TaskState::Running, 1);
        u.framework_id = fid.clone();
        u.latest_state = TaskState::Finished;
        f.m.handle_agent_message(f.now, wall(), ConnId(1), AgentToMaster::StatusUpdate(u));
        f.pump();
        let lost = |s: TaskState| if partition_aware { s } else { TaskState::Lost };

        // (2) Known: the state of the update awaiting acknowledgement, with the agent.
        let ups = reconcile(&mut f, &fid, &token, vec![("known", None)]);
        assert_eq!(ups.len(), 1);
        assert_eq!(ups[0].state, TaskState::Running);
        assert_eq!(ups[0].agent_id.as_ref(), Some(&agent));
        assert_eq!(ups[0].executor_id, None, "command executors are implicit");
        // (3) Unknown task on a registered agent.
        let ups = reconcile(&mut f, &fid, &token, vec![("x", Some(&agent))]);
        assert_eq!(ups[0].state, lost(TaskState::Gone));
        // (7) Unknown task, unknown agent or no agent (and nothing recovering).
        let other = AgentId::from("c-S99");
        let ups = reconcile(&mut f, &fid, &token, vec![("x", Some(&other)), ("y", None)]);
        assert_eq!(ups.len(), 2);
        assert!(ups.iter().all(|s| s.state == lost(TaskState::Unknown)));
        // Implicit: every known task, nothing else.
        let ups = reconcile(&mut f, &fid, &token, vec![]);
        assert_eq!(ups.len(), 1);
        assert_eq!(ups[0].task_id.as_str(), "known");
    }
}

#[test]
fn reconciliation_after_a_master_restart_covers_recovering_unreachable_and_gone_agents() {
    // A registry that admitted one agent (which has not come back to the new master) and
    // remembers one unreachable and one gone agent.
    let mut old = Fixture::new();
    let recovering = old.register(1, 5051);
    let mut registry = old.m.registry().clone();
    let unreachable_at = WallTime { unix_nanos: 42 };
    registry
        .unreachable
        .push((AgentId::from("c-S7"), unreachable_at));
    registry.gone.push((AgentId::from("c-S8"), unreachable_at));
    for partition_aware in [false, true] {
        let mut cfg = MasterConfig::new("m".to_string(), "10.0.0.1".to_string(), 5050, 7);
        cfg.max_agents = 16;
        cfg.max_frameworks = 8;
        let mut f = Fixture::new();
        f.m = Master::new(cfg, registry.clone(), T0, wall());
        f.m.handle_leadership(T0, wall(), Leadership::BecameLeader);
        f.pump();
        assert_eq!(f.m.phase(), Phase::Leading);
        let (fid, token) = subscribe_with(
            &mut f,
            FrameworkCapabilities {
                partition_aware,
                ..Default::default()
            },
        );
        let lost = |s: TaskState| if partition_aware { s } else { TaskState::Lost };
        // (4) Transitioning: no answer, whether the agent is named or not.
        assert!(reconcile(
            &mut f,
            &fid,
            &token,
            vec![("t", Some(&recovering)), ("u", None)]
        )
        .is_empty());
        // (5) Unreachable, (6) gone, (7) unknown.
        let ups = reconcile(
            &mut f,
            &fid,
            &token,
            vec![
                ("t", Some(&AgentId::from("c-S7"))),
                ("t", Some(&AgentId::from("c-S8"))),
                ("t", Some(&AgentId::from("zz"))),
            ],
        );
        let states: Vec<TaskState> = ups.iter().map(|s| s.state).collect();
        assert_eq!(
            states,
            vec![
                lost(TaskState::Unreachable),
                lost(TaskState::GoneByOperator),
                lost(TaskState::Unknown)
            ]
        );
        assert_eq!(ups[0].unreachable_time, Some(unreachable_at));
    }
}

#[test]
fn completed_tasks_are_bounded_per_framework_and_frameworks_are_bounded() {
    let mut f = Fixture::new();
    f.m.cfg.max_completed_tasks_per_framework = 2;
    f.m.cfg.max_completed_frameworks = 1;
    let agent = f.register(1, 5051);
    for round in 0..2u64 {
        let (fid, token) = f.subscribe(10 + round, Duration::ZERO);
        for i in 0..3u8 {
            let offers = f.allocate();
            let name = alloc::format!("r{round}t{i}");
            accept(
                &mut f,
                &fid,
                &token,
                &offers[0],
                vec![launch(&name, &agent, "cpus:1")],
            );
            let mut u = status(&name, TaskState::Finished, i + 1);
            u.framework_id = fid.clone();
            f.m.handle_agent_message(f.now, wall(), ConnId(1), AgentToMaster::StatusUpdate(u));
            f.pump();
            f.call(
                &fid,
                &token,
                SchedulerCall::Acknowledge {
                    agent_id: agent.clone(),
                    task_id: TaskId::from(name.as_str()),
                    uuid: [i + 1; 16],
                },
            )
            .unwrap();
        }
        let names: Vec<String> =
            f.m.completed_tasks()
                .map(|t| t.task_id.to_string())
                .collect();
        // Only the newest two per framework; the first framework's stay while it is remembered.
        let expected: Vec<&str> = if round == 0 {
            vec!["r0t1", "r0t2"]
        } else {
            vec!["r0t1", "r0t2", "r1t1", "r1t2"]
        };
        assert_eq!(names, expected);
        f.call(&fid, &token, SchedulerCall::Teardown).unwrap();
    }
    // Two torn-down frameworks, one remembered: the oldest went with its completed tasks.
    assert_eq!(f.m.completed_frameworks().count(), 1);
    let names: Vec<String> =
        f.m.completed_tasks()
            .map(|t| t.task_id.to_string())
            .collect();
    assert_eq!(names, vec!["r1t1".to_string(), "r1t2".to_string()]);
}
