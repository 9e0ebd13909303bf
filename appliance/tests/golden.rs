//! Golden tests of every v1 event and response mesolite emits: each expected JSON is written by
//! hand from the Mesos v1 proto it cites and compared, as a JSON value, with what the product's
//! own conversion functions produce from known inputs (a live core master and agent where that
//! is practical, hand-built v1 structs elsewhere).

use mesolite_appliance::convert;
use mesolite_appliance::operator::{self, events, flags::FlagSet};
use mesolite_appliance::v1::{self, to_ascii_json};
use mesolite_core::agent::{Agent, AgentConfig, ExecutorEvent};
use mesolite_core::ids::{AgentId, ContainerId, ExecutorId, FrameworkId, OfferId, Role, TaskId};
use mesolite_core::master::{
    ConnId, FrameworkCapabilities, FrameworkSpec, Leadership, Master, MasterConfig, MasterOutput,
    OfferRecord, Operation, OperatorEvent, SchedulerCall, SchedulerEvent, StreamId, TaskLaunch,
};
use mesolite_core::registry::{Registry, WriteResult};
use mesolite_core::resources::Resources;
use mesolite_core::task_state::TaskState;
use mesolite_core::time::{Duration, Instant, WallTime};
use mesolite_core::wire::{
    self, AgentToMaster, CommandSpec, ExecutorSpec, FrameworkRecord, MasterToAgent, StatusReason,
    StatusSource, StatusUpdate, TaskSpec,
};
use serde_json::Value;

// ---------------------------------------------------------------- comparison

/// Numbers compare by value: `2.0` (a double) and `2` are the same JSON number to every client.
fn normalize(v: Value) -> Value {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, normalize(v))).collect()),
        other => other,
    }
}

fn parse(text: &str) -> Value {
    normalize(serde_json::from_str(text).unwrap_or_else(|e| panic!("bad JSON ({e}): {text}")))
}

/// Asserts that `produced` (compact ASCII JSON from the product) equals the hand-written golden.
fn assert_json(produced: &str, golden: &str) {
    assert!(produced.is_ascii(), "output must be ASCII-only: {produced}");
    let got = parse(produced);
    let want = parse(golden);
    assert!(
        got == want,
        "JSON differs from the proto golden\n  produced: {}\n  expected: {}",
        serde_json::to_string(&got).unwrap_or_default(),
        serde_json::to_string(&want).unwrap_or_default()
    );
}

fn assert_golden<T: serde::Serialize>(value: &T, golden: &str) {
    assert_json(&to_ascii_json(value), golden);
}

/// The JSON of one RecordIO record (`<length>\n<json>`), checking the length prefix.
fn record_json(record: &[u8]) -> String {
    let text = std::str::from_utf8(record).expect("records are UTF-8");
    let (len, json) = text.split_once('\n').expect("a RecordIO length line");
    assert_eq!(len.parse::<usize>().expect("a decimal length"), json.len());
    json.to_string()
}

// ---------------------------------------------------------------- a live master and agent

const T0: Instant = Instant::from_millis(0);
/// 2023-11-14T22:13:20Z, the wall time of every input.
const WALL_NANOS: u64 = 1_700_000_000_000_000_000;
const WALL: &str = "1700000000000000000";

fn wall() -> WallTime {
    WallTime {
        unix_nanos: WALL_NANOS,
    }
}

/// A leading master (`m` at 10.0.0.1:5050, cluster `c`) with one agent (`a` at 10.0.0.2:5051,
/// `cpus:2;mem:1024`, attributes `rack:r1` and `level:3`) and one framework holding one offer.
struct Cluster {
    m: Master,
    now: Instant,
    agent: AgentId,
    fw: FrameworkId,
    token: String,
    offer: OfferRecord,
}

fn pump(m: &mut Master, now: Instant) -> Vec<MasterOutput> {
    while let Some(e) = m.poll_registry_write(now, wall()) {
        m.handle_registry_written(now, wall(), e.index, WriteResult::Durable);
    }
    std::iter::from_fn(|| m.poll_output()).collect()
}

fn agent_info() -> wire::AgentInfo {
    wire::AgentInfo {
        hostname: "a".into(),
        ip: "10.0.0.2".into(),
        port: 5051,
        resources: Resources::parse("cpus:2;mem:1024").expect("resources"),
        attributes: mesolite_core::attributes::parse_attributes("rack:r1;level:3")
            .expect("attributes"),
        domain: None,
        version: "1.5.0".into(),
    }
}

fn framework_spec() -> FrameworkSpec {
    FrameworkSpec {
        id: None,
        name: "fw".into(),
        user: "u".into(),
        role: Role::from("*"),
        failover_timeout: Duration::ZERO,
        checkpoint: true,
        hostname: None,
        principal: None,
        capabilities: FrameworkCapabilities::default(),
        roles: Vec::new(),
    }
}

impl Cluster {
    fn new() -> Self {
        let cfg = MasterConfig::new("m".into(), "10.0.0.1".into(), 5050, 7);
        let mut m = Master::new(cfg, Registry::new_cluster("c"), T0, wall());
        m.handle_leadership(T0, wall(), Leadership::BecameLeader);
        pump(&mut m, T0);
        m.handle_agent_message(
            T0,
            wall(),
            ConnId(1),
            AgentToMaster::Register {
                info: agent_info(),
                checkpointed: mesolite_core::resources::Resources::new(),
            },
        );
        let agent = pump(&mut m, T0)
            .into_iter()
            .find_map(|o| match o {
                MasterOutput::ToAgent {
                    msg: MasterToAgent::Registered { id },
                    ..
                } => Some(id),
                _ => None,
            })
            .expect("agent registered");
        let sub = m
            .handle_subscribe(T0, wall(), StreamId(1), framework_spec())
            .expect("subscribed");
        pump(&mut m, T0);
        let now = T0 + Duration::from_secs(2);
        m.handle_timeout(now, wall());
        let offer = pump(&mut m, now)
            .into_iter()
            .find_map(|o| match o {
                MasterOutput::ToFramework {
                    event: SchedulerEvent::Offers(mut offers),
                    ..
                } => offers.pop(),
                _ => None,
            })
            .expect("an offer");
        Cluster {
            m,
            now,
            agent,
            fw: sub.framework_id,
            token: sub.stream_token,
            offer,
        }
    }

    /// Launches command task `t1` (`cpus:1;mem:128`) from the offer and reports it running
    /// with `uuid` 0xAB x 16.
    fn launch_running(&mut self) {
        let launch = TaskLaunch {
            task_id: TaskId::from("t1"),
            name: "t1".into(),
            agent_id: self.agent.clone(),
            resources: Resources::parse("cpus:1;mem:128").expect("resources"),
            command: Some(CommandSpec {
                shell: true,
                value: "true".into(),
                ..Default::default()
            }),
            executor: None,
            kill_grace: None,
            data: Vec::new(),
            invalid: None,
        };
        let call = SchedulerCall::Accept {
            offer_ids: vec![self.offer.id.clone()],
            operations: vec![Operation::Launch(vec![launch])],
            refuse: None,
        };
        self.m
            .handle_scheduler_call(self.now, wall(), &self.fw, Some(&self.token), call)
            .expect("accept");
        pump(&mut self.m, self.now);
        let update = StatusUpdate {
            framework_id: self.fw.clone(),
            status: running_status(&self.agent),
            latest_state: TaskState::Running,
        };
        self.m.handle_agent_message(
            self.now,
            wall(),
            ConnId(1),
            AgentToMaster::StatusUpdate(update),
        );
        pump(&mut self.m, self.now);
    }

    fn scheduler_event(&self, e: &SchedulerEvent) -> String {
        record_json(&convert::scheduler_event_record(&self.m, e))
    }
}

fn running_status(agent: &AgentId) -> wire::TaskStatus {
    wire::TaskStatus {
        task_id: TaskId::from("t1"),
        state: TaskState::Running,
        message: None,
        source: StatusSource::Executor,
        reason: None,
        agent_id: Some(agent.clone()),
        executor_id: Some(ExecutorId::from("t1")),
        timestamp: wall(),
        uuid: Some([0xAB; 16]),
        data: Vec::new(),
        unreachable_time: None,
    }
}

/// `0xAB` x 16 in padded standard Base64.
const UUID_AB: &str = "q6urq6urq6urq6urq6urqw==";

// mesos.proto: MasterInfo { required string id = 1; required uint32 ip = 2;
//   required uint32 port = 3 [default = 5050]; optional string pid = 4; optional string hostname = 5;
//   optional string version = 6; optional Address address = 7; ... }
// `ip` is 10.0.0.1 packed in network byte order and read as a little-endian uint32.
const MASTER_INFO: &str = r#"{"id":"c","ip":16777226,"port":5050,"pid":"master@10.0.0.1:5050",
  "hostname":"m","version":"1.5.0","address":{"hostname":"m","ip":"10.0.0.1","port":5050}}"#;

/// mesos.proto: Resource in the pre-reservation-refinement format (`role` "*"), and
/// `allocation_info` for resources allocated to a role.
fn scalar(name: &str, value: &str, allocated_to: Option<&str>) -> String {
    let alloc = allocated_to
        .map(|r| format!(r#","allocation_info":{{"role":"{r}"}}"#))
        .unwrap_or_default();
    format!(r#"{{"name":"{name}","type":"SCALAR","scalar":{{"value":{value}}},"role":"*"{alloc}}}"#)
}

// mesos.proto: Attribute { required string name = 1; required Value.Type type = 2;
//   optional Value.Scalar scalar = 3; ...; optional Value.Text text = 5; }
const ATTRIBUTES: &str = r#"[{"name":"rack","type":"TEXT","text":{"value":"r1"}},
  {"name":"level","type":"SCALAR","scalar":{"value":3}}]"#;

// mesos.proto: AgentInfo { required string hostname = 1; optional int32 port = 8 [default = 5051];
//   repeated Resource resources = 3; repeated Attribute attributes = 5; optional AgentID id = 6; }
fn agent_info_json(id: &str) -> String {
    format!(
        r#"{{"hostname":"a","port":5051,"resources":[{},{}],"attributes":{ATTRIBUTES},"id":{{"value":"{id}"}}}}"#,
        scalar("cpus", "2", None),
        scalar("mem", "1024", None)
    )
}

// mesos.proto: Offer { required OfferID id = 1; required FrameworkID framework_id = 2;
//   required AgentID agent_id = 3; required string hostname = 4; optional URL url = 8;
//   repeated Resource resources = 5; repeated Attribute attributes = 7;
//   optional Resource.AllocationInfo allocation_info = 10; }
// mesos.proto: URL { required string scheme = 1; required Address address = 2; optional string path = 3; }
fn offer_json(c: &Cluster) -> String {
    format!(
        r#"{{"id":{{"value":"{}"}},"framework_id":{{"value":"{}"}},"agent_id":{{"value":"{}"}},
          "hostname":"a",
          "url":{{"scheme":"http","address":{{"hostname":"a","ip":"10.0.0.2","port":5051}},"path":"/slave(1)"}},
          "resources":[{},{}],
          "attributes":{ATTRIBUTES},
          "allocation_info":{{"role":"*"}}}}"#,
        c.offer.id.as_str(),
        c.fw.as_str(),
        c.agent.as_str(),
        scalar("cpus", "2", Some("*")),
        scalar("mem", "1024", Some("*"))
    )
}

// ---------------------------------------------------------------- scheduler events

#[test]
fn live_ids_are_the_documented_ones() {
    let c = Cluster::new();
    assert_eq!(c.agent.as_str(), "c-S0");
    assert_eq!(c.offer.agent_id, c.agent);
    assert_eq!(c.offer.framework_id, c.fw);
}

// include/mesos/v1/scheduler/scheduler.proto: Event.Subscribed { required FrameworkID framework_id = 1;
//   optional double heartbeat_interval_seconds = 2; optional MasterInfo master_info = 3; }
#[test]
fn scheduler_subscribed() {
    let c = Cluster::new();
    let e = SchedulerEvent::Subscribed {
        framework_id: c.fw.clone(),
        heartbeat_interval: Duration::from_secs(15),
    };
    let golden = format!(
        r#"{{"type":"SUBSCRIBED","subscribed":{{"framework_id":{{"value":"{}"}},
             "heartbeat_interval_seconds":15.0,"master_info":{MASTER_INFO}}}}}"#,
        c.fw.as_str()
    );
    assert_json(&c.scheduler_event(&e), &golden);
}

// include/mesos/v1/scheduler/scheduler.proto: Event.Offers { repeated Offer offers = 1; }
// (the offers sit one level down: `offers.offers`).
#[test]
fn scheduler_offers() {
    let c = Cluster::new();
    let e = SchedulerEvent::Offers(vec![c.offer.clone()]);
    let golden = format!(
        r#"{{"type":"OFFERS","offers":{{"offers":[{}]}}}}"#,
        offer_json(&c)
    );
    assert_json(&c.scheduler_event(&e), &golden);
}

// include/mesos/v1/scheduler/scheduler.proto: Event.Rescind { required OfferID offer_id = 1; }
#[test]
fn scheduler_rescind() {
    let c = Cluster::new();
    let e = SchedulerEvent::Rescind(OfferId::from("c-1-O9"));
    assert_json(
        &c.scheduler_event(&e),
        r#"{"type":"RESCIND","rescind":{"offer_id":{"value":"c-1-O9"}}}"#,
    );
}

// include/mesos/v1/scheduler/scheduler.proto: Event.Update { required TaskStatus status = 1; }
// mesos.proto: TaskStatus { required TaskID task_id = 1; required TaskState state = 2;
//   optional string message = 4; optional Source source = 9; optional Reason reason = 10;
//   optional bytes data = 3; optional AgentID agent_id = 5; optional ExecutorID executor_id = 7;
//   optional double timestamp = 6; optional bytes uuid = 11; ... }
#[test]
fn scheduler_update_from_an_executor() {
    let c = Cluster::new();
    let mut status = running_status(&c.agent);
    status.message = Some("up".into());
    status.timestamp = WallTime {
        unix_nanos: WALL_NANOS + 500_000_000,
    };
    status.data = b"hi".to_vec();
    let golden = format!(
        r#"{{"type":"UPDATE","update":{{"status":{{"task_id":{{"value":"t1"}},"state":"TASK_RUNNING",
             "message":"up","source":"SOURCE_EXECUTOR","data":"aGk=","agent_id":{{"value":"c-S0"}},
             "executor_id":{{"value":"t1"}},"timestamp":1700000000.5,"uuid":"{UUID_AB}"}}}}}}"#
    );
    assert_json(&c.scheduler_event(&SchedulerEvent::Update(status)), &golden);
}

// mesos.proto: TaskStatus.Source SOURCE_MASTER, TaskStatus.Reason REASON_TASK_INVALID; a master
// generated update carries no `uuid` (it needs no acknowledgement) and unset `data` is omitted.
#[test]
fn scheduler_update_from_the_master() {
    let c = Cluster::new();
    let status = wire::TaskStatus {
        task_id: TaskId::from("t2"),
        state: TaskState::Error,
        message: Some("task 't2': command.uris (the fetcher) is not supported".into()),
        source: StatusSource::Master,
        reason: Some(StatusReason::TaskInvalid),
        agent_id: Some(c.agent.clone()),
        executor_id: None,
        timestamp: wall(),
        uuid: None,
        data: Vec::new(),
        unreachable_time: None,
    };
    let golden = r#"{"type":"UPDATE","update":{"status":{"task_id":{"value":"t2"},"state":"TASK_ERROR",
        "message":"task 't2': command.uris (the fetcher) is not supported","source":"SOURCE_MASTER",
        "reason":"REASON_TASK_INVALID","agent_id":{"value":"c-S0"},"timestamp":1700000000.0}}}"#;
    assert_json(&c.scheduler_event(&SchedulerEvent::Update(status)), golden);
}

// mesos.proto: TaskStatus { optional TimeInfo unreachable_time = 14; } with TaskState TASK_UNREACHABLE.
#[test]
fn scheduler_update_unreachable_carries_unreachable_time() {
    let c = Cluster::new();
    let mut status = running_status(&c.agent);
    status.state = TaskState::Unreachable;
    status.source = StatusSource::Master;
    status.reason = Some(StatusReason::Reconciliation);
    status.uuid = None;
    status.executor_id = None;
    status.unreachable_time = Some(wall());
    let golden = format!(
        r#"{{"type":"UPDATE","update":{{"status":{{"task_id":{{"value":"t1"}},"state":"TASK_UNREACHABLE",
             "source":"SOURCE_MASTER","reason":"REASON_RECONCILIATION","agent_id":{{"value":"c-S0"}},
             "timestamp":1700000000.0,"unreachable_time":{{"nanoseconds":{WALL}}}}}}}}}"#
    );
    assert_json(&c.scheduler_event(&SchedulerEvent::Update(status)), &golden);
}

// include/mesos/v1/scheduler/scheduler.proto: Event.Message { required AgentID agent_id = 1;
//   required ExecutorID executor_id = 2; required bytes data = 3; }
#[test]
fn scheduler_message() {
    let c = Cluster::new();
    let e = SchedulerEvent::Message {
        agent_id: c.agent.clone(),
        executor_id: ExecutorId::from("e1"),
        data: vec![0, 1, 2, 255],
    };
    assert_json(
        &c.scheduler_event(&e),
        r#"{"type":"MESSAGE","message":{"agent_id":{"value":"c-S0"},"executor_id":{"value":"e1"},"data":"AAEC/w=="}}"#,
    );
}

// include/mesos/v1/scheduler/scheduler.proto: Event.Failure { optional AgentID agent_id = 1;
//   optional ExecutorID executor_id = 2; optional int32 status = 3; }
#[test]
fn scheduler_failure_of_an_agent_and_of_an_executor() {
    let c = Cluster::new();
    let agent_gone = SchedulerEvent::Failure {
        agent_id: c.agent.clone(),
        executor_id: None,
        status: None,
    };
    assert_json(
        &c.scheduler_event(&agent_gone),
        r#"{"type":"FAILURE","failure":{"agent_id":{"value":"c-S0"}}}"#,
    );
    let executor_gone = SchedulerEvent::Failure {
        agent_id: c.agent.clone(),
        executor_id: Some(ExecutorId::from("e1")),
        status: Some(256),
    };
    assert_json(
        &c.scheduler_event(&executor_gone),
        r#"{"type":"FAILURE","failure":{"agent_id":{"value":"c-S0"},"executor_id":{"value":"e1"},"status":256}}"#,
    );
}

// include/mesos/v1/scheduler/scheduler.proto: Event.Error { required string message = 1; }
// (inside `error`, not at the top level as the 1.5 docs show). Non-ASCII is escaped.
#[test]
fn scheduler_error_and_heartbeat() {
    let c = Cluster::new();
    let text = c.scheduler_event(&SchedulerEvent::Error("Framework r\u{e9}moved".into()));
    assert!(text.contains(r"r\u00e9moved"), "{text}");
    assert_json(
        &text,
        r#"{"type":"ERROR","error":{"message":"Framework r\u00e9moved"}}"#,
    );
    // scheduler.proto: Event.Type HEARTBEAT = 8, no payload.
    assert_json(
        &c.scheduler_event(&SchedulerEvent::Heartbeat),
        r#"{"type":"HEARTBEAT"}"#,
    );
}

// ---------------------------------------------------------------- executor events

fn registered_agent() -> Agent {
    let mut a = Agent::new(AgentConfig::new(agent_info(), 3), T0);
    a.handle_master_message(
        T0,
        wall(),
        MasterToAgent::Registered {
            id: AgentId::from("c-S0"),
        },
    );
    a
}

fn framework_record() -> FrameworkRecord {
    FrameworkRecord {
        id: FrameworkId::from("c-0001-0000"),
        name: "fw".into(),
        user: "u".into(),
        checkpoint: true,
        role: Role::from("*"),
    }
}

fn executor_event(a: &Agent, e: &ExecutorEvent) -> String {
    record_json(&convert::executor_event_record(a, e))
}

/// SUBSCRIBED for a framework's custom executor (`custom`) or a generated one.
fn subscribed_event_for(custom: bool) -> ExecutorEvent {
    ExecutorEvent::Subscribed {
        framework: framework_record(),
        executor: Box::new(ExecutorSpec {
            executor_id: ExecutorId::from("e1"),
            name: if custom {
                "my executor".into()
            } else {
                String::new()
            },
            command: custom.then(|| CommandSpec {
                shell: true,
                value: "./my-executor".into(),
                ..Default::default()
            }),
            resources: if custom {
                Resources::parse("cpus:0.1").expect("resources")
            } else {
                Resources::new()
            },
            data: custom.then(|| b"cfg".to_vec()),
        }),
        agent_id: Some(AgentId::from("c-S0")),
        container_id: ContainerId::from("ct1"),
    }
}

fn subscribed_event() -> ExecutorEvent {
    subscribed_event_for(false)
}

// include/mesos/v1/executor/executor.proto: Event.Subscribed { required ExecutorInfo executor_info = 1;
//   required FrameworkInfo framework_info = 2; required AgentInfo agent_info = 3;
//   optional ContainerID container_id = 4; }
// mesos.proto: FrameworkInfo { required string user = 1; required string name = 2; optional FrameworkID id = 3;
//   optional double failover_timeout = 4 [default = 0.0]; optional bool checkpoint = 5 [default = false]; }
// The `executor_info.type` is checked by `executor_subscribed_custom_executor_type` below.
#[test]
fn executor_subscribed() {
    let a = registered_agent();
    let mut got = parse(&executor_event(&a, &subscribed_event()));
    let info = got["subscribed"]["executor_info"]
        .as_object_mut()
        .expect("executor_info")
        .remove("type");
    assert!(info.is_some(), "executor_info.type is set");
    let golden = format!(
        r#"{{"type":"SUBSCRIBED","subscribed":{{
             "executor_info":{{"executor_id":{{"value":"e1"}},"framework_id":{{"value":"c-0001-0000"}}}},
             "framework_info":{{"user":"u","name":"fw","id":{{"value":"c-0001-0000"}},
                                "failover_timeout":0.0,"checkpoint":true}},
             "agent_info":{},
             "container_id":{{"value":"ct1"}}}}}}"#,
        agent_info_json("c-S0")
    );
    assert_eq!(got, parse(&golden));
}

// mesos.proto: ExecutorInfo.Type: DEFAULT is Mesos' default executor, whose `command` must be
// unset; an executor with a `command` (every custom executor) is CUSTOM (master validation
// `executor::internal::validateType`, and type inference for LAUNCH when unset).
#[test]
fn executor_subscribed_custom_executor_type() {
    let a = registered_agent();
    let got = parse(&executor_event(&a, &subscribed_event_for(true)));
    let info = &got["subscribed"]["executor_info"];
    assert_eq!(info["type"], "CUSTOM", "{got}");
    assert_eq!(info["command"]["value"], "./my-executor", "{got}");
    assert_eq!(info["name"], "my executor", "{got}");
    assert_eq!(info["resources"][0]["name"], "cpus", "{got}");
    // mesos.proto: ExecutorInfo { optional bytes data = 4; } (base64 in JSON)
    assert_eq!(info["data"], "Y2Zn", "{got}");
    let generated = parse(&executor_event(&a, &subscribed_event_for(false)));
    assert_eq!(
        generated["subscribed"]["executor_info"]["type"], "DEFAULT",
        "{generated}"
    );
    assert!(generated["subscribed"]["executor_info"]
        .get("command")
        .is_none());
}

// include/mesos/v1/executor/executor.proto: Event.Launch { required TaskInfo task = 1; }
// mesos.proto: TaskInfo { required string name = 1; required TaskID task_id = 2; required AgentID agent_id = 3;
//   repeated Resource resources = 4; optional CommandInfo command = 5; optional KillPolicy kill_policy = 12;
//   optional bytes data = 6; }  CommandInfo { optional bool shell = 6 [default = true]; optional string value = 3; }
#[test]
fn executor_launch() {
    let a = registered_agent();
    let task = TaskSpec {
        task_id: TaskId::from("t1"),
        name: "t1".into(),
        resources: Resources::parse("cpus:1;mem:128").expect("resources"),
        executor: ExecutorSpec {
            executor_id: ExecutorId::from("t1"),
            name: String::new(),
            command: None,
            resources: Resources::new(),
            data: None,
        },
        command: Some(CommandSpec {
            shell: true,
            value: "true".into(),
            ..Default::default()
        }),
        kill_grace: Some(Duration::from_secs(3)),
        data: b"x".to_vec(),
        role: None,
    };
    let golden = format!(
        r#"{{"type":"LAUNCH","launch":{{"task":{{"name":"t1","task_id":{{"value":"t1"}},
             "agent_id":{{"value":"c-S0"}},"resources":[{},{}],
             "command":{{"shell":true,"value":"true"}},
             "kill_policy":{{"grace_period":{{"nanoseconds":3000000000}}}},"data":"eA=="}}}}}}"#,
        scalar("cpus", "1", None),
        scalar("mem", "128", None)
    );
    assert_json(
        &executor_event(&a, &ExecutorEvent::Launch(Box::new(task))),
        &golden,
    );
}

// CommandInfo { optional bool shell = 6 [default = true]; repeated string arguments = 7;
//   optional Environment environment = 2; }  Environment.Variable { required string name = 1;
//   optional Type type = 3 [default = VALUE]; optional string value = 2; }
#[test]
fn command_info_writes_its_defaults() {
    let c = CommandSpec {
        shell: false,
        value: "/bin/echo".into(),
        arguments: vec!["echo".into(), "hi".into()],
        environment: vec![("K".into(), "V".into())],
        user: None,
    };
    assert_golden(
        &convert::command_to_v1(&c),
        r#"{"environment":{"variables":[{"name":"K","type":"VALUE","value":"V"}]},"shell":false,
            "value":"/bin/echo","arguments":["echo","hi"]}"#,
    );
}

// executor.proto: Event.Kill { required TaskID task_id = 1; optional KillPolicy kill_policy = 2; }
// Event.Acknowledged { required TaskID task_id = 1; required bytes uuid = 2; }
// Event.Message { required bytes data = 1; }  SHUTDOWN has no payload.
#[test]
fn executor_kill_acknowledged_message_shutdown() {
    let a = registered_agent();
    let kill = ExecutorEvent::Kill {
        task_id: TaskId::from("t1"),
        grace: Some(Duration::from_millis(1500)),
    };
    assert_json(
        &executor_event(&a, &kill),
        r#"{"type":"KILL","kill":{"task_id":{"value":"t1"},"kill_policy":{"grace_period":{"nanoseconds":1500000000}}}}"#,
    );
    let kill_plain = ExecutorEvent::Kill {
        task_id: TaskId::from("t1"),
        grace: None,
    };
    assert_json(
        &executor_event(&a, &kill_plain),
        r#"{"type":"KILL","kill":{"task_id":{"value":"t1"}}}"#,
    );
    let ack = ExecutorEvent::Acknowledged {
        task_id: TaskId::from("t1"),
        uuid: [0xAB; 16],
    };
    assert_json(
        &executor_event(&a, &ack),
        &format!(
            r#"{{"type":"ACKNOWLEDGED","acknowledged":{{"task_id":{{"value":"t1"}},"uuid":"{UUID_AB}"}}}}"#
        ),
    );
    assert_json(
        &executor_event(&a, &ExecutorEvent::Message(vec![0, 1, 2, 255])),
        r#"{"type":"MESSAGE","message":{"data":"AAEC/w=="}}"#,
    );
    assert_json(
        &executor_event(&a, &ExecutorEvent::Shutdown),
        r#"{"type":"SHUTDOWN"}"#,
    );
}

// executor.proto: Event.Error { required string message = 1; }, HEARTBEAT without payload,
// Event.LaunchGroup { required TaskGroupInfo task_group = 1; } (TaskGroupInfo { repeated TaskInfo tasks = 1; }).
#[test]
fn executor_error_heartbeat_launch_group() {
    use v1::executor::Event;
    assert_golden(
        &Event::error("bad"),
        r#"{"type":"ERROR","error":{"message":"bad"}}"#,
    );
    assert_golden(&Event::heartbeat(), r#"{"type":"HEARTBEAT"}"#);
    let task = v1::TaskInfo {
        name: "g".into(),
        task_id: v1::TaskId::new("g1"),
        agent_id: v1::AgentId::new("c-S0"),
        resources: Vec::new(),
        executor: None,
        command: Some(v1::CommandInfo::shell("true")),
        container: None,
        health_check: None,
        check: None,
        kill_policy: None,
        data: None,
        labels: None,
        discovery: None,
        max_completion_time: None,
    };
    assert_golden(
        &Event::launch_group(v1::TaskGroupInfo { tasks: vec![task] }),
        r#"{"type":"LAUNCH_GROUP","launch_group":{"task_group":{"tasks":[{"name":"g","task_id":{"value":"g1"},
            "agent_id":{"value":"c-S0"},"command":{"shell":true,"value":"true"}}]}}}"#,
    );
}

// ---------------------------------------------------------------- master operator responses

// include/mesos/v1/master/master.proto: Response.GetHealth { required bool healthy = 1; }
// Response.GetLoggingLevel { required uint32 level = 1; }
#[test]
fn operator_health_and_logging_level() {
    use v1::operator::Response;
    assert_golden(
        &Response::health(true),
        r#"{"type":"GET_HEALTH","get_health":{"healthy":true}}"#,
    );
    assert_golden(
        &Response::logging_level(0),
        r#"{"type":"GET_LOGGING_LEVEL","get_logging_level":{"level":0}}"#,
    );
}

// master.proto: Response.GetFlags { repeated Flag flags = 1; }
// mesos.proto: Flag { required string name = 1; optional string value = 2; }
#[test]
fn operator_flags() {
    let mut flags = FlagSet::new();
    flags.set("work_dir", "/var/lib/mesolite");
    flags.set("port", "5050");
    assert_golden(
        &v1::operator::Response::flags(flags.to_v1()),
        r#"{"type":"GET_FLAGS","get_flags":{"flags":[{"name":"port","value":"5050"},
            {"name":"work_dir","value":"/var/lib/mesolite"}]}}"#,
    );
}

// master.proto: Response.GetVersion { required VersionInfo version_info = 1; }
// mesos.proto: VersionInfo { required string version = 1; optional string build_date = 2;
//   optional double build_time = 3; optional string build_user = 4; optional string git_sha = 5;
//   optional string git_branch = 6; optional string git_tag = 7; }
#[test]
fn operator_version() {
    let info = operator::version::version_info();
    let got = parse(&to_ascii_json(&v1::operator::Response::version(info)));
    assert_eq!(got["type"], "GET_VERSION");
    let vi = got["get_version"]["version_info"]
        .as_object()
        .expect("version_info");
    assert_eq!(vi["version"], "1.5.0");
    for (k, v) in vi {
        let ok = match k.as_str() {
            "version" | "build_date" | "build_user" | "git_sha" | "git_branch" | "git_tag" => {
                v.is_string()
            }
            "build_time" => v.is_number(),
            _ => false,
        };
        assert!(
            ok,
            "VersionInfo.{k} = {v} is not a proto field of that type"
        );
    }
    // Hand-built, every field set.
    let full = v1::operator::VersionInfo {
        version: "1.5.0".into(),
        build_date: Some("2016-06-24 23:18:37".into()),
        build_time: Some(1_466_810_317.0),
        build_user: Some("root".into()),
        git_sha: Some("abc".into()),
        git_branch: Some("main".into()),
        git_tag: Some("mesolite-0.1.0".into()),
    };
    assert_golden(
        &v1::operator::Response::version(full),
        r#"{"type":"GET_VERSION","get_version":{"version_info":{"version":"1.5.0",
            "build_date":"2016-06-24 23:18:37","build_time":1466810317,"build_user":"root",
            "git_sha":"abc","git_branch":"main","git_tag":"mesolite-0.1.0"}}}"#,
    );
}

// master.proto: Response.GetMetrics { repeated Metric metrics = 1; }
// mesos.proto: Metric { required string name = 1; optional double value = 2; }
#[test]
fn operator_metrics() {
    let c = Cluster::new();
    let metrics = operator::metrics::master(&c.m, wall()).to_v1();
    let got = parse(&to_ascii_json(&v1::operator::Response::metrics(metrics)));
    assert_eq!(got["type"], "GET_METRICS");
    let list = got["get_metrics"]["metrics"].as_array().expect("metrics");
    for m in list {
        let o = m.as_object().expect("a Metric");
        assert!(o["name"].is_string() && o["value"].is_number(), "{m}");
        assert_eq!(o.len(), 2, "{m}");
    }
    let value = |name: &str| {
        list.iter()
            .find(|m| m["name"] == name)
            .map(|m| m["value"].clone())
            .unwrap_or_else(|| panic!("metric {name} missing"))
    };
    assert_eq!(value("master/slaves_active"), Value::from(1));
    assert_eq!(value("master/cpus_total"), Value::from(2));
    assert_eq!(value("master/tasks_running"), Value::from(0));
}

// master.proto: Response.GetMaster { optional MasterInfo master_info = 1; optional double start_time = 2;
//   optional double elected_time = 3; }
#[test]
fn operator_get_master() {
    let c = Cluster::new();
    let resp = v1::operator::Response::master(v1::operator::GetMaster {
        master_info: Some(convert::master_info(&c.m)),
        start_time: Some(c.m.start_time().as_secs_f64()),
        elected_time: c.m.elected_time().map(|t| t.as_secs_f64()),
    });
    assert_golden(
        &resp,
        &format!(
            r#"{{"type":"GET_MASTER","get_master":{{"master_info":{MASTER_INFO},
                 "start_time":1700000000.0,"elected_time":1700000000.0}}}}"#
        ),
    );
}

// master.proto: Response.GetAgents.Agent { required AgentInfo agent_info = 1; required bool active = 2;
//   required string version = 3; optional string pid = 4; optional TimeInfo registered_time = 5;
//   repeated Resource total_resources = 7; repeated Resource allocated_resources = 8;
//   repeated Resource offered_resources = 9; }
fn agent_json(c: &Cluster, allocated: &[String], offered: &[String]) -> String {
    let list = |items: &[String], key: &str| {
        if items.is_empty() {
            String::new()
        } else {
            format!(r#","{key}":[{}]"#, items.join(","))
        }
    };
    format!(
        r#"{{"agent_info":{},"active":true,"version":"1.5.0","pid":"slave(1)@10.0.0.2:5051",
             "registered_time":{{"nanoseconds":{WALL}}},
             "total_resources":[{},{}]{}{}}}"#,
        agent_info_json(c.agent.as_str()),
        scalar("cpus", "2", None),
        scalar("mem", "1024", None),
        list(allocated, "allocated_resources"),
        list(offered, "offered_resources"),
    )
}

// master.proto: Response.GetAgents { repeated Agent agents = 1; repeated AgentInfo recovered_agents = 2; }
#[test]
fn operator_get_agents() {
    let c = Cluster::new();
    let offered = [scalar("cpus", "2", None), scalar("mem", "1024", None)];
    let golden = format!(
        r#"{{"type":"GET_AGENTS","get_agents":{{"agents":[{}]}}}}"#,
        agent_json(&c, &[], &offered)
    );
    assert_golden(
        &v1::operator::Response::agents(operator::master::get_agents(&c.m)),
        &golden,
    );
}

// master.proto: Response.GetFrameworks.Framework { required FrameworkInfo framework_info = 1;
//   required bool active = 2; required bool connected = 3; required bool recovered = 11;
//   optional TimeInfo registered_time = 4; repeated Offer offers = 7;
//   repeated Resource allocated_resources = 9; repeated Resource offered_resources = 10; }
fn framework_json(c: &Cluster, offers: bool, allocated: &[String]) -> String {
    let offers_part = if offers {
        format!(
            r#","offers":[{}],"offered_resources":[{},{}]"#,
            offer_json(c),
            scalar("cpus", "2", Some("*")),
            scalar("mem", "1024", Some("*"))
        )
    } else {
        String::new()
    };
    let allocated_part = if allocated.is_empty() {
        String::new()
    } else {
        format!(r#","allocated_resources":[{}]"#, allocated.join(","))
    };
    format!(
        r#"{{"framework_info":{{"user":"u","name":"fw","id":{{"value":"{}"}},"failover_timeout":0.0,
             "checkpoint":true,"role":"*"}},
           "active":true,"connected":true,"recovered":false,
           "registered_time":{{"nanoseconds":{WALL}}}{offers_part}{allocated_part}}}"#,
        c.fw.as_str()
    )
}

// master.proto: Response.GetFrameworks { repeated Framework frameworks = 1;
//   repeated Framework completed_frameworks = 2; }
#[test]
fn operator_get_frameworks() {
    let c = Cluster::new();
    let golden = format!(
        r#"{{"type":"GET_FRAMEWORKS","get_frameworks":{{"frameworks":[{}]}}}}"#,
        framework_json(&c, true, &[])
    );
    assert_golden(
        &v1::operator::Response::frameworks(operator::master::get_frameworks(&c.m)),
        &golden,
    );
}

// mesos.proto: FrameworkInfo { optional string role = 6 [default = "*", deprecated = true];
//   repeated string roles = 12; repeated Capability capabilities = 10; } A MULTI_ROLE framework's
// info carries `roles` and its capabilities and must not carry `role` (master validation).
#[test]
fn operator_framework_info_of_a_multi_role_framework() {
    let spec = FrameworkSpec {
        role: Role::from("web"),
        capabilities: FrameworkCapabilities {
            multi_role: true,
            partition_aware: true,
            ..FrameworkCapabilities::default()
        },
        roles: vec![Role::from("web")],
        ..framework_spec()
    };
    let info = operator::master::framework_info_to_v1(&FrameworkId::from("f1"), &spec);
    assert_golden(
        &info,
        r#"{"user":"u","name":"fw","id":{"value":"f1"},"failover_timeout":0.0,"checkpoint":true,
            "roles":["web"],"capabilities":[{"type":"MULTI_ROLE"},{"type":"PARTITION_AWARE"}]}"#,
    );
}

// mesos.proto: Task { required string name = 1; required TaskID task_id = 2; required FrameworkID framework_id = 3;
//   optional ExecutorID executor_id = 4; required AgentID agent_id = 5; required TaskState state = 6;
//   repeated Resource resources = 7; repeated TaskStatus statuses = 8;
//   optional TaskState status_update_state = 9; optional bytes status_update_uuid = 10; }
// A command task has no `executor_id`.
fn running_task_json(c: &Cluster) -> String {
    format!(
        r#"{{"name":"t1","task_id":{{"value":"t1"}},"framework_id":{{"value":"{fw}"}},
             "agent_id":{{"value":"c-S0"}},"state":"TASK_RUNNING","resources":[{},{}],
             "statuses":[{{"task_id":{{"value":"t1"}},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR",
                           "agent_id":{{"value":"c-S0"}},"executor_id":{{"value":"t1"}},
                           "timestamp":1700000000.0,"uuid":"{UUID_AB}"}}],
             "status_update_state":"TASK_RUNNING","status_update_uuid":"{UUID_AB}"}}"#,
        scalar("cpus", "1", None),
        scalar("mem", "128", None),
        fw = c.fw.as_str()
    )
}

// master.proto: Response.GetTasks { repeated Task pending_tasks = 1; repeated Task tasks = 2;
//   repeated Task unreachable_tasks = 5; repeated Task completed_tasks = 3; }
#[test]
fn operator_get_tasks() {
    let mut c = Cluster::new();
    c.launch_running();
    let golden = format!(
        r#"{{"type":"GET_TASKS","get_tasks":{{"tasks":[{}]}}}}"#,
        running_task_json(&c)
    );
    assert_golden(
        &v1::operator::Response::tasks(operator::master::get_tasks(&c.m)),
        &golden,
    );
}

// master.proto: Response.GetExecutors { repeated Executor executors = 1; } with
// Executor { required ExecutorInfo executor_info = 1; required AgentID agent_id = 2; }; an empty
// message is written as `{}`.
#[test]
fn operator_get_executors() {
    let mut c = Cluster::new();
    c.launch_running();
    // Command executors are not listed (as in Mesos).
    assert_golden(
        &v1::operator::Response::executors(operator::master::get_executors(&c.m)),
        r#"{"type":"GET_EXECUTORS","get_executors":{}}"#,
    );
    let custom = v1::operator::GetExecutors {
        executors: vec![v1::operator::Executor {
            executor_info: convert::executor_info(
                v1::ExecutorType::Custom,
                &ExecutorId::from("e1"),
                &FrameworkId::from("f1"),
            ),
            agent_id: v1::AgentId::new("c-S0"),
        }],
        orphan_executors: Vec::new(),
    };
    assert_golden(
        &v1::operator::Response::executors(custom),
        r#"{"type":"GET_EXECUTORS","get_executors":{"executors":[{"executor_info":{"type":"CUSTOM",
            "executor_id":{"value":"e1"},"framework_id":{"value":"f1"}},"agent_id":{"value":"c-S0"}}]}}"#,
    );
}

// master.proto: Response.GetState { optional GetTasks get_tasks = 1; optional GetExecutors get_executors = 2;
//   optional GetFrameworks get_frameworks = 3; optional GetAgents get_agents = 4; }
fn state_json(c: &Cluster) -> String {
    let allocated = [
        scalar("cpus", "1", Some("*")),
        scalar("mem", "128", Some("*")),
    ];
    let agent_allocated = [scalar("cpus", "1", None), scalar("mem", "128", None)];
    format!(
        r#"{{"get_tasks":{{"tasks":[{}]}},"get_executors":{{}},
             "get_frameworks":{{"frameworks":[{}]}},"get_agents":{{"agents":[{}]}}}}"#,
        running_task_json(c),
        framework_json(c, false, &allocated),
        agent_json(c, &agent_allocated, &[])
    )
}

#[test]
fn operator_get_state() {
    let mut c = Cluster::new();
    c.launch_running();
    let golden = format!(r#"{{"type":"GET_STATE","get_state":{}}}"#, state_json(&c));
    assert_golden(
        &v1::operator::Response::state(operator::master::get_state(&c.m)),
        &golden,
    );
}

// master.proto: Response.GetRoles { repeated Role roles = 1; }
// mesos.proto: Role { required string name = 1; required double weight = 2;
//   repeated FrameworkID frameworks = 3; repeated Resource resources = 4; }
// master.proto: Response.GetWeights { repeated WeightInfo weight_infos = 1; }
#[test]
fn operator_roles_and_weights() {
    let c = Cluster::new();
    let golden = format!(
        r#"{{"type":"GET_ROLES","get_roles":{{"roles":[{{"name":"*","weight":1.0,
             "frameworks":[{{"value":"{}"}}],"resources":[{},{}]}}]}}}}"#,
        c.fw.as_str(),
        scalar("cpus", "2", Some("*")),
        scalar("mem", "1024", Some("*"))
    );
    assert_golden(
        &v1::operator::Response::roles(operator::master::get_roles(&c.m)),
        &golden,
    );
    assert_golden(
        &v1::operator::Response::weights(operator::master::get_weights(&c.m)),
        r#"{"type":"GET_WEIGHTS","get_weights":{}}"#,
    );
}

// ---------------------------------------------------------------- master operator events

fn operator_event(c: &Cluster, e: &OperatorEvent) -> String {
    record_json(&events::event_record(&c.m, e).expect("the subject still exists"))
}

// master.proto: Event.Subscribed { optional Response.GetState get_state = 1;
//   optional double heartbeat_interval_seconds = 2; }
#[test]
fn master_event_subscribed() {
    let mut c = Cluster::new();
    c.launch_running();
    let golden = format!(
        r#"{{"type":"SUBSCRIBED","subscribed":{{"get_state":{},"heartbeat_interval_seconds":15.0}}}}"#,
        state_json(&c)
    );
    assert_json(&record_json(&events::subscribed_record(&c.m)), &golden);
}

// master.proto: Event.TaskAdded { required Task task = 1; }
#[test]
fn master_event_task_added() {
    let mut c = Cluster::new();
    c.launch_running();
    let added = OperatorEvent::TaskAdded {
        framework_id: c.fw.clone(),
        task_id: TaskId::from("t1"),
    };
    assert_json(
        &operator_event(&c, &added),
        &format!(
            r#"{{"type":"TASK_ADDED","task_added":{{"task":{}}}}}"#,
            running_task_json(&c)
        ),
    );
}

// master.proto: Event.TaskUpdated { required FrameworkID framework_id = 1; required TaskStatus status = 2;
//   required TaskState state = 3; }; the enum is written by its value name.
#[test]
fn master_event_task_updated() {
    let mut c = Cluster::new();
    c.launch_running();
    let mut status = running_status(&c.agent);
    status.state = TaskState::Finished;
    let updated = OperatorEvent::TaskUpdated {
        framework_id: c.fw.clone(),
        status,
        state: TaskState::Finished,
    };
    assert_json(
        &operator_event(&c, &updated),
        &format!(
            r#"{{"type":"TASK_UPDATED","task_updated":{{"framework_id":{{"value":"{}"}},
                 "status":{{"task_id":{{"value":"t1"}},"state":"TASK_FINISHED","source":"SOURCE_EXECUTOR",
                            "agent_id":{{"value":"c-S0"}},"executor_id":{{"value":"t1"}},
                            "timestamp":1700000000.0,"uuid":"{UUID_AB}"}},
                 "state":"TASK_FINISHED"}}}}"#,
            c.fw.as_str()
        ),
    );
}

// master.proto: Event.AgentAdded { required Response.GetAgents.Agent agent = 1; }
// Event.AgentRemoved { required AgentID agent_id = 1; }
#[test]
fn master_event_agent_added_and_removed() {
    let c = Cluster::new();
    let offered = [scalar("cpus", "2", None), scalar("mem", "1024", None)];
    assert_json(
        &operator_event(&c, &OperatorEvent::AgentAdded(c.agent.clone())),
        &format!(
            r#"{{"type":"AGENT_ADDED","agent_added":{{"agent":{}}}}}"#,
            agent_json(&c, &[], &offered)
        ),
    );
    assert_json(
        &operator_event(&c, &OperatorEvent::AgentRemoved(c.agent.clone())),
        r#"{"type":"AGENT_REMOVED","agent_removed":{"agent_id":{"value":"c-S0"}}}"#,
    );
}

// master.proto: Event.FrameworkAdded / FrameworkUpdated { required Response.GetFrameworks.Framework framework = 1; }
// Event.FrameworkRemoved { required FrameworkInfo framework_info = 1; }; HEARTBEAT = 9 has no payload.
#[test]
fn master_event_framework_added_updated_removed_heartbeat() {
    let c = Cluster::new();
    let framework = framework_json(&c, true, &[]);
    assert_json(
        &operator_event(&c, &OperatorEvent::FrameworkAdded(c.fw.clone())),
        &format!(r#"{{"type":"FRAMEWORK_ADDED","framework_added":{{"framework":{framework}}}}}"#),
    );
    assert_json(
        &operator_event(&c, &OperatorEvent::FrameworkUpdated(c.fw.clone())),
        &format!(
            r#"{{"type":"FRAMEWORK_UPDATED","framework_updated":{{"framework":{framework}}}}}"#
        ),
    );
    let spec = FrameworkSpec {
        id: Some(FrameworkId::from("f9")),
        ..framework_spec()
    };
    assert_json(
        &operator_event(&c, &OperatorEvent::FrameworkRemoved(spec)),
        r#"{"type":"FRAMEWORK_REMOVED","framework_removed":{"framework_info":{"user":"u","name":"fw",
            "id":{"value":"f9"},"failover_timeout":0.0,"checkpoint":true,"role":"*"}}}"#,
    );
    assert_json(
        &operator_event(&c, &OperatorEvent::Heartbeat),
        r#"{"type":"HEARTBEAT"}"#,
    );
}

// ---------------------------------------------------------------- agent operator responses

/// A registered agent that was told to run command task `t1` of framework `c-0001-0000`.
fn agent_with_task() -> Agent {
    let mut a = registered_agent();
    let task = TaskSpec {
        task_id: TaskId::from("t1"),
        name: "t1".into(),
        resources: Resources::parse("cpus:1;mem:128").expect("resources"),
        executor: ExecutorSpec {
            executor_id: ExecutorId::from("t1"),
            name: String::new(),
            command: None,
            resources: Resources::new(),
            data: None,
        },
        command: Some(CommandSpec {
            shell: true,
            value: "true".into(),
            ..Default::default()
        }),
        kill_grace: None,
        data: Vec::new(),
        role: None,
    };
    a.handle_master_message(
        T0,
        wall(),
        MasterToAgent::RunTask {
            framework: framework_record(),
            task: Box::new(task),
        },
    );
    while a.poll_output().is_some() {}
    a
}

// agent.proto: Response.GetAgent { optional AgentInfo agent_info = 1; }
#[test]
fn agent_get_agent() {
    let a = registered_agent();
    let mut resp = v1::agent::Response::of(v1::agent::CallType::GetAgent);
    resp.get_agent = Some(v1::agent::GetAgent {
        agent_info: Some(convert::agent_info_to_v1(a.info(), a.id())),
    });
    assert_golden(
        &resp,
        &format!(
            r#"{{"type":"GET_AGENT","get_agent":{{"agent_info":{}}}}}"#,
            agent_info_json("c-S0")
        ),
    );
}

// agent.proto: Response.GetFrameworks { repeated Framework frameworks = 1; } with
// Framework { required FrameworkInfo framework_info = 1; }
// agent.proto: Response.GetTasks { repeated Task pending_tasks = 1; repeated Task queued_tasks = 2;
//   repeated Task launched_tasks = 3; repeated Task terminated_tasks = 4; repeated Task completed_tasks = 5; }
// agent.proto: Response.GetExecutors { repeated Executor executors = 1; } with
// Executor { required ExecutorInfo executor_info = 1; }
// agent.proto: Response.GetState { optional GetTasks get_tasks = 1; optional GetExecutors get_executors = 2;
//   optional GetFrameworks get_frameworks = 3; }
#[test]
fn agent_frameworks_tasks_executors_state() {
    let a = agent_with_task();
    let frameworks = r#"{"frameworks":[{"framework_info":{"user":"u","name":"fw",
        "id":{"value":"c-0001-0000"},"failover_timeout":0.0,"checkpoint":true,"role":"*"}}]}"#;
    let mut resp = v1::agent::Response::of(v1::agent::CallType::GetFrameworks);
    resp.get_frameworks = Some(operator::agent::get_frameworks(&a));
    assert_golden(
        &resp,
        &format!(r#"{{"type":"GET_FRAMEWORKS","get_frameworks":{frameworks}}}"#),
    );

    let tasks = operator::agent::get_tasks(&a);
    let all: Vec<&v1::Task> = tasks
        .pending_tasks
        .iter()
        .chain(&tasks.queued_tasks)
        .chain(&tasks.launched_tasks)
        .collect();
    assert_eq!(all.len(), 1, "{tasks:?}");
    let bucket = if tasks.queued_tasks.len() == 1 {
        "queued_tasks"
    } else if tasks.launched_tasks.len() == 1 {
        "launched_tasks"
    } else {
        "pending_tasks"
    };
    let state = all[0].state.name();
    let task = format!(
        r#"{{"name":"t1","task_id":{{"value":"t1"}},"framework_id":{{"value":"c-0001-0000"}},
             "agent_id":{{"value":"c-S0"}},"state":"{state}","resources":[{},{}]}}"#,
        scalar("cpus", "1", None),
        scalar("mem", "128", None)
    );
    let tasks_json = format!(r#"{{"{bucket}":[{task}]}}"#);
    let mut resp = v1::agent::Response::of(v1::agent::CallType::GetTasks);
    resp.get_tasks = Some(tasks);
    assert_golden(
        &resp,
        &format!(r#"{{"type":"GET_TASKS","get_tasks":{tasks_json}}}"#),
    );

    // The command executor of `t1`. Its type is not checked here (see
    // `executor_subscribed_custom_executor_type`).
    let executors = operator::agent::get_executors(&a);
    let mut got = parse(&to_ascii_json(&executors));
    let list = got["executors"].as_array_mut().expect("executors");
    assert_eq!(list.len(), 1, "{executors:?}");
    list[0]["executor_info"]
        .as_object_mut()
        .expect("executor_info")
        .remove("type");
    assert_eq!(
        got,
        parse(
            r#"{"executors":[{"executor_info":{"executor_id":{"value":"t1"},
                "framework_id":{"value":"c-0001-0000"}}}]}"#
        )
    );

    let state = to_ascii_json(&operator::agent::get_state(&a));
    let got = parse(&state);
    assert_eq!(got["get_tasks"], parse(&tasks_json));
    assert_eq!(got["get_frameworks"], parse(frameworks));
    assert!(got["get_executors"]["executors"].is_array(), "{got}");
    assert_eq!(got.as_object().map(|o| o.len()), Some(3), "{got}");
}

// agent.proto: Response.GetContainers { repeated Container containers = 1; } with
// Container { optional FrameworkID framework_id = 1; optional ExecutorID executor_id = 2;
//   optional string executor_name = 3; required ContainerID container_id = 4;
//   optional ContainerStatus container_status = 5; optional ResourceStatistics resource_statistics = 6; }
// mesos.proto: ContainerStatus { optional ContainerID container_id = 4; optional uint32 executor_pid = 7; }
// ResourceStatistics { required double timestamp = 1; optional uint32 processes = 30; optional uint32 threads = 31;
//   optional double cpus_user_time_secs = 2; optional double cpus_system_time_secs = 3;
//   optional double cpus_limit = 4; optional uint64 mem_rss_bytes = 5; optional uint64 mem_limit_bytes = 6; }
#[test]
fn agent_get_containers() {
    use v1::agent::{Container, ContainerStatus, GetContainers, ResourceStatistics};
    let mut resp = v1::agent::Response::of(v1::agent::CallType::GetContainers);
    resp.get_containers = Some(GetContainers {
        containers: vec![Container {
            framework_id: Some(v1::FrameworkId::new("f1")),
            executor_id: Some(v1::ExecutorId::new("e1")),
            executor_name: Some("my executor".into()),
            container_id: v1::ContainerId::new("ct1"),
            container_status: Some(ContainerStatus {
                container_id: Some(v1::ContainerId::new("ct1")),
                executor_pid: Some(4242),
            }),
            resource_statistics: Some(ResourceStatistics {
                timestamp: 1_700_000_000.25,
                processes: Some(2),
                threads: Some(3),
                cpus_user_time_secs: Some(0.5),
                cpus_system_time_secs: Some(0.25),
                cpus_limit: Some(1.0),
                mem_rss_bytes: Some(1_048_576),
                mem_limit_bytes: Some(134_217_728),
            }),
        }],
    });
    assert_golden(
        &resp,
        r#"{"type":"GET_CONTAINERS","get_containers":{"containers":[{"framework_id":{"value":"f1"},
            "executor_id":{"value":"e1"},"executor_name":"my executor","container_id":{"value":"ct1"},
            "container_status":{"container_id":{"value":"ct1"},"executor_pid":4242},
            "resource_statistics":{"timestamp":1700000000.25,"processes":2,"threads":3,
              "cpus_user_time_secs":0.5,"cpus_system_time_secs":0.25,"cpus_limit":1.0,
              "mem_rss_bytes":1048576,"mem_limit_bytes":134217728}}]}}"#,
    );
}

// agent.proto: Response.GetHealth, GetFlags, GetVersion, GetMetrics and GetLoggingLevel have the
// master's shapes; the union field is named after the type.
#[test]
fn agent_information_responses() {
    use v1::agent::{CallType, Response};
    let mut health = Response::of(CallType::GetHealth);
    health.get_health = Some(v1::operator::GetHealth { healthy: true });
    assert_golden(
        &health,
        r#"{"type":"GET_HEALTH","get_health":{"healthy":true}}"#,
    );
    let mut level = Response::of(CallType::GetLoggingLevel);
    level.get_logging_level = Some(v1::operator::GetLoggingLevel { level: 0 });
    assert_golden(
        &level,
        r#"{"type":"GET_LOGGING_LEVEL","get_logging_level":{"level":0}}"#,
    );
    let mut metrics = Response::of(CallType::GetMetrics);
    metrics.get_metrics = Some(v1::operator::GetMetrics {
        metrics: vec![v1::operator::Metric {
            name: "slave/tasks_running".into(),
            value: Some(1.0),
        }],
    });
    assert_golden(
        &metrics,
        r#"{"type":"GET_METRICS","get_metrics":{"metrics":[{"name":"slave/tasks_running","value":1}]}}"#,
    );
}
