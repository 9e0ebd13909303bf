//! Unit tests of the agent's part of the scheduler calls: SHUTDOWN of one executor and
//! MESSAGE in both directions.

use super::*;

#[test]
fn shutdown_executor_stops_that_executor_only_and_its_tasks_end_killed() {
    let mut a = registered();
    let c1 = run(&mut a, "t1");
    let _c2 = run(&mut a, "t2");
    let f = FrameworkId::from("f");
    a.handle_executor_subscribe(
        Instant::ZERO,
        ExecutorStream(1),
        &f,
        &ExecutorId::from("t1"),
    )
    .unwrap();
    drain(&mut a);
    a.handle_master_message(
        Instant::ZERO,
        wall(),
        MasterToAgent::ShutdownExecutor {
            framework_id: f.clone(),
            executor_id: ExecutorId::from("t1"),
        },
    );
    let out = drain(&mut a);
    assert!(out.contains(&AgentOutput::ToExecutor {
        stream: ExecutorStream(1),
        event: ExecutorEvent::Shutdown,
    }));
    // The other executor (not subscribed) is untouched.
    assert!(!out
        .iter()
        .any(|o| matches!(o, AgentOutput::KillContainer { .. })));
    // The grace period ends: the container is killed; its exit reports the task KILLED.
    a.handle_timeout(Instant::from_millis(5_000), wall());
    assert!(drain(&mut a).contains(&AgentOutput::KillContainer {
        container_id: c1.clone(),
        force: true,
    }));
    a.handle_container_exited(Instant::from_millis(5_001), wall(), &c1, 9);
    let out = drain(&mut a);
    let killed = out.iter().any(|o| {
        matches!(o, AgentOutput::ToMaster(AgentToMaster::StatusUpdate(u))
            if u.status.task_id.as_str() == "t1" && u.status.state == TaskState::Killed)
    });
    assert!(killed, "{out:?}");
    let states: Vec<(String, ExecutorState)> = a
        .executors()
        .map(|e| (e.executor_id.to_string(), e.state))
        .collect();
    assert!(states
        .iter()
        .any(|(id, s)| id == "t2" && matches!(s, ExecutorState::Launching { .. })));
}

#[test]
fn shutdown_of_an_executor_that_has_not_subscribed_kills_its_queued_task() {
    let mut a = registered();
    let c1 = run(&mut a, "t1");
    a.handle_master_message(
        Instant::ZERO,
        wall(),
        MasterToAgent::ShutdownExecutor {
            framework_id: FrameworkId::from("f"),
            executor_id: ExecutorId::from("t1"),
        },
    );
    let out = drain(&mut a);
    assert_eq!(
        sent_updates(&out),
        vec![(TaskState::Killed, TaskState::Killed)]
    );
    assert!(out.contains(&AgentOutput::KillContainer {
        container_id: c1,
        force: false,
    }));
}

#[test]
fn messages_flow_between_scheduler_and_executor() {
    let mut a = registered();
    run(&mut a, "t1");
    let (f, e) = (FrameworkId::from("f"), ExecutorId::from("t1"));
    // Before the executor subscribes a message has nowhere to go: dropped with a log line.
    a.handle_master_message(
        Instant::ZERO,
        wall(),
        MasterToAgent::FrameworkMessage {
            framework_id: f.clone(),
            executor_id: e.clone(),
            data: b"early".to_vec(),
        },
    );
    let out = drain(&mut a);
    assert!(matches!(&out[..], [AgentOutput::Log(_)]), "{out:?}");
    assert_eq!(
        a.handle_executor_message(&f, &e, b"x".to_vec()),
        Err(ExecutorCallError::NotSubscribed)
    );
    a.handle_executor_subscribe(Instant::ZERO, ExecutorStream(1), &f, &e)
        .unwrap();
    drain(&mut a);
    a.handle_master_message(
        Instant::ZERO,
        wall(),
        MasterToAgent::FrameworkMessage {
            framework_id: f.clone(),
            executor_id: e.clone(),
            data: b"hello".to_vec(),
        },
    );
    assert_eq!(
        drain(&mut a),
        vec![AgentOutput::ToExecutor {
            stream: ExecutorStream(1),
            event: ExecutorEvent::Message(b"hello".to_vec()),
        }]
    );
    a.handle_executor_message(&f, &e, b"back".to_vec()).unwrap();
    assert_eq!(
        drain(&mut a),
        vec![AgentOutput::ToMaster(AgentToMaster::ExecutorMessage {
            framework_id: f.clone(),
            executor_id: e.clone(),
            data: b"back".to_vec(),
        })]
    );
    assert_eq!(
        a.handle_executor_message(&f, &ExecutorId::from("nope"), Vec::new()),
        Err(ExecutorCallError::UnknownExecutor)
    );
}
