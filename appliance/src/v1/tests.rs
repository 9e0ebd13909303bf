//! Tests of the v1 JSON mapping against the corrected examples of reference §6.4-§6.6 and the
//! parsing rules of §6.3.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use mesolite_core::task_state::TaskState;

use super::*;

/// Compares JSON values with all numbers as `f64`, since `15` and `15.0` are the same proto double.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Parses `input` as `T`, prints it, and checks that the output says what the input said and
/// parses back to the same value.
fn check_round_trip<T>(input: &str) -> T
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let parsed: T = from_json(input.as_bytes()).unwrap_or_else(|e| panic!("{e}: {input}"));
    let printed = to_ascii_json(&parsed);
    let expected: Value = serde_json::from_str(input).unwrap();
    let actual: Value = serde_json::from_str(&printed).unwrap();
    assert!(
        same_json(&expected, &actual),
        "round trip changed the message:\n in: {expected}\nout: {actual}"
    );
    let reparsed: T = from_json(printed.as_bytes()).unwrap();
    assert_eq!(reparsed, parsed);
    parsed
}

fn parse_err<T: DeserializeOwned + std::fmt::Debug>(input: &str) -> ParseError {
    match from_json::<T>(input.as_bytes()) {
        Ok(v) => panic!("parsed {input} as {v:?}"),
        Err(e) => e,
    }
}

#[test]
fn scheduler_subscribe_example() {
    let call: scheduler::Call = check_round_trip(
        r#"{"type": "SUBSCRIBE",
            "subscribe": {"framework_info": {"user": "foo", "name": "Example HTTP Framework",
                                             "roles": ["test"], "capabilities": [{"type": "MULTI_ROLE"}],
                                             "failover_timeout": 604800, "checkpoint": true}}}"#,
    );
    assert_eq!(call.kind, Some(scheduler::CallType::Subscribe));
    let info = call.subscribe.unwrap().framework_info;
    assert!(info.has_capability(FrameworkCapabilityType::MultiRole));
    assert_eq!(info.failover_timeout, 604800.0);
    assert!(info.checkpoint);
}

#[test]
fn scheduler_subscribed_example() {
    let event: scheduler::Event = check_round_trip(
        r#"{"type": "SUBSCRIBED",
            "subscribed": {"framework_id": {"value": "12220-3440-12532-2345"},
                           "heartbeat_interval_seconds": 15}}"#,
    );
    assert_eq!(
        to_ascii_json(&event),
        r#"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"12220-3440-12532-2345"},"heartbeat_interval_seconds":15.0}}"#
    );
}

#[test]
fn scheduler_offers_example() {
    let event: scheduler::Event = check_round_trip(
        r#"{"type": "OFFERS",
            "offers": {"offers": [{
              "id": {"value": "12214-23523-O235235"},
              "framework_id": {"value": "12124-235325-32425"},
              "agent_id": {"value": "12325-23523-S23523"},
              "hostname": "agent.host",
              "allocation_info": {"role": "engineering"},
              "resources": [{"allocation_info": {"role": "engineering"},
                             "name": "cpus", "type": "SCALAR", "scalar": {"value": 2}, "role": "*"}],
              "attributes": [{"name": "os", "type": "TEXT", "text": {"value": "ubuntu16.04"}}],
              "executor_ids": [{"value": "12214-23523-my-executor"}]}]}}"#,
    );
    let offers = event.offers.unwrap().offers;
    assert_eq!(offers[0].resources[0].kind, ValueType::Scalar);
    assert_eq!(offers[0].resources[0].scalar, Some(Scalar { value: 2.0 }));
    assert_eq!(
        offers[0].attributes[0].text.as_ref().unwrap().value,
        "ubuntu16.04"
    );
}

#[test]
fn offer_with_url_ranges_set_and_reservations() {
    check_round_trip::<Offer>(
        r#"{"id":{"value":"o"},"framework_id":{"value":"f"},"agent_id":{"value":"a"},"hostname":"h",
            "url":{"scheme":"http","address":{"hostname":"h","ip":"10.0.0.1","port":5051},"path":"/slave(1)"},
            "resources":[
              {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]}},
              {"name":"gpus_ids","type":"SET","set":{"item":["a","b"]}},
              {"name":"cpus","type":"SCALAR","scalar":{"value":1.5},"allocation_info":{"role":"eng"},
               "reservations":[{"type":"DYNAMIC","role":"eng","principal":"ops",
                                "labels":{"labels":[{"key":"k","value":"v"}]}}]},
              {"name":"disk","type":"SCALAR","scalar":{"value":64},"shared":{},
               "disk":{"persistence":{"id":"vol1","principal":"ops"},
                       "volume":{"mode":"RW","container_path":"data"},
                       "source":{"type":"MOUNT","mount":{"root":"/mnt/d0"}}}},
              {"name":"cpus","type":"SCALAR","scalar":{"value":0.5},"revocable":{},
               "provider_id":{"value":"rp1"}}]}"#,
    );
}

#[test]
fn scheduler_accept_example() {
    let call: scheduler::Call = check_round_trip(
        r#"{"framework_id": {"value": "12220-3440-12532-2345"},
            "type": "ACCEPT",
            "accept": {
              "offer_ids": [{"value": "12220-3440-12532-O12"}],
              "operations": [{
                "type": "LAUNCH",
                "launch": {"task_infos": [{
                  "name": "My Task",
                  "task_id": {"value": "12220-3440-12532-my-task"},
                  "agent_id": {"value": "12220-3440-12532-S1233"},
                  "executor": {"executor_id": {"value": "12214-23523-my-executor"},
                               "command": {"shell": true, "value": "sleep 1000"}},
                  "resources": [
                    {"allocation_info": {"role": "engineering"}, "name": "cpus", "role": "*",
                     "type": "SCALAR", "scalar": {"value": 1.0}},
                    {"allocation_info": {"role": "engineering"}, "name": "mem", "role": "*",
                     "type": "SCALAR", "scalar": {"value": 128.0}}]}]}}],
              "filters": {"refuse_seconds": 5.0}}}"#,
    );
    let accept = call.accept.unwrap();
    assert_eq!(accept.operations[0].kind, Some(OperationType::Launch));
    let task = &accept.operations[0].launch.as_ref().unwrap().task_infos[0];
    assert_eq!(task.resources.len(), 2);
}

#[test]
fn scheduler_launch_group_and_reserve_operations() {
    check_round_trip::<scheduler::Call>(
        r#"{"framework_id":{"value":"f"},"type":"ACCEPT","accept":{"offer_ids":[{"value":"o"}],
            "operations":[
              {"type":"RESERVE","reserve":{"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},
                "reservations":[{"type":"DYNAMIC","role":"eng"}]}]}},
              {"type":"LAUNCH_GROUP","id":{"value":"op1"},"launch_group":{
                "executor":{"type":"DEFAULT","executor_id":{"value":"e"},"framework_id":{"value":"f"}},
                "task_group":{"tasks":[{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"a"},
                  "command":{"shell":false,"value":"/bin/echo","arguments":["echo","hi"],
                             "environment":{"variables":[{"name":"A","type":"VALUE","value":"1"}]},
                             "uris":[{"value":"http://x/y.tgz","extract":true,"cache":true}]},
                  "container":{"type":"MESOS","mesos":{"image":{"type":"DOCKER","docker":{"name":"alpine"}}}},
                  "kill_policy":{"grace_period":{"nanoseconds":3000000000}},
                  "labels":{"labels":[{"key":"a"}]},"data":"aGk="}]}}},
              {"type":"CREATE_VOLUME","create_volume":{"source":{"name":"disk","type":"SCALAR",
                "scalar":{"value":10},"disk":{"source":{"type":"RAW","id":"v","profile":"fast"}}},
                "target_type":"MOUNT"}}],
            "filters":{"refuse_seconds":1.0}}}"#,
    );
}

#[test]
fn scheduler_update_example() {
    let event: scheduler::Event = check_round_trip(
        r#"{"type": "UPDATE",
            "update": {"status": {
              "task_id": {"value": "12344-my-task"},
              "state": "TASK_RUNNING",
              "source": "SOURCE_EXECUTOR",
              "agent_id": {"value": "12220-3440-12532-S1233"},
              "executor_id": {"value": "12214-23523-my-executor"},
              "timestamp": 1517443200.123,
              "uuid": "adfadfadbhgvjayd23r2uahj",
              "data": "uhdjfhuagdj63d7hadkf"}}}"#,
    );
    let status = event.update.unwrap().status;
    assert_eq!(status.state, TaskState::Running);
    assert_eq!(status.source, Some(StatusSource::Executor));
    assert_eq!(status.uuid.unwrap().0.len(), 18);
}

#[test]
fn scheduler_acknowledge_example() {
    // The example's uuid has 22 symbols and no padding; its last symbol carries 4 unused bits, so
    // the bytes round-trip but the text comes back padded and canonical, as from Mesos.
    let input = r#"{"framework_id": {"value": "12220-3440-12532-2345"},
                    "type": "ACKNOWLEDGE",
                    "acknowledge": {"agent_id": {"value": "12220-3440-12532-S1233"},
                                    "task_id": {"value": "12220-3440-12532-my-task"},
                                    "uuid": "jhadf73jhakdlfha723adf"}}"#;
    let call: scheduler::Call = from_json(input.as_bytes()).unwrap();
    let uuid = &call.acknowledge.as_ref().unwrap().uuid;
    assert_eq!(uuid.0.len(), 16);
    let printed = to_ascii_json(&call);
    assert!(
        printed.contains(r#""uuid":"jhadf73jhakdlfha723adQ==""#),
        "{printed}"
    );
    assert_eq!(
        from_json::<scheduler::Call>(printed.as_bytes()).unwrap(),
        call
    );
}

#[test]
fn scheduler_other_documented_shapes() {
    check_round_trip::<scheduler::Call>(
        r#"{"framework_id":{"value":"f"},"type":"DECLINE","decline":{"offer_ids":[{"value":"o1"},{"value":"o2"}],"filters":{"refuse_seconds":5.0}}}"#,
    );
    check_round_trip::<scheduler::Call>(
        r#"{"type":"KILL","kill":{"task_id":{"value":"t"},"agent_id":{"value":"a"}}}"#,
    );
    check_round_trip::<scheduler::Call>(
        r#"{"type":"RECONCILE","reconcile":{"tasks":[{"task_id":{"value":"t"},"agent_id":{"value":"a"}}]}}"#,
    );
    check_round_trip::<scheduler::Call>(r#"{"type":"REVIVE","revive":{"roles":["a","b"]}}"#);
    check_round_trip::<scheduler::Call>(r#"{"type":"SUPPRESS","suppress":{"roles":["a"]}}"#);
    check_round_trip::<scheduler::Call>(
        r#"{"type":"SHUTDOWN","shutdown":{"executor_id":{"value":"e"},"agent_id":{"value":"a"}}}"#,
    );
    check_round_trip::<scheduler::Call>(
        r#"{"type":"MESSAGE","message":{"agent_id":{"value":"a"},"executor_id":{"value":"e"},"data":"aGVsbG8="}}"#,
    );
    check_round_trip::<scheduler::Call>(
        r#"{"type":"REQUEST","request":{"requests":[{"agent_id":{"value":"a"},"resources":[{"name":"mem","type":"SCALAR","scalar":{"value":64}}]}]}}"#,
    );
    check_round_trip::<scheduler::Event>(
        r#"{"type":"RESCIND","rescind":{"offer_id":{"value":"o"}}}"#,
    );
    check_round_trip::<scheduler::Event>(
        r#"{"type":"FAILURE","failure":{"agent_id":{"value":"a"},"executor_id":{"value":"e"},"status":256}}"#,
    );
}

#[test]
fn scheduler_event_constructors_print_documented_shapes() {
    assert_eq!(
        to_ascii_json(&scheduler::Event::heartbeat()),
        r#"{"type":"HEARTBEAT"}"#
    );
    assert_eq!(
        to_ascii_json(&scheduler::Event::error("Framework is not authorized")),
        r#"{"type":"ERROR","error":{"message":"Framework is not authorized"}}"#
    );
    assert_eq!(
        to_ascii_json(&scheduler::Event::rescind(OfferId::new("o1"))),
        r#"{"type":"RESCIND","rescind":{"offer_id":{"value":"o1"}}}"#
    );
    let status = TaskStatus::new(TaskId::new("t"), TaskState::GoneByOperator);
    assert_eq!(
        to_ascii_json(&scheduler::Event::update(status)),
        r#"{"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":"TASK_GONE_BY_OPERATOR"}}}"#
    );
}

#[test]
fn master_info_in_subscribed() {
    let mut info: MasterInfo = from_json(br#"{"id":"m1","ip":16777343,"port":5050}"#).unwrap();
    assert_eq!(info.ip, MasterInfo::pack_ip(std::net::Ipv4Addr::LOCALHOST));
    info.address = Some(Address {
        hostname: Some("localhost".into()),
        ip: Some("127.0.0.1".into()),
        port: 5050,
    });
    info.capabilities.push(MasterCapability {
        kind: Some(MasterCapabilityType::AgentUpdate),
    });
    let event = scheduler::Event::subscribed(scheduler::Subscribed {
        framework_id: FrameworkId::new("f"),
        heartbeat_interval_seconds: Some(15.0),
        master_info: Some(info),
    });
    let printed = to_ascii_json(&event);
    assert_eq!(
        printed,
        r#"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"f"},"heartbeat_interval_seconds":15.0,"master_info":{"id":"m1","ip":16777343,"port":5050,"address":{"hostname":"localhost","ip":"127.0.0.1","port":5050},"capabilities":[{"type":"AGENT_UPDATE"}]}}}"#
    );
    check_round_trip::<scheduler::Event>(&printed);
}

#[test]
fn operator_health_and_version_examples() {
    let call: operator::Call = check_round_trip(r#"{"type": "GET_HEALTH"}"#);
    assert_eq!(call, operator::Call::of(operator::CallType::GetHealth));
    let health: operator::Response =
        check_round_trip(r#"{"type": "GET_HEALTH", "get_health": {"healthy": true}}"#);
    assert_eq!(health, operator::Response::health(true));
    check_round_trip::<operator::Response>(
        r#"{"type": "GET_VERSION",
            "get_version": {"version_info": {"version": "1.0.0", "build_date": "2016-06-24 23:18:37",
                                              "build_time": 1466810317, "build_user": "root"}}}"#,
    );
    for name in [
        "GET_STATE",
        "GET_AGENTS",
        "GET_FRAMEWORKS",
        "GET_TASKS",
        "GET_EXECUTORS",
        "GET_MASTER",
        "GET_VERSION",
    ] {
        let call: operator::Call = from_json(format!(r#"{{"type":"{name}"}}"#).as_bytes()).unwrap();
        assert_eq!(call.kind.map(|k| k.wire_name()), Some(name));
    }
}

#[test]
fn operator_get_state_example() {
    let response: operator::Response = check_round_trip(
        r#"{"type": "GET_STATE",
            "get_state": {
              "get_agents": {"agents": [{"active": true,
                  "agent_info": {"hostname": "myhost", "id": {"value": "628984d0-S0"}, "port": 34626,
                                 "resources": [{"name":"cpus","role":"*","type":"SCALAR","scalar":{"value":2.0}}]},
                  "pid": "slave(3)@127.0.1.1:34626",
                  "registered_time": {"nanoseconds": 1470820172046531840},
                  "total_resources": [{"name":"cpus","role":"*","type":"SCALAR","scalar":{"value":2.0}}],
                  "capabilities": [{"type":"MULTI_ROLE"}],
                  "version": "1.1.0"}],
                "recovered_agents": [{"hostname":"old","port":5051,"id":{"value":"628984d0-S9"}}]},
              "get_executors": {"executors": [{"agent_id": {"value":"628984d0-S0"},
                  "executor_info": {"executor_id":{"value":"e"},"command":{"shell":true,"value":"x"}}}]},
              "get_frameworks": {"frameworks": [{"active": true, "connected": true, "recovered": false,
                  "framework_info": {"checkpoint": false, "failover_timeout": 0.0, "hostname": "abcdev",
                                     "id": {"value": "628984d0-0000"}, "name": "default",
                                     "principal": "my-principal", "role": "*", "user": "root"},
                  "registered_time": {"nanoseconds": 1470820171393027072},
                  "reregistered_time": {"nanoseconds": 1470820171393027072}}]},
              "get_tasks": {"completed_tasks": [{"name":"t","task_id":{"value":"t"},
                  "framework_id":{"value":"628984d0-0000"},"agent_id":{"value":"628984d0-S0"},
                  "state":"TASK_FINISHED","status_update_state":"TASK_FINISHED",
                  "status_update_uuid":"AAECAwQFBgcICQoLDA0ODw==",
                  "statuses":[{"task_id":{"value":"t"},"state":"TASK_FINISHED","timestamp":1470820172.5}]}],
                "tasks": [{"name":"u","task_id":{"value":"u"},"framework_id":{"value":"628984d0-0000"},
                  "agent_id":{"value":"628984d0-S0"},"state":"TASK_RUNNING","user":"root"}]}}}"#,
    );
    let state = response.get_state.unwrap();
    let agents = state.get_agents.unwrap();
    assert_eq!(
        agents.agents[0].registered_time,
        Some(TimeInfo {
            nanoseconds: 1470820172046531840
        })
    );
    let done = &state.get_tasks.unwrap().completed_tasks[0];
    assert_eq!(done.status_update_state, Some(TaskState::Finished));
    assert_eq!(
        done.status_update_uuid.as_ref().unwrap().0,
        (0u8..16).collect::<Vec<_>>()
    );
}

#[test]
fn operator_master_and_per_query_responses() {
    check_round_trip::<operator::Response>(
        r#"{"type":"GET_MASTER","get_master":{"master_info":{"id":"m","ip":16777343,"port":5050,"version":"1.5.0"},
            "start_time":1517443200.5,"elected_time":1517443201.25}}"#,
    );
    check_round_trip::<operator::Response>(
        r#"{"type":"GET_FRAMEWORKS","get_frameworks":{"completed_frameworks":[{"active":false,"connected":false,"recovered":false,
            "framework_info":{"user":"u","name":"n","failover_timeout":0.0,"checkpoint":false},
            "unregistered_time":{"nanoseconds":5}}]}}"#,
    );
    check_round_trip::<operator::Response>(
        r#"{"type":"GET_TASKS","get_tasks":{"pending_tasks":[{"name":"p","task_id":{"value":"p"},"framework_id":{"value":"f"},
            "agent_id":{"value":"a"},"state":"TASK_STAGING"}],"unreachable_tasks":[{"name":"q","task_id":{"value":"q"},
            "framework_id":{"value":"f"},"agent_id":{"value":"a"},"state":"TASK_UNREACHABLE"}]}}"#,
    );
    assert_eq!(
        to_ascii_json(&operator::Response::agents(operator::GetAgents::default())),
        r#"{"type":"GET_AGENTS","get_agents":{}}"#
    );
}

#[test]
fn executor_calls_and_events() {
    let call: executor::Call = check_round_trip(
        r#"{"executor_id":{"value":"e"},"framework_id":{"value":"f"},"type":"SUBSCRIBE",
            "subscribe":{"unacknowledged_tasks":[{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"a"},
              "command":{"shell":true,"value":"sleep 1"}}],
            "unacknowledged_updates":[{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING",
              "source":"SOURCE_EXECUTOR","uuid":"AAECAwQFBgcICQoLDA0ODw=="}}]}}"#,
    );
    assert_eq!(call.kind, Some(executor::CallType::Subscribe));
    check_round_trip::<executor::Call>(
        r#"{"executor_id":{"value":"e"},"framework_id":{"value":"f"},"type":"UPDATE",
            "update":{"status":{"task_id":{"value":"t"},"state":"TASK_FAILED","message":"exit 1",
              "reason":"REASON_COMMAND_EXECUTOR_FAILED","healthy":false}}}"#,
    );
    check_round_trip::<executor::Call>(
        r#"{"executor_id":{"value":"e"},"framework_id":{"value":"f"},"type":"MESSAGE","message":{"data":"AA=="}}"#,
    );
    check_round_trip::<executor::Event>(
        r#"{"type":"SUBSCRIBED","subscribed":{
            "executor_info":{"type":"CUSTOM","executor_id":{"value":"e"},"command":{"shell":true,"value":"./exec"}},
            "framework_info":{"user":"u","name":"n","failover_timeout":0.0,"checkpoint":true},
            "agent_info":{"hostname":"h","port":5051,"id":{"value":"a"}},
            "container_id":{"value":"c2","parent":{"value":"c1"}}}}"#,
    );
    check_round_trip::<executor::Event>(
        r#"{"type":"LAUNCH","launch":{"task":{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"a"}}}}"#,
    );
    check_round_trip::<executor::Event>(
        r#"{"type":"LAUNCH_GROUP","launch_group":{"task_group":{"tasks":[{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"a"}}]}}}"#,
    );
    check_round_trip::<executor::Event>(
        r#"{"type":"KILL","kill":{"task_id":{"value":"t"},"kill_policy":{"grace_period":{"nanoseconds":1}}}}"#,
    );
    check_round_trip::<executor::Event>(
        r#"{"type":"ACKNOWLEDGED","acknowledged":{"task_id":{"value":"t"},"uuid":"AAECAwQFBgcICQoLDA0ODw=="}}"#,
    );
    check_round_trip::<executor::Event>(r#"{"type":"MESSAGE","message":{"data":"aGk="}}"#);
    check_round_trip::<executor::Event>(r#"{"type":"ERROR","error":{"message":"boom"}}"#);
    assert_eq!(
        to_ascii_json(&executor::Event::shutdown()),
        r#"{"type":"SHUTDOWN"}"#
    );
    assert_eq!(
        to_ascii_json(&executor::Event::heartbeat()),
        r#"{"type":"HEARTBEAT"}"#
    );
}

#[test]
fn missing_required_fields_are_named() {
    let cases: [(ParseError, &str); 6] = [
        (
            parse_err::<scheduler::Call>(
                r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"x"}}}"#,
            ),
            "user",
        ),
        (
            parse_err::<scheduler::Call>(
                r#"{"type":"ACKNOWLEDGE","acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"}}}"#,
            ),
            "uuid",
        ),
        (parse_err::<MasterInfo>(r#"{"id":"m","ip":1}"#), "port"),
        (
            parse_err::<TaskStatus>(r#"{"task_id":{"value":"t"}}"#),
            "state",
        ),
        (parse_err::<FrameworkId>(r#"{}"#), "value"),
        (
            parse_err::<executor::Call>(r#"{"framework_id":{"value":"f"},"type":"MESSAGE"}"#),
            "executor_id",
        ),
    ];
    for (err, field) in cases {
        assert_eq!(err, ParseError::MissingField(field.to_string()));
        assert_eq!(err.to_string(), format!("Missing required fields: {field}"));
    }
}

#[test]
fn unknown_fields_are_ignored() {
    let call: scheduler::Call = from_json(
        br#"{"type":"DECLINE","future_field":{"x":[1,2]},"framework_id":{"value":"f","extra":1},
            "decline":{"offer_ids":[{"value":"o"}],"whatever":"x"}}"#,
    )
    .unwrap();
    assert_eq!(call.framework_id, Some(FrameworkId::new("f")));
    assert_eq!(call.decline.unwrap().offer_ids, vec![OfferId::new("o")]);
}

#[test]
fn nulls_mean_unset() {
    let call: scheduler::Call = from_json(
        br#"{"type":"DECLINE","framework_id":null,"accept":null,
            "decline":{"offer_ids":null,"filters":{"refuse_seconds":null}}}"#,
    )
    .unwrap();
    assert_eq!(call.framework_id, None);
    assert_eq!(call.accept, None);
    let decline = call.decline.as_ref().unwrap();
    assert!(decline.offer_ids.is_empty());
    assert_eq!(
        decline.filters,
        Some(Filters {
            refuse_seconds: 5.0
        })
    );
    assert_eq!(
        to_ascii_json(&call),
        r#"{"type":"DECLINE","decline":{"filters":{"refuse_seconds":5.0}}}"#
    );
    let info: FrameworkInfo = from_json(
        br#"{"user":"u","name":"n","failover_timeout":null,"checkpoint":null,"roles":null,"capabilities":null}"#,
    )
    .unwrap();
    assert_eq!(info, FrameworkInfo::new("u", "n"));
    let cmd: CommandInfo = from_json(br#"{"shell":null,"value":"ls"}"#).unwrap();
    assert!(cmd.shell);
}

#[test]
fn unknown_enum_names() {
    // Optional enums: an unknown name leaves the field unset (MESOS-7828).
    let call: scheduler::Call = from_json(br#"{"type":"UPDATE_FRAMEWORK"}"#).unwrap();
    assert_eq!(call.kind, None);
    let info: FrameworkInfo = from_json(
        br#"{"user":"u","name":"n","capabilities":[{"type":"SOMETHING_NEW"},{"type":"PARTITION_AWARE"}]}"#,
    )
    .unwrap();
    assert_eq!(info.capabilities[0].kind, None);
    assert!(info.has_capability(FrameworkCapabilityType::PartitionAware));
    let status: TaskStatus =
        from_json(br#"{"task_id":{"value":"t"},"state":"TASK_LOST","reason":"REASON_NEW_IN_2_0"}"#)
            .unwrap();
    assert_eq!(status.reason, None);
    // Required enums: an unknown name is an error.
    let err = parse_err::<TaskStatus>(r#"{"task_id":{"value":"t"},"state":"TASK_EXPLODED"}"#);
    assert!(
        matches!(&err, ParseError::Malformed(m) if m.contains("TASK_EXPLODED")),
        "{err}"
    );
    let err = parse_err::<Resource>(r#"{"name":"cpus","type":"VECTOR"}"#);
    assert!(matches!(err, ParseError::Malformed(_)));
}

#[test]
fn numbers_as_strings_and_enums_as_numbers_are_rejected() {
    let cases = [
        parse_err::<FrameworkInfo>(r#"{"user":"u","name":"n","failover_timeout":"5"}"#),
        parse_err::<Range>(r#"{"begin":"1","end":2}"#),
        parse_err::<MasterInfo>(r#"{"id":"m","ip":1,"port":"5050"}"#),
        parse_err::<TimeInfo>(r#"{"nanoseconds":"1470820172046531840"}"#),
        parse_err::<Scalar>(r#"{"value":"1.5"}"#),
        parse_err::<TaskStatus>(r#"{"task_id":{"value":"t"},"state":1}"#),
        parse_err::<scheduler::Call>(r#"{"type":3}"#),
    ];
    for err in cases {
        assert!(
            matches!(&err, ParseError::Malformed(m) if m.contains("invalid type")),
            "{err}"
        );
    }
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    for input in [
        "",
        "{",
        "[]",
        "null",
        r#"{"type":"MESSAGE","message":{"agent_id":{"value":"a"},"executor_id":{"value":"e"},"data":"!!"}}"#,
        r#"{"subscribe":{"framework_info":[]}}"#,
    ] {
        let err = parse_err::<scheduler::Call>(input);
        assert!(matches!(err, ParseError::Malformed(_)), "{input}: {err}");
    }
}

#[test]
fn proto_defaults_are_written() {
    assert_eq!(
        to_ascii_json(&FrameworkInfo::new("u", "n")),
        r#"{"user":"u","name":"n","failover_timeout":0.0,"checkpoint":false}"#
    );
    let cmd: CommandInfo = from_json(br#"{"value":"ls","uris":[{"value":"http://x"}],
        "environment":{"variables":[{"name":"A","value":"1"},{"name":"B","type":"NEW_KIND","value":"2"}]}}"#)
    .unwrap();
    assert_eq!(
        to_ascii_json(&cmd),
        r#"{"uris":[{"value":"http://x","extract":true}],"environment":{"variables":[{"name":"A","type":"VALUE","value":"1"},{"name":"B","type":"VALUE","value":"2"}]},"shell":true,"value":"ls"}"#
    );
    let agent: AgentInfo = from_json(br#"{"hostname":"h"}"#).unwrap();
    assert_eq!(to_ascii_json(&agent), r#"{"hostname":"h","port":5051}"#);
    let filters: Filters = from_json(b"{}").unwrap();
    assert_eq!(to_ascii_json(&filters), r#"{"refuse_seconds":5.0}"#);
    // The deprecated `Resource.role` default "*" is not written.
    assert_eq!(
        to_ascii_json(&Resource::scalar("cpus", 1.5)),
        r#"{"name":"cpus","type":"SCALAR","scalar":{"value":1.5}}"#
    );
}

#[test]
fn non_ascii_is_escaped() {
    let mut info = FrameworkInfo::new("r\u{f6}ot", "Z\u{fc}rich \u{1F680}");
    info.labels = Some(Labels {
        labels: vec![Label {
            key: "\u{65e5}\u{672c}".into(),
            value: None,
        }],
    });
    let out = to_ascii_json(&info);
    assert!(out.is_ascii(), "{out}");
    assert!(
        out.contains(r#""name":"Z\u00fcrich \ud83d\ude80""#),
        "{out}"
    );
    assert!(out.contains(r#""key":"\u65e5\u672c""#), "{out}");
    assert_eq!(from_json::<FrameworkInfo>(out.as_bytes()).unwrap(), info);
}

#[test]
fn task_state_names_match_core() {
    for state in TaskState::ALL {
        let json = to_ascii_json(&TaskStatus::new(TaskId::new("t"), state));
        assert!(
            json.contains(&format!(r#""state":"{}""#, state.name())),
            "{json}"
        );
        let back: TaskStatus = from_json(json.as_bytes()).unwrap();
        assert_eq!(back.state, state);
    }
    assert_eq!(<TaskState as WireEnum>::NAMES.len(), TaskState::ALL.len());
    for name in <TaskState as WireEnum>::NAMES {
        assert!(TaskState::from_name(name).is_some(), "{name}");
    }
}

#[test]
fn ids_convert_to_and_from_core() {
    let core = mesolite_core::ids::AgentId::new("c-S1");
    let wire = AgentId::from(&core);
    assert_eq!(to_ascii_json(&wire), r#"{"value":"c-S1"}"#);
    assert_eq!(mesolite_core::ids::AgentId::from(wire), core);
}
