//! Tests of `Resources` as a whole: text form, arithmetic, serde, and property tests
//! against a simple model.

extern crate std;

use super::*;
use crate::ids::Role;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

fn res(text: &str) -> Resources {
    Resources::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn milli(m: i64) -> Fixed {
    Fixed::from_milli(m)
}

fn whole_disk(kind: DiskSourceKind, root: &str, size: i64) -> Resource {
    let source = DiskSource {
        kind,
        id: None,
        profile: None,
        metadata: vec![],
        root: Some(root.to_string()),
    };
    let meta = ResourceMeta {
        disk: Some(DiskInfo {
            source: Some(source),
            ..DiskInfo::default()
        }),
        ..Default::default()
    };
    Resource::scalar("disk", milli(size))
        .unwrap()
        .with_meta(meta)
        .unwrap()
}

fn dynamic(r: Resource, role: &str, principal: &str) -> Resource {
    let reservation = Reservation {
        kind: ReservationKind::Dynamic,
        role: Role::from(role),
        principal: Some(principal.to_string()),
        labels: vec![("k".to_string(), "v".to_string())],
    };
    r.with_meta(ResourceMeta {
        reservations: vec![reservation],
        ..Default::default()
    })
    .unwrap()
}

/// Checks the invariants every `Resources` keeps (see `collection.rs`).
fn check_invariants(r: &Resources) {
    let all: Vec<&Resource> = r.iter().collect();
    for (i, a) in all.iter().enumerate() {
        assert!(!a.value.is_empty(), "empty entry in {r}");
        assert_eq!(a.validate(), Ok(()));
        if let Value::Scalar(f) = a.value {
            assert!(f.milli() > 0);
        }
        for b in &all[i + 1..] {
            assert!(a != b, "equal entries in {r}");
            if a.name == b.name {
                assert_eq!(a.value_type(), b.value_type(), "mixed types in {r}");
            }
            if a.is_mergeable() {
                assert!(!a.same_identity(b), "unmerged identities in {r}");
            }
        }
    }
}

// ---- Text form ----------------------------------------------------------------------

#[test]
fn parses_the_mesos_text_form_and_prints_it_back() {
    let r = res("cpus:2;mem:1024;ports:[31000-32000];disk(role):100;zones:{b,a}");
    assert_eq!(r.len(), 5);
    assert_eq!(r.scalar("cpus"), milli(2000));
    assert_eq!(r.scalar("mem"), milli(1_024_000));
    let disk = r.iter().find(|e| e.name == "disk").unwrap();
    assert_eq!(disk.reservation_role().map(Role::as_str), Some("role"));
    assert_eq!(
        disk.meta().unwrap().reservations[0].kind,
        ReservationKind::Static
    );
    assert_eq!(
        r.to_string(),
        "cpus:2;mem:1024;ports:[31000-32000];disk(role):100;zones:{a, b}"
    );
    assert_eq!(res(&r.to_string()), r);
}

#[test]
fn parsing_tolerates_whitespace_and_empty_entries() {
    let r = res(" cpus : 0.5 ; ; mem ( eng ) : 1 ; ports : [ 5-6 , 1-2 ,3-3] ; zones:{ a , b } ;");
    assert_eq!(
        r.to_string(),
        "cpus:0.5;mem(eng):1;ports:[1-3, 5-6];zones:{a, b}"
    );
    assert!(res("").is_empty());
    assert!(res(" ;; ").is_empty());
}

#[test]
fn a_default_role_reserves_entries_without_one() {
    let eng = Role::from("eng");
    let r = Resources::parse_with_default_role("cpus:1;mem(ops):2;disk(*):3", Some(&eng)).unwrap();
    assert_eq!(r.to_string(), "cpus(eng):1;mem(ops):2;disk:3");
    let star = Role::from("*");
    assert_eq!(
        Resources::parse_with_default_role("cpus:1", Some(&star))
            .unwrap()
            .to_string(),
        "cpus:1"
    );
    let bad = Role::from("a b");
    let err = Resources::parse_with_default_role("cpus:1", Some(&bad)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "resource 'cpus': role 'a b' contains whitespace or control characters"
    );
}

#[test]
fn parsing_merges_duplicates_and_drops_empty_values() {
    assert_eq!(res("cpus:1;cpus:0.5").to_string(), "cpus:1.5");
    assert_eq!(
        res("cpus(eng):1;cpus:1;cpus(eng):1").to_string(),
        "cpus(eng):2;cpus:1"
    );
    assert_eq!(res("cpus(*):1;cpus:1").to_string(), "cpus:2");
    assert_eq!(res("ports:[1-5];ports:[3-9]").to_string(), "ports:[1-9]");
    assert_eq!(res("zones:{a};zones:{b,a}").to_string(), "zones:{a, b}");
    assert_eq!(res("cpus:0;mem:0.0001;ports:[];zones:{}").len(), 0);
    assert_eq!(
        res("cpus:0.1;cpus:0.2").scalar("cpus"),
        res("cpus:0.3").scalar("cpus")
    );
    assert_eq!(res("ports:[80-80]").to_string(), "ports:[80-80]");
}

#[test]
fn every_bad_entry_gets_a_one_line_message_naming_it() {
    let cases: &[(&str, &str)] = &[
        ("cpus:-1", "resource 'cpus': '-1' is not a non-negative number"),
        ("cpus:nan", "resource 'cpus': 'nan' is not a non-negative number"),
        ("cpus:inf", "resource 'cpus': 'inf' is not a non-negative number"),
        ("cpus:", "resource 'cpus': '' is not a non-negative number"),
        ("cpus:1x", "resource 'cpus': '1x' is not a non-negative number"),
        ("cpus:1e300", "resource 'cpus': '1e300' is too large"),
        ("cpus", "resource entry 'cpus' has no ':' before its value"),
        ("mem:1;cpus 2", "resource entry 'cpus 2' has no ':' before its value"),
        ("cpus(eng)2", "resource entry 'cpus(eng)2' has no ':' before its value"),
        ("cp us:1", "resource entry 'cp us:1': the name is not 1 to 32 characters of A-Z a-z 0-9 _ . / -"),
        (":1", "resource entry ':1': the name is not 1 to 32 characters of A-Z a-z 0-9 _ . / -"),
        ("cpus(eng:1", "resource entry 'cpus(eng:1': the role has no closing ')'"),
        ("cpus(a//b):1", "resource 'cpus': role 'a//b' contains '//'"),
        ("cpus():1", "resource 'cpus': role '' is empty"),
        ("cpus(-x):1", "resource 'cpus': role '-x' has a component starting with '-'"),
        ("ports:[5-3]", "resource 'ports': range 5-3 ends before it begins"),
        ("ports:[1-2", "resource 'ports': '[1-2' is not a list of ranges like [31000-32000, 33000-34000]"),
        ("ports:[1-2,]", "resource 'ports': '[1-2,]' is not a list of ranges like [31000-32000, 33000-34000]"),
        ("ports:[80]", "resource 'ports': '[80]' is not a list of ranges like [31000-32000, 33000-34000]"),
        ("ports:[+1-2]", "resource 'ports': '[+1-2]' is not a list of ranges like [31000-32000, 33000-34000]"),
        ("ports:[1-99999999999999999999]", "resource 'ports': '[1-99999999999999999999]' is not a list of ranges like [31000-32000, 33000-34000]"),
        ("zones:{a", "resource 'zones': '{a' is not a set like {a, b}"),
        ("zones:{a,,b}", "resource 'zones': set item '' is not 1 to 32 bytes without whitespace or ,;:()[]{}"),
        ("zones:{a b}", "resource 'zones': set item 'a b' is not 1 to 32 bytes without whitespace or ,;:()[]{}"),
        ("zones:{a,b,c,d,e,f,g,h,i}", "resource 'zones': more than 8 set items"),
        ("zones:{a,b,c,d};zones:{e,f,g,h,i}", "resource 'zones': more than 8 set items"),
        ("cpus:1;cpus:[1-2]", "resource 'cpus' appears with different value types"),
        ("cpus(eng):1;cpus:{a}", "resource 'cpus' appears with different value types"),
        ("cpus:9223372036854775;cpus:9223372036854775", "resource 'cpus': repeated entries add up to too much"),
    ];
    for (text, want) in cases {
        let err = Resources::parse(text).expect_err(text);
        assert_eq!(err.to_string(), *want, "{text}");
    }
    let many: Vec<String> = (0..17)
        .map(|i| alloc::format!("{}-{}", i * 10, i * 10))
        .collect();
    let text = alloc::format!("ports:[{}]", many.join(","));
    assert_eq!(
        Resources::parse(&text).unwrap_err().to_string(),
        "resource 'ports': more than 16 separate ranges"
    );
    let long = alloc::format!("{}:1", "n".repeat(40));
    let msg = Resources::parse(&long).unwrap_err().to_string();
    assert!(msg.contains("...") && msg.len() < 120, "{msg}");
    let ctl = Resources::parse("cpus:1\n2").unwrap_err().to_string();
    assert!(!ctl.contains('\n'), "{ctl}");
}

#[test]
fn complex_meta_prints_mesos_style() {
    let mut r = Resources::new();
    r.add(&dynamic(
        Resource::scalar("cpus", milli(1500)).unwrap(),
        "eng",
        "ops",
    ))
    .unwrap();
    r.add(&whole_disk(DiskSourceKind::Mount, "/mnt/a", 5000))
        .unwrap();
    assert_eq!(
        r.to_string(),
        "cpus(reservations: [(DYNAMIC,eng,ops,k=v)]):1.5;disk[MOUNT(/mnt/a)]:5"
    );
}

// ---- Arithmetic ---------------------------------------------------------------------

#[test]
fn add_merges_only_equal_identities() {
    let mut r = res("cpus:1;ports:[1-10]");
    r.add(&Resource::scalar("cpus", milli(500)).unwrap())
        .unwrap();
    r.add(&Resource::ranges("ports", &[Range::new(11, 20)]).unwrap())
        .unwrap();
    r.add(&res("cpus(eng):2").iter().next().unwrap().clone())
        .unwrap();
    r.add(&dynamic(
        Resource::scalar("cpus", milli(1000)).unwrap(),
        "eng",
        "p",
    ))
    .unwrap();
    assert_eq!(r.len(), 4);
    assert_eq!(r.scalar("cpus"), milli(4500));
    assert_eq!(r.iter().next().unwrap().scalar_value(), Some(milli(1500)));
    assert_eq!(
        r.add(&Resource::set("cpus", &["a"]).unwrap()),
        Err(ArithError::TypeMismatch),
        "a name keeps one type"
    );
    assert_eq!(
        r.add(&Resource::scalar("cpus", Fixed::MAX).unwrap()),
        Err(ArithError::Overflow)
    );
    assert_eq!(
        r.scalar("cpus"),
        milli(4500),
        "a refused add changes nothing"
    );
    check_invariants(&r);
}

#[test]
fn subtract_removes_what_reaches_zero_and_refuses_what_is_missing() {
    let mut r = res("cpus:2;mem:100;ports:[1-10];zones:{a,b}");
    r.subtract(&res("cpus:2;ports:[3-4];zones:{a}")).unwrap();
    assert_eq!(r.to_string(), "mem:100;ports:[1-2, 5-10];zones:{b}");
    let before = r.clone();
    assert_eq!(
        r.subtract(&res("mem:50;cpus:0.001")),
        Err(ArithError::NotContained)
    );
    assert_eq!(
        r.subtract(&res("mem(eng):1")),
        Err(ArithError::NotContained)
    );
    assert_eq!(
        r.subtract(&res("ports:[2-5]")),
        Err(ArithError::NotContained)
    );
    assert_eq!(r.subtract(&res("mem:101")), Err(ArithError::NotContained));
    assert_eq!(r.subtract(&res("mem:[1-2]")), Err(ArithError::NotContained));
    assert_eq!(
        r.to_string(),
        before.to_string(),
        "refused subtractions change nothing"
    );
    r.subtract(&r.clone()).unwrap();
    assert!(r.is_empty());
}

#[test]
fn subtract_refuses_punching_too_many_holes() {
    let mut r = res("ports:[0-1000]");
    let holes: Vec<String> = (1..=16)
        .map(|i| alloc::format!("{}-{}", i * 10, i * 10))
        .collect();
    let holes = res(&alloc::format!("ports:[{}]", holes.join(",")));
    assert_eq!(r.subtract(&holes), Err(ArithError::CapacityExceeded));
    assert_eq!(r.to_string(), "ports:[0-1000]");
}

#[test]
fn indivisible_disks_are_added_and_removed_whole() {
    let a = whole_disk(DiskSourceKind::Mount, "/mnt/a", 1000);
    let b = whole_disk(DiskSourceKind::Mount, "/mnt/b", 1000);
    let mut r = Resources::new();
    r.add(&a).unwrap();
    r.add(&b).unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r.add(&a), Err(ArithError::Duplicate));
    let mut twice = Resources::new();
    twice.add(&a).unwrap();
    assert_eq!(r.add_all(&twice), Err(ArithError::Duplicate));
    let half = Resource {
        value: Value::Scalar(milli(500)),
        ..a.clone()
    };
    assert!(
        !r.contains_one(&half),
        "part of a whole disk is not contained"
    );
    assert_eq!(r.subtract_one(&half), Err(ArithError::NotContained));
    assert_eq!(r.scalar("disk"), milli(2000));
    r.subtract_one(&a).unwrap();
    assert_eq!(r.len(), 1);
    assert!(r.contains_one(&b));
    check_invariants(&r);
}

#[test]
fn shared_resources_are_whole_units() {
    let meta = ResourceMeta {
        shared: true,
        ..Default::default()
    };
    let vol = Resource::scalar("disk", milli(64_000))
        .unwrap()
        .with_meta(meta)
        .unwrap();
    let mut r = Resources::new();
    r.add(&vol).unwrap();
    assert_eq!(r.add(&vol), Err(ArithError::Duplicate));
    r.subtract_one(&vol).unwrap();
    assert!(r.is_empty());
}

#[test]
fn add_all_is_all_or_nothing() {
    let mut r = res("cpus:1;ports:[1-2]");
    let before = r.clone();
    let mut bad = res("mem:5;cpus:9223372036854775");
    bad.add(&Resource::scalar("cpus", milli(807)).unwrap())
        .unwrap();
    assert_eq!(r.add_all(&bad), Err(ArithError::Overflow));
    assert_eq!(r, before);
    assert_eq!(
        r.add_all(&res("mem:5;ports:{a}")),
        Err(ArithError::TypeMismatch)
    );
    assert_eq!(r, before);
    r.add_all(&res("mem:5;cpus:1;ports:[3-3]")).unwrap();
    assert_eq!(r.to_string(), "cpus:2;ports:[1-3];mem:5");
}

#[test]
fn contains_is_a_superset_test_per_identity() {
    let r = res("cpus:2;cpus(eng):1;ports:[1-10]");
    assert!(r.contains(&res("cpus:2;ports:[2-3,5-9]")));
    assert!(r.contains(&res("")));
    assert!(
        !r.contains(&res("cpus:3")),
        "unreserved and reserved cpus do not pool"
    );
    assert!(!r.contains(&res("cpus(ops):1")));
    assert!(!r.contains(&res("ports:[10-11]")));
    assert!(!r.contains(&res("mem:1")));
}

#[test]
fn scalar_sums_every_identity_of_a_name() {
    let r = res("cpus:2;cpus(eng):1.5;cpus(ops):0.25;mem:1;ports:[1-3]");
    assert_eq!(r.scalar("cpus"), milli(3750));
    assert_eq!(r.scalar("ports"), Fixed::ZERO);
    assert_eq!(r.scalar("gpus"), Fixed::ZERO);
}

#[test]
fn copy_from_and_clear_reuse_capacity() {
    let src = res("cpus:1;mem:2;disk:3");
    let mut dst = Resources::with_capacity(8);
    let cap = dst.capacity();
    dst.copy_from(&src);
    assert_eq!(dst, src);
    dst.clear();
    assert!(dst.is_empty());
    assert_eq!(dst.capacity(), cap);
    dst.copy_filtered_from(&src, |r| r.name != "mem");
    assert_eq!(dst.to_string(), "cpus:1;disk:3");
    dst.retain(|r| r.name == "disk");
    assert_eq!(dst.to_string(), "disk:3");
}

#[test]
fn equality_ignores_order_and_plain_meta() {
    assert_eq!(res("cpus:1;mem:2"), res("mem:2;cpus:1"));
    assert_ne!(res("cpus:1;mem:2"), res("mem:2;cpus:1;disk:1"));
    let mut a = Resource::scalar("cpus", milli(1000)).unwrap();
    a.meta = Some(Arc::new(ResourceMeta::default()));
    let mut r = res("cpus:1");
    r.add(&a).unwrap();
    assert_eq!(r.to_string(), "cpus:2", "a plain meta merges with no meta");
}

// ---- Serde ----------------------------------------------------------------------------

#[test]
fn postcard_round_trips_and_decoding_restores_invariants() {
    let mut r = res("cpus:1.5;mem(eng):1024;ports:[31000-32000,40000-40010];zones:{a,b}");
    r.add(&whole_disk(DiskSourceKind::Mount, "/mnt/a", 1000))
        .unwrap();
    r.add(&dynamic(
        Resource::scalar("gpus", milli(1000)).unwrap(),
        "eng/ml",
        "me",
    ))
    .unwrap();
    let bytes = postcard::to_allocvec(&r).unwrap();
    assert_eq!(postcard::from_bytes::<Resources>(&bytes).unwrap(), r);

    // A list with a duplicate and a zero entry decodes to the merged form.
    let raw = vec![
        Resource::scalar("cpus", milli(1000)).unwrap(),
        Resource::scalar("cpus", milli(1000)).unwrap(),
        Resource::scalar("mem", Fixed::ZERO).unwrap(),
    ];
    let bytes = postcard::to_allocvec(&raw).unwrap();
    assert_eq!(
        postcard::from_bytes::<Resources>(&bytes)
            .unwrap()
            .to_string(),
        "cpus:2"
    );

    // Lists that break a rule are refused.
    let mixed = vec![
        Resource::scalar("x", milli(1)).unwrap(),
        Resource::set("x", &["a"]).unwrap(),
    ];
    let bytes = postcard::to_allocvec(&mixed).unwrap();
    assert!(postcard::from_bytes::<Resources>(&bytes).is_err());
    let star = Resource::scalar("cpus", milli(1)).unwrap();
    let star = Resource {
        meta: Some(Arc::new(ResourceMeta {
            reservations: vec![Reservation::statik(Role::from("*"))],
            ..Default::default()
        })),
        ..star
    };
    let bytes = postcard::to_allocvec(&vec![star]).unwrap();
    assert!(postcard::from_bytes::<Resources>(&bytes).is_err());
}

// ---- Properties -----------------------------------------------------------------------

/// Names with a fixed type each, so generated entries never mix types.
const SCALARS: &[&str] = &["cpus", "mem", "disk", "gpus"];
const RANGES: &[&str] = &["ports", "eph"];
const SETS: &[&str] = &["zones"];
const ROLES: &[&str] = &["*", "eng", "ops", "eng/web"];
const ITEMS: &[&str] = &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];

fn role() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![3 => Just(None), 2 => prop::sample::select(ROLES).prop_map(Some)]
}

fn scalar_amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        1 => Just(0i64),
        6 => 1i64..5_000_000,
        1 => (i64::MAX - 1_000_000)..=i64::MAX,
    ]
}

fn ranges() -> impl Strategy<Value = Vec<(u64, u64)>> {
    let one = prop_oneof![
        8 => (0u64..200, 0u64..6).prop_map(|(b, l)| (b, b + l)),
        1 => (u64::MAX - 5..=u64::MAX).prop_map(|b| (b, u64::MAX)),
    ];
    prop::collection::vec(one, 0..12)
}

/// A text-expressible (plain or statically reserved) resource.
fn text_resource() -> impl Strategy<Value = Resource> {
    let value = prop_oneof![
        (prop::sample::select(SCALARS), scalar_amount()).prop_map(|(n, m)| Resource::scalar(
            n,
            milli(m)
        )
        .unwrap()),
        (prop::sample::select(RANGES), ranges()).prop_filter_map("too many ranges", |(n, rs)| {
            let rs: Vec<Range> = rs.into_iter().map(|(b, e)| Range::new(b, e)).collect();
            Resource::ranges(n, &rs).ok()
        }),
        (
            prop::sample::select(SETS),
            prop::sample::subsequence(ITEMS, 0..6)
        )
            .prop_map(|(n, items)| Resource::set(n, &items).unwrap()),
    ];
    (value, role()).prop_map(|(r, role)| match role {
        Some(role) => r.reserved_static(Role::from(role)).unwrap(),
        None => r,
    })
}

/// Any resource, including metas the text form cannot express.
fn any_resource() -> impl Strategy<Value = Resource> {
    prop_oneof![
        6 => text_resource(),
        1 => (text_resource(), prop::sample::select(ROLES)).prop_filter_map("star", |(r, role)| {
            (role != "*").then(|| dynamic(r, role, "p"))
        }),
        1 => (prop::sample::select(&["/a", "/b", "/c"][..]), 1i64..4).prop_map(|(root, gb)| {
            whole_disk(DiskSourceKind::Mount, root, gb * 1000)
        }),
        1 => text_resource().prop_map(|r| {
            r.with_meta(ResourceMeta { revocable: true, ..Default::default() }).unwrap()
        }),
    ]
}

fn build(rs: &[Resource]) -> Resources {
    let mut out = Resources::new();
    for r in rs {
        let _ = out.add(r);
    }
    out
}

fn text_resources() -> impl Strategy<Value = Resources> {
    prop::collection::vec(text_resource(), 0..8).prop_map(|v| build(&v))
}

fn any_resources() -> impl Strategy<Value = Resources> {
    prop::collection::vec(any_resource(), 0..8).prop_map(|v| build(&v))
}

/// A model value per identity: scalars as i128, ranges and sets as plain sets.
#[derive(Clone, Debug, PartialEq)]
enum Model {
    Scalar(i128),
    Ranges(BTreeSet<u64>),
    Set(BTreeSet<String>),
}

/// Maps the few generated values near `u64::MAX` next to 1_000_000, keeping adjacency, so
/// that the model's sets stay small.
fn fold_tail(v: u64) -> u64 {
    if v > u64::MAX / 2 {
        1_000_000 + (u64::MAX - v)
    } else {
        v
    }
}

/// Number of maximal runs of consecutive values.
fn runs(s: &BTreeSet<u64>) -> usize {
    s.iter()
        .filter(|&&v| v == 0 || !s.contains(&(v - 1)))
        .count()
}

/// Moves the ranges and set items of `r` out of the generated domain, so they are disjoint
/// from those of any other generated resources.
fn shifted(r: &Resources) -> Resources {
    let mut out = Resources::new();
    for e in r.iter() {
        let mut e = e.clone();
        match &e.value {
            Value::Ranges(rs) => {
                let moved: Vec<Range> = rs
                    .as_slice()
                    .iter()
                    .map(|r| {
                        if r.end < 1000 {
                            Range::new(r.begin + 10_000, r.end + 10_000)
                        } else {
                            Range::new(r.begin - 100, r.end - 100)
                        }
                    })
                    .collect();
                e.value = Value::Ranges(RangeSet::from_ranges(&moved).unwrap());
            }
            Value::Set(items) => {
                let mut moved = ItemSet::new();
                for i in items.as_slice() {
                    assert!(moved.insert(&alloc::format!("x{i}")).unwrap());
                }
                e.value = Value::Set(moved);
            }
            Value::Scalar(_) => {}
        }
        out.add(&e).unwrap();
    }
    out
}

/// A part of `a`: per entry, by `choices`, nothing, all, half a scalar, or the first range
/// or item.
fn part_of(a: &Resources, choices: &[u8]) -> Resources {
    let mut out = Resources::new();
    for (e, c) in a.iter().zip(choices.iter().chain(core::iter::repeat(&1))) {
        let mut e = e.clone();
        match (c % 4, &e.value) {
            (0, _) => continue,
            (1, _) => {}
            (_, Value::Scalar(f)) => e.value = Value::Scalar(milli(f.milli() / 2)),
            (_, Value::Ranges(rs)) => {
                e.value = Value::Ranges(RangeSet::from_ranges(&rs.as_slice()[..1]).unwrap())
            }
            (_, Value::Set(s)) => {
                let mut one = ItemSet::new();
                one.insert(&s.as_slice()[0]).unwrap();
                e.value = Value::Set(one);
            }
        }
        if e.is_mergeable() {
            out.add(&e).unwrap();
        } else if a.iter().any(|x| *x == e) {
            // Whole units are a part only when taken whole; halving one may give another
            // entry of `a`, already taken.
            let _ = out.add(&e);
        }
    }
    out
}

/// Models resources with small ranges as a map from printed identity to value.
fn model(r: &Resources) -> BTreeMap<String, Model> {
    let mut m = BTreeMap::new();
    for e in r.iter() {
        let key = alloc::format!("{}|{:?}|{:?}", e.name, e.value_type(), e.meta());
        let v = match &e.value {
            Value::Scalar(f) => Model::Scalar(i128::from(f.milli())),
            Value::Ranges(rs) => Model::Ranges(
                rs.as_slice()
                    .iter()
                    .flat_map(|r| r.begin..=r.end)
                    .map(fold_tail)
                    .collect(),
            ),
            Value::Set(s) => Model::Set(s.as_slice().iter().map(|i| i.to_string()).collect()),
        };
        let slot = m.entry(key).or_insert_with(|| match v {
            Model::Scalar(_) => Model::Scalar(0),
            Model::Ranges(_) => Model::Ranges(BTreeSet::new()),
            Model::Set(_) => Model::Set(BTreeSet::new()),
        });
        match (slot, v) {
            (Model::Scalar(a), Model::Scalar(b)) => *a += b,
            (Model::Ranges(a), Model::Ranges(b)) => a.extend(b),
            (Model::Set(a), Model::Set(b)) => a.extend(b),
            _ => unreachable!(),
        }
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_is_identity(r in text_resources()) {
        let text = r.to_string();
        let back = Resources::parse(&text);
        prop_assert_eq!(back.as_ref(), Ok(&r), "{}", text);
    }

    #[test]
    fn postcard_round_trip_is_identity(r in any_resources()) {
        let bytes = postcard::to_allocvec(&r).unwrap();
        prop_assert_eq!(postcard::from_bytes::<Resources>(&bytes).unwrap(), r);
    }

    #[test]
    fn add_then_subtract_gives_back_the_original(a in any_resources(), b in any_resources()) {
        let b = shifted(&b);
        let mut sum = a.clone();
        match sum.add_all(&b) {
            Ok(()) => {
                check_invariants(&sum);
                prop_assert!(sum.contains(&a) && sum.contains(&b));
                let mut back = sum.clone();
                prop_assert_eq!(back.subtract(&b), Ok(()));
                check_invariants(&back);
                prop_assert_eq!(&back, &a);
            }
            Err(e) => {
                prop_assert!(matches!(e, ArithError::Overflow | ArithError::Duplicate | ArithError::CapacityExceeded));
                prop_assert_eq!(&sum, &a, "a failed add_all changes nothing");
            }
        }
    }

    #[test]
    fn subtract_is_contained_never_negative_and_all_or_nothing(
        a in any_resources(),
        b in any_resources(),
        choices in prop::collection::vec(any::<u8>(), 8),
        take_part in any::<bool>(),
    ) {
        let b = if take_part { part_of(&a, &choices) } else { b };
        let mut d = a.clone();
        match d.subtract(&b) {
            Ok(()) => {
                prop_assert!(a.contains(&b));
                check_invariants(&d);
                prop_assert!(a.contains(&d));
                let mut again = d.clone();
                prop_assert_eq!(again.add_all(&b), Ok(()));
                prop_assert_eq!(again, a);
            }
            Err(ArithError::NotContained) => {
                prop_assert!(!a.contains(&b));
                prop_assert!(!take_part, "a part is always contained");
                prop_assert_eq!(&d, &a);
            }
            Err(e) => {
                prop_assert_eq!(e, ArithError::CapacityExceeded);
                prop_assert!(a.contains(&b));
                prop_assert_eq!(&d, &a);
            }
        }
    }

    #[test]
    fn arithmetic_matches_a_model(a in text_resources(), b in text_resources()) {
        // Values here are small, so the model can hold ranges as plain sets.
        let (ma, mb) = (model(&a), model(&b));
        let mut sum = a.clone();
        match sum.add_all(&b) {
            Ok(()) => {
                let mut want = ma.clone();
                for (k, v) in mb.clone() {
                    match (want.entry(k).or_insert_with(|| match &v {
                        Model::Scalar(_) => Model::Scalar(0),
                        Model::Ranges(_) => Model::Ranges(BTreeSet::new()),
                        Model::Set(_) => Model::Set(BTreeSet::new()),
                    }), v) {
                        (Model::Scalar(x), Model::Scalar(y)) => *x += y,
                        (Model::Ranges(x), Model::Ranges(y)) => x.extend(y),
                        (Model::Set(x), Model::Set(y)) => x.extend(y),
                        _ => unreachable!(),
                    }
                }
                prop_assert_eq!(model(&sum), want);
            }
            Err(ArithError::Overflow) => {
                let over = mb.iter().any(|(k, v)| match (ma.get(k), v) {
                    (Some(Model::Scalar(x)), Model::Scalar(y)) => x + y > i128::from(i64::MAX),
                    _ => false,
                });
                prop_assert!(over);
            }
            Err(ArithError::CapacityExceeded) => {
                let full = mb.iter().any(|(k, v)| match (ma.get(k), v) {
                    (Some(Model::Set(x)), Model::Set(y)) => x.union(y).count() > MAX_ITEMS,
                    (Some(Model::Ranges(x)), Model::Ranges(y)) => runs(&x.union(y).copied().collect()) > MAX_RANGES,
                    _ => false,
                });
                prop_assert!(full);
            }
            Err(e) => prop_assert!(false, "unexpected {:?}", e),
        }
        let contained = mb.iter().all(|(k, v)| match (ma.get(k), v) {
            (Some(Model::Scalar(x)), Model::Scalar(y)) => x >= y,
            (Some(Model::Ranges(x)), Model::Ranges(y)) => y.is_subset(x),
            (Some(Model::Set(x)), Model::Set(y)) => y.is_subset(x),
            _ => false,
        });
        prop_assert_eq!(a.contains(&b), contained);
    }

    #[test]
    fn parser_never_panics_on_arbitrary_text(s in ".{0,80}") {
        if let Err(e) = Resources::parse(&s) {
            let msg = e.to_string();
            prop_assert!(!msg.contains('\n') && !msg.contains('\r'));
        }
    }

    #[test]
    fn parser_never_panics_on_grammar_soup(s in "[a-z0-9:;,()\\[\\]{}\\-./* e+]{0,60}") {
        match Resources::parse(&s) {
            Ok(r) => {
                check_invariants(&r);
                prop_assert_eq!(Resources::parse(&r.to_string()), Ok(r));
            }
            Err(e) => prop_assert!(!e.to_string().contains('\n')),
        }
    }
}
