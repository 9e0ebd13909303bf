//! The master SIGKILLed twenty times while agents register and tasks start: after every restart
//! each agent registration it acknowledged and each task a framework saw running is known again.
//! Kill moments come from a printed seed (`MESOLITE_TEST_SEED` replays them).

mod common;

use common::*;
use std::collections::BTreeMap;
use std::time::Duration;

const ROUNDS: u64 = 20;

/// The agent id an agent's log says the master acknowledged, if any.
fn acknowledged_id(log: &str) -> Option<String> {
    log.lines()
        .rev()
        .find_map(|l| l.split("registered with the master as ").nth(1))
        .map(|id| id.trim().to_string())
}

#[test]
fn twenty_master_sigkills_lose_no_acknowledged_agent_or_running_task() {
    let mut seed = test_seed("master failover");
    let mut h = Harness::new("failover20");
    let port = free_port();
    let master_dir = h.path("master");
    let mut master = h.start_master(port, &master_dir);
    let addr = loopback(port);
    let mut agent_procs: Vec<ProcId> = Vec::new();
    let mut runs: Vec<ProcId> = Vec::new();

    for round in 0..ROUNDS {
        // Every few rounds a new agent registers; every round a new task starts.
        if round % 5 == 0 {
            let dir = h.path(&format!("agent{round}"));
            let agent_port = free_port();
            let id = h.spawn(
                "agent",
                &[
                    "agent",
                    "--master",
                    &addr,
                    "--listen",
                    &loopback(agent_port),
                    "--work-dir",
                    dir.to_str().expect("utf-8"),
                    "--resources",
                    "cpus:2;mem:2048;disk:512;ports:[31000-31100]",
                    "--hostname",
                    "localhost",
                    "--registration-backoff-factor",
                    "200ms",
                ],
            );
            agent_procs.push(id);
        }
        runs.push(h.spawn_cli(
            "run",
            &[
                "run", "--master", &addr, "--cpus", "0.05", "--mem", "16", "--", "sleep", "300",
            ],
        ));
        std::thread::sleep(Duration::from_millis(next_random(&mut seed) % 1500));

        // What the master acknowledged before the kill.
        let registered: Vec<String> = agent_procs
            .iter()
            .filter_map(|a| acknowledged_id(&h.log(*a)))
            .collect();
        let running: Vec<String> = runs
            .iter()
            .filter(|r| h.log(**r).contains("TASK_RUNNING"))
            .filter_map(|r| run_task_id(&h.log(*r)))
            .collect();
        h.signal(master, "KILL");
        h.wait_exit(master, WAIT);
        master = h.start_master(port, &master_dir);

        let after = wait_for(
            &format!("round {round}: every acknowledged agent back"),
            WAIT,
            || {
                agents(port).filter(|now| {
                    registered
                        .iter()
                        .all(|id| now.iter().any(|a| &a.id == id && a.active))
                })
            },
        );
        let tasks: BTreeMap<String, String> = wait_for(
            &format!("round {round}: every running task known"),
            WAIT,
            || {
                let known: BTreeMap<String, String> =
                    tasks(port)?.into_iter().map(|t| (t.id, t.state)).collect();
                running
                    .iter()
                    .all(|id| known.get(id).is_some_and(|s| s == "TASK_RUNNING"))
                    .then_some(known)
            },
        );
        eprintln!(
            "round {round}: {} agents acknowledged, {} back; {} tasks running, {} known",
            registered.len(),
            after.len(),
            running.len(),
            tasks.len()
        );
    }
    // No task ended along the way: every run is still waiting for its sleep.
    for r in &runs {
        assert!(h.try_exit(*r).is_none(), "{}", h.log(*r));
    }
}
