//! Allocator benchmark: wall time and heap allocations of one allocation cycle at Mesos'
//! benchmark sizes (`HierarchicalAllocator_BENCHMARK_Test`), counted by a wrapping global
//! allocator. Run with `cargo bench -p mesolite-core --bench allocator`.
//!
//! Scenarios, each measured after warm-up rounds, printing the median cycle time and the
//! largest number of heap allocations seen in one measured cycle (the target is 0):
//! * `all_available`: every agent is free (all offers of the previous round were recovered
//!   without filters), so each agent is offered once;
//! * `declined`: every offer of the previous round was declined with a one-hour filter
//!   (Mesos' `DeclineOffers`), so each agent must skip the frameworks that refused it;
//! * `quota_mix`: 20 roles, half of them nested (`org0/r3`); 10 quota roles, with their
//!   frameworks in sub-roles (`q4/team1`), guaranteeing half of the cluster together (five
//!   with a limit at 1.5 times the guarantee, five with Mesos 1.5's guarantee-as-limit);
//!   reservations (`cpus(role):2;mem(role):2048`) on a third of the agents; frameworks in
//!   even slots decline with a one-hour filter, the others give everything back. Both the quota
//!   stage and the fair-share stage run every cycle.
//!
//! `MESOLITE_BENCH_QUICK=1` runs 2 warm-up and 3 measured rounds instead of 5 and 9.

use mesolite_core::allocator::{Allocator, AllocatorConfig, Offer};
use mesolite_core::ids::{AgentSlot, FrameworkSlot, Role};
use mesolite_core::resources::Resources;
use mesolite_core::time::{Duration, Instant};
use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
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
#[derive(Clone, Copy, PartialEq)]
enum Scenario {
    AllAvailable,
    Declined,
    QuotaMix,
}

/// (warm-up rounds, measured rounds).
fn rounds() -> (usize, usize) {
    if std::env::var("MESOLITE_BENCH_QUICK").is_ok_and(|v| v == "1") {
        (2, 3)
    } else {
        (5, 9)
    }
}

/// The role of framework `f` in the `quota_mix` scenario: slots alternate between the ten
/// quota roles (frameworks in `q<k>/team<j>`) and ten other roles (half nested).
fn mix_role(f: u32) -> String {
    let k = (f / 2) % 10;
    if f.is_multiple_of(2) {
        format!("q{k}/team{}", (f / 20) % 3)
    } else if k.is_multiple_of(2) {
        format!("org{}/r{k}", k % 4)
    } else {
        format!("r{k}")
    }
}

struct Result {
    median_ms: f64,
    max_allocs: u64,
    offers: usize,
    recover_allocs: u64,
}

fn build(agents: u32, frameworks: u32, roles: u32, scenario: Scenario) -> (Allocator, u64) {
    let before = ALLOCS.load(Relaxed);
    let mut a = Allocator::new(AllocatorConfig {
        max_agents: agents,
        max_frameworks: frameworks,
        allocation_interval: Duration::from_secs(1),
        seed: 1,
    });
    let table_allocs = ALLOCS.load(Relaxed) - before;
    let now = Instant::ZERO;
    let mix = scenario == Scenario::QuotaMix;
    for f in 0..frameworks {
        let role = if mix {
            Role::new(mix_role(f))
        } else {
            Role::new(format!("role{}", f % roles))
        };
        a.add_framework(now, FrameworkSlot(f), &role, true)
            .expect("framework slot");
    }
    let total = Resources::parse(AGENT).expect("agent resources");
    for i in 0..agents {
        let mut text = String::from(AGENT);
        if mix && i.is_multiple_of(3) {
            // Reserved to a quota role's team or to another role, in turn.
            let owner = mix_role((i / 3) % 20);
            let _ = write!(text, ";cpus({owner}):2;mem({owner}):2048");
        }
        let total = if mix {
            Resources::parse(&text).expect("agent resources")
        } else {
            total.clone()
        };
        a.add_agent(now, AgentSlot(i), &total).expect("agent slot");
    }
    if mix {
        // Ten quota roles guaranteeing half of the unreserved cluster together.
        let cpus = u64::from(agents) * 8 / 20;
        let mem = u64::from(agents) * 16384 / 20;
        for k in 0..10u32 {
            let g = Resources::parse(&format!("cpus:{cpus};mem:{mem}")).expect("quota");
            let l = if k.is_multiple_of(2) {
                Resources::parse(&format!("cpus:{};mem:{}", cpus * 3 / 2, mem * 3 / 2))
                    .expect("limit")
            } else {
                g.clone()
            };
            a.set_quota(&Role::new(format!("q{k}")), &g, &l)
                .expect("quota");
        }
    }
    (a, table_allocs)
}

fn run(agents: u32, frameworks: u32, roles: u32, scenario: Scenario) -> Result {
    let (warmup, measured) = rounds();
    let (mut a, _) = build(agents, frameworks, roles, scenario);
    let mut offers: Vec<(FrameworkSlot, AgentSlot)> = Vec::with_capacity(agents as usize * 2);
    let mut scratch = Resources::with_capacity(16);
    let mut times = Vec::with_capacity(measured);
    let mut max_allocs = 0;
    let mut recover_allocs = 0;
    let mut made = 0;
    let hour = Some(Duration::from_secs(3600));
    let refuse = |f: FrameworkSlot| match scenario {
        Scenario::AllAvailable => None,
        Scenario::Declined => hour,
        Scenario::QuotaMix => hour.filter(|_| f.0.is_multiple_of(2)),
    };
    for round in 0..warmup + measured {
        let now = Instant::from_millis(1000 * round as u64);
        // Give back (and maybe refuse) everything offered in the previous round.
        let before = ALLOCS.load(Relaxed);
        for &(f, g) in &offers {
            if let Some(held) = a.allocation(f, g) {
                scratch.copy_from(held);
                a.recover(now, f, g, &scratch, refuse(f));
            }
        }
        let recovered = ALLOCS.load(Relaxed) - before;
        offers.clear();
        let before = ALLOCS.load(Relaxed);
        let start = std::time::Instant::now();
        a.allocate(now, &mut |o: Offer<'_>| offers.push((o.framework, o.agent)));
        let elapsed = start.elapsed();
        let allocs = ALLOCS.load(Relaxed) - before;
        if round >= warmup {
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
        (1_000u32, 100u32, 10u32, 5.0f64, false),
        (10_000, 1_000, 10, 100.0, false),
        (10_000, 1_000, 1, 100.0, false),
        (1_000, 100, 20, 10.0, true),
        (10_000, 1_000, 20, 150.0, true),
    ];
    for (agents, frameworks, roles, target_ms, mix) in sizes {
        let scenarios: &[(&str, Scenario)] = if mix {
            &[("quota_mix", Scenario::QuotaMix)]
        } else {
            &[
                ("all_available", Scenario::AllAvailable),
                ("declined", Scenario::Declined),
            ]
        };
        let (_, table_allocs) = build(agents, frameworks, roles, scenarios[0].1);
        for &(name, scenario) in scenarios {
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
