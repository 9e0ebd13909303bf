//! Property tests of the v1 HTTP/JSON entry points: arbitrary bytes and arbitrary JSON into the
//! scheduler, operator and executor call decoders never panic, valid calls survive a
//! serialize/parse round trip, the call conversions never panic on what parses, and the decoder
//! accepts what real clients send (explicit nulls, unknown fields, empty strings, integers
//! where doubles are expected).

mod common;

use mesolite_appliance::convert::{self, CallInputError};
use mesolite_appliance::v1::{self, from_json, to_ascii_json, WireEnum};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

// ---------------------------------------------------------------- generators

/// Arbitrary JSON, biased towards the keys and enum names of v1 calls so that generated values
/// reach deep into the decoders.
fn arb_json() -> impl Strategy<Value = Value> {
    const KEYS: &[&str] = &[
        "type",
        "value",
        "framework_id",
        "agent_id",
        "slave_id",
        "task_id",
        "executor_id",
        "subscribe",
        "framework_info",
        "user",
        "name",
        "accept",
        "decline",
        "offer_ids",
        "operations",
        "launch",
        "task_infos",
        "resources",
        "scalar",
        "filters",
        "refuse_seconds",
        "acknowledge",
        "uuid",
        "data",
        "kill",
        "reconcile",
        "tasks",
        "message",
        "roles",
        "role",
        "capabilities",
        "failover_timeout",
        "checkpoint",
        "command",
        "shell",
        "update",
        "status",
        "state",
        "get_metrics",
        "timeout",
        "nanoseconds",
        "mark_agent_gone",
        "executor",
        "container",
        "revive",
        "suppress",
        "shutdown",
    ];
    const WORDS: &[&str] = &[
        "SUBSCRIBE",
        "ACCEPT",
        "DECLINE",
        "LAUNCH",
        "LAUNCH_GROUP",
        "RESERVE",
        "KILL",
        "ACKNOWLEDGE",
        "RECONCILE",
        "MESSAGE",
        "REVIVE",
        "SUPPRESS",
        "SHUTDOWN",
        "TEARDOWN",
        "REQUEST",
        "UPDATE",
        "SCALAR",
        "RANGES",
        "SET",
        "TEXT",
        "TASK_RUNNING",
        "MULTI_ROLE",
        "GET_STATE",
        "GET_METRICS",
        "MARK_AGENT_GONE",
        "UNKNOWN",
        "cpus",
        "mem",
        "*",
        "",
        "aGk=",
        "q6urq6urq6urq6urq6urqw==",
        "../x",
        "\u{e9}\u{1F600}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (0..3i64).prop_map(Value::from),
        prop::sample::select(WORDS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<String, Value>>(),
                )
            }),
        ]
    })
}

fn bytes_of(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

// ---------------------------------------------------------------- never panic

/// Every entry point one body reaches: the three call decoders and the conversions behind them.
fn feed(body: &[u8]) {
    if let Ok(call) = from_json::<v1::scheduler::Call>(body) {
        let _ = convert::scheduler_call_from_v1(&call);
        if let Some(sub) = &call.subscribe {
            let _ = convert::framework_from_v1(&sub.framework_info);
        }
        // Whatever parses serializes to JSON that parses again (equality, which doubles can
        // miss by one ULP, is checked by the `valid_*_round_trip` properties).
        let again: Result<v1::scheduler::Call, _> = from_json(to_ascii_json(&call).as_bytes());
        assert!(again.is_ok(), "{again:?}");
    }
    if let Ok(call) = from_json::<v1::operator::Call>(body) {
        let again: Result<v1::operator::Call, _> = from_json(to_ascii_json(&call).as_bytes());
        assert!(again.is_ok(), "{again:?}");
    }
    if let Ok(call) = from_json::<v1::agent::Call>(body) {
        let _ = to_ascii_json(&call);
    }
    if let Ok(call) = from_json::<v1::executor::Call>(body) {
        if let Some(u) = &call.update {
            let _ =
                convert::status_from_v1(&u.status, mesolite_core::time::WallTime { unix_nanos: 1 });
        }
        let again: Result<v1::executor::Call, _> = from_json(to_ascii_json(&call).as_bytes());
        assert!(again.is_ok(), "{again:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        feed(&body);
    }

    #[test]
    fn arbitrary_text_never_panics(body in "\\PC{0,200}") {
        feed(body.as_bytes());
    }

    #[test]
    fn arbitrary_json_never_panics(v in arb_json()) {
        feed(&bytes_of(&v));
    }

    /// Arbitrary JSON spliced into an otherwise valid call, at the places clients fill in.
    #[test]
    fn arbitrary_json_inside_valid_calls_never_panics(v in arb_json(), slot in 0usize..8) {
        let mut call = match slot {
            0 => json!({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}),
            1 => json!({"type":"ACCEPT","framework_id":{"value":"f"},"accept":{"offer_ids":[{"value":"o"}]}}),
            2 => json!({"type":"ACCEPT","framework_id":{"value":"f"},"accept":{"offer_ids":[{"value":"o"}],
                        "operations":[{"type":"LAUNCH","launch":{"task_infos":[]}}]}}),
            3 => json!({"type":"DECLINE","framework_id":{"value":"f"},"decline":{"offer_ids":[]}}),
            4 => json!({"type":"ACKNOWLEDGE","framework_id":{"value":"f"}}),
            5 => json!({"type":"RECONCILE","framework_id":{"value":"f"},"reconcile":{}}),
            6 => json!({"executor_id":{"value":"e"},"framework_id":{"value":"f"},"type":"UPDATE"}),
            _ => json!({"type":"GET_METRICS"}),
        };
        match slot {
            0 => call["subscribe"]["framework_info"]["capabilities"] = v.clone(),
            1 => call["accept"]["operations"] = v.clone(),
            2 => {
                call["accept"]["operations"][0]["launch"]["task_infos"] = json!([v.clone()]);
            }
            3 => call["decline"]["filters"] = v.clone(),
            4 => call["acknowledge"] = v.clone(),
            5 => call["reconcile"]["tasks"] = v.clone(),
            6 => call["update"] = json!({"status": v.clone()}),
            _ => call["get_metrics"] = v.clone(),
        }
        feed(&bytes_of(&call));
        // The value also as a task, the richest nested message.
        let task = json!({"type":"ACCEPT","framework_id":{"value":"f"},"accept":{"offer_ids":[{"value":"o"}],
            "operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t","task_id":{"value":"t"},
            "agent_id":{"value":"a"},"resources":v.clone(),"command":{"value":"true"}}]}}]}});
        feed(&bytes_of(&task));
    }
}

// ---------------------------------------------------------------- valid calls round trip

/// Doubles with a short exact decimal form (quarters), which every JSON parser reads back
/// exactly; `doubles_round_trip_to_the_last_bit` covers the others.
fn arb_double(lo: i64, hi: i64) -> impl Strategy<Value = f64> {
    (lo * 4..hi * 4).prop_map(|q| q as f64 / 4.0)
}

fn arb_id() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-zA-Z0-9._-]{1,12}", "\\PC{1,8}"]
}

fn arb_resource() -> impl Strategy<Value = v1::Resource> {
    (
        prop::sample::select(&["cpus", "mem", "disk", "gpus"][..]),
        arb_double(0, 1_000_000),
        prop::option::of(arb_id()),
    )
        .prop_map(|(name, value, role)| {
            let mut r = v1::Resource::scalar(name, value);
            r.role = role;
            r
        })
}

fn arb_task() -> impl Strategy<Value = v1::TaskInfo> {
    (
        arb_id(),
        arb_id(),
        prop::collection::vec(arb_resource(), 0..3),
        prop::option::of(arb_id()),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..8)),
        any::<bool>(),
    )
        .prop_map(
            |(id, agent, resources, command, data, shell)| v1::TaskInfo {
                name: id.clone(),
                task_id: v1::TaskId::new(id),
                agent_id: v1::AgentId::new(agent),
                resources,
                executor: None,
                command: command.map(|c| {
                    let mut c = v1::CommandInfo::shell(c);
                    c.shell = shell;
                    c
                }),
                container: None,
                health_check: None,
                check: None,
                kill_policy: None,
                data: data.map(v1::Bytes),
                labels: None,
                discovery: None,
                max_completion_time: None,
            },
        )
}

fn arb_scheduler_call() -> impl Strategy<Value = v1::scheduler::Call> {
    use v1::scheduler::{Accept, Acknowledge, Call, CallType, Decline, Kill, Roles, Subscribe};
    let fid = prop::option::of(arb_id().prop_map(v1::FrameworkId::new));
    let subscribe = (
        arb_id(),
        arb_id(),
        prop::option::of(arb_id()),
        prop::collection::vec(arb_id(), 0..3),
        arb_double(0, 10_000_000),
        any::<bool>(),
    )
        .prop_map(|(user, name, role, roles, failover, checkpoint)| {
            let mut info = v1::FrameworkInfo::new(user, name);
            info.role = role;
            info.roles = roles;
            info.failover_timeout = failover;
            info.checkpoint = checkpoint;
            Call {
                kind: Some(CallType::Subscribe),
                subscribe: Some(Subscribe {
                    framework_info: info,
                    suppressed_roles: Vec::new(),
                }),
                ..Call::default()
            }
        });
    let accept = (
        prop::collection::vec(arb_id(), 0..3),
        prop::collection::vec(arb_task(), 0..3),
        prop::option::of(arb_double(-10, 1_000_000)),
    )
        .prop_map(|(offers, tasks, refuse)| Call {
            kind: Some(CallType::Accept),
            accept: Some(Accept {
                offer_ids: offers.into_iter().map(v1::OfferId::new).collect(),
                operations: vec![v1::OfferOperation {
                    kind: Some(v1::OperationType::Launch),
                    launch: Some(v1::Launch { task_infos: tasks }),
                    ..Default::default()
                }],
                filters: refuse.map(|refuse_seconds| v1::Filters { refuse_seconds }),
            }),
            ..Call::default()
        });
    let decline = (
        prop::collection::vec(arb_id(), 0..3),
        arb_double(-10, 1_000_000_000),
    )
        .prop_map(|(offers, refuse_seconds)| Call {
            kind: Some(CallType::Decline),
            decline: Some(Decline {
                offer_ids: offers.into_iter().map(v1::OfferId::new).collect(),
                filters: Some(v1::Filters { refuse_seconds }),
            }),
            ..Call::default()
        });
    let ack = (
        arb_id(),
        arb_id(),
        prop::collection::vec(any::<u8>(), 0..20),
    )
        .prop_map(|(agent, task, uuid)| Call {
            kind: Some(CallType::Acknowledge),
            acknowledge: Some(Acknowledge {
                agent_id: v1::AgentId::new(agent),
                task_id: v1::TaskId::new(task),
                uuid: v1::Bytes(uuid),
            }),
            ..Call::default()
        });
    let kill = (arb_id(), prop::option::of(arb_id())).prop_map(|(task, agent)| Call {
        kind: Some(CallType::Kill),
        kill: Some(Kill {
            task_id: v1::TaskId::new(task),
            agent_id: agent.map(v1::AgentId::new),
            kill_policy: None,
        }),
        ..Call::default()
    });
    let roles =
        (any::<bool>(), prop::collection::vec(arb_id(), 0..3)).prop_map(|(revive, roles)| Call {
            kind: Some(if revive {
                CallType::Revive
            } else {
                CallType::Suppress
            }),
            revive: revive.then(|| Roles {
                roles: roles.clone(),
            }),
            suppress: (!revive).then_some(Roles { roles }),
            ..Call::default()
        });
    let simple = prop::sample::select(
        &[
            CallType::Teardown,
            CallType::Reconcile,
            CallType::Request,
            CallType::Unknown,
        ][..],
    )
    .prop_map(|kind| Call {
        kind: Some(kind),
        ..Call::default()
    });
    (
        fid,
        prop_oneof![subscribe, accept, decline, ack, kill, roles, simple],
    )
        .prop_map(|(framework_id, mut call)| {
            call.framework_id = framework_id;
            call
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn valid_scheduler_calls_round_trip(call in arb_scheduler_call()) {
        let text = to_ascii_json(&call);
        prop_assert!(text.is_ascii());
        let back: v1::scheduler::Call = from_json(text.as_bytes()).expect("parse back");
        prop_assert_eq!(&back, &call);
        let _ = convert::scheduler_call_from_v1(&back);
        if let Some(sub) = &back.subscribe {
            let _ = convert::framework_from_v1(&sub.framework_info);
        }
    }

    #[test]
    fn valid_executor_calls_round_trip(
        eid in arb_id(),
        fid in arb_id(),
        task in arb_id(),
        uuid in prop::option::of(prop::collection::vec(any::<u8>(), 0..20)),
        timestamp in prop::option::of(arb_double(-1_000_000_000_000, 1_000_000_000_000)),
        data in prop::collection::vec(any::<u8>(), 0..16),
        kind in 0u8..3,
    ) {
        use v1::executor::{Call, CallType, Message, Subscribe, Update};
        let mut status = v1::TaskStatus::new(
            v1::TaskId::new(task),
            mesolite_core::task_state::TaskState::Running,
        );
        status.uuid = uuid.map(v1::Bytes);
        status.timestamp = timestamp;
        let mut call = Call {
            executor_id: v1::ExecutorId::new(eid),
            framework_id: v1::FrameworkId::new(fid),
            kind: None,
            subscribe: None,
            update: None,
            message: None,
        };
        match kind {
            0 => {
                call.kind = Some(CallType::Subscribe);
                call.subscribe = Some(Subscribe {
                    unacknowledged_tasks: Vec::new(),
                    unacknowledged_updates: vec![Update { status: status.clone() }],
                });
            }
            1 => {
                call.kind = Some(CallType::Update);
                call.update = Some(Update { status: status.clone() });
            }
            _ => {
                call.kind = Some(CallType::Message);
                call.message = Some(Message { data: v1::Bytes(data) });
            }
        }
        let back: v1::executor::Call = from_json(to_ascii_json(&call).as_bytes()).expect("parse back");
        prop_assert_eq!(&back, &call);
        let _ = convert::status_from_v1(&status, mesolite_core::time::WallTime { unix_nanos: 1 });
    }

    #[test]
    fn valid_operator_calls_round_trip(
        kind in prop::sample::select(v1::operator::CallType::NAMES),
        agent in prop::option::of(arb_id()),
        timeout in prop::option::of(any::<i64>()),
    ) {
        let mut call = v1::operator::Call::of(
            v1::operator::CallType::from_wire_name(kind).expect("a known name"),
        );
        call.mark_agent_gone = agent.map(|a| v1::operator::MarkAgentGone { agent_id: v1::AgentId::new(a) });
        call.get_metrics = timeout.map(|nanoseconds| v1::operator::GetMetricsCall {
            timeout: Some(v1::DurationInfo { nanoseconds }),
        });
        let back: v1::operator::Call = from_json(to_ascii_json(&call).as_bytes()).expect("parse back");
        prop_assert_eq!(back, call);
    }
}

proptest! {
    /// A double the product writes (a `timestamp`, a `refuse_seconds`, a scalar) is read back
    /// as the same double by the product's own decoder.
    #[test]
    fn doubles_round_trip_to_the_last_bit(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
        let f = v1::Filters { refuse_seconds: x };
        let back: v1::Filters = from_json(to_ascii_json(&f).as_bytes()).expect("parse back");
        prop_assert_eq!(back.refuse_seconds.to_bits(), x.to_bits());
    }
}

// ---------------------------------------------------------------- what real clients send

fn scheduler(json: &str) -> v1::scheduler::Call {
    from_json(json.as_bytes()).unwrap_or_else(|e| panic!("refused ({e}): {json}"))
}

#[test]
fn explicit_nulls_read_as_unset() {
    let c = scheduler(
        r#"{"type":"DECLINE","framework_id":{"value":"f"},"subscribe":null,
            "decline":{"offer_ids":null,"filters":{"refuse_seconds":null}}}"#,
    );
    let d = c.decline.expect("decline");
    assert!(d.offer_ids.is_empty());
    assert_eq!(d.filters.map(|f| f.refuse_seconds), Some(5.0));
    let s = scheduler(
        r#"{"type":"SUBSCRIBE","framework_id":null,"subscribe":{"framework_info":{"user":"u","name":"n",
            "id":null,"failover_timeout":null,"checkpoint":null,"role":null,"roles":null,
            "capabilities":null,"labels":null,"hostname":null}}}"#,
    );
    let info = s.subscribe.expect("subscribe").framework_info;
    assert_eq!(info.failover_timeout, 0.0);
    assert!(!info.checkpoint);
    let spec = convert::framework_from_v1(&info).expect("a valid framework");
    assert_eq!(spec.role.as_str(), "*");
    // An explicit null type is an unset type: a clear 400 reason, not a panic.
    let t = scheduler(r#"{"type":null,"framework_id":{"value":"f"}}"#);
    assert_eq!(
        convert::scheduler_call_from_v1(&t),
        Err(CallInputError::Invalid(
            "Missing required fields: type".into()
        ))
    );
    let e: v1::executor::Call = from_json(
        br#"{"executor_id":{"value":"e"},"framework_id":{"value":"f"},"type":"UPDATE",
            "update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","uuid":null,
            "source":null,"reason":null,"message":null,"data":null,"timestamp":null}}}"#,
    )
    .expect("executor update with nulls");
    assert_eq!(e.update.expect("update").status.uuid, None);
    let o: v1::operator::Call =
        from_json(br#"{"type":"GET_METRICS","get_metrics":null,"mark_agent_gone":null}"#)
            .expect("operator call with nulls");
    assert_eq!(o.get_metrics, None);
}

#[test]
fn unknown_fields_are_ignored() {
    let c = scheduler(
        r#"{"type":"KILL","framework_id":{"value":"f","extra":1},"future_field":[1,2,3],
            "kill":{"task_id":{"value":"t"},"slave_id":{"value":"s"},"agent_id":{"value":"a"}}}"#,
    );
    let k = c.kill.expect("kill");
    assert_eq!(k.agent_id.map(|a| a.value), Some("a".into()));
    // An old client that writes only `slave_id` still parses: the agent is simply unknown.
    let c = scheduler(
        r#"{"type":"KILL","framework_id":{"value":"f"},"kill":{"task_id":{"value":"t"},"slave_id":{"value":"s"}}}"#,
    );
    assert_eq!(c.kill.expect("kill").agent_id, None);
    // Unknown enum names of optional fields read as unset (MESOS-7828).
    let c = scheduler(
        r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n",
            "capabilities":[{"type":"SOME_FUTURE_CAPABILITY"},{"type":"MULTI_ROLE"}],"roles":["r"]}}}"#,
    );
    let info = c.subscribe.expect("subscribe").framework_info;
    assert_eq!(info.capabilities.len(), 2);
    assert_eq!(info.capabilities[0].kind, None);
    assert!(convert::framework_from_v1(&info).is_ok());
    let unknown_type = scheduler(r#"{"type":"UPDATE_FRAMEWORK","framework_id":{"value":"f"}}"#);
    assert_eq!(unknown_type.kind, None);
    let o: v1::operator::Call =
        from_json(br#"{"type":"GET_OPERATIONS","whatever":{}}"#).expect("unknown operator call");
    assert_eq!(o.kind, None);
}

#[test]
fn empty_strings_parse_and_are_refused_later_with_a_reason() {
    let c = scheduler(
        r#"{"type":"ACCEPT","framework_id":{"value":""},"accept":{"offer_ids":[{"value":""}],
            "operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"","task_id":{"value":""},
            "agent_id":{"value":""},"resources":[],"command":{"value":"true"}}]}}]}}"#,
    );
    match convert::scheduler_call_from_v1(&c) {
        Ok(Some(mesolite_core::master::SchedulerCall::Accept { operations, .. })) => {
            match &operations[..] {
                [mesolite_core::master::Operation::Launch(tasks)] => {
                    let why = tasks[0]
                        .invalid
                        .as_deref()
                        .expect("an empty task id is invalid");
                    assert!(why.contains("task_id"), "{why}");
                }
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
    let s = scheduler(
        r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"","name":"","role":""}}}"#,
    );
    // An empty role is invalid in Mesos; the conversion says so instead of panicking.
    let info = s.subscribe.expect("subscribe").framework_info;
    assert!(convert::framework_from_v1(&info).is_err());
    let empty_uuid = scheduler(
        r#"{"type":"ACKNOWLEDGE","framework_id":{"value":"f"},"acknowledge":{"agent_id":{"value":"a"},
            "task_id":{"value":"t"},"uuid":""}}"#,
    );
    match convert::scheduler_call_from_v1(&empty_uuid) {
        Err(CallInputError::Invalid(why)) => assert!(why.contains("uuid"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn integers_are_accepted_where_doubles_are_expected() {
    let c = scheduler(
        r#"{"type":"DECLINE","framework_id":{"value":"f"},"decline":{"offer_ids":[{"value":"o"}],
            "filters":{"refuse_seconds":5}}}"#,
    );
    assert_eq!(
        c.decline.and_then(|d| d.filters).map(|f| f.refuse_seconds),
        Some(5.0)
    );
    let c = scheduler(
        r#"{"type":"ACCEPT","framework_id":{"value":"f"},"accept":{"offer_ids":[{"value":"o"}],
            "operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t","task_id":{"value":"t"},
            "agent_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}},
            {"name":"mem","type":"SCALAR","scalar":{"value":128}}],"command":{"value":"true"}}]}}]},
            "filters":{"refuse_seconds":0}}"#,
    );
    match convert::scheduler_call_from_v1(&c) {
        Ok(Some(mesolite_core::master::SchedulerCall::Accept { operations, .. })) => {
            match &operations[..] {
                [mesolite_core::master::Operation::Launch(tasks)] => {
                    assert_eq!(tasks[0].invalid, None);
                    assert_eq!(
                        tasks[0].resources,
                        mesolite_core::resources::Resources::parse("cpus:1;mem:128").unwrap()
                    );
                }
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
    let s = scheduler(
        r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","failover_timeout":604800}}}"#,
    );
    assert_eq!(
        s.subscribe
            .expect("subscribe")
            .framework_info
            .failover_timeout,
        604800.0
    );
    let e: v1::executor::Call = from_json(
        br#"{"executor_id":{"value":"e"},"framework_id":{"value":"f"},"type":"UPDATE",
            "update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","timestamp":1517443200}}}"#,
    )
    .expect("integer timestamp");
    assert_eq!(
        e.update.expect("update").status.timestamp,
        Some(1517443200.0)
    );
}

#[test]
fn wrong_types_are_refused_not_coerced() {
    // MESOS-5995: numbers written as strings are rejected.
    for body in [
        r#"{"type":"DECLINE","framework_id":{"value":"f"},"decline":{"filters":{"refuse_seconds":"5"}}}"#,
        r#"{"type":"ACKNOWLEDGE","framework_id":{"value":"f"},"acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"!!"}}"#,
        r#"{"type":"KILL","framework_id":{"value":7},"kill":{"task_id":{"value":"t"}}}"#,
        r#"["SUBSCRIBE"]"#,
        r#""SUBSCRIBE""#,
        "",
    ] {
        assert!(
            from_json::<v1::scheduler::Call>(body.as_bytes()).is_err(),
            "accepted: {body}"
        );
    }
}

// ---------------------------------------------------------------- through a real master

/// Checks one answer to a bad or odd body: never a 500, and an error comes with a one-line reason.
fn check_answer(path: &str, body: &[u8], r: &common::HttpResponse) -> Result<(), TestCaseError> {
    let text = r.text();
    prop_assert!(
        matches!(
            r.status,
            200 | 202 | 400 | 403 | 404 | 413 | 415 | 501 | 503
        ),
        "{path} answered {} to {:?}: {text}",
        r.status,
        String::from_utf8_lossy(body)
    );
    if r.status >= 400 {
        let reason = text.strip_suffix('\n').unwrap_or(&text);
        prop_assert!(
            !reason.trim().is_empty(),
            "{path}: an empty reason for {}",
            r.status
        );
        prop_assert!(
            !reason.contains('\n'),
            "{path}: a multi-line reason {text:?}"
        );
    }
    Ok(())
}

/// Arbitrary JSON and bytes POSTed to a running master's scheduler and operator APIs: every one
/// gets an answer, and the master keeps serving afterwards.
#[test]
fn a_real_master_answers_arbitrary_bodies_and_keeps_serving() {
    let mut h = common::Harness::new("json-props");
    let port = common::free_port();
    let dir = h.path("master");
    h.start_master(port, &dir);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 150,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let bodies = prop_oneof![
        3 => arb_json().prop_map(|v| bytes_of(&v)),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ];
    let result = runner.run(&bodies, |body| {
        // A SUBSCRIBE that parses would open a stream that stays open; those are covered by the
        // scheduler API tests.
        let subscribes = from_json::<v1::scheduler::Call>(&body)
            .is_ok_and(|c| c.kind == Some(v1::scheduler::CallType::Subscribe))
            || from_json::<v1::operator::Call>(&body)
                .is_ok_and(|c| c.kind == Some(v1::operator::CallType::Subscribe));
        if subscribes {
            return Ok(());
        }
        for path in ["/api/v1/scheduler", "/api/v1"] {
            let r = common::http(
                port,
                "POST",
                path,
                &[("Content-Type", "application/json")],
                &body,
            )
            .map_err(|e| TestCaseError::fail(format!("{path}: no answer: {e}")))?;
            check_answer(path, &body, &r)?;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}\nmaster log:\n{}", h.all_logs());
    }
    let health = common::operator(port, "GET_HEALTH");
    assert_eq!(health["get_health"]["healthy"], true, "{health}");
}
