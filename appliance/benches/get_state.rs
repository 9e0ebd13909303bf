//! Bench: operator GET_STATE latency of a real `mesolite master` holding 100 agents, 10,000
//! running and 10,000 completed tasks, with one client and with 20 concurrent clients.
//!
//! The agents are simulated in this process: each speaks the internal protocol on its own
//! connection (Register, answer Ping, answer RunTask with reliable RUNNING updates, and a
//! FINISHED update for every task whose id ends in `-done`). Ten schedulers (the master keeps at
//! most 1,000 completed tasks per framework) subscribe over the v1 API, launch 2,000 `/bin/true`
//! tasks each on the offers they get, acknowledge every update (so finished tasks become
//! completed) and then keep their streams open while GET_STATE is measured. The master runs with
//! its default flags. `MESOLITE_BENCH_QUICK=1` shrinks the cluster to 20 agents and 2 frameworks.
//!
//! The master may reuse one rendering of its state while the state is unchanged, so each case
//! is measured twice and labelled: `cold` is the first request after a state change (before
//! it, a simulated agent sends a new RUNNING update for one of its tasks and the bench waits
//! until the scheduler has acknowledged it, so the master holds a new status), `warm` repeats
//! requests with nothing changed on purpose (the master's own timers may still change state).
//!
//! Every case is measured twice more with `Accept-Encoding: gzip` (as Python requests, Go's
//! net/http and `curl --compressed` send): the time is still to the last (compressed) byte
//! read, as a client would see it; the bodies are decompressed and checked afterwards, and the
//! decompression time of one body is reported on its own.
//!
//! The binary is `MESOLITE_BENCH_BIN` when set, else the one cargo built for this bench.

mod common;

use common::{binary, fail, machine, median, BenchError, Master};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use mesolite_appliance::client::{self, EventStream};
use mesolite_appliance::v1::{self, from_json};
use mesolite_core::ids::{AgentId, ExecutorId, FrameworkId, TaskId};
use mesolite_core::resources::Resources;
use mesolite_core::task_state::TaskState;
use mesolite_core::time::WallTime;
use mesolite_core::wire::{
    AgentInfo, AgentToMaster, MasterToAgent, StatusSource, StatusUpdate, TaskStatus,
};
use mesolite_platform::net::{self, FrameReader};
use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ONE_CLIENT_TARGET_MS: f64 = 20.0;
const TWENTY_CLIENTS_TARGET_MS: f64 = 100.0;
/// Resources of each simulated agent (room for 200 tasks of `cpus:0.1;mem:32`).
const AGENT_RESOURCES: &str = "cpus:32;mem:65536;disk:65536;ports:[31000-32000]";
const TASK_CPUS: f64 = 0.1;
const TASK_MEM: f64 = 32.0;
/// Measured requests with one client, and rounds of twenty clients (each, cold and warm).
const ONE_CLIENT_SAMPLES: usize = 9;
const TWENTY_CLIENT_ROUNDS: usize = 5;
/// Longest a state change (update sent, acknowledged) may take.
const CHANGE_TIMEOUT: Duration = Duration::from_secs(10);
const CONCURRENT_CLIENTS: usize = 20;
/// Longest the cluster may take to reach its size.
const SETUP_TIMEOUT: Duration = Duration::from_secs(120);

/// The cluster's shape.
#[derive(Clone, Copy)]
struct Shape {
    agents: usize,
    frameworks: usize,
    /// Tasks each framework launches; half of them finish.
    tasks_per_framework: usize,
}

fn main() {
    println!("machine {}", machine());
    let bin = binary();
    println!("binary {}", bin.display());
    let quick = std::env::var("MESOLITE_BENCH_QUICK").is_ok_and(|v| v == "1");
    let shape = if quick {
        Shape {
            agents: 20,
            frameworks: 2,
            tasks_per_framework: 2000,
        }
    } else {
        Shape {
            agents: 100,
            frameworks: 10,
            tasks_per_framework: 2000,
        }
    };
    let result = Master::start(&bin, "get-state").and_then(|master| {
        let ex = Rc::new(smol::LocalExecutor::new());
        let run = smol::block_on(ex.run(measure(ex.clone(), master.addr.clone(), shape)));
        run.map_err(|e| fail(format!("{e}\n{}", master.log_tail())))
    });
    if let Err(e) = result {
        println!("get_state agents={} FAILED: {e}", shape.agents);
        std::process::exit(1);
    }
}

/// Builds the cluster, then measures GET_STATE.
async fn measure(
    ex: Rc<smol::LocalExecutor<'static>>,
    master: String,
    shape: Shape,
) -> Result<(), BenchError> {
    let setup_started = Instant::now();
    let built = smol::future::or(build(&ex, &master, shape), async {
        smol::Timer::after(SETUP_TIMEOUT).await;
        Err(fail(format!(
            "the cluster was not built within {} s",
            SETUP_TIMEOUT.as_secs()
        )))
    })
    .await?;
    let setup_s = setup_started.elapsed().as_secs_f64();

    // One request first, to check the master holds what was built (and to warm up).
    let (body, _) = get_state(&master).await?;
    let state: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| fail(format!("GET_STATE is not JSON: {e}")))?;
    let s = &state["get_state"];
    let count = |v: &serde_json::Value| v.as_array().map_or(0, Vec::len);
    let agents = count(&s["get_agents"]["agents"]);
    let running = s["get_tasks"]["tasks"].as_array().map_or(0, |t| {
        t.iter().filter(|t| t["state"] == "TASK_RUNNING").count()
    });
    let completed = count(&s["get_tasks"]["completed_tasks"]);
    let want_running = shape.frameworks * shape.tasks_per_framework / 2;
    if agents != shape.agents || running != want_running || completed != want_running {
        return Err(fail(format!(
            "GET_STATE shows {agents} agents, {running} running and {completed} completed tasks; \
             expected {} agents and {want_running} of each",
            shape.agents
        )));
    }

    let size = body.len();
    let mut cases = Vec::new();
    for coding in [Coding::Identity, Coding::Gzip] {
        cases.push(measure_coding(&ex, &master, &built, size, coding).await?);
    }
    let verdict = |one: f64, twenty: f64| {
        if one <= ONE_CLIENT_TARGET_MS && twenty <= TWENTY_CLIENTS_TARGET_MS {
            "ok"
        } else {
            "MISSED"
        }
    };
    println!(
        "get_state agents={agents} running={running} completed={completed} body_bytes={} \
         target_ms={ONE_CLIENT_TARGET_MS:.0}/{TWENTY_CLIENTS_TARGET_MS:.0}",
        body.len()
    );
    for case in &cases {
        if case.coding == Coding::Gzip {
            println!(
                "  accept-encoding gzip: body_bytes={} (of {size}) decompress_one_body_ms={:.1} \
                 (times below are to the last compressed byte, without decompressing)",
                case.compressed_bytes,
                median(&case.decompress_ms)
            );
        }
        for (label, one, twenty) in [
            (
                "cold (first request after a state change)",
                &case.one_cold,
                &case.twenty_cold,
            ),
            (
                "warm (state unchanged since the previous request)",
                &case.one_warm,
                &case.twenty_warm,
            ),
        ] {
            print_case(case.coding.name(), label, one, twenty, &verdict);
        }
    }
    println!(
        "  setup_s={setup_s:.1} updates_acknowledged={} (twenty_clients_ms: from the first request \
         sent to the last answer read)",
        built.acks
    );
    let (one, twenty) = (
        loopback_bound(size, 1)?,
        loopback_bound(size, CONCURRENT_CLIENTS)?,
    );
    println!(
        "  loopback copy bound on this machine: one_body_ms={one:.1} twenty_bodies_ms={twenty:.1} \
         (the answer's bytes written by one thread and read by another over one loopback \
         connection, nothing else done; median of {BOUND_SAMPLES})"
    );
    Ok(())
}

/// How the answer is asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Coding {
    /// No `Accept-Encoding`: the plain answer.
    Identity,
    /// `Accept-Encoding: gzip`.
    Gzip,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Coding::Identity => "identity",
            Coding::Gzip => "gzip",
        }
    }

    fn headers(self) -> Vec<(&'static str, String)> {
        match self {
            Coding::Identity => Vec::new(),
            Coding::Gzip => vec![("Accept-Encoding", "gzip".to_string())],
        }
    }
}

/// The samples of one coding.
struct Case {
    coding: Coding,
    one_cold: Vec<f64>,
    one_warm: Vec<f64>,
    twenty_cold: Vec<f64>,
    twenty_warm: Vec<f64>,
    /// The size of the last body received (compressed for gzip).
    compressed_bytes: usize,
    /// Decompressing one received body, per sample (gzip only).
    decompress_ms: Vec<f64>,
}

/// Measures one client and twenty clients, cold and warm, asking for `coding`.
async fn measure_coding(
    ex: &Rc<smol::LocalExecutor<'static>>,
    master: &str,
    built: &Built,
    size: usize,
    coding: Coding,
) -> Result<Case, BenchError> {
    let mut case = Case {
        coding,
        one_cold: Vec::new(),
        one_warm: Vec::new(),
        twenty_cold: Vec::new(),
        twenty_warm: Vec::new(),
        compressed_bytes: 0,
        decompress_ms: Vec::new(),
    };
    let check = |case: &mut Case, answers: Vec<Answer>| -> Result<(), BenchError> {
        for (i, answer) in answers.into_iter().enumerate() {
            case.compressed_bytes = answer.received;
            if let Some(gz) = answer.gzip {
                // The first body of each sample is parsed, the others only sized.
                let ms = check_gzip(&gz, size, i == 0)?;
                if i == 0 {
                    case.decompress_ms.push(ms);
                }
            }
        }
        Ok(())
    };
    for _ in 0..ONE_CLIENT_SAMPLES {
        built.change_state().await?;
        let cold = get_state_timed(master, size, coding).await?;
        case.one_cold.push(cold.ms);
        let warm = get_state_timed(master, size, coding).await?;
        case.one_warm.push(warm.ms);
        check(&mut case, vec![cold, warm])?;
    }
    for _ in 0..TWENTY_CLIENT_ROUNDS {
        built.change_state().await?;
        let (ms, answers) = twenty_clients(ex, master, size, coding).await?;
        case.twenty_cold.push(ms);
        check(&mut case, answers)?;
        let (ms, answers) = twenty_clients(ex, master, size, coding).await?;
        case.twenty_warm.push(ms);
        check(&mut case, answers)?;
    }
    Ok(case)
}

/// Prints the medians (and extremes) of one case.
fn print_case(
    coding: &str,
    label: &str,
    one: &[f64],
    twenty: &[f64],
    verdict: &dyn Fn(f64, f64) -> &'static str,
) {
    let (one_ms, twenty_ms) = (median(one), median(twenty));
    println!(
        "  {coding} {label}: one_client_ms={one_ms:.1} twenty_clients_ms={twenty_ms:.1} {}",
        verdict(one_ms, twenty_ms)
    );
    println!(
        "    detail: one_client_min_ms={:.1} max_ms={:.1} twenty_min_ms={:.1} max_ms={:.1}",
        one.iter().copied().fold(f64::INFINITY, f64::min),
        one.iter().copied().fold(0.0, f64::max),
        twenty.iter().copied().fold(f64::INFINITY, f64::min),
        twenty.iter().copied().fold(0.0, f64::max),
    );
}

/// Decompresses a gzip answer and checks it is complete: at least `expect_bytes` long and, when
/// `parse`, a JSON document. The milliseconds decompressing took.
fn check_gzip(gz: &[u8], expect_bytes: usize, parse: bool) -> Result<f64, BenchError> {
    use std::io::Read;
    let started = Instant::now();
    let mut plain = Vec::with_capacity(expect_bytes + expect_bytes / 8);
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut plain)
        .map_err(|e| fail(format!("GET_STATE gzip body: {e}")))?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if plain.len() < expect_bytes {
        return Err(fail(format!(
            "GET_STATE decompressed to {} bytes, expected at least {expect_bytes}",
            plain.len()
        )));
    }
    if parse {
        serde_json::from_slice::<serde::de::IgnoredAny>(&plain)
            .map_err(|e| fail(format!("GET_STATE decompressed is not JSON: {e}")))?;
    }
    Ok(ms)
}

/// Samples of the loopback copy bound.
const BOUND_SAMPLES: usize = 5;

/// The milliseconds it takes merely to move `bodies` answers of `size` bytes through a loopback
/// TCP connection (blocking 128 KiB writes on one thread, 256 KiB reads on another): no server
/// can send them faster on this machine, so it bounds the twenty-client case from below.
fn loopback_bound(size: usize, bodies: usize) -> Result<f64, BenchError> {
    use std::io::{Read, Write};
    let io = |what: &str, e: std::io::Error| fail(format!("loopback bound: {what}: {e}"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| io("bind", e))?;
    let addr = listener.local_addr().map_err(|e| io("address", e))?;
    let body = vec![b'x'; size];
    let mut samples = Vec::new();
    for _ in 0..BOUND_SAMPLES {
        let mut client = std::net::TcpStream::connect(addr).map_err(|e| io("connect", e))?;
        let (mut server, _) = listener.accept().map_err(|e| io("accept", e))?;
        let _ = server.set_nodelay(true);
        let started = Instant::now();
        let reader = std::thread::spawn(move || -> std::io::Result<()> {
            let mut left = size * bodies;
            let mut buf = vec![0u8; 256 * 1024];
            while left > 0 {
                match client.read(&mut buf)? {
                    0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                    n => left = left.saturating_sub(n),
                }
            }
            Ok(())
        });
        for _ in 0..bodies {
            for chunk in body.chunks(128 * 1024) {
                server.write_all(chunk).map_err(|e| io("write", e))?;
            }
        }
        reader
            .join()
            .map_err(|_| fail("loopback bound: the reader panicked"))?
            .map_err(|e| io("read", e))?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(median(&samples))
}

/// Twenty concurrent GET_STATE requests: the milliseconds until the last answer is read, and
/// the answers.
async fn twenty_clients(
    ex: &Rc<smol::LocalExecutor<'static>>,
    master: &str,
    expect_bytes: usize,
    coding: Coding,
) -> Result<(f64, Vec<Answer>), BenchError> {
    let started = Instant::now();
    let clients: Vec<_> = (0..CONCURRENT_CLIENTS)
        .map(|_| ex.spawn(get_state_owned(master.to_string(), expect_bytes, coding)))
        .collect();
    let mut answers = Vec::new();
    for c in clients {
        answers.push(c.await?);
    }
    Ok((started.elapsed().as_secs_f64() * 1000.0, answers))
}

/// One GET_STATE on a new connection, read to the end and kept: the body and the milliseconds
/// it took.
async fn get_state(master: &str) -> Result<(Bytes, f64), BenchError> {
    let started = Instant::now();
    let (status, body) =
        client::post_json(master, "/api/v1", r#"{"type":"GET_STATE"}"#.into(), &[])
            .await
            .map_err(|e| fail(format!("GET_STATE: {e}")))?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if status != StatusCode::OK {
        return Err(fail(format!("GET_STATE answered {status}")));
    }
    Ok((body, ms))
}

/// One measured answer.
struct Answer {
    /// Milliseconds until the last byte was read.
    ms: f64,
    /// Bytes received.
    received: usize,
    /// The received body when it is gzip-compressed (checked after the measurement).
    gzip: Option<Vec<u8>>,
}

/// One measured GET_STATE on a new connection: the milliseconds until the last byte of the
/// answer was read. A plain body is read chunk by chunk and counted, not gathered into one
/// buffer (gathering 15 MB is the client's cost, not the master's); a gzip body (about a tenth
/// of the size) is gathered, to be decompressed after the measurement.
async fn get_state_timed(
    master: &str,
    expect_bytes: usize,
    coding: Coding,
) -> Result<Answer, BenchError> {
    let started = Instant::now();
    let answer = client::request(
        master,
        Method::POST,
        "/api/v1",
        Some(r#"{"type":"GET_STATE"}"#.into()),
        &coding.headers(),
    )
    .await
    .map_err(|e| fail(format!("GET_STATE: {e}")))?;
    if answer.status != StatusCode::OK {
        return Err(fail(format!("GET_STATE answered {}", answer.status)));
    }
    let gzip = answer
        .headers
        .get(hyper::header::CONTENT_ENCODING)
        .is_some_and(|v| v == "gzip");
    if gzip != (coding == Coding::Gzip) {
        return Err(fail(format!(
            "GET_STATE asked with {} was answered with content encoding {:?}",
            coding.name(),
            answer.headers.get(hyper::header::CONTENT_ENCODING)
        )));
    }
    let mut body = answer.body;
    let mut read = 0;
    let mut kept = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| fail(format!("GET_STATE body: {e}")))?;
        if let Some(data) = frame.data_ref() {
            read += data.len();
            if gzip {
                kept.extend_from_slice(data);
            }
        }
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    // The answer grows by a few bytes with each state change (a new status); a short read is
    // an error (a gzip body is checked once decompressed).
    if !gzip && read < expect_bytes {
        return Err(fail(format!(
            "GET_STATE answered {read} bytes, expected at least {expect_bytes}"
        )));
    }
    Ok(Answer {
        ms,
        received: read,
        gzip: gzip.then_some(kept),
    })
}

async fn get_state_owned(
    master: String,
    expect_bytes: usize,
    coding: Coding,
) -> Result<Answer, BenchError> {
    get_state_timed(&master, expect_bytes, coding).await
}

/// What building the cluster did, and how to change its state afterwards.
struct Built {
    acks: usize,
    /// Asks the first simulated agent to send a new RUNNING update for one of its tasks.
    poke: smol::channel::Sender<()>,
    /// Told by a scheduler each time it has acknowledged an update after the build.
    acknowledged: smol::channel::Receiver<()>,
}

impl Built {
    /// Changes the master's state visibly (a task gets a new status) and waits until the
    /// master has processed it: the scheduler's acknowledgement was answered.
    async fn change_state(&self) -> Result<(), BenchError> {
        self.poke
            .send(())
            .await
            .map_err(|_| fail("the first simulated agent stopped"))?;
        smol::future::or(
            async {
                self.acknowledged
                    .recv()
                    .await
                    .map_err(|_| fail("the schedulers stopped"))
            },
            async {
                smol::Timer::after(CHANGE_TIMEOUT).await;
                Err(fail("a new status update was not acknowledged in time"))
            },
        )
        .await
    }
}

/// Registers the agents, then runs the schedulers until every task is running or completed.
async fn build(
    ex: &Rc<smol::LocalExecutor<'static>>,
    master: &str,
    shape: Shape,
) -> Result<Built, BenchError> {
    let resources =
        Resources::parse(AGENT_RESOURCES).map_err(|e| fail(format!("agent resources: {e:?}")))?;
    let mut registered = Vec::new();
    let (poke, poked) = smol::channel::unbounded();
    // Taken by the first agent that is given a task that keeps running.
    let poked = Rc::new(RefCell::new(Some(poked)));
    for i in 0..shape.agents {
        let (tx, rx) = smol::channel::bounded(1);
        ex.spawn(sim_agent(
            master.to_string(),
            i,
            resources.clone(),
            tx,
            poked.clone(),
        ))
        .detach();
        registered.push(rx);
    }
    for rx in registered {
        rx.recv()
            .await
            .map_err(|_| fail("a simulated agent stopped"))??;
    }
    let (done_tx, done_rx) = smol::channel::unbounded();
    let (acked_tx, acknowledged) = smol::channel::unbounded();
    for f in 0..shape.frameworks {
        ex.spawn(scheduler(
            master.to_string(),
            f,
            shape.tasks_per_framework,
            done_tx.clone(),
            acked_tx.clone(),
        ))
        .detach();
    }
    let mut acks = 0;
    for _ in 0..shape.frameworks {
        acks += done_rx
            .recv()
            .await
            .map_err(|_| fail("a scheduler stopped"))??;
    }
    Ok(Built {
        acks,
        poke,
        acknowledged,
    })
}

/// Where the agent that answers pokes takes the poke receiver from.
type PokeSlot = Rc<RefCell<Option<smol::channel::Receiver<()>>>>;

/// A simulated agent: registers, then answers pings and runs tasks by reporting them. The
/// first agent given a task that keeps running takes the receiver in `poked`; each message on
/// it makes that agent send a new RUNNING update for the task.
async fn sim_agent(
    master: String,
    index: usize,
    resources: Resources,
    registered: smol::channel::Sender<Result<(), BenchError>>,
    poked: PokeSlot,
) {
    if let Err(e) = sim_agent_run(&master, index, resources, &registered, poked).await {
        let _ = registered.try_send(Err(e));
    }
}

/// What wakes a simulated agent.
enum AgentInput {
    Message(Box<Result<Option<MasterToAgent>, net::NetError>>),
    Poke,
}

async fn sim_agent_run(
    master: &str,
    index: usize,
    resources: Resources,
    registered: &smol::channel::Sender<Result<(), BenchError>>,
    poke_slot: PokeSlot,
) -> Result<(), BenchError> {
    let stream = net::connect_internal(master)
        .await
        .map_err(|e| fail(format!("agent {index}: connect: {e}")))?;
    let mut writer = stream.clone();
    let mut reader = FrameReader::new(stream);
    let mut scratch = Vec::new();
    let info = AgentInfo {
        hostname: format!("sim-agent-{index}"),
        ip: "127.0.0.1".into(),
        port: 20_000 + index as u16,
        resources,
        attributes: Vec::new(),
        domain: None,
        version: "1.5.0".into(),
    };
    net::write_message(
        &mut writer,
        &AgentToMaster::Register {
            info,
            checkpointed: mesolite_core::resources::Resources::new(),
        },
        &mut scratch,
    )
    .await
    .map_err(|e| fail(format!("agent {index}: register: {e}")))?;
    let mut agent_id = None::<AgentId>;
    let mut uuid_counter = 0u64;
    // The task a poke sends an update for: (framework, task, executor).
    let mut poke_task = None::<(FrameworkId, TaskId, ExecutorId)>;
    let mut poked = None::<smol::channel::Receiver<()>>;
    loop {
        // Reading a frame is cancel-safe (a partial frame stays in the reader's decoder).
        let input = smol::future::or(
            async { AgentInput::Message(Box::new(reader.next::<MasterToAgent>().await)) },
            async {
                match &poked {
                    Some(rx) if rx.recv().await.is_ok() => AgentInput::Poke,
                    _ => std::future::pending().await,
                }
            },
        )
        .await;
        let msg = match input {
            AgentInput::Message(msg) => (*msg)
                .map_err(|e| fail(format!("agent {index}: {e}")))?
                .ok_or_else(|| fail(format!("agent {index}: the master closed the connection")))?,
            AgentInput::Poke => {
                let (framework_id, task_id, executor_id) = poke_task
                    .clone()
                    .ok_or_else(|| fail(format!("agent {index} runs no task to update")))?;
                uuid_counter += 1;
                let update = running_update(
                    index,
                    uuid_counter,
                    framework_id,
                    task_id,
                    executor_id,
                    agent_id.clone(),
                    TaskState::Running,
                );
                net::write_message(
                    &mut writer,
                    &AgentToMaster::StatusUpdate(update),
                    &mut scratch,
                )
                .await
                .map_err(|e| fail(format!("agent {index}: {e}")))?;
                continue;
            }
        };
        match msg {
            MasterToAgent::Registered { id } => {
                agent_id = Some(id);
                let _ = registered.try_send(Ok(()));
            }
            MasterToAgent::Refused { reason, .. } => {
                return Err(fail(format!("agent {index}: refused: {reason}")));
            }
            MasterToAgent::Ping { seq } => {
                net::write_message(&mut writer, &AgentToMaster::Pong { seq }, &mut scratch)
                    .await
                    .map_err(|e| fail(format!("agent {index}: {e}")))?;
            }
            MasterToAgent::RunTask { framework, task } => {
                let mut states = vec![TaskState::Running];
                if task.task_id.as_str().ends_with("-done") {
                    states.push(TaskState::Finished);
                } else if poke_task.is_none() {
                    poke_task = Some((
                        framework.id.clone(),
                        task.task_id.clone(),
                        task.executor.executor_id.clone(),
                    ));
                    poked = poke_slot.borrow_mut().take();
                }
                for state in states {
                    uuid_counter += 1;
                    let update = running_update(
                        index,
                        uuid_counter,
                        framework.id.clone(),
                        task.task_id.clone(),
                        task.executor.executor_id.clone(),
                        agent_id.clone(),
                        state,
                    );
                    let msg = AgentToMaster::StatusUpdate(update);
                    net::write_message(&mut writer, &msg, &mut scratch)
                        .await
                        .map_err(|e| fail(format!("agent {index}: {e}")))?;
                }
            }
            // Acknowledgements and everything else need no answer from a simulated agent.
            _ => {}
        }
    }
}

/// A reliable status update from the executor of a simulated agent's task.
fn running_update(
    index: usize,
    counter: u64,
    framework_id: FrameworkId,
    task_id: TaskId,
    executor_id: ExecutorId,
    agent_id: Option<AgentId>,
    state: TaskState,
) -> StatusUpdate {
    let mut uuid = [0u8; 16];
    uuid[..8].copy_from_slice(&(index as u64).to_le_bytes());
    uuid[8..].copy_from_slice(&counter.to_le_bytes());
    StatusUpdate {
        framework_id,
        status: TaskStatus {
            task_id,
            state,
            message: None,
            source: StatusSource::Executor,
            reason: None,
            agent_id,
            executor_id: Some(executor_id),
            timestamp: wall_now(),
            uuid: Some(uuid),
            data: Vec::new(),
            unreachable_time: None,
        },
        latest_state: state,
    }
}

fn wall_now() -> WallTime {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    WallTime { unix_nanos: nanos }
}

/// A keep-alive HTTP/1.1 connection to the master for scheduler calls.
struct Conn {
    addr: String,
    sender: SendRequest<Full<Bytes>>,
}

impl Conn {
    async fn open(addr: &str) -> Result<Conn, BenchError> {
        let stream = smol::net::TcpStream::connect(addr)
            .await
            .map_err(|e| fail(format!("cannot connect to {addr}: {e}")))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) =
            hyper::client::conn::http1::handshake(smol_hyper::rt::FuturesIo::new(stream))
                .await
                .map_err(|e| fail(format!("HTTP handshake: {e}")))?;
        smol::spawn(async move {
            let _ = conn.await;
        })
        .detach();
        Ok(Conn {
            addr: addr.to_string(),
            sender,
        })
    }

    async fn call(&mut self, stream_id: &str, body: String) -> Result<(), BenchError> {
        // The master closes keep-alive connections idle for a while: open a new one then.
        if self.sender.is_closed() || self.sender.ready().await.is_err() {
            *self = Conn::open(&self.addr).await?;
        }
        self.sender
            .ready()
            .await
            .map_err(|e| fail(format!("connection lost: {e}")))?;
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/scheduler")
            .header(hyper::header::HOST, self.addr.as_str())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header("Mesos-Stream-Id", stream_id)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| fail(e.to_string()))?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| fail(format!("call failed: {e}")))?;
        let status = resp.status();
        let text = resp
            .into_body()
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        if status != StatusCode::ACCEPTED {
            return Err(fail(format!(
                "call answered {status}: {}",
                String::from_utf8_lossy(&text).trim()
            )));
        }
        Ok(())
    }
}

/// A scheduler that launches `tasks` tasks, half of which finish; it reports the number of
/// acknowledgements it sent once all are answered, then keeps its stream open, acknowledging
/// further updates and telling `acknowledged` after each.
async fn scheduler(
    master: String,
    index: usize,
    tasks: usize,
    done: smol::channel::Sender<Result<usize, BenchError>>,
    acknowledged: smol::channel::Sender<()>,
) {
    if let Err(e) = scheduler_run(&master, index, tasks, &done, &acknowledged).await {
        let _ = done.try_send(Err(e));
    }
}

async fn scheduler_run(
    master: &str,
    index: usize,
    tasks: usize,
    done: &smol::channel::Sender<Result<usize, BenchError>>,
    acknowledged: &smol::channel::Sender<()>,
) -> Result<(), BenchError> {
    let subscribe = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {
        "user": "root", "name": format!("get_state bench {index}")}}});
    let answer = client::request(
        master,
        Method::POST,
        "/api/v1/scheduler",
        Some(subscribe.to_string()),
        &[],
    )
    .await
    .map_err(|e| fail(format!("SUBSCRIBE: {e}")))?;
    if answer.status != StatusCode::OK {
        return Err(fail(format!("SUBSCRIBE answered {}", answer.status)));
    }
    let stream_id = answer
        .headers
        .get("Mesos-Stream-Id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut events = EventStream::new(answer.body);
    let mut conn = Conn::open(master).await?;
    let mut framework_id = String::new();
    let mut launched = 0usize;
    let mut running = 0usize;
    let mut finished = 0usize;
    let mut acks = 0usize;
    let mut reported = false;
    let mut suppressed = false;
    loop {
        let record = events
            .next()
            .await
            .map_err(|e| fail(format!("scheduler {index}: event stream: {e}")))?
            .ok_or_else(|| fail(format!("scheduler {index}: the master closed the stream")))?;
        let event: v1::scheduler::Event =
            from_json(&record).map_err(|e| fail(format!("bad event: {e}")))?;
        use v1::scheduler::EventType as E;
        match event.kind {
            Some(E::Subscribed) => {
                if let Some(s) = event.subscribed {
                    framework_id = s.framework_id.value;
                }
            }
            Some(E::Offers) => {
                for offer in event.offers.map(|o| o.offers).unwrap_or_default() {
                    let fid = json!({"value": framework_id});
                    let cpus = scalar(&offer, "cpus");
                    let mem = scalar(&offer, "mem");
                    let fit = ((cpus / TASK_CPUS + 1e-9).floor() as usize)
                        .min((mem / TASK_MEM + 1e-9).floor() as usize)
                        .min(tasks - launched);
                    if fit == 0 {
                        let body = json!({"framework_id": fid, "type": "DECLINE", "decline": {
                            "offer_ids": [{"value": offer.id.value}],
                            "filters": {"refuse_seconds": 3600.0}}});
                        conn.call(&stream_id, body.to_string()).await?;
                        continue;
                    }
                    let infos: Vec<serde_json::Value> = (launched..launched + fit)
                        .map(|j| {
                            let end = if j % 2 == 0 { "done" } else { "run" };
                            json!({
                                "name": format!("task {j}"),
                                "task_id": {"value": format!("t{j}-{end}")},
                                "agent_id": {"value": offer.agent_id.value},
                                "resources": [
                                    {"name": "cpus", "type": "SCALAR", "scalar": {"value": TASK_CPUS}},
                                    {"name": "mem", "type": "SCALAR", "scalar": {"value": TASK_MEM}},
                                ],
                                "command": {"shell": false, "value": "/bin/true", "arguments": ["true"]},
                            })
                        })
                        .collect();
                    launched += fit;
                    let body = json!({"framework_id": fid, "type": "ACCEPT", "accept": {
                        "offer_ids": [{"value": offer.id.value}],
                        "operations": [{"type": "LAUNCH", "launch": {"task_infos": infos}}],
                        "filters": {"refuse_seconds": 3600.0}}});
                    conn.call(&stream_id, body.to_string()).await?;
                }
                if launched == tasks && !suppressed {
                    suppressed = true;
                    let body = json!({"framework_id": {"value": framework_id}, "type": "SUPPRESS"});
                    conn.call(&stream_id, body.to_string()).await?;
                }
            }
            Some(E::Update) => {
                let Some(update) = event.update else { continue };
                let status = update.status;
                if let (Some(uuid), Some(agent)) = (&status.uuid, &status.agent_id) {
                    let body = json!({"framework_id": {"value": framework_id}, "type": "ACKNOWLEDGE",
                        "acknowledge": {"agent_id": {"value": agent.value},
                        "task_id": {"value": status.task_id.value},
                        "uuid": v1::base64::encode(&uuid.0)}});
                    conn.call(&stream_id, body.to_string()).await?;
                    acks += 1;
                    if reported {
                        let _ = acknowledged.try_send(());
                    }
                }
                match status.state {
                    TaskState::Running => running += 1,
                    TaskState::Finished => finished += 1,
                    s => {
                        return Err(fail(format!(
                            "scheduler {index}: task {} went {}: {}",
                            status.task_id.value,
                            s.name(),
                            status.message.unwrap_or_default()
                        )))
                    }
                }
                if !reported && running == tasks && finished == tasks / 2 {
                    reported = true;
                    let _ = done.try_send(Ok(acks));
                }
            }
            Some(E::Error) => {
                let msg = event.error.map(|e| e.message).unwrap_or_default();
                return Err(fail(format!("scheduler {index}: ERROR event: {msg}")));
            }
            _ => {}
        }
    }
}

fn scalar(offer: &v1::Offer, name: &str) -> f64 {
    offer
        .resources
        .iter()
        .filter(|r| r.name == name)
        .filter_map(|r| r.scalar.map(|s| s.value))
        .sum()
}
