//! End-to-end tests of a master with separate agent processes: tasks spread over agents, each
//! executor in its own session, master failover from its registry, and agents that stop without
//! taking their executors down.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A master and `n` agents, each agent with its own work dir; returns the master port and
/// process, and each agent's process, work dir and port in start order.
fn cluster(h: &mut Harness, n: usize) -> (u16, ProcId, Vec<(ProcId, PathBuf, u16)>) {
    let port = free_port();
    let master_dir = h.path("master");
    let master = h.start_master(port, &master_dir);
    let mut agents = Vec::new();
    for i in 0..n {
        let dir = h.path(&format!("agent{i}"));
        let agent_port = free_port();
        let id = h.start_agent(port, agent_port, &dir, AGENT_RESOURCES);
        agents.push((id, dir, agent_port));
    }
    wait_agents(port, n);
    (port, master, agents)
}

/// Starts `mesolite run ARGS` against the master in the background.
fn spawn_run(h: &mut Harness, port: u16, args: &[&str]) -> ProcId {
    let master = loopback(port);
    let mut all = vec!["run", "--master", &master];
    all.extend_from_slice(args);
    h.spawn_cli("run", &all)
}

/// Waits until the task of a background `run` is TASK_RUNNING; returns its task id.
fn wait_running(h: &mut Harness, run: ProcId) -> String {
    wait_for("the task to be TASK_RUNNING", WAIT, || {
        if let Some(status) = h.try_exit(run) {
            panic!("run exited early with {status}: {}", h.log(run));
        }
        let log = h.log(run);
        log.contains("TASK_RUNNING")
            .then(|| run_task_id(&log))
            .flatten()
    })
}

/// The one live `mesolite executor` whose working directory is inside `dir`.
fn executor_under(dir: &Path) -> ProcInfo {
    wait_for("the executor process", WAIT, || {
        let mut ex: Vec<ProcInfo> = processes_under(dir)
            .into_iter()
            .filter(ProcInfo::is_executor)
            .collect();
        (ex.len() == 1).then(|| ex.remove(0))
    })
}

#[test]
fn tasks_spread_over_two_agents_each_under_its_own_executor_session() {
    let mut h = Harness::new("spread");
    let (port, _, agents) = cluster(&mut h, 2);
    let by_port = agents_by_port(port, &agents);

    // `ctl agents` lists both agents with their resources.
    let master = loopback(port);
    let out = h.cli(&["ctl", "--master", &master, "agents"], WAIT);
    assert_eq!(out.code, Some(0), "{out:?}");
    for (id, _) in by_port.values() {
        let line = out
            .stdout
            .lines()
            .find(|l| l.contains(id.as_str()))
            .unwrap_or_else(|| panic!("agent {id} not in:\n{}", out.stdout));
        assert!(
            line.contains("cpus:1") && line.contains("mem:512"),
            "{line}"
        );
    }

    // A long task first: its executor must be a session and process group leader.
    let long = spawn_run(&mut h, port, &["--cpus", "0.1", "--", "sleep", "5"]);
    let long_task = wait_running(&mut h, long);
    let ex = executor_under(&h.dir);
    let st = stat(ex.pid).expect("executor stat");
    assert_eq!(st.pgrp, ex.pid, "executor leads its process group: {ex:?}");
    assert_eq!(st.session, ex.pid, "executor leads its session: {ex:?}");
    let sleeper = wait_for("the task process", WAIT, || {
        processes_under(&h.dir)
            .into_iter()
            .find(|p| p.cmdline.first().map(String::as_str) == Some("sleep"))
    });
    let sst = stat(sleeper.pid).expect("task stat");
    assert_eq!(sst.ppid, ex.pid, "the task is the executor's child");
    // Its own process group (so a kill reaches what it starts) in the executor's session (so
    // the agent ends the whole container through the session).
    assert_eq!(
        sst.pgrp, sleeper.pid,
        "the task leads its own process group"
    );
    assert_eq!(sst.session, ex.pid, "the task is in the executor's session");
    for (a, _, _) in &agents {
        assert_ne!(st.session, stat(h.pid(*a)).expect("agent stat").session);
    }

    // Six tasks of 0.6 cpus on two agents of 1 cpu: at most one per agent at a time.
    let runs: Vec<ProcId> = (0..6)
        .map(|_| spawn_run(&mut h, port, &["--cpus", "0.6", "--", "sleep", "1"]))
        .collect();
    let mut task_ids = Vec::new();
    for r in runs.iter().copied().chain([long]) {
        let status = h.wait_exit(r, Duration::from_secs(40));
        let out = h.cli_output(r);
        assert_eq!(status.code(), Some(0), "{out:?}");
        assert!(out.stderr.contains("TASK_FINISHED"), "{out:?}");
        task_ids.push(run_task_id(&out.stderr).expect("task id"));
    }
    assert!(task_ids.contains(&long_task));

    let all = tasks(port).expect("GET_TASKS");
    let mut used = BTreeSet::new();
    for id in &task_ids {
        let t = all
            .iter()
            .find(|t| &t.id == id)
            .unwrap_or_else(|| panic!("{id} not in {all:?}"));
        assert_eq!(t.state, "TASK_FINISHED", "{t:?}");
        used.insert(t.agent_id.clone());
        // The sandbox is under the work dir of the agent that ran it, in the Mesos layout.
        let dir = &by_port
            .values()
            .find(|(aid, _)| *aid == t.agent_id)
            .unwrap_or_else(|| panic!("task on unknown agent {t:?}"))
            .1;
        let sb = sandbox(dir, &t.agent_id, &t.framework_id, id);
        assert!(
            sb.join("stdout").is_file(),
            "{} has no stdout",
            sb.display()
        );
        assert!(
            sb.join("stderr").is_file(),
            "{} has no stderr",
            sb.display()
        );
    }
    assert_eq!(used.len(), 2, "tasks ran on both agents: {all:?}");
}

/// Agent id and work dir by the port each agent listens on.
fn agents_by_port(
    port: u16,
    agents: &[(ProcId, PathBuf, u16)],
) -> std::collections::BTreeMap<u16, (String, PathBuf)> {
    let views = wait_agents(port, agents.len());
    agents
        .iter()
        .map(|(_, dir, p)| {
            let v = views
                .iter()
                .find(|v| v.port == u64::from(*p))
                .unwrap_or_else(|| panic!("no agent on port {p} in {views:?}"));
            (*p, (v.id.clone(), dir.clone()))
        })
        .collect()
}

#[test]
fn master_killed_and_restarted_readmits_the_agent_and_the_task_finishes() {
    let mut h = Harness::new("failover");
    let (port, master, agents) = cluster(&mut h, 1);
    let before = wait_agents(port, 1)[0].id.clone();

    let run = spawn_run(&mut h, port, &["--", "sleep", "8"]);
    let task_id = wait_running(&mut h, run);
    let ex = executor_under(&agents[0].1);

    h.signal(master, "KILL");
    h.wait_exit(master, WAIT);
    assert!(
        h.path("master/registry/snapshot").is_file() || h.path("master/registry/log").is_file()
    );

    let master_dir = h.path("master");
    h.start_master(port, &master_dir);
    let after = wait_for("the agent to re-register with the same id", WAIT, || {
        common::agents(port).filter(|a| a.len() == 1 && a[0].active)
    });
    assert_eq!(after[0].id, before, "the registry kept the agent's id");

    let out = h.cli(&["ctl", "--master", &loopback(port), "agents"], WAIT);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains(&before), "{out:?}");
    assert!(out.stdout.contains("active"), "{out:?}");

    // The task survived the master: its executor still runs and `run` sees it finish.
    assert!(is_alive(ex.pid), "the executor died with the master");
    let status = h.wait_exit(run, Duration::from_secs(40));
    let out = h.cli_output(run);
    assert_eq!(status.code(), Some(0), "{out:?}");
    assert!(out.stderr.contains("TASK_FINISHED"), "{out:?}");
    let t = wait_for("the new master to know the task finished", WAIT, || {
        tasks(port)?
            .into_iter()
            .find(|t| t.id == task_id && t.state == "TASK_FINISHED")
    });
    assert_eq!(t.agent_id, before);
}

#[test]
fn agent_stopped_with_sigterm_leaves_its_executor_running() {
    let mut h = Harness::new("agentterm");
    let (port, _, agents) = cluster(&mut h, 1);
    let run = spawn_run(&mut h, port, &["--", "sleep", "30"]);
    wait_running(&mut h, run);
    let ex = executor_under(&agents[0].1);
    let task = wait_for("the task process", WAIT, || {
        processes_under(&agents[0].1)
            .into_iter()
            .find(|p| p.cmdline.first().map(String::as_str) == Some("sleep"))
    });

    let (agent, _, _) = agents[0];
    h.signal(agent, "TERM");
    let status = h.wait_exit(agent, WAIT);
    assert_eq!(status.code(), Some(0), "agent log:\n{}", h.log(agent));
    assert!(is_alive(ex.pid), "the executor went down with the agent");
    assert!(is_alive(task.pid), "the task went down with the agent");

    // The master notices the agent is gone (its connection closed).
    wait_for("the master to mark the agent inactive", WAIT, || {
        common::agents(port).filter(|a| a.len() == 1 && !a[0].active)
    });
}

#[test]
fn agent_restarted_on_its_work_dir_keeps_its_id_and_its_task() {
    let mut h = Harness::new("agentrestart");
    let (port, _, agents) = cluster(&mut h, 1);
    let before = wait_agents(port, 1)[0].id.clone();
    let run = spawn_run(&mut h, port, &["--", "sleep", "6"]);
    wait_running(&mut h, run);
    let (agent, ref dir, agent_port) = agents[0];
    let ex = executor_under(dir);

    h.signal(agent, "TERM");
    h.wait_exit(agent, WAIT);
    let dir = dir.clone();
    h.start_agent(port, agent_port, &dir, AGENT_RESOURCES);

    // Mesos agents recover their id from the work dir and re-register, keeping their tasks.
    let after = wait_for("the agent to re-register", WAIT, || {
        common::agents(port).filter(|a| a.iter().any(|a| a.active))
    });
    assert_eq!(
        after.len(),
        1,
        "the restarted agent is a new agent: {after:?}"
    );
    assert_eq!(after[0].id, before);
    assert!(is_alive(ex.pid), "the executor died with the agent restart");
    let status = h.wait_exit(run, Duration::from_secs(40));
    let out = h.cli_output(run);
    assert_eq!(status.code(), Some(0), "{out:?}");
    assert!(out.stderr.contains("TASK_FINISHED"), "{out:?}");
}

#[test]
fn a_new_agent_at_the_address_of_a_disconnected_one_replaces_it() {
    let mut h = Harness::new("sameaddr");
    let (port, _, agents) = cluster(&mut h, 1);
    let old = wait_agents(port, 1)[0].id.clone();
    let (agent, _, agent_port) = agents[0];
    h.signal(agent, "TERM");
    h.wait_exit(agent, WAIT);

    // A fresh work dir: a new agent on the same IP:PORT (Mesos `RemoveSlave` of the old one).
    let fresh = h.path("agent-fresh");
    h.start_agent(port, agent_port, &fresh, AGENT_RESOURCES);
    let mut last = Vec::new();
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(a) = common::agents(port) {
            if a.len() == 1 && a[0].active && a[0].id != old {
                break;
            }
            last = a;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the disconnected agent {old} at the same address was kept: {last:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
