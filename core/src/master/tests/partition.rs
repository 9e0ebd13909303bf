//! Unit tests of partitions: ping timeouts mark agents unreachable once durable, their tasks
//! are reported and kept, an unreachable agent comes back with its tasks, the re-registration
//! deadline after a restart (with its removal limit), registry GC and MARK_AGENT_GONE.

use super::*;
use crate::ids::ExecutorId;
use crate::registry::{apply, AgentRecord, Op};
use crate::wire::{FrameworkRecord, StatusReason, TaskReport};

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

fn subscribe_aware(f: &mut Fixture, stream: u64, partition_aware: bool) -> (FrameworkId, String) {
    let spec = FrameworkSpec {
        id: None,
        name: "fw".to_string(),
        user: "u".to_string(),
        role: Role::from("*"),
        failover_timeout: Duration::from_secs(3600),
        checkpoint: true,
        hostname: None,
        principal: None,
        capabilities: FrameworkCapabilities {
            partition_aware,
            ..FrameworkCapabilities::default()
        },
        roles: Vec::new(),
    };
    let s =
        f.m.handle_subscribe(f.now, wall(), StreamId(stream), spec)
            .unwrap();
    f.pump();
    (s.framework_id, s.stream_token)
}

/// An agent on conn 1 running `t1` of a PARTITION_AWARE framework and `t2` of a plain one.
struct Cluster {
    f: Fixture,
    agent: AgentId,
    aware: (FrameworkId, String),
    plain: (FrameworkId, String),
}

impl Cluster {
    fn new() -> Cluster {
        let mut f = Fixture::new();
        let agent = f.register(1, 5051);
        let aware = subscribe_aware(&mut f, 10, true);
        let plain = subscribe_aware(&mut f, 11, false);
        for ((fid, token), task) in [(&aware, "t1"), (&plain, "t2")] {
            let offers = f.allocate();
            let offer = offers.iter().find(|o| &o.framework_id == fid).unwrap();
            f.call(
                fid,
                token,
                SchedulerCall::Accept {
                    offer_ids: vec![offer.id.clone()],
                    operations: vec![launch(task, &agent, "cpus:0.5;mem:128")],
                    refuse: Some(Duration::ZERO),
                },
            )
            .unwrap();
            let mut u = status(task, TaskState::Running, 1);
            u.framework_id = fid.clone();
            f.m.handle_agent_message(f.now, wall(), ConnId(1), AgentToMaster::StatusUpdate(u));
            f.pump();
        }
        assert_eq!(f.m.tasks().count(), 2);
        Cluster {
            f,
            agent,
            aware,
            plain,
        }
    }

    /// Runs the timers for `secs` seconds without the agent answering; returns every output.
    fn silence(&mut self, secs: u64) -> Vec<MasterOutput> {
        let mut out = Vec::new();
        for _ in 0..secs {
            self.f.now = self.f.now + Duration::from_secs(1);
            self.f.m.handle_timeout(self.f.now, wall());
            out.extend(self.f.pump());
        }
        out
    }

    fn reports(&self) -> (Vec<FrameworkRecord>, Vec<TaskReport>) {
        let mut frameworks = Vec::new();
        let mut tasks = Vec::new();
        for ((fid, _), task) in [(&self.aware, "t1"), (&self.plain, "t2")] {
            frameworks.push(FrameworkRecord {
                id: fid.clone(),
                name: "fw".to_string(),
                user: "u".to_string(),
                checkpoint: true,
                role: Role::from("*"),
            });
            tasks.push(TaskReport {
                framework_id: fid.clone(),
                executor_id: ExecutorId::from(task),
                task_id: TaskId::from(task),
                name: task.to_string(),
                state: TaskState::Running,
                resources: Resources::parse("cpus:0.5;mem:128").unwrap(),
                role: None,
            });
        }
        (frameworks, tasks)
    }

    fn reregister(&mut self, conn: u64) -> Vec<MasterOutput> {
        let (frameworks, tasks) = self.reports();
        let info = self.f.agent_info(5051);
        self.f.m.handle_agent_message(
            self.f.now,
            wall(),
            ConnId(conn),
            AgentToMaster::Reregister {
                id: self.agent.clone(),
                info,
                checkpointed: crate::resources::Resources::new(),
                frameworks,
                tasks,
            },
        );
        self.f.pump()
    }
}

fn wrote(f: &Fixture, pred: impl Fn(&Op) -> bool) -> bool {
    f.disk.iter().any(|e| e.ops.iter().any(&pred))
}

#[test]
fn ping_timeouts_mark_the_agent_unreachable_only_once_durable() {
    let mut c = Cluster::new();
    // 15 s x 5 pings: still registered after 70 s of silence.
    let early = c.silence(70);
    assert!(early.iter().any(|o| matches!(
        o,
        MasterOutput::ToAgent {
            msg: MasterToAgent::Ping { .. },
            ..
        }
    )));
    assert!(c.f.m.agent(&c.agent).is_some());
    c.f.auto_persist = false;
    let before = c.silence(20);
    assert!(
        c.f.pending.as_ref().is_some_and(|e| e
            .ops
            .iter()
            .any(|op| matches!(op, Op::MarkUnreachable { id, .. } if id == &c.agent))),
        "MarkUnreachable is written"
    );
    assert!(updates(&before).is_empty(), "nothing before durable");
    assert!(!before
        .iter()
        .any(|o| matches!(o, MasterOutput::CloseAgent { .. })));
    // Offers stopped at once, though.
    assert_eq!(c.f.m.offers().count(), 0);
    let out = c.f.persist();
    let ups = updates(&out);
    let t1 = ups.iter().find(|s| s.task_id.as_str() == "t1").unwrap();
    let t2 = ups.iter().find(|s| s.task_id.as_str() == "t2").unwrap();
    assert_eq!(t1.state, TaskState::Unreachable);
    assert_eq!(t2.state, TaskState::Lost);
    for s in [t1, t2] {
        assert_eq!(s.reason, Some(StatusReason::AgentRemoved));
        assert_eq!(s.source, crate::wire::StatusSource::Master);
        assert!(s.uuid.is_none(), "master updates are not acknowledged");
    }
    assert!(t1.unreachable_time.is_some());
    assert!(out
        .iter()
        .any(|o| matches!(o, MasterOutput::CloseAgent { conn: ConnId(1) })));
    assert!(out.iter().any(|o| matches!(
        o,
        MasterOutput::ToFramework {
            event: SchedulerEvent::Failure {
                executor_id: None,
                ..
            },
            ..
        }
    )));
    assert!(c.f.m.agent(&c.agent).is_none());
    assert!(c
        .f
        .m
        .registry()
        .unreachable
        .iter()
        .any(|(u, _)| u == &c.agent));
    assert_eq!(c.f.m.tasks().count(), 0);
    let kept: Vec<(String, TaskState)> =
        c.f.m
            .unreachable_tasks()
            .map(|(t, _)| (t.task_id.to_string(), t.state))
            .collect();
    assert_eq!(
        kept,
        vec![
            ("t1".to_string(), TaskState::Unreachable),
            ("t2".to_string(), TaskState::Lost)
        ]
    );
    // Explicit reconciliation answers from the kept tasks (reference §7.4 case 5).
    for ((fid, token), task, want) in [
        (&c.aware, "t1", TaskState::Unreachable),
        (&c.plain, "t2", TaskState::Lost),
    ] {
        let out =
            c.f.call(
                fid,
                token,
                SchedulerCall::Reconcile {
                    tasks: vec![(TaskId::from(task), Some(c.agent.clone()))],
                },
            )
            .unwrap();
        let ups = updates(&out);
        assert_eq!(ups.len(), 1);
        assert_eq!(ups[0].state, want);
        assert_eq!(ups[0].reason, Some(StatusReason::Reconciliation));
        assert_eq!(
            ups[0].unreachable_time.is_some(),
            want == TaskState::Unreachable
        );
    }
}

#[test]
fn an_unreachable_agent_reregisters_and_its_tasks_run_again_without_a_kill() {
    let mut c = Cluster::new();
    c.silence(100);
    assert!(c.f.m.agent(&c.agent).is_none());
    c.f.auto_persist = false;
    let before = c.reregister(2);
    assert!(
        !before.iter().any(|o| matches!(
            o,
            MasterOutput::ToAgent {
                msg: MasterToAgent::Reregistered { .. },
                ..
            }
        )),
        "nothing before MarkReachable is durable"
    );
    assert!(c.f.pending.as_ref().is_some_and(|e| e
        .ops
        .iter()
        .any(|op| matches!(op, Op::MarkReachable { id, .. } if id == &c.agent))));
    let out = c.f.persist();
    assert!(out.iter().any(|o| matches!(
        o,
        MasterOutput::ToAgent {
            conn: ConnId(2),
            msg: MasterToAgent::Reregistered { id }
        } if id == &c.agent
    )));
    // Nothing is killed or shut down, for either framework (Mesos 1.5).
    assert!(!out.iter().any(|o| matches!(
        o,
        MasterOutput::ToAgent {
            msg: MasterToAgent::KillTask { .. } | MasterToAgent::ShutdownFramework { .. },
            ..
        }
    )));
    let ups = updates(&out);
    let mut back: Vec<(String, TaskState)> = ups
        .iter()
        .map(|s| (s.task_id.to_string(), s.state))
        .collect();
    back.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        back,
        vec![
            ("t1".to_string(), TaskState::Running),
            ("t2".to_string(), TaskState::Running)
        ]
    );
    assert!(c.f.m.registry().admitted_agent(&c.agent).is_some());
    assert!(c.f.m.registry().unreachable.is_empty());
    assert_eq!(c.f.m.unreachable_tasks().count(), 0);
    assert!(c.f.m.tasks().all(|t| t.state == TaskState::Running));
    assert_eq!(c.f.m.tasks().count(), 2);
    let view = c.f.m.agent(&c.agent).unwrap();
    assert!(view.active);
    assert_eq!(
        view.allocated,
        Resources::parse("cpus:1;mem:256").unwrap(),
        "the recovered tasks hold their resources again"
    );
    // Offers resume for what is left.
    let offers = c.f.allocate();
    assert!(!offers.is_empty());
}

#[test]
fn a_reregistration_while_the_mark_is_in_flight_is_refused_for_a_retry() {
    let mut c = Cluster::new();
    c.f.auto_persist = false;
    c.silence(90);
    assert!(c.f.pending.is_some());
    let out = c.reregister(2);
    assert!(out.iter().any(|o| matches!(
        o,
        MasterOutput::ToAgent {
            conn: ConnId(2),
            msg: MasterToAgent::Refused {
                forget_id: false,
                ..
            }
        }
    )));
    c.f.persist();
    // The retry finds it unreachable and re-admits it.
    let out = c.reregister(3);
    assert!(out.iter().any(|o| matches!(
        o,
        MasterOutput::ToAgent {
            conn: ConnId(3),
            msg: MasterToAgent::Reregistered { .. }
        }
    )));
}

#[test]
fn an_agent_whose_connection_closed_and_that_stays_away_is_marked_unreachable() {
    let mut c = Cluster::new();
    c.f.m.handle_agent_disconnected(c.f.now, ConnId(1));
    c.f.pump();
    assert!(c.f.m.agent(&c.agent).is_some_and(|a| !a.active));
    c.silence(100);
    assert!(c.f.m.agent(&c.agent).is_none());
    assert!(c
        .f
        .m
        .registry()
        .unreachable
        .iter()
        .any(|(u, _)| u == &c.agent));
    assert_eq!(c.f.m.unreachable_tasks().count(), 2);
}

#[test]
fn marking_an_unreachable_agent_gone_ends_its_tasks_and_the_agent_is_shut_down() {
    let mut c = Cluster::new();
    c.silence(100);
    let ticket =
        c.f.m
            .handle_operator_call(
                c.f.now,
                wall(),
                OperatorCall::MarkAgentGone(c.agent.clone()),
            )
            .unwrap();
    let out = c.f.pump();
    assert_eq!(c.f.m.poll_operator_completion(), Some((ticket, Ok(()))));
    let ups = updates(&out);
    let state = |t: &str| ups.iter().find(|s| s.task_id.as_str() == t).unwrap().state;
    assert_eq!(state("t1"), TaskState::GoneByOperator);
    assert_eq!(state("t2"), TaskState::Lost);
    assert_eq!(c.f.m.unreachable_tasks().count(), 0);
    assert!(c.f.m.registry().gone.iter().any(|(g, _)| g == &c.agent));
    assert!(c.f.m.registry().unreachable.is_empty());
    // It comes back: every framework it reports is shut down and it must forget its id.
    let out = c.reregister(2);
    let shutdowns = out
        .iter()
        .filter(|o| {
            matches!(
                o,
                MasterOutput::ToAgent {
                    conn: ConnId(2),
                    msg: MasterToAgent::ShutdownFramework { .. }
                }
            )
        })
        .count();
    assert_eq!(shutdowns, 2);
    assert!(out.iter().any(|o| matches!(
        o,
        MasterOutput::ToAgent {
            conn: ConnId(2),
            msg: MasterToAgent::Refused {
                forget_id: true,
                ..
            }
        }
    )));
    assert!(c.f.m.agent(&c.agent).is_none());
}

/// A master restarted over a registry with `n` admitted agents (ids `c-S0..`).
fn restarted(n: usize, limit: u32) -> (Fixture, Vec<AgentId>) {
    let mut reg = Registry::new_cluster("c");
    let mut ids = Vec::new();
    for i in 0..n {
        let op = Op::AdmitAgent {
            info: AgentRecord {
                hostname: "a".to_string(),
                ip: "10.0.0.2".to_string(),
                port: 5051 + i as u16,
                resources_text: "cpus:2;mem:1024".to_string(),
                attributes_text: String::new(),
            },
        };
        match apply(&mut reg, &op) {
            Ok(crate::registry::Applied::Admitted { id }) => ids.push(id),
            other => panic!("{other:?}"),
        }
    }
    let mut cfg = MasterConfig::new("m".to_string(), "10.0.0.1".to_string(), 5050, 7);
    cfg.recovery_agent_removal_limit = limit;
    let mut f = Fixture {
        m: Master::new(cfg, reg, T0, wall()),
        now: T0,
        disk: Vec::new(),
        auto_persist: true,
        pending: None,
    };
    f.m.handle_leadership(T0, wall(), Leadership::BecameLeader);
    f.pump();
    (f, ids)
}

/// Runs the timers for `minutes`, the agent on conn 1 answering its pings.
fn run_minutes(f: &mut Fixture, minutes: u64) -> Vec<MasterOutput> {
    let mut out = Vec::new();
    for _ in 0..minutes * 6 {
        f.now = f.now + Duration::from_secs(10);
        f.m.handle_timeout(f.now, wall());
        for o in f.pump() {
            if let MasterOutput::ToAgent {
                conn: ConnId(1),
                msg: MasterToAgent::Ping { seq },
            } = o
            {
                f.m.handle_agent_message(f.now, wall(), ConnId(1), AgentToMaster::Pong { seq });
            }
            out.push(o);
        }
    }
    out
}

#[test]
fn agents_that_do_not_reregister_after_a_restart_are_marked_unreachable() {
    let (mut f, ids) = restarted(4, 10_000);
    let info = f.agent_info(5051);
    f.m.handle_agent_message(
        f.now,
        wall(),
        ConnId(1),
        AgentToMaster::Reregister {
            id: ids[0].clone(),
            info,
            checkpointed: crate::resources::Resources::new(),
            frameworks: Vec::new(),
            tasks: Vec::new(),
        },
    );
    f.pump();
    // Agent 0 answers its pings while the others stay away.
    let mut marked_early = false;
    for _ in 0..9 {
        run_minutes(&mut f, 1);
        marked_early |= !f.m.registry().unreachable.is_empty();
    }
    assert!(!marked_early, "not before --agent-reregister-timeout");
    assert_eq!(f.m.recovered_agent_ids().count(), 3);
    run_minutes(&mut f, 2);
    let mut unreachable: Vec<AgentId> =
        f.m.registry()
            .unreachable
            .iter()
            .map(|(u, _)| u.clone())
            .collect();
    unreachable.sort();
    assert_eq!(unreachable, ids[1..].to_vec());
    assert_eq!(f.m.recovered_agent_ids().count(), 0);
    assert!(f.m.agent(&ids[0]).is_some());
}

#[test]
fn past_the_recovery_removal_limit_stragglers_stay_recovered() {
    // 3 of 4 (75%) did not come back; the limit is 50%.
    let (mut f, _ids) = restarted(4, 5_000);
    let info = f.agent_info(5051);
    f.m.handle_agent_message(
        f.now,
        wall(),
        ConnId(1),
        AgentToMaster::Reregister {
            id: AgentId::from("c-S0"),
            info,
            checkpointed: crate::resources::Resources::new(),
            frameworks: Vec::new(),
            tasks: Vec::new(),
        },
    );
    f.pump();
    let out = run_minutes(&mut f, 11);
    assert!(out.iter().any(|o| matches!(
        o,
        MasterOutput::Log(l) if l.contains("recovery agent removal limit of 50.00%")
    )));
    assert!(!wrote(
        &f,
        |op| matches!(op, Op::MarkUnreachable { id, .. } if id.as_str() != "c-S0")
    ));
    assert_eq!(f.m.recovered_agent_ids().count(), 3);
}

#[test]
fn registry_gc_prunes_old_unreachable_agents_and_their_tasks() {
    let mut c = Cluster::new();
    c.f.m.cfg.registry_max_agent_age = Duration::from_secs(60);
    c.silence(100);
    assert_eq!(c.f.m.unreachable_tasks().count(), 2);
    // The wall clock moves on two hours; the GC runs every 15 minutes.
    let later = WallTime {
        unix_nanos: wall().unix_nanos + 7_200 * 1_000_000_000,
    };
    for _ in 0..(16 * 6) {
        c.f.now = c.f.now + Duration::from_secs(10);
        c.f.m.handle_timeout(c.f.now, later);
        c.f.pump();
    }
    assert!(wrote(&c.f, |op| matches!(op, Op::Prune { .. })));
    assert!(c.f.m.registry().unreachable.is_empty());
    assert_eq!(c.f.m.unreachable_tasks().count(), 0);
}

#[test]
fn registry_gc_writes_nothing_when_nothing_is_old() {
    let mut c = Cluster::new();
    c.silence(100);
    for _ in 0..(31 * 6) {
        c.f.now = c.f.now + Duration::from_secs(10);
        c.f.m.handle_timeout(c.f.now, wall());
        c.f.pump();
    }
    assert!(!wrote(&c.f, |op| matches!(op, Op::Prune { .. })));
    assert_eq!(c.f.m.registry().unreachable.len(), 1);
}
