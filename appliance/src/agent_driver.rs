//! The agent's driver: a thin loop around `mesolite_core::agent::Agent` that keeps the master
//! connection, writes the checkpoint, starts, adopts and reaps executor processes, serves
//! executor streams and runs timers.

use crate::convert;
use crate::event_queue::{event_queue, EventReceiver, EventSender};
use crate::master_driver::log;
use mesolite_core::agent::{Agent, AgentOutput, CheckpointWritten, ExecutorStream, Record};
use mesolite_core::ids::ContainerId;
use mesolite_core::wire::{AgentToMaster, CommandSpec, MasterToAgent};
use mesolite_platform::checkpoint::AgentCheckpoint;
use mesolite_platform::clock::Clock;
use mesolite_platform::net::{self, Outgoing};
use mesolite_platform::process::{self, ExecutorLaunch, Pid, Signal};
use mesolite_platform::signals::{SignalKind, Signals};
use smol::channel::{self, Receiver, Sender};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Shared state of the agent's tasks (all on one thread).
pub struct AgentDriver {
    pub agent: RefCell<Agent>,
    pub clock: Clock,
    pub work_dir: PathBuf,
    /// The master's `HOST:PORT`.
    master_addr: String,
    /// `IP:PORT` where executors reach this agent's HTTP API.
    endpoint: String,
    link: RefCell<Option<Sender<Outgoing<AgentToMaster>>>>,
    exec_streams: RefCell<HashMap<ExecutorStream, EventSender>>,
    containers: RefCell<HashMap<ContainerId, ContainerProcess>>,
    /// Batches for the checkpoint writer (the agent keeps at most one in flight).
    checkpoint_batches: Sender<(u64, Vec<Record>)>,
    /// Wakes the reaper after a launch (capacity one: wake-ups collapse).
    reap_wake: Sender<()>,
    next_id: Cell<u64>,
    timer_wake: Sender<()>,
    connect: Sender<()>,
    closed_streams: Sender<ExecutorStream>,
    launches: Sender<Launch>,
    /// True once the master told us it could not take us for a reason worth logging only once.
    quiet_connect_errors: Cell<bool>,
    /// True while a master connection's pump runs (so a finishing agent can wait for its last
    /// messages to be written).
    link_open: Cell<bool>,
    /// Told once the agent's teardown is complete.
    finished: Sender<()>,
}

/// An executor's process group: started by this agent (a child, reaped with `waitpid`), or
/// adopted from the checkpoint after a restart (not a child: watched until it is gone).
#[derive(Clone, Copy, Debug)]
enum ContainerProcess {
    Child(Pid),
    Adopted(Pid),
}

impl ContainerProcess {
    fn pid(self) -> Pid {
        match self {
            ContainerProcess::Child(pid) | ContainerProcess::Adopted(pid) => pid,
        }
    }
}

/// The receivers the driver's tasks wait on.
pub struct AgentTasks {
    /// Receives once when a teardown is complete: the process exits.
    pub finished: Receiver<()>,
    checkpoint: AgentCheckpoint,
    checkpoint_batches: Receiver<(u64, Vec<Record>)>,
    timer_wake: Receiver<()>,
    connect: Receiver<()>,
    closed_streams: Receiver<ExecutorStream>,
    launches: Receiver<Launch>,
    reap_wake: Receiver<()>,
}

/// An executor to start: its container, the `latest` link to point at it, and the process.
pub struct Launch {
    container_id: ContainerId,
    latest: PathBuf,
    spec: ExecutorLaunch,
    /// Persistent volumes to link into the sandbox before the process starts.
    volumes: Vec<crate::agent_volumes::SandboxLink>,
}

impl Launch {
    /// Creates the sandbox, points `latest` at it and starts the process (blocking I/O).
    fn start(&self) -> Result<Pid, String> {
        let sandbox = &self.spec.sandbox;
        let fresh_runs = create_sandbox(sandbox)
            .map_err(|e| format!("cannot create sandbox {}: {e}", sandbox.display()))?;
        if !fresh_runs {
            let _ = std::fs::remove_file(&self.latest);
        }
        let _ = std::os::unix::fs::symlink(self.container_id.as_str(), &self.latest);
        crate::agent_volumes::link_into_sandbox(&self.volumes)?;
        process::spawn_executor(&self.spec)
            .map(|s| s.pid)
            .map_err(|e| e.to_string())
    }
}

/// Creates `<executor dir>/runs/<container>`; true when `runs` is new (so it has no `latest`).
///
/// A new executor of a known framework is the common case: its directory, `runs` and the
/// container are made with one `mkdir` each, where `create_dir_all` would first try the full
/// path and walk up. Missing ancestors (the framework's first executor) fall back to it.
fn create_sandbox(sandbox: &Path) -> std::io::Result<bool> {
    use std::io::ErrorKind;
    let runs = sandbox.parent();
    let executor_dir = runs.and_then(Path::parent);
    let (Some(runs), Some(executor_dir)) = (runs, executor_dir) else {
        std::fs::create_dir_all(sandbox)?;
        return Ok(false);
    };
    match std::fs::create_dir(executor_dir) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {
            std::fs::create_dir_all(sandbox)?;
            return Ok(true);
        }
        Err(e) => return Err(e),
    }
    let fresh_runs = match std::fs::create_dir(runs) {
        Ok(()) => true,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => false,
        Err(e) => return Err(e),
    };
    match std::fs::create_dir(sandbox) {
        Err(e) if e.kind() != ErrorKind::AlreadyExists => Err(e),
        _ => Ok(fresh_runs),
    }
}

/// Reports an executor stream closed when dropped (with the response body).
pub struct ExecutorStreamGuard {
    stream: ExecutorStream,
    closed: Sender<ExecutorStream>,
}

impl Drop for ExecutorStreamGuard {
    fn drop(&mut self) {
        let _ = self.closed.try_send(self.stream);
    }
}

impl AgentDriver {
    /// The driver of `agent`, which writes to `checkpoint`. Executors the agent recovered with a
    /// pid are adopted and watched; if the host `rebooted` they are reported gone instead (their
    /// pids may belong to unrelated processes now).
    pub fn new(
        agent: Agent,
        checkpoint: AgentCheckpoint,
        rebooted: bool,
        clock: Clock,
        work_dir: PathBuf,
        master_addr: String,
        endpoint: String,
    ) -> (Rc<AgentDriver>, AgentTasks) {
        let (timer_tx, timer_rx) = channel::bounded(1);
        let (connect_tx, connect_rx) = channel::bounded(1);
        let (closed_tx, closed_rx) = channel::unbounded();
        let (launch_tx, launch_rx) = channel::unbounded();
        let (reap_tx, reap_rx) = channel::bounded(1);
        let (batch_tx, batch_rx) = channel::unbounded();
        let (finished_tx, finished_rx) = channel::bounded(1);
        let mut containers = HashMap::new();
        let mut gone = Vec::new();
        for e in agent.executors() {
            let Some(raw) = e.pid else { continue };
            match i32::try_from(raw).ok().and_then(Pid::from_raw) {
                Some(pid) if !rebooted => {
                    let process = ContainerProcess::Adopted(pid);
                    containers.insert(e.container_id.clone(), process);
                }
                _ => gone.push(e.container_id.clone()),
            }
        }
        let d = Rc::new(AgentDriver {
            agent: RefCell::new(agent),
            clock,
            work_dir,
            master_addr,
            endpoint,
            link: RefCell::new(None),
            exec_streams: RefCell::new(HashMap::new()),
            containers: RefCell::new(containers),
            checkpoint_batches: batch_tx,
            reap_wake: reap_tx,
            next_id: Cell::new(1),
            timer_wake: timer_tx,
            connect: connect_tx,
            closed_streams: closed_tx,
            launches: launch_tx,
            quiet_connect_errors: Cell::new(false),
            link_open: Cell::new(false),
            finished: finished_tx,
        });
        for container in gone {
            let (now, wall) = (d.clock.now(), d.clock.wall());
            d.agent.borrow_mut().handle_container_exited(
                now,
                wall,
                &container,
                UNKNOWN_WAIT_STATUS,
            );
        }
        (
            d,
            AgentTasks {
                finished: finished_rx,
                checkpoint,
                checkpoint_batches: batch_rx,
                timer_wake: timer_rx,
                connect: connect_rx,
                closed_streams: closed_rx,
                launches: launch_rx,
                reap_wake: reap_rx,
            },
        )
    }

    pub fn next_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    /// Carries out the agent's outputs, then wakes the timer.
    pub fn drain(&self) {
        loop {
            // The core hands out one batch at a time; the writer reports it durable.
            let batch = self
                .agent
                .borrow_mut()
                .poll_checkpoint()
                .map(|b| (b.seq, b.records.clone()));
            if let Some(batch) = batch {
                let _ = self.checkpoint_batches.try_send(batch);
                continue;
            }
            let out = self.agent.borrow_mut().poll_output();
            let Some(out) = out else { break };
            match out {
                AgentOutput::ConnectMaster => {
                    let _ = self.connect.try_send(());
                }
                AgentOutput::DisconnectMaster => {
                    if let Some(tx) = self.link.borrow_mut().take() {
                        let _ = tx.try_send(Outgoing::Close);
                    }
                }
                AgentOutput::ToMaster(msg) => {
                    if let Some(tx) = self.link.borrow().as_ref() {
                        let _ = tx.try_send(Outgoing::Send(msg));
                    }
                }
                AgentOutput::LaunchExecutor {
                    container_id,
                    sandbox,
                    executor_dir,
                    command,
                    env,
                    volumes,
                    ..
                } => self.launch_executor(
                    container_id,
                    &sandbox,
                    &executor_dir,
                    command,
                    env,
                    &volumes,
                ),
                AgentOutput::SyncVolumes { create, remove } => {
                    crate::agent_volumes::sync(&self.work_dir, &create, remove)
                }
                AgentOutput::ToExecutor { stream, event } => {
                    let record = convert::executor_event_record(&self.agent.borrow(), &event);
                    let mut streams = self.exec_streams.borrow_mut();
                    let keep = streams.get(&stream).is_some_and(|tx| {
                        tx.deliver(record, || format!("executor stream {}", stream.0))
                    });
                    if !keep {
                        streams.remove(&stream);
                    }
                }
                AgentOutput::CloseExecutorStream { stream } => {
                    self.exec_streams.borrow_mut().remove(&stream);
                }
                AgentOutput::KillContainer {
                    container_id,
                    force,
                } => {
                    if let Some(process) = self.containers.borrow().get(&container_id) {
                        if force {
                            // Tasks run in process groups of their own inside the executor's
                            // session: the whole session goes.
                            let _ = process::kill_group(process.pid(), Signal::KILL);
                            let _ = process::kill_session(process.pid(), Signal::KILL);
                        } else {
                            let _ = process::kill_group(process.pid(), Signal::TERM);
                        }
                    }
                }
                AgentOutput::RemoveSandbox { path } => {
                    crate::agent_gc::spawn_remove(&self.work_dir, path)
                }
                AgentOutput::Log(line) => log(&line),
                AgentOutput::Fatal(why) => {
                    log(&format!("agent: fatal: {why}"));
                    std::process::exit(1);
                }
                AgentOutput::Finished => {
                    // Whatever was queued for the master is written before the link closes.
                    if let Some(tx) = self.link.borrow_mut().take() {
                        let _ = tx.try_send(Outgoing::Close);
                    }
                    let _ = self.finished.try_send(());
                }
            }
        }
        let _ = self.timer_wake.try_send(());
    }

    /// Prepares an executor's launch and hands it to the launcher task, which creates the
    /// sandbox and starts the process off the event loop (fork and exec take milliseconds).
    fn launch_executor(
        &self,
        container_id: ContainerId,
        sandbox: &str,
        executor_dir: &str,
        command: Option<CommandSpec>,
        mut env: Vec<(String, String)>,
        volumes: &[mesolite_core::agent::volumes::VolumeMount],
    ) {
        let sandbox_path = self.work_dir.join(sandbox);
        let volumes = match crate::agent_volumes::links(&self.work_dir, &sandbox_path, volumes) {
            Ok(v) => v,
            Err(why) => {
                self.launch_failed(&container_id, &why);
                return;
            }
        };
        let latest = self.work_dir.join(executor_dir).join("runs").join("latest");
        let sandbox_text = sandbox_path.display().to_string();
        env.push(("MESOS_AGENT_ENDPOINT".into(), self.endpoint.clone()));
        env.push((
            "MESOS_SLAVE_PID".into(),
            format!("slave(1)@{}", self.endpoint),
        ));
        // Mesos' defaults for executors reconnecting to a restarted agent.
        env.push(("MESOS_RECOVERY_TIMEOUT".into(), "15mins".into()));
        env.push(("MESOS_SUBSCRIPTION_BACKOFF_MAX".into(), "2secs".into()));
        env.push(("MESOS_SANDBOX".into(), sandbox_text.clone()));
        env.push(("MESOS_DIRECTORY".into(), sandbox_text));
        let (program, args) = match command {
            None => match std::env::current_exe() {
                Ok(exe) => (exe, vec!["executor".to_string()]),
                Err(e) => {
                    self.launch_failed(
                        &container_id,
                        &format!("cannot find the mesolite binary: {e}"),
                    );
                    return;
                }
            },
            Some(c) if c.shell => (PathBuf::from("/bin/sh"), vec!["-c".to_string(), c.value]),
            Some(c) => (
                PathBuf::from(c.value),
                c.arguments.into_iter().skip(1).collect(),
            ),
        };
        let spec = ExecutorLaunch {
            program,
            args,
            env,
            sandbox: sandbox_path,
        };
        let _ = self.launches.try_send(Launch {
            container_id,
            latest,
            spec,
            volumes,
        });
    }

    fn launch_failed(&self, container_id: &ContainerId, why: &str) {
        log(&format!("executor launch failed: {why}"));
        let (now, wall) = (self.clock.now(), self.clock.wall());
        self.agent
            .borrow_mut()
            .handle_container_exited(now, wall, container_id, 127 << 8);
    }

    /// Registers a new executor stream; its events go to the returned receiver.
    pub fn open_executor_stream(&self) -> (ExecutorStream, EventReceiver) {
        let id = ExecutorStream(self.next_id());
        let (tx, rx) = event_queue();
        self.exec_streams.borrow_mut().insert(id, tx);
        (id, rx)
    }

    /// A guard to keep with the stream's response body.
    pub fn stream_guard(&self, stream: ExecutorStream) -> ExecutorStreamGuard {
        ExecutorStreamGuard {
            stream,
            closed: self.closed_streams.clone(),
        }
    }

    pub fn executor_stream_closed(&self, stream: ExecutorStream) {
        self.exec_streams.borrow_mut().remove(&stream);
        self.agent
            .borrow_mut()
            .handle_executor_stream_closed(stream);
        self.drain();
    }

    /// Begins ending every executor the `kind` way (`--recover cleanup`, `--shutdown`, SIGUSR1).
    pub fn begin_teardown(&self, kind: mesolite_core::agent::Teardown) {
        let (now, wall) = (self.clock.now(), self.clock.wall());
        self.agent.borrow_mut().begin_teardown(now, wall, kind);
        self.drain();
    }

    /// Waits (at most `limit`) until the master connection is closed, so its last messages are
    /// written.
    pub async fn master_link_closed(&self, limit: std::time::Duration) {
        let deadline = std::time::Instant::now() + limit;
        while self.link_open.get() && std::time::Instant::now() < deadline {
            smol::Timer::after(std::time::Duration::from_millis(10)).await;
        }
    }

    /// The executor process of a running container, for resource statistics.
    pub fn container_pid(&self, container: &ContainerId) -> Option<Pid> {
        self.containers.borrow().get(container).map(|p| p.pid())
    }

    /// Resolves a path for `/files/read`: relative to the work dir, or absolute inside it.
    /// Refuses anything that leaves the work dir.
    pub fn sandbox_file(&self, path: &str) -> Result<PathBuf, String> {
        let p = Path::new(path);
        let joined = if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.work_dir.join(p)
        };
        let canon = joined
            .canonicalize()
            .map_err(|_| format!("file '{path}' not found"))?;
        let root = self
            .work_dir
            .canonicalize()
            .map_err(|e| format!("work dir: {e}"))?;
        if !canon.starts_with(&root) {
            return Err(format!("path '{path}' is outside the agent's work dir"));
        }
        Ok(canon)
    }
}

/// Keeps the connection to the master: connects when the agent asks, reads and writes frames.
pub async fn master_link_task(d: Rc<AgentDriver>, connect: Receiver<()>) {
    while connect.recv().await.is_ok() {
        match net::connect_internal(&d.master_addr).await {
            Err(e) => {
                if !d.quiet_connect_errors.replace(true) {
                    log(&format!(
                        "cannot reach the master at {}: {e}; retrying with backoff",
                        d.master_addr
                    ));
                }
                d.agent
                    .borrow_mut()
                    .handle_master_disconnected(d.clock.now());
                d.drain();
            }
            Ok(stream) => {
                d.quiet_connect_errors.set(false);
                let (tx, rx) = channel::unbounded::<Outgoing<AgentToMaster>>();
                *d.link.borrow_mut() = Some(tx);
                d.link_open.set(true);
                d.agent.borrow_mut().handle_master_connected(d.clock.now());
                d.drain();
                let on_message = |msg: MasterToAgent| {
                    let (now, wall) = (d.clock.now(), d.clock.wall());
                    d.agent.borrow_mut().handle_master_message(now, wall, msg);
                    d.drain();
                };
                if let Some(e) = net::pump(stream, rx, on_message).await {
                    log(&format!("closing the master connection: {e}"));
                }
                d.link_open.set(false);
                d.link.borrow_mut().take();
                d.agent
                    .borrow_mut()
                    .handle_master_disconnected(d.clock.now());
                d.drain();
            }
        }
    }
}

/// Waits for timers at the agent's `poll_timeout` and runs them.
pub async fn timer_task(d: Rc<AgentDriver>, wake: Receiver<()>) {
    let clock = d.clock;
    let deadline = || d.agent.borrow().poll_timeout();
    let fire = || {
        let (now, wall) = (d.clock.now(), d.clock.wall());
        d.agent.borrow_mut().handle_timeout(now, wall);
        d.drain();
    };
    mesolite_platform::clock::run_timer(clock, wake, deadline, fire).await;
}

/// Executors started at the same time, each on a blocking thread: process creation costs a
/// millisecond or more on small machines, and one at a time would make it the limit on launch rate.
const LAUNCH_WORKERS: usize = 2;

/// Starts executors from the launch queue on a blocking thread, so the event loop keeps serving;
/// [`LAUNCH_WORKERS`] of these run side by side.
pub async fn launcher_task(d: Rc<AgentDriver>, launches: Receiver<Launch>) {
    while let Ok(launch) = launches.recv().await {
        let (launch, started) = smol::unblock(move || {
            let r = launch.start();
            (launch, r)
        })
        .await;
        match started {
            Ok(pid) => {
                d.agent.borrow_mut().handle_executor_pid(
                    &launch.container_id,
                    pid.as_raw_nonzero().get().unsigned_abs(),
                );
                d.containers
                    .borrow_mut()
                    .insert(launch.container_id, ContainerProcess::Child(pid));
                // The executor may have exited already; its SIGCHLD came before we knew its pid.
                let _ = d.reap_wake.try_send(());
            }
            Err(e) => d.launch_failed(&launch.container_id, &e),
        }
        d.drain();
    }
}

/// How often the reaper looks for exited executors when no SIGCHLD arrived (a safety net: a
/// signal can be coalesced or, if SIGCHLD could not be registered, never come).
const REAP_FALLBACK: std::time::Duration = std::time::Duration::from_secs(1);

/// Reaps executor processes that ended and reports them: woken by SIGCHLD, by a launch, or by
/// the fallback timer.
pub async fn reaper_task(d: Rc<AgentDriver>, wake: Receiver<()>) {
    let mut sigchld = match Signals::new(&[SignalKind::Chld]) {
        Ok(s) => Some(s),
        Err(e) => {
            log(&format!(
                "cannot wait for SIGCHLD ({e}); looking for exited executors every {REAP_FALLBACK:?}"
            ));
            None
        }
    };
    loop {
        // First pass at once: adopted executors may have ended while the agent was down.
        reap_exited_containers(&d);
        let launched = async {
            let _ = wake.recv().await;
        };
        let signalled = async {
            match sigchld.as_mut() {
                Some(s) => {
                    let _ = s.next().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let timer = async {
            smol::Timer::after(REAP_FALLBACK).await;
        };
        smol::future::or(signalled, smol::future::or(launched, timer)).await;
    }
}

/// The wait status reported for an adopted executor: it is not our child, so how it ended is
/// unknown (Mesos reports the same for executors that ended while the agent was down).
const UNKNOWN_WAIT_STATUS: i32 = -1;

fn reap_exited_containers(d: &AgentDriver) {
    let live: Vec<(ContainerId, ContainerProcess)> = d
        .containers
        .borrow()
        .iter()
        .map(|(c, p)| (c.clone(), *p))
        .collect();
    for (container, process) in live {
        let exited = match process {
            ContainerProcess::Child(pid) => match process::try_reap(pid) {
                Ok(Some(status)) => Some(std::os::unix::process::ExitStatusExt::into_raw(status)),
                _ => None,
            },
            ContainerProcess::Adopted(pid) => {
                (!process::pid_alive(pid)).then_some(UNKNOWN_WAIT_STATUS)
            }
        };
        if let Some(raw) = exited {
            d.containers.borrow_mut().remove(&container);
            let (now, wall) = (d.clock.now(), d.clock.wall());
            d.agent
                .borrow_mut()
                .handle_container_exited(now, wall, &container, raw);
            d.drain();
        }
    }
}

/// Writes checkpoint batches, one at a time, each with one write and one `fdatasync` on a
/// blocking thread, and reports them durable; compacts the log when it has grown. A failed write
/// is reported to the agent, which stops with a fatal error (the next start recovers from disk).
pub async fn checkpoint_task(
    d: Rc<AgentDriver>,
    mut checkpoint: AgentCheckpoint,
    batches: Receiver<(u64, Vec<Record>)>,
) {
    while let Ok((seq, records)) = batches.recv().await {
        let (back, written) = smol::unblock(move || {
            let r = checkpoint.append(&records);
            (checkpoint, r)
        })
        .await;
        checkpoint = back;
        let result = match written {
            Ok(()) => CheckpointWritten::Durable,
            Err(e) => {
                log(&format!("agent: {e}"));
                CheckpointWritten::Failed
            }
        };
        d.agent
            .borrow_mut()
            .handle_checkpoint_written(d.clock.now(), seq, result);
        if result == CheckpointWritten::Durable && checkpoint.wants_compaction() {
            // Exactly what the log holds now: the next batch waits for this task.
            let state = d.agent.borrow().checkpoint_state().clone();
            let (back, compacted) = smol::unblock(move || {
                let r = checkpoint.compact(&state);
                (checkpoint, r)
            })
            .await;
            checkpoint = back;
            if let Err(e) = compacted {
                log(&format!(
                    "agent: fatal: compacting the checkpoint failed: {e}"
                ));
                std::process::exit(1);
            }
        }
        d.drain();
    }
}

/// Starts the agent's tasks.
pub fn spawn_tasks(ex: &smol::LocalExecutor<'_>, d: &Rc<AgentDriver>, tasks: AgentTasks) {
    ex.spawn(checkpoint_task(
        d.clone(),
        tasks.checkpoint,
        tasks.checkpoint_batches,
    ))
    .detach();
    ex.spawn(timer_task(d.clone(), tasks.timer_wake)).detach();
    ex.spawn(master_link_task(d.clone(), tasks.connect))
        .detach();
    ex.spawn(reaper_task(d.clone(), tasks.reap_wake)).detach();
    for _ in 0..LAUNCH_WORKERS {
        ex.spawn(launcher_task(d.clone(), tasks.launches.clone()))
            .detach();
    }
    ex.spawn(crate::agent_gc::startup_scan_task(d.clone()))
        .detach();
    ex.spawn(crate::agent_gc::disk_watch_task(d.clone()))
        .detach();
    let closed = tasks.closed_streams;
    let dd = d.clone();
    ex.spawn(async move {
        while let Ok(stream) = closed.recv().await {
            dd.executor_stream_closed(stream);
        }
    })
    .detach();
    // The agent asked to connect at construction; let the timer pick it up.
    d.drain();
}
