//! End-to-end tests of `mesolite standalone` driven by `mesolite run` and `mesolite ctl`: exit
//! codes, printed states and output, the environment tasks see, and the sandbox layout on disk.

mod common;

use common::*;
use std::time::Duration;

const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// One standalone process with its single agent registered.
fn standalone(h: &mut Harness, env: &[(&str, &str)]) -> (u16, String) {
    let port = free_port();
    let work = h.path("work");
    h.start_standalone(port, &work, env);
    let agents = wait_agents(port, 1);
    (port, agents[0].id.clone())
}

fn run(h: &mut Harness, port: u16, args: &[&str]) -> CliOutput {
    let master = loopback(port);
    let mut all = vec!["run", "--master", &master];
    all.extend_from_slice(args);
    h.cli(&all, RUN_TIMEOUT)
}

#[test]
fn echo_finishes_prints_its_output_and_leaves_a_mesos_sandbox() {
    let mut h = Harness::new("echo");
    let (port, agent_id) = standalone(&mut h, &[]);

    let out = run(&mut h, port, &["--", "echo", "hello"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("hello"), "{out:?}");
    assert!(out.stderr.contains("TASK_FINISHED"), "{out:?}");
    let task_id = run_task_id(&out.stderr).expect("a task id on stderr");

    // The master remembers the finished task on the one agent.
    let all = tasks(port).expect("GET_TASKS");
    let task = all
        .iter()
        .find(|t| t.id == task_id)
        .unwrap_or_else(|| panic!("task {task_id} not in {all:?}"));
    assert_eq!(task.state, "TASK_FINISHED");
    assert_eq!(task.agent_id, agent_id);

    // The sandbox is in the Mesos layout under <work dir>/agent, behind a `latest` link.
    let sandbox = sandbox(
        &h.path("work/agent"),
        &agent_id,
        &task.framework_id,
        &task_id,
    );
    let link = std::fs::symlink_metadata(&sandbox).expect("runs/latest exists");
    assert!(link.file_type().is_symlink(), "runs/latest is a symlink");
    let stdout = std::fs::read_to_string(sandbox.join("stdout")).expect("sandbox stdout");
    assert!(stdout.contains("hello"), "sandbox stdout: {stdout:?}");
    assert!(sandbox.join("stderr").is_file());

    // The agent serves the same file over /files/read (served on the one port in standalone).
    let path = sandbox.join("stdout");
    let r = http(
        port,
        "GET",
        &format!("/files/read?path={}&offset=0", path.display()),
        &[],
        b"",
    )
    .expect("GET /files/read");
    assert_eq!(r.status, 200, "{}", r.text());
    let data = r.json()["data"].as_str().unwrap_or_default().to_string();
    assert!(data.contains("hello"), "files/read data: {data:?}");
    // A path outside the agent's work dir is refused.
    let r = http(port, "GET", "/files/read?path=/etc/passwd", &[], b"").expect("GET /files/read");
    assert_eq!(r.status, 404, "{}", r.text());

    // `ctl tasks` shows it, as a table and as v1 JSON.
    let master = loopback(port);
    let table = h.cli(&["ctl", "--master", &master, "tasks"], WAIT);
    assert_eq!(table.code, Some(0), "{table:?}");
    assert!(table.stdout.contains(&task_id) && table.stdout.contains("TASK_FINISHED"));
    let json = h.cli(&["ctl", "--master", &master, "--json", "tasks"], WAIT);
    assert_eq!(json.code, Some(0), "{json:?}");
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("ctl --json is JSON");
    assert_eq!(v["type"], "GET_TASKS");
    assert!(json.stdout.contains(&task_id));
}

#[test]
fn failing_and_unlaunchable_commands_exit_1() {
    let mut h = Harness::new("fail");
    let (port, _) = standalone(&mut h, &[]);

    let out = run(&mut h, port, &["--", "false"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("TASK_FAILED"), "{out:?}");
    assert!(!out.stderr.contains("TASK_FINISHED"), "{out:?}");

    let out = run(&mut h, port, &["--", "/nonexistent"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("TASK_FAILED"), "{out:?}");
    assert!(out.stderr.contains("/nonexistent"), "{out:?}");
}

#[test]
fn shell_commands_see_the_agent_environment() {
    let mut h = Harness::new("shell");
    let home = format!("/nonexistent/e2e-home-{}", std::process::id());
    let (port, _) = standalone(&mut h, &[("HOME", &home)]);

    let out = run(&mut h, port, &["--shell", "echo $HOME; echo two words"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines.contains(&home.as_str()), "{out:?}");
    assert!(lines.contains(&"two words"), "{out:?}");
    assert!(out.stderr.contains("TASK_FINISHED"), "{out:?}");

    // A shell exit status other than 0 fails the task.
    let out = run(&mut h, port, &["--shell", "exit 3"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("TASK_FAILED"), "{out:?}");
}

#[test]
fn run_and_ctl_without_a_master_fail_cleanly() {
    let mut h = Harness::new("nomaster");
    let master = loopback(free_port());
    let out = h.cli(&["ctl", "--master", &master, "agents"], WAIT);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(!out.stderr.trim().is_empty(), "{out:?}");
    assert_eq!(out.stderr.trim().lines().count(), 1, "{out:?}");

    // A run without a command is a usage error.
    let out = h.cli(&["run", "--master", &master], WAIT);
    assert_eq!(out.code, Some(2), "{out:?}");
}

#[test]
fn a_fifo_in_a_sandbox_does_not_hang_the_agent() {
    let mut h = Harness::new("fifo");
    let (port, _) = standalone(&mut h, &[]);
    let master = loopback(port);
    let run = h.spawn_cli(
        "run",
        &[
            "run",
            "--master",
            &master,
            "--shell",
            "mkfifo pipe && sleep 30",
        ],
    );
    let work = h.path("work/agent");
    let pipe = wait_for("the task to make its fifo", WAIT, || {
        if let Some(status) = h.try_exit(run) {
            panic!("run exited early with {status}: {}", h.log(run));
        }
        processes_under(&work)
            .into_iter()
            .map(|p| p.cwd.join("pipe"))
            .find(|p| p.exists())
    });

    // Reading it must not block the process that serves the agent (and here the master too).
    let answer = http(
        port,
        "GET",
        &format!("/files/read?path={}", pipe.display()),
        &[],
        b"",
    );
    match answer {
        Ok(r) => assert!(
            (400..500).contains(&r.status),
            "a fifo read answered {}: {}",
            r.status,
            r.text()
        ),
        Err(e) => panic!("GET /files/read of a fifo got no answer: {e}"),
    }
    let r = http(port, "GET", "/health", &[], b"").expect("GET /health");
    assert_eq!(r.status, 200);
}
