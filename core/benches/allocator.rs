//! Allocator benchmark: wall time and heap allocations of one allocation cycle at Mesos'
//! benchmark sizes (`HierarchicalAllocator_BENCHMARK_Test`), counted by a wrapping global
//! allocator. Run with `cargo bench -p mesolite-core --bench allocator`.
//!
//! Scenarios, each measured after warm-up rounds, printing the median cycle time and the
//! largest number of heap allocations seen in one measured cycle (the target is 0):
//! * `all_available`: every agent is free (all offers of the previous round were recovered
//!   without filters), so each agent is offered once;
//! * `declined`: every offer of the previous round was declined with a one-hour filter
//!   (Mesos' `DeclineOffers`), so each agent must skip the frameworks that refused it.

use mesolite_core::allocator::{Allocator, AllocatorConfig, Offer};
use mesolite_core::ids::{AgentSlot, FrameworkSlot, Role};
use mesolite_core::resources::Resources;
use mesolite_core::time::{Duration, Instant};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counts every allocation and reallocation, then defers to the system allocator.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const AGENT: &str = "cpus:8;mem:16384;disk:100000;ports:[31000-32000]";
const WARMUP: usize = 5;
const MEASURED: usize = 9;

#[derive(Clone, Copy, PartialEq)]
enum Scenario {
    AllAvailable,
    Declined,
}

struct Result {
    median_ms: f64,
    max_allocs: u64,
    offers: usize,
    recover_allocs: u64,
}

fn build(agents: u32, frameworks: u32, roles: u32) -> (Allocator, u64) {
    let before = ALLOCS.load(Relaxed);
    let mut a = Allocator::new(AllocatorConfig {
        max_agents: agents,
        max_frameworks: frameworks,
        allocation_interval: Duration::from_secs(1),
        seed: 1,
    });
    let table_allocs = ALLOCS.load(Relaxed) - before;
    let now = Instant::ZERO;
    for f in 0..frameworks {
        let role = Role::new(format!("role{}", f % roles));
        a.add_framework(now, FrameworkSlot(f), &role, true)
            .expect("framework slot");
    }
    let total = Resources::parse(AGENT).expect("agent resources");
    for i in 0..agents {
        a.add_agent(now, AgentSlot(i), &total).expect("agent slot");
    }
    (a, table_allocs)
}

fn run(agents: u32, frameworks: u32, roles: u32, scenario: Scenario) -> Result {
    let (mut a, _) = build(agents, frameworks, roles);
    let mut offers: Vec<(FrameworkSlot, AgentSlot)> = Vec::with_capacity(agents as usize * 2);
    let mut scratch = Resources::with_capacity(16);
    let mut times = Vec::with_capacity(MEASURED);
    let mut max_allocs = 0;
    let mut recover_allocs = 0;
    let mut made = 0;
    let refuse = match scenario {
        Scenario::AllAvailable => None,
        Scenario::Declined => Some(Duration::from_secs(3600)),
    };
    for round in 0..WARMUP + MEASURED {
        let now = Instant::from_millis(1000 * round as u64);
        // Give back (and maybe refuse) everything offered in the previous round.
        let before = ALLOCS.load(Relaxed);
        for &(f, g) in &offers {
            if let Some(held) = a.allocation(f, g) {
                scratch.copy_from(held);
                a.recover(now, f, g, &scratch, refuse);
            }
        }
        let recovered = ALLOCS.load(Relaxed) - before;
        offers.clear();
        let before = ALLOCS.load(Relaxed);
        let start = std::time::Instant::now();
        a.allocate(now, &mut |o: Offer<'_>| offers.push((o.framework, o.agent)));
        let elapsed = start.elapsed();
        let allocs = ALLOCS.load(Relaxed) - before;
        if round >= WARMUP {
            times.push(elapsed.as_secs_f64() * 1000.0);
            max_allocs = max_allocs.max(allocs);
            recover_allocs = recover_allocs.max(recovered);
            made = offers.len();
        }
    }
    times.sort_by(|x, y| x.total_cmp(y));
    Result {
        median_ms: times[times.len() / 2],
        max_allocs,
        offers: made,
        recover_allocs,
    }
}

fn machine() -> String {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    format!("nproc={nproc} cpu=\"{model}\"")
}

fn main() {
    // `cargo bench` passes `--bench`; other flags select nothing here.
    println!("machine {}", machine());
    let sizes = [
        (1_000u32, 100u32, 10u32, 5.0f64),
        (10_000, 1_000, 10, 100.0),
        (10_000, 1_000, 1, 100.0),
    ];
    for (agents, frameworks, roles, target_ms) in sizes {
        let (_, table_allocs) = build(agents, frameworks, roles);
        for (name, scenario) in [
            ("all_available", Scenario::AllAvailable),
            ("declined", Scenario::Declined),
        ] {
            let r = run(agents, frameworks, roles, scenario);
            let verdict = if r.median_ms < target_ms && r.max_allocs == 0 {
                "ok"
            } else {
                "MISSED"
            };
            println!(
                "allocator {agents}x{frameworks} roles={roles} {name} cycle_ms={:.3} allocs_per_cycle={} offers={} \
                 recover_allocs={} new_allocs={table_allocs} target_ms={target_ms} {verdict}",
                r.median_ms, r.max_allocs, r.offers, r.recover_allocs
            );
        }
    }
}
