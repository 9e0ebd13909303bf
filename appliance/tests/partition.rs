//! End to end: an agent partitioned from its master (SIGSTOP) longer than the ping timeout is
//! marked unreachable and its task reported TASK_UNREACHABLE to a PARTITION_AWARE framework;
//! when it comes back (SIGCONT) it re-registers under the same id and the same task process is
//! TASK_RUNNING again, never killed.

mod common;

use common::scheduler::Scheduler;
use common::*;
use serde_json::json;

/// Polls `check` until it answers or `timeout` passes.
fn wait_for_or_none<T>(
    timeout: std::time::Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_partitioned_agent_comes_back_with_its_task_running_and_nothing_killed() {
    let mut h = Harness::new("partition");
    let master_port = free_port();
    let agent_port = free_port();
    let master = h.start_master_with(
        master_port,
        &h.path("master"),
        &[
            "--agent-ping-timeout",
            "1secs",
            "--max-agent-ping-timeouts",
            "2",
        ],
    );
    let agent_dir = h.path("agent");
    let agent = h.start_agent(master_port, agent_port, &agent_dir, AGENT_RESOURCES);
    let agent_id = wait_agents(master_port, 1)[0].id.clone();

    let s = Scheduler::subscribe(
        master_port,
        json!({"user": "nobody", "name": "partition", "failover_timeout": 3600.0,
               "checkpoint": true, "capabilities": [{"type": "PARTITION_AWARE"}]}),
    )
    .acknowledging();
    let offers = s.wait_event("OFFERS", |_| true);
    let offer = &offers["offers"]["offers"][0];
    s.accepted(json!({
        "type": "ACCEPT",
        "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": [{
                "name": "sleeper",
                "task_id": {"value": "sleeper"},
                "agent_id": offer["agent_id"],
                "resources": [
                    {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                    {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}
                ],
                "command": {"value": "exec sleep 1000"}
            }]}}],
        }
    }));
    s.wait_update("sleeper", "TASK_RUNNING");
    let pids = wait_for("the task's sleep process", WAIT, || {
        let p = sleeps_under(&agent_dir);
        (p.len() == 1).then_some(p)
    });

    // The partition: the agent process stops answering (its executor and task keep running).
    h.signal(agent, "STOP");
    let unreachable = s.wait_update("sleeper", "TASK_UNREACHABLE");
    assert_eq!(
        unreachable["reason"], "REASON_AGENT_REMOVED",
        "{unreachable}"
    );
    assert_eq!(unreachable["source"], "SOURCE_MASTER", "{unreachable}");
    assert!(
        unreachable.get("unreachable_time").is_some(),
        "{unreachable}"
    );
    // An empty list is omitted from the answer.
    let left = wait_for_or_none(WAIT, || {
        let v = try_operator(master_port, "GET_AGENTS")?;
        let n = v["get_agents"]["agents"].as_array().map_or(0, Vec::len);
        (n == 0).then_some(())
    });
    assert!(
        left.is_some(),
        "the agent never left GET_AGENTS:\n{}",
        h.all_logs()
    );
    let listed = try_operator(master_port, "GET_TASKS").expect("GET_TASKS");
    assert_eq!(
        listed["get_tasks"]["unreachable_tasks"][0]["task_id"]["value"], "sleeper",
        "{listed}"
    );
    assert_eq!(
        listed["get_tasks"]["unreachable_tasks"][0]["state"], "TASK_UNREACHABLE",
        "{listed}"
    );
    let state = http(master_port, "GET", "/metrics/snapshot", &[], b"").expect("metrics");
    assert_eq!(
        state.json()["master/slaves_unreachable"],
        1.0,
        "{}",
        state.text()
    );
    assert_eq!(
        sleeps_under(&agent_dir),
        pids,
        "the task runs through the partition"
    );

    // The partition heals: same agent id, same task process, TASK_RUNNING again.
    h.signal(agent, "CONT");
    let back = wait_agents(master_port, 1);
    assert_eq!(back[0].id, agent_id);
    wait_for("TASK_RUNNING after TASK_UNREACHABLE", WAIT, || {
        let states = s.states_of("sleeper");
        let gone = states.iter().position(|st| st == "TASK_UNREACHABLE")?;
        states[gone..]
            .iter()
            .any(|st| st == "TASK_RUNNING")
            .then_some(())
    });
    let states = s.states_of("sleeper");
    assert!(
        states.iter().all(|st| matches!(
            st.as_str(),
            "TASK_STARTING" | "TASK_RUNNING" | "TASK_UNREACHABLE"
        )),
        "nothing terminal: {states:?}"
    );
    let tasks = wait_for("the task live in GET_TASKS", WAIT, || {
        tasks(master_port).filter(|t| {
            t.iter()
                .any(|t| t.id == "sleeper" && t.state == "TASK_RUNNING")
        })
    });
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0].agent_id, agent_id);
    assert_eq!(
        sleeps_under(&agent_dir),
        pids,
        "the same process, never killed"
    );
    assert!(pids.iter().all(|p| is_alive(*p)));
    let log = h.log(master);
    assert!(log.contains("is unreachable"), "{log}");
}
