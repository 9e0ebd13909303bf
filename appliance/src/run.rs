//! `mesolite run`: a one-off task, like `mesos-execute`. A v1 scheduler that subscribes with
//! checkpointing and an hour's failover timeout, launches one command task on the first offer
//! that fits, survives master and agent restarts by re-subscribing with its framework id,
//! prints each new task state and the task's output, and exits 0 only on TASK_FINISHED.

use crate::client::{self, ClientError, EventStream};
use crate::print_out;
use crate::v1::{self, from_json, WireEnum};
use hyper::{Method, StatusCode};
use mesolite_config::{RunCommand, RunConfig};
use mesolite_core::task_state::TaskState;
use serde_json::json;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Give up if no master could be reached for this long before the first subscription.
const FIRST_CONTACT_TIMEOUT: Duration = Duration::from_secs(60);
const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// What the run knows across reconnects.
struct RunState {
    cfg: RunConfig,
    task_id: String,
    framework_id: Option<String>,
    stream_id: String,
    launched: bool,
    last_state: Option<TaskState>,
    /// Where the task runs: the agent's id, `IP:PORT` and URL path prefix.
    agent: Option<(String, String, String)>,
    waiting_said: bool,
}

/// How a run ended.
enum End {
    Task(TaskState),
    Error(String),
}

pub fn main(cfg: RunConfig) -> ExitCode {
    let seed = mesolite_platform::clock::random_seed();
    let task_id = format!("{}-{:08x}", cfg.name, seed as u32);
    let mut st = RunState {
        cfg,
        task_id,
        framework_id: None,
        stream_id: String::new(),
        launched: false,
        last_state: None,
        agent: None,
        waiting_said: false,
    };
    let end = smol::block_on(run(&mut st, seed));
    match end {
        End::Task(TaskState::Finished) => ExitCode::SUCCESS,
        End::Task(_) => ExitCode::from(1),
        End::Error(e) => {
            eprintln!("mesolite run: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(st: &mut RunState, seed: u64) -> End {
    let mut rng = mesolite_core::rng::Rng::from_seed(seed);
    let mut backoff = BACKOFF_FIRST;
    let started = Instant::now();
    let mut master_index = 0usize;
    let mut last_error = String::new();
    loop {
        let master = st.cfg.masters[master_index % st.cfg.masters.len()].to_string();
        match session(st, &master).await {
            Ok(end) => return end,
            Err(e) => {
                let msg = format!("{e}");
                if msg != last_error {
                    eprintln!("mesolite run: master {master}: {msg}; retrying");
                    last_error = msg;
                }
            }
        }
        if st.framework_id.is_none() && started.elapsed() > FIRST_CONTACT_TIMEOUT {
            return End::Error(format!(
                "no master answered within {} s: {last_error}",
                FIRST_CONTACT_TIMEOUT.as_secs()
            ));
        }
        master_index += 1;
        let delay = Duration::from_millis(rng.below(backoff.as_millis() as u64 + 1));
        smol::Timer::after(delay).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// One subscription: runs until the task ends (Ok) or the connection drops (Err).
async fn session(st: &mut RunState, master: &str) -> Result<End, ClientError> {
    let user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "root".into());
    let mut info = json!({
        "user": user,
        "name": format!("mesolite run {}", st.cfg.name),
        "failover_timeout": 3600.0,
        "checkpoint": true,
        "hostname": mesolite_platform::host::hostname(),
    });
    let mut call = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {}}});
    if let Some(id) = &st.framework_id {
        info["id"] = json!({"value": id});
        call["framework_id"] = json!({"value": id});
    }
    call["subscribe"]["framework_info"] = info;
    let answer = client::request(
        master,
        Method::POST,
        "/api/v1/scheduler",
        Some(call.to_string()),
        &[],
    )
    .await?;
    if answer.status != StatusCode::OK {
        let status = answer.status;
        let body = client::read_all(answer.body).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&body).trim().to_string();
        if status == StatusCode::BAD_REQUEST {
            return Ok(End::Error(format!(
                "the master refused the subscription: {text}"
            )));
        }
        return Err(ClientError::Http(format!(
            "SUBSCRIBE answered {status}: {text}"
        )));
    }
    st.stream_id = answer
        .headers
        .get("Mesos-Stream-Id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut events = EventStream::new(answer.body);
    while let Some(record) = events.next().await? {
        let event: v1::scheduler::Event = match from_json(&record) {
            Ok(e) => e,
            Err(e) => return Err(ClientError::Stream(e.to_string())),
        };
        if let Some(end) = handle_event(st, master, event).await? {
            return Ok(end);
        }
    }
    Err(ClientError::Stream(
        "the master closed the event stream".into(),
    ))
}

async fn call(st: &RunState, master: &str, body: serde_json::Value) -> Result<(), ClientError> {
    let (status, text) = client::post_json(
        master,
        "/api/v1/scheduler",
        body.to_string(),
        &[("Mesos-Stream-Id", st.stream_id.clone())],
    )
    .await?;
    if status != StatusCode::ACCEPTED {
        return Err(ClientError::Http(format!(
            "call answered {status}: {}",
            String::from_utf8_lossy(&text).trim()
        )));
    }
    Ok(())
}

async fn handle_event(
    st: &mut RunState,
    master: &str,
    event: v1::scheduler::Event,
) -> Result<Option<End>, ClientError> {
    use v1::scheduler::EventType as E;
    match event.kind {
        Some(E::Subscribed) => {
            if let Some(s) = event.subscribed {
                st.framework_id = Some(s.framework_id.value);
            }
            if st.launched {
                // Back after a reconnect: ask where the task stands.
                let fid = st.framework_id.clone().unwrap_or_default();
                let mut task = json!({"task_id": {"value": st.task_id}});
                if let Some((agent_id, _, _)) = &st.agent {
                    task["agent_id"] = json!({"value": agent_id});
                }
                call(st, master, json!({"framework_id": {"value": fid}, "type": "RECONCILE", "reconcile": {"tasks": [task]}})).await?;
            }
        }
        Some(E::Offers) => {
            let offers = event.offers.map(|o| o.offers).unwrap_or_default();
            handle_offers(st, master, offers).await?;
        }
        Some(E::Update) => {
            if let Some(u) = event.update {
                return handle_update(st, master, u.status).await;
            }
        }
        Some(E::Error) => {
            let msg = event.error.map(|e| e.message).unwrap_or_default();
            return Ok(Some(End::Error(format!("the master sent an error: {msg}"))));
        }
        _ => {}
    }
    Ok(None)
}

fn scalar(offer: &v1::Offer, name: &str) -> f64 {
    offer
        .resources
        .iter()
        .filter(|r| r.name == name)
        .filter_map(|r| r.scalar.map(|s| s.value))
        .sum()
}

async fn handle_offers(
    st: &mut RunState,
    master: &str,
    offers: Vec<v1::Offer>,
) -> Result<(), ClientError> {
    let fid = st.framework_id.clone().unwrap_or_default();
    let (cpus, mem) = (st.cfg.cpus.as_f64(), st.cfg.mem_mb.as_f64());
    let fits = |o: &v1::Offer| scalar(o, "cpus") + 1e-9 >= cpus && scalar(o, "mem") + 1e-9 >= mem;
    let chosen = if st.launched {
        None
    } else {
        offers.iter().position(fits)
    };
    for (i, offer) in offers.iter().enumerate() {
        if Some(i) == chosen {
            continue;
        }
        // Once launched, no more offers are wanted for a long time.
        let refuse = if st.launched { 3600.0 } else { 1.0 };
        call(st, master, json!({"framework_id": {"value": fid}, "type": "DECLINE", "decline": {"offer_ids": [{"value": offer.id.value}], "filters": {"refuse_seconds": refuse}}})).await?;
    }
    let Some(i) = chosen else {
        if !st.launched && !st.waiting_said {
            eprintln!(
                "mesolite run: waiting for an offer with cpus:{} and mem:{}",
                st.cfg.cpus, st.cfg.mem_mb
            );
            st.waiting_said = true;
        }
        return Ok(());
    };
    let offer = &offers[i];
    let command = match &st.cfg.command {
        RunCommand::Shell(line) => json!({"shell": true, "value": line}),
        RunCommand::Argv(argv) => json!({"shell": false, "value": argv[0], "arguments": argv}),
    };
    let task = json!({
        "name": st.cfg.name,
        "task_id": {"value": st.task_id},
        "agent_id": {"value": offer.agent_id.value},
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}},
        ],
        "command": command,
    });
    let accept = json!({
        "framework_id": {"value": fid},
        "type": "ACCEPT",
        "accept": {"offer_ids": [{"value": offer.id.value}], "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}], "filters": {"refuse_seconds": 5.0}},
    });
    let addr = offer.url.as_ref().map(|u| {
        let ip = u
            .address
            .ip
            .clone()
            .or_else(|| u.address.hostname.clone())
            .unwrap_or_default();
        (
            format!("{ip}:{}", u.address.port),
            u.path.clone().unwrap_or_default(),
        )
    });
    if let Some((addr, path)) = addr {
        st.agent = Some((offer.agent_id.value.clone(), addr, path));
    }
    call(st, master, accept).await?;
    st.launched = true;
    eprintln!(
        "mesolite run: launching task {} on agent {} ({})",
        st.task_id, offer.agent_id.value, offer.hostname
    );
    Ok(())
}

async fn handle_update(
    st: &mut RunState,
    master: &str,
    status: v1::TaskStatus,
) -> Result<Option<End>, ClientError> {
    if status.task_id.value != st.task_id {
        return Ok(None);
    }
    let fid = st.framework_id.clone().unwrap_or_default();
    if st.last_state != Some(status.state) {
        st.last_state = Some(status.state);
        let msg = status
            .message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        eprintln!(
            "mesolite run: task {} {}{msg}",
            st.task_id,
            status.state.wire_name()
        );
    }
    if let (Some(uuid), Some(agent)) = (&status.uuid, &status.agent_id) {
        call(st, master, json!({"framework_id": {"value": fid}, "type": "ACKNOWLEDGE", "acknowledge": {"agent_id": {"value": agent.value}, "task_id": {"value": st.task_id}, "uuid": v1::base64::encode(&uuid.0)}})).await?;
    }
    if !status.state.is_terminal() {
        return Ok(None);
    }
    print_sandbox(st).await;
    let _ = call(
        st,
        master,
        json!({"framework_id": {"value": fid}, "type": "TEARDOWN"}),
    )
    .await;
    Ok(Some(End::Task(status.state)))
}

/// Prints the task's stdout and stderr from the agent's sandbox.
async fn print_sandbox(st: &RunState) {
    let (Some((agent_id, addr, prefix)), Some(fid)) = (&st.agent, &st.framework_id) else {
        return;
    };
    for (name, to_stderr) in [("stdout", false), ("stderr", true)] {
        let path = format!(
            "slaves/{agent_id}/frameworks/{fid}/executors/{}/runs/latest/{name}",
            st.task_id
        );
        let mut offset = 0u64;
        loop {
            let url = format!(
                "{prefix}/files/read?path={}&offset={offset}",
                encode_query(&path)
            );
            let Ok((status, body)) = client::get(addr, &url).await else {
                break;
            };
            if status != StatusCode::OK {
                break;
            }
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
                break;
            };
            let data = v["data"].as_str().unwrap_or_default();
            if data.is_empty() {
                break;
            }
            offset += data.len() as u64;
            if to_stderr {
                eprint!("{data}");
            } else {
                print_out(data);
            }
        }
    }
}

fn encode_query(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_./".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
