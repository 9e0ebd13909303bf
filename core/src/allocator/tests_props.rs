//! Property tests of the allocator over random operation sequences: resources are conserved
//! on every agent, reserved resources only ever go to their role's subtree, a cycle never
//! takes a quota role above its limit, and every guarantee is met after a cycle whenever the
//! cluster had the free resources for it.

extern crate std;

use super::tests::{ag, check_conservation, fw, new_alloc, res, role, T0};
use super::*;
use alloc::format;
use proptest::prelude::*;

/// Framework slot `i` is in `ROLES[i]`; quotas go on `QUOTA_ROLES` (ancestors of 0 and 1).
const ROLES: [&str; 5] = ["q1", "q2/sub", "r", "r/x", "s"];
const QUOTA_ROLES: [&str; 2] = ["q1", "q2"];
/// Frameworks that may decline with a filter (not in a quota role).
const FILTERING: core::ops::Range<u32> = 2..5;

#[derive(Clone, Debug)]
enum Op {
    AddAgent {
        slot: u32,
        cpus: u32,
        mem: u32,
        reserved_to: usize,
        reserved: u32,
    },
    RemoveAgent(u32),
    Cycle,
    RecoverAll {
        fw: u32,
        refuse: bool,
    },
    SetQuota {
        which: usize,
        cpus: u32,
        mem: u32,
        extra_limit: Option<u32>,
    },
    RemoveQuota(usize),
    Suppress(u32),
    Revive(u32),
    ReserveFree {
        agent: u32,
        to: usize,
    },
    ReserveHeld {
        fw: u32,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..4u32, 0..8u32, 0..8u32, 0..5usize, 0..3u32).prop_map(
            |(slot, cpus, mem, reserved_to, reserved)| Op::AddAgent {
                slot,
                cpus,
                mem,
                reserved_to,
                reserved
            }
        ),
        1 => (0..4u32).prop_map(Op::RemoveAgent),
        4 => Just(Op::Cycle),
        3 => (0..5u32, any::<bool>()).prop_map(|(fw, refuse)| Op::RecoverAll { fw, refuse }),
        2 => (0..2usize, 0..6u32, 0..6u32, proptest::option::of(0..3u32)).prop_map(
            |(which, cpus, mem, extra_limit)| Op::SetQuota {
                which,
                cpus,
                mem,
                extra_limit
            }
        ),
        1 => (0..2usize).prop_map(Op::RemoveQuota),
        1 => (0..5u32).prop_map(Op::Suppress),
        1 => (0..5u32).prop_map(Op::Revive),
        1 => (0..4u32, 0..5usize).prop_map(|(agent, to)| Op::ReserveFree { agent, to }),
        1 => (0..5u32).prop_map(|fw| Op::ReserveHeld { fw }),
    ]
}

/// Consumption per quota role of (cpus, mem), in thousandths.
fn consumption(a: &Allocator) -> [(i64, i64); 2] {
    QUOTA_ROLES.map(|q| {
        (
            a.quota_consumed(&role(q), "cpus").milli(),
            a.quota_consumed(&role(q), "mem").milli(),
        )
    })
}

/// The limit of `name` on quota role `q`, if bounded.
fn limit(a: &Allocator, q: &str, name: &str) -> Option<i64> {
    let v = a.quota(&role(q))?;
    v.limit
        .iter()
        .any(|r| r.name.as_str() == name)
        .then(|| v.limit.scalar(name).milli())
}

/// Whether the guarantees' premise holds: every quota role's framework can take offers and
/// the free unreserved resources of active agents cover every unsatisfied guarantee.
fn guarantees_coverable(a: &Allocator, suppressed: &[bool; 5]) -> bool {
    let mut need = (0i64, 0i64);
    for (i, q) in QUOTA_ROLES.iter().enumerate() {
        let Some(v) = a.quota(&role(q)) else {
            continue;
        };
        if suppressed[i] {
            return false;
        }
        let unsat = |name: &str| {
            (v.guarantee.scalar(name).milli() - a.quota_consumed(&role(q), name).milli()).max(0)
        };
        need.0 += unsat("cpus");
        need.1 += unsat("mem");
    }
    let mut free = (0i64, 0i64);
    for i in 0..4 {
        if let Some(av) = a.available(ag(i)) {
            for r in av.iter().filter(|r| r.is_unreserved()) {
                if let Some(v) = r.scalar_value() {
                    match r.name.as_str() {
                        "cpus" => free.0 += v.milli(),
                        "mem" => free.1 += v.milli(),
                        _ => {}
                    }
                }
            }
        }
    }
    need.0 <= free.0 && need.1 <= free.1
}

fn check_reservations_in_subtree(a: &Allocator) {
    for (f, r) in ROLES.iter().enumerate() {
        for (g, held) in a.allocations(fw(f as u32)) {
            for x in held.iter() {
                assert!(
                    x.is_allocatable_to(&role(r)),
                    "framework {f} in {r} holds {x} on agent {}",
                    g.0
                );
            }
        }
    }
}

fn run(ops: &[Op]) {
    let mut a = new_alloc(4, 5, 11);
    for (f, r) in ROLES.iter().enumerate() {
        a.add_framework(T0, fw(f as u32), &role(r), true).unwrap();
    }
    let mut suppressed = [false; 5];
    let mut now = T0;
    for op in ops {
        now = now + Duration::from_millis(300);
        match *op {
            Op::AddAgent {
                slot,
                cpus,
                mem,
                reserved_to,
                reserved,
            } => {
                let text = format!(
                    "cpus:{cpus};mem:{};disk:100;cpus({}):{reserved}",
                    mem * 128,
                    ROLES[reserved_to]
                );
                let _ = a.add_agent(now, ag(slot), &res(&text));
            }
            Op::RemoveAgent(slot) => a.remove_agent(ag(slot)),
            Op::Cycle => {
                let before = consumption(&a);
                let coverable = guarantees_coverable(&a, &suppressed);
                a.allocate(now, &mut |_| {});
                let after = consumption(&a);
                for (i, q) in QUOTA_ROLES.iter().enumerate() {
                    if let Some(l) = limit(&a, q, "cpus") {
                        assert!(after[i].0 <= l.max(before[i].0), "{q} cpus above limit");
                    }
                    if let Some(l) = limit(&a, q, "mem") {
                        assert!(after[i].1 <= l.max(before[i].1), "{q} mem above limit");
                    }
                    if let (true, Some(v)) = (coverable, a.quota(&role(q))) {
                        assert!(
                            after[i].0 >= v.guarantee.scalar("cpus").milli()
                                && after[i].1 >= v.guarantee.scalar("mem").milli(),
                            "{q} guarantee {} unmet: consumed {:?}",
                            v.guarantee,
                            after[i]
                        );
                    }
                }
            }
            Op::RecoverAll { fw: f, refuse } => {
                let refuse = (refuse && FILTERING.contains(&f)).then(|| Duration::from_secs(5));
                let held: Vec<(AgentSlot, Resources)> =
                    a.allocations(fw(f)).map(|(g, r)| (g, r.clone())).collect();
                for (g, r) in held {
                    a.recover(now, fw(f), g, &r, refuse);
                }
            }
            Op::SetQuota {
                which,
                cpus,
                mem,
                extra_limit,
            } => {
                let g = res(&format!("cpus:{cpus};mem:{}", mem * 128));
                let l = match extra_limit {
                    Some(e) => res(&format!("cpus:{};mem:{}", cpus + e, (mem + e) * 128)),
                    None => Resources::new(),
                };
                let _ = a.set_quota(&role(QUOTA_ROLES[which]), &g, &l);
            }
            Op::RemoveQuota(which) => {
                let _ = a.remove_quota(&role(QUOTA_ROLES[which]));
            }
            Op::Suppress(f) => {
                a.suppress(fw(f));
                suppressed[f as usize] = true;
            }
            Op::Revive(f) => {
                a.revive(now, fw(f));
                suppressed[f as usize] = false;
            }
            Op::ReserveFree { agent, to } => {
                let to = res(&format!("cpus({}):1", ROLES[to]));
                let _ = a.update_available(ag(agent), &res("cpus:1"), &to);
            }
            Op::ReserveHeld { fw: f } => {
                let to = res(&format!("cpus({}):1", ROLES[f as usize]));
                let held: Vec<AgentSlot> = a.allocations(fw(f)).map(|(g, _)| g).collect();
                if let Some(&g) = held.first() {
                    let _ = a.update_allocation(fw(f), g, &res("cpus:1"), &to);
                }
            }
        }
        check_conservation(&a);
        check_reservations_in_subtree(&a);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_the_allocator_invariants(ops in proptest::collection::vec(op(), 1..60)) {
        run(&ops);
    }
}
