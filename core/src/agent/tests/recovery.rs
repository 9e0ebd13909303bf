//! Checkpoint and recovery: what waits for durability, and an agent rebuilt from its records.

use super::*;
use crate::agent::checkpoint::{decode_log, encode_batch_into, replay};
use crate::wire::StatusReason;

fn ids() -> (FrameworkId, ExecutorId, ExecutorId) {
    (
        FrameworkId::from("f"),
        ExecutorId::from("t1"),
        ExecutorId::from("t2"),
    )
}

fn acknowledged(out: &[AgentOutput]) -> Vec<[u8; 16]> {
    out.iter()
        .filter_map(|o| match o {
            AgentOutput::ToExecutor {
                event: ExecutorEvent::Acknowledged { uuid, .. },
                ..
            } => Some(*uuid),
            _ => None,
        })
        .collect()
}

fn launches(out: &[AgentOutput]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            AgentOutput::ToExecutor {
                event: ExecutorEvent::Launch(t),
                ..
            } => Some(t.task_id.to_string()),
            _ => None,
        })
        .collect()
}

fn ack_from_master(a: &mut Agent, now: Instant, task: &str, uuid: u8) {
    a.handle_master_message(
        now,
        wall(),
        MasterToAgent::Acknowledge {
            framework_id: FrameworkId::from("f"),
            task_id: TaskId::from(task),
            uuid: [uuid; 16],
        },
    );
}

#[test]
fn acknowledged_and_forwarding_wait_for_the_checkpoint_and_batches_group_commit() {
    let mut a = registered();
    run(&mut a, "t1");
    let (f, e, _) = ids();
    a.handle_executor_subscribe(Instant::ZERO, ExecutorStream(1), &f, &e)
        .unwrap();
    drain(&mut a);
    for (state, uuid) in [(TaskState::Starting, 1), (TaskState::Running, 2)] {
        a.handle_executor_update(Instant::ZERO, wall(), &f, &e, status("t1", state, uuid))
            .unwrap();
    }
    let mut early = Vec::new();
    while let Some(o) = a.poll_output() {
        early.push(o);
    }
    assert!(
        acknowledged(&early).is_empty(),
        "ACKNOWLEDGED before durable"
    );
    assert!(sent_updates(&early).is_empty(), "forwarded before durable");
    // Two updates, one batch, one fsync.
    let batch = a.poll_checkpoint().expect("a batch").clone();
    assert_eq!(batch.records.len(), 2);
    assert!(
        a.poll_checkpoint().is_none(),
        "one batch in flight at a time"
    );
    a.handle_executor_update(
        Instant::ZERO,
        wall(),
        &f,
        &e,
        status("t1", TaskState::Finished, 3),
    )
    .unwrap();
    assert!(acknowledged(&drain_none(&mut a)).is_empty());
    a.handle_checkpoint_written(Instant::ZERO, batch.seq, CheckpointWritten::Durable);
    let out = drain_none(&mut a);
    assert_eq!(acknowledged(&out), vec![[1; 16], [2; 16]]);
    // Each update enters its stream as its record is applied: the head went alone.
    assert_eq!(
        sent_updates(&out),
        vec![(TaskState::Starting, TaskState::Starting)]
    );
    // The third update went into the next batch.
    let out = drain(&mut a);
    assert_eq!(acknowledged(&out), vec![[3; 16]]);
    // An acknowledgement releases the next update only once it is durable.
    ack_from_master(&mut a, Instant::ZERO, "t1", 1);
    assert!(sent_updates(&drain_none(&mut a)).is_empty());
    let seq = a.poll_checkpoint().expect("the ack's batch").seq;
    a.handle_checkpoint_written(Instant::ZERO, seq, CheckpointWritten::Durable);
    assert_eq!(
        sent_updates(&drain_none(&mut a)),
        vec![(TaskState::Running, TaskState::Finished)]
    );
    // Nothing to write, nothing waits: a ping is answered at once and no batch appears.
    a.handle_master_message(Instant::ZERO, wall(), MasterToAgent::Ping { seq: 1 });
    assert!(a.poll_checkpoint().is_none());
    assert_eq!(
        drain_none(&mut a),
        vec![AgentOutput::ToMaster(AgentToMaster::Pong { seq: 1 })]
    );
}

/// Outputs only, without writing any batch.
fn drain_none(a: &mut Agent) -> Vec<AgentOutput> {
    let mut out = Vec::new();
    while let Some(o) = a.poll_output() {
        out.push(o);
    }
    out
}

#[test]
fn a_failed_checkpoint_write_is_fatal_and_nothing_waiting_is_released() {
    let mut a = registered();
    run(&mut a, "t1");
    let (f, e, _) = ids();
    a.handle_executor_subscribe(Instant::ZERO, ExecutorStream(1), &f, &e)
        .unwrap();
    drain(&mut a);
    a.handle_executor_update(
        Instant::ZERO,
        wall(),
        &f,
        &e,
        status("t1", TaskState::Running, 1),
    )
    .unwrap();
    let seq = a.poll_checkpoint().unwrap().seq;
    a.handle_checkpoint_written(Instant::ZERO, seq, CheckpointWritten::Failed);
    let out = drain_none(&mut a);
    assert!(matches!(&out[..], [AgentOutput::Fatal(why)] if why.contains("checkpoint")));
    assert!(a.poll_checkpoint().is_none());
}

/// An agent with executor t1 (subscribed, its task RUNNING, the update not acknowledged by the
/// framework) and executor t2 (launched with pid 42, never subscribed); returns it with the
/// records written so far.
fn busy_agent() -> (Agent, Vec<Record>) {
    let mut log = Vec::new();
    let mut a = Agent::new(AgentConfig::new(info(), 1), Instant::ZERO);
    a.handle_timeout(Instant::ZERO, wall());
    a.handle_master_connected(Instant::ZERO);
    a.handle_master_message(
        Instant::ZERO,
        wall(),
        MasterToAgent::Registered {
            id: AgentId::from("c-S0"),
        },
    );
    drain_writing(&mut a, &mut log, Instant::ZERO);
    let (f, e1, _) = ids();
    for id in ["t1", "t2"] {
        a.handle_master_message(
            Instant::ZERO,
            wall(),
            MasterToAgent::RunTask {
                framework: framework(),
                task: alloc::boxed::Box::new(task(id)),
            },
        );
    }
    let out = drain_writing(&mut a, &mut log, Instant::ZERO);
    let c2 = out
        .iter()
        .filter_map(|o| match o {
            AgentOutput::LaunchExecutor {
                container_id,
                executor_id,
                ..
            } if executor_id.as_str() == "t2" => Some(container_id.clone()),
            _ => None,
        })
        .next()
        .unwrap();
    a.handle_executor_pid(&c2, 42);
    a.handle_executor_subscribe(Instant::ZERO, ExecutorStream(1), &f, &e1)
        .unwrap();
    a.handle_executor_update(
        Instant::ZERO,
        wall(),
        &f,
        &e1,
        status("t1", TaskState::Running, 1),
    )
    .unwrap();
    drain_writing(&mut a, &mut log, Instant::ZERO);
    (a, log)
}

#[test]
fn records_replay_to_the_durable_state_and_compact_to_the_same_state() {
    let (a, log) = busy_agent();
    let replayed = CheckpointState::from_records(log.clone()).unwrap();
    assert_eq!(&replayed, a.checkpoint_state());
    let compacted = CheckpointState::from_records(replayed.snapshot_records()).unwrap();
    assert_eq!(compacted, replayed);
    assert!(replayed.snapshot_records().len() < log.len() + 1);
    // The bytes: framed, checksummed, a torn tail is not a record, a flipped byte is refused.
    let mut bytes = Vec::new();
    encode_batch_into(&log[..3], &mut bytes).unwrap();
    let first = bytes.len();
    encode_batch_into(&log[3..], &mut bytes).unwrap();
    let (state, valid) = replay(None, &bytes).unwrap();
    assert_eq!((state, valid), (replayed, bytes.len()));
    let (batches, valid) = decode_log(&bytes[..bytes.len() - 1]).unwrap();
    assert_eq!((batches.len(), valid), (1, first));
    let mut bad = bytes.clone();
    bad[first + 12] ^= 1;
    let err = decode_log(&bad).unwrap_err();
    assert_eq!(err.offset, first as u64);
    assert_eq!(
        err.to_string(),
        alloc::format!("corrupt at byte {first}: checksum mismatch")
    );
}

#[test]
fn a_recovered_agent_reregisters_with_its_tasks_and_resends_unacknowledged_updates() {
    let (_, log) = busy_agent();
    let state = CheckpointState::from_records(log).unwrap();
    let t0 = Instant::from_millis(100_000);
    let mut a = Agent::recover(AgentConfig::new(info(), 2), t0, state);
    assert_eq!(a.id(), Some(&AgentId::from("c-S0")));
    assert!(
        a.poll_checkpoint().is_none(),
        "nothing changed, nothing to write"
    );
    a.handle_timeout(t0, wall());
    assert!(drain(&mut a).contains(&AgentOutput::ConnectMaster));
    a.handle_master_connected(t0);
    let out = drain(&mut a);
    let tasks = out
        .iter()
        .find_map(|o| match o {
            AgentOutput::ToMaster(AgentToMaster::Reregister { id, tasks, .. }) => {
                assert_eq!(id.as_str(), "c-S0");
                Some(tasks.clone())
            }
            _ => None,
        })
        .expect("re-registration with the old id, without waiting for executors");
    let states: Vec<(String, TaskState)> = tasks
        .iter()
        .map(|t| (t.task_id.to_string(), t.state))
        .collect();
    assert_eq!(
        states,
        vec![
            ("t1".to_string(), TaskState::Running),
            ("t2".to_string(), TaskState::Staging)
        ]
    );
    assert!(
        sent_updates(&out).is_empty(),
        "updates wait for re-registration"
    );
    a.handle_master_message(
        t0,
        wall(),
        MasterToAgent::Reregistered {
            id: AgentId::from("c-S0"),
        },
    );
    assert_eq!(
        sent_updates(&drain(&mut a)),
        vec![(TaskState::Running, TaskState::Running)]
    );
    // Executor t1 subscribes again within the timeout, resending its update (already
    // accepted before the restart) and a new one; only the new one is queued, both acknowledged.
    let (f, e1, _) = ids();
    a.handle_executor_subscribe_with(
        t0,
        wall(),
        ExecutorStream(7),
        &f,
        &e1,
        &[],
        vec![
            status("t1", TaskState::Running, 1),
            status("t1", TaskState::Finished, 2),
        ],
    )
    .unwrap();
    let out = drain(&mut a);
    assert_eq!(acknowledged(&out), vec![[1; 16], [2; 16]]);
    assert!(launches(&out).is_empty(), "t1 is with its executor");
    ack_from_master(&mut a, t0, "t1", 1);
    assert_eq!(
        sent_updates(&drain(&mut a)),
        vec![(TaskState::Finished, TaskState::Finished)]
    );
    // Executor t2 never comes back: at the deadline its task is lost and its pid killed.
    let late = t0 + Duration::from_secs(2);
    assert!(a.poll_timeout() <= Some(late));
    a.handle_timeout(late, wall());
    let out = drain(&mut a);
    let lost: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            AgentOutput::ToMaster(AgentToMaster::StatusUpdate(u))
                if u.status.task_id.as_str() == "t2" =>
            {
                Some((
                    u.status.task_id.to_string(),
                    u.status.state,
                    u.status.reason,
                ))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        lost,
        vec![(
            "t2".to_string(),
            TaskState::Lost,
            Some(crate::wire::StatusReason::ExecutorReregistrationTimeout)
        )]
    );
    assert!(out
        .iter()
        .any(|o| matches!(o, AgentOutput::KillContainer { force: true, .. })));
    let view = a
        .executors()
        .find(|e| e.executor_id.as_str() == "t2")
        .unwrap();
    assert_eq!(view.pid, Some(42));
}

#[test]
fn a_task_whose_launch_was_lost_with_the_agent_is_delivered_again() {
    let (_, log) = busy_agent();
    let state = CheckpointState::from_records(log).unwrap();
    let mut a = Agent::recover(AgentConfig::new(info(), 2), Instant::ZERO, state);
    drain(&mut a);
    let (f, _, e2) = ids();
    // Executor t2 subscribes for the first time after the restart: it holds nothing.
    a.handle_executor_subscribe_with(
        Instant::ZERO,
        wall(),
        ExecutorStream(3),
        &f,
        &e2,
        &[],
        vec![],
    )
    .unwrap();
    assert_eq!(launches(&drain(&mut a)), vec!["t2".to_string()]);
    // Had it listed the task as received, it would not get it twice.
    let (_, log) = busy_agent();
    let state = CheckpointState::from_records(log).unwrap();
    let mut a = Agent::recover(AgentConfig::new(info(), 2), Instant::ZERO, state);
    drain(&mut a);
    a.handle_executor_subscribe_with(
        Instant::ZERO,
        wall(),
        ExecutorStream(3),
        &f,
        &e2,
        &[TaskId::from("t2")],
        vec![],
    )
    .unwrap();
    assert!(launches(&drain(&mut a)).is_empty());
}

#[test]
fn a_changed_info_is_checkpointed_again_on_recovery() {
    let (_, log) = busy_agent();
    let state = CheckpointState::from_records(log).unwrap();
    let mut more = info();
    more.resources = Resources::parse("cpus:4;mem:1024").unwrap();
    let mut a = Agent::recover(AgentConfig::new(more.clone(), 2), Instant::ZERO, state);
    let batch = a.poll_checkpoint().expect("the new identity").clone();
    assert_eq!(
        batch.records,
        vec![Record::Identity {
            id: AgentId::from("c-S0"),
            info: more
        }]
    );
}

/// The updates the agent sends the master, with their task and state.
fn updates_sent(out: &[AgentOutput]) -> Vec<(String, TaskState, Option<StatusReason>)> {
    out.iter()
        .filter_map(|o| match o {
            AgentOutput::ToMaster(AgentToMaster::StatusUpdate(u)) => Some((
                u.status.task_id.to_string(),
                u.status.state,
                u.status.reason,
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn cleanup_kills_every_recovered_executor_reports_its_tasks_lost_and_finishes() {
    let (_, log) = busy_agent();
    let state = CheckpointState::from_records(log).unwrap();
    let t0 = Instant::from_millis(100_000);
    let mut a = Agent::recover(AgentConfig::new(info(), 2), t0, state);
    a.handle_timeout(t0, wall());
    a.handle_master_connected(t0);
    a.handle_master_message(
        t0,
        wall(),
        MasterToAgent::Reregistered {
            id: AgentId::from("c-S0"),
        },
    );
    drain(&mut a);
    a.begin_teardown(t0, wall(), Teardown::Cleanup);
    assert_eq!(a.teardown(), Some(Teardown::Cleanup));
    let out = drain(&mut a);
    // t2 has a pid: it is killed at once; t1 has none: it is over at once.
    let killed: Vec<&ContainerId> = out
        .iter()
        .filter_map(|o| match o {
            AgentOutput::KillContainer {
                container_id,
                force: true,
            } => Some(container_id),
            _ => None,
        })
        .collect();
    assert_eq!(killed.len(), 1, "{out:?}");
    assert!(!out.contains(&AgentOutput::Finished), "t2 is still running");
    // A task the master sends now is not started.
    a.handle_master_message(
        t0,
        wall(),
        MasterToAgent::RunTask {
            framework: framework(),
            task: alloc::boxed::Box::new(task("t3")),
        },
    );
    assert!(drain(&mut a)
        .iter()
        .all(|o| !matches!(o, AgentOutput::LaunchExecutor { .. })));
    let container = killed[0].clone();
    a.handle_container_exited(t0, wall(), &container, -1);
    let out = drain(&mut a);
    assert!(
        !out.contains(&AgentOutput::Finished),
        "updates unacknowledged"
    );
    // The unacknowledged RUNNING of t1 heads its stream; LOST follows once it is acknowledged.
    ack_from_master(&mut a, t0, "t1", 1);
    let mut sent = updates_sent(&out);
    sent.extend(updates_sent(&drain(&mut a)));
    assert!(
        sent.contains(&(
            "t1".into(),
            TaskState::Lost,
            Some(StatusReason::AgentRestarted)
        )),
        "{sent:?}"
    );
    // Unacknowledged updates hold the exit back only for a while.
    let poll = a.poll_timeout().expect("a deadline");
    a.handle_timeout(
        poll.max(t0 + TEARDOWN_ACK_WAIT + Duration::from_secs(60)),
        wall(),
    );
    let out = drain(&mut a);
    assert_eq!(out.last(), Some(&AgentOutput::Finished), "{out:?}");
    assert!(
        !out.contains(&AgentOutput::ToMaster(AgentToMaster::Unregister)),
        "cleanup keeps the agent registered"
    );
}

#[test]
fn shutdown_asks_executors_to_shut_down_then_unregisters_and_finishes() {
    let (mut a, _) = busy_agent();
    a.begin_teardown(Instant::ZERO, wall(), Teardown::Shutdown);
    let out = drain(&mut a);
    assert!(
        out.iter().any(|o| matches!(
            o,
            AgentOutput::ToExecutor {
                event: ExecutorEvent::Shutdown,
                ..
            }
        )),
        "{out:?}"
    );
    assert!(!out.contains(&AgentOutput::Finished));
    let containers: Vec<ContainerId> = a.executors().map(|e| e.container_id.clone()).collect();
    for c in &containers {
        a.handle_container_exited(Instant::ZERO, wall(), c, 9);
    }
    drain(&mut a);
    let late = Instant::ZERO + TEARDOWN_ACK_WAIT + Duration::from_secs(60);
    a.handle_timeout(late, wall());
    let out = drain(&mut a);
    let n = out.len();
    assert!(n >= 2, "{out:?}");
    assert_eq!(
        &out[n - 2..],
        &[
            AgentOutput::ToMaster(AgentToMaster::Unregister),
            AgentOutput::Finished
        ]
    );
}

#[test]
fn an_update_after_a_task_ended_is_acknowledged_and_dropped() {
    let mut a = registered();
    run(&mut a, "t1");
    let (f, e, _) = ids();
    a.handle_executor_subscribe(Instant::ZERO, ExecutorStream(1), &f, &e)
        .unwrap();
    drain(&mut a);
    a.handle_executor_update(
        Instant::ZERO,
        wall(),
        &f,
        &e,
        status("t1", TaskState::Finished, 1),
    )
    .unwrap();
    let out = drain(&mut a);
    assert_eq!(
        sent_updates(&out),
        vec![(TaskState::Finished, TaskState::Finished)]
    );
    a.handle_executor_update(
        Instant::ZERO,
        wall(),
        &f,
        &e,
        status("t1", TaskState::Failed, 2),
    )
    .unwrap();
    let out = drain(&mut a);
    assert_eq!(
        acknowledged(&out),
        vec![[2; 16]],
        "the executor may forget it"
    );
    assert!(sent_updates(&out).is_empty(), "a task ends once: {out:?}");
    assert!(out
        .iter()
        .any(|o| matches!(o, AgentOutput::Log(l) if l.contains("already ended as TASK_FINISHED"))));
}

#[test]
fn the_start_follows_the_policy_and_the_reboot_rule() {
    use crate::agent::reconfiguration::ReconfigurationPolicy::{Additive, Equal};
    use crate::agent::{start_from, StartFrom};
    let (_, log) = busy_agent();
    let state = CheckpointState::from_records(log).unwrap();
    let same = info();
    let mut grown = info();
    grown.resources = Resources::parse("cpus:64;mem:1024000").unwrap();
    let empty = CheckpointState::default();
    let (b1, b2) = (Some("boot-1"), Some("boot-2"));
    assert!(matches!(
        start_from(&empty, &grown, Equal, b2, b1),
        StartFrom::New
    ));
    assert!(matches!(
        start_from(&state, &same, Equal, b1, b1),
        StartFrom::Checkpoint { rebooted: false }
    ));
    assert!(matches!(
        start_from(&state, &same, Equal, b2, b1),
        StartFrom::Checkpoint { rebooted: true }
    ));
    // A boot id that cannot be read is not a reboot.
    assert!(matches!(
        start_from(&state, &same, Equal, None, b1),
        StartFrom::Checkpoint { rebooted: false }
    ));
    assert!(matches!(
        start_from(&state, &grown, Additive, b1, b1),
        StartFrom::Checkpoint { rebooted: false }
    ));
    match start_from(&state, &grown, Equal, b1, b1) {
        StartFrom::Refuse(r) => assert!(r.to_string().contains("cpus"), "{r}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(matches!(
        start_from(&state, &grown, Equal, b2, b1),
        StartFrom::DiscardAfterReboot(_)
    ));
}
