//! Sandbox garbage collection: what is scheduled when, the disk-pressure pruning, leftover
//! sandboxes found at start, and that nothing live is ever removed.

use super::*;

const DAY: u64 = 86_400;

fn at(secs: u64) -> Instant {
    Instant::from_millis(secs * 1000)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Runs task `id` (its executor `id`), lets its container exit at `now` and acknowledges the
/// update the agent sends: the executor is then forgotten.
fn finish(a: &mut Agent, id: &str, now: Instant) {
    let container = run(a, id);
    a.handle_container_exited(now, wall(), &container, 0);
    let mut out = drain_writing(a, &mut Vec::new(), now);
    // Acknowledges every update the agent sends for the task until it sends no more.
    while let Some(uuid) = out.iter().find_map(|o| match o {
        AgentOutput::ToMaster(AgentToMaster::StatusUpdate(u)) => u.status.uuid,
        _ => None,
    }) {
        a.handle_master_message(
            now,
            wall(),
            MasterToAgent::Acknowledge {
                framework_id: FrameworkId::from("f"),
                task_id: TaskId::from(id),
                uuid,
            },
        );
        out = drain_writing(a, &mut Vec::new(), now);
    }
    assert!(
        a.executors().all(|e| e.executor_id.as_str() != id),
        "executor {id} is forgotten"
    );
}

fn removals(out: &[AgentOutput]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            AgentOutput::RemoveSandbox { path } => Some(path.clone()),
            _ => None,
        })
        .collect()
}

/// Runs the agent's timer at `now` and returns the removals it emits.
fn tick(a: &mut Agent, now: Instant) -> Vec<String> {
    a.handle_timeout(now, wall());
    removals(&drain_writing(a, &mut Vec::new(), now))
}

fn disk(a: &mut Agent, now: Instant, used_permille: u16) -> Vec<String> {
    a.handle_disk_usage(now, used_permille);
    removals(&drain_writing(a, &mut Vec::new(), now))
}

fn found(a: &mut Agent, now: Instant, dirs: &[(&str, u64)]) -> Vec<String> {
    let dirs = dirs
        .iter()
        .map(|(p, age)| (p.to_string(), secs(*age)))
        .collect();
    a.handle_found_sandboxes(now, dirs);
    removals(&drain_writing(a, &mut Vec::new(), now))
}

/// The live sandbox of executor `id`.
fn sandbox_of(a: &Agent, id: &str) -> String {
    let e = a
        .executors()
        .find(|e| e.executor_id.as_str() == id)
        .expect("a live executor");
    alloc::format!(
        "slaves/c-S0/frameworks/f/executors/{id}/runs/{}",
        e.container_id
    )
}

#[test]
fn a_forgotten_executors_dirs_go_gc_delay_after_it_ended() {
    let mut a = registered();
    finish(&mut a, "t1", at(10));
    // The forgetting call has no clock: the timer is asked for at once and stamps the paths.
    assert_eq!(a.poll_timeout(), Some(Instant::ZERO));
    assert!(tick(&mut a, at(10)).is_empty());
    assert_eq!(a.gc_pending(), 3, "run dir, executor dir, framework dir");
    assert!(a.poll_timeout() <= Some(at(10 + 7 * DAY)));
    assert!(tick(&mut a, at(10 + 7 * DAY - 1)).is_empty());
    // The framework has no executor left: its dir goes, which holds the others.
    assert_eq!(
        tick(&mut a, at(10 + 7 * DAY)),
        vec!["slaves/c-S0/frameworks/f".to_string()]
    );
    assert_eq!(a.gc_pending(), 0);
    assert!(tick(&mut a, at(20 + 7 * DAY)).is_empty());
}

#[test]
fn a_framework_with_a_live_executor_keeps_its_dir() {
    let mut a = registered();
    run(&mut a, "live");
    finish(&mut a, "t1", at(0));
    assert!(tick(&mut a, at(0)).is_empty());
    assert_eq!(
        tick(&mut a, at(7 * DAY)),
        vec!["slaves/c-S0/frameworks/f/executors/t1".to_string()]
    );
    assert!(a.executors().any(|e| e.executor_id.as_str() == "live"));
}

#[test]
fn disk_pressure_shortens_the_age_a_sandbox_may_reach() {
    let mut a = registered();
    finish(&mut a, "old", at(0));
    tick(&mut a, at(0));
    run(&mut a, "live");
    finish(&mut a, "young", at(4 * DAY));
    tick(&mut a, at(4 * DAY));
    let now = at(5 * DAY);
    // Used 10% with 10% headroom: max age 0.8 weeks (5.6 days); nothing is that old.
    assert!(disk(&mut a, now, 100).is_empty());
    // Used 40%: max age 0.5 weeks (3.5 days): `old` (5 days) goes, `young` (1 day) stays.
    assert_eq!(
        disk(&mut a, now, 400),
        vec!["slaves/c-S0/frameworks/f/executors/old".to_string()]
    );
    // Used 95%: max age 0: everything scheduled goes, nothing live.
    assert_eq!(
        disk(&mut a, now, 950),
        vec!["slaves/c-S0/frameworks/f/executors/young".to_string()]
    );
    assert_eq!(a.gc_pending(), 0);
    // Usage above 100% is taken as 100%.
    assert!(disk(&mut a, now, u16::MAX).is_empty());
}

#[test]
fn a_full_disk_removes_freshly_forgotten_executors_at_once() {
    let mut a = registered();
    finish(&mut a, "t1", at(3));
    // The disk check stamps the unstamped paths first.
    assert_eq!(
        disk(&mut a, at(3), 1000),
        vec!["slaves/c-S0/frameworks/f".to_string()]
    );
}

#[test]
fn leftover_sandboxes_are_aged_by_their_mtime() {
    let mut a = registered();
    let old = "slaves/old-S1/frameworks/g/executors/e/runs/c1";
    let mine = "slaves/c-S0/frameworks/g/executors/e/runs/c2";
    let now = at(100);
    // Older than gc_delay already: removed at once, up to the framework dir (the current
    // agent's own dir is never removed).
    assert_eq!(
        found(&mut a, now, &[(old, 6 * DAY), (mine, 8 * DAY)]),
        vec!["slaves/c-S0/frameworks/g".to_string()],
    );
    assert_eq!(a.poll_timeout().map(|t| t <= at(100 + DAY)), Some(true));
    assert_eq!(
        tick(&mut a, at(100 + DAY)),
        vec!["slaves/old-S1".to_string()]
    );
    assert_eq!(a.gc_pending(), 0);
}

#[test]
fn a_parent_dir_waits_for_its_youngest_leftover() {
    let mut a = registered();
    let removed = found(
        &mut a,
        at(0),
        &[
            ("slaves/x/frameworks/g/executors/e/runs/c1", 7 * DAY),
            ("slaves/x/frameworks/g/executors/e/runs/c2", 5 * DAY),
        ],
    );
    assert_eq!(
        removed,
        vec!["slaves/x/frameworks/g/executors/e/runs/c1".to_string()]
    );
    assert!(tick(&mut a, at(2 * DAY - 1)).is_empty());
    assert_eq!(tick(&mut a, at(2 * DAY)), vec!["slaves/x".to_string()]);
}

#[test]
fn sandboxes_of_known_executors_are_never_removed() {
    let mut a = registered();
    run(&mut a, "live");
    let live = sandbox_of(&a, "live");
    let sibling = "slaves/c-S0/frameworks/f/executors/live/runs/stale";
    // A found dir that is a live sandbox is not scheduled; its stale sibling is, but not the
    // parents that hold the live one.
    assert_eq!(
        found(
            &mut a,
            at(0),
            &[(live.as_str(), 30 * DAY), (sibling, 30 * DAY)]
        ),
        vec![sibling.to_string()]
    );
    assert_eq!(a.gc_pending(), 0);
    // The emit-time check: a found leftover whose executor id a new executor takes before it is
    // due keeps the dirs that now hold a live sandbox.
    found(
        &mut a,
        at(0),
        &[("slaves/c-S0/frameworks/f/executors/t9/runs/old", DAY)],
    );
    run(&mut a, "t9");
    assert_eq!(
        tick(&mut a, at(6 * DAY)),
        vec!["slaves/c-S0/frameworks/f/executors/t9/runs/old".to_string()]
    );
    assert_eq!(
        a.gc_pending(),
        0,
        "the parents holding t9's sandbox are dropped"
    );
    assert!(disk(&mut a, at(6 * DAY), 1000).is_empty());
    assert_eq!(a.executors().count(), 2);
}

#[test]
fn a_fresh_agent_without_an_id_yet_removes_an_old_agents_leftovers() {
    // After a reboot the agent starts afresh: the old agent's whole dir goes.
    let mut a = Agent::new(AgentConfig::new(info(), 1), Instant::ZERO);
    assert_eq!(
        found(
            &mut a,
            at(0),
            &[("slaves/old/frameworks/g/executors/e/runs/c", 8 * DAY)],
        ),
        vec!["slaves/old".to_string()]
    );
}

#[test]
fn paths_outside_the_sandbox_layout_are_ignored() {
    let mut a = registered();
    let bad = [
        "slaves/x/frameworks/g/executors/e/runs/../../../../..",
        "slaves/x/frameworks/g/executors/e/runs/latest",
        "slaves/x/frameworks/g/executors/e",
        "meta/slaves/x/frameworks/g/executors/e/runs/c",
        "/slaves/x/frameworks/g/executors/e/runs/c",
        "slaves/x/frameworks/g/executors/e/runs/c/",
        "slaves/x/frameworks/g/executors//runs/c",
        "slaves/x/frameworks/g/tasks/e/runs/c",
        "",
    ];
    let dirs: Vec<(&str, u64)> = bad.iter().map(|p| (*p, 30 * DAY)).collect();
    assert!(found(&mut a, at(0), &dirs).is_empty());
    assert_eq!(a.gc_pending(), 0);
}

#[test]
fn headroom_and_delay_come_from_the_config() {
    let mut cfg = AgentConfig::new(info(), 1);
    cfg.gc_delay = secs(100);
    cfg.gc_disk_headroom_permille = 500;
    let mut a = Agent::new(cfg, Instant::ZERO);
    found(
        &mut a,
        at(0),
        &[
            ("slaves/o/frameworks/g/executors/a/runs/c", 30),
            ("slaves/p/frameworks/g/executors/b/runs/c", 10),
        ],
    );
    // Used 20% with 50% headroom: max age 30 s.
    assert_eq!(disk(&mut a, at(0), 200), vec!["slaves/o".to_string()]);
    assert_eq!(tick(&mut a, at(89)), Vec::<String>::new());
    assert_eq!(tick(&mut a, at(90)), vec!["slaves/p".to_string()]);
}
