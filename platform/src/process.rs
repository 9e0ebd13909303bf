//! Executor processes: spawning them in their own session, signalling their process group, reaping them.
//!
//! An executor (Mesos: the process that runs a task for the agent) is started in its own session and
//! process group, so that it keeps running when the agent exits, restarts or is upgraded. The agent
//! tracks executors by pid: [`try_reap`] and [`reap_exited`] collect the exit status of executors that
//! are still the agent's children, and [`pid_alive`] answers for executors started by an earlier agent
//! incarnation, which are no longer its children.
//!
//! Reaping is explicit and per pid: nothing here calls `waitpid(-1)`, so children spawned elsewhere in
//! the same process (for example through `smol::process`) are never reaped behind their owner's back.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

mod spawn;

use rustix::process::{kill_process, kill_process_group, test_kill_process, waitpid, WaitOptions};
pub use rustix::process::{Pid, Signal};

/// How often [`wait_child`] polls for the exit of a child.
const WAIT_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Everything needed to start one executor process.
#[derive(Debug, Clone)]
pub struct ExecutorLaunch {
    /// The executable, normally the mesolite binary itself (`std::env::current_exe()`).
    pub program: PathBuf,
    /// The arguments after the program name, normally `["executor"]`.
    pub args: Vec<String>,
    /// Environment variables set for the executor on top of the agent's own environment, which the
    /// executor inherits (Mesos' default when `--executor_environment_variables` is unset).
    pub env: Vec<(String, String)>,
    /// The executor's sandbox: its working directory, holding its `stdout` and `stderr` files.
    pub sandbox: PathBuf,
}

impl ExecutorLaunch {
    /// The file the executor's standard output is appended to: `<sandbox>/stdout`.
    pub fn stdout_path(&self) -> PathBuf {
        self.sandbox.join("stdout")
    }

    /// The file the executor's standard error is appended to: `<sandbox>/stderr`.
    pub fn stderr_path(&self) -> PathBuf {
        self.sandbox.join("stderr")
    }
}

/// A started executor process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpawnedExecutor {
    /// The executor's pid, which is also its process group id and session id.
    pub pid: Pid,
}

/// Why starting, signalling or reaping a process failed.
#[derive(Debug)]
pub enum ProcessError {
    /// The sandbox's `stdout` or `stderr` file could not be opened.
    OpenOutput { path: PathBuf, source: io::Error },
    /// `fork`/`exec` of the program failed (missing file, no permission, bad working directory).
    Spawn { program: PathBuf, source: io::Error },
    /// The kernel returned a pid that is not a valid positive pid.
    BadPid(u32),
    /// Sending a signal failed for a reason other than the process being gone.
    Signal { pid: Pid, source: io::Error },
    /// `waitpid` failed for a reason other than the pid not being our child.
    Wait { pid: Pid, source: io::Error },
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OpenOutput { path, source } => {
                write!(f, "cannot open output file {}: {source}", path.display())
            }
            Self::Spawn { program, source } => {
                write!(f, "cannot start {}: {source}", program.display())
            }
            Self::BadPid(raw) => write!(f, "the kernel returned an invalid pid {raw}"),
            Self::Signal { pid, source } => {
                write!(
                    f,
                    "cannot signal process {}: {source}",
                    pid.as_raw_nonzero()
                )
            }
            Self::Wait { pid, source } => {
                write!(
                    f,
                    "cannot wait for process {}: {source}",
                    pid.as_raw_nonzero()
                )
            }
        }
    }
}

impl std::error::Error for ProcessError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::OpenOutput { source, .. }
            | Self::Spawn { source, .. }
            | Self::Signal { source, .. }
            | Self::Wait { source, .. } => Some(source),
            Self::BadPid(_) => None,
        }
    }
}

fn open_append(path: &Path) -> Result<File, ProcessError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| ProcessError::OpenOutput {
            path: path.to_path_buf(),
            source,
        })
}

/// Starts an executor in its own session and process group, with its working directory in the sandbox
/// and its standard output and error appended to `<sandbox>/stdout` and `<sandbox>/stderr`.
///
/// Standard input is `/dev/null`. The returned pid is the executor's process group id as well.
/// The executor is not killed when the returned value or the calling process goes away.
pub fn spawn_executor(spec: &ExecutorLaunch) -> Result<SpawnedExecutor, ProcessError> {
    let stdout = open_append(&spec.stdout_path())?;
    let stderr = open_append(&spec.stderr_path())?;
    let request = spawn::SpawnRequest {
        program: &spec.program,
        args: &spec.args,
        env: &spec.env,
        cwd: &spec.sandbox,
        stdout: &stdout,
        stderr: &stderr,
    };
    let raw = spawn::spawn_session_leader(&request).map_err(|source| ProcessError::Spawn {
        program: spec.program.clone(),
        source,
    })?;
    // The child is not waited for here; it is reaped later with `try_reap` or `reap_exited`.
    let pid = Pid::from_raw(raw).ok_or(ProcessError::BadPid(raw.unsigned_abs()))?;
    Ok(SpawnedExecutor { pid })
}

/// What a non-blocking `waitpid` found out about one pid.
enum Probe {
    Exited(ExitStatus),
    Running,
    NotChild,
}

fn probe(pid: Pid) -> Result<Probe, ProcessError> {
    loop {
        return match waitpid(Some(pid), WaitOptions::NOHANG) {
            Ok(Some((_, status))) => Ok(Probe::Exited(ExitStatus::from_raw(status.as_raw()))),
            Ok(None) => Ok(Probe::Running),
            Err(rustix::io::Errno::INTR) => continue,
            Err(rustix::io::Errno::CHILD) => Ok(Probe::NotChild),
            Err(e) => Err(ProcessError::Wait {
                pid,
                source: e.into(),
            }),
        };
    }
}

/// Collects the exit status of `pid` if it is our child and has exited, without blocking.
///
/// Returns `Ok(None)` while it runs, and also when `pid` is not (or no longer) our child: a pid
/// that was already reaped, or an executor adopted from an earlier agent (use [`pid_alive`] for those).
pub fn try_reap(pid: Pid) -> Result<Option<ExitStatus>, ProcessError> {
    match probe(pid)? {
        Probe::Exited(status) => Ok(Some(status)),
        Probe::Running | Probe::NotChild => Ok(None),
    }
}

/// Reaps every pid of `pids` that has exited, without blocking, and returns their exit statuses.
///
/// Only the given pids are waited for: other children of the process are left alone.
pub fn reap_exited(
    pids: impl IntoIterator<Item = Pid>,
) -> Result<Vec<(Pid, ExitStatus)>, ProcessError> {
    let mut exited = Vec::new();
    for pid in pids {
        if let Some(status) = try_reap(pid)? {
            exited.push((pid, status));
        }
    }
    Ok(exited)
}

/// Waits until the child `pid` exits and returns its exit status, polling every 100 ms.
///
/// Returns `Ok(None)` if `pid` is not our child (already reaped, or adopted).
pub async fn wait_child(pid: Pid) -> Result<Option<ExitStatus>, ProcessError> {
    loop {
        match probe(pid)? {
            Probe::Exited(status) => return Ok(Some(status)),
            Probe::NotChild => return Ok(None),
            Probe::Running => {
                smol::Timer::after(WAIT_POLL_INTERVAL).await;
            }
        }
    }
}

/// Sends `signal` to every process in the process group `pgid`.
///
/// A group that no longer exists is not an error: the signal had nothing left to reach.
pub fn kill_group(pgid: Pid, signal: Signal) -> Result<(), ProcessError> {
    match kill_process_group(pgid, signal) {
        Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
        Err(e) => Err(ProcessError::Signal {
            pid: pgid,
            source: e.into(),
        }),
    }
}

/// Sends `signal` to every process of the session `sid`: a container, whose executor made the
/// session and whose tasks run in process groups of their own inside it, so that killing the
/// executor's group alone would leave them. Processes are found in `/proc`; one that ends
/// meanwhile is skipped. Returns how many were signalled.
pub fn kill_session(sid: Pid, signal: Signal) -> Result<usize, ProcessError> {
    let entries = std::fs::read_dir("/proc").map_err(|e| ProcessError::Signal {
        pid: sid,
        source: e,
    })?;
    let mut signalled = 0;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
            .and_then(Pid::from_raw)
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if session_of(&stat) == Some(sid.as_raw_nonzero().get()) && kill_pid(pid, signal).is_ok() {
            signalled += 1;
        }
    }
    Ok(signalled)
}

/// The session id in a `/proc/<pid>/stat` line: the fourth field after the command name, which
/// is in parentheses and may itself hold spaces and parentheses.
fn session_of(stat: &str) -> Option<i32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(3)?.parse().ok()
}

/// Sends `signal` to the single process `pid`.
///
/// A process that no longer exists is not an error.
pub fn kill_pid(pid: Pid, signal: Signal) -> Result<(), ProcessError> {
    match kill_process(pid, signal) {
        Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
        Err(e) => Err(ProcessError::Signal {
            pid,
            source: e.into(),
        }),
    }
}

/// Whether a process `pid` exists (`kill(pid, 0)`), including a zombie that is not yet reaped.
///
/// A process owned by another user counts as alive (the kernel answers `EPERM`).
pub fn pid_alive(pid: Pid) -> bool {
    !matches!(test_kill_process(pid), Err(rustix::io::Errno::SRCH))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Instant;

    /// A fresh empty directory under the system temp directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("mesolite-process-{tag}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create temp dir");
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn sh(sandbox: &Path, script: &str) -> ExecutorLaunch {
        ExecutorLaunch {
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".into(), script.into()],
            env: vec![("MESOLITE_TEST_VAR".into(), "from-agent".into())],
            sandbox: sandbox.to_path_buf(),
        }
    }

    /// Polls `f` until it returns `Some`, failing the test after 10 seconds.
    fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = f() {
                return v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Session id and process group id of `pid`, from `/proc/<pid>/stat`.
    fn session_and_group(pid: i32) -> (i32, i32) {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
        // Fields after the parenthesised command: state ppid pgrp session ...
        let after_comm = &stat[stat.rfind(')').expect("comm") + 2..];
        let fields: Vec<&str> = after_comm.split(' ').collect();
        (
            fields[3].parse().expect("sid"),
            fields[2].parse().expect("pgrp"),
        )
    }

    #[test]
    fn executor_runs_in_its_own_session_writes_sandbox_files_and_dies_by_group_kill() {
        let dir = TempDir::new("session");
        let spec = sh(
            &dir.0,
            "echo out-$MESOLITE_TEST_VAR; echo err-line >&2; pwd; sleep 30 & wait",
        );
        let spawned = spawn_executor(&spec).expect("spawn");
        let pid = spawned.pid;

        // Read session and group from /proc: getsid(2) answers 0 when the
        // session leader lives outside our pid namespace (CI containers),
        // which rustix's Pid cannot hold.
        let (child_sid, child_pgid) = session_and_group(pid.as_raw_nonzero().get());
        assert_eq!(child_sid, pid.as_raw_nonzero().get());
        assert_eq!(child_pgid, pid.as_raw_nonzero().get());
        let (our_sid, our_pgid) = session_and_group(std::process::id() as i32);
        assert_ne!(our_sid, child_sid);
        assert_ne!(our_pgid, child_pgid);

        let stdout = eventually("stdout", || {
            let s = std::fs::read_to_string(spec.stdout_path()).ok()?;
            s.lines().count().ge(&2).then_some(s)
        });
        let mut lines = stdout.lines();
        assert_eq!(lines.next(), Some("out-from-agent"));
        let cwd = PathBuf::from(lines.next().expect("pwd line"));
        assert_eq!(cwd.canonicalize().ok(), dir.0.canonicalize().ok());
        let stderr = std::fs::read_to_string(spec.stderr_path()).expect("stderr");
        assert_eq!(stderr, "err-line\n");

        assert!(pid_alive(pid));
        assert_eq!(try_reap(pid).expect("reap"), None, "still running");
        kill_group(pid, Signal::KILL).expect("kill group");
        let status = smol::block_on(wait_child(pid))
            .expect("wait")
            .expect("is our child");
        assert_eq!(status.signal(), Some(Signal::KILL.as_raw()));
        // The reaped pid is no longer our child.
        assert_eq!(try_reap(pid).expect("reap again"), None);
        assert!(smol::block_on(wait_child(pid)).expect("wait").is_none());
        // Killing a group that is gone is not an error.
        kill_group(pid, Signal::KILL).expect("kill gone group");
    }

    #[test]
    fn a_session_kill_reaches_every_process_of_the_session_and_nothing_else() {
        assert_eq!(session_of("12 (a b) c)) S 1 12 34 0 -1"), Some(34));
        assert_eq!(session_of("garbage"), None);
        let dir = TempDir::new("session-kill");
        let spawned = spawn_executor(&sh(&dir.0, "sleep 30 & sleep 30 & wait")).expect("spawn");
        let pid = spawned.pid;
        let sid = pid.as_raw_nonzero().get();
        let members = || {
            std::fs::read_dir("/proc")
                .expect("proc")
                .flatten()
                .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
                .filter(|s| session_of(s) == Some(sid) && !s.contains(") Z "))
                .count()
        };
        eventually("the shell and its two sleeps", || {
            (members() >= 3).then_some(())
        });
        let outside = spawn_executor(&sh(&dir.0, "sleep 30"))
            .expect("spawn another")
            .pid;
        assert!(kill_session(pid, Signal::KILL).expect("kill session") >= 3);
        let status = smol::block_on(wait_child(pid))
            .expect("wait")
            .expect("child");
        assert_eq!(status.signal(), Some(Signal::KILL.as_raw()));
        eventually("no live process left in the session", || {
            (members() == 0).then_some(())
        });
        assert!(pid_alive(outside), "another session is untouched");
        kill_group(outside, Signal::KILL).expect("kill the other");
        let _ = smol::block_on(wait_child(outside));
    }

    #[test]
    fn reap_exited_reports_exit_codes_of_only_the_given_pids() {
        let dir = TempDir::new("reap");
        let a = spawn_executor(&sh(&dir.0, "exit 3")).expect("spawn a").pid;
        let b = spawn_executor(&sh(&dir.0, "exit 0")).expect("spawn b").pid;
        let status_a = eventually("a to exit", || {
            let reaped = reap_exited([a]).expect("reap");
            reaped.into_iter().find(|(p, _)| *p == a).map(|(_, s)| s)
        });
        assert_eq!(status_a.code(), Some(3));
        // b was not in the list, so it is still a zombie child and can be reaped now.
        let status_b = eventually("b to exit", || try_reap(b).expect("reap b"));
        assert_eq!(status_b.code(), Some(0));
        assert!(reap_exited([a, b]).expect("reap none").is_empty());
    }

    #[test]
    fn output_files_are_appended_not_truncated() {
        let dir = TempDir::new("append");
        for word in ["first", "second"] {
            let pid = spawn_executor(&sh(&dir.0, &format!("echo {word}")))
                .expect("spawn")
                .pid;
            let status = smol::block_on(wait_child(pid))
                .expect("wait")
                .expect("child");
            assert!(status.success());
        }
        let out = std::fs::read_to_string(dir.0.join("stdout")).expect("stdout");
        assert_eq!(out, "first\nsecond\n");
    }

    #[test]
    fn missing_program_and_missing_sandbox_are_errors() {
        let dir = TempDir::new("missing");
        let mut spec = sh(&dir.0, "true");
        spec.program = dir.0.join("no-such-program");
        let err = spawn_executor(&spec).expect_err("missing program");
        assert!(matches!(err, ProcessError::Spawn { .. }), "{err}");
        assert!(err.to_string().contains("no-such-program"));

        let spec = sh(&dir.0.join("no-such-dir"), "true");
        let err = spawn_executor(&spec).expect_err("missing sandbox");
        assert!(matches!(err, ProcessError::OpenOutput { .. }), "{err}");
    }

    #[test]
    fn environment_is_inherited_with_overrides_path_is_searched_and_no_signal_is_ignored() {
        let dir = TempDir::new("env");
        let inherited = std::env::var("PATH").expect("PATH is set");
        let spec = ExecutorLaunch {
            // No slash: found through PATH, as `Command` would.
            program: PathBuf::from("sh"),
            args: vec![
                "-c".into(),
                "echo \"$PATH\"; echo \"$HOME\"; grep SigIgn /proc/self/status".into(),
            ],
            env: vec![("HOME".into(), "/from-agent".into())],
            sandbox: dir.0.clone(),
        };
        let pid = spawn_executor(&spec).expect("spawn").pid;
        let status = smol::block_on(wait_child(pid))
            .expect("wait")
            .expect("child");
        assert!(status.success());
        let out = std::fs::read_to_string(spec.stdout_path()).expect("stdout");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert_eq!(lines[0], inherited);
        assert_eq!(lines[1], "/from-agent");
        // The test harness ignores SIGPIPE; the executor must start with its default action.
        let ignored = lines[2].split_whitespace().nth(1).expect("SigIgn mask");
        let ignored = u64::from_str_radix(ignored, 16).expect("hex mask");
        let sigpipe = 1u64 << (Signal::PIPE.as_raw() - 1);
        assert_eq!(ignored & sigpipe, 0, "SIGPIPE is ignored: {ignored:#x}");
    }

    #[test]
    fn a_malformed_environment_variable_is_a_spawn_error() {
        let dir = TempDir::new("badenv");
        for (key, value) in [("A=B", "x"), ("A", "x\0y")] {
            let mut spec = sh(&dir.0, "true");
            spec.env.push((key.into(), value.into()));
            let err = spawn_executor(&spec).expect_err("bad variable");
            assert!(matches!(err, ProcessError::Spawn { .. }), "{err}");
        }
    }

    #[test]
    fn pid_alive_is_false_for_a_reaped_process() {
        let dir = TempDir::new("alive");
        let pid = spawn_executor(&sh(&dir.0, "exit 0")).expect("spawn").pid;
        // A zombie still exists until it is reaped.
        let status = smol::block_on(wait_child(pid))
            .expect("wait")
            .expect("child");
        assert!(status.success());
        assert!(!pid_alive(pid));
        assert!(pid_alive(rustix::process::getpid()));
    }
}
