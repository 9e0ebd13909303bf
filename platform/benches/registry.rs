//! Benchmark of the durable registry: admissions per second and admission latency through the
//! registrar and the file store with real fsyncs, and heap allocations per registry operation.
//!
//! Run with `cargo bench -p mesolite-platform --bench registry`. The store lives in a directory
//! under the cargo target directory and is removed afterwards.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mesolite_core::ids::AgentId;
use mesolite_core::registry::{
    AgentRecord, Op, Outcome, Registrar, RegistrarConfig, Registry, WriteResult,
};
use mesolite_core::time::WallTime;
use mesolite_platform::store::Store;

/// Counts every allocation and reallocation made by the process.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `dealloc`; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

fn record(n: usize) -> AgentRecord {
    AgentRecord {
        hostname: format!("edge-node-{n:05}.example.net"),
        ip: format!("10.{}.{}.{}", n / 65536 % 256, n / 256 % 256, n % 256),
        port: 5051,
        resources_text: "cpus:4;mem:7680;disk:102400;ports:[31000-32000]".to_string(),
        attributes_text: "rack:r7;zone:edge-3".to_string(),
    }
}

/// A fresh store directory under the cargo target directory.
fn bench_dir(name: &str) -> PathBuf {
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("target"));
    let dir = target.join(format!("registry-bench-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn open(dir: &Path) -> (Store, Registry) {
    match Store::open_with(dir, || Ok("benchcluster0000".to_string())) {
        Ok(opened) => opened,
        Err(e) => panic!("{e}"),
    }
}

/// Drives the registrar until nothing is queued or in flight, appending each entry with an
/// fsync. Records each completion's latency from `submitted[tag]`; returns entries written.
fn drain(
    r: &mut Registrar,
    store: &mut Store,
    submitted: &[Instant],
    latencies: &mut Vec<Duration>,
) -> usize {
    let mut entries = 0;
    while let Some(entry) = r.poll_write() {
        let index = entry.index;
        if let Err(e) = store.append(entry) {
            panic!("{e}");
        }
        entries += 1;
        if let Err(e) = r.handle_write_done(index, WriteResult::Durable) {
            panic!("{e}");
        }
        let now = Instant::now();
        while let Some(c) = r.poll_completion() {
            assert!(matches!(c.outcome, Outcome::Done(Ok(_))), "{c:?}");
            latencies.push(now - submitted[c.tag as usize]);
        }
    }
    entries
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn report(
    mode: &str,
    n: usize,
    max_batch: usize,
    elapsed: Duration,
    entries: usize,
    mut lat: Vec<Duration>,
) {
    lat.sort();
    println!(
        "registry admit mode={mode} n={n} batch={max_batch} entries={entries} ops_per_sec={:.0} \
         p50_ms={:.3} p99_ms={:.3} max_ms={:.3}",
        n as f64 / elapsed.as_secs_f64(),
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0),
    );
}

fn config(max_batch: usize) -> RegistrarConfig {
    RegistrarConfig {
        max_batch,
        max_queue: 16 * 1024,
        snapshot_every: u64::MAX,
    }
}

/// Admissions one at a time: each waits for its own fsync before the next is submitted.
fn one_at_a_time(n: usize) {
    let dir = bench_dir("serial");
    let (mut store, reg) = open(&dir);
    let mut r = Registrar::with_config(reg, config(1));
    let ops: Vec<Op> = (0..n).map(|i| Op::AdmitAgent { info: record(i) }).collect();
    let mut submitted = Vec::with_capacity(n);
    let mut lat = Vec::with_capacity(n);
    let mut entries = 0;
    let start = Instant::now();
    for (tag, op) in ops.into_iter().enumerate() {
        submitted.push(Instant::now());
        r.submit(op, tag as u64).expect("queue has room");
        entries += drain(&mut r, &mut store, &submitted, &mut lat);
    }
    report("serial", n, 1, start.elapsed(), entries, lat);
    let _ = fs::remove_dir_all(&dir);
}

/// `n` admissions submitted at once, batched by the registrar into entries of `max_batch`.
fn concurrent(n: usize, max_batch: usize) {
    let dir = bench_dir("concurrent");
    let (mut store, reg) = open(&dir);
    let mut r = Registrar::with_config(reg, config(max_batch));
    let ops: Vec<Op> = (0..n).map(|i| Op::AdmitAgent { info: record(i) }).collect();
    let mut lat = Vec::with_capacity(n);
    let start = Instant::now();
    let submitted = vec![start; n];
    for (tag, op) in ops.into_iter().enumerate() {
        r.submit(op, tag as u64).expect("queue has room");
    }
    let entries = drain(&mut r, &mut store, &submitted, &mut lat);
    report("concurrent", n, max_batch, start.elapsed(), entries, lat);
    let _ = fs::remove_dir_all(&dir);
}

/// Allocations per op of one kind in steady state, registrar only or registrar plus store.
/// The registry first admits `agents` agents and runs `prepare`; then `measure` is counted.
/// Building the ops happens before counting starts: it is the caller's cost.
fn allocations_per_op(
    label: &str,
    with_store: bool,
    agents: usize,
    prepare: Vec<Op>,
    measure: Vec<Op>,
) {
    let dir = bench_dir("alloc");
    let (mut store, reg) = open(&dir);
    let mut r = Registrar::with_config(reg, config(64));
    let mut tag = 0u64;
    let mut run = |r: &mut Registrar, store: &mut Store, ops: Vec<Op>| -> u64 {
        let before = allocations();
        for op in ops {
            r.submit(op, tag).expect("queue has room");
            tag += 1;
            while let Some(entry) = r.poll_write() {
                let index = entry.index;
                if with_store {
                    store.append(entry).expect("append");
                }
                r.handle_write_done(index, WriteResult::Durable)
                    .expect("in flight");
            }
            while let Some(c) = r.poll_completion() {
                assert!(matches!(c.outcome, Outcome::Done(Ok(_))), "{label}: {c:?}");
            }
        }
        allocations() - before
    };
    let admissions: Vec<Op> = (0..agents)
        .map(|i| Op::AdmitAgent { info: record(i) })
        .collect();
    run(&mut r, &mut store, admissions);
    run(&mut r, &mut store, prepare);
    let n = measure.len() as u64;
    let counted = run(&mut r, &mut store, measure);
    println!(
        "registry allocs op={label} store={with_store} ops={n} allocations={counted} per_op={:.2}",
        counted as f64 / n as f64
    );
    let _ = fs::remove_dir_all(&dir);
}

/// Runs [`allocations_per_op`] for each kind of op.
fn allocation_report(agents: usize, with_store: bool) {
    let id = |i: usize| AgentId::new(format!("benchcluster0000-S{i}"));
    let at = WallTime { unix_nanos: 1 };
    let all = || 0..agents;
    let unreachable = |i| Op::MarkUnreachable { id: id(i), at };
    let reachable = |i| Op::MarkReachable {
        id: id(i),
        info: record(i),
    };
    // Every agent out and back once, so both copies' lists have reached their size.
    let cycle = || {
        all()
            .map(unreachable)
            .chain(all().map(reachable))
            .collect::<Vec<_>>()
    };
    let cases: Vec<(&str, Vec<Op>, Vec<Op>)> = vec![
        (
            "admit",
            Vec::new(),
            (agents..2 * agents)
                .map(|i| Op::AdmitAgent { info: record(i) })
                .collect(),
        ),
        (
            "update_unchanged",
            Vec::new(),
            all()
                .map(|i| Op::UpdateAgentInfo {
                    id: id(i),
                    info: record(i),
                })
                .collect(),
        ),
        (
            "update_changed",
            Vec::new(),
            all()
                .map(|i| Op::UpdateAgentInfo {
                    id: id(i),
                    info: record(i + 1),
                })
                .collect(),
        ),
        (
            "mark_unreachable",
            cycle(),
            all().map(unreachable).collect(),
        ),
        (
            "mark_reachable",
            all().map(unreachable).collect(),
            all().map(reachable).collect(),
        ),
        (
            "remove",
            Vec::new(),
            all().map(|i| Op::RemoveAgent { id: id(i) }).collect(),
        ),
    ];
    for (label, prepare, measure) in cases {
        allocations_per_op(label, with_store, agents, prepare, measure);
    }
}

fn machine() -> String {
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    format!("nproc={nproc} cpu=\"{cpu}\"")
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and gets a quick run.
    let quick = !std::env::args().any(|a| a == "--bench");
    let scale = if quick { 10 } else { 1 };
    println!(
        "registry machine {} fsync=fdatasync dir={}",
        machine(),
        bench_dir("x").display()
    );
    one_at_a_time(500 / scale);
    concurrent(1_000 / scale, 1_000);
    concurrent(10_000 / scale, 1_000);
    concurrent(10_000 / scale, 10_000);

    for with_store in [false, true] {
        allocation_report(2_000 / scale, with_store);
    }
}
