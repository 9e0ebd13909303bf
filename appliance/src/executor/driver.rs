//! The executor's driver loop, on one thread with blocking sockets: `poll(2)` on the event
//! stream, the signal socket and a pidfd per task, until the [`Supervisor`]'s next deadline;
//! feed what happened to the [`Supervisor`]; perform its actions. No decisions live here.

use std::collections::hash_map::RandomState;
use std::fs::{File, OpenOptions};
use std::hash::BuildHasher;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mesolite_platform::process::{kill_group, try_reap, Pid};
use mesolite_platform::signals::SignalKind;
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::process::{pidfd_open, PidfdFlags};

use super::env::{ExecutorEnv, TaskStdio};
use super::http::{self, EventStream};
use super::signal_wake::SignalWake;
use super::state::{Action, LaunchSpec, Outcome, Supervisor};
use super::wire::Id;
use super::ExecutorError;

/// How often the driver checks whether a task exited when the kernel gave no pidfd for it
/// (Linux before 5.3).
const REAP_POLL: Duration = Duration::from_millis(100);

/// A running task's process.
struct Child {
    task_id: Id,
    pid: Pid,
    /// Readable once the process exited; `None` if the kernel has no pidfds.
    pidfd: Option<OwnedFd>,
}

fn wall_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A seed for update uuids: std's per-process random hash keys (one `getrandom`), mixed with
/// the clock and pid.
fn random_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    RandomState::new().hash_one((nanos, std::process::id()))
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Starts the task as a child in a process group of its own (in the executor's session), in the
/// sandbox, with the task's environment on top of the executor's. Signals go to that group, so a
/// kill reaches what the task's shell started too; the agent ends a whole container through its
/// session.
fn launch(env: &ExecutorEnv, task_id: &Id, spec: &LaunchSpec) -> Result<Child, String> {
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&env.sandbox)
        .stdin(Stdio::null())
        .process_group(0);
    if let Some(argv0) = &spec.argv0 {
        cmd.arg0(argv0);
    }
    if let TaskStdio::Files { stdout, stderr } = &env.task_stdio {
        let out =
            open_append(stdout).map_err(|e| format!("Failed to open {}: {e}", stdout.display()))?;
        let err =
            open_append(stderr).map_err(|e| format!("Failed to open {}: {e}", stderr.display()))?;
        cmd.stdout(out).stderr(err);
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("Failed to launch command '{}': {e}", spec.program))?;
    let pid = i32::try_from(child.id())
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(|| "The task got an invalid pid".to_owned())?;
    // The child is not reaped before its pidfd exists, so the pid cannot have been reused.
    let pidfd = pidfd_open(pid, PidfdFlags::empty()).ok();
    Ok(Child {
        task_id: task_id.clone(),
        pid,
        pidfd,
    })
}

/// What woke the driver up.
#[derive(Default)]
struct Ready {
    stream: bool,
    signal: bool,
    /// Indexes into the children of those whose pidfd is readable.
    exited: Vec<usize>,
}

/// Waits until the stream, the signal socket or a pidfd is readable, or until `wake`.
fn wait(
    stream: Option<&EventStream>,
    signals: Option<&SignalWake>,
    children: &[Child],
    wake: Option<Instant>,
) -> Ready {
    let mut fds = Vec::with_capacity(2 + children.len());
    let flags = PollFlags::IN;
    if let Some(s) = stream {
        fds.push(PollFd::from_borrowed_fd(s.fd(), flags));
    }
    if let Some(s) = signals {
        fds.push(PollFd::from_borrowed_fd(s.fd(), flags));
    }
    for child in children {
        if let Some(fd) = &child.pidfd {
            fds.push(PollFd::from_borrowed_fd(fd.as_fd(), flags));
        }
    }
    let timeout = wake.map(|at| {
        let left = at.saturating_duration_since(Instant::now());
        // Rounded up to the next millisecond, so that a wake-up is never early.
        let left = left.max(Duration::from_millis(1));
        Timespec {
            tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(left.subsec_nanos()),
        }
    });
    let mut ready = Ready::default();
    if let Err(e) = poll(&mut fds, timeout.as_ref()) {
        if e != rustix::io::Errno::INTR {
            eprintln!("mesolite executor: poll failed: {e}");
        }
        return ready;
    }
    let mut revents = fds.iter().map(|fd| !fd.revents().is_empty());
    if stream.is_some() {
        ready.stream = revents.next().unwrap_or(false);
    }
    if signals.is_some() {
        ready.signal = revents.next().unwrap_or(false);
    }
    for (i, child) in children.iter().enumerate() {
        if child.pidfd.is_some() && revents.next().unwrap_or(false) {
            ready.exited.push(i);
        }
    }
    ready
}

/// Runs the executor until it exits.
pub(crate) fn drive(env: ExecutorEnv) -> Result<Outcome, ExecutorError> {
    let mut supervisor = Supervisor::new(&env, random_seed());
    let mut signals = if env.handle_signals {
        Some(
            SignalWake::new(&[SignalKind::Term, SignalKind::Int])
                .map_err(ExecutorError::Signals)?,
        )
    } else {
        None
    };
    let mut stream: Option<EventStream> = None;
    let mut calls = http::CallConnection::new(env.agent);
    let mut children: Vec<Child> = Vec::new();

    loop {
        while let Some(action) = supervisor.poll_action() {
            match action {
                Action::Subscribe => {
                    stream = None;
                    match http::subscribe(env.agent, &supervisor.subscribe_call()) {
                        Ok(s) => stream = Some(s),
                        Err(e) => {
                            eprintln!("mesolite executor: subscribe failed: {e}");
                            supervisor.handle_disconnected(Instant::now());
                        }
                    }
                }
                Action::Launch(task_id, spec) => {
                    let result = launch(&env, &task_id, &spec).map(|child| children.push(child));
                    supervisor.handle_launched(Instant::now(), wall_now(), &task_id, result);
                }
                Action::Signal(task_id, signal) => {
                    if let Some(child) = children.iter().find(|c| c.task_id == task_id) {
                        if let Err(e) = kill_group(child.pid, signal) {
                            eprintln!("mesolite executor: {e}");
                        }
                    }
                }
                Action::Send(status) => {
                    // A failed send stays unacknowledged and goes out again in the next SUBSCRIBE.
                    if let Err(e) = calls.send(&supervisor.update_call(&status)) {
                        eprintln!("mesolite executor: sending {} failed: {e}", status.state);
                    }
                }
                Action::Exit(outcome) => return Ok(outcome),
            }
        }

        // Events already received go first, one at a time, each followed by its actions.
        if let Some(s) = stream.as_mut() {
            match s.next_event() {
                Ok(Some(event)) => {
                    let now = Instant::now();
                    supervisor.handle_event(now, wall_now(), event);
                    supervisor.handle_timeout(now);
                    continue;
                }
                Ok(None) if s.ended() => {
                    eprintln!("mesolite executor: the agent closed the event stream");
                    stream = None;
                    supervisor.handle_disconnected(Instant::now());
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    eprintln!("mesolite executor: event stream failed: {e}");
                    stream = None;
                    supervisor.handle_disconnected(Instant::now());
                    continue;
                }
            }
        }

        let now = Instant::now();
        let mut wake = supervisor.poll_timeout();
        if children.iter().any(|c| c.pidfd.is_none()) {
            wake = Some(wake.map_or(now + REAP_POLL, |w| w.min(now + REAP_POLL)));
        }
        let ready = wait(stream.as_ref(), signals.as_ref(), &children, wake);

        let now = Instant::now();
        if ready.stream {
            if let Some(s) = stream.as_mut() {
                if let Err(e) = s.receive() {
                    eprintln!("mesolite executor: event stream failed: {e}");
                    stream = None;
                    supervisor.handle_disconnected(now);
                }
            }
        }
        if ready.signal {
            match signals.as_mut().map(SignalWake::take) {
                // SIGTERM or SIGINT: shut down as if the agent had said `SHUTDOWN`.
                Some(Ok(caught)) if !caught.is_empty() => supervisor.handle_shutdown(now),
                Some(Err(e)) => {
                    eprintln!("mesolite executor: {e}");
                    signals = None;
                }
                Some(Ok(_)) | None => {}
            }
        }
        let mut exited = Vec::new();
        for (i, child) in children.iter().enumerate() {
            if child.pidfd.is_some() && !ready.exited.contains(&i) {
                continue;
            }
            match try_reap(child.pid) {
                Ok(Some(status)) => exited.push((i, status)),
                Ok(None) => {}
                Err(e) => eprintln!("mesolite executor: {e}"),
            }
        }
        // Removed back to front so that the indexes stay valid, reported in launch order.
        let mut gone: Vec<_> = exited
            .into_iter()
            .rev()
            .map(|(i, status)| (children.remove(i).task_id, status))
            .collect();
        gone.reverse();
        for (task_id, status) in gone {
            supervisor.handle_task_exit(now, wall_now(), &task_id, status);
        }
        supervisor.handle_timeout(now);
    }
}
