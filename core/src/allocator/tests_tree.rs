//! Allocator behaviour tests for the role tree (DRF at every level, weights on nodes),
//! quota (guarantees, limits, headroom, reservations counting), reservations in offers, and
//! the conversions `update_allocation` / `update_available`.

use super::tests::{ag, check_conservation, cycle, fw, new_alloc, res, role, Made, T0};
use super::*;
use alloc::string::{String, ToString};
use alloc::vec;

fn count_role(got: &[Made], r: &str) -> usize {
    got.iter().filter(|o| o.1 == r).count()
}

fn cpus(a: &Allocator, f: u32) -> i64 {
    a.allocated_scalar(fw(f), "cpus").milli()
}

#[test]
fn siblings_share_by_subtree_then_the_subtree_splits_its_part() {
    // Flat DRF over three roles would give 8/3 each; the tree gives a (a/x + a/y) half.
    let mut a = new_alloc(8, 3, 2);
    a.add_framework(T0, fw(0), &role("a/x"), true).unwrap();
    a.add_framework(T0, fw(1), &role("a/y"), true).unwrap();
    a.add_framework(T0, fw(2), &role("b"), true).unwrap();
    for i in 0..8 {
        a.add_agent(T0, ag(i), &res("cpus:1;mem:100")).unwrap();
    }
    let got = cycle(&mut a, T0);
    assert_eq!(
        (
            count_role(&got, "a/x"),
            count_role(&got, "a/y"),
            count_role(&got, "b")
        ),
        (2, 2, 4),
        "{got:?}"
    );
    assert_eq!(a.role_allocated_scalar(&role("a"), "cpus").milli(), 4000);
    check_conservation(&a);
}

#[test]
fn a_weight_on_a_parent_scales_its_whole_subtree() {
    let mut a = new_alloc(8, 3, 4);
    a.set_weight(&role("a"), 3000).unwrap();
    a.add_framework(T0, fw(0), &role("a/x"), true).unwrap();
    a.add_framework(T0, fw(1), &role("a/y"), true).unwrap();
    a.add_framework(T0, fw(2), &role("b"), true).unwrap();
    for i in 0..8 {
        a.add_agent(T0, ag(i), &res("cpus:1;mem:100")).unwrap();
    }
    let got = cycle(&mut a, T0);
    assert_eq!(
        (
            count_role(&got, "a/x"),
            count_role(&got, "a/y"),
            count_role(&got, "b")
        ),
        (3, 3, 2),
        "{got:?}"
    );
    // A weight on a child only acts among its siblings.
    let mut a = new_alloc(8, 3, 4);
    a.set_weight(&role("a/x"), 3000).unwrap();
    a.add_framework(T0, fw(0), &role("a/x"), true).unwrap();
    a.add_framework(T0, fw(1), &role("a/y"), true).unwrap();
    a.add_framework(T0, fw(2), &role("b"), true).unwrap();
    for i in 0..8 {
        a.add_agent(T0, ag(i), &res("cpus:1;mem:100")).unwrap();
    }
    let got = cycle(&mut a, T0);
    assert_eq!(
        (
            count_role(&got, "a/x"),
            count_role(&got, "a/y"),
            count_role(&got, "b")
        ),
        (3, 1, 4),
        "{got:?}"
    );
}

#[test]
fn a_role_with_frameworks_and_sub_roles_competes_as_its_own_leaf() {
    let mut a = new_alloc(8, 3, 6);
    a.add_framework(T0, fw(0), &role("a"), true).unwrap();
    a.add_framework(T0, fw(1), &role("a/x"), true).unwrap();
    a.add_framework(T0, fw(2), &role("b"), true).unwrap();
    for i in 0..8 {
        a.add_agent(T0, ag(i), &res("cpus:1;mem:100")).unwrap();
    }
    let got = cycle(&mut a, T0);
    assert_eq!(
        (
            count_role(&got, "a"),
            count_role(&got, "a/x"),
            count_role(&got, "b")
        ),
        (2, 2, 4),
        "{got:?}"
    );
}

#[test]
fn ancestors_are_implicit_and_released_with_their_last_descendant() {
    let mut a = new_alloc(1, 2, 1);
    a.add_framework(T0, fw(0), &role("a/b/c"), true).unwrap();
    let mut names: Vec<String> = a.roles().map(ToString::to_string).collect();
    names.sort();
    assert_eq!(names, ["a", "a/b", "a/b/c"]);
    assert_eq!(Allocator::parent_role(&role("a/b/c")), Some("a/b"));
    assert_eq!(Allocator::parent_role(&role("a")), None);
    a.add_framework(T0, fw(1), &role("a/d"), true).unwrap();
    a.remove_framework(fw(0));
    let mut names: Vec<String> = a.roles().map(ToString::to_string).collect();
    names.sort();
    assert_eq!(names, ["a", "a/d"]);
    a.remove_framework(fw(1));
    assert_eq!(a.roles().count(), 0);
    // A full table refuses a role whose missing ancestors do not fit, and changes nothing.
    let mut a = new_alloc(1, 1, 1);
    // The table holds 1 + EXTRA_ROLES nodes: one stays free.
    for i in 0..EXTRA_ROLES {
        a.set_weight(&role(&alloc::format!("w{i}")), 2000).unwrap();
    }
    assert_eq!(
        a.add_framework(T0, fw(0), &role("x/y"), true),
        Err(AllocatorError::RoleTableFull)
    );
    assert_eq!(a.roles().count(), EXTRA_ROLES);
    a.add_framework(T0, fw(0), &role("x"), true).unwrap();
}

#[test]
fn reservations_go_to_their_role_and_sub_roles_only() {
    let mut a = new_alloc(1, 3, 3);
    a.add_framework(T0, fw(0), &role("engineering"), true)
        .unwrap();
    a.add_framework(T0, fw(1), &role("ops"), true).unwrap();
    a.add_framework(T0, fw(2), &role("eng/web"), true).unwrap();
    a.add_agent(T0, ag(0), &res("cpus(eng):2;mem(eng):256"))
        .unwrap();
    let got = cycle(&mut a, T0);
    assert_eq!(
        got,
        vec![(
            2,
            "eng/web".to_string(),
            0,
            "cpus(eng):2;mem(eng):256".to_string()
        )]
    );
    // An offer holds the role's reservations and unreserved resources together.
    let mut a = new_alloc(1, 1, 3);
    a.add_framework(T0, fw(0), &role("eng/web"), true).unwrap();
    a.add_agent(T0, ag(0), &res("cpus:1;cpus(eng):2;cpus(ops):3"))
        .unwrap();
    let got = cycle(&mut a, T0);
    assert_eq!(got.len(), 1);
    assert_eq!(res(&got[0].3), res("cpus:1;cpus(eng):2"));
    assert_eq!(a.available(ag(0)), Some(&res("cpus(ops):3")));
}

#[test]
fn quota_is_satisfied_first_and_never_exceeded_in_the_1_5_view() {
    // Roles r and s have two frameworks each; q has one and a quota of 6 of the 10 agents.
    let mut a = new_alloc(10, 5, 8);
    for (f, r) in [(0, "r"), (1, "r"), (2, "s"), (3, "s"), (4, "q")] {
        a.add_framework(T0, fw(f), &role(r), true).unwrap();
    }
    for i in 0..10 {
        a.add_agent(T0, ag(i), &res("cpus:1;mem:100")).unwrap();
    }
    let q = res("cpus:6");
    a.set_quota(&role("q"), &q, &q).unwrap();
    for round in 0..3 {
        let now = T0 + Duration::from_secs(round);
        let got = cycle(&mut a, now);
        assert_eq!(count_role(&got, "q"), 6, "round {round}: {got:?}");
        assert_eq!(a.quota_consumed(&role("q"), "cpus").milli(), 6000);
        check_conservation(&a);
        for f in 0..5 {
            let held: Vec<(AgentSlot, Resources)> =
                a.allocations(fw(f)).map(|(g, r)| (g, r.clone())).collect();
            for (g, r) in held {
                a.recover(now, fw(f), g, &r, None);
            }
        }
    }
    let view = a.quota(&role("q")).unwrap();
    assert_eq!((view.guarantee, view.limit), (&q, &q));
    assert_eq!(a.quotas().count(), 1);
}

#[test]
fn unsatisfied_guarantee_keeps_its_headroom_from_other_roles() {
    let mut a = new_alloc(4, 2, 5);
    a.add_framework(T0, fw(0), &role("q"), true).unwrap();
    a.add_framework(T0, fw(1), &role("r"), true).unwrap();
    a.suppress(fw(0));
    for i in 0..4 {
        a.add_agent(T0, ag(i), &res("cpus:2;mem:100")).unwrap();
    }
    a.set_quota(&role("q"), &res("cpus:4"), &Resources::new())
        .unwrap();
    cycle(&mut a, T0);
    // r takes the 4 cpus nobody needs, never the 4 that q's guarantee needs.
    assert_eq!(cpus(&a, 1), 4000);
    let free: i64 = (0..4)
        .map(|i| a.available(ag(i)).unwrap().scalar("cpus").milli())
        .sum();
    assert_eq!(free, 4000);
    check_conservation(&a);
    a.revive(T0, fw(0));
    cycle(&mut a, T0 + Duration::from_secs(1));
    assert_eq!(cpus(&a, 0), 4000);
}

#[test]
fn a_limit_above_the_guarantee_caps_fair_share() {
    let mut a = new_alloc(5, 1, 7);
    a.add_framework(T0, fw(0), &role("q/sub"), true).unwrap();
    for i in 0..5 {
        a.add_agent(T0, ag(i), &res("cpus:1;mem:100")).unwrap();
    }
    a.set_quota(&role("q"), &res("cpus:2"), &res("cpus:3"))
        .unwrap();
    cycle(&mut a, T0);
    assert_eq!(cpus(&a, 0), 3000);
    assert_eq!(a.quota_consumed(&role("q"), "cpus").milli(), 3000);
    // Names without a limit are unbounded.
    assert_eq!(a.allocated_scalar(fw(0), "mem").milli(), 500_000);
    check_conservation(&a);
    // Raising the limit (UPDATE_QUOTA) lets the role grow at the next cycle.
    a.set_quota(&role("q"), &res("cpus:2"), &res("cpus:5"))
        .unwrap();
    cycle(&mut a, T0 + Duration::from_secs(1));
    assert_eq!(cpus(&a, 0), 5000);
}

#[test]
fn reservations_count_towards_quota_allocated_or_not() {
    let mut a = new_alloc(1, 1, 9);
    a.add_framework(T0, fw(0), &role("q"), true).unwrap();
    a.add_agent(T0, ag(0), &res("cpus:4;cpus(q):2;mem:100"))
        .unwrap();
    let q = res("cpus:3");
    a.set_quota(&role("q"), &q, &q).unwrap();
    assert_eq!(a.quota_consumed(&role("q"), "cpus").milli(), 2000);
    cycle(&mut a, T0);
    // The reserved 2 plus 1 unreserved reach the guarantee of 3.
    assert_eq!(cpus(&a, 0), 3000);
    assert_eq!(a.quota_consumed(&role("q"), "cpus").milli(), 3000);
    assert_eq!(a.available(ag(0)).unwrap().scalar("cpus").milli(), 3000);
    assert_eq!(a.reserved_scalar(ag(0), &role("q"), "cpus").milli(), 2000);
    check_conservation(&a);
}

#[test]
fn quota_input_is_checked() {
    let mut a = new_alloc(1, 1, 1);
    let none = Resources::new();
    let cases: [(&str, &str, &str, AllocatorError); 4] = [
        ("*", "cpus:1", "", AllocatorError::QuotaOnDefaultRole),
        ("q", "ports:[1-2]", "", AllocatorError::InvalidQuota),
        ("q", "cpus(q):1", "", AllocatorError::InvalidQuota),
        ("q", "cpus:2", "cpus:1", AllocatorError::GuaranteeAboveLimit),
    ];
    for (r, g, l, want) in cases {
        let l = if l.is_empty() { none.clone() } else { res(l) };
        assert_eq!(a.set_quota(&role(r), &res(g), &l), Err(want), "{r} {g}");
    }
    a.set_quota(&role("a"), &res("cpus:1"), &none).unwrap();
    assert_eq!(
        a.set_quota(&role("a/b"), &res("cpus:1"), &none),
        Err(AllocatorError::NestedQuota)
    );
    assert_eq!(
        a.remove_quota(&role("zzz")),
        Err(AllocatorError::UnknownQuota)
    );
    // Empty guarantee and limit remove it; the role node goes with it.
    a.set_quota(&role("a"), &none, &none).unwrap();
    assert!(a.quota(&role("a")).is_none());
    assert_eq!(a.roles().count(), 0);
    for i in 0..MAX_QUOTAS {
        a.set_quota(&role(&alloc::format!("q{i}")), &res("cpus:1"), &none)
            .unwrap();
    }
    assert_eq!(
        a.set_quota(&role("one-more"), &res("cpus:1"), &none),
        Err(AllocatorError::QuotaTableFull)
    );
    a.remove_quota(&role("q0")).unwrap();
    // The entry moved into the freed index still answers for its role.
    let last = alloc::format!("q{}", MAX_QUOTAS - 1);
    assert_eq!(a.quota(&role(&last)).unwrap().role.as_str(), last);
    a.set_quota(&role("one-more"), &res("cpus:1"), &none)
        .unwrap();
}

#[test]
fn update_allocation_converts_what_a_framework_holds() {
    let mut a = new_alloc(1, 1, 1);
    a.add_framework(T0, fw(0), &role("r"), true).unwrap();
    a.add_agent(T0, ag(0), &res("cpus:4;mem:100")).unwrap();
    cycle(&mut a, T0);
    a.update_allocation(fw(0), ag(0), &res("cpus:2"), &res("cpus(r):2"))
        .unwrap();
    assert_eq!(
        a.allocation(fw(0), ag(0)),
        Some(&res("cpus:2;cpus(r):2;mem:100"))
    );
    assert_eq!(a.total(ag(0)), Some(&res("cpus:2;cpus(r):2;mem:100")));
    assert_eq!(cpus(&a, 0), 4000);
    check_conservation(&a);
    assert_eq!(
        a.update_allocation(fw(0), ag(0), &res("cpus:1"), &res("cpus(r):2")),
        Err(AllocatorError::QuantityMismatch)
    );
    assert_eq!(
        a.update_allocation(fw(0), ag(0), &res("cpus:3"), &res("cpus(r):3")),
        Err(AllocatorError::NotAllocated)
    );
    // Given back, the reserved part is offered to r only.
    let held = a.allocation(fw(0), ag(0)).unwrap().clone();
    a.recover(T0, fw(0), ag(0), &held, None);
    assert_eq!(a.available(ag(0)), Some(&res("cpus:2;cpus(r):2;mem:100")));
}

#[test]
fn update_available_converts_free_resources_only() {
    let mut a = new_alloc(1, 2, 1);
    a.add_framework(T0, fw(0), &role("other"), true).unwrap();
    a.add_agent(T0, ag(0), &res("cpus:4;mem:100")).unwrap();
    a.set_quota(&role("eng"), &res("cpus:1"), &Resources::new())
        .unwrap();
    a.update_available(ag(0), &res("cpus:2"), &res("cpus(eng):2"))
        .unwrap();
    assert_eq!(a.total(ag(0)), Some(&res("cpus:2;cpus(eng):2;mem:100")));
    // The reservation satisfies eng's guarantee, so other may take every unreserved cpu.
    assert_eq!(a.quota_consumed(&role("eng"), "cpus").milli(), 2000);
    let got = cycle(&mut a, T0);
    assert_eq!(got.len(), 1);
    assert_eq!(res(&got[0].3), res("cpus:2;mem:100"));
    assert_eq!(
        a.update_available(ag(0), &res("cpus:1"), &res("cpus(eng):1")),
        Err(AllocatorError::NotAvailable)
    );
    a.update_available(ag(0), &res("cpus(eng):2"), &res("cpus:2"))
        .unwrap();
    assert_eq!(a.quota_consumed(&role("eng"), "cpus").milli(), 0);
    check_conservation(&a);
}
