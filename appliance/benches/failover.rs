//! Bench: master failover completion, from the start of a restarted `mesolite master` to the
//! last of its agents re-registered with all its tasks (Mesos' `ReregisterSlaves` benchmark).
//!
//! The agents are simulated in this process, one internal-protocol connection each on
//! loopback, all on one executor thread. The cluster is built once per shape: a real master
//! starts on a fresh work dir, every agent registers (and gets its id) and then re-registers
//! with its share of the tasks, all of one framework, so the master knows them all. Each run
//! then SIGKILLs the master and starts it again on the same work dir; the start is t0. Every
//! agent starts reconnecting at t0 (no jitter, as Mesos' benchmark does) or at t0 plus a
//! uniform random delay in [0, 1 s] (the default `--registration_backoff_factor`), retries
//! every 5 ms while the port refuses connections or the recovering master refuses it, and
//! sends its pre-encoded `Reregister` with its id, info, framework and tasks. Completion is the
//! last `Reregistered` read; GET_AGENTS and GET_TASKS confirm the counts after each run,
//! outside the timing. Agents answer pings until the master is killed again.
//!
//! Cases: 1,000 agents with 10,000 tasks (3 runs per mode) and 10,000 agents with 100,000 tasks
//! (2 runs per mode); `MESOLITE_BENCH_QUICK=1` runs 200 agents with 2,000 tasks instead. The
//! bench raises its own `RLIMIT_NOFILE` (the master inherits it) and the master listens with
//! a backlog of 4,096, so connections are not lost to the descriptor limit or to SYN drops.
//!
//! The binary is `MESOLITE_BENCH_BIN` when set (`cargo xtask bench` points it at the static musl
//! binary that ships), else the one cargo built for this bench.

mod common;

use common::{fail, machine, median, BenchError, Master};

use hyper::StatusCode;
use mesolite_appliance::client;
use mesolite_core::ids::{ExecutorId, FrameworkId, Role, TaskId};
use mesolite_core::resources::Resources;
use mesolite_core::rng::Rng;
use mesolite_core::task_state::TaskState;
use mesolite_core::wire::{
    self, AgentInfo, AgentToMaster, FrameworkRecord, MasterToAgent, TaskReport,
};
use mesolite_platform::limits;
use mesolite_platform::net::FrameReader;
use smol::io::AsyncWriteExt;
use smol::net::TcpStream;
use std::fs;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Resources of each simulated agent, and of each of its tasks.
const AGENT_RESOURCES: &str = "cpus:32;mem:65536;disk:65536;ports:[31000-32000]";
const TASK_RESOURCES: &str = "cpus:0.1;mem:32";
/// How often an agent retries while the master's port or the recovering master refuses it.
const RETRY: Duration = Duration::from_millis(5);
/// The default reconnect jitter of an agent: a uniform delay in [0, 1 s].
const JITTER_MAX: Duration = Duration::from_secs(1);
/// Longest the cluster may take to reach its size, and a run to complete.
const SETUP_TIMEOUT: Duration = Duration::from_secs(600);
const RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// The one framework all tasks belong to.
const FRAMEWORK_ID: &str = "fobench-0000-framework";

/// A cluster size, how often each mode is measured, and what it is compared with.
#[derive(Clone, Copy)]
struct Shape {
    agents: usize,
    tasks: usize,
    runs: usize,
    /// Mesos 1.5's no-jitter time with in-process agents, where it was measured.
    mesos_s: Option<f64>,
    target_s: f64,
}

/// When the agents start reconnecting.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    NoJitter,
    Jitter,
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::NoJitter => "none",
            Mode::Jitter => "uniform[0,1s]",
        }
    }
}

fn main() {
    println!("machine {}", machine());
    let bin = common::binary();
    println!("binary {}", bin.display());
    let quick = std::env::var("MESOLITE_BENCH_QUICK").is_ok_and(|v| v == "1");
    // Both the simulated agents and the master (which inherits the limit) hold one descriptor
    // per agent.
    match limits::raise_open_files_limit() {
        Ok(n) => println!("open_files_limit {n}"),
        Err(e) => println!("open_files_limit not raised: {e}"),
    }
    let shapes: Vec<Shape> = if quick {
        vec![Shape {
            agents: 200,
            tasks: 2_000,
            runs: 3,
            mesos_s: None,
            target_s: 0.1,
        }]
    } else {
        vec![
            Shape {
                agents: 1_000,
                tasks: 10_000,
                runs: 3,
                mesos_s: Some(0.4),
                target_s: 0.1,
            },
            Shape {
                agents: 10_000,
                tasks: 100_000,
                runs: 2,
                mesos_s: Some(4.3),
                target_s: 1.0,
            },
        ]
    };
    let mut failed = false;
    for shape in shapes {
        if let Err(e) = run_shape(&bin, shape) {
            println!(
                "failover agents={} tasks={} FAILED: {e}",
                shape.agents, shape.tasks
            );
            failed = true;
        }
    }
    if failed {
        std::process::exit(1);
    }
}

/// Builds one cluster and measures both modes on it.
fn run_shape(bin: &Path, shape: Shape) -> Result<(), BenchError> {
    let mut master = Master::start(bin, "failover")?;
    let ex = Rc::new(smol::LocalExecutor::new());
    let result = smol::block_on(ex.run(measure_shape(&ex, &mut master, shape)));
    result.map_err(|e| fail(format!("{e}\n{}", master.log_tail())))
}

async fn measure_shape(
    ex: &Rc<smol::LocalExecutor<'static>>,
    master: &mut Master,
    shape: Shape,
) -> Result<(), BenchError> {
    let setup_started = Instant::now();
    let (frames, agents) = with_timeout(SETUP_TIMEOUT, "building the cluster", async {
        build(ex, master.socket, shape).await
    })
    .await?;
    confirm(&master.addr, shape).await?;
    println!(
        "failover agents={} tasks={} setup_s={:.1} (register, then re-register with tasks)",
        shape.agents,
        shape.tasks,
        setup_started.elapsed().as_secs_f64()
    );
    // The agents of the build keep their connections until the first kill.
    let mut live = agents;
    let mut rng = Rng::from_seed(0x5eed_fa11);
    for mode in [Mode::NoJitter, Mode::Jitter] {
        let mut runs = Vec::new();
        for _ in 0..shape.runs {
            master.kill();
            drop(std::mem::take(&mut live));
            let starts: Vec<Duration> = (0..shape.agents)
                .map(|_| match mode {
                    Mode::NoJitter => Duration::ZERO,
                    Mode::Jitter => {
                        Duration::from_micros(rng.below(JITTER_MAX.as_micros() as u64 + 1))
                    }
                })
                .collect();
            let (run, tasks) = failover(ex, master, &frames, &starts).await?;
            live = tasks;
            confirm(&master.addr, shape).await?;
            runs.push(run);
        }
        print_mode(shape, mode, &runs);
    }
    master.kill();
    drop(live);
    Ok(())
}

/// What one failover took.
struct Run {
    completion_s: f64,
    /// From t0 to the first connection the master's port accepted.
    listening_ms: f64,
    /// Median of the agents' re-registration times, from t0.
    median_agent_s: f64,
    /// The latest start an agent was given (its jitter).
    last_start_s: f64,
    connect_refused: u64,
    master_refusals: u64,
    master_cpu_s: f64,
}

fn print_mode(shape: Shape, mode: Mode, runs: &[Run]) {
    let completion: Vec<f64> = runs.iter().map(|r| r.completion_s).collect();
    let median_s = median(&completion);
    let compared = match (mode, shape.mesos_s) {
        (Mode::NoJitter, Some(mesos)) => format!(
            " mesos_1.5_s={mesos:.1} target_s={} {}",
            shape.target_s,
            verdict(median_s <= shape.target_s)
        ),
        (Mode::NoJitter, None) => format!(
            " target_s={} {}",
            shape.target_s,
            verdict(median_s <= shape.target_s)
        ),
        // The last agent starts up to a second late: the target applies to the time after it.
        (Mode::Jitter, _) => {
            let after: Vec<f64> = runs
                .iter()
                .map(|r| r.completion_s - r.last_start_s)
                .collect();
            let after_s = median(&after);
            format!(
                " after_last_start_s={after_s:.3} target_s={} {}",
                shape.target_s,
                verdict(after_s <= shape.target_s)
            )
        }
    };
    println!(
        "failover agents={} tasks={} jitter={} completion_s={median_s:.3} (median of {}){compared}",
        shape.agents,
        shape.tasks,
        mode.label(),
        runs.len()
    );
    for (i, r) in runs.iter().enumerate() {
        println!(
            "  run {i}: completion_s={:.3} listening_ms={:.1} median_agent_s={:.3} \
             last_start_s={:.3} connect_refused={} master_refusals={} master_cpu_s={:.2}",
            r.completion_s,
            r.listening_ms,
            r.median_agent_s,
            r.last_start_s,
            r.connect_refused,
            r.master_refusals,
            r.master_cpu_s
        );
    }
}

fn verdict(holds: bool) -> &'static str {
    if holds {
        "ok"
    } else {
        "MISSED"
    }
}

/// CPU seconds (user + system) a process has used, from /proc/<pid>/stat.
fn cpu_seconds(pid: u32) -> f64 {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some(close) = text.rfind(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
    // After the name: state(0) ... utime(11) stime(12), in clock ticks (100 per second).
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 100.0
    };
    tick(11) + tick(12)
}

async fn with_timeout<T>(
    limit: Duration,
    what: &str,
    work: impl std::future::Future<Output = Result<T, BenchError>>,
) -> Result<T, BenchError> {
    smol::future::or(work, async {
        smol::Timer::after(limit).await;
        Err(fail(format!(
            "{what} took longer than {} s",
            limit.as_secs()
        )))
    })
    .await
}

/// One simulated agent's identity and what it sends.
struct AgentSetup {
    info: AgentInfo,
    frameworks: Vec<FrameworkRecord>,
    tasks: Vec<TaskReport>,
}

fn agent_setup(index: usize, shape: Shape) -> Result<AgentSetup, BenchError> {
    let resources =
        Resources::parse(AGENT_RESOURCES).map_err(|e| fail(format!("agent resources: {e:?}")))?;
    let task_resources =
        Resources::parse(TASK_RESOURCES).map_err(|e| fail(format!("task resources: {e:?}")))?;
    let port = u16::try_from(20_000 + index).map_err(|_| fail("too many agents for the ports"))?;
    let info = AgentInfo {
        hostname: format!("sim-agent-{index}"),
        ip: "127.0.0.1".into(),
        port,
        resources,
        attributes: Vec::new(),
        domain: None,
        version: "1.5.0".into(),
    };
    let framework_id = FrameworkId::from(FRAMEWORK_ID);
    let frameworks = vec![FrameworkRecord {
        id: framework_id.clone(),
        name: "failover bench".into(),
        user: "root".into(),
        checkpoint: true,
        role: Role::new("*"),
    }];
    // Tasks are dealt round-robin, so every agent holds tasks/agents of them (give or take one).
    let tasks = (index..shape.tasks)
        .step_by(shape.agents)
        .map(|t| {
            let id = format!("task-{t}");
            TaskReport {
                framework_id: framework_id.clone(),
                executor_id: ExecutorId::new(id.clone()),
                task_id: TaskId::new(id.clone()),
                name: id,
                state: TaskState::Running,
                resources: task_resources.clone(),
                role: Some(Role::new("*")),
            }
        })
        .collect();
    Ok(AgentSetup {
        info,
        frameworks,
        tasks,
    })
}

/// The preamble and one framed message: all an agent writes to open a connection.
fn opening(msg: &AgentToMaster) -> Result<Vec<u8>, BenchError> {
    let mut out = wire::preamble().to_vec();
    wire::encode_frame(msg, &mut out).map_err(|e| fail(format!("cannot encode: {e}")))?;
    Ok(out)
}

/// Registers every agent and re-registers it with its tasks. Returns each agent's opening of a
/// re-registration (preamble and `Reregister` with its id) and the agents' tasks, which answer
/// pings until the master goes away (dropping them closes their connections).
async fn build(
    ex: &Rc<smol::LocalExecutor<'static>>,
    master: SocketAddr,
    shape: Shape,
) -> Result<(Vec<Rc<[u8]>>, Vec<smol::Task<()>>), BenchError> {
    let (tx, rx) = smol::channel::unbounded();
    let mut tasks = Vec::with_capacity(shape.agents);
    for index in 0..shape.agents {
        let setup = agent_setup(index, shape)?;
        tasks.push(ex.spawn(register_agent(master, index, setup, tx.clone())));
    }
    drop(tx);
    let mut frames: Vec<Option<Rc<[u8]>>> = vec![None; shape.agents];
    for _ in 0..shape.agents {
        let (index, frame) = rx
            .recv()
            .await
            .map_err(|_| fail("a simulated agent stopped"))??;
        frames[index] = Some(frame);
    }
    let frames = frames
        .into_iter()
        .map(|f| f.ok_or_else(|| fail("an agent reported twice")))
        .collect::<Result<_, _>>()?;
    Ok((frames, tasks))
}

type Registered = Result<(usize, Rc<[u8]>), BenchError>;

async fn register_agent(
    master: SocketAddr,
    index: usize,
    setup: AgentSetup,
    done: smol::channel::Sender<Registered>,
) {
    let result = async {
        let stream = TcpStream::connect(master)
            .await
            .map_err(|e| fail(format!("agent {index}: connect: {e}")))?;
        let _ = stream.set_nodelay(true);
        let mut writer = stream.clone();
        let mut reader = FrameReader::new(stream);
        let register = opening(&AgentToMaster::Register {
            info: setup.info.clone(),
            checkpointed: mesolite_core::resources::Resources::new(),
        })?;
        writer
            .write_all(&register)
            .await
            .map_err(|e| fail(format!("agent {index}: register: {e}")))?;
        let id = match serve_until_answer(&mut reader, &mut writer, index).await? {
            MasterToAgent::Registered { id } => id,
            other => return Err(fail(format!("agent {index}: register answered {other:?}"))),
        };
        let reregister = AgentToMaster::Reregister {
            id,
            info: setup.info,
            checkpointed: mesolite_core::resources::Resources::new(),
            frameworks: setup.frameworks,
            tasks: setup.tasks,
        };
        let opening = opening(&reregister)?;
        // On this connection the preamble was sent already: only the frame goes.
        let frame = &opening[wire::PREAMBLE_LEN..];
        writer
            .write_all(frame)
            .await
            .map_err(|e| fail(format!("agent {index}: re-register: {e}")))?;
        match serve_until_answer(&mut reader, &mut writer, index).await? {
            MasterToAgent::Reregistered { .. } => {}
            other => {
                return Err(fail(format!(
                    "agent {index}: re-register answered {other:?}"
                )))
            }
        }
        Ok((reader, writer, Rc::<[u8]>::from(opening)))
    }
    .await;
    match result {
        Ok((mut reader, mut writer, opening)) => {
            let _ = done.send(Ok((index, opening))).await;
            let _ = serve_pings(&mut reader, &mut writer).await;
        }
        Err(e) => {
            let _ = done.send(Err(e)).await;
        }
    }
}

/// Answers pings until the master says something else, and returns that.
async fn serve_until_answer(
    reader: &mut FrameReader,
    writer: &mut TcpStream,
    index: usize,
) -> Result<MasterToAgent, BenchError> {
    let mut scratch = Vec::new();
    loop {
        match reader.next::<MasterToAgent>().await {
            Ok(Some(MasterToAgent::Ping { seq })) => {
                mesolite_platform::net::write_message(
                    writer,
                    &AgentToMaster::Pong { seq },
                    &mut scratch,
                )
                .await
                .map_err(|e| fail(format!("agent {index}: pong: {e}")))?;
            }
            Ok(Some(msg)) => return Ok(msg),
            Ok(None) => return Err(fail(format!("agent {index}: the master closed"))),
            Err(e) => return Err(fail(format!("agent {index}: {e}"))),
        }
    }
}

/// Answers pings until the connection ends.
async fn serve_pings(reader: &mut FrameReader, writer: &mut TcpStream) -> Result<(), BenchError> {
    loop {
        serve_until_answer(reader, writer, 0).await?;
    }
}

/// Restarts the killed master and has every agent re-register, each from its start offset.
async fn failover(
    ex: &Rc<smol::LocalExecutor<'static>>,
    master: &mut Master,
    frames: &[Rc<[u8]>],
    starts: &[Duration],
) -> Result<(Run, Vec<smol::Task<()>>), BenchError> {
    let (tx, rx) = smol::channel::unbounded();
    let t0 = Instant::now();
    master.spawn()?;
    let mut tasks = Vec::with_capacity(frames.len());
    for (index, (frame, start)) in frames.iter().zip(starts).enumerate() {
        tasks.push(ex.spawn(reregister_agent(
            master.socket,
            index,
            frame.clone(),
            t0 + *start,
            tx.clone(),
        )));
    }
    drop(tx);
    let mut reports = Vec::with_capacity(frames.len());
    with_timeout(RUN_TIMEOUT, "the failover", async {
        for _ in 0..frames.len() {
            reports.push(
                rx.recv()
                    .await
                    .map_err(|_| fail("a simulated agent stopped"))??,
            );
        }
        Ok(())
    })
    .await?;
    let master_cpu_s = cpu_seconds(master.pid());
    let since = |t: Instant| t.duration_since(t0).as_secs_f64();
    let mut done: Vec<f64> = reports.iter().map(|r: &Rejoined| since(r.done)).collect();
    done.sort_by(f64::total_cmp);
    let run = Run {
        completion_s: done.last().copied().unwrap_or(0.0),
        listening_ms: reports
            .iter()
            .map(|r| since(r.connected) * 1000.0)
            .fold(f64::INFINITY, f64::min),
        median_agent_s: median(&done),
        last_start_s: starts.iter().max().map_or(0.0, Duration::as_secs_f64),
        connect_refused: reports.iter().map(|r| r.connect_refused).sum(),
        master_refusals: reports.iter().map(|r| r.master_refusals).sum(),
        master_cpu_s,
    };
    Ok((run, tasks))
}

/// How one agent's re-registration went.
struct Rejoined {
    /// The first connection the master's port accepted.
    connected: Instant,
    /// The `Reregistered` was read.
    done: Instant,
    connect_refused: u64,
    master_refusals: u64,
}

async fn reregister_agent(
    master: SocketAddr,
    index: usize,
    opening: Rc<[u8]>,
    start: Instant,
    done: smol::channel::Sender<Result<Rejoined, BenchError>>,
) {
    smol::Timer::at(start).await;
    let mut connect_refused = 0;
    let mut master_refusals = 0;
    let mut connected = None;
    let result = loop {
        let stream = match TcpStream::connect(master).await {
            Ok(s) => s,
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                connect_refused += 1;
                smol::Timer::after(RETRY).await;
                continue;
            }
            Err(e) => break Err(fail(format!("agent {index}: connect: {e}"))),
        };
        let connected_at = *connected.get_or_insert_with(Instant::now);
        let _ = stream.set_nodelay(true);
        let mut writer = stream.clone();
        if let Err(e) = writer.write_all(&opening).await {
            break Err(fail(format!("agent {index}: re-register: {e}")));
        }
        let mut reader = FrameReader::new(stream);
        match serve_until_answer(&mut reader, &mut writer, index).await {
            Ok(MasterToAgent::Reregistered { .. }) => {
                break Ok((
                    Rejoined {
                        connected: connected_at,
                        done: Instant::now(),
                        connect_refused,
                        master_refusals,
                    },
                    reader,
                    writer,
                ))
            }
            // The master has not finished its recovery: try again.
            Ok(MasterToAgent::Refused {
                forget_id: false, ..
            }) => {
                master_refusals += 1;
                drop((reader, writer));
                smol::Timer::after(RETRY).await;
            }
            Ok(other) => {
                break Err(fail(format!(
                    "agent {index}: re-register answered {other:?}"
                )))
            }
            Err(e) => break Err(e),
        }
    };
    match result {
        Ok((report, mut reader, mut writer)) => {
            let _ = done.send(Ok(report)).await;
            let _ = serve_pings(&mut reader, &mut writer).await;
        }
        Err(e) => {
            let _ = done.send(Err(e)).await;
        }
    }
}

/// Checks with GET_AGENTS and GET_TASKS that the master knows every agent and task.
async fn confirm(master: &str, shape: Shape) -> Result<(), BenchError> {
    let agents = operator_count(master, "GET_AGENTS", "/get_agents/agents").await?;
    let tasks = operator_count(master, "GET_TASKS", "/get_tasks/tasks").await?;
    if agents != shape.agents || tasks != shape.tasks {
        return Err(fail(format!(
            "the master knows {agents} agents and {tasks} tasks; expected {} and {}",
            shape.agents, shape.tasks
        )));
    }
    Ok(())
}

async fn operator_count(master: &str, call: &str, pointer: &str) -> Result<usize, BenchError> {
    let (status, body) =
        client::post_json(master, "/api/v1", format!(r#"{{"type":"{call}"}}"#), &[])
            .await
            .map_err(|e| fail(format!("{call}: {e}")))?;
    if status != StatusCode::OK {
        return Err(fail(format!("{call} answered {status}")));
    }
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| fail(format!("{call} is not JSON: {e}")))?;
    Ok(value
        .pointer(pointer)
        .and_then(serde_json::Value::as_array)
        .map_or(0, Vec::len))
}
