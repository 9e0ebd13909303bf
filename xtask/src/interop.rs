//! `cargo xtask interop`: pymesos 0.3.15 (a real Mesos client library) against a real mesolite
//! master and agent on loopback.
//!
//! The job finds a Python 3.10 or older (pymesos 0.3.15 does not run on newer ones), installs
//! xtask/interop/requirements.txt into the virtualenv target/interop-venv, builds the release
//! binary, starts `mesolite master` and one `mesolite agent` on free loopback ports with temporary
//! work directories, waits for `/health` and for the agent to be listed by GET_AGENTS, and runs the
//! Python programs in xtask/interop. Each program prints `PASS ...` and `FAIL ...` lines; the job
//! counts them, ends with `N passed, M failed` and fails if any check failed. The master, the agent
//! and any executor left behind are stopped (SIGTERM, then SIGKILL) and the work directories
//! removed, on failure too.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::cmd;
use crate::{flag_value, parse_number, XtaskError};

/// The Python programs and the requirements file, relative to the workspace root.
const INTEROP_DIR: &str = "xtask/interop";
/// The virtualenv, relative to the workspace root (under `target/`, never committed).
const VENV_DIR: &str = "target/interop-venv";
/// The agent's resources, given explicitly so offers are the same on every machine.
const AGENT_RESOURCES: &str = "cpus:4;mem:4096;disk:1024;ports:[31000-32000]";
/// Tasks the throughput scheduler launches unless `--tasks` says otherwise.
const DEFAULT_TASKS: u64 = 50;
/// The newest Python minor version pymesos 0.3.15 runs on, and the oldest this job tries.
const NEWEST_MINOR: u32 = 10;
const OLDEST_MINOR: u32 = 6;
/// How long the master and agent get to become ready.
const READY_LIMIT: Duration = Duration::from_secs(30);
/// How long a process gets to exit after SIGTERM before it is killed.
const GRACE: Duration = Duration::from_secs(5);
/// Lets a user pick the interpreter explicitly.
const PYTHON_ENV: &str = "MESOLITE_INTEROP_PYTHON";

/// Options of `cargo xtask interop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InteropArgs {
    /// Tasks the pymesos throughput scheduler launches (the benchmark uses 200).
    pub tasks: u64,
    /// Keep the temporary work directories and logs for inspection.
    pub keep: bool,
}

impl InteropArgs {
    pub fn parse(args: &[String]) -> Result<InteropArgs, XtaskError> {
        let mut parsed = InteropArgs {
            tasks: DEFAULT_TASKS,
            keep: false,
        };
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            if let Some(v) = flag_value("--tasks", arg, &mut rest)? {
                parsed.tasks = parse_number("--tasks", v)?;
                if parsed.tasks == 0 {
                    return Err(XtaskError::Usage("`--tasks` must be at least 1".into()));
                }
            } else if arg == "--keep" {
                parsed.keep = true;
            } else {
                return Err(XtaskError::Usage(format!(
                    "`interop` does not know `{arg}`"
                )));
            }
        }
        Ok(parsed)
    }
}

/// Counts of PASS and FAIL lines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub passed: u32,
    pub failed: u32,
}

impl Tally {
    /// Counts one output line if it is a check result.
    fn count_line(&mut self, line: &str) {
        if line.starts_with("PASS ") {
            self.passed += 1;
        } else if line.starts_with("FAIL ") {
            self.failed += 1;
        }
    }

    fn add(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
    }

    /// Records a check decided by xtask itself, printing it like the Python programs do.
    fn record(&mut self, name: &str, outcome: Result<String, String>) {
        match outcome {
            Ok(detail) if detail.is_empty() => {
                println!("PASS xtask: {name}");
                self.passed += 1;
            }
            Ok(detail) => {
                println!("PASS xtask: {name} ({detail})");
                self.passed += 1;
            }
            Err(reason) => {
                println!("FAIL xtask: {name}: {reason}");
                self.failed += 1;
            }
        }
    }
}

pub fn run(args: &InteropArgs) -> Result<(), XtaskError> {
    run_with(args, None)
}

/// [`run`] against `binary` when given (the bench passes the static binary that ships), else
/// against the host's release build.
pub fn run_with(args: &InteropArgs, binary: Option<&Path>) -> Result<(), XtaskError> {
    let started = Instant::now();
    let root = cmd::workspace_root();
    eprintln!("\n==> interop: Python and pymesos");
    let python = find_python()?;
    let venv_python = prepare_venv(&root, &python)?;

    let binary = match binary {
        Some(b) => b.to_path_buf(),
        None => {
            eprintln!("\n==> interop: mesolite release binary");
            cmd::run(cmd::cargo().args(["build", "--release", "-p", "mesolite"]))?;
            let target_dir = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .map_or_else(|| root.join("target"), |dir| root.join(dir));
            target_dir.join("release/mesolite")
        }
    };

    let scratch = Scratch::create(args.keep)?;
    let tally = with_cluster(&binary, &scratch, |cluster| {
        run_programs(&root, &venv_python, cluster, args.tasks)
    })?;
    if tally.failed > 0 {
        print_logs(&scratch);
    }
    drop(scratch);
    println!(
        "{} passed, {} failed ({})",
        tally.passed,
        tally.failed,
        cmd::seconds(started.elapsed())
    );
    if tally.failed > 0 || tally.passed == 0 {
        return Err(XtaskError::Check(format!(
            "interop: {} of {} checks failed",
            tally.failed,
            tally.passed + tally.failed
        )));
    }
    Ok(())
}

/// The addresses of the running master and agent.
struct Cluster {
    master: String,
    agent: String,
}

/// Starts a master and an agent, waits until both are ready, runs `body`, then stops both.
fn with_cluster(
    binary: &Path,
    scratch: &Scratch,
    body: impl FnOnce(&Cluster) -> Result<Tally, XtaskError>,
) -> Result<Tally, XtaskError> {
    let master_dir = scratch.subdir("master")?;
    let agent_dir = scratch.subdir("agent")?;
    let (master_port, agent_port) = free_ports()?;
    let cluster = Cluster {
        master: format!("127.0.0.1:{master_port}"),
        agent: format!("127.0.0.1:{agent_port}"),
    };
    let mut master_cmd = Command::new(binary);
    master_cmd
        .arg("master")
        .args(["--listen", &cluster.master, "--advertise-ip", "127.0.0.1"])
        .arg("--work-dir")
        .arg(&master_dir);
    let master = Running::start("master", &mut master_cmd, &scratch.log("master"))?;
    let mut agent_cmd = Command::new(binary);
    agent_cmd
        .arg("agent")
        .args(["--master", &cluster.master])
        .args(["--listen", &cluster.agent, "--advertise-ip", "127.0.0.1"])
        .arg("--work-dir")
        .arg(&agent_dir)
        .args(["--resources", AGENT_RESOURCES]);
    let agent = Running::start("agent", &mut agent_cmd, &scratch.log("agent"))?;

    let mut tally = Tally::default();
    let ready = wait_ready(&cluster);
    let ready_ok = ready.is_ok();
    tally.record("master and agent ready", ready);
    let result = if ready_ok {
        body(&cluster).map(|t| {
            tally.add(t);
            tally
        })
    } else {
        Ok(tally)
    };
    // Stop in reverse order of start; an executor the agent left behind is found by its sandbox.
    drop(agent);
    drop(master);
    reap_strays(&scratch.root);
    result
}

/// Waits for the master's and agent's `/health` and for the agent in the master's GET_AGENTS.
fn wait_ready(cluster: &Cluster) -> Result<String, String> {
    let started = Instant::now();
    let deadline = started + READY_LIMIT;
    for (name, addr) in [("master", &cluster.master), ("agent", &cluster.agent)] {
        loop {
            match http(addr, "GET", "/health", "") {
                Ok((200, _)) => break,
                other if Instant::now() >= deadline => {
                    return Err(format!("{name} /health at {addr}: {other:?}"));
                }
                _ => thread::sleep(Duration::from_millis(100)),
            }
        }
    }
    loop {
        let answer = http(
            &cluster.master,
            "POST",
            "/api/v1",
            r#"{"type":"GET_AGENTS"}"#,
        );
        match answer {
            Ok((200, body)) if body.contains("\"agent_info\"") => {
                return Ok(format!(
                    "agent registered after {} ms",
                    started.elapsed().as_millis()
                ));
            }
            other if Instant::now() >= deadline => {
                return Err(format!(
                    "the agent was not listed by GET_AGENTS within {} s; last answer {other:?}",
                    READY_LIMIT.as_secs()
                ));
            }
            _ => thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Runs the three Python programs, each bounded in time, and adds up their checks.
fn run_programs(
    root: &Path,
    python: &Path,
    cluster: &Cluster,
    tasks: u64,
) -> Result<Tally, XtaskError> {
    let dir = root.join(INTEROP_DIR);
    let mut tally = Tally::default();

    eprintln!("\n==> interop: pymesos scheduler, {tasks} command tasks");
    let mut scheduler = python_command(python, &dir.join("scheduler.py"));
    scheduler.args(["--master", &cluster.master, "--tasks", &tasks.to_string()]);
    tally.add(run_checks(
        "scheduler.py",
        &mut scheduler,
        Duration::from_secs(180),
    )?);

    eprintln!("\n==> interop: pymesos operator clients");
    let mut operator = python_command(python, &dir.join("operator_api.py"));
    operator
        .args(["--master", &cluster.master, "--agent", &cluster.agent])
        .args(["--finished-tasks", &tasks.to_string()]);
    tally.add(run_checks(
        "operator_api.py",
        &mut operator,
        Duration::from_secs(60),
    )?);

    eprintln!("\n==> interop: pymesos custom executor");
    let executor_command = format!(
        "{} {}",
        shell_word(&python.to_string_lossy()),
        shell_word(&dir.join("executor.py").to_string_lossy())
    );
    let mut custom = python_command(python, &dir.join("custom_scheduler.py"));
    custom
        .args(["--master", &cluster.master])
        .args(["--executor-command", &executor_command]);
    tally.add(run_checks(
        "custom_scheduler.py",
        &mut custom,
        Duration::from_secs(120),
    )?);
    Ok(tally)
}

fn python_command(python: &Path, script: &Path) -> Command {
    let mut command = Command::new(python);
    command
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .arg(script);
    command
}

/// Quotes a word for `sh -c` (the executor command runs with `shell: true`).
fn shell_word(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Runs a program in its own process group with stdout piped: each line is echoed and PASS/FAIL
/// lines are counted. A program that exits unsuccessfully without a FAIL line, or outlives
/// `limit` (its group is then killed), counts as one failure.
fn run_checks(name: &str, command: &mut Command, limit: Duration) -> Result<Tally, XtaskError> {
    use std::os::unix::process::CommandExt;

    let line = cmd::display(command);
    eprintln!("$ {line}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|source| XtaskError::Spawn {
            command: line.clone(),
            source,
        })?;
    let Some(stdout) = child.stdout.take() else {
        return Err(XtaskError::Check(format!("`{line}` has no stdout pipe")));
    };
    let reader = thread::spawn(move || {
        let mut tally = Tally::default();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            tally.count_line(&line);
        }
        tally
    });
    let finished = wait_or_kill_group(&mut child, limit);
    let mut tally = reader.join().unwrap_or_default();
    match finished {
        Some(status) if status.success() => {}
        Some(status) if tally.failed == 0 => {
            tally.record(
                name,
                Err(format!("exited with {status} without a FAIL line")),
            );
        }
        Some(_) => {}
        None => tally.record(
            name,
            Err(format!(
                "still running after {} s; its process group was killed",
                limit.as_secs()
            )),
        ),
    }
    Ok(tally)
}

/// Waits for `child` up to `limit`; past it, the child's process group gets SIGTERM, then SIGKILL.
fn wait_or_kill_group(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
            _ => break,
        }
    }
    let group = format!("-{}", child.id());
    cmd::signal("TERM", &group);
    if !cmd::wait_up_to(child, GRACE) {
        cmd::signal("KILL", &group);
        let _ = child.wait();
    }
    None
}

/// Finds a Python 3.10 or older: `$MESOLITE_INTEROP_PYTHON`, then for 3.10 down to 3.6 first
/// `python3.N` on PATH, then pyenv's newest 3.N.* build.
fn find_python() -> Result<PathBuf, XtaskError> {
    if let Some(explicit) = std::env::var_os(PYTHON_ENV) {
        let path = PathBuf::from(explicit);
        return match python_minor(&path) {
            Some(minor) if (OLDEST_MINOR..=NEWEST_MINOR).contains(&minor) => Ok(path),
            other => Err(XtaskError::Check(format!(
                "{PYTHON_ENV}={} is not a Python 3.{OLDEST_MINOR}..3.{NEWEST_MINOR} ({})",
                path.display(),
                other.map_or("it does not run".to_string(), |m| format!("it is 3.{m}"))
            ))),
        };
    }
    let pyenv = pyenv_root();
    for minor in (OLDEST_MINOR..=NEWEST_MINOR).rev() {
        let mut candidates = vec![PathBuf::from(format!("python3.{minor}"))];
        if let Some(pyenv) = &pyenv {
            candidates.extend(pyenv_builds(&pyenv.join("versions"), minor));
        }
        for candidate in candidates {
            if python_minor(&candidate) == Some(minor) {
                eprintln!("xtask: using Python 3.{minor} at {}", candidate.display());
                return Ok(candidate);
            }
        }
    }
    Err(XtaskError::Check(format!(
        "interop needs Python 3.{NEWEST_MINOR} or older (pymesos 0.3.15 does not run on newer ones): \
         none found as python3.N on PATH or under pyenv's versions/; install one with \
         `pyenv install 3.{NEWEST_MINOR}` or set {PYTHON_ENV}"
    )))
}

/// The minor version of a Python 3 interpreter, or None if it does not run (a pyenv shim for a
/// version that is not selected exits with an error, for example).
fn python_minor(python: &Path) -> Option<u32> {
    let output = Command::new(python)
        .args([
            "-c",
            "import sys; print(sys.version_info[0], sys.version_info[1])",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut words = text.split_whitespace();
    match (words.next(), words.next()) {
        (Some("3"), Some(minor)) => minor.parse().ok(),
        _ => None,
    }
}

/// pyenv's root: `pyenv root`, else `$PYENV_ROOT`, else `~/.pyenv`, if the directory exists.
fn pyenv_root() -> Option<PathBuf> {
    let from_command = Command::new("pyenv")
        .arg("root")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let from_env = std::env::var_os("PYENV_ROOT").map(PathBuf::from);
    let from_home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv"));
    [from_command, from_env, from_home]
        .into_iter()
        .flatten()
        .find(|dir| dir.join("versions").is_dir())
}

/// `<versions>/3.<minor>.<patch>/bin/python3` for every plain CPython build, newest patch first.
fn pyenv_builds(versions: &Path, minor: u32) -> Vec<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir(versions)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let patch = cpython_patch(&name, minor)?;
            Some((patch, entry.path().join("bin/python3")))
        })
        .collect();
    found.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    found.into_iter().map(|(_, path)| path).collect()
}

/// The patch number of a pyenv version directory named `3.<minor>.<patch>`, else None.
fn cpython_patch(name: &str, minor: u32) -> Option<u32> {
    let rest = name.strip_prefix(&format!("3.{minor}."))?;
    rest.parse().ok()
}

/// Creates target/interop-venv with the pinned requirements unless a stamp file shows it already
/// has them for this interpreter; returns the virtualenv's python.
fn prepare_venv(root: &Path, python: &Path) -> Result<PathBuf, XtaskError> {
    let venv = root.join(VENV_DIR);
    let venv_python = venv.join("bin/python");
    let requirements_path = root.join(INTEROP_DIR).join("requirements.txt");
    let requirements = fs::read_to_string(&requirements_path).map_err(|source| XtaskError::Io {
        what: format!("cannot read {}", requirements_path.display()),
        source,
    })?;
    let stamp_path = venv.join("mesolite-requirements.stamp");
    let stamp = format!("{}\n{requirements}", python.display());
    let current = fs::read_to_string(&stamp_path).unwrap_or_default();
    if current == stamp && python_minor(&venv_python).is_some() {
        eprintln!("xtask: {VENV_DIR} is up to date");
        return Ok(venv_python);
    }
    if venv.exists() {
        fs::remove_dir_all(&venv).map_err(|source| XtaskError::Io {
            what: format!("cannot remove the stale {}", venv.display()),
            source,
        })?;
    }
    cmd::run(Command::new(python).args(["-m", "venv"]).arg(&venv))?;
    cmd::run(
        Command::new(&venv_python)
            .args(["-m", "pip", "install", "--disable-pip-version-check", "-r"])
            .arg(&requirements_path),
    )?;
    // Imported from the temp directory: run from the package's own directory, pymesos' `subprocess`
    // subpackage would shadow the standard library's.
    cmd::run(
        Command::new(&venv_python)
            .current_dir(std::env::temp_dir())
            .args(["-c", "import pymesos, pymesos.operator_v1"]),
    )?;
    fs::write(&stamp_path, stamp).map_err(|source| XtaskError::Io {
        what: format!("cannot write {}", stamp_path.display()),
        source,
    })?;
    Ok(venv_python)
}

/// One HTTP/1.1 request with `Connection: close`; returns the status code and the whole response.
fn http(addr: &str, method: &str, path: &str, body: &str) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    let timeout = Some(Duration::from_secs(5));
    stream
        .set_read_timeout(timeout)
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(timeout)
        .map_err(|e| e.to_string())?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = status_code(&text).ok_or_else(|| format!("no HTTP status line in {text:?}"))?;
    Ok((status, text))
}

/// The status code of an HTTP/1.x response's first line.
fn status_code(response: &str) -> Option<u16> {
    let first = response.lines().next()?;
    let mut words = first.split(' ');
    if !words.next()?.starts_with("HTTP/1.") {
        return None;
    }
    words.next()?.parse().ok()
}

/// Two distinct free loopback ports: both are bound to port 0 at once, read, then released.
fn free_ports() -> Result<(u16, u16), XtaskError> {
    let bind = || {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        Ok::<_, std::io::Error>((listener, port))
    };
    let io_error = |source| XtaskError::Io {
        what: "cannot bind a free loopback port".to_string(),
        source,
    };
    let (first, a) = bind().map_err(io_error)?;
    let (second, b) = bind().map_err(io_error)?;
    drop((first, second));
    Ok((a, b))
}

/// Kills (by pid) any process whose MESOS_DIRECTORY lies under `root`: an executor this run's
/// agent started and left running. Such a leftover is reported, since executors should exit.
fn reap_strays(root: &Path) {
    let marker = format!("MESOS_DIRECTORY={}", root.display());
    let Ok(entries) = fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(environ) = fs::read(entry.path().join("environ")) else {
            continue;
        };
        let ours = environ
            .split(|&b| b == 0)
            .any(|var| var.starts_with(marker.as_bytes()));
        if ours {
            eprintln!("xtask: executor process {pid} outlived its agent; killing it");
            cmd::signal("KILL", pid);
        }
    }
}

/// Prints the tails of the master's and agent's logs and of every executor sandbox's output.
fn print_logs(scratch: &Scratch) {
    let mut files = vec![scratch.log("master"), scratch.log("agent")];
    collect_sandbox_output(&scratch.root.join("agent"), &mut files);
    for file in files {
        eprintln!("--- {} (last lines)", file.display());
        eprintln!("{}", tail(&file));
    }
}

fn collect_sandbox_output(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_link = entry.file_type().map(|t| t.is_symlink()).unwrap_or(true);
        if path.is_dir() && !is_link {
            collect_sandbox_output(&path, out);
        } else if path
            .file_name()
            .is_some_and(|n| n == "stdout" || n == "stderr")
            && path
                .to_string_lossy()
                .contains("/executors/interop-pymesos-executor/")
        {
            out.push(path);
        }
    }
}

/// The last 20 lines of a file, for failure reports.
fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(20);
    if lines.is_empty() {
        "(no output)".to_string()
    } else {
        lines[start..].join("\n")
    }
}

/// A started master or agent; dropping it stops the process (SIGTERM, SIGKILL after the grace period).
struct Running {
    name: &'static str,
    child: Child,
}

impl Running {
    fn start(name: &'static str, command: &mut Command, log: &Path) -> Result<Running, XtaskError> {
        let io_error = |source| XtaskError::Io {
            what: format!("cannot create log file {}", log.display()),
            source,
        };
        let out = fs::File::create(log).map_err(io_error)?;
        let err = out.try_clone().map_err(io_error)?;
        eprintln!("$ {} >{} 2>&1 &", cmd::display(command), log.display());
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|source| XtaskError::Spawn {
                command: cmd::display(command),
                source,
            })?;
        Ok(Running { name, child })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        cmd::signal("TERM", &self.child.id().to_string());
        if !cmd::wait_up_to(&mut self.child, GRACE) {
            eprintln!(
                "xtask: the {} did not exit within {} s of SIGTERM; killing it",
                self.name,
                GRACE.as_secs()
            );
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A temporary directory for work directories and logs, removed on drop unless kept.
struct Scratch {
    root: PathBuf,
    keep: bool,
}

impl Scratch {
    fn create(keep: bool) -> Result<Scratch, XtaskError> {
        let root = std::env::temp_dir().join(format!("mesolite-interop-{}", std::process::id()));
        fs::create_dir_all(&root).map_err(|source| XtaskError::Io {
            what: format!("cannot create {}", root.display()),
            source,
        })?;
        Ok(Scratch { root, keep })
    }

    fn subdir(&self, name: &str) -> Result<PathBuf, XtaskError> {
        let dir = self.root.join(name);
        fs::create_dir_all(&dir).map_err(|source| XtaskError::Io {
            what: format!("cannot create {}", dir.display()),
            source,
        })?;
        Ok(dir)
    }

    fn log(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.log"))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("xtask: kept {}", self.root.display());
        } else if let Err(err) = fs::remove_dir_all(&self.root) {
            eprintln!("xtask: could not remove {}: {err}", self.root.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_tasks_and_keep() {
        let args = InteropArgs::parse(&strings(&["--tasks", "200", "--keep"])).unwrap();
        assert_eq!(
            args,
            InteropArgs {
                tasks: 200,
                keep: true
            }
        );
        assert_eq!(InteropArgs::parse(&[]).unwrap().tasks, DEFAULT_TASKS);
        assert!(InteropArgs::parse(&strings(&["--tasks=0"])).is_err());
        assert!(InteropArgs::parse(&strings(&["--bogus"])).is_err());
    }

    #[test]
    fn counts_only_check_lines() {
        let mut tally = Tally::default();
        for line in [
            "PASS scheduler: a",
            "FAIL operator: b: why",
            "interop_throughput n=50",
            "  PASS indented is not a check",
            "PASS x",
        ] {
            tally.count_line(line);
        }
        assert_eq!(
            tally,
            Tally {
                passed: 2,
                failed: 1
            }
        );
    }

    #[test]
    fn picks_pyenv_builds_of_one_minor_newest_first() {
        let dir = std::env::temp_dir().join(format!("xtask-pyenv-{}", std::process::id()));
        for name in [
            "3.10.9",
            "3.10.13",
            "3.1.2",
            "3.10.0a1",
            "3.11.7",
            "pypy3.10-7.3",
        ] {
            fs::create_dir_all(dir.join(name).join("bin")).unwrap();
        }
        let found = pyenv_builds(&dir, 10);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            found,
            vec![
                dir.join("3.10.13/bin/python3"),
                dir.join("3.10.9/bin/python3")
            ]
        );
    }

    #[test]
    fn a_missing_interpreter_has_no_version() {
        assert_eq!(python_minor(Path::new("/nonexistent/python3.10")), None);
    }

    #[test]
    fn reads_the_status_of_a_real_loopback_server() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let n = conn.read(&mut request).unwrap();
            let text = String::from_utf8_lossy(&request[..n]).into_owned();
            conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno")
                .unwrap();
            text
        });
        let (status, body) = http(&addr, "POST", "/api/v1", "{}").unwrap();
        let request = server.join().unwrap();
        assert_eq!(status, 404);
        assert!(body.ends_with("no"), "{body}");
        assert!(
            request.starts_with("POST /api/v1 HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(request.ends_with("\r\n\r\n{}"), "{request}");
    }

    #[test]
    fn rejects_a_response_without_a_status_line() {
        assert_eq!(status_code("HTTP/1.1 202 Accepted\r\n\r\n"), Some(202));
        assert_eq!(status_code("SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(status_code(""), None);
    }

    #[test]
    fn run_checks_counts_lines_and_a_silent_failure() {
        let mut ok = Command::new("sh");
        ok.args(["-c", "echo 'PASS t: one'; echo 'PASS t: two'"]);
        let tally = run_checks("ok", &mut ok, Duration::from_secs(10)).unwrap();
        assert_eq!(
            tally,
            Tally {
                passed: 2,
                failed: 0
            }
        );
        let mut silent = Command::new("sh");
        silent.args(["-c", "echo 'PASS t: one'; exit 3"]);
        let tally = run_checks("silent", &mut silent, Duration::from_secs(10)).unwrap();
        assert_eq!(
            tally,
            Tally {
                passed: 1,
                failed: 1
            }
        );
    }

    #[test]
    fn run_checks_kills_a_program_past_its_limit() {
        let started = Instant::now();
        let mut slow = Command::new("sh");
        slow.args(["-c", "echo 'PASS t: early'; sleep 30"]);
        let tally = run_checks("slow", &mut slow, Duration::from_millis(300)).unwrap();
        assert_eq!(
            tally,
            Tally {
                passed: 1,
                failed: 1
            }
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
