//! Property tests of offer operations: random sequences of operations built from an agent's
//! current resources always validate, apply, preserve totals, are undone by their inverse, and
//! survive the checkpoint round trip.

extern crate std;

use super::*;
use crate::ids::Role;
use crate::resources::meta::{DiskInfo, Persistence, ReservationKind};
use crate::resources::value::{Range, Value};
use crate::resources::Fixed;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

fn scalar(name: &str, milli: i64) -> Resource {
    Resource::scalar(name, Fixed::from_milli(milli)).unwrap()
}

/// An agent's static resources: some unreserved, some statically reserved for `eng`.
fn agent_strategy() -> impl Strategy<Value = Resources> {
    (
        1..20_000i64,
        1..100_000i64,
        1..100_000i64,
        0..8_000i64,
        0..50_000i64,
        prop::collection::vec((0u64..1000, 0u64..50), 1..4),
    )
        .prop_map(|(cpus, mem, disk, eng_cpus, eng_disk, ports)| {
            let mut out = Resources::new();
            let eng = Role::from("eng");
            for r in [
                scalar("cpus", cpus),
                scalar("mem", mem),
                scalar("disk", disk),
                scalar("cpus", eng_cpus)
                    .reserved_static(eng.clone())
                    .unwrap(),
                scalar("disk", eng_disk).reserved_static(eng).unwrap(),
            ] {
                out.add(&r).unwrap();
            }
            let ranges: Vec<Range> = ports
                .iter()
                .map(|&(b, len)| Range::new(30_000 + b * 100, 30_000 + b * 100 + len))
                .collect();
            out.add(&Resource::ranges("ports", &ranges).unwrap())
                .unwrap();
            out
        })
}

/// Sums that no operation may change: milli-units per scalar name, ports per range name.
fn totals(r: &Resources) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = Vec::new();
    for e in r {
        let amount = match &e.value {
            Value::Scalar(f) => f.milli(),
            Value::Ranges(s) => i64::try_from(s.count()).unwrap(),
            Value::Set(s) => i64::try_from(s.len()).unwrap(),
        };
        match out.iter_mut().find(|(n, _)| n.as_str() == e.name.as_str()) {
            Some((_, t)) => *t += amount,
            None => out.push((String::from(e.name.as_str()), amount)),
        }
    }
    out.sort();
    out
}

/// Part of `r`: half a scalar (all of it below two milli-units), the first range of ranges.
fn portion(r: &Resource) -> Resource {
    let value = match &r.value {
        Value::Scalar(f) if f.milli() >= 2 => Value::Scalar(Fixed::from_milli(f.milli() / 2)),
        Value::Ranges(s) => {
            let first = s.as_slice()[0];
            Value::Ranges(crate::resources::RangeSet::from_ranges(&[first]).unwrap())
        }
        v => v.clone(),
    };
    Resource { value, ..r.clone() }
}

/// Builds the operation `choice` asks for from `state`, if `state` has something it fits.
fn build(state: &Resources, choice: u8, pick: usize, step: usize) -> Option<ResourceOperation> {
    let pick_from = |f: &dyn Fn(&Resource) -> bool| -> Option<Resource> {
        let c: Vec<&Resource> = state.iter().filter(|r| f(r)).collect();
        (!c.is_empty()).then(|| c[pick % c.len()].clone())
    };
    let one = |r: Resource| {
        let mut out = Resources::new();
        out.add(&r).unwrap();
        out
    };
    match choice % 4 {
        0 => {
            let r = pick_from(&|r| !is_persistent_volume(r))?;
            let role = match r.reservation_role() {
                None => String::from("eng"),
                Some(parent) => format!("{parent}/t{step}"),
            };
            let reservation = Reservation {
                kind: ReservationKind::Dynamic,
                role: Role::from(role.as_str()),
                principal: Some(String::from("ops")),
                labels: vec![(String::from("step"), format!("{step}"))],
            };
            Some(ResourceOperation::Reserve(one(push_reservation(
                &portion(&r),
                reservation,
            )
            .unwrap())))
        }
        1 => {
            let r = pick_from(&|r| is_dynamically_reserved(r) && !is_persistent_volume(r))?;
            Some(ResourceOperation::Unreserve(one(r)))
        }
        2 => {
            let r = pick_from(&|r| {
                r.name.as_str() == "disk" && !r.is_unreserved() && !is_persistent_volume(r)
            })?;
            let mut meta = r.meta().cloned().unwrap_or_default();
            meta.disk = Some(DiskInfo {
                persistence: Some(Persistence {
                    id: format!("v{step}"),
                    principal: None,
                }),
                container_path: Some(String::from("data")),
                ..DiskInfo::default()
            });
            Some(ResourceOperation::Create(one(portion(&r)
                .with_meta(meta)
                .unwrap())))
        }
        _ => {
            let r = pick_from(&is_persistent_volume)?;
            Some(ResourceOperation::Destroy(one(r)))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn operation_sequences_keep_totals_invert_and_checkpoint(
        agent in agent_strategy(),
        steps in prop::collection::vec((any::<u8>(), any::<usize>()), 1..24),
    ) {
        let want = totals(&agent);
        let mut state = agent.clone();
        for (step, (choice, pick)) in steps.into_iter().enumerate() {
            let Some(op) = build(&state, choice, pick, step) else { continue };
            let checkpointed = checkpointed_resources(&state);
            let ctx = ValidationContext {
                principal: None,
                framework: None,
                checkpointed: &checkpointed,
                used: &[],
            };
            prop_assert_eq!(op.validate(&ctx), Ok(()), "{:?} on {}", op, state);
            let next = op.apply(&state).unwrap_or_else(|e| panic!("{e}"));
            prop_assert_eq!(totals(&next), want.clone());
            let back = op.inverse().apply(&next).unwrap_or_else(|e| panic!("{e}"));
            prop_assert_eq!(&back, &state, "inverse of {:?}", op);
            state = next;
        }
        let rebuilt = apply_checkpointed_resources(&agent, &checkpointed_resources(&state));
        prop_assert_eq!(rebuilt, Ok(state));
    }

    #[test]
    fn reserving_more_than_there_is_fails(agent in agent_strategy(), extra in 1..1000i64) {
        let have = agent.scalar("cpus").milli() - agent
            .iter()
            .filter(|r| !r.is_unreserved() && r.name.as_str() == "cpus")
            .filter_map(Resource::scalar_value)
            .map(Fixed::milli)
            .sum::<i64>();
        let reservation = Reservation {
            kind: ReservationKind::Dynamic,
            role: Role::from("dev"),
            principal: None,
            labels: vec![],
        };
        let too_much = push_reservation(&scalar("cpus", have + extra), reservation).unwrap();
        let mut rs = Resources::new();
        rs.add(&too_much).unwrap();
        let err = ResourceOperation::Reserve(rs).apply(&agent).unwrap_err();
        let is_not_contained = matches!(err, ApplyError::NotContained { .. });
        prop_assert!(is_not_contained, "{}", err);
    }
}
