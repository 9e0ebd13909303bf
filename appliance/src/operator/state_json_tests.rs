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
            fingerprint: 0,
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
            AgentToMaster::Register {
                info,
                checkpointed: mesolite_core::resources::Resources::new(),
            },
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
    let (m, f1, _) = populated_with_token();
    (m, f1)
}

/// [`populated`] with the first framework's stream token, to make calls as it.
fn populated_with_token() -> (Master, FrameworkId, String) {
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
    (c.m, f1, t1)
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

// ---------------------------------------------------------------- renderings reused across changes

/// A cluster driven at random from `seed`: three agents, two frameworks launching tasks whose
/// ids come from a small set (so a finished task's id comes back with another name and other
/// resources), status updates drawn from few states, uuids and times (so a retried update
/// repeats an earlier status exactly and a task keeps more statuses than the master holds),
/// acknowledgements, kills, agent disconnections, time passing (agents marked unreachable)
/// and teardowns. After every step each cached document is compared with a fresh rendering.
/// Returns how many task renderings were reused.
fn random_changes_match_fresh_renderings(seed: u64, steps: usize) -> u64 {
    use crate::operator::rendered::RenderCache;
    let mut rng = mesolite_core::rng::Rng::from_seed(seed);
    let mut c = Cluster::new();
    let agents: Vec<AgentId> = (1..=3).map(|conn| c.register(conn)).collect();
    let mut frameworks = vec![c.subscribe(10, "one"), c.subscribe(11, "two")];
    let cache = RenderCache::default();
    let mut version = 0;
    let conn_of = |a: &AgentId| ConnId(1 + agents.iter().position(|x| x == a).unwrap_or(0) as u64);
    for step in 0..steps {
        let (fid, token) = frameworks[rng.below(frameworks.len() as u64) as usize].clone();
        match rng.below(10) {
            0 => c.allocate(),
            1 | 2 => {
                // Launch up to three tasks on one of the framework's offers.
                let offer = c.m.offers().find(|o| o.framework_id == fid).cloned();
                if let Some(offer) = offer {
                    let tasks = (0..1 + rng.below(3))
                        .map(|_| {
                            let k = rng.below(8);
                            TaskLaunch {
                                task_id: TaskId::new(format!("t{k}")),
                                name: format!("task {k} \u{e9} {}", rng.below(3)),
                                agent_id: offer.agent_id.clone(),
                                resources: Resources::parse(
                                    ["cpus:0.1;mem:16", "cpus:0.2;mem:8;ports:[31000-31000]"]
                                        [rng.below(2) as usize],
                                )
                                .expect("valid"),
                                command: Some(CommandSpec {
                                    shell: true,
                                    value: "true".to_string(),
                                    ..Default::default()
                                }),
                                executor: None,
                                kill_grace: None,
                                data: Vec::new(),
                                invalid: None,
                            }
                        })
                        .collect();
                    let call = SchedulerCall::Accept {
                        offer_ids: vec![offer.id.clone()],
                        operations: vec![Operation::Launch(tasks)],
                        refuse: None,
                    };
                    let _ =
                        c.m.handle_scheduler_call(c.now, wall(4), &fid, Some(&token), call);
                    pump(&mut c.m, c.now, &mut c.offers);
                }
            }
            3..=5 => {
                // A status update (often a repeat of an earlier one) for a known task.
                let known: Vec<(FrameworkId, TaskId, AgentId)> =
                    c.m.tasks()
                        .chain(c.m.completed_tasks())
                        .map(|t| {
                            (
                                t.framework_id.clone(),
                                t.task_id.clone(),
                                t.agent_id.clone(),
                            )
                        })
                        .collect();
                if !known.is_empty() {
                    let (f, t, a) = &known[rng.below(known.len() as u64) as usize];
                    let state = [
                        TaskState::Running,
                        TaskState::Running,
                        TaskState::Finished,
                        TaskState::Failed,
                    ][rng.below(4) as usize];
                    let update =
                        status_update(f, t.as_str(), state, 1 + rng.below(2) as u8, rng.below(3));
                    c.m.handle_agent_message(c.now, wall(5), conn_of(a), update);
                    pump(&mut c.m, c.now, &mut c.offers);
                }
            }
            6 => {
                // Acknowledge the pending update of one of the framework's tasks.
                let pending =
                    c.m.tasks()
                        .filter(|t| t.framework_id == &fid)
                        .find_map(|t| {
                            Some((t.agent_id.clone(), t.task_id.clone(), t.status_update_uuid?))
                        });
                if let Some((agent_id, task_id, uuid)) = pending {
                    let call = SchedulerCall::Acknowledge {
                        agent_id,
                        task_id,
                        uuid,
                    };
                    let _ =
                        c.m.handle_scheduler_call(c.now, wall(4), &fid, Some(&token), call);
                    pump(&mut c.m, c.now, &mut c.offers);
                }
            }
            7 => {
                let a = &agents[rng.below(agents.len() as u64) as usize];
                c.m.handle_agent_disconnected(c.now, conn_of(a));
                pump(&mut c.m, c.now, &mut c.offers);
            }
            8 => {
                // Time passes: pings go unanswered, agents may be marked unreachable.
                c.now = c.now + Duration::from_secs(1 + rng.below(40));
                c.m.handle_timeout(c.now, wall(7));
                pump(&mut c.m, c.now, &mut c.offers);
            }
            _ => {
                if rng.below(6) == 0 {
                    let _ = c.m.handle_scheduler_call(
                        c.now,
                        wall(8),
                        &fid,
                        Some(&token),
                        SchedulerCall::Teardown,
                    );
                    pump(&mut c.m, c.now, &mut c.offers);
                    let stream = 20 + step as u64;
                    let fresh = c.subscribe(stream, &format!("framework {stream}"));
                    frameworks.retain(|(f, _)| f != &fid);
                    frameworks.push(fresh);
                }
            }
        }
        version += 1;
        for query in [
            StateQuery::State,
            StateQuery::Tasks,
            StateQuery::LegacyState,
        ] {
            let cached = cache.get(query, version, &c.m);
            let fresh = query.render_fresh(&c.m);
            assert!(
                cached[..] == fresh[..],
                "seed {seed} step {step}: the cached {query:?} differs from a fresh rendering:\n{}\n{}",
                String::from_utf8_lossy(&cached),
                String::from_utf8_lossy(&fresh)
            );
        }
    }
    cache.reused_tasks()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn reused_task_renderings_are_never_stale(seed in any::<u64>()) {
        random_changes_match_fresh_renderings(seed, 120);
    }
}

#[test]
fn renderings_reuse_unchanged_tasks_and_refresh_changed_ones() {
    let reused: u64 = (0..8)
        .map(|seed| random_changes_match_fresh_renderings(seed, 150))
        .sum();
    assert!(
        reused > 500,
        "unchanged tasks are copied, not written again: {reused}"
    );
    // A status update changes only that task: the rest is reused.
    use crate::operator::rendered::RenderCache;
    let (mut m, f1) = populated();
    let cache = RenderCache::default();
    let before = cache.get(StateQuery::State, 1, &m);
    let reused = cache.reused_tasks();
    let (task, agent) = m
        .tasks()
        .find(|t| t.state == TaskState::Running && t.agent_id.as_str() != "c-S2")
        .map(|t| (t.task_id.clone(), t.agent_id.clone()))
        .expect("a running task on a connected agent");
    let conn = ConnId(
        1 + agent
            .as_str()
            .trim_start_matches("c-S")
            .parse::<u64>()
            .unwrap_or(9),
    );
    let now = Instant::from_millis(10_000);
    m.handle_agent_message(
        now,
        wall(9),
        conn,
        status_update(&f1, task.as_str(), TaskState::Running, 201, 9),
    );
    pump(&mut m, now, &mut Vec::new());
    let after = cache.get(StateQuery::State, 2, &m);
    assert_ne!(before, after);
    let all = m.tasks().count() + m.completed_tasks().count() + m.unreachable_tasks().count();
    assert_eq!(
        cache.reused_tasks() - reused,
        all as u64 - 1,
        "all but the updated task are copied"
    );
    assert_eq!(after[..], StateQuery::State.render_fresh(&m)[..]);
}

// ---------------------------------------------------------------- legacy /state

#[test]
fn legacy_state_lists_every_field_and_the_completed_frameworks() {
    use crate::operator::legacy;
    let (mut m, f1, t1) = populated_with_token();
    let flags = crate::operator::flags::FlagSet::new();
    let before = legacy::master_state(&m, &flags);
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&before),
        [
            "activated_slaves",
            "build_date",
            "build_time",
            "build_user",
            "completed_frameworks",
            "deactivated_slaves",
            "elected_time",
            "flags",
            "frameworks",
            "git_sha",
            "git_tag",
            "hostname",
            "id",
            "leader",
            "leader_info",
            "orphan_tasks",
            "pid",
            "recovered_slaves",
            "slaves",
            "start_time",
            "unreachable_slaves",
            "unregistered_frameworks",
            "version",
        ]
    );
    assert_eq!(before["activated_slaves"], 2);
    assert_eq!(before["deactivated_slaves"], 1);
    assert_eq!(before["hostname"], "m\u{e9}");
    let framework_keys = [
        "active",
        "capabilities",
        "checkpoint",
        "completed_tasks",
        "connected",
        "executors",
        "failover_timeout",
        "hostname",
        "id",
        "name",
        "offered_resources",
        "offers",
        "pid",
        "principal",
        "recovered",
        "registered_time",
        "reregistered_time",
        "resources",
        "role",
        "roles",
        "tasks",
        "unreachable_tasks",
        "unregistered_time",
        "used_resources",
        "user",
    ];
    let first = &before["frameworks"][0];
    assert_eq!(keys(first), framework_keys);
    assert_eq!(first["id"], f1.as_str());
    assert_eq!(first["unregistered_time"], 0);
    let task = &first["tasks"][0];
    assert_eq!(
        keys(task),
        [
            "executor_id",
            "framework_id",
            "id",
            "name",
            "resources",
            "slave_id",
            "state",
            "statuses"
        ]
    );
    assert_eq!(
        keys(&task["resources"]),
        ["cpus", "disk", "gpus", "mem", "ports"],
        "{task}"
    );
    let slave = &before["slaves"][0];
    assert_eq!(
        keys(slave),
        [
            "active",
            "attributes",
            "capabilities",
            "hostname",
            "id",
            "offered_resources",
            "pid",
            "port",
            "registered_time",
            "reregistered_time",
            "reserved_resources",
            "resources",
            "unreserved_resources",
            "used_resources",
            "version",
        ]
    );
    assert_eq!(slave["attributes"]["rack"], "r1");
    assert_eq!(slave["resources"]["zones"], "{a, b}");
    assert_eq!(before["completed_frameworks"], serde_json::json!([]));
    let completed_before = first["completed_tasks"].as_array().map_or(0, Vec::len);
    let live_before = first["tasks"].as_array().map_or(0, Vec::len);
    assert!(completed_before > 0 && live_before > 0);

    // A teardown moves the framework, with all its tasks completed, to `completed_frameworks`.
    let now = Instant::from_millis(10_000);
    m.handle_scheduler_call(now, wall(9), &f1, Some(&t1), SchedulerCall::Teardown)
        .expect("the teardown is accepted");
    pump(&mut m, now, &mut Vec::new());
    let after = legacy::master_state(&m, &flags);
    let done = &after["completed_frameworks"][0];
    assert_eq!(keys(done), framework_keys);
    assert_eq!(done["id"], f1.as_str());
    assert_eq!(done["active"], false);
    assert!(
        done["unregistered_time"]
            .as_f64()
            .is_some_and(|t| t > 1.7e9),
        "{done}"
    );
    assert_eq!(done["tasks"], serde_json::json!([]));
    assert_eq!(
        done["completed_tasks"].as_array().map_or(0, Vec::len),
        completed_before + live_before
    );
    assert!(after["frameworks"]
        .as_array()
        .is_some_and(|f| f.iter().all(|f| f["id"] != f1.as_str())));
    let text = crate::v1::to_ascii_json(&after);
    assert!(text.is_ascii());
}

#[test]
fn the_legacy_state_response_is_the_document_rendered_once_per_state_version() {
    use crate::operator::legacy;
    use http_body_util::BodyExt;
    let (m, _) = populated();
    let (d, _tasks) = MasterDriver::new(m, mesolite_platform::clock::Clock::new());
    let mut flags = crate::operator::flags::FlagSet::new();
    flags.set("port", "5050".to_string());
    let body = |d: &MasterDriver| {
        let resp = legacy::master_state_response(d, &flags);
        assert_eq!(resp.headers()["content-type"], "application/json");
        let bytes = smol::block_on(resp.into_body().collect()).expect("infallible");
        bytes.to_bytes().to_vec()
    };
    let first = body(&d);
    let renders = d.renders();
    assert_eq!(body(&d), first);
    assert_eq!(
        d.renders(),
        renders,
        "an unchanged state is not rendered again"
    );
    let parsed: serde_json::Value = serde_json::from_slice(&first).expect("JSON");
    assert_eq!(parsed, legacy::master_state(&d.master.borrow(), &flags));
    assert_eq!(parsed["flags"]["port"], "5050");
    assert!(first.is_ascii());
}
