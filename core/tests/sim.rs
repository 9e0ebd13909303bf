//! Deterministic whole-cluster simulation of mesolite-core: a master, agents, scripted
//! schedulers and simulated executors in one process on a virtual clock, with network delay,
//! connection resets and silent partitions, torn and failed registry and agent checkpoint
//! writes, master and agent crashes and restarts from the persisted bytes only, and invariants
//! checked after every step.
//!
//! Nothing is excused: every invariant holds for every seed, so a failing seed is a bug in core
//! or in this harness.
//!
//! `MESOLITE_SIM_SEEDS=N` runs seeds `0..N` (default 200); `MESOLITE_SIM_SEED=S` replays one
//! seed with a full trace. A failing seed prints the command that replays it.

#[path = "sim/agent_life.rs"]
mod agent_life;
#[path = "sim/config.rs"]
mod config;
#[path = "sim/disk.rs"]
mod disk;
#[path = "sim/executor.rs"]
mod executor;
#[path = "sim/faults.rs"]
mod faults;
#[path = "sim/invariants.rs"]
mod invariants;
#[path = "sim/report.rs"]
mod report;
#[path = "sim/scheduler.rs"]
mod scheduler;
#[path = "sim/world.rs"]
mod world;

use std::panic::{catch_unwind, AssertUnwindSafe};

use mesolite_core::master::Phase;
use mesolite_core::rng::Rng;
use mesolite_core::task_state::TaskState;
use mesolite_core::time::Duration;

use config::SimConfig;
use world::{Stats, World};

const DEFAULT_SEEDS: u64 = 200;

fn replay_command(seed: u64) -> String {
    format!(
        "MESOLITE_SIM_SEED={seed} cargo test -p mesolite-core --test sim --release -- --nocapture \
         (or: cargo xtask sim --seed {seed})"
    )
}

/// The world a seed describes: its cluster and fault profile are drawn from the seed too.
fn world_for(seed: u64, verbose: bool) -> World {
    let mut rng = Rng::from_seed(seed);
    let cfg = SimConfig::random(&mut rng);
    World::new(seed, cfg, verbose)
}

/// Runs one seed; a panic inside core is reported as that seed's failure.
fn run_seed(seed: u64, verbose: bool) -> Result<(Stats, u64), String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut w = world_for(seed, verbose);
        if verbose {
            println!("seed {seed}: {:?}", w.cfg);
        }
        let r = w.run();
        let tail = w.trace_tail();
        (r, w.stats.clone(), w.ms(), tail)
    }));
    match outcome {
        Ok((Ok(()), stats, ms, _)) => Ok((stats, ms)),
        Ok((Err(e), _, _, tail)) => Err(format!("{e}\nlast trace lines:\n{tail}")),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".to_string());
            Err(format!("panicked: {msg}"))
        }
    }
}

#[test]
fn random_seeds() {
    if let Ok(s) = std::env::var("MESOLITE_SIM_SEED") {
        let seed: u64 = s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("MESOLITE_SIM_SEED must be a number, not '{s}'"));
        match run_seed(seed, true) {
            Ok((stats, ms)) => println!("seed {seed} passed at {} s virtual: {stats:?}", ms / 1000),
            Err(e) => panic!("seed {seed} failed: {e}\nreplay: {}", replay_command(seed)),
        }
        return;
    }
    let n: u64 = match std::env::var("MESOLITE_SIM_SEEDS") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("MESOLITE_SIM_SEEDS must be a number, not '{v}'")),
        Err(_) => DEFAULT_SEEDS,
    };
    let started = std::time::Instant::now();
    let mut failures = Vec::new();
    let mut total = Stats::default();
    let mut virtual_ms = 0;
    for seed in 0..n {
        match run_seed(seed, false) {
            Ok((s, ms)) => {
                virtual_ms += ms;
                total.add(&s);
            }
            Err(e) => failures.push((seed, e)),
        }
    }
    println!(
        "sim: {} of {n} seeds passed in {:.1} s ({} s virtual); totals {total:?}",
        n - failures.len() as u64,
        started.elapsed().as_secs_f64(),
        virtual_ms / 1000
    );
    if !failures.is_empty() {
        let mut report = String::new();
        for (seed, e) in failures.iter().take(3) {
            report.push_str(&format!(
                "\n=== seed {seed} failed: {e}\nreplay: {}\n",
                replay_command(*seed)
            ));
        }
        let seeds: Vec<u64> = failures.iter().map(|(s, _)| *s).collect();
        let firsts: Vec<String> = failures
            .iter()
            .map(|(s, e)| format!("  seed {s}: {}", e.lines().next().unwrap_or("")))
            .collect();
        panic!(
            "{} of {n} seeds failed: {seeds:?}\n{}\n{report}",
            failures.len(),
            firsts.join("\n")
        );
    }
}

// ----- focused scenarios -----

/// A calm cluster with long tasks, so they are running when the scenario intervenes.
fn calm_world(seed: u64, agents: usize, tasks: u64, runtime_ms: (u64, u64)) -> World {
    let mut cfg = SimConfig::calm();
    cfg.agents = agents;
    cfg.tasks_per_scheduler = (tasks, tasks);
    cfg.task_runtime_ms = runtime_ms;
    let verbose = std::env::var("MESOLITE_SIM_VERBOSE").is_ok();
    let mut w = World::new(seed, cfg, verbose);
    for s in &mut w.scheds {
        s.script.quiet = true;
    }
    w
}

fn running_in_master(w: &World) -> usize {
    w.master.as_ref().map_or(0, |m| {
        m.tasks().filter(|t| t.state == TaskState::Running).count()
    })
}

fn ok(r: Result<(), String>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

#[test]
fn master_restart_agents_reregister_with_same_ids_and_tasks_keep_state() {
    let mut w = calm_world(1, 2, 3, (120_000, 150_000));
    ok(w.run_until(Duration::from_secs(60), |w| running_in_master(w) == 3));
    let ids_before: Vec<_> = w.agents.iter().map(|a| a.ids.clone()).collect();
    assert!(
        ids_before.iter().all(|ids| ids.len() == 1),
        "{ids_before:?}"
    );
    let fid = w.scheds[0].fid.clone().expect("subscribed");
    let version_before = w.master.as_ref().unwrap().registry().version;

    w.crash_master("scenario");
    assert!(w.master.is_none());
    ok(w.run_until(Duration::from_secs(60), |w| {
        w.master.as_ref().is_some_and(|m| {
            m.phase() == Phase::Leading && m.agents().filter(|a| a.active).count() == 2
        }) && running_in_master(w) == 3
            && w.scheds[0].subscribed
    }));
    // The same agents came back under the ids they were first given; nothing new was admitted.
    let ids_after: Vec<_> = w.agents.iter().map(|a| a.ids.clone()).collect();
    assert_eq!(ids_before, ids_after);
    let m = w.master.as_ref().unwrap();
    assert_eq!(m.registry().admitted.len(), 2);
    assert!(m.registry().version > version_before, "Recover is written");
    // The tasks are the scheduler's, still running on the agents that run them.
    for t in m.tasks() {
        assert_eq!(t.framework_id, &fid);
        assert_eq!(t.state, TaskState::Running);
        let on = w.scheds[0].tasks[t.task_id].agent.clone();
        assert_eq!(t.agent_id, &on);
    }
    assert_eq!(w.scheds[0].fid.as_ref(), Some(&fid));
    ok(w.run());
    for t in w.scheds[0].tasks.values() {
        assert_eq!(t.terminal, Some(TaskState::Finished), "{t:?}");
    }
}

#[test]
fn framework_failover_within_timeout_keeps_tasks() {
    let mut w = calm_world(2, 2, 2, (60_000, 80_000));
    ok(w.run_until(Duration::from_secs(60), |w| running_in_master(w) == 2));
    let fid = w.scheds[0].fid.clone().expect("subscribed");
    w.failover_now(0, Some(Duration::from_secs(10)));
    // Disconnected: the framework and its tasks stay while the failover timeout runs.
    ok(w.run_until(Duration::from_secs(5), |w| {
        w.master
            .as_ref()
            .is_some_and(|m| m.frameworks().any(|f| !f.connected))
    }));
    ok(w.run_until(Duration::from_secs(30), |w| w.scheds[0].subscribed));
    assert_eq!(w.scheds[0].subscriptions, 2);
    let m = w.master.as_ref().unwrap();
    let fws: Vec<_> = m
        .frameworks()
        .map(|f| (f.id.clone(), f.connected))
        .collect();
    assert_eq!(fws, vec![(fid.clone(), true)]);
    assert_eq!(running_in_master(&w), 2);
    ok(w.run());
    for t in w.scheds[0].tasks.values() {
        assert_eq!(t.terminal, Some(TaskState::Finished), "{t:?}");
    }
}

#[test]
fn framework_away_past_its_failover_timeout_is_torn_down_and_its_tasks_killed() {
    let mut w = calm_world(3, 1, 2, (120_000, 150_000));
    w.scheds[0].failover_timeout = Duration::from_secs(5);
    ok(w.run_until(Duration::from_secs(60), |w| running_in_master(w) == 2));
    w.failover_now(0, Some(Duration::from_secs(600)));
    ok(w.run_until(Duration::from_secs(30), |w| {
        w.master
            .as_ref()
            .is_some_and(|m| m.frameworks().count() == 0 && m.tasks().count() == 0)
    }));
    // The agent was told to shut the framework down: its executors end and their tasks are killed.
    ok(w.run_until(Duration::from_secs(30), |w| {
        w.agents[0].agent.executors().count() == 0 && w.execs.values().all(|e| !e.alive)
    }));
}

#[test]
fn declined_offers_come_back_after_the_filter_expires() {
    let mut w = calm_world(4, 1, 1, (1_000, 1_000));
    w.scheds[0].script.decline_all = Some(Some(Duration::from_secs(5)));
    ok(w.run_until(Duration::from_secs(60), |_| false)
        .or_else(|e| {
            if e.starts_with("condition not reached") {
                Ok(())
            } else {
                Err(e)
            }
        }));
    let s = &w.scheds[0];
    assert!(s.offers_seen.len() >= 8, "offers: {:?}", s.offers_seen);
    for (decline, next) in s.declines.iter().zip(s.offers_seen.iter().skip(1)) {
        let gap = next.0.saturating_since(decline.0).as_millis();
        assert!(
            (5_000..=7_500).contains(&gap),
            "declined at {:?}, offered again after {gap} ms",
            decline.0
        );
    }
}

#[test]
fn failed_registry_write_is_fatal_and_the_restarted_master_recovers() {
    let mut w = calm_world(5, 2, 2, (1_000, 2_000));
    ok(w.run_until(Duration::from_secs(5), |w| {
        w.master
            .as_ref()
            .is_some_and(|m| m.phase() == Phase::Leading)
    }));
    w.fail_writes = 1;
    ok(w.run_until(Duration::from_secs(30), |w| w.fatal_seen == 1));
    assert!(w.master.is_none(), "a Fatal master is taken down");
    assert!(
        w.agents.iter().all(|a| a.ids.is_empty()),
        "nothing was acknowledged"
    );
    ok(w.run());
    ok(w.run_until(Duration::from_secs(30), |w| {
        w.agents.iter().all(|a| !a.ids.is_empty())
    }));
    assert_eq!(w.fatal_seen, 1);
    let reg = w.master.as_ref().unwrap().registry();
    for a in &w.agents {
        let id = a.ids.last().expect("registered");
        assert!(reg.admitted_agent(id).is_some());
    }
}

#[test]
fn agent_restart_recovers_its_tasks_from_the_checkpoint_without_killing_them() {
    let mut w = calm_world(6, 1, 3, (60_000, 80_000));
    ok(w.run_until(Duration::from_secs(60), |w| running_in_master(w) == 3));
    let id_before = w.agents[0].agent.id().cloned().expect("registered");
    let containers: Vec<String> = w.execs.keys().map(|(_, c)| c.clone()).collect();
    w.crash_agent(0, "scenario");
    ok(w.run_until(Duration::from_secs(30), |w| {
        w.agents[0].up
            && w.agents[0].agent.executors().count() == 3
            && w.agents[0]
                .agent
                .executors()
                .all(|e| e.state == mesolite_core::agent::ExecutorState::Running)
    }));
    // The same agent id, the same containers (re-subscribed, not relaunched), tasks running.
    assert_eq!(w.agents[0].agent.id(), Some(&id_before));
    let after: Vec<String> = w.execs.keys().map(|(_, c)| c.clone()).collect();
    assert_eq!(containers, after);
    assert!(w.execs.values().all(|e| e.alive));
    ok(w.run());
    for t in w.scheds[0].tasks.values() {
        assert_eq!(t.terminal, Some(TaskState::Finished), "{t:?}");
    }
}

#[test]
fn an_executor_that_died_while_its_agent_was_down_fails_its_task() {
    let mut w = calm_world(7, 1, 1, (60_000, 80_000));
    ok(w.run_until(Duration::from_secs(60), |w| running_in_master(w) == 1));
    // The executor dies while the agent is down; the restarted agent has its pid and learns it.
    w.crash_agent(0, "scenario");
    let key = w.execs.keys().next().cloned().expect("an executor");
    w.execs.get_mut(&key).unwrap().alive = false;
    ok(w.run());
    let t = w.scheds[0].tasks.values().next().unwrap();
    assert_eq!(t.terminal, Some(TaskState::Failed), "{t:?}");
    assert_eq!(t.acked_terminal, Some(TaskState::Failed), "{t:?}");
}

#[test]
fn a_partition_longer_than_the_ping_timeout_marks_the_agent_unreachable_and_heals_without_kills() {
    let mut cfg = SimConfig::calm();
    cfg.agents = 1;
    cfg.tasks_per_scheduler = (2, 2);
    cfg.task_runtime_ms = (90_000, 100_000);
    cfg.ping_interval = Duration::from_secs(2);
    cfg.max_missed_pings = 3;
    let verbose = std::env::var("MESOLITE_SIM_VERBOSE").is_ok();
    let mut w = World::new(8, cfg, verbose);
    w.scheds[0].script.quiet = true;
    w.scheds[0].partition_aware = true;
    ok(w.run_until(Duration::from_secs(60), |w| running_in_master(w) == 2));
    let id = w.agents[0].agent.id().cloned().expect("registered");
    let containers: Vec<String> = w.execs.keys().map(|(_, c)| c.clone()).collect();
    w.isolate_agent(0, Duration::from_secs(20));
    ok(w.run_until(Duration::from_secs(15), |w| {
        w.master
            .as_ref()
            .is_some_and(|m| m.registry().unreachable.iter().any(|(u, _)| *u == id))
    }));
    // Marked unreachable only once durable; the tasks are kept, the framework is told.
    let m = w.master.as_ref().unwrap();
    assert!(m.agent(&id).is_none());
    assert_eq!(m.unreachable_tasks().count(), 2);
    ok(w.run_until(Duration::from_secs(5), |w| {
        w.scheds[0]
            .tasks
            .values()
            .all(|t| t.states.contains(&TaskState::Unreachable))
    }));
    // The partition heals: the same agent comes back and the tasks run again.
    ok(w.run_until(Duration::from_secs(60), |w| {
        w.master.as_ref().is_some_and(|m| {
            m.agent(&id).is_some_and(|a| a.active) && m.unreachable_tasks().count() == 0
        }) && running_in_master(w) == 2
    }));
    ok(w.run_until(Duration::from_secs(5), |w| {
        w.scheds[0].tasks.values().all(|t| {
            let after = t
                .states
                .iter()
                .position(|s| *s == TaskState::Unreachable)
                .map_or(&[][..], |p| &t.states[p..]);
            after.contains(&TaskState::Running)
        })
    }));
    assert_eq!(w.agents[0].ids.last(), Some(&id), "same agent id");
    let after: Vec<String> = w.execs.keys().map(|(_, c)| c.clone()).collect();
    assert_eq!(containers, after, "no executor relaunched");
    assert!(w.execs.values().all(|e| e.alive), "nothing killed");
    ok(w.run());
    for t in w.scheds[0].tasks.values() {
        assert_eq!(t.terminal, Some(TaskState::Finished), "{t:?}");
        assert!(!t.states.contains(&TaskState::Lost), "{t:?}");
    }
}
