//! End-to-end tests of sandbox garbage collection: the sandbox of a finished task is removed
//! `--gc-delay` after its executor is done, and a restarted agent removes leftover run dirs of
//! executors it does not know once they are older than `--gc-delay` (aged by their mtime).

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Starts an agent of the master on `master_port` with `extra` flags and waits for its health.
fn spawn_agent(h: &mut Harness, master_port: u16, port: u16, dir: &Path, extra: &[&str]) -> ProcId {
    let id = h.spawn_agent(master_port, port, dir, AGENT_RESOURCES, extra);
    h.wait_healthy(id, port);
    id
}

/// Runs `mesolite run -- true` to its end and returns the task as the master shows it.
fn run_true(h: &mut Harness, port: u16) -> TaskView {
    let master = loopback(port);
    let out = h.cli(&["run", "--master", &master, "--", "true"], WAIT);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stderr.contains("TASK_FINISHED"), "{out:?}");
    let id = run_task_id(&out.stderr).expect("task id");
    let all = tasks(port).expect("GET_TASKS");
    all.into_iter()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("task {id} unknown to the master"))
}

/// Creates the run dir `<dir>/<rel>` with a file in it, its mtime `age` ago.
fn leftover(dir: &Path, rel: &str, age: Duration) -> PathBuf {
    let run = dir.join(rel);
    std::fs::create_dir_all(&run).expect("create a leftover run dir");
    std::fs::write(run.join("stdout"), b"old output\n").expect("write into it");
    let then = SystemTime::now() - age;
    std::fs::File::open(&run)
        .and_then(|f| f.set_modified(then))
        .expect("age the run dir");
    run
}

#[test]
fn a_finished_tasks_sandbox_is_removed_after_the_gc_delay() {
    let mut h = Harness::new("gc-delay");
    let port = free_port();
    h.start_master(port, &h.path("master"));
    let dir = h.path("agent");
    let agent_port = free_port();
    let agent = spawn_agent(&mut h, port, agent_port, &dir, &["--gc-delay", "2secs"]);
    wait_agents(port, 1);

    let t = run_true(&mut h, port);
    let run = sandbox(&dir, &t.agent_id, &t.framework_id, &t.id);
    let executor_dir = run.parent().and_then(Path::parent).expect("executor dir");
    assert!(
        run.is_dir(),
        "the sandbox {} is kept for now; agent log:\n{}",
        run.display(),
        h.log(agent)
    );
    assert!(run.join("stdout").exists());
    wait_for("the sandbox to be removed", WAIT, || {
        (!executor_dir.exists()).then_some(())
    });
    // The framework had only this executor: its dir goes too, the agent's own dir stays.
    let agent_dir = dir.join("slaves").join(&t.agent_id);
    assert!(!agent_dir.join("frameworks").join(&t.framework_id).exists());
    assert!(agent_dir.is_dir());
    assert!(
        h.log(agent).contains("removed sandbox dir"),
        "{}",
        h.log(agent)
    );
}

#[test]
fn a_restarted_agent_removes_old_leftovers_of_unknown_executors() {
    let mut h = Harness::new("gc-leftover");
    let port = free_port();
    h.start_master(port, &h.path("master"));
    let dir = h.path("agent");
    let agent_port = free_port();
    let agent = spawn_agent(&mut h, port, agent_port, &dir, &[]);
    let agent_id = wait_agents(port, 1)[0].id.clone();
    h.signal(agent, "TERM");
    h.wait_exit(agent, WAIT);

    // Default --gc-delay (1 week): ten days old goes at once, an hour old stays.
    let day = Duration::from_secs(86_400);
    let old_fw = format!("slaves/{agent_id}/frameworks/gone-fw");
    let old = leftover(&dir, &format!("{old_fw}/executors/e1/runs/c1"), 10 * day);
    let fresh = leftover(
        &dir,
        "slaves/older-agent/frameworks/f/executors/e2/runs/c2",
        Duration::from_secs(3600),
    );
    std::os::unix::fs::symlink("c1", old.with_file_name("latest")).expect("latest link");
    let agent = spawn_agent(&mut h, port, agent_port, &dir, &[]);
    wait_for("the old leftover to be removed", WAIT, || {
        (!dir.join(&old_fw).exists()).then_some(())
    });
    assert!(fresh.join("stdout").exists(), "{}", h.log(agent));
    assert!(dir.join("slaves").join(&agent_id).is_dir());
    let log = h.log(agent);
    assert!(log.contains("scheduled 2 leftover sandboxes"), "{log}");
}
