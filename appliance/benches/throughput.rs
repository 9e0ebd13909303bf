//! Bench: end-to-end throughput of trivial command tasks (`/bin/true`) through one real
//! `mesolite master` and one real `mesolite agent` on loopback, driven by a minimal v1 scheduler
//! written here on `mesolite_appliance::client` and the v1 types.
//!
//! The scheduler subscribes, launches as many tasks as fit into each offer (`cpus:0.01;mem:8`
//! each), acknowledges every status update over a few keep-alive connections, and measures from
//! the first ACCEPT sent to the last TASK_FINISHED seen. While tasks still wait for resources it
//! REVIVEs after every [`REVIVE_EVERY`] finished tasks, as a throughput-minded Mesos scheduler
//! does: Mesos (and mesolite) run an allocation on REVIVE, while resources freed by finished
//! tasks otherwise wait for the next periodic cycle. Launch latency is per task: its ACCEPT
//! written to the socket to its TASK_RUNNING read from the event stream. Each case runs with the
//! default one-second allocation interval and with `--allocation-interval 100ms`, on a fresh
//! master and agent (agent resources detected from the machine, as a user would start it).
//!
//! The binary is `MESOLITE_BENCH_BIN` when set (`cargo xtask bench` points it at the static musl
//! `target/x86_64-unknown-linux-musl/release/mesolite` that ships), else the one cargo built for this bench. `MESOLITE_BENCH_QUICK=1`
//! runs N = 50 and 200 instead of 200 and 2,000. Processes, executors and tasks are cleaned up
//! however a case ends; the scratch directories are removed when the bench ends, not between
//! cases: deleting thousands of sandboxes makes the next case pay for it (without a journal,
//! ext4 skips recently freed inodes one by one when it allocates new ones, for up to 35 s).

mod common;

use common::{binary, fail, free_port, machine, BenchError};

use mesolite_appliance::client::{self, EventStream};
use mesolite_appliance::v1::{self, from_json};
use mesolite_core::task_state::TaskState;
use serde_json::json;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};

/// Tasks per second the bench must reach.
const TARGET_TASKS_PER_SEC: f64 = 500.0;
/// Resources of one task: the smallest CPU share Mesos offers, and a little memory.
const TASK_CPUS: f64 = 0.01;
const TASK_MEM: f64 = 8.0;
/// Finished tasks between two REVIVE calls while tasks still wait for resources.
const REVIVE_EVERY: usize = 50;
/// Keep-alive connections acknowledging status updates concurrently.
const ACK_CONNECTIONS: usize = 4;
/// Longest a case may take before it counts as stuck.
const CASE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a started process may take to answer `GET /health`.
const START_TIMEOUT: Duration = Duration::from_secs(20);

fn main() {
    println!("machine {}", machine());
    let bin = binary();
    println!("binary {}", bin.display());
    let quick = std::env::var("MESOLITE_BENCH_QUICK").is_ok_and(|v| v == "1");
    let sizes: [usize; 2] = if quick { [50, 200] } else { [200, 2000] };
    let mut failed = false;
    for interval in [None, Some("100ms")] {
        for n in sizes {
            let label = interval.unwrap_or("1s(default)");
            match run_case(&bin, n, interval) {
                Ok(r) => r.print(n, label),
                Err(e) => {
                    println!("throughput n={n} allocation_interval={label} FAILED: {e}");
                    failed = true;
                }
            }
        }
    }
    remove_scratch_dirs();
    if failed {
        std::process::exit(1);
    }
}

/// Scratch directories of finished cases, removed when the bench ends.
static SCRATCH_DIRS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn remove_scratch_dirs() {
    let dirs = std::mem::take(&mut *SCRATCH_DIRS.lock().unwrap_or_else(|e| e.into_inner()));
    for dir in dirs {
        if let Err(e) = fs::remove_dir_all(&dir) {
            eprintln!("throughput: could not remove {}: {e}", dir.display());
        }
    }
}

/// What one case measured.
struct Outcome {
    seconds: f64,
    launch_ms: Vec<f64>,
    run_ms: Vec<f64>,
    accepts: usize,
    max_per_accept: usize,
    acks: usize,
    offer_cpus: f64,
    cpu: CpuUse,
}

impl Outcome {
    fn print(&self, n: usize, interval: &str) {
        let rate = n as f64 / self.seconds;
        let verdict = if rate >= TARGET_TASKS_PER_SEC {
            "ok"
        } else {
            "MISSED"
        };
        println!(
            "throughput n={n} allocation_interval={interval} seconds={:.3} tasks_per_sec={rate:.0} \
             launch_p50_ms={:.1} launch_p99_ms={:.1} target={TARGET_TASKS_PER_SEC:.0} {verdict}",
            self.seconds,
            percentile(&self.launch_ms, 0.50),
            percentile(&self.launch_ms, 0.99),
        );
        println!(
            "  detail: offered_cpus={} tasks_per_full_offer={} accepts={} max_tasks_per_accept={} acks={} \
             running_to_finished_p50_ms={:.1} p99_ms={:.1} cpu_s: master={:.2} agent={:.2} \
             executors+tasks={:.2} scheduler={:.2} cpu_ms_per_task={:.2}",
            self.offer_cpus,
            (self.offer_cpus / TASK_CPUS + 1e-9).floor(),
            self.accepts,
            self.max_per_accept,
            self.acks,
            percentile(&self.run_ms, 0.50),
            percentile(&self.run_ms, 0.99),
            self.cpu.master,
            self.cpu.agent,
            self.cpu.children,
            self.cpu.scheduler,
            (self.cpu.master + self.cpu.agent + self.cpu.children + self.cpu.scheduler) * 1000.0
                / n as f64,
        );
    }
}

fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v[i]
}

/// CPU seconds spent during a case, from /proc.
#[derive(Default)]
struct CpuUse {
    master: f64,
    agent: f64,
    /// Reaped children of the agent: executors and (reaped by them) the tasks.
    children: f64,
    scheduler: f64,
}

/// (own utime+stime, reaped children's cutime+cstime) of a process, in seconds.
fn cpu_seconds(pid: &str) -> (f64, f64) {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some(close) = text.rfind(')') else {
        return (0.0, 0.0);
    };
    let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
    // After the name: state(0) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    // utime(11) stime(12) cutime(13) cstime(14); in clock ticks (100 per second on Linux).
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 100.0
    };
    (tick(11) + tick(12), tick(13) + tick(14))
}

/// Runs N tasks on a fresh master and agent.
fn run_case(bin: &Path, n: usize, interval: Option<&str>) -> Result<Outcome, BenchError> {
    let cluster = Cluster::start(bin, interval)?;
    let before = [
        cpu_seconds(&cluster.master_pid()),
        cpu_seconds(&cluster.agent_pid()),
        cpu_seconds("self"),
    ];
    let result = smol::block_on(async {
        smol::future::or(schedule(&cluster.master_addr, n), async {
            smol::Timer::after(CASE_TIMEOUT).await;
            Err(fail(format!(
                "not done within {} s",
                CASE_TIMEOUT.as_secs()
            )))
        })
        .await
    });
    let after = [
        cpu_seconds(&cluster.master_pid()),
        cpu_seconds(&cluster.agent_pid()),
        cpu_seconds("self"),
    ];
    match result {
        Ok(mut outcome) => {
            outcome.cpu = CpuUse {
                master: after[0].0 - before[0].0,
                agent: after[1].0 - before[1].0,
                children: after[1].1 - before[1].1,
                scheduler: after[2].0 - before[2].0,
            };
            Ok(outcome)
        }
        Err(e) => Err(fail(format!("{e}\n{}", cluster.logs()))),
    }
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

    /// Sends one scheduler call; `before_send` runs right before the request is written.
    async fn call(
        &mut self,
        stream_id: &str,
        body: String,
        before_send: impl FnOnce(),
    ) -> Result<(), BenchError> {
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
        before_send();
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

/// What the scheduler tracks while a case runs.
struct Tracker {
    /// When each task's ACCEPT was written, by task index.
    accepted_at: Vec<Option<Instant>>,
    running_at: Vec<Option<Instant>>,
    finished_at: Vec<Option<Instant>>,
    finished: usize,
    first_accept: Option<Instant>,
    accepts: usize,
    max_per_accept: usize,
    acks: usize,
}

/// A call for a worker: the body, and the tasks an ACCEPT launches (to stamp when it is sent).
struct Job {
    body: String,
    launches: Vec<usize>,
}

/// Sends the calls of one queue, in order, over one keep-alive connection.
async fn call_worker(
    master: String,
    stream_id: String,
    jobs: smol::channel::Receiver<Job>,
    tracker: Rc<RefCell<Tracker>>,
    errors: smol::channel::Sender<BenchError>,
) {
    let mut conn = match Conn::open(&master).await {
        Ok(c) => c,
        Err(e) => {
            let _ = errors.try_send(e);
            return;
        }
    };
    while let Ok(job) = jobs.recv().await {
        let stamp = || {
            if job.launches.is_empty() {
                return;
            }
            let now = Instant::now();
            let mut t = tracker.borrow_mut();
            t.first_accept.get_or_insert(now);
            for &i in &job.launches {
                t.accepted_at[i] = Some(now);
            }
        };
        if let Err(e) = conn.call(&stream_id, job.body, stamp).await {
            let _ = errors.try_send(e);
            return;
        }
    }
}

/// The scheduler: subscribes, launches `n` tasks, and returns when all have finished.
async fn schedule(master: &str, n: usize) -> Result<Outcome, BenchError> {
    let ex = Rc::new(smol::LocalExecutor::new());
    ex.run(schedule_on(ex.clone(), master.to_string(), n)).await
}

async fn schedule_on(
    ex: Rc<smol::LocalExecutor<'static>>,
    master: String,
    n: usize,
) -> Result<Outcome, BenchError> {
    let subscribe = json!({
        "type": "SUBSCRIBE",
        "subscribe": {"framework_info": {
            "user": "root",
            "name": "mesolite throughput bench",
            "roles": ["*"],
            "capabilities": [{"type": "MULTI_ROLE"}],
        }},
    });
    let answer = client::request(
        &master,
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

    let tracker = Rc::new(RefCell::new(Tracker {
        accepted_at: vec![None; n],
        running_at: vec![None; n],
        finished_at: vec![None; n],
        finished: 0,
        first_accept: None,
        accepts: 0,
        max_per_accept: 0,
        acks: 0,
    }));
    let (errors_tx, errors_rx) = smol::channel::unbounded::<BenchError>();
    // Offer answers go over their own connection so they never wait behind acknowledgements.
    let (offer_tx, offer_rx) = smol::channel::unbounded::<Job>();
    let (ack_tx, ack_rx) = smol::channel::unbounded::<Job>();
    let mut workers = Vec::new();
    workers.push(ex.spawn(call_worker(
        master.clone(),
        stream_id.clone(),
        offer_rx,
        tracker.clone(),
        errors_tx.clone(),
    )));
    for _ in 0..ACK_CONNECTIONS {
        workers.push(ex.spawn(call_worker(
            master.clone(),
            stream_id.clone(),
            ack_rx.clone(),
            tracker.clone(),
            errors_tx.clone(),
        )));
    }

    let mut framework_id = String::new();
    let mut next_task = 0usize;
    let mut offer_cpus = 0.0f64;
    let mut last_finished = None;
    let mut finished_at_revive = 0usize;
    let task_index: HashMap<String, usize> = (0..n).map(|i| (format!("t{i}"), i)).collect();
    loop {
        if let Ok(e) = errors_rx.try_recv() {
            return Err(e);
        }
        let record = events
            .next()
            .await
            .map_err(|e| fail(format!("event stream: {e}")))?
            .ok_or_else(|| fail("the master closed the event stream"))?;
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
                    let cpus = scalar(&offer, "cpus");
                    let mem = scalar(&offer, "mem");
                    offer_cpus = offer_cpus.max(cpus);
                    let fit = ((cpus / TASK_CPUS + 1e-9).floor() as usize)
                        .min((mem / TASK_MEM + 1e-9).floor() as usize)
                        .min(n - next_task);
                    let fid = json!({"value": framework_id});
                    if fit == 0 {
                        let refuse = if next_task == n { 3600.0 } else { 1.0 };
                        let body = json!({"framework_id": fid, "type": "DECLINE", "decline": {
                            "offer_ids": [{"value": offer.id.value}],
                            "filters": {"refuse_seconds": refuse}}});
                        let _ = offer_tx.try_send(Job {
                            body: body.to_string(),
                            launches: Vec::new(),
                        });
                        continue;
                    }
                    let launches: Vec<usize> = (next_task..next_task + fit).collect();
                    next_task += fit;
                    let tasks: Vec<serde_json::Value> = launches
                        .iter()
                        .map(|i| {
                            json!({
                                "name": format!("true {i}"),
                                "task_id": {"value": format!("t{i}")},
                                "agent_id": {"value": offer.agent_id.value},
                                "resources": [
                                    {"name": "cpus", "type": "SCALAR", "scalar": {"value": TASK_CPUS}},
                                    {"name": "mem", "type": "SCALAR", "scalar": {"value": TASK_MEM}},
                                ],
                                "command": {"shell": false, "value": "/bin/true", "arguments": ["true"]},
                            })
                        })
                        .collect();
                    let body = json!({"framework_id": fid, "type": "ACCEPT", "accept": {
                        "offer_ids": [{"value": offer.id.value}],
                        "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}]}});
                    {
                        let mut t = tracker.borrow_mut();
                        t.accepts += 1;
                        t.max_per_accept = t.max_per_accept.max(fit);
                    }
                    let _ = offer_tx.try_send(Job {
                        body: body.to_string(),
                        launches,
                    });
                }
            }
            Some(E::Update) => {
                let Some(update) = event.update else { continue };
                let status = update.status;
                let now = Instant::now();
                let index = task_index.get(&status.task_id.value).copied();
                if let (Some(uuid), Some(agent)) = (&status.uuid, &status.agent_id) {
                    let body = json!({"framework_id": {"value": framework_id}, "type": "ACKNOWLEDGE",
                        "acknowledge": {"agent_id": {"value": agent.value},
                        "task_id": {"value": status.task_id.value},
                        "uuid": v1::base64::encode(&uuid.0)}});
                    tracker.borrow_mut().acks += 1;
                    let _ = ack_tx.try_send(Job {
                        body: body.to_string(),
                        launches: Vec::new(),
                    });
                }
                let Some(i) = index else { continue };
                let mut t = tracker.borrow_mut();
                match status.state {
                    TaskState::Running => {
                        t.running_at[i].get_or_insert(now);
                    }
                    TaskState::Finished => {
                        t.finished_at[i].get_or_insert(now);
                        t.finished += 1;
                        if t.finished == n {
                            last_finished = Some(now);
                        }
                        if next_task < n && t.finished - finished_at_revive >= REVIVE_EVERY {
                            finished_at_revive = t.finished;
                            let body = json!({"framework_id": {"value": framework_id},
                                "type": "REVIVE"});
                            let _ = offer_tx.try_send(Job {
                                body: body.to_string(),
                                launches: Vec::new(),
                            });
                        }
                    }
                    s if s.is_terminal() => {
                        return Err(fail(format!(
                            "task t{i} ended {}: {}",
                            s.name(),
                            status.message.unwrap_or_default()
                        )));
                    }
                    _ => {}
                }
            }
            Some(E::Error) => {
                let msg = event.error.map(|e| e.message).unwrap_or_default();
                return Err(fail(format!("the master sent ERROR: {msg}")));
            }
            _ => {}
        }
        if let Some(end) = last_finished {
            // Let the last acknowledgements go out, then leave.
            drop(ack_tx);
            drop(offer_tx);
            for w in workers {
                w.await;
            }
            let outcome = outcome(&tracker.borrow(), end, n, offer_cpus)?;
            let teardown = json!({"framework_id": {"value": framework_id}, "type": "TEARDOWN"});
            let _ = client::post_json(
                &master,
                "/api/v1/scheduler",
                teardown.to_string(),
                &[("Mesos-Stream-Id", stream_id.clone())],
            )
            .await;
            return Ok(outcome);
        }
    }
}

/// The figures of a finished case.
fn outcome(t: &Tracker, end: Instant, n: usize, offer_cpus: f64) -> Result<Outcome, BenchError> {
    let start = t.first_accept.ok_or_else(|| fail("no ACCEPT was sent"))?;
    let mut launch_ms = Vec::with_capacity(n);
    for (a, r) in t.accepted_at.iter().zip(&t.running_at) {
        if let (Some(a), Some(r)) = (a, r) {
            launch_ms.push(r.saturating_duration_since(*a).as_secs_f64() * 1000.0);
        }
    }
    let mut run_ms = Vec::with_capacity(n);
    for (r, f) in t.running_at.iter().zip(&t.finished_at) {
        if let (Some(r), Some(f)) = (r, f) {
            run_ms.push(f.saturating_duration_since(*r).as_secs_f64() * 1000.0);
        }
    }
    let figures = Outcome {
        seconds: end.saturating_duration_since(start).as_secs_f64(),
        launch_ms,
        run_ms,
        accepts: t.accepts,
        max_per_accept: t.max_per_accept,
        acks: t.acks,
        offer_cpus,
        cpu: CpuUse::default(),
    };
    Ok(figures)
}

fn scalar(offer: &v1::Offer, name: &str) -> f64 {
    offer
        .resources
        .iter()
        .filter(|r| r.name == name)
        .filter_map(|r| r.scalar.map(|s| s.value))
        .sum()
}

/// A started process with its log file.
struct Proc {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

/// One master and one agent in a scratch directory; dropping it stops both, kills whatever
/// executors and tasks are left under the directory, and removes it.
struct Cluster {
    dir: PathBuf,
    master_addr: String,
    procs: Vec<Proc>,
}

impl Cluster {
    fn start(bin: &Path, interval: Option<&str>) -> Result<Cluster, BenchError> {
        static CASES: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mesolite-bench-throughput-{}-{}",
            std::process::id(),
            CASES.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(dir.join("master"))
            .and_then(|_| fs::create_dir_all(dir.join("agent")))
            .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
        let mut cluster = Cluster {
            dir,
            master_addr: String::new(),
            procs: Vec::new(),
        };
        let master_port = free_port()?;
        let agent_port = free_port()?;
        cluster.master_addr = format!("127.0.0.1:{master_port}");
        let master_dir = cluster.dir.join("master");
        let mut args = vec![
            "master".to_string(),
            "--listen".into(),
            cluster.master_addr.clone(),
            "--work-dir".into(),
            master_dir.display().to_string(),
        ];
        if let Some(i) = interval {
            args.extend(["--allocation-interval".to_string(), i.to_string()]);
        }
        cluster.spawn(bin, "master", &args)?;
        cluster.wait_healthy(0, master_port)?;
        let agent_dir = cluster.dir.join("agent");
        let args = [
            "agent".to_string(),
            "--master".into(),
            cluster.master_addr.clone(),
            "--listen".into(),
            format!("127.0.0.1:{agent_port}"),
            "--work-dir".into(),
            agent_dir.display().to_string(),
        ];
        cluster.spawn(bin, "agent", &args)?;
        cluster.wait_healthy(1, agent_port)?;
        Ok(cluster)
    }

    fn spawn(&mut self, bin: &Path, name: &'static str, args: &[String]) -> Result<(), BenchError> {
        let log = self.dir.join(format!("{name}.log"));
        let out = fs::File::create(&log).map_err(|e| fail(format!("log file: {e}")))?;
        let err = out
            .try_clone()
            .map_err(|e| fail(format!("log file: {e}")))?;
        let child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| fail(format!("cannot start {}: {e}", bin.display())))?;
        self.procs.push(Proc { name, child, log });
        Ok(())
    }

    fn wait_healthy(&mut self, i: usize, port: u16) -> Result<(), BenchError> {
        let deadline = Instant::now() + START_TIMEOUT;
        let addr = format!("127.0.0.1:{port}");
        loop {
            if let Ok(Some(status)) = self.procs[i].child.try_wait() {
                return Err(fail(format!(
                    "the {} exited with {status} before serving\n{}",
                    self.procs[i].name,
                    self.logs()
                )));
            }
            let healthy = smol::block_on(client::get(&addr, "/health"))
                .is_ok_and(|(status, _)| status == StatusCode::OK);
            if healthy {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(fail(format!(
                    "the {} never answered GET /health\n{}",
                    self.procs[i].name,
                    self.logs()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn master_pid(&self) -> String {
        self.procs[0].child.id().to_string()
    }

    fn agent_pid(&self) -> String {
        self.procs[1].child.id().to_string()
    }

    /// The last lines of every log, for failure messages.
    fn logs(&self) -> String {
        let mut out = String::new();
        for p in &self.procs {
            let text = fs::read_to_string(&p.log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(15);
            out.push_str(&format!("----- {} log (last lines) -----\n", p.name));
            out.push_str(&lines[start..].join("\n"));
            out.push('\n');
        }
        out
    }
}

/// Sends a signal with the `kill` command (std has no `kill(2)`).
fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Live processes whose working directory is inside `dir` (executors and tasks run in sandboxes).
fn processes_under(dir: &Path) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_str()?.parse::<u32>().ok()?;
            let cwd = fs::read_link(e.path().join("cwd")).ok()?;
            let stat = fs::read_to_string(e.path().join("stat")).ok()?;
            let state = stat[stat.rfind(')')? + 1..]
                .split_whitespace()
                .next()?
                .to_string();
            (cwd.starts_with(dir) && state != "Z" && state != "X").then_some(pid)
        })
        .collect()
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // The agent first, so it does not report executors killed under it to a live master.
        for p in self.procs.iter_mut().rev() {
            if matches!(p.child.try_wait(), Ok(None)) {
                signal(p.child.id(), "TERM");
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for p in &mut self.procs {
            while matches!(p.child.try_wait(), Ok(None)) {
                if Instant::now() >= deadline {
                    let _ = p.child.kill();
                    let _ = p.child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        for _ in 0..50 {
            let left = processes_under(&self.dir);
            if left.is_empty() {
                break;
            }
            for pid in left {
                signal(pid, "KILL");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        SCRATCH_DIRS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(self.dir.clone());
    }
}
