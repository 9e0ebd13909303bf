//! Tests of the state query writer: its bytes equal `to_ascii_json` of the `v1` messages built
//! by `operator::master`, for single tasks (property-based) and for a populated master, and
//! the driver's cached rendering follows every change of the master.

use super::*;
use crate::master_driver::MasterDriver;
use crate::operator::master::{get_frameworks, get_state, get_tasks, task_to_v1};
use crate::operator::rendered::StateQuery;
use crate::v1::operator::Response as R;
use crate::v1::to_ascii_json;
use bytes::Bytes;
use mesolite_core::attributes::{Attribute, AttributeValue};
use mesolite_core::ids::{AgentId, ExecutorId, FrameworkId, Role, TaskId};
use mesolite_core::master::{
    ConnId, FrameworkCapabilities, FrameworkSpec, Leadership, MasterConfig, MasterOutput,
    Operation, SchedulerCall, SchedulerEvent, StreamId, TaskLaunch,
};
use mesolite_core::registry::{Registry, WriteResult};
use mesolite_core::resources::Resources;
use mesolite_core::task_state::TaskState;
use mesolite_core::time::{Duration, Instant, WallTime};
use mesolite_core::wire::{
    AgentInfo, AgentToMaster, CommandSpec, MasterToAgent, StatusReason, StatusUpdate,
};
use proptest::prelude::*;
use std::collections::VecDeque;

fn old_json<T: serde::Serialize>(v: &T) -> String {
    to_ascii_json(v)
}

fn new_json(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::new();
    f(&mut out);
    String::from_utf8(out).expect("the writer writes ASCII")
}

#[test]
fn strings_are_escaped_as_the_ascii_formatter_does() {
    for s in [
        "",
        "plain",
        "quote \" backslash \\ slash /",
        "\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}",
        "caf\u{e9} \u{1F600} \u{2028}",
        "\u{10FFFF}\u{FFFF}x",
    ] {
        assert_eq!(new_json(|o| write_str(o, s)), old_json(&s), "{s:?}");
    }
}

/// An owned task to take a `TaskView` of.
#[derive(Debug)]
struct OwnedTask {
    task_id: TaskId,
    name: String,
    framework_id: FrameworkId,
    agent_id: AgentId,
    executor_id: ExecutorId,
    state: TaskState,
    resources: Resources,
    statuses: VecDeque<TaskStatus>,
    status_update_state: Option<TaskState>,
    status_update_uuid: Option<[u8; 16]>,
    role: Role,
}

impl OwnedTask {
    fn view(&self) -> TaskView<'_> {
        TaskView {
            task_id: &self.task_id,
            name: &self.name,
            framework_id: &self.framework_id,
            agent_id: &self.agent_id,
            executor_id: &self.executor_id,
            state: self.state,
            resources: &self.resources,
            statuses: &self.statuses,
            status_update_state: self.status_update_state,
            status_update_uuid: self.status_update_uuid,
            role: &self.role,
        }
    }
}

const STATES: [TaskState; 6] = [
    TaskState::Staging,
    TaskState::Running,
    TaskState::Finished,
    TaskState::Failed,
    TaskState::Lost,
    TaskState::Unreachable,
];

const RESOURCES: [&str; 6] = [
    "",
    "cpus:0.1;mem:32",
    "cpus:1.5;mem:128;disk:1024;ports:[31000-31005,31010-31010]",
    "cpus(prod):2;mem:64",
    "gpus:1;zones:{a,b,c};ports:[1-1]",
    "cpus:0.001;mem:1000000.5",
];

const REASONS: [StatusReason; 3] = [
    StatusReason::CommandExecutorFailed,
    StatusReason::TaskInvalid,
    StatusReason::ExecutorTerminated,
];

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9-]{1,12}",
        any::<String>(),
        Just("t\u{e9}l\u{e9} \"q\" \\ \n\u{1F680}".to_string()),
    ]
}

prop_compose! {
    fn arb_status()(
        state in 0..STATES.len(),
        message in proptest::option::of(arb_text()),
        source in 0..3u8,
        reason in proptest::option::of(0..REASONS.len()),
        agent in proptest::option::of("[a-z0-9-]{1,8}"),
        executor in proptest::option::of(arb_text()),
        nanos in 0..u64::MAX / 2,
        uuid in proptest::option::of(any::<[u8; 16]>()),
        data in proptest::collection::vec(any::<u8>(), 0..5),
        unreachable in proptest::option::of(0..u64::MAX / 2),
    ) -> TaskStatus {
        TaskStatus {
            task_id: TaskId::new("the-task"),
            state: STATES[state],
            message,
            source: [StatusSource::Master, StatusSource::Agent, StatusSource::Executor][source as usize],
            reason: reason.map(|r| REASONS[r]),
            agent_id: agent.map(AgentId::new),
            executor_id: executor.map(ExecutorId::new),
            timestamp: WallTime { unix_nanos: nanos },
            uuid,
            data,
            unreachable_time: unreachable.map(|n| WallTime { unix_nanos: n }),
        }
    }
}

prop_compose! {
    fn arb_task()(
        name in arb_text(),
        task in "[a-z0-9.-]{1,10}",
        executor in proptest::option::of(arb_text()),
        state in 0..STATES.len(),
        resources in 0..RESOURCES.len(),
        statuses in proptest::collection::vec(arb_status(), 0..4),
        update_state in proptest::option::of(0..STATES.len()),
        uuid in proptest::option::of(any::<[u8; 16]>()),
    ) -> OwnedTask {
        OwnedTask {
            executor_id: ExecutorId::new(executor.unwrap_or_else(|| task.clone())),
            task_id: TaskId::new(task),
            name,
            framework_id: FrameworkId::new("c-0000"),
            agent_id: AgentId::new("c-S0"),
            state: STATES[state],
            resources: Resources::parse(RESOURCES[resources]).expect("valid resources"),
            statuses: statuses.into(),
            status_update_state: update_state.map(|s| STATES[s]),
            status_update_uuid: uuid,
            role: Role::new("*"),
        }
    }
}

proptest! {
    #[test]
    fn any_string_is_written_as_the_ascii_formatter_writes_it(s in any::<String>()) {
        prop_assert_eq!(new_json(|o| write_str(o, &s)), old_json(&s));
    }

    // Mostly clean ASCII with an occasional character to escape anywhere in or after the
    // eight-byte words the fast path tests.
    #[test]
    fn ascii_strings_with_rare_escapes_are_written_as_the_ascii_formatter_writes_them(
        s in "[ -~]{0,40}[\"\\\\\u{0}-\u{1f}\u{7f}\u{80}\u{e9}]?[ -~]{0,20}"
    ) {
        prop_assert_eq!(new_json(|o| write_str(o, &s)), old_json(&s));
    }

    #[test]
    fn a_task_is_written_as_its_v1_message_serializes(t in arb_task()) {
        let view = t.view();
        prop_assert_eq!(new_json(|o| write_task(&view, o)), old_json(&task_to_v1(&view)));
    }
}

// ---------------------------------------------------------------- a populated master

fn wall(secs: u64) -> WallTime {
    WallTime {
        unix_nanos: 1_700_000_000_123_456_789 + secs * 1_000_000_000,
    }
}

/// A master fed through its public inputs, with the registry written at once.
struct Cluster {
    m: Master,
    now: Instant,
    offers: Vec<mesolite_core::master::OfferRecord>,
}

impl Cluster {
    fn new() -> Self {
        let cfg = MasterConfig::new("m\u{e9}".to_string(), "10.0.0.1".to_string(), 5050, 7);
        let t0 = Instant::from_millis(0);
        let mut c = Cluster {
            m: Master::new(cfg, Registry::new_cluster("c"), t0, wall(0)),
            now: t0,
            offers: Vec::new(),
        };
        c.m.handle_leadership(t0, wall(0), Leadership::BecameLeader);
        pump(&mut c.m, c.now, &mut c.offers);
        c
    }

    fn register(&mut self, conn: u64) -> AgentId {
        let info = AgentInfo {
            hostname: format!("agent-{conn}"),
            ip: "10.0.0.2".to_string(),
            port: 5051 + conn as u16,
            resources: Resources::parse("cpus:8;mem:4096;ports:[31000-31100];zones:{a,b}")
                .expect("valid resources"),
            attributes: vec![
                Attribute::new("rack", AttributeValue::Text("r1".into())).expect("valid attribute")
            ],
            domain: None,
            version: "1.5.0".to_string(),
        };
        self.m.handle_agent_message(
            self.now,
            wall(1),
            ConnId(conn),
            AgentToMaster::Register { info },
        );
        let out = pump(&mut self.m, self.now, &mut self.offers);
        out.into_iter()
            .find_map(|o| match o {
                MasterOutput::ToAgent {
                    msg: MasterToAgent::Registered { id },
                    ..
                } => Some(id),
                _ => None,
            })
            .expect("the agent is registered")
    }

    fn subscribe(&mut self, stream: u64, name: &str) -> (FrameworkId, String) {
        let spec = FrameworkSpec {
            id: None,
            name: name.to_string(),
            user: "u".to_string(),
            role: Role::from("*"),
            failover_timeout: Duration::from_secs(3600),
            checkpoint: true,
            hostname: Some("h".to_string()),
            principal: None,
            capabilities: FrameworkCapabilities::default(),
            roles: Vec::new(),
        };
        let s = self
            .m
            .handle_subscribe(self.now, wall(2), StreamId(stream), spec)
            .expect("subscribed");
        pump(&mut self.m, self.now, &mut self.offers);
        (s.framework_id, s.stream_token)
    }

    /// Runs an allocation cycle; the offers made land in `self.offers`.
    fn allocate(&mut self) {
        self.now = self.now + Duration::from_secs(2);
        self.m.handle_timeout(self.now, wall(3));
        pump(&mut self.m, self.now, &mut self.offers);
    }

    fn call(&mut self, fid: &FrameworkId, token: &str, call: SchedulerCall) {
        self.m
            .handle_scheduler_call(self.now, wall(4), fid, Some(token), call)
            .expect("the call is accepted");
        pump(&mut self.m, self.now, &mut self.offers);
    }
}

/// Writes pending registry entries, then drains the outputs, keeping the offers made.
fn pump(
    m: &mut Master,
    now: Instant,
    offers: &mut Vec<mesolite_core::master::OfferRecord>,
) -> Vec<MasterOutput> {
    while let Some(e) = m.poll_registry_write(now, wall(0)) {
        m.handle_registry_written(now, wall(0), e.index, WriteResult::Durable);
    }
    let mut out = Vec::new();
    while let Some(o) = m.poll_output() {
        if let MasterOutput::ToFramework {
            event: SchedulerEvent::Offers(made),
            ..
        } = &o
        {
            offers.extend(made.iter().cloned());
        }
        out.push(o);
    }
    out
}

fn status_update(
    fid: &FrameworkId,
    task: &str,
    state: TaskState,
    uuid: u8,
    secs: u64,
) -> AgentToMaster {
    AgentToMaster::StatusUpdate(StatusUpdate {
        framework_id: fid.clone(),
        status: TaskStatus {
            task_id: TaskId::new(task),
            state,
            message: (state == TaskState::Failed).then(|| "exit 1: \u{fc}berfl\u{fc}ssig".into()),
            source: StatusSource::Executor,
            reason: (state == TaskState::Failed).then_some(StatusReason::CommandExecutorFailed),
            agent_id: None,
            executor_id: None,
            timestamp: wall(secs),
            uuid: Some([uuid; 16]),
            data: if uuid.is_multiple_of(3) {
                vec![1, 2, 3]
            } else {
                Vec::new()
            },
            unreachable_time: None,
        },
        latest_state: state,
    })
}

/// Three agents (one disconnected), two frameworks with outstanding offers, command and
/// custom-executor tasks in several states, completed tasks.
fn populated() -> (Master, FrameworkId) {
    let mut c = Cluster::new();
    let agents: Vec<AgentId> = (1..=3).map(|conn| c.register(conn)).collect();
    let (f1, t1) = c.subscribe(10, "first \u{1F600} framework");
    let (f2, _t2) = c.subscribe(11, "second");
    c.allocate();
    let mine: Vec<_> = c
        .offers
        .iter()
        .filter(|o| o.framework_id == f1)
        .cloned()
        .collect();
    assert!(mine.len() >= 2, "the first framework gets offers: {mine:?}");
    let mut launched = Vec::new();
    for (n, offer) in mine.iter().take(2).enumerate() {
        let tasks: Vec<TaskLaunch> = (0..6)
            .map(|i| {
                let id = format!("t{n}-{i}");
                launched.push((id.clone(), offer.agent_id.clone()));
                let custom = i % 3 == 0;
                TaskLaunch {
                    task_id: TaskId::new(id.clone()),
                    name: format!("task {id} \u{e9}"),
                    agent_id: offer.agent_id.clone(),
                    resources: Resources::parse("cpus:0.5;mem:32;ports:[31000-31000]")
                        .map(|r| {
                            if i == 0 {
                                r
                            } else {
                                Resources::parse("cpus:0.1;mem:16").expect("valid")
                            }
                        })
                        .expect("valid resources"),
                    command: (!custom).then(|| CommandSpec {
                        shell: true,
                        value: "true".to_string(),
                        ..Default::default()
                    }),
                    executor: custom.then(|| mesolite_core::wire::ExecutorSpec {
                        executor_id: ExecutorId::new(format!("exec-{n}")),
                        name: "an executor".to_string(),
                        command: Some(CommandSpec {
                            shell: true,
                            value: "run".to_string(),
                            ..Default::default()
                        }),
                        resources: Resources::parse("cpus:0.1;mem:32").expect("valid"),
                        data: None,
                    }),
                    kill_grace: None,
                    data: Vec::new(),
                    invalid: None,
                }
            })
            .collect();
        c.call(
            &f1,
            &t1,
            SchedulerCall::Accept {
                offer_ids: vec![offer.id.clone()],
                operations: vec![Operation::Launch(tasks)],
                refuse: None,
            },
        );
    }
    let conn_of =
        |agent: &AgentId| ConnId(1 + agents.iter().position(|a| a == agent).unwrap_or(0) as u64);
    for (i, (task, agent)) in launched.iter().enumerate() {
        let conn = conn_of(agent);
        let uuid = i as u8 * 2 + 1;
        c.m.handle_agent_message(
            c.now,
            wall(5),
            conn,
            status_update(&f1, task, TaskState::Running, uuid, 5),
        );
        pump(&mut c.m, c.now, &mut c.offers);
        if i % 2 == 1 {
            c.call(
                &f1,
                &t1,
                SchedulerCall::Acknowledge {
                    agent_id: agent.clone(),
                    task_id: TaskId::new(task.clone()),
                    uuid: [uuid; 16],
                },
            );
        }
        if i % 4 == 1 || i % 4 == 3 {
            let state = if i % 4 == 1 {
                TaskState::Finished
            } else {
                TaskState::Failed
            };
            let uuid = uuid + 1;
            c.m.handle_agent_message(
                c.now,
                wall(6),
                conn,
                status_update(&f1, task, state, uuid, 6),
            );
            pump(&mut c.m, c.now, &mut c.offers);
            if i % 8 < 4 {
                c.call(
                    &f1,
                    &t1,
                    SchedulerCall::Acknowledge {
                        agent_id: agent.clone(),
                        task_id: TaskId::new(task.clone()),
                        uuid: [uuid; 16],
                    },
                );
            }
        }
    }
    // What the launches left is offered again (to the second framework, which holds nothing).
    c.allocate();
    c.m.handle_agent_disconnected(c.now, ConnId(3));
    pump(&mut c.m, c.now, &mut c.offers);
    assert!(c.m.tasks().count() > 0 && c.m.completed_tasks().count() > 0);
    assert!(
        c.m.offers().any(|o| o.framework_id == f2),
        "the second framework holds offers"
    );
    (c.m, f1)
}

#[test]
fn every_state_query_is_written_as_its_v1_message_serializes() {
    let (m, _) = populated();
    let state = new_json(|o| write_get_state(&m, o));
    assert_eq!(state, old_json(&get_state(&m)));
    assert_eq!(
        new_json(|o| write_get_tasks(&m, o)),
        old_json(&get_tasks(&m))
    );
    assert_eq!(
        new_json(|o| write_get_frameworks(&m, o)),
        old_json(&get_frameworks(&m))
    );
    assert_eq!(
        new_json(|o| write_get_agents(&m, o)),
        old_json(&get_agents(&m))
    );
    let executors = new_json(|o| write_get_executors(&m, o));
    assert_eq!(executors, old_json(&get_executors(&m)));
    assert!(
        executors.contains("exec-0") && executors.contains("exec-1"),
        "{executors}"
    );
    // The answers carry what was built, in JSON both ways.
    let v: serde_json::Value = serde_json::from_str(&state).expect("JSON");
    assert!(v["get_tasks"]["completed_tasks"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));
    assert!(state.contains("REASON_COMMAND_EXECUTOR_FAILED") && state.contains("\\u00fc"));
    assert!(state.is_ascii());
}

/// The whole answer as the client receives it.
fn answer_bytes(d: &MasterDriver, query: StateQuery) -> Vec<u8> {
    use http_body_util::BodyExt;
    let resp = crate::operator::rendered::response(query, d.rendered(query));
    let body = smol::block_on(resp.into_body().collect()).expect("infallible");
    body.to_bytes().to_vec()
}

#[test]
fn cached_answers_equal_the_v1_responses_and_follow_every_change() {
    let (m, f1) = populated();
    let (d, _tasks) = MasterDriver::new(m, mesolite_platform::clock::Clock::new());
    let expect = |d: &MasterDriver| {
        let m = d.master.borrow();
        [
            (StateQuery::State, R::state(get_state(&m))),
            (StateQuery::Tasks, R::tasks(get_tasks(&m))),
            (StateQuery::Executors, R::executors(get_executors(&m))),
            (StateQuery::Frameworks, R::frameworks(get_frameworks(&m))),
            (StateQuery::Agents, R::agents(get_agents(&m))),
        ]
    };
    for (query, resp) in expect(&d) {
        assert_eq!(
            String::from_utf8(answer_bytes(&d, query)).unwrap(),
            old_json(&resp),
            "{query:?}"
        );
    }
    // Unchanged state: the same rendering is shared, nothing is rendered again.
    let renders = d.renders();
    let a = d.rendered(StateQuery::State);
    let b = d.rendered(StateQuery::State);
    assert_eq!(a.as_ptr(), b.as_ptr());
    assert_eq!(d.renders(), renders);
    // A status update for a running task changes the answer; the cache must not serve the old one.
    // Agents c-S0, c-S1 and c-S2 came on connections 1, 2 and 3; the third is gone.
    let conn_of = |a: &AgentId| {
        ConnId(
            1 + a
                .as_str()
                .trim_start_matches("c-S")
                .parse::<u64>()
                .unwrap_or(9),
        )
    };
    let (task, conn) = d
        .master
        .borrow()
        .tasks()
        .find(|t| t.state == TaskState::Running && conn_of(t.agent_id) != ConnId(3))
        .map(|t| (t.task_id.clone(), conn_of(t.agent_id)))
        .expect("a running task on a connected agent");
    let now = Instant::from_millis(10_000);
    d.master.borrow_mut().handle_agent_message(
        now,
        wall(9),
        conn,
        status_update(&f1, task.as_str(), TaskState::Running, 200, 9),
    );
    let mut offers = Vec::new();
    pump(&mut d.master.borrow_mut(), now, &mut offers);
    let c = d.rendered(StateQuery::State);
    assert_ne!(a, c, "the update shows in GET_STATE");
    assert_eq!(d.renders(), renders + 1);
    for (query, resp) in expect(&d) {
        assert_eq!(
            String::from_utf8(answer_bytes(&d, query)).unwrap(),
            old_json(&resp),
            "{query:?}"
        );
    }
    // The operator SUBSCRIBED record is the old record, byte for byte.
    let m = d.master.borrow();
    let heartbeat = m.config().heartbeat_interval.as_secs_f64();
    let old = crate::convert::record(to_ascii_json(&v1::master_event::Event::subscribed(
        get_state(&m),
        heartbeat,
    )));
    assert_eq!(super::super::events::subscribed_record_with(&m, &c), old);
    assert_eq!(super::super::events::subscribed_record(&m), old);
}

#[test]
fn the_answer_body_has_an_exact_length_and_is_sent_in_bounded_chunks() {
    use hyper::body::Body as _;
    let big = Bytes::from(vec![b'x'; 300 * 1024 + 5]);
    let resp = crate::operator::rendered::response(StateQuery::State, big.clone());
    let mut body = resp.into_body();
    let head = br#"{"type":"GET_STATE","get_state":"#.len() as u64;
    assert_eq!(body.size_hint().exact(), Some(head + big.len() as u64 + 1));
    let mut sizes = Vec::new();
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    while let std::task::Poll::Ready(Some(frame)) =
        std::pin::Pin::new(&mut body).poll_frame(&mut cx)
    {
        let data = frame.expect("infallible").into_data().expect("data");
        sizes.push(data.len());
    }
    assert_eq!(
        sizes,
        vec![head as usize, 128 * 1024, 128 * 1024, 44 * 1024 + 5, 1]
    );
    assert!(body.is_end_stream());
}
