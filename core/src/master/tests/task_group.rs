//! Unit tests of LAUNCH_GROUP in the master: a group launches whole under one default executor,
//! or every task of it gets `TASK_ERROR` with `REASON_TASK_GROUP_INVALID` and nothing is used.

use super::*;
use crate::ids::ExecutorId;
use crate::master::GroupLaunch;
use crate::wire::StatusReason;

fn group_task(task: &str, agent: &AgentId, resources: &str) -> TaskLaunch {
    match launch(task, agent, resources) {
        Operation::Launch(mut tasks) => tasks.remove(0),
        _ => unreachable!("launch() builds a LAUNCH"),
    }
}

fn group(tasks: Vec<TaskLaunch>, executor_resources: &str) -> Operation {
    Operation::LaunchGroup(GroupLaunch {
        executor_id: ExecutorId::from("pod"),
        executor_name: "pod executor".to_string(),
        executor_resources: Resources::parse(executor_resources).unwrap(),
        tasks,
        invalid: None,
    })
}

fn accept(
    f: &mut Fixture,
    fid: &FrameworkId,
    token: &str,
    offer: &OfferRecord,
    op: Operation,
) -> Vec<MasterOutput> {
    f.call(
        fid,
        token,
        SchedulerCall::Accept {
            offer_ids: vec![offer.id.clone()],
            operations: vec![op],
            refuse: Some(Duration::ZERO),
        },
    )
    .unwrap()
}

fn errors(out: &[MasterOutput]) -> Vec<(String, TaskState, Option<StatusReason>)> {
    out.iter()
        .filter_map(|o| match o {
            MasterOutput::ToFramework {
                event: SchedulerEvent::Update(s),
                ..
            } => Some((s.task_id.to_string(), s.state, s.reason)),
            _ => None,
        })
        .collect()
}

fn group_messages(out: &[MasterOutput]) -> usize {
    out.iter()
        .filter(|o| {
            matches!(
                o,
                MasterOutput::ToAgent {
                    msg: MasterToAgent::RunTaskGroup { .. } | MasterToAgent::RunTask { .. },
                    ..
                }
            )
        })
        .count()
}

fn offered_cpus(f: &mut Fixture) -> i64 {
    f.allocate()
        .iter()
        .map(|o| o.resources.scalar("cpus").milli())
        .sum()
}

#[test]
fn a_valid_group_goes_to_the_agent_whole_under_one_default_executor() {
    let mut f = Fixture::new();
    let agent = f.register(1, 5051);
    let (fid, token) = f.subscribe(10, Duration::ZERO);
    let offers = f.allocate();
    let op = group(
        vec![
            group_task("a", &agent, "cpus:0.5;mem:64"),
            group_task("b", &agent, "cpus:0.5;mem:64"),
        ],
        "cpus:0.1;mem:32",
    );
    let out = accept(&mut f, &fid, &token, &offers[0], op);
    assert!(errors(&out).is_empty(), "{:?}", errors(&out));
    let (executor, tasks) = out
        .iter()
        .find_map(|o| match o {
            MasterOutput::ToAgent {
                conn: ConnId(1),
                msg:
                    MasterToAgent::RunTaskGroup {
                        executor, tasks, ..
                    },
            } => Some((executor.clone(), tasks.clone())),
            _ => None,
        })
        .expect("one RunTaskGroup");
    assert_eq!(group_messages(&out), 1);
    assert_eq!(executor.executor_id.as_str(), "pod");
    assert_eq!(
        executor.command, None,
        "the default executor is mesolite's own"
    );
    let ids: Vec<&str> = tasks.iter().map(|t| t.task_id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert!(tasks.iter().all(|t| t.executor == *executor));
    assert_eq!(f.m.tasks().count(), 2);
    // Both tasks and the executor hold their resources: 2 - 1.1 cpus are offered again.
    let offers = f.allocate();
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].resources.scalar("cpus").milli(), 900);

    // A second group into the same running executor does not pay for it again.
    let op = Operation::LaunchGroup(GroupLaunch {
        tasks: vec![group_task("c", &agent, "cpus:0.9")],
        ..match group(Vec::new(), "cpus:0.1") {
            Operation::LaunchGroup(g) => g,
            _ => unreachable!(),
        }
    });
    let out = accept(&mut f, &fid, &token, &offers[0], op);
    assert!(errors(&out).is_empty(), "{:?}", errors(&out));
    assert_eq!(group_messages(&out), 1);
}

#[test]
fn one_invalid_task_fails_the_whole_group_and_uses_nothing() {
    let mut f = Fixture::new();
    let agent = f.register(1, 5051);
    let (fid, token) = f.subscribe(10, Duration::ZERO);
    let offers = f.allocate();
    let mut bad = group_task("b", &agent, "cpus:0.5");
    bad.invalid = Some("task 'b': health_check (health checks) is not supported".to_string());
    let op = group(vec![group_task("a", &agent, "cpus:0.5"), bad], "cpus:0.1");
    let out = accept(&mut f, &fid, &token, &offers[0], op);
    let errs = errors(&out);
    assert_eq!(
        errs,
        vec![
            (
                "a".to_string(),
                TaskState::Error,
                Some(StatusReason::TaskGroupInvalid)
            ),
            (
                "b".to_string(),
                TaskState::Error,
                Some(StatusReason::TaskGroupInvalid)
            ),
        ]
    );
    assert_eq!(group_messages(&out), 0);
    assert_eq!(f.m.tasks().count(), 0);
    assert_eq!(offered_cpus(&mut f), 2000);
}

#[test]
fn a_group_that_does_not_fit_or_repeats_an_id_fails_whole() {
    let mut f = Fixture::new();
    let agent = f.register(1, 5051);
    let (fid, token) = f.subscribe(10, Duration::ZERO);

    // Each task fits alone; with the executor the group does not.
    let offers = f.allocate();
    let op = group(
        vec![
            group_task("a", &agent, "cpus:1"),
            group_task("b", &agent, "cpus:1"),
        ],
        "cpus:0.1",
    );
    let out = accept(&mut f, &fid, &token, &offers[0], op);
    let errs = errors(&out);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs.iter().all(|e| e.1 == TaskState::Error));
    assert_eq!(group_messages(&out), 0);

    let offers = f.allocate();
    let op = group(
        vec![
            group_task("d", &agent, "cpus:0.1"),
            group_task("d", &agent, "cpus:0.1"),
        ],
        "cpus:0.1",
    );
    let out = accept(&mut f, &fid, &token, &offers[0], op);
    assert_eq!(errors(&out).len(), 2);
    assert_eq!(group_messages(&out), 0);

    // A task with its own executor has no place in a group.
    let offers = f.allocate();
    let mut custom = group_task("e", &agent, "cpus:0.1");
    custom.executor = Some(crate::wire::ExecutorSpec {
        executor_id: ExecutorId::from("x"),
        name: String::new(),
        command: Some(crate::wire::CommandSpec::default()),
        resources: Resources::new(),
        data: None,
    });
    custom.command = None;
    let out = accept(&mut f, &fid, &token, &offers[0], group(vec![custom], ""));
    let errs = errors(&out);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].2, Some(StatusReason::TaskGroupInvalid));
    assert_eq!(f.m.tasks().count(), 0);
    assert_eq!(offered_cpus(&mut f), 2000);
}
