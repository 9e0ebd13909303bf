//! Shared harness of the end-to-end tests: unique work dirs, free loopback ports, `mesolite`
//! processes that are always killed (with the executors and tasks they left behind), a raw
//! HTTP/1.1 client over `std::net::TcpStream`, and polling with deadlines.

// Each test file uses a different part of this module.
#![allow(dead_code)]

pub mod scheduler;

use serde_json::Value;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_mesolite");

/// How long any condition may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// How often conditions are polled.
const POLL: Duration = Duration::from_millis(50);

/// Small explicit agent resources, so no test depends on the host.
pub const AGENT_RESOURCES: &str = "cpus:1;mem:512;disk:512;ports:[31000-31100]";

/// Faster offers than the one-second default keep the suite short.
pub const ALLOCATION_INTERVAL: &str = "200ms";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local_addr").port()
}

/// `127.0.0.1:PORT`.
pub fn loopback(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// Polls `check` every 50 ms until it returns `Some`, failing the test after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(POLL);
    }
}

/// The outcome of a short-lived `mesolite` command.
#[derive(Debug)]
pub struct CliOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// One process started by a harness.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
    exited: Option<ExitStatus>,
}

/// Handle of a process started by [`Harness::spawn`].
#[derive(Clone, Copy, Debug)]
pub struct ProcId(usize);

/// A test's world: a unique directory and every process started in it. Dropping it kills them
/// all (SIGTERM, then SIGKILL), kills every process whose working directory lies inside the
/// directory (executors and tasks, which run in their own sessions), and removes the directory.
pub struct Harness {
    pub dir: PathBuf,
    procs: Vec<Proc>,
}

impl Harness {
    pub fn new(tag: &str) -> Harness {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("mesolite-e2e-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("logs")).expect("create the test dir");
        // /proc/<pid>/cwd shows canonical paths; compare against the same form.
        let dir = dir.canonicalize().expect("canonicalize the test dir");
        Harness {
            dir,
            procs: Vec::new(),
        }
    }

    /// A path inside the test directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Starts `mesolite ARGS` with stdout and stderr appended to a log file.
    pub fn spawn(&mut self, name: &str, args: &[&str]) -> ProcId {
        self.spawn_env(name, args, &[])
    }

    /// Like [`Harness::spawn`] with extra environment variables.
    pub fn spawn_env(&mut self, name: &str, args: &[&str], env: &[(&str, &str)]) -> ProcId {
        let log = self
            .dir
            .join("logs")
            .join(format!("{}-{name}.log", self.procs.len()));
        let out = File::create(&log).expect("create a log file");
        let err = out.try_clone().expect("clone a log file");
        let child = Command::new(BIN)
            .args(args)
            .envs(env.iter().copied())
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
        self.procs.push(Proc {
            name: name.to_string(),
            child,
            log,
            exited: None,
        });
        ProcId(self.procs.len() - 1)
    }

    /// Starts `mesolite ARGS` with stdout and stderr in separate files, for `run` and `ctl`.
    pub fn spawn_cli(&mut self, name: &str, args: &[&str]) -> ProcId {
        let idx = self.procs.len();
        let out_path = self.dir.join("logs").join(format!("{idx}-{name}.stdout"));
        let log = self.dir.join("logs").join(format!("{idx}-{name}.stderr"));
        let child = Command::new(BIN)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(File::create(&out_path).expect("create a stdout file"))
            .stderr(File::create(&log).expect("create a stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
        self.procs.push(Proc {
            name: name.to_string(),
            child,
            log,
            exited: None,
        });
        ProcId(idx)
    }

    /// Runs `mesolite ARGS` to completion (at most `timeout`) and returns its output.
    pub fn cli(&mut self, args: &[&str], timeout: Duration) -> CliOutput {
        let id = self.spawn_cli("cli", args);
        self.wait_exit(id, timeout);
        self.cli_output(id)
    }

    /// The exit code and output of a process started with [`Harness::spawn_cli`] that exited.
    pub fn cli_output(&self, id: ProcId) -> CliOutput {
        let p = &self.procs[id.0];
        let stdout_path = p.log.with_extension("stdout");
        CliOutput {
            code: p.exited.and_then(|s| s.code()),
            stdout: fs::read_to_string(stdout_path).unwrap_or_default(),
            stderr: fs::read_to_string(&p.log).unwrap_or_default(),
        }
    }

    pub fn pid(&self, id: ProcId) -> u32 {
        self.procs[id.0].child.id()
    }

    /// What the process wrote to its log (stderr for CLI processes).
    pub fn log(&self, id: ProcId) -> String {
        fs::read_to_string(&self.procs[id.0].log).unwrap_or_default()
    }

    /// Sends a signal (`"TERM"`, `"KILL"`, ..) with the `kill` command.
    pub fn signal(&self, id: ProcId, sig: &str) {
        send_signal(self.pid(id), sig);
    }

    /// The exit status if the process has exited.
    pub fn try_exit(&mut self, id: ProcId) -> Option<ExitStatus> {
        let p = &mut self.procs[id.0];
        if p.exited.is_none() {
            p.exited = p.child.try_wait().expect("try_wait");
        }
        p.exited
    }

    /// Waits for the process to exit, failing the test (with its log) after `timeout`.
    pub fn wait_exit(&mut self, id: ProcId, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_exit(id) {
                return s;
            }
            if Instant::now() >= deadline {
                let p = &self.procs[id.0];
                panic!(
                    "{} (pid {}) did not exit within {timeout:?}; its log:\n{}",
                    p.name,
                    p.child.id(),
                    self.log(id)
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Starts a master on `port` with its registry in `work_dir` and waits until it answers.
    pub fn start_master(&mut self, port: u16, work_dir: &Path) -> ProcId {
        let listen = loopback(port);
        let dir = work_dir.to_str().expect("utf-8 path");
        let id = self.spawn(
            "master",
            &[
                "master",
                "--listen",
                &listen,
                "--work-dir",
                dir,
                "--allocation-interval",
                ALLOCATION_INTERVAL,
                "--hostname",
                "localhost",
            ],
        );
        self.wait_healthy(id, port);
        self.wait_recovered(id, port);
        id
    }

    /// Starts a master like [`Harness::start_master`] with `extra` flags appended.
    pub fn start_master_with(&mut self, port: u16, work_dir: &Path, extra: &[&str]) -> ProcId {
        let listen = loopback(port);
        let dir = work_dir.to_str().expect("utf-8 path");
        let mut args = vec![
            "master",
            "--listen",
            &listen,
            "--work-dir",
            dir,
            "--allocation-interval",
            ALLOCATION_INTERVAL,
            "--hostname",
            "localhost",
        ];
        args.extend_from_slice(extra);
        let id = self.spawn("master", &args);
        self.wait_healthy(id, port);
        self.wait_recovered(id, port);
        id
    }

    /// Starts an agent of the master on `master_port`, listening on `port`, and waits for its
    /// health.
    pub fn start_agent(
        &mut self,
        master_port: u16,
        port: u16,
        work_dir: &Path,
        resources: &str,
    ) -> ProcId {
        let id = self.spawn_agent(master_port, port, work_dir, resources, &[]);
        self.wait_healthy(id, port);
        id
    }

    /// Spawns an agent with `extra` flags without waiting for it (it may be meant to exit).
    pub fn spawn_agent(
        &mut self,
        master_port: u16,
        port: u16,
        work_dir: &Path,
        resources: &str,
        extra: &[&str],
    ) -> ProcId {
        let master = loopback(master_port);
        let listen = loopback(port);
        let dir = work_dir.to_str().expect("utf-8 path");
        let mut args = vec![
            "agent",
            "--master",
            &master,
            "--listen",
            &listen,
            "--work-dir",
            dir,
            "--resources",
            resources,
            "--hostname",
            "localhost",
            "--executor-shutdown-grace-period",
            "1s",
        ];
        args.extend_from_slice(extra);
        self.spawn("agent", &args)
    }

    /// Starts `standalone` on `port` with everything under `work_dir`.
    pub fn start_standalone(&mut self, port: u16, work_dir: &Path, env: &[(&str, &str)]) -> ProcId {
        let listen = loopback(port);
        let dir = work_dir.to_str().expect("utf-8 path");
        let id = self.spawn_env(
            "standalone",
            &[
                "standalone",
                "--listen",
                &listen,
                "--work-dir",
                dir,
                "--resources",
                "cpus:2;mem:1024;disk:1024;ports:[31000-32000]",
                "--allocation-interval",
                ALLOCATION_INTERVAL,
            ],
            env,
        );
        self.wait_healthy(id, port);
        self.wait_recovered(id, port);
        id
    }

    /// Waits until `GET /health` on `port` answers 200, failing early if the process exits.
    pub fn wait_healthy(&mut self, id: ProcId, port: u16) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.try_exit(id) {
                panic!(
                    "{} exited with {status} before serving; its log:\n{}",
                    self.procs[id.0].name,
                    self.log(id)
                );
            }
            if matches!(http(port, "GET", "/health", &[], b""), Ok(r) if r.status == 200) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{} never answered GET /health; its log:\n{}",
                    self.procs[id.0].name,
                    self.log(id)
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the master on `port` has recovered its registry (GET_AGENTS answers 200, not
    /// 503): `/health` answers before that, and scheduler calls would get 503.
    pub fn wait_recovered(&mut self, id: ProcId, port: u16) {
        let deadline = Instant::now() + WAIT;
        while try_operator(port, "GET_AGENTS").is_none() {
            if let Some(status) = self.try_exit(id) {
                panic!(
                    "{} exited with {status} while recovering; its log:\n{}",
                    self.procs[id.0].name,
                    self.log(id)
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} never finished recovery; its log:\n{}",
                self.procs[id.0].name,
                self.log(id)
            );
            std::thread::sleep(POLL);
        }
    }

    /// Every log of every process, for failure messages.
    pub fn all_logs(&self) -> String {
        let mut out = String::new();
        for (i, p) in self.procs.iter().enumerate() {
            if p.name == "cli" {
                continue;
            }
            out.push_str(&format!("----- {} (pid {}) -----\n", p.name, p.child.id()));
            out.push_str(&self.log(ProcId(i)));
        }
        out
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("logs of {}:\n{}", self.dir.display(), self.all_logs());
        }
        for p in &mut self.procs {
            if p.exited.is_none() && matches!(p.child.try_wait(), Ok(None)) {
                send_signal(p.child.id(), "TERM");
            }
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        for p in &mut self.procs {
            loop {
                match p.child.try_wait() {
                    Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL),
                    Ok(None) => {
                        let _ = p.child.kill();
                        let _ = p.child.wait();
                        break;
                    }
                    _ => break,
                }
            }
        }
        // Executors and tasks are not our children and run in their own sessions; what is left
        // of them has its working directory in a sandbox under the test directory.
        for _ in 0..50 {
            let left = processes_under(&self.dir);
            if left.is_empty() {
                break;
            }
            for p in left {
                send_signal(p.pid, "KILL");
            }
            std::thread::sleep(POLL);
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Sends a signal with the `kill` command (std has no `kill(2)`).
pub fn send_signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A live process as seen in /proc.
#[derive(Debug, Clone)]
pub struct ProcInfo {
    pub pid: u32,
    pub cwd: PathBuf,
    pub cmdline: Vec<String>,
}

impl ProcInfo {
    /// Whether this is a `mesolite executor` process.
    pub fn is_executor(&self) -> bool {
        self.cmdline.len() >= 2
            && self.cmdline[0].ends_with("mesolite")
            && self.cmdline[1] == "executor"
    }
}

/// Every live (non-zombie) process whose working directory is `dir` or inside it.
pub fn processes_under(dir: &Path) -> Vec<ProcInfo> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return found;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(cwd) = fs::read_link(e.path().join("cwd")) else {
            continue;
        };
        if !cwd.starts_with(dir) || !is_alive(pid) {
            continue;
        }
        let cmdline = fs::read(e.path().join("cmdline"))
            .map(|b| {
                b.split(|&c| c == 0)
                    .filter(|s| !s.is_empty())
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        found.push(ProcInfo { pid, cwd, cmdline });
    }
    found
}

/// The fields of /proc/<pid>/stat this suite looks at.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    pub state: char,
    pub ppid: u32,
    pub pgrp: u32,
    pub session: u32,
}

/// Parses /proc/<pid>/stat; `None` once the process is gone.
pub fn stat(pid: u32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces; fields follow the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    let pgrp = f.next()?.parse().ok()?;
    let session = f.next()?.parse().ok()?;
    Some(Stat {
        state,
        ppid,
        pgrp,
        session,
    })
}

/// Whether `pid` exists and has not exited (zombies count as exited).
pub fn is_alive(pid: u32) -> bool {
    matches!(stat(pid), Some(s) if s.state != 'Z' && s.state != 'X')
}

/// An HTTP response read to its end.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {}", self.text()))
    }
}

/// Sends one request with `Connection: close` and reads the whole response.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<HttpResponse> {
    let mut s = TcpStream::connect(loopback(port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(&request_bytes(port, method, path, headers, body))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_response(&raw)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unparsable HTTP response"))
}

/// The bytes of one HTTP/1.1 request.
pub fn request_bytes(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Splits a complete response into status, headers and (de-chunked) body.
fn parse_response(raw: &[u8]) -> Option<HttpResponse> {
    let end = find(raw, b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Some(HttpResponse {
        status,
        headers,
        body,
    })
}

/// The payload of a chunked body (as much as is complete).
pub fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(eol) = find(rest, b"\r\n") {
        let Some(len) = std::str::from_utf8(&rest[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
        else {
            break;
        };
        if len == 0 || rest.len() < eol + 2 + len {
            break;
        }
        body.extend_from_slice(&rest[eol + 2..eol + 2 + len]);
        rest = &rest[(eol + 4 + len).min(rest.len())..];
    }
    body
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `POST /api/v1` with an operator call; the JSON answer.
pub fn operator(port: u16, call_type: &str) -> Value {
    let body = format!("{{\"type\":\"{call_type}\"}}");
    let r = http(
        port,
        "POST",
        "/api/v1",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .unwrap_or_else(|e| panic!("{call_type}: {e}"));
    assert_eq!(
        r.status,
        200,
        "{call_type} answered {}: {}",
        r.status,
        r.text()
    );
    r.json()
}

/// POSTs an operator call (any JSON body) to `/api/v1`; the raw answer, whatever its status.
#[allow(dead_code)]
pub fn operator_call(port: u16, body: Value) -> HttpResponse {
    http(
        port,
        "POST",
        "/api/v1",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
    .unwrap_or_else(|e| panic!("POST /api/v1 {body}: {e}"))
}

/// Like [`operator`], but `None` while the master cannot be reached or does not answer 200.
pub fn try_operator(port: u16, call_type: &str) -> Option<Value> {
    let body = format!("{{\"type\":\"{call_type}\"}}");
    let r = http(
        port,
        "POST",
        "/api/v1",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .ok()?;
    (r.status == 200).then(|| r.json())
}

/// One registered agent as GET_AGENTS shows it.
#[derive(Debug, Clone)]
pub struct AgentView {
    pub id: String,
    pub port: u64,
    pub active: bool,
}

pub fn agents(port: u16) -> Option<Vec<AgentView>> {
    let v = try_operator(port, "GET_AGENTS")?;
    let list = v["get_agents"]["agents"].as_array()?.clone();
    Some(
        list.iter()
            .map(|a| AgentView {
                id: a["agent_info"]["id"]["value"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                port: a["agent_info"]["port"].as_u64().unwrap_or(0),
                active: a["active"].as_bool().unwrap_or(false),
            })
            .collect(),
    )
}

/// Waits until the master on `port` lists `n` active agents; returns them.
pub fn wait_agents(port: u16, n: usize) -> Vec<AgentView> {
    wait_for(&format!("{n} active agents"), WAIT, || {
        agents(port).filter(|a| a.len() == n && a.iter().all(|a| a.active))
    })
}

/// One task as GET_TASKS shows it.
#[derive(Debug, Clone)]
pub struct TaskView {
    pub id: String,
    pub state: String,
    pub agent_id: String,
    pub framework_id: String,
}

/// Every task of GET_TASKS (pending, running, completed, ..).
pub fn tasks(port: u16) -> Option<Vec<TaskView>> {
    let v = try_operator(port, "GET_TASKS")?;
    let lists = v["get_tasks"].as_object()?.clone();
    let mut out = Vec::new();
    for (_, list) in lists {
        for t in list.as_array().into_iter().flatten() {
            out.push(TaskView {
                id: t["task_id"]["value"].as_str().unwrap_or_default().into(),
                state: t["state"].as_str().unwrap_or_default().into(),
                agent_id: t["agent_id"]["value"].as_str().unwrap_or_default().into(),
                framework_id: t["framework_id"]["value"]
                    .as_str()
                    .unwrap_or_default()
                    .into(),
            });
        }
    }
    Some(out)
}

/// The task id a `mesolite run` printed on stderr (`mesolite run: task <id> TASK_...`).
pub fn run_task_id(stderr: &str) -> Option<String> {
    stderr.lines().find_map(|l| {
        let rest = l.strip_prefix("mesolite run: task ")?;
        Some(rest.split_whitespace().next()?.to_string())
    })
}

/// The sandbox of a task launched by `mesolite run` (its executor id is its task id), through
/// the `latest` run link, in the Mesos layout.
pub fn sandbox(agent_dir: &Path, agent_id: &str, framework_id: &str, task_id: &str) -> PathBuf {
    agent_dir
        .join("slaves")
        .join(agent_id)
        .join("frameworks")
        .join(framework_id)
        .join("executors")
        .join(task_id)
        .join("runs")
        .join("latest")
}

/// The seed of a test's random choices (kill moments): `MESOLITE_TEST_SEED` to replay one,
/// else the clock. Printed, so a failure can be replayed.
pub fn test_seed(test: &str) -> u64 {
    let seed = std::env::var("MESOLITE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!("{test}: seed {seed} (replay with MESOLITE_TEST_SEED={seed})");
    seed
}

/// The next value of a seeded sequence (splitmix64).
pub fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `sleep` processes (tasks) running under `dir`, by pid.
pub fn sleeps_under(dir: &Path) -> Vec<u32> {
    let mut pids: Vec<u32> = processes_under(dir)
        .into_iter()
        .filter(|p| p.cmdline.first().is_some_and(|c| c.ends_with("sleep")))
        .map(|p| p.pid)
        .collect();
    pids.sort_unstable();
    pids
}
