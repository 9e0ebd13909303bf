//! Unit tests of the agent state machine: registration, executors and the status update path.

use super::*;
use crate::ids::{Role, TaskId};
use crate::resources::Resources;
use crate::task_state::TaskState;
use crate::wire::{ExecutorSpec, StatusSource, TaskSpec, TaskStatus};
use alloc::string::ToString;
use alloc::vec;

fn wall() -> WallTime {
    WallTime { unix_nanos: 1 }
}

fn info() -> AgentInfo {
    AgentInfo {
        hostname: "a".to_string(),
        ip: "10.0.0.2".to_string(),
        port: 5051,
        resources: Resources::parse("cpus:2;mem:1024").unwrap(),
        attributes: Vec::new(),
        domain: None,
        version: "1.5.0".to_string(),
    }
}

/// Drains the agent as a driver does, every checkpoint batch written at once.
fn drain(a: &mut Agent) -> Vec<AgentOutput> {
    drain_writing(a, &mut Vec::new(), Instant::ZERO)
}

/// [`drain`], appending every batch written to `log` (the records on "disk").
fn drain_writing(a: &mut Agent, log: &mut Vec<Record>, now: Instant) -> Vec<AgentOutput> {
    let mut out = Vec::new();
    loop {
        let mut busy = false;
        if let Some(batch) = a.poll_checkpoint() {
            let seq = batch.seq;
            log.extend(batch.records.iter().cloned());
            a.handle_checkpoint_written(now, seq, CheckpointWritten::Durable);
            busy = true;
        }
        while let Some(o) = a.poll_output() {
            out.push(o);
            busy = true;
        }
        if !busy {
            break;
        }
    }
    out
}

/// An agent connected and registered as `c-S0`.
fn registered() -> Agent {
    let mut a = Agent::new(AgentConfig::new(info(), 1), Instant::ZERO);
    a.handle_timeout(Instant::ZERO, wall());
    assert_eq!(drain(&mut a), vec![AgentOutput::ConnectMaster]);
    a.handle_master_connected(Instant::ZERO);
    assert!(matches!(
        drain(&mut a)[..],
        [AgentOutput::ToMaster(AgentToMaster::Register { .. })]
    ));
    a.handle_master_message(
        Instant::ZERO,
        wall(),
        MasterToAgent::Registered {
            id: AgentId::from("c-S0"),
        },
    );
    drain(&mut a);
    a
}

fn framework() -> FrameworkRecord {
    FrameworkRecord {
        id: FrameworkId::from("f"),
        name: "fw".to_string(),
        user: "u".to_string(),
        checkpoint: true,
        role: crate::ids::Role::from("*"),
    }
}

fn task(id: &str) -> TaskSpec {
    TaskSpec {
        task_id: TaskId::from(id),
        name: id.to_string(),
        resources: Resources::parse("cpus:1").unwrap(),
        executor: ExecutorSpec {
            executor_id: ExecutorId::from(id),
            name: "cmd".to_string(),
            command: None,
            resources: Resources::new(),
            data: None,
        },
        command: Some(CommandSpec {
            shell: true,
            value: "true".to_string(),
            ..Default::default()
        }),
        kill_grace: None,
        data: Vec::new(),
        role: Some(Role::from("*")),
    }
}

fn run(a: &mut Agent, id: &str) -> ContainerId {
    a.handle_master_message(
        Instant::ZERO,
        wall(),
        MasterToAgent::RunTask {
            framework: framework(),
            task: alloc::boxed::Box::new(task(id)),
        },
    );
    drain(a)
        .into_iter()
        .find_map(|o| match o {
            AgentOutput::LaunchExecutor {
                container_id,
                sandbox,
                ..
            } => {
                assert!(sandbox.starts_with(&alloc::format!(
                    "slaves/c-S0/frameworks/f/executors/{id}/runs/"
                )));
                Some(container_id)
            }
            _ => None,
        })
        .expect("an executor is launched")
}

fn status(id: &str, state: TaskState, uuid: u8) -> TaskStatus {
    TaskStatus {
        task_id: TaskId::from(id),
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
    }
}

fn sent_updates(out: &[AgentOutput]) -> Vec<(TaskState, TaskState)> {
    out.iter()
        .filter_map(|o| match o {
            AgentOutput::ToMaster(AgentToMaster::StatusUpdate(u)) => {
                Some((u.status.state, u.latest_state))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_task_reaches_its_executor_and_updates_flow_one_at_a_time() {
    let mut a = registered();
    run(&mut a, "t1");
    let (f, e) = (FrameworkId::from("f"), ExecutorId::from("t1"));
    a.handle_executor_subscribe(Instant::ZERO, ExecutorStream(1), &f, &e)
        .unwrap();
    let out = drain(&mut a);
    assert!(matches!(
        out[0],
        AgentOutput::ToExecutor {
            event: ExecutorEvent::Subscribed { .. },
            ..
        }
    ));
    assert!(
        matches!(&out[1], AgentOutput::ToExecutor { event: ExecutorEvent::Launch(t), .. } if t.task_id.as_str() == "t1")
    );
    a.handle_executor_update(
        Instant::ZERO,
        wall(),
        &f,
        &e,
        status("t1", TaskState::Running, 1),
    )
    .unwrap();
    let out = drain(&mut a);
    assert_eq!(
        sent_updates(&out),
        vec![(TaskState::Running, TaskState::Running)]
    );
    assert!(out.iter().any(|o| matches!(
        o,
        AgentOutput::ToExecutor {
            event: ExecutorEvent::Acknowledged { .. },
            ..
        }
    )));
    // The second update waits for the first's acknowledgement, but its state travels as latest_state.
    a.handle_executor_update(
        Instant::ZERO,
        wall(),
        &f,
        &e,
        status("t1", TaskState::Finished, 2),
    )
    .unwrap();
    assert!(sent_updates(&drain(&mut a)).is_empty());
    a.handle_timeout(Instant::from_millis(10_000), wall());
    assert_eq!(
        sent_updates(&drain(&mut a)),
        vec![(TaskState::Running, TaskState::Finished)]
    );
    a.handle_master_message(
        Instant::ZERO,
        wall(),
        MasterToAgent::Acknowledge {
            framework_id: f.clone(),
            task_id: TaskId::from("t1"),
            uuid: [1; 16],
        },
    );
    assert_eq!(
        sent_updates(&drain(&mut a)),
        vec![(TaskState::Finished, TaskState::Finished)]
    );
}

#[test]
fn executors_may_not_send_staging_or_updates_for_unknown_tasks() {
    let mut a = registered();
    run(&mut a, "t1");
    let (f, e) = (FrameworkId::from("f"), ExecutorId::from("t1"));
    assert_eq!(
        a.handle_executor_update(
            Instant::ZERO,
            wall(),
            &f,
            &e,
            status("t1", TaskState::Running, 1)
        ),
        Err(ExecutorCallError::NotSubscribed)
    );
    a.handle_executor_subscribe(Instant::ZERO, ExecutorStream(1), &f, &e)
        .unwrap();
    assert_eq!(
        a.handle_executor_update(
            Instant::ZERO,
            wall(),
            &f,
            &e,
            status("t1", TaskState::Staging, 1)
        ),
        Err(ExecutorCallError::StagingFromExecutor)
    );
    assert_eq!(
        a.handle_executor_update(
            Instant::ZERO,
            wall(),
            &f,
            &e,
            status("zz", TaskState::Running, 1)
        ),
        Err(ExecutorCallError::UnknownTask)
    );
    assert_eq!(
        a.handle_executor_subscribe(
            Instant::ZERO,
            ExecutorStream(2),
            &f,
            &ExecutorId::from("nope")
        ),
        Err(ExecutorCallError::UnknownExecutor)
    );
}

#[test]
fn an_executor_that_dies_fails_its_unfinished_tasks() {
    let mut a = registered();
    let container = run(&mut a, "t1");
    let (f, e) = (FrameworkId::from("f"), ExecutorId::from("t1"));
    a.handle_executor_subscribe(Instant::ZERO, ExecutorStream(1), &f, &e)
        .unwrap();
    drain(&mut a);
    a.handle_container_exited(Instant::ZERO, wall(), &container, 9);
    let out = drain(&mut a);
    assert_eq!(
        sent_updates(&out),
        vec![(TaskState::Failed, TaskState::Failed)]
    );
    assert!(out.iter().any(|o| matches!(
        o,
        AgentOutput::ToMaster(AgentToMaster::ExecutorExited { status: 9, .. })
    )));
}

#[test]
fn killing_a_task_before_its_executor_subscribes_never_launches_it() {
    let mut a = registered();
    run(&mut a, "t1");
    a.handle_master_message(
        Instant::ZERO,
        wall(),
        MasterToAgent::KillTask {
            framework_id: FrameworkId::from("f"),
            task_id: TaskId::from("t1"),
        },
    );
    let out = drain(&mut a);
    assert_eq!(
        sent_updates(&out),
        vec![(TaskState::Killed, TaskState::Killed)]
    );
    assert!(out
        .iter()
        .any(|o| matches!(o, AgentOutput::KillContainer { force: false, .. })));
}

#[test]
fn an_executor_that_never_subscribes_is_destroyed_and_its_task_failed() {
    let mut a = registered();
    run(&mut a, "t1");
    let late = Instant::ZERO + Duration::from_secs(61);
    a.handle_timeout(late, wall());
    let out = drain(&mut a);
    assert_eq!(
        sent_updates(&out),
        vec![(TaskState::Failed, TaskState::Failed)]
    );
    assert!(out
        .iter()
        .any(|o| matches!(o, AgentOutput::KillContainer { force: true, .. })));
}

#[test]
fn losing_the_master_pauses_updates_and_reregistration_reports_tasks() {
    let mut a = registered();
    run(&mut a, "t1");
    let (f, e) = (FrameworkId::from("f"), ExecutorId::from("t1"));
    a.handle_executor_subscribe(Instant::ZERO, ExecutorStream(1), &f, &e)
        .unwrap();
    drain(&mut a);
    a.handle_master_disconnected(Instant::ZERO);
    a.handle_executor_update(
        Instant::ZERO,
        wall(),
        &f,
        &e,
        status("t1", TaskState::Running, 1),
    )
    .unwrap();
    assert!(
        sent_updates(&drain(&mut a)).is_empty(),
        "nothing is sent while disconnected"
    );
    // Reconnect after the backoff: a Reregister carrying the task, then the update is resent.
    let retry = match a.link() {
        MasterLink::Disconnected { retry_at } => retry_at,
        other => panic!("{other:?}"),
    };
    assert!(retry <= Instant::ZERO + Duration::from_secs(1));
    a.handle_timeout(retry, wall());
    assert!(drain(&mut a).contains(&AgentOutput::ConnectMaster));
    a.handle_master_connected(retry);
    let out = drain(&mut a);
    let reports = out.iter().find_map(|o| match o {
        AgentOutput::ToMaster(AgentToMaster::Reregister {
            tasks, frameworks, ..
        }) => Some((tasks.clone(), frameworks.len())),
        _ => None,
    });
    let (tasks, frameworks) = reports.expect("a re-registration");
    assert_eq!(frameworks, 1);
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].state, TaskState::Running);
    a.handle_master_message(
        retry,
        wall(),
        MasterToAgent::Reregistered {
            id: AgentId::from("c-S0"),
        },
    );
    assert_eq!(
        sent_updates(&drain(&mut a)),
        vec![(TaskState::Running, TaskState::Running)]
    );
}

#[test]
fn a_silent_master_is_dropped_and_pings_are_answered() {
    let mut a = registered();
    a.handle_master_message(Instant::ZERO, wall(), MasterToAgent::Ping { seq: 4 });
    assert_eq!(
        drain(&mut a),
        vec![AgentOutput::ToMaster(AgentToMaster::Pong { seq: 4 })]
    );
    a.handle_timeout(Instant::ZERO + Duration::from_secs(76), wall());
    assert!(drain(&mut a).contains(&AgentOutput::DisconnectMaster));
    assert!(matches!(a.link(), MasterLink::Disconnected { .. }));
}

mod gc;
mod recovery;
mod scheduler_api;

/// Task `id` of the group run by default executor `pod`.
fn group_task(id: &str) -> TaskSpec {
    let mut t = task(id);
    t.executor = ExecutorSpec {
        executor_id: ExecutorId::from("pod"),
        name: "pod".to_string(),
        command: None,
        resources: Resources::parse("cpus:0.1").unwrap(),
        data: None,
    };
    t
}

fn run_group(a: &mut Agent, ids: &[&str]) -> Vec<AgentOutput> {
    let tasks: Vec<TaskSpec> = ids.iter().map(|id| group_task(id)).collect();
    a.handle_master_message(
        Instant::ZERO,
        wall(),
        MasterToAgent::RunTaskGroup {
            framework: framework(),
            executor: alloc::boxed::Box::new(tasks[0].executor.clone()),
            tasks,
        },
    );
    drain(a)
}

fn group_events(out: &[AgentOutput]) -> Vec<Vec<String>> {
    out.iter()
        .filter_map(|o| match o {
            AgentOutput::ToExecutor {
                event: ExecutorEvent::LaunchGroup(tasks),
                ..
            } => Some(tasks.iter().map(|t| t.task_id.to_string()).collect()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_task_group_runs_whole_under_one_default_executor() {
    let mut a = registered();
    let out = run_group(&mut a, &["g1", "g2"]);
    let launches: Vec<&Option<CommandSpec>> = out
        .iter()
        .filter_map(|o| match o {
            AgentOutput::LaunchExecutor { command, .. } => Some(command),
            _ => None,
        })
        .collect();
    assert_eq!(
        launches,
        vec![&None],
        "one `mesolite executor` for the group"
    );
    let (f, e) = (FrameworkId::from("f"), ExecutorId::from("pod"));
    a.handle_executor_subscribe(Instant::ZERO, ExecutorStream(1), &f, &e)
        .unwrap();
    let out = drain(&mut a);
    assert_eq!(group_events(&out), vec![vec!["g1", "g2"]]);
    assert!(!out.iter().any(|o| matches!(
        o,
        AgentOutput::ToExecutor {
            event: ExecutorEvent::Launch(_),
            ..
        }
    )));
    // A later group goes to the same running executor at once.
    let out = run_group(&mut a, &["g3"]);
    assert_eq!(group_events(&out), vec![vec!["g3"]]);
    assert!(!out
        .iter()
        .any(|o| matches!(o, AgentOutput::LaunchExecutor { .. })));
    assert_eq!(a.executors().count(), 1);
    assert_eq!(a.executors().next().unwrap().tasks.len(), 3);
    // Each task reports its own states.
    for (id, uuid) in [("g1", 1), ("g2", 2)] {
        a.handle_executor_update(
            Instant::ZERO,
            wall(),
            &f,
            &e,
            status(id, TaskState::Running, uuid),
        )
        .unwrap();
    }
    assert_eq!(sent_updates(&drain(&mut a)).len(), 2);
}

#[test]
fn killing_one_task_of_a_group_kills_the_whole_group() {
    // Before the executor subscribed: the agent kills every task of the group itself.
    let mut a = registered();
    run_group(&mut a, &["g1", "g2"]);
    a.handle_master_message(
        Instant::ZERO,
        wall(),
        MasterToAgent::KillTask {
            framework_id: FrameworkId::from("f"),
            task_id: TaskId::from("g2"),
        },
    );
    let out = drain(&mut a);
    assert_eq!(
        sent_updates(&out),
        vec![
            (TaskState::Killed, TaskState::Killed),
            (TaskState::Killed, TaskState::Killed)
        ]
    );
    assert!(out
        .iter()
        .any(|o| matches!(o, AgentOutput::KillContainer { force: false, .. })));

    // With the executor: it gets the KILL (and kills the group); if it dies instead, every task
    // of the group counts as killed, not failed.
    let mut a = registered();
    let out = run_group(&mut a, &["g1", "g2"]);
    let container = out
        .iter()
        .find_map(|o| match o {
            AgentOutput::LaunchExecutor { container_id, .. } => Some(container_id.clone()),
            _ => None,
        })
        .unwrap();
    let (f, e) = (FrameworkId::from("f"), ExecutorId::from("pod"));
    a.handle_executor_subscribe(Instant::ZERO, ExecutorStream(1), &f, &e)
        .unwrap();
    drain(&mut a);
    a.handle_master_message(
        Instant::ZERO,
        wall(),
        MasterToAgent::KillTask {
            framework_id: f.clone(),
            task_id: TaskId::from("g1"),
        },
    );
    let out = drain(&mut a);
    assert!(out.iter().any(|o| matches!(
        o,
        AgentOutput::ToExecutor { event: ExecutorEvent::Kill { task_id, .. }, .. } if task_id.as_str() == "g1"
    )));
    a.handle_container_exited(Instant::ZERO, wall(), &container, 9);
    let out = drain(&mut a);
    assert_eq!(
        sent_updates(&out),
        vec![
            (TaskState::Killed, TaskState::Killed),
            (TaskState::Killed, TaskState::Killed)
        ]
    );
    assert!(out.iter().any(|o| matches!(
        o,
        AgentOutput::ToMaster(AgentToMaster::ExecutorExited {
            command_executor: false,
            ..
        })
    )));
}

#[test]
fn checkpointed_resources_are_kept_synced_to_volume_dirs_reported_and_recovered() {
    use crate::agent::checkpoint::CheckpointState;
    use crate::resources::meta::{
        DiskInfo, Persistence, Reservation, ReservationKind, ResourceMeta,
    };
    use crate::resources::Resource;
    let mut a = registered();
    let mut log = Vec::new();
    let reserved = |name: &str, amount: i64, disk: Option<DiskInfo>| {
        let meta = ResourceMeta {
            reservations: vec![Reservation {
                kind: ReservationKind::Dynamic,
                role: Role::from("web"),
                principal: Some("ops".to_string()),
                labels: Vec::new(),
            }],
            disk,
            ..ResourceMeta::default()
        };
        Resource::scalar(name, crate::resources::Fixed::from_units(amount).unwrap())
            .unwrap()
            .with_meta(meta)
            .unwrap()
    };
    let set = |rs: &[Resource]| Resources::try_from_slice(rs).unwrap();
    let cpus = reserved("cpus", 1, None);
    let with_volume = set(&[
        cpus.clone(),
        reserved(
            "disk",
            64,
            Some(DiskInfo {
                persistence: Some(Persistence {
                    id: "vol1".to_string(),
                    principal: None,
                }),
                container_path: Some("data".to_string()),
                ..DiskInfo::default()
            }),
        ),
    ]);
    let without_volume = set(&[cpus, reserved("disk", 64, None)]);
    let volume = &with_volume;
    let give = |a: &mut Agent, resources: &Resources, log: &mut Vec<Record>| {
        a.handle_master_message(
            Instant::ZERO,
            wall(),
            MasterToAgent::CheckpointResources {
                resources: resources.clone(),
            },
        );
        drain_writing(a, log, Instant::ZERO)
    };
    let out = give(&mut a, volume, &mut log);
    assert_eq!(
        out,
        vec![AgentOutput::SyncVolumes {
            create: vec!["volumes/roles/web/vol1".to_string()],
            remove: Vec::new(),
        }]
    );
    assert!(log
        .iter()
        .any(|r| matches!(r, Record::CheckpointedResources(_))));
    // The same set again changes nothing.
    assert!(give(&mut a, volume, &mut log).is_empty());

    // Re-registration reports them; a restarted agent has them and recreates the dir.
    a.handle_master_connected(Instant::ZERO);
    let reported = drain(&mut a).into_iter().find_map(|o| match o {
        AgentOutput::ToMaster(AgentToMaster::Reregister { checkpointed, .. }) => Some(checkpointed),
        _ => None,
    });
    assert_eq!(reported.as_ref(), Some(volume));
    let state = CheckpointState::from_records(log.clone()).unwrap();
    let mut restarted = Agent::recover(AgentConfig::new(info(), 2), Instant::ZERO, state);
    assert_eq!(restarted.checkpointed_resources(), volume);
    assert!(drain(&mut restarted).contains(&AgentOutput::SyncVolumes {
        create: vec!["volumes/roles/web/vol1".to_string()],
        remove: Vec::new(),
    }));

    // DESTROY: the dir goes, once the new set is durable.
    let out = give(&mut a, &without_volume, &mut log);
    assert_eq!(
        out,
        vec![AgentOutput::SyncVolumes {
            create: Vec::new(),
            remove: vec!["volumes/roles/web/vol1".to_string()],
        }]
    );
}
