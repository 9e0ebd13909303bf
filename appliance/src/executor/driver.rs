//! The executor's driver loop: wait for an agent event, a signal, a task's exit or a
//! deadline; feed it to the [`Supervisor`]; perform its actions. No decisions live here.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mesolite_platform::process::{kill_pid, try_reap, Pid};
use mesolite_platform::signals::{SignalKind, Signals};
use smol::Timer;

use super::env::{ExecutorEnv, TaskStdio};
use super::http::{self, EventStream, HttpError};
use super::state::{Action, LaunchSpec, Outcome, Supervisor};
use super::wire::{Event, Id};
use super::ExecutorError;

/// How often the driver checks whether the task exited, in case a SIGCHLD was missed (or signals
/// are not handled, as in tests).
const REAP_POLL: Duration = Duration::from_millis(100);

enum Input {
    Event(Result<Option<Event>, HttpError>),
    Signal(SignalKind),
    Tick,
}

fn wall_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A seed for update uuids from the kernel's random source, or the clock and pid if unreadable.
fn random_seed() -> u64 {
    let mut bytes = [0u8; 8];
    match File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            (nanos as u64) ^ (u64::from(std::process::id()) << 32)
        }
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Starts the task as a child in the executor's process group, in the sandbox, with the task's
/// environment on top of the executor's.
fn launch(env: &ExecutorEnv, spec: &LaunchSpec) -> Result<Child, String> {
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&env.sandbox)
        .stdin(Stdio::null());
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
    cmd.spawn()
        .map_err(|e| format!("Failed to launch command '{}': {e}", spec.program))
}

/// Runs the executor until it exits.
pub(crate) async fn drive(
    runner: &http::Runner,
    env: ExecutorEnv,
) -> Result<Outcome, ExecutorError> {
    let mut supervisor = Supervisor::new(&env, random_seed());
    let mut signals = if env.handle_signals {
        Some(
            Signals::new(&[SignalKind::Term, SignalKind::Int, SignalKind::Chld])
                .map_err(ExecutorError::Signals)?,
        )
    } else {
        None
    };
    let mut stream: Option<EventStream> = None;
    let mut calls = http::CallConnection::new(runner, env.agent);
    // The process of each running task, by task id.
    let mut pids: Vec<(Id, Pid)> = Vec::new();

    loop {
        while let Some(action) = supervisor.poll_action() {
            match action {
                Action::Subscribe => {
                    stream = None;
                    let body = supervisor.subscribe_call();
                    match http::subscribe(runner, env.agent, body).await {
                        Ok(s) => stream = Some(s),
                        Err(e) => {
                            eprintln!("mesolite executor: subscribe failed: {e}");
                            supervisor.handle_disconnected(Instant::now());
                        }
                    }
                }
                Action::Launch(task_id, spec) => {
                    let result = launch(&env, &spec).and_then(|child| {
                        let raw = i32::try_from(child.id()).ok();
                        raw.and_then(Pid::from_raw)
                            .ok_or_else(|| "The task got an invalid pid".to_owned())
                    });
                    if let Ok(pid) = &result {
                        pids.push((task_id.clone(), *pid));
                    }
                    supervisor.handle_launched(
                        Instant::now(),
                        wall_now(),
                        &task_id,
                        result.map(drop),
                    );
                }
                Action::Signal(task_id, signal) => {
                    if let Some((_, pid)) = pids.iter().find(|(id, _)| *id == task_id) {
                        let pid = *pid;
                        if let Err(e) = kill_pid(pid, signal) {
                            eprintln!("mesolite executor: {e}");
                        }
                    }
                }
                Action::Send(status) => {
                    // A failed send stays unacknowledged and goes out again in the next SUBSCRIBE.
                    if let Err(e) = calls.send(supervisor.update_call(&status)).await {
                        eprintln!("mesolite executor: sending {} failed: {e}", status.state);
                    }
                }
                Action::Exit(outcome) => return Ok(outcome),
            }
        }

        let now = Instant::now();
        let mut wake = supervisor.poll_timeout();
        if supervisor.task_running() {
            wake = Some(wake.map_or(now + REAP_POLL, |w| w.min(now + REAP_POLL)));
        }
        let input = smol::future::or(
            async {
                match stream.as_mut() {
                    Some(s) => Input::Event(s.next_event().await),
                    None => std::future::pending().await,
                }
            },
            smol::future::or(
                async {
                    match signals.as_mut() {
                        Some(s) => match s.next().await {
                            Ok(kind) => Input::Signal(kind),
                            Err(e) => {
                                eprintln!("mesolite executor: {e}");
                                std::future::pending().await
                            }
                        },
                        None => std::future::pending().await,
                    }
                },
                async {
                    match wake {
                        Some(at) => Timer::at(at).await,
                        None => Timer::never().await,
                    };
                    Input::Tick
                },
            ),
        )
        .await;

        let now = Instant::now();
        match input {
            Input::Event(Ok(Some(event))) => supervisor.handle_event(now, wall_now(), event),
            Input::Event(Ok(None)) => {
                eprintln!("mesolite executor: the agent closed the event stream");
                stream = None;
                supervisor.handle_disconnected(now);
            }
            Input::Event(Err(e)) => {
                eprintln!("mesolite executor: event stream failed: {e}");
                stream = None;
                supervisor.handle_disconnected(now);
            }
            Input::Signal(SignalKind::Term | SignalKind::Int) => supervisor.handle_shutdown(now),
            Input::Signal(SignalKind::Chld | SignalKind::Usr1) | Input::Tick => {}
        }
        let mut exited = Vec::new();
        for (task_id, pid) in &pids {
            match try_reap(*pid) {
                Ok(Some(status)) => exited.push((task_id.clone(), status)),
                Ok(None) => {}
                Err(e) => eprintln!("mesolite executor: {e}"),
            }
        }
        for (task_id, status) in exited {
            pids.retain(|(id, _)| *id != task_id);
            supervisor.handle_task_exit(now, wall_now(), &task_id, status);
        }
        supervisor.handle_timeout(now);
    }
}
