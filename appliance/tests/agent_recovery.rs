//! End-to-end tests of agent restarts: SIGKILL with fifty tasks running keeps every task and
//! loses no status update, the reconfiguration policy on restart (additive growth accepted and
//! shown by the master, the same change refused under `equal`), and `mesolite run` surviving a
//! SIGKILL of its agent and then of its master. Kill moments come from a printed, replayable seed.

mod common;

use common::scheduler::Scheduler;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// A delay in `[0, max_ms]` drawn from `seed`.
fn delay_from(mut seed: u64, max_ms: u64) -> Duration {
    Duration::from_millis(next_random(&mut seed) % (max_ms + 1))
}

/// The master's view of the agent's total cpus.
fn total_cpus(port: u16) -> Option<f64> {
    let r = try_operator(port, "GET_AGENTS")?;
    let agent = r["get_agents"]["agents"].as_array()?.first()?.clone();
    agent["total_resources"]
        .as_array()?
        .iter()
        .filter(|r| r["name"] == "cpus")
        .map(|r| r["scalar"]["value"].as_f64())
        .sum()
}

const TASKS: usize = 50;
const BIG_AGENT: &str = "cpus:8;mem:8192;disk:1024;ports:[31000-31100]";

#[test]
fn agent_killed_with_fifty_tasks_keeps_them_all_and_loses_no_update() {
    let seed = test_seed("fifty");
    let mut h = Harness::new("fifty");
    let port = free_port();
    h.start_master(port, &h.path("master"));
    let dir = h.path("agent");
    let agent_port = free_port();
    let agent = h.spawn_agent(port, agent_port, &dir, BIG_AGENT, &[]);
    h.wait_healthy(agent, agent_port);
    let agent_id = wait_agents(port, 1)[0].id.clone();

    let s = Scheduler::subscribe(port, json!({"user": "nobody", "name": "fifty"})).acknowledging();
    let offers = s.wait_event("OFFERS", |_| true);
    let offer = &offers["offers"]["offers"][0];
    // Long enough to outlive the kill and the restart; the test waits for every end.
    let tasks: Vec<Value> = (0..TASKS)
        .map(|i| {
            json!({
                "name": format!("t{i}"),
                "task_id": {"value": format!("t{i}")},
                "agent_id": {"value": agent_id},
                "resources": [
                    {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.01}},
                    {"name": "mem", "type": "SCALAR", "scalar": {"value": 8}},
                ],
                "command": {"value": "sleep 8"},
            })
        })
        .collect();
    s.accepted(json!({
        "type": "ACCEPT",
        "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}],
        }
    }));
    for i in 0..TASKS {
        s.wait_update(&format!("t{i}"), "TASK_RUNNING");
    }
    let before = wait_for("every task's process", WAIT, || {
        let pids = sleeps_under(&dir);
        (pids.len() == TASKS).then_some(pids)
    });

    std::thread::sleep(delay_from(seed, 1500));
    h.signal(agent, "KILL");
    h.wait_exit(agent, WAIT);
    assert_eq!(
        sleeps_under(&dir),
        before,
        "every task keeps running while its agent is down"
    );
    let agent = h.spawn_agent(port, agent_port, &dir, BIG_AGENT, &[]);
    h.wait_healthy(agent, agent_port);
    let after = wait_for("the agent to re-register", WAIT, || {
        agents(port).filter(|a| a.len() == 1 && a[0].active)
    });
    assert_eq!(after[0].id, agent_id, "the agent keeps its id");

    wait_for("every task to finish", Duration::from_secs(60), || {
        s.acknowledge_all();
        (0..TASKS)
            .all(|i| {
                s.states_of(&format!("t{i}"))
                    .iter()
                    .any(|st| st == "TASK_FINISHED")
            })
            .then_some(())
    });
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..TASKS {
        let id = format!("t{i}");
        let states = s.states_of(&id);
        let terminal: Vec<&String> = states
            .iter()
            .filter(|st| st.as_str() != "TASK_RUNNING" && st.as_str() != "TASK_STARTING")
            .collect();
        assert!(
            terminal.iter().all(|st| *st == "TASK_FINISHED"),
            "task {id} saw {states:?}"
        );
        let first_running = states.iter().position(|st| st == "TASK_RUNNING");
        let first_finished = states.iter().position(|st| st == "TASK_FINISHED");
        assert!(
            first_running < first_finished,
            "task {id}: RUNNING before FINISHED: {states:?}"
        );
        seen.insert(id, states);
    }
    assert_eq!(seen.len(), TASKS);
    // Every task's process ran to its end under the executor that started it.
    assert!(sleeps_under(&dir).is_empty());
    let log = h.log(agent);
    assert!(log.contains("recovering agent"), "{log}");
}

#[test]
fn grown_cpus_are_accepted_under_additive_and_refused_under_equal() {
    let seed = test_seed("additive");
    let mut h = Harness::new("additive");
    let port = free_port();
    h.start_master(port, &h.path("master"));
    let dir = h.path("agent");
    let agent_port = free_port();
    let small = "cpus:2;mem:512;disk:512;ports:[31000-31100]";
    let grown = "cpus:4;mem:512;disk:512;ports:[31000-31100]";
    let agent = h.spawn_agent(port, agent_port, &dir, small, &[]);
    h.wait_healthy(agent, agent_port);
    let agent_id = wait_agents(port, 1)[0].id.clone();
    let master = loopback(port);
    let run = h.spawn_cli("run", &["run", "--master", &master, "--", "sleep", "10"]);
    wait_for("the task to run", WAIT, || {
        h.log(run).contains("TASK_RUNNING").then_some(())
    });
    let task = wait_for("the task's process", WAIT, || {
        sleeps_under(&dir).first().copied()
    });

    std::thread::sleep(delay_from(seed, 500));
    h.signal(agent, "KILL");
    h.wait_exit(agent, WAIT);

    // Under the default policy (`equal`) the grown cpus are refused, naming the field.
    let refused = h.spawn_agent(port, agent_port, &dir, grown, &[]);
    let status = h.wait_exit(refused, WAIT);
    assert_eq!(status.code(), Some(1), "{}", h.log(refused));
    let why = h.log(refused);
    assert!(why.contains("cpus"), "{why}");
    assert!(why.contains("--reconfiguration-policy additive"), "{why}");
    assert!(is_alive(task), "a refused restart touches no task");

    let agent = h.spawn_agent(
        port,
        agent_port,
        &dir,
        grown,
        &["--reconfiguration-policy", "additive"],
    );
    h.wait_healthy(agent, agent_port);
    wait_for("the master to show the grown total", WAIT, || {
        (total_cpus(port) == Some(4.0)).then_some(())
    });
    let now = wait_agents(port, 1);
    assert_eq!(now[0].id, agent_id, "the agent keeps its id");
    assert!(is_alive(task), "the task keeps running");
    let status = h.wait_exit(run, Duration::from_secs(40));
    let out = h.cli_output(run);
    assert_eq!(status.code(), Some(0), "{out:?}");
    assert!(out.stderr.contains("TASK_FINISHED"), "{out:?}");
}

#[test]
fn run_survives_a_sigkill_of_its_agent_and_then_of_its_master() {
    let seed = test_seed("runsurvives");
    let mut h = Harness::new("runsurvives");
    let port = free_port();
    let master_dir = h.path("master");
    let master = h.start_master(port, &master_dir);
    let dir = h.path("agent");
    let agent_port = free_port();
    let agent = h.start_agent(port, agent_port, &dir, AGENT_RESOURCES);
    wait_agents(port, 1);
    let addr = loopback(port);
    let run = h.spawn_cli("run", &["run", "--master", &addr, "--", "sleep", "12"]);
    wait_for("the task to run", WAIT, || {
        h.log(run).contains("TASK_RUNNING").then_some(())
    });

    std::thread::sleep(delay_from(seed, 1000));
    h.signal(agent, "KILL");
    h.wait_exit(agent, WAIT);
    h.start_agent(port, agent_port, &dir, AGENT_RESOURCES);
    wait_for("the agent to re-register", WAIT, || {
        agents(port).filter(|a| a.len() == 1 && a[0].active)
    });

    std::thread::sleep(delay_from(seed.rotate_left(17), 1000));
    h.signal(master, "KILL");
    h.wait_exit(master, WAIT);
    h.start_master(port, &master_dir);

    let status = h.wait_exit(run, Duration::from_secs(60));
    let out = h.cli_output(run);
    assert_eq!(status.code(), Some(0), "{out:?}");
    assert!(out.stderr.contains("TASK_FINISHED"), "{out:?}");
}

/// A master, one agent and a `run -- sleep 30` whose task is running; returns the master port,
/// the agent, its work dir and port, the run, and the task's pid.
fn cluster_with_a_sleep(h: &mut Harness) -> (u16, ProcId, std::path::PathBuf, u16, ProcId, u32) {
    let port = free_port();
    h.start_master(port, &h.path("master"));
    let dir = h.path("agent");
    let agent_port = free_port();
    let agent = h.start_agent(port, agent_port, &dir, AGENT_RESOURCES);
    wait_agents(port, 1);
    let addr = loopback(port);
    let run = h.spawn_cli("run", &["run", "--master", &addr, "--", "sleep", "30"]);
    wait_for("the task to run", WAIT, || {
        h.log(run).contains("TASK_RUNNING").then_some(())
    });
    let task = wait_for("the task's process", WAIT, || {
        sleeps_under(&dir).first().copied()
    });
    (port, agent, dir, agent_port, run, task)
}

#[test]
fn recover_cleanup_kills_the_old_tasks_reports_them_lost_and_exits_0() {
    let mut h = Harness::new("cleanup");
    let (port, agent, dir, agent_port, run, task) = cluster_with_a_sleep(&mut h);
    let agent_id = wait_agents(port, 1)[0].id.clone();
    h.signal(agent, "KILL");
    h.wait_exit(agent, WAIT);
    assert!(is_alive(task));

    let cleanup = h.spawn_agent(
        port,
        agent_port,
        &dir,
        AGENT_RESOURCES,
        &["--recover", "cleanup"],
    );
    let status = h.wait_exit(cleanup, Duration::from_secs(40));
    assert_eq!(status.code(), Some(0), "{}", h.log(cleanup));
    assert!(!is_alive(task), "cleanup kills the recovered task");
    let status = h.wait_exit(run, WAIT);
    let out = h.cli_output(run);
    assert_ne!(status.code(), Some(0), "{out:?}");
    assert!(out.stderr.contains("TASK_LOST"), "{out:?}");

    // The next start keeps the agent id and runs nothing.
    let again = h.spawn_agent(port, agent_port, &dir, AGENT_RESOURCES, &[]);
    h.wait_healthy(again, agent_port);
    let after = wait_for("the agent to re-register", WAIT, || {
        agents(port).filter(|a| a.len() == 1 && a[0].active)
    });
    assert_eq!(after[0].id, agent_id);
    assert!(processes_under(&dir).iter().all(|p| !p.is_executor()));
}

#[test]
fn sigusr1_kills_every_task_unregisters_and_exits_0() {
    let mut h = Harness::new("usr1");
    let (port, agent, dir, agent_port, run, task) = cluster_with_a_sleep(&mut h);
    h.signal(agent, "USR1");
    let status = h.wait_exit(agent, Duration::from_secs(40));
    assert_eq!(status.code(), Some(0), "{}", h.log(agent));
    assert!(!is_alive(task), "shutdown kills the task");
    let status = h.wait_exit(run, WAIT);
    let out = h.cli_output(run);
    assert_ne!(status.code(), Some(0), "{out:?}");
    assert!(out.stderr.contains("TASK_KILLED"), "{out:?}");
    wait_for("the master to remove the agent", WAIT, || {
        let r = try_operator(port, "GET_AGENTS")?;
        // An empty list is left out of the JSON, as Mesos leaves out empty repeated fields.
        let listed = r["get_agents"]["agents"].as_array().map_or(0, Vec::len);
        (listed == 0).then_some(())
    });
    // The next start is a new agent.
    let again = h.spawn_agent(port, agent_port, &dir, AGENT_RESOURCES, &[]);
    h.wait_healthy(again, agent_port);
    wait_for("a new agent to register", WAIT, || {
        agents(port).filter(|a| a.len() == 1 && a[0].active)
    });
}

#[test]
fn shutdown_flag_ends_the_recovered_tasks_and_exits_0() {
    let mut h = Harness::new("shutdownflag");
    let (port, agent, dir, agent_port, run, task) = cluster_with_a_sleep(&mut h);
    h.signal(agent, "KILL");
    h.wait_exit(agent, WAIT);
    let shutdown = h.spawn_agent(port, agent_port, &dir, AGENT_RESOURCES, &["--shutdown"]);
    let status = h.wait_exit(shutdown, Duration::from_secs(40));
    assert_eq!(status.code(), Some(0), "{}", h.log(shutdown));
    assert!(!is_alive(task));
    h.wait_exit(run, WAIT);
}

#[test]
fn a_damaged_checkpoint_stops_the_agent_naming_the_file() {
    let mut h = Harness::new("damaged");
    let (port, agent, dir, agent_port, _run, task) = cluster_with_a_sleep(&mut h);
    h.signal(agent, "KILL");
    h.wait_exit(agent, WAIT);
    let log = dir.join("meta").join("log.0");
    let mut bytes = std::fs::read(&log).expect("the checkpoint log");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&log, &bytes).expect("write");
    let refused = h.spawn_agent(port, agent_port, &dir, AGENT_RESOURCES, &[]);
    let status = h.wait_exit(refused, WAIT);
    assert_eq!(status.code(), Some(1));
    let why = h.log(refused);
    assert!(why.contains(&log.display().to_string()), "{why}");
    assert!(is_alive(task), "a refused start touches no task");
    // Cut in the middle of a record (a torn append): refused too, with the length to cut to.
    bytes[mid] ^= 0x40;
    bytes.truncate(bytes.len() - 3);
    std::fs::write(&log, &bytes).expect("write");
    let refused = h.spawn_agent(port, agent_port, &dir, AGENT_RESOURCES, &[]);
    assert_eq!(h.wait_exit(refused, WAIT).code(), Some(1));
    assert!(h.log(refused).contains("torn"), "{}", h.log(refused));
}
