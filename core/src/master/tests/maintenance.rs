//! Unit tests of maintenance: the schedule and START/STOP_MAINTENANCE answered once durable,
//! inverse offers once per (framework, agent) and unavailability, the answers in the status, and
//! DOWN machines whose agents are removed and refused.

use super::*;
use crate::registry::{MachineId, MachineMode, MaintenanceWindow, Unavailability};
use crate::wire::StatusReason;

/// Runs an operator call to its answer; returns the answer and the outputs.
fn operate(f: &mut Fixture, c: OperatorCall) -> (Result<(), OperatorError>, Vec<MasterOutput>) {
    let ticket = match f.m.handle_operator_call(f.now, wall(), c) {
        Ok(t) => t,
        Err(e) => return (Err(e), Vec::new()),
    };
    let out = f.pump();
    match f.m.poll_operator_completion() {
        Some((t, result)) if t == ticket => (result, out),
        other => panic!("expected the answer to {ticket:?}, got {other:?}"),
    }
}

/// The fixture's agents all announce hostname "a" and IP 10.0.0.2.
fn machine_a() -> MachineId {
    MachineId::new("a", "10.0.0.2")
}

fn schedule(start: i64) -> OperatorCall {
    OperatorCall::UpdateMaintenanceSchedule(vec![MaintenanceWindow {
        machines: vec![machine_a()],
        unavailability: Unavailability {
            start_nanos: start,
            duration_nanos: None,
        },
    }])
}

fn inverse_offers(out: &[MasterOutput]) -> Vec<InverseOfferRecord> {
    out.iter()
        .flat_map(|o| match o {
            MasterOutput::ToFramework {
                stream: StreamId(10),
                event: SchedulerEvent::InverseOffers(v),
            } => v.clone(),
            _ => Vec::new(),
        })
        .collect()
}

/// Advances past one tick and returns the outputs.
fn tick(f: &mut Fixture) -> Vec<MasterOutput> {
    f.now = f.now + Duration::from_secs(2);
    f.m.handle_timeout(f.now, wall());
    f.pump()
}

/// An agent with task t1 of a subscribed framework (stream 10).
fn running() -> (Fixture, AgentId, FrameworkId, String) {
    let mut f = Fixture::new();
    let agent = f.register(1, 5051);
    let (fid, token) = f.subscribe(10, Duration::ZERO);
    let offers = f.allocate();
    f.call(
        &fid,
        &token,
        SchedulerCall::Accept {
            offer_ids: vec![offers[0].id.clone()],
            operations: vec![launch("t1", &agent, "cpus:1;mem:128")],
            refuse: None,
        },
    )
    .unwrap();
    (f, agent, fid, token)
}

#[test]
fn a_draining_agent_brings_one_inverse_offer_per_schedule_and_its_answer_is_shown() {
    let (mut f, agent, fid, token) = running();
    f.auto_persist = false;
    let ticket =
        f.m.handle_operator_call(f.now, wall(), schedule(100))
            .unwrap();
    let before = f.pump();
    assert!(inverse_offers(&before).is_empty(), "nothing before durable");
    assert_eq!(f.m.poll_operator_completion(), None);
    let out = f.persist();
    assert_eq!(f.m.poll_operator_completion(), Some((ticket, Ok(()))));
    let sent = inverse_offers(&out);
    assert_eq!(sent.len(), 1, "{out:?}");
    assert_eq!((&sent[0].agent_id, &sent[0].framework_id), (&agent, &fid));
    assert_eq!(sent[0].unavailability.start_nanos, 100);
    assert!(inverse_offers(&tick(&mut f)).is_empty(), "asked once");
    let status = f.m.maintenance_status();
    assert_eq!(status.draining.len(), 1);
    assert_eq!(status.draining[0].1[0].status, InverseOfferAnswer::Unknown);
    // A DRAINING agent is still offered.
    assert!((0..4).any(|_| !f.allocate().is_empty()));

    f.call(
        &fid,
        &token,
        SchedulerCall::DeclineInverseOffers {
            inverse_offer_ids: vec![sent[0].id.clone()],
            refuse: None,
        },
    )
    .unwrap();
    let status = f.m.maintenance_status();
    assert_eq!(
        (status.draining[0].0.clone(), status.draining[0].1[0].status),
        (machine_a(), InverseOfferAnswer::Decline)
    );
    assert_eq!(f.m.inverse_offers().count(), 0);

    // A new unavailability asks again; an outstanding inverse offer is rescinded first.
    let (r, out) = operate(&mut f, schedule(200));
    assert_eq!(r, Ok(()));
    let again = inverse_offers(&out);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].unavailability.start_nanos, 200);
    let (r, out) = operate(&mut f, schedule(300));
    assert_eq!(r, Ok(()));
    assert!(out.iter().any(|o| matches!(o, MasterOutput::ToFramework { event: SchedulerEvent::RescindInverseOffer(id), .. } if *id == again[0].id)));
    assert_eq!(
        f.m.maintenance_status().draining[0].1[0].status,
        InverseOfferAnswer::Unknown
    );
    // An empty schedule cancels it: the outstanding inverse offer is rescinded.
    let (r, out) = operate(&mut f, OperatorCall::UpdateMaintenanceSchedule(Vec::new()));
    assert_eq!(r, Ok(()));
    assert!(out.iter().any(|o| matches!(
        o,
        MasterOutput::ToFramework {
            event: SchedulerEvent::RescindInverseOffer(_),
            ..
        }
    )));
    assert_eq!(f.m.maintenance_status(), MaintenanceStatus::default());
}

#[test]
fn start_maintenance_removes_the_agents_and_refuses_them_until_stop_maintenance() {
    let (mut f, agent, _fid, _token) = running();
    let invalid = |m: &str| Err(OperatorError::Invalid(m.to_string()));
    assert_eq!(
        operate(&mut f, OperatorCall::StartMaintenance(vec![machine_a()])).0,
        invalid(
            r#"Machine '{"hostname":"a","ip":"10.0.0.2"}' is not part of a maintenance schedule"#
        )
    );
    assert_eq!(operate(&mut f, schedule(0)).0, Ok(()));
    assert_eq!(
        operate(&mut f, OperatorCall::StopMaintenance(vec![machine_a()])).0,
        invalid(
            r#"Machine '{"hostname":"a","ip":"10.0.0.2"}' is not in DOWN mode and cannot be brought up"#
        )
    );

    let (r, out) = operate(&mut f, OperatorCall::StartMaintenance(vec![machine_a()]));
    assert_eq!(r, Ok(()));
    assert!(out.iter().any(|o| matches!(
        o,
        MasterOutput::ToAgent {
            conn: ConnId(1),
            msg: MasterToAgent::ShutdownFramework { .. }
        }
    )));
    assert!(out.iter().any(|o| matches!(o, MasterOutput::ToAgent { conn: ConnId(1), msg: MasterToAgent::Refused { reason, forget_id: true } } if reason == MACHINE_DOWN_REASON)));
    // Mesos `removeSlave`: the task is lost with REASON_SLAVE_REMOVED and a FAILURE follows.
    let lost = out.iter().find_map(|o| match o {
        MasterOutput::ToFramework {
            event: SchedulerEvent::Update(s),
            ..
        } => Some(s.clone()),
        _ => None,
    });
    let lost = lost.expect("an update for t1");
    assert_eq!(
        (lost.task_id.as_str(), lost.state, lost.reason),
        ("t1", TaskState::Lost, Some(StatusReason::AgentRemoved))
    );
    assert!(out.iter().any(|o| matches!(o, MasterOutput::ToFramework { event: SchedulerEvent::Failure { agent_id, executor_id: None, .. }, .. } if *agent_id == agent)));
    assert!(f.m.registry().admitted.is_empty(), "the agent is removed");
    assert_eq!(f.m.maintenance_status().down, vec![machine_a()]);
    assert_eq!(
        f.m.registry().machine_mode("a", "10.0.0.2"),
        MachineMode::Down
    );
    for _ in 0..3 {
        assert!(f.allocate().is_empty(), "no offers from a DOWN machine");
    }

    // The agent comes back (afresh, and with its old id): refused, nothing written.
    let writes = f.disk.len();
    let info = f.agent_info(5051);
    f.m.handle_agent_message(
        f.now,
        wall(),
        ConnId(2),
        AgentToMaster::Register {
            info: info.clone(),
            checkpointed: Resources::new(),
        },
    );
    let out = f.pump();
    assert!(
        out.iter().any(|o| matches!(
            o,
            MasterOutput::ToAgent {
                conn: ConnId(2),
                msg: MasterToAgent::Refused { .. }
            }
        )),
        "{out:?}"
    );
    f.m.handle_agent_message(
        f.now,
        wall(),
        ConnId(3),
        AgentToMaster::Reregister {
            id: agent.clone(),
            info,
            checkpointed: Resources::new(),
            frameworks: Vec::new(),
            tasks: Vec::new(),
        },
    );
    let out = f.pump();
    assert!(
        out.iter().any(|o| matches!(
            o,
            MasterOutput::ToAgent {
                conn: ConnId(3),
                msg: MasterToAgent::Refused { .. }
            }
        )),
        "{out:?}"
    );
    assert_eq!(f.disk.len(), writes);
    // A schedule that leaves the DOWN machine out is refused.
    assert_eq!(
        operate(&mut f, OperatorCall::UpdateMaintenanceSchedule(Vec::new())).0,
        invalid(
            r#"Machine '{"hostname":"a","ip":"10.0.0.2"}' is deactivated and cannot be removed from the schedule"#
        )
    );

    assert_eq!(
        operate(&mut f, OperatorCall::StopMaintenance(vec![machine_a()])).0,
        Ok(())
    );
    assert!(f.m.registry().maintenance.is_empty());
    let back = f.register(4, 5051);
    assert_ne!(back, agent, "it registers as a new agent");
    assert!(
        f.allocate().iter().any(|o| o.agent_id == back),
        "offers again"
    );
}
