//! Tests of the command executor against a fake agent: a tiny HTTP/1.1 server on loopback that
//! answers `SUBSCRIBE` with a chunked RecordIO stream and `UPDATE` with `202`, acknowledging each.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::env::TaskStdio;
use super::{run_executor, ExecutorEnv, Outcome};

/// A status update as the fake agent received it.
#[derive(Debug, Clone)]
struct Received {
    task: String,
    state: String,
    message: Option<String>,
    at: Instant,
}

/// The `on_running` pseudo-event that makes the fake agent close the event stream.
const DISCONNECT: &str = "DISCONNECT";

/// What the fake agent does.
struct Script {
    /// The `TaskInfo` sent in `LAUNCH` right after `SUBSCRIBED` (unless `group` is set).
    task: Value,
    /// The `TaskInfo`s sent in one `LAUNCH_GROUP` right after `SUBSCRIBED`, instead of `task`.
    group: Option<Vec<Value>>,
    /// An event sent once `TASK_RUNNING` arrives (a `KILL` or `SHUTDOWN`).
    on_running: Option<Value>,
    /// A file the task creates once it is set up (a signal trap installed); `on_running` waits
    /// for it, so that the event does not race the task's start.
    ready_file: Option<PathBuf>,
}

fn wait_for_file(path: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

struct FakeAgent {
    addr: SocketAddr,
    updates: mpsc::Receiver<Received>,
}

fn send_event(stream: &Mutex<Option<TcpStream>>, event: &Value) {
    let json = event.to_string();
    let record = format!("{}\n{}", json.len(), json);
    let chunk = format!("{:x}\r\n{}\r\n", record.len(), record);
    if let Some(s) = stream.lock().expect("lock").as_mut() {
        s.write_all(chunk.as_bytes()).expect("write event");
    }
}

/// Reads one HTTP request and returns its JSON body.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Value> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    if !line.starts_with("POST /api/v1/executor ") {
        return None;
    }
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn serve(
    conn: TcpStream,
    script: &Script,
    events: &Mutex<Option<TcpStream>>,
    tx: &mpsc::Sender<Received>,
) {
    let mut writer = conn.try_clone().expect("clone");
    let mut reader = BufReader::new(conn);
    let Some(call) = read_request(&mut reader) else {
        return;
    };
    match call["type"].as_str() {
        Some("SUBSCRIBE") => {
            writer
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                      Transfer-Encoding: chunked\r\nMesos-Stream-Id: s1\r\n\r\n",
                )
                .expect("write head");
            *events.lock().expect("lock") = Some(writer);
            send_event(events, &json!({"type": "SUBSCRIBED", "subscribed": {}}));
            send_event(events, &json!({"type": "HEARTBEAT"}));
            let launch = match &script.group {
                Some(tasks) => json!({"type": "LAUNCH_GROUP",
                                      "launch_group": {"task_group": {"tasks": tasks}}}),
                None => json!({"type": "LAUNCH", "launch": {"task": script.task}}),
            };
            send_event(events, &launch);
        }
        Some("UPDATE") => {
            let status = &call["update"]["status"];
            assert_eq!(status["source"], "SOURCE_EXECUTOR");
            assert_eq!(call["executor_id"]["value"], "ex-1");
            assert_eq!(status["executor_id"]["value"], "ex-1");
            assert!(status["timestamp"].as_f64().is_some_and(|t| t > 1.0e9));
            let state = status["state"].as_str().unwrap_or_default().to_owned();
            // Record before answering: the executor sends its next update only after the 202.
            let _ = tx.send(Received {
                task: status["task_id"]["value"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                state: state.clone(),
                message: status["message"].as_str().map(str::to_owned),
                at: Instant::now(),
            });
            writer
                .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                .expect("write 202");
            send_event(
                events,
                &json!({"type": "ACKNOWLEDGED", "acknowledged": {
                    "task_id": status["task_id"], "uuid": status["uuid"]}}),
            );
            if state == "TASK_RUNNING" {
                if let Some(ready) = &script.ready_file {
                    wait_for_file(ready);
                }
                match &script.on_running {
                    Some(event) if event["type"] == DISCONNECT => {
                        if let Some(s) = events.lock().expect("lock").take() {
                            let _ = s.shutdown(std::net::Shutdown::Both);
                        }
                    }
                    Some(event) => send_event(events, event),
                    None => {}
                }
            }
        }
        other => panic!("unexpected call {other:?}"),
    }
}

impl FakeAgent {
    fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, updates) = mpsc::channel();
        let script = Arc::new(script);
        let events = Arc::new(Mutex::new(None));
        std::thread::spawn(move || {
            // The listener lives as long as the test process; each test has its own port.
            for conn in listener.incoming().flatten() {
                let (script, events, tx) = (script.clone(), events.clone(), tx.clone());
                std::thread::spawn(move || serve(conn, &script, &events, &tx));
            }
        });
        Self { addr, updates }
    }

    /// The updates received until `tasks` tasks reported a terminal state, by task id in
    /// arrival order.
    fn updates_until_terminal_of(
        &self,
        tasks: usize,
    ) -> std::collections::BTreeMap<String, Vec<String>> {
        let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        let mut terminal = 0;
        while terminal < tasks {
            let update = self
                .updates
                .recv_timeout(Duration::from_secs(20))
                .expect("an update within 20 s");
            if !matches!(update.state.as_str(), "TASK_STARTING" | "TASK_RUNNING") {
                terminal += 1;
            }
            out.entry(update.task).or_default().push(update.state);
        }
        out
    }

    /// The updates received until the first terminal one.
    fn updates_until_terminal(&self) -> Vec<Received> {
        let mut out = Vec::new();
        loop {
            let update = self
                .updates
                .recv_timeout(Duration::from_secs(20))
                .expect("an update within 20 s");
            let terminal = !matches!(update.state.as_str(), "TASK_STARTING" | "TASK_RUNNING");
            out.push(update);
            if terminal {
                return out;
            }
        }
    }
}

/// A fresh sandbox directory, removed on drop.
struct Sandbox(PathBuf);

impl Sandbox {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mesolite-exec-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("sandbox");
        Self(dir)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.0.join(name)).unwrap_or_default()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the executor against `agent` on another thread and returns its result.
fn run(agent: &FakeAgent, sandbox: &Sandbox, grace: Duration) -> mpsc::Receiver<Outcome> {
    let vars = [
        ("MESOS_FRAMEWORK_ID", "fw-1".to_owned()),
        ("MESOS_EXECUTOR_ID", "ex-1".to_owned()),
        ("MESOS_AGENT_ENDPOINT", agent.addr.to_string()),
        ("MESOS_SANDBOX", sandbox.0.display().to_string()),
        (
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
            format!("{}ms", grace.as_millis()),
        ),
    ];
    let mut env = ExecutorEnv::from_vars(vars.map(|(k, v)| (k.to_owned(), v))).expect("env");
    env.task_stdio = TaskStdio::Files {
        stdout: sandbox.0.join("stdout"),
        stderr: sandbox.0.join("stderr"),
    };
    env.handle_signals = false;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let outcome = run_executor(env).expect("executor runs");
        let _ = tx.send(outcome);
    });
    rx
}

fn states(updates: &[Received]) -> Vec<&str> {
    updates.iter().map(|u| u.state.as_str()).collect()
}

fn shell_task(command: &str) -> Value {
    json!({"name": "t", "task_id": {"value": "task-1"}, "agent_id": {"value": "a"},
           "resources": [], "command": {"value": command,
           "environment": {"variables": [{"name": "GREETING", "value": "there"}]}}})
}

/// A task that ignores SIGTERM, creating `ready` in its sandbox once the trap is set.
const IGNORE_TERM: &str = "trap '' TERM; touch ready; while true; do sleep 0.05; done";

const OUTCOME_WAIT: Duration = Duration::from_secs(20);

#[test]
fn echo_task_reports_starting_running_finished_and_writes_to_stdout() {
    let sandbox = Sandbox::new();
    let agent = FakeAgent::start(Script {
        task: shell_task("echo hi; echo $GREETING >&2; pwd >&2"),
        on_running: None,
        ready_file: None,
        group: None,
    });
    let outcome = run(&agent, &sandbox, Duration::from_secs(5));
    let updates = agent.updates_until_terminal();
    assert_eq!(
        states(&updates),
        ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    );
    assert_eq!(
        updates[2].message.as_deref(),
        Some("Command exited with status 0")
    );
    assert_eq!(outcome.recv_timeout(OUTCOME_WAIT), Ok(Outcome::Completed));
    assert_eq!(sandbox.read("stdout"), "hi\n");
    let stderr = sandbox.read("stderr");
    let mut lines = stderr.lines();
    assert_eq!(lines.next(), Some("there"));
    let cwd = PathBuf::from(lines.next().expect("pwd"));
    assert_eq!(cwd.canonicalize().ok(), sandbox.0.canonicalize().ok());
}

#[test]
fn kill_sends_sigterm_and_reports_killed_within_the_grace_period() {
    let sandbox = Sandbox::new();
    // The shell's own child must die with it: signals go to the task's process group.
    let agent = FakeAgent::start(Script {
        task: shell_task("sleep 30 & echo $! > sleep.pid; touch ready; wait"),
        on_running: Some(
            json!({"type": "KILL", "kill": {"task_id": {"value": "task-1"},
            "kill_policy": {"grace_period": {"nanoseconds": 3_000_000_000_i64}}}}),
        ),
        ready_file: Some(sandbox.0.join("ready")),
        group: None,
    });
    let outcome = run(&agent, &sandbox, Duration::from_secs(10));
    let updates = agent.updates_until_terminal();
    assert_eq!(
        states(&updates),
        ["TASK_STARTING", "TASK_RUNNING", "TASK_KILLED"]
    );
    assert_eq!(
        updates[2].message.as_deref(),
        Some("Command terminated with signal Terminated")
    );
    let took = updates[2].at - updates[1].at;
    assert!(took < Duration::from_secs(3), "killed after {took:?}");
    assert_eq!(outcome.recv_timeout(OUTCOME_WAIT), Ok(Outcome::Completed));
    let pid = std::fs::read_to_string(sandbox.0.join("sleep.pid")).expect("the sleep's pid");
    let proc_dir = std::path::PathBuf::from(format!("/proc/{}", pid.trim()));
    let gone = (0..100).any(|_| {
        let state = std::fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
        let gone = state.is_empty() || state.contains(") Z ");
        if !gone {
            std::thread::sleep(Duration::from_millis(20));
        }
        gone
    });
    assert!(
        gone,
        "the task's background sleep {} survived the kill",
        pid.trim()
    );
}

#[test]
fn kill_escalates_to_sigkill_when_the_task_ignores_sigterm() {
    let sandbox = Sandbox::new();
    let agent = FakeAgent::start(Script {
        task: shell_task(IGNORE_TERM),
        on_running: Some(
            json!({"type": "KILL", "kill": {"task_id": {"value": "task-1"},
            "kill_policy": {"grace_period": {"nanoseconds": "500000000"}}}}),
        ),
        ready_file: Some(sandbox.0.join("ready")),
        group: None,
    });
    let outcome = run(&agent, &sandbox, Duration::from_secs(10));
    let updates = agent.updates_until_terminal();
    assert_eq!(
        states(&updates),
        ["TASK_STARTING", "TASK_RUNNING", "TASK_KILLED"]
    );
    assert_eq!(
        updates[2].message.as_deref(),
        Some("Command terminated with signal Killed")
    );
    let took = updates[2].at - updates[1].at;
    assert!(
        took >= Duration::from_millis(500),
        "SIGKILL came early: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "SIGKILL came late: {took:?}");
    assert_eq!(outcome.recv_timeout(OUTCOME_WAIT), Ok(Outcome::Completed));
}

#[test]
fn shutdown_kills_the_task_with_the_shutdown_grace_period() {
    let sandbox = Sandbox::new();
    let agent = FakeAgent::start(Script {
        task: shell_task(IGNORE_TERM),
        on_running: Some(json!({"type": "SHUTDOWN"})),
        ready_file: Some(sandbox.0.join("ready")),
        group: None,
    });
    let outcome = run(&agent, &sandbox, Duration::from_millis(300));
    let updates = agent.updates_until_terminal();
    assert_eq!(
        states(&updates),
        ["TASK_STARTING", "TASK_RUNNING", "TASK_KILLED"]
    );
    let took = updates[2].at - updates[1].at;
    assert!(
        took >= Duration::from_millis(300),
        "SIGKILL came early: {took:?}"
    );
    assert_eq!(outcome.recv_timeout(OUTCOME_WAIT), Ok(Outcome::Completed));
}

#[test]
fn non_zero_exit_reports_failed_with_the_status() {
    let sandbox = Sandbox::new();
    let agent = FakeAgent::start(Script {
        task: shell_task("exit 3"),
        on_running: None,
        ready_file: None,
        group: None,
    });
    let outcome = run(&agent, &sandbox, Duration::from_secs(5));
    let updates = agent.updates_until_terminal();
    assert_eq!(
        states(&updates),
        ["TASK_STARTING", "TASK_RUNNING", "TASK_FAILED"]
    );
    assert_eq!(
        updates[2].message.as_deref(),
        Some("Command exited with status 3")
    );
    assert_eq!(outcome.recv_timeout(OUTCOME_WAIT), Ok(Outcome::Completed));
}

#[test]
fn argv_command_runs_without_a_shell_and_a_missing_program_fails_the_task() {
    let sandbox = Sandbox::new();
    let agent = FakeAgent::start(Script {
        task: json!({"name": "t", "task_id": {"value": "task-1"}, "command": {
            "shell": false, "value": "printf", "arguments": ["printf", "%s-%s", "a b", "$HOME"]}}),
        on_running: None,
        ready_file: None,
        group: None,
    });
    let outcome = run(&agent, &sandbox, Duration::from_secs(5));
    let updates = agent.updates_until_terminal();
    assert_eq!(
        states(&updates),
        ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    );
    assert_eq!(outcome.recv_timeout(OUTCOME_WAIT), Ok(Outcome::Completed));
    assert_eq!(sandbox.read("stdout"), "a b-$HOME");

    let sandbox = Sandbox::new();
    let agent = FakeAgent::start(Script {
        task: json!({"name": "t", "task_id": {"value": "task-1"}, "command": {
            "shell": false, "value": "/nonexistent/program"}}),
        on_running: None,
        ready_file: None,
        group: None,
    });
    let outcome = run(&agent, &sandbox, Duration::from_secs(5));
    let updates = agent.updates_until_terminal();
    assert_eq!(states(&updates), ["TASK_STARTING", "TASK_FAILED"]);
    let message = updates[1].message.as_deref().unwrap_or_default();
    assert!(message.contains("/nonexistent/program"), "{message}");
    assert_eq!(outcome.recv_timeout(OUTCOME_WAIT), Ok(Outcome::Completed));
}

/// Whether process `pid` is gone or a zombie (killed but not reaped: the test process is its parent).
fn dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

#[test]
fn a_lost_agent_ends_a_non_checkpointing_executor_and_kills_its_task() {
    let sandbox = Sandbox::new();
    let pid_file = sandbox.0.join("task.pid");
    let agent = FakeAgent::start(Script {
        task: shell_task(&format!("echo $$ > {}; exec sleep 30", pid_file.display())),
        on_running: Some(json!({"type": DISCONNECT})),
        ready_file: Some(pid_file.clone()),
        group: None,
    });
    let outcome = run(&agent, &sandbox, Duration::from_secs(5));
    assert_eq!(outcome.recv_timeout(OUTCOME_WAIT), Ok(Outcome::AgentLost));
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !dead(pid) {
        assert!(Instant::now() < deadline, "task {pid} still alive");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn group_task(id: &str, command: &str) -> Value {
    json!({"name": id, "task_id": {"value": id}, "agent_id": {"value": "a"},
           "resources": [], "command": {"value": command}})
}

fn by_task(pairs: &[(&str, &[&str])]) -> std::collections::BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(t, states)| {
            (
                t.to_string(),
                states.iter().map(|s| s.to_string()).collect(),
            )
        })
        .collect()
}

#[test]
fn a_task_group_runs_each_task_as_its_own_process_and_reports_each() {
    let sandbox = Sandbox::new();
    let agent = FakeAgent::start(Script {
        task: Value::Null,
        group: Some(vec![
            group_task("a", "sleep 0.2; echo a > a.out"),
            group_task("b", "sleep 0.2; echo b > b.out"),
        ]),
        on_running: None,
        ready_file: None,
    });
    let outcome = run(&agent, &sandbox, Duration::from_secs(5));
    let updates = agent.updates_until_terminal_of(2);
    let all = ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"];
    assert_eq!(updates, by_task(&[("a", &all), ("b", &all)]));
    assert_eq!(outcome.recv_timeout(OUTCOME_WAIT), Ok(Outcome::Completed));
    assert_eq!(sandbox.read("a.out"), "a\n");
    assert_eq!(sandbox.read("b.out"), "b\n");
}

#[test]
fn killing_one_task_of_a_group_kills_all_of_them() {
    let sandbox = Sandbox::new();
    let agent = FakeAgent::start(Script {
        task: Value::Null,
        group: Some(vec![
            group_task("a", "sleep 30"),
            group_task("b", IGNORE_TERM),
        ]),
        on_running: Some(json!({"type": "KILL", "kill": {"task_id": {"value": "a"},
            "kill_policy": {"grace_period": {"nanoseconds": 300_000_000}}}})),
        ready_file: None,
    });
    let started = Instant::now();
    let outcome = run(&agent, &sandbox, Duration::from_secs(30));
    let updates = agent.updates_until_terminal_of(2);
    let killed = ["TASK_STARTING", "TASK_RUNNING", "TASK_KILLED"];
    assert_eq!(updates, by_task(&[("a", &killed), ("b", &killed)]));
    // `b` ignores SIGTERM: the KILL's grace period, not the 30 s shutdown grace, applies to it.
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(outcome.recv_timeout(OUTCOME_WAIT), Ok(Outcome::Completed));
}

#[test]
fn a_failed_task_kills_the_rest_of_its_group_and_shutdown_kills_everything() {
    let sandbox = Sandbox::new();
    let agent = FakeAgent::start(Script {
        task: Value::Null,
        group: Some(vec![
            group_task("fails", "sleep 0.2; exit 3"),
            group_task("sleeps", "sleep 30"),
        ]),
        on_running: None,
        ready_file: None,
    });
    let outcome = run(&agent, &sandbox, Duration::from_secs(5));
    let updates = agent.updates_until_terminal_of(2);
    assert_eq!(
        updates,
        by_task(&[
            ("fails", &["TASK_STARTING", "TASK_RUNNING", "TASK_FAILED"]),
            ("sleeps", &["TASK_STARTING", "TASK_RUNNING", "TASK_KILLED"]),
        ])
    );
    assert_eq!(outcome.recv_timeout(OUTCOME_WAIT), Ok(Outcome::Completed));

    let sandbox = Sandbox::new();
    let agent = FakeAgent::start(Script {
        task: Value::Null,
        group: Some(vec![
            group_task("x", "sleep 30"),
            group_task("y", "sleep 30"),
        ]),
        on_running: Some(json!({"type": "SHUTDOWN"})),
        ready_file: None,
    });
    let outcome = run(&agent, &sandbox, Duration::from_secs(5));
    let updates = agent.updates_until_terminal_of(2);
    let killed = ["TASK_STARTING", "TASK_RUNNING", "TASK_KILLED"];
    assert_eq!(updates, by_task(&[("x", &killed), ("y", &killed)]));
    assert_eq!(outcome.recv_timeout(OUTCOME_WAIT), Ok(Outcome::Completed));
}
