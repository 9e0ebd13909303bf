//! Tests of the registry operations, the registrar's durability rules, and the byte formats.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::ids::AgentId;
use crate::rng::Rng;
use crate::time::WallTime;

fn record(host: &str) -> AgentRecord {
    AgentRecord {
        hostname: String::from(host),
        ip: String::from("10.0.0.1"),
        port: 5051,
        resources_text: String::from("cpus:2;mem:1024"),
        attributes_text: String::new(),
    }
}

fn admit(host: &str) -> Op {
    Op::AdmitAgent { info: record(host) }
}

fn id(s: &str) -> AgentId {
    AgentId::from(s)
}

/// Drives one write to durability and returns every completion released.
fn write_durably(r: &mut Registrar) -> Vec<Completion> {
    let index = r.poll_write().map(|e| e.index).expect("an entry to write");
    r.handle_write_done(index, WriteResult::Durable)
        .expect("entry in flight");
    core::iter::from_fn(|| r.poll_completion()).collect()
}

fn done(c: &Completion) -> &Result<Applied, OpError> {
    match &c.outcome {
        Outcome::Done(result) => result,
        other => panic!("expected a result, got {other:?}"),
    }
}

/// A random op over a small set of agent ids, so that every kind of outcome occurs.
fn random_op(rng: &mut Rng, cluster: &str) -> Op {
    let agent = id(&format!("{cluster}-S{}", rng.below(12)));
    let at = WallTime {
        unix_nanos: rng.next_u64() % 1_000_000,
    };
    if rng.below(20) == 0 {
        return Op::Prune {
            older_than: WallTime {
                unix_nanos: rng.below(1_000_000),
            },
            max_count: rng.below(4) as u32,
        };
    }
    match rng.below(7) {
        0 => Op::Recover {
            leader: format!("10.0.0.{}:5050", rng.below(3)),
        },
        1 | 2 => admit(&format!("host{}", rng.below(5))),
        3 => Op::UpdateAgentInfo {
            id: agent,
            info: record(&format!("host{}", rng.below(2))),
        },
        4 => Op::MarkUnreachable { id: agent, at },
        5 => Op::MarkReachable {
            id: agent,
            info: record("back"),
        },
        _ => {
            if rng.below(2) == 0 {
                Op::RemoveAgent { id: agent }
            } else {
                Op::MarkGone { id: agent, at }
            }
        }
    }
}

#[test]
fn apply_is_deterministic_and_owned_apply_agrees() {
    for seed in 0..20 {
        let mut rng = Rng::from_seed(seed);
        let ops: Vec<Op> = (0..300).map(|_| random_op(&mut rng, "c")).collect();
        let (mut a, mut b, mut c) = (
            Registry::new_cluster("c"),
            Registry::new_cluster("c"),
            Registry::new_cluster("c"),
        );
        let mut kinds = [0usize; 3];
        for op in &ops {
            let ra = apply(&mut a, op);
            assert_eq!(ra, apply(&mut b, op));
            assert_eq!(ra, apply_owned(&mut c, op.clone()));
            kinds[match ra {
                Ok(Applied::Unchanged) => 0,
                Ok(_) => 1,
                Err(_) => 2,
            }] += 1;
        }
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.validate(), Ok(()));
        assert!(
            kinds.iter().all(|&k| k > 0),
            "seed {seed} exercised {kinds:?}"
        );
    }
}

#[test]
fn admitted_ids_count_up_and_stay_unique_across_recovery() {
    let mut reg = Registry::new_cluster("abc");
    assert_eq!(
        apply(&mut reg, &admit("a")),
        Ok(Applied::Admitted { id: id("abc-S0") })
    );
    assert_eq!(
        apply(&mut reg, &admit("b")),
        Ok(Applied::Admitted { id: id("abc-S1") })
    );
    assert_eq!(
        apply(
            &mut reg,
            &Op::Recover {
                leader: "m2:5050".into()
            }
        ),
        Ok(Applied::Recovered { epoch: 1 })
    );
    assert_eq!(
        apply(&mut reg, &admit("c")),
        Ok(Applied::Admitted { id: id("abc-S2") })
    );
    // An id removed, then a reregistration of a forgotten agent numbered ahead: no reuse.
    assert_eq!(
        apply(&mut reg, &Op::RemoveAgent { id: id("abc-S2") }),
        Ok(Applied::Removed)
    );
    let back = Op::MarkReachable {
        id: id("abc-S7"),
        info: record("x"),
    };
    assert_eq!(apply(&mut reg, &back), Ok(Applied::Marked));
    assert_eq!(
        apply(&mut reg, &admit("d")),
        Ok(Applied::Admitted { id: id("abc-S8") })
    );
    assert_eq!(reg.leader, "m2:5050");
}

#[test]
fn agent_lifecycle_moves_between_lists() {
    let mut reg = Registry::new_cluster("c");
    apply(&mut reg, &admit("a")).unwrap();
    let t = WallTime { unix_nanos: 5 };
    let a = id("c-S0");
    assert_eq!(
        apply(
            &mut reg,
            &Op::MarkUnreachable {
                id: a.clone(),
                at: t
            }
        ),
        Ok(Applied::Marked)
    );
    assert_eq!(reg.unreachable, [(a.clone(), t)]);
    assert!(reg.admitted.is_empty());
    assert_eq!(
        apply(
            &mut reg,
            &Op::MarkUnreachable {
                id: a.clone(),
                at: t
            }
        ),
        Ok(Applied::Unchanged)
    );
    assert_eq!(
        apply(
            &mut reg,
            &Op::MarkReachable {
                id: a.clone(),
                info: record("a")
            }
        ),
        Ok(Applied::Marked)
    );
    assert!(reg.unreachable.is_empty());
    assert_eq!(
        apply(
            &mut reg,
            &Op::MarkGone {
                id: a.clone(),
                at: t
            }
        ),
        Ok(Applied::Marked)
    );
    assert_eq!(
        apply(
            &mut reg,
            &Op::MarkReachable {
                id: a.clone(),
                info: record("a")
            }
        ),
        Err(OpError::AgentGone)
    );
    assert_eq!(
        apply(&mut reg, &Op::RemoveAgent { id: a }),
        Err(OpError::UnknownAgent)
    );
    let long = AgentRecord {
        hostname: "h".repeat(MAX_HOSTNAME_LEN + 1),
        ..record("a")
    };
    assert_eq!(
        apply(&mut reg, &Op::AdmitAgent { info: long }),
        Err(OpError::FieldTooLong("hostname"))
    );
}

#[test]
fn completions_wait_for_durability_and_readers_see_only_durable_state() {
    let mut r = Registrar::new(Registry::new_cluster("c"), 64);
    r.submit(admit("a"), 7).unwrap();
    let entry = r.poll_write().cloned().expect("an entry");
    assert_eq!(entry.index, 1);
    assert_eq!(entry.ops, [admit("a")]);
    assert_eq!(r.poll_completion(), None);
    assert!(
        r.registry().admitted.is_empty(),
        "undurable admission visible"
    );
    assert_eq!(r.registry().version, 0);
    assert!(
        r.poll_write().is_none(),
        "a second write while one is in flight"
    );
    assert_eq!(
        r.handle_write_done(2, WriteResult::Durable),
        Err(RegistrarError::NoSuchWrite { index: 2 })
    );
    r.handle_write_done(1, WriteResult::Durable).unwrap();
    let c = r.poll_completion().expect("completion after durable");
    assert_eq!(c.tag, 7);
    assert_eq!(done(&c), &Ok(Applied::Admitted { id: id("c-S0") }));
    assert_eq!(r.registry().admitted.len(), 1);
    assert_eq!(r.registry().version, 1);
}

#[test]
fn unchanged_and_refused_ops_cost_no_write() {
    let mut r = Registrar::new(Registry::new_cluster("c"), 64);
    r.submit(admit("a"), 1).unwrap();
    write_durably(&mut r);
    r.submit(
        Op::UpdateAgentInfo {
            id: id("c-S0"),
            info: record("a"),
        },
        2,
    )
    .unwrap();
    r.submit(Op::RemoveAgent { id: id("c-S9") }, 3).unwrap();
    assert!(
        r.poll_write().is_none(),
        "a batch that changes nothing is written"
    );
    let c: Vec<Completion> = core::iter::from_fn(|| r.poll_completion()).collect();
    assert_eq!(c.len(), 2);
    assert_eq!((c[0].tag, done(&c[0])), (2, &Ok(Applied::Unchanged)));
    assert_eq!((c[1].tag, done(&c[1])), (3, &Err(OpError::UnknownAgent)));
    assert_eq!(r.registry().version, 1);
}

#[test]
fn unchanged_op_in_a_written_batch_completes_with_the_batch() {
    let mut r = Registrar::new(Registry::new_cluster("c"), 64);
    r.submit(admit("a"), 1).unwrap();
    write_durably(&mut r);
    let t = WallTime { unix_nanos: 1 };
    r.submit(
        Op::MarkUnreachable {
            id: id("c-S0"),
            at: t,
        },
        2,
    )
    .unwrap();
    r.submit(
        Op::MarkUnreachable {
            id: id("c-S0"),
            at: t,
        },
        3,
    )
    .unwrap();
    let entry = r.poll_write().cloned().expect("an entry");
    assert_eq!(entry.ops.len(), 1, "the repeated mark is not written");
    assert_eq!(
        r.poll_completion(),
        None,
        "the unchanged op is released before durability"
    );
    r.handle_write_done(entry.index, WriteResult::Durable)
        .unwrap();
    let c: Vec<Completion> = core::iter::from_fn(|| r.poll_completion()).collect();
    assert_eq!(c.iter().map(|c| c.tag).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(done(&c[1]), &Ok(Applied::Unchanged));
}

#[test]
fn a_failed_write_fails_everything_and_leaves_durable_state() {
    for (result, outcome, state) in [
        (WriteResult::Failed, Outcome::Failed, RegistrarState::Failed),
        (
            WriteResult::Abandoned,
            Outcome::Abandoned,
            RegistrarState::Abandoned,
        ),
    ] {
        let mut r = Registrar::new(Registry::new_cluster("c"), 1);
        r.submit(admit("a"), 1).unwrap();
        r.submit(admit("b"), 2).unwrap();
        let index = r.poll_write().map(|e| e.index).unwrap();
        r.handle_write_done(index, result).unwrap();
        let c: Vec<Completion> = core::iter::from_fn(|| r.poll_completion()).collect();
        assert_eq!(c.iter().map(|c| c.tag).collect::<Vec<_>>(), [1, 2]);
        assert!(c.iter().all(|c| c.outcome == outcome));
        assert_eq!(r.state(), state);
        assert_eq!(r.submit(admit("c"), 3), Err(RegistrarError::Stopped));
        assert!(r.poll_write().is_none());
        assert_eq!(r.registry(), &Registry::new_cluster("c"));
    }
}

#[test]
fn ops_arriving_during_a_write_form_one_batch() {
    let mut r = Registrar::new(Registry::new_cluster("c"), 1000);
    r.submit(admit("first"), 0).unwrap();
    let first = r.poll_write().map(|e| e.index).unwrap();
    for tag in 1..=100 {
        r.submit(admit("h"), tag).unwrap();
    }
    assert!(r.poll_write().is_none());
    assert_eq!(r.queued(), 100);
    r.handle_write_done(first, WriteResult::Durable).unwrap();
    let entry = r.poll_write().cloned().expect("the next batch");
    assert_eq!((entry.index, entry.ops.len()), (2, 100));
    assert_eq!(r.queued(), 0);
    let _ = core::iter::from_fn(|| r.poll_completion()).count();
    r.handle_write_done(2, WriteResult::Durable).unwrap();
    let c: Vec<Completion> = core::iter::from_fn(|| r.poll_completion()).collect();
    assert_eq!(c.len(), 100);
    assert_eq!(done(&c[99]), &Ok(Applied::Admitted { id: id("c-S100") }));
}

#[test]
fn batches_and_the_queue_are_bounded() {
    let config = RegistrarConfig {
        max_batch: 3,
        max_queue: 5,
        snapshot_every: 2,
    };
    let mut r = Registrar::with_config(Registry::new_cluster("c"), config);
    for tag in 0..5 {
        r.submit(admit("h"), tag).unwrap();
    }
    assert_eq!(r.submit(admit("h"), 5), Err(RegistrarError::QueueFull));
    assert_eq!(r.poll_write().map(|e| e.ops.len()), Some(3));
    assert_eq!(
        r.submit(admit("h"), 5),
        Err(RegistrarError::QueueFull),
        "in flight counts"
    );
    assert!(!r.wants_snapshot());
    assert_eq!(write_durably_rest(&mut r, 1), 3);
    // Completions not yet polled count too; polling them made room.
    r.submit(admit("h"), 5).unwrap();
    assert_eq!(r.poll_write().map(|e| e.ops.len()), Some(3));
    assert!(
        !r.wants_snapshot(),
        "no snapshot while a write is in flight"
    );
    assert_eq!(write_durably_rest(&mut r, 2), 3);
    assert!(r.wants_snapshot());
    let snap = decode_snapshot(&r.snapshot_bytes().unwrap()).unwrap();
    assert_eq!(&snap, r.registry());
    r.handle_snapshot_written();
    assert!(!r.wants_snapshot());
}

fn write_durably_rest(r: &mut Registrar, index: u64) -> usize {
    r.handle_write_done(index, WriteResult::Durable).unwrap();
    core::iter::from_fn(|| r.poll_completion()).count()
}

#[test]
fn entries_replay_to_the_same_registry() {
    let mut r = Registrar::new(Registry::new_cluster("c"), 4);
    let mut rng = Rng::from_seed(3);
    let mut log = Vec::new();
    for tag in 0..200 {
        r.submit(random_op(&mut rng, "c"), tag).unwrap();
        if let Some(entry) = r.poll_write() {
            let index = entry.index;
            encode_record_into(entry, &mut log).unwrap();
            r.handle_write_done(index, WriteResult::Durable).unwrap();
        }
        while r.poll_completion().is_some() {}
    }
    let (entries, valid) = decode_records(&log).unwrap();
    assert_eq!(valid, log.len());
    let mut replayed = Registry::new_cluster("c");
    for entry in entries {
        apply_entry(&mut replayed, entry).unwrap();
    }
    assert_eq!(&replayed, r.registry());
    assert!(replayed.version > 10);
    let skipped = Entry {
        index: replayed.version + 2,
        ops: Vec::new(),
    };
    assert_eq!(
        apply_entry(&mut replayed.clone(), skipped),
        Err(ReplayError::OutOfOrder {
            expected: replayed.version + 1,
            found: replayed.version + 2
        })
    );
}

#[test]
fn torn_tails_are_told_apart_from_corruption() {
    let mut log = Vec::new();
    for index in 1..=3 {
        encode_record_into(
            &Entry {
                index,
                ops: alloc::vec![admit("a")],
            },
            &mut log,
        )
        .unwrap();
    }
    let second = log.len() / 3;
    // Torn: any strict prefix of the last record.
    for cut in [
        log.len() - 1,
        2 * second + 3,
        2 * second + RECORD_HEADER_LEN,
    ] {
        let (entries, valid) = decode_records(&log[..cut]).unwrap();
        assert_eq!((entries.len(), valid), (2, 2 * second));
    }
    // A flipped payload byte in the middle record.
    let mut bad = log.clone();
    bad[second + RECORD_HEADER_LEN + 2] ^= 0x40;
    let err = decode_records(&bad).unwrap_err();
    assert_eq!(
        err,
        LogError {
            offset: second as u64,
            problem: RecordProblem::ChecksumMismatch
        }
    );
    assert_eq!(
        format!("{err}"),
        format!("corrupt at byte {second}: checksum mismatch")
    );
    // An impossible length.
    let mut bad = log.clone();
    bad[second + 3] = 0xFF;
    assert!(matches!(
        decode_records(&bad),
        Err(LogError {
            problem: RecordProblem::BadLength(_),
            ..
        })
    ));
    // An unknown format version with a valid checksum.
    let mut payload = encode_entry(&Entry {
        index: 1,
        ops: Vec::new(),
    })
    .unwrap();
    payload[0] = 9;
    let mut rec = Vec::new();
    rec.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    rec.extend_from_slice(&crc32c(&payload).to_le_bytes());
    rec.extend_from_slice(&payload);
    assert_eq!(
        decode_records(&rec).unwrap_err().problem,
        RecordProblem::UnsupportedVersion(9)
    );
}

#[test]
fn snapshots_round_trip_and_refuse_damage() {
    let mut reg = Registry::new_cluster("c");
    apply(&mut reg, &admit("a")).unwrap();
    apply(
        &mut reg,
        &Op::MarkUnreachable {
            id: id("c-S0"),
            at: WallTime { unix_nanos: 9 },
        },
    )
    .unwrap();
    let bytes = encode_snapshot(&reg).unwrap();
    assert_eq!(decode_snapshot(&bytes), Ok(reg.clone()));
    let mut flipped = bytes.clone();
    *flipped.last_mut().unwrap() ^= 1;
    assert_eq!(
        decode_snapshot(&flipped),
        Err(SnapshotError::ChecksumMismatch)
    );
    assert!(matches!(
        decode_snapshot(&bytes[..bytes.len() - 1]),
        Err(SnapshotError::Truncated { .. })
    ));
    assert!(matches!(
        decode_snapshot(&bytes[..5]),
        Err(SnapshotError::Truncated { .. })
    ));
    assert_eq!(
        decode_snapshot(b"garbage garbage garbage"),
        Err(SnapshotError::BadMagic)
    );
    let mut v2 = bytes.clone();
    v2[8] = 2;
    assert_eq!(
        decode_snapshot(&v2),
        Err(SnapshotError::UnsupportedVersion(2))
    );
    // A registry whose counter is behind its ids is refused even with a good checksum.
    let mut behind = reg.clone();
    behind.next_agent_number = 0;
    assert_eq!(
        decode_snapshot(&encode_snapshot(&behind).unwrap()),
        Err(SnapshotError::Invalid(RegistryInvalid::AgentNumberAhead))
    );
}

#[test]
fn a_batch_is_cut_to_fit_one_record() {
    let big = AgentRecord {
        resources_text: "r".repeat(MAX_RESOURCES_TEXT_LEN),
        attributes_text: "a".repeat(MAX_ATTRIBUTES_TEXT_LEN),
        ..record("big")
    };
    let config = RegistrarConfig {
        max_batch: 4000,
        max_queue: 4000,
        snapshot_every: 100,
    };
    let mut r = Registrar::with_config(Registry::new_cluster("c"), config);
    for tag in 0..3000 {
        r.submit(Op::AdmitAgent { info: big.clone() }, tag).unwrap();
    }
    let mut sizes = Vec::new();
    while let Some(entry) = r.poll_write() {
        let index = entry.index;
        let mut rec = Vec::new();
        encode_record_into(entry, &mut rec).unwrap();
        assert!(rec.len() <= RECORD_HEADER_LEN + MAX_RECORD_BYTES);
        sizes.push(entry.ops.len());
        r.handle_write_done(index, WriteResult::Durable).unwrap();
        while r.poll_completion().is_some() {}
    }
    assert!(
        sizes.len() >= 2,
        "3000 ops of 12 KiB fit one 16 MiB record: {sizes:?}"
    );
    assert_eq!(sizes.iter().sum::<usize>(), 3000);
}

fn weight(role: &str, milli: u64) -> WeightRecord {
    WeightRecord {
        role: crate::ids::Role::from(role),
        weight_milli: milli,
    }
}

#[test]
fn update_weights_replaces_appends_and_refuses_bad_weights() {
    let mut reg = Registry::new_cluster("c");
    let set = |ws: Vec<WeightRecord>| Op::UpdateWeights { weights: ws };
    assert_eq!(
        apply(&mut reg, &set(vec![weight("a", 2000), weight("b", 500)])),
        Ok(Applied::Updated)
    );
    assert_eq!(reg.weights, vec![weight("a", 2000), weight("b", 500)]);
    // The same weights again change nothing (and so are never written).
    assert_eq!(
        apply(&mut reg, &set(vec![weight("b", 500)])),
        Ok(Applied::Unchanged)
    );
    // A role named twice: the last weight wins.
    assert_eq!(
        apply(
            &mut reg,
            &set(vec![weight("a", 100), weight("c", 1), weight("a", 3000)])
        ),
        Ok(Applied::Updated)
    );
    assert_eq!(
        reg.weights,
        vec![weight("a", 3000), weight("b", 500), weight("c", 1)]
    );
    let before = reg.clone();
    for bad in [
        weight("a", 0),
        weight("a", MAX_WEIGHT_MILLI + 1),
        weight("", 1000),
        weight("/x", 1000),
    ] {
        assert_eq!(apply(&mut reg, &set(vec![bad])), Err(OpError::BadWeight));
    }
    assert_eq!(reg, before);
    assert_eq!(reg.validate(), Ok(()));
}

#[test]
fn weights_are_bounded() {
    let mut reg = Registry::new_cluster("c");
    let many: Vec<WeightRecord> = (0..MAX_WEIGHTS)
        .map(|i| weight(&format!("r{i}"), 1500))
        .collect();
    assert_eq!(
        apply(&mut reg, &Op::UpdateWeights { weights: many }),
        Ok(Applied::Updated)
    );
    let one_more = Op::UpdateWeights {
        weights: vec![weight("r0", 10), weight("extra", 10)],
    };
    assert_eq!(apply(&mut reg, &one_more), Err(OpError::TooManyWeights));
    assert_eq!(
        reg.weights[0].weight_milli, 1500,
        "refused ops change nothing"
    );
    reg.weights.push(weight("extra", 10));
    assert_eq!(reg.validate(), Err(RegistryInvalid::BadWeights));
}

#[test]
fn update_weights_round_trips_through_the_log_and_old_ops_keep_their_encoding() {
    let entry = Entry {
        index: 1,
        ops: vec![Op::UpdateWeights {
            weights: vec![weight("dev", 2500)],
        }],
    };
    let bytes = encode_entry(&entry).unwrap();
    // [format][index 1][1 op][variant 7 = the eighth, appended last][1 weight][role "dev"][2500 varint]
    assert_eq!(
        bytes,
        vec![
            LOG_FORMAT_VERSION,
            1,
            1,
            7,
            1,
            3,
            b'd',
            b'e',
            b'v',
            0xc4,
            0x13
        ]
    );
    let decoded = decode_entry(&bytes).unwrap();
    assert_eq!(decoded, entry);
    let mut reg = Registry::new_cluster("c");
    apply_entry(&mut reg, decoded).unwrap();
    assert_eq!(reg.weights, vec![weight("dev", 2500)]);
    // A log written before UpdateWeights existed: RemoveAgent is still variant 5 and MarkGone 6.
    let old = [
        LOG_FORMAT_VERSION,
        2,
        2,
        5,
        4,
        b'c',
        b'-',
        b'S',
        b'0',
        6,
        4,
        b'c',
        b'-',
        b'S',
        b'1',
        9,
    ];
    let e = decode_entry(&old).unwrap();
    assert_eq!(
        e.ops,
        vec![
            Op::RemoveAgent { id: id("c-S0") },
            Op::MarkGone {
                id: id("c-S1"),
                at: WallTime { unix_nanos: 9 }
            }
        ]
    );
    // Weights survive a snapshot.
    let snap = encode_snapshot(&reg).unwrap();
    assert_eq!(decode_snapshot(&snap).unwrap().weights, reg.weights);
}

fn at(n: u64) -> WallTime {
    WallTime { unix_nanos: n }
}

#[test]
fn prune_drops_old_entries_then_the_oldest_beyond_the_count() {
    let mut reg = Registry::new_cluster("c");
    for host in ["a", "b", "c", "d", "e"] {
        apply(&mut reg, &admit(host)).unwrap();
    }
    for (n, t) in [(0, 10), (1, 20), (2, 30)] {
        let op = Op::MarkUnreachable {
            id: id(&format!("c-S{n}")),
            at: at(t),
        };
        assert_eq!(apply(&mut reg, &op), Ok(Applied::Marked));
    }
    for (n, t) in [(3, 5), (4, 40)] {
        let op = Op::MarkGone {
            id: id(&format!("c-S{n}")),
            at: at(t),
        };
        assert_eq!(apply(&mut reg, &op), Ok(Applied::Marked));
    }
    // Nothing is older than 5 and no list is longer than 3: unchanged, so never written.
    let noop = Op::Prune {
        older_than: at(5),
        max_count: 3,
    };
    assert_eq!(apply(&mut reg, &noop), Ok(Applied::Unchanged));
    // Older than 15 drops S0 (unreachable) and S3 (gone); a count of 1 then drops S1, the oldest left.
    let op = Op::Prune {
        older_than: at(15),
        max_count: 1,
    };
    let mut owned = reg.clone();
    assert_eq!(
        apply(&mut reg, &op),
        Ok(Applied::Pruned {
            unreachable: 2,
            gone: 1
        })
    );
    assert_eq!(reg.unreachable, vec![(id("c-S2"), at(30))]);
    assert_eq!(reg.gone, vec![(id("c-S4"), at(40))]);
    assert_eq!(
        apply_owned(&mut owned, op),
        Ok(Applied::Pruned {
            unreachable: 2,
            gone: 1
        })
    );
    assert_eq!(owned, reg);
    // A pruned agent is unknown: coming back re-admits it under its own id.
    let back = Op::MarkReachable {
        id: id("c-S0"),
        info: record("a"),
    };
    assert_eq!(apply(&mut reg, &back), Ok(Applied::Marked));
    assert!(reg.admitted_agent(&id("c-S0")).is_some());
    assert_eq!(reg.validate(), Ok(()));
}

#[test]
fn prune_is_appended_to_the_log_format() {
    let entry = Entry {
        index: 3,
        ops: vec![Op::Prune {
            older_than: at(7),
            max_count: 2,
        }],
    };
    let bytes = encode_entry(&entry).unwrap();
    // [format][index 3][1 op][variant 8 = the ninth, appended after UpdateWeights][7][2]
    assert_eq!(bytes, vec![LOG_FORMAT_VERSION, 3, 1, 8, 7, 2]);
    assert_eq!(decode_entry(&bytes).unwrap(), entry);
}

fn quota(role: &str, guarantees: &str, limits: &str) -> QuotaRecord {
    let parse = |t: &str| crate::resources::Resources::parse(t).unwrap();
    QuotaRecord {
        role: crate::ids::Role::from(role),
        guarantees: parse(guarantees),
        limits: parse(limits),
    }
}

#[test]
fn update_quota_sets_replaces_removes_and_refuses_bad_quotas() {
    let mut reg = Registry::new_cluster("c");
    let set = |qs: Vec<QuotaRecord>| Op::UpdateQuota { quotas: qs };
    assert_eq!(
        apply(
            &mut reg,
            &set(vec![
                quota("web", "cpus:2", "cpus:2"),
                quota("db", "", "mem:512")
            ])
        ),
        Ok(Applied::Updated)
    );
    assert_eq!(reg.quotas.len(), 2);
    // The same quota again changes nothing (and so is never written).
    assert_eq!(
        apply(&mut reg, &set(vec![quota("web", "cpus:2", "cpus:2")])),
        Ok(Applied::Unchanged)
    );
    // A new quota replaces the role's; the default quota removes it.
    assert_eq!(
        apply(
            &mut reg,
            &set(vec![quota("web", "cpus:1", "cpus:4"), quota("db", "", "")])
        ),
        Ok(Applied::Updated)
    );
    assert_eq!(reg.quotas, vec![quota("web", "cpus:1", "cpus:4")]);
    assert_eq!(
        apply(&mut reg, &set(vec![quota("absent", "", "")])),
        Ok(Applied::Unchanged)
    );
    let before = reg.clone();
    for bad in [
        quota("*", "cpus:1", ""),
        quota("/x", "cpus:1", ""),
        quota("web", "ports:[1-2]", ""),
        quota("web", "cpus(web):1", ""),
        quota("web", "", "cpus:1;cpus(web):1"),
    ] {
        assert_eq!(
            apply(&mut reg, &set(vec![bad.clone()])),
            Err(OpError::BadQuota),
            "{bad:?}"
        );
    }
    assert_eq!(reg, before);
    assert_eq!(reg.validate(), Ok(()));
    // Quotas survive a snapshot.
    let bytes = encode_snapshot(&reg).unwrap();
    assert_eq!(decode_snapshot(&bytes), Ok(reg.clone()));
}

#[test]
fn quotas_are_bounded() {
    let mut reg = Registry::new_cluster("c");
    let many: Vec<QuotaRecord> = (0..MAX_QUOTAS)
        .map(|i| quota(&format!("r{i}"), "cpus:1", ""))
        .collect();
    assert_eq!(
        apply(&mut reg, &Op::UpdateQuota { quotas: many }),
        Ok(Applied::Updated)
    );
    let one_more = Op::UpdateQuota {
        quotas: vec![quota("extra", "cpus:1", "")],
    };
    assert_eq!(apply(&mut reg, &one_more), Err(OpError::TooManyQuotas));
    // Removing one first makes room in the same op.
    let swap = Op::UpdateQuota {
        quotas: vec![quota("r0", "", ""), quota("extra", "cpus:1", "")],
    };
    assert_eq!(apply(&mut reg, &swap), Ok(Applied::Updated));
    reg.quotas.push(quota("extra", "cpus:2", ""));
    assert_eq!(reg.validate(), Err(RegistryInvalid::BadQuotas));
}

fn machine(host: &str, ip: &str) -> MachineId {
    MachineId::new(host, ip)
}

fn window(machines: Vec<MachineId>, start: i64) -> MaintenanceWindow {
    MaintenanceWindow {
        machines,
        unavailability: Unavailability {
            start_nanos: start,
            duration_nanos: Some(3_600_000_000_000),
        },
    }
}

/// Applies a maintenance op and returns Mesos' message for a refusal.
fn maintain(reg: &mut Registry, op: Op) -> Result<Applied, String> {
    let checked = match &op {
        Op::UpdateSchedule { windows } => check_schedule(reg, windows),
        Op::StartMaintenance { machines } => check_machines(reg, machines, MachineMode::Draining),
        Op::StopMaintenance { machines } => check_machines(reg, machines, MachineMode::Down),
        _ => Ok(()),
    };
    let message = checked.map_err(|(e, m)| e.message(m));
    let applied = apply(reg, &op);
    match (message, applied) {
        (Ok(()), Ok(a)) => Ok(a),
        (Err(m), Err(OpError::Maintenance(_))) => Err(m),
        (m, a) => panic!("the check ({m:?}) and apply ({a:?}) disagree"),
    }
}

#[test]
fn a_schedule_drains_its_machines_and_start_and_stop_maintenance_move_them() {
    let mut reg = Registry::new_cluster("c");
    let (a, b, c) = (
        machine("a", "10.0.0.1"),
        machine("b", "10.0.0.2"),
        machine("c", ""),
    );
    let schedule = vec![
        window(vec![a.clone(), b.clone()], 10),
        window(vec![c.clone()], 20),
    ];
    let op = Op::UpdateSchedule {
        windows: schedule.clone(),
    };
    assert_eq!(maintain(&mut reg, op.clone()), Ok(Applied::Updated));
    assert_eq!(maintain(&mut reg, op), Ok(Applied::Unchanged));
    assert_eq!(reg.maintenance_schedule(), schedule);
    assert_eq!(
        reg.machine_mode("A", "10.0.0.1"),
        MachineMode::Draining,
        "hostname ignores case"
    );
    assert_eq!(
        reg.machine_mode("a", "10.0.0.9"),
        MachineMode::Up,
        "both fields must match"
    );
    assert_eq!(reg.machine_mode("c", ""), MachineMode::Draining);

    let start = Op::StartMaintenance {
        machines: vec![a.clone()],
    };
    assert_eq!(maintain(&mut reg, start.clone()), Ok(Applied::Updated));
    assert_eq!(reg.machine_mode("a", "10.0.0.1"), MachineMode::Down);
    assert_eq!(
        maintain(&mut reg, start),
        Err(String::from(
            r#"Machine '{"hostname":"a","ip":"10.0.0.1"}' is not in DRAINING mode and cannot be brought down"#
        ))
    );
    // A new schedule keeps the DOWN machine DOWN and may not leave it out.
    let moved = vec![window(vec![a.clone()], 30), window(vec![b.clone()], 40)];
    assert_eq!(
        maintain(
            &mut reg,
            Op::UpdateSchedule {
                windows: vec![window(vec![b.clone()], 40)]
            }
        ),
        Err(String::from(
            r#"Machine '{"hostname":"a","ip":"10.0.0.1"}' is deactivated and cannot be removed from the schedule"#
        ))
    );
    assert_eq!(
        maintain(
            &mut reg,
            Op::UpdateSchedule {
                windows: moved.clone()
            }
        ),
        Ok(Applied::Updated)
    );
    assert_eq!(reg.machine_mode("a", "10.0.0.1"), MachineMode::Down);
    assert_eq!(
        reg.machine_mode("c", ""),
        MachineMode::Up,
        "left out: UP again"
    );
    assert_eq!(reg.maintenance_schedule(), moved);
    assert_eq!(reg.validate(), Ok(()));
    // The schedule and modes survive a snapshot.
    let bytes = encode_snapshot(&reg).unwrap();
    assert_eq!(decode_snapshot(&bytes), Ok(reg.clone()));

    assert_eq!(
        maintain(
            &mut reg,
            Op::StopMaintenance {
                machines: vec![b.clone()]
            }
        ),
        Err(String::from(
            r#"Machine '{"hostname":"b","ip":"10.0.0.2"}' is not in DOWN mode and cannot be brought up"#
        ))
    );
    assert_eq!(
        maintain(
            &mut reg,
            Op::StopMaintenance {
                machines: vec![a.clone()]
            }
        ),
        Ok(Applied::Updated)
    );
    assert_eq!(reg.machine_mode("a", "10.0.0.1"), MachineMode::Up);
    assert_eq!(
        reg.maintenance_schedule(),
        vec![window(vec![b.clone()], 40)]
    );
    assert_eq!(
        maintain(&mut reg, Op::StartMaintenance { machines: vec![a] }),
        Err(String::from(
            r#"Machine '{"hostname":"a","ip":"10.0.0.1"}' is not part of a maintenance schedule"#
        ))
    );
    // An empty schedule cancels the rest.
    assert_eq!(
        maintain(
            &mut reg,
            Op::UpdateSchedule {
                windows: Vec::new()
            }
        ),
        Ok(Applied::Updated)
    );
    assert!(reg.maintenance.is_empty());
}

#[test]
fn maintenance_input_is_checked_with_mesos_messages() {
    let mut reg = Registry::new_cluster("c");
    let a = machine("a", "10.0.0.1");
    let cases: Vec<(Op, &str)> = vec![
        (
            Op::UpdateSchedule {
                windows: vec![window(vec![], 1)],
            },
            "List of machines in the maintenance window is empty",
        ),
        (
            Op::UpdateSchedule {
                windows: vec![
                    window(vec![a.clone()], 1),
                    window(vec![machine("A", "10.0.0.1")], 2),
                ],
            },
            r#"Machine '{"hostname":"A","ip":"10.0.0.1"}' appears more than once in the schedule"#,
        ),
        (
            Op::UpdateSchedule {
                windows: vec![window(vec![machine("", "")], 1)],
            },
            "Both 'hostname' and 'ip' for a machine are empty",
        ),
        (
            Op::UpdateSchedule {
                windows: vec![window(vec![machine("h", "10.0.0")], 1)],
            },
            "Failed to parse IP address '10.0.0': not an IPv4 address",
        ),
        (
            Op::UpdateSchedule {
                windows: vec![MaintenanceWindow {
                    machines: vec![a.clone()],
                    unavailability: Unavailability {
                        start_nanos: 0,
                        duration_nanos: Some(-1),
                    },
                }],
            },
            "Unavailability 'duration' is negative",
        ),
        (
            Op::StartMaintenance {
                machines: Vec::new(),
            },
            "List of machines is empty",
        ),
        (
            Op::StopMaintenance {
                machines: vec![a.clone(), a.clone()],
            },
            r#"Machine '{"hostname":"a","ip":"10.0.0.1"}' appears more than once in the schedule"#,
        ),
    ];
    for (op, want) in cases {
        assert_eq!(
            maintain(&mut reg, op.clone()),
            Err(String::from(want)),
            "{op:?}"
        );
    }
    assert_eq!(reg, Registry::new_cluster("c"), "refusals change nothing");
    // A stored list that breaks the rules is refused on load.
    reg.maintenance.push(MachineRecord {
        id: a.clone(),
        mode: MachineMode::Up,
        window: 0,
        unavailability: Unavailability::default(),
    });
    assert_eq!(reg.validate(), Err(RegistryInvalid::BadMaintenance));
}
