//! The agent's HTTP endpoints: the v1 executor API (`/api/v1/executor`), and routing of the
//! agent's operator API and legacy endpoints (see [`crate::operator`]). Served under
//! `/slave(1)` too (only there in `standalone`).

use crate::agent_driver::AgentDriver;
use crate::convert;
use crate::http::{self, Body, Handler};
use crate::master_http::AgentSide;
use crate::operator::agent::AgentProcess;
use crate::operator::{self, files, flags::FlagSet, legacy};
use crate::v1::{self, from_json, to_ascii_json};
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use mesolite_core::ids::{validate_id, ExecutorId, FrameworkId, TaskId};
use smol::stream::StreamExt;
use std::rc::Rc;

/// The agent's request handler. Paths may carry `prefix` (`/slave(1)` in standalone) or not.
/// `process` holds the flags no state machine holds (work dir, master address).
pub fn handler(d: Rc<AgentDriver>, prefix: &'static str, process: FlagSet) -> Handler {
    side(d, prefix, process).handler
}

/// The handler and a metrics source, for serving the agent beside a master (`standalone`).
pub fn side(d: Rc<AgentDriver>, prefix: &'static str, process: FlagSet) -> AgentSide {
    let process = Rc::new(AgentProcess {
        flags: process,
        started: d.clock.wall(),
    });
    let (md, mp) = (d.clone(), process.clone());
    AgentSide {
        handler: Rc::new(move |req| {
            let d = d.clone();
            let process = process.clone();
            Box::pin(async move { route(d, process, prefix, req).await })
        }),
        metrics: Rc::new(move || {
            operator::metrics::agent(&md.agent.borrow(), mp.started, md.clock.wall())
        }),
    }
}

async fn route(
    d: Rc<AgentDriver>,
    process: Rc<AgentProcess>,
    prefix: &str,
    req: Request<Incoming>,
) -> Response<Body> {
    let full = req.uri().path().to_string();
    let path = full
        .strip_prefix("/slave(1)")
        .or_else(|| full.strip_prefix(prefix).filter(|_| !prefix.is_empty()))
        .unwrap_or(&full);
    let read_only = req.method() == Method::GET || req.method() == Method::HEAD;
    let json = |v: serde_json::Value| http::json(StatusCode::OK, to_ascii_json(&v));
    match path {
        "/api/v1/executor" => return executor_api(d, req).await,
        "/api/v1" | "/api/v1/operator" => return operator::agent::call(d, process, req).await,
        _ => {}
    }
    // Read (and drop) any body first: answering before it is read makes hyper close the
    // connection, which breaks keep-alive clients.
    let (req, _) = match http::read_body(req).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let known = matches!(
        path,
        "/files/read"
            | "/files/read.json"
            | "/files/browse"
            | "/files/browse.json"
            | "/health"
            | "/version"
            | "/state"
            | "/state.json"
            | "/flags"
            | "/metrics/snapshot"
            | "/monitor/statistics"
            | "/monitor/statistics.json"
    );
    if !known {
        return operator::not_implemented(&full);
    }
    if !read_only {
        let mut resp = http::error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Expecting a 'GET' request, received '{}'", req.method),
        );
        resp.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("GET"),
        );
        return resp;
    }
    match path {
        "/files/read" | "/files/read.json" => files::read(&d, &req.uri),
        "/files/browse" | "/files/browse.json" => files::browse(&d, &req.uri),
        "/health" => http::empty(StatusCode::OK),
        "/version" => http::json(StatusCode::OK, operator::version::version_json()),
        "/state" | "/state.json" => {
            let a = d.agent.borrow();
            let flags = operator::flags::agent(a.config(), &process.flags);
            json(legacy::agent_state(
                &a,
                &flags,
                &d.work_dir,
                process.started,
            ))
        }
        "/flags" => {
            let a = d.agent.borrow();
            json(operator::flags::agent(a.config(), &process.flags).to_legacy_json())
        }
        "/metrics/snapshot" => json(
            operator::metrics::agent(&d.agent.borrow(), process.started, d.clock.wall())
                .to_snapshot_json(),
        ),
        _ => files::monitor_statistics(&d),
    }
}

async fn executor_api(d: Rc<AgentDriver>, req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = match http::read_body(req).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    if let Err(resp) = http::check_v1_request(&parts) {
        return resp;
    }
    let call: v1::executor::Call = match from_json(&body) {
        Ok(c) => c,
        Err(e) => {
            return http::error(
                StatusCode::BAD_REQUEST,
                format!("Failed to parse body into Call: {e}"),
            )
        }
    };
    let framework_id = FrameworkId::new(call.framework_id.value.clone());
    let executor_id = ExecutorId::new(call.executor_id.value.clone());
    let (now, wall) = (d.clock.now(), d.clock.wall());
    use v1::executor::CallType as T;
    match call.kind {
        Some(T::Subscribe) => {
            let subscribe = call.subscribe.unwrap_or_default();
            let mut tasks = Vec::with_capacity(subscribe.unacknowledged_tasks.len());
            for t in &subscribe.unacknowledged_tasks {
                if let Err(e) = validate_id("task_id", &t.task_id.value) {
                    return http::error(StatusCode::BAD_REQUEST, e.to_string());
                }
                tasks.push(TaskId::new(t.task_id.value.clone()));
            }
            let mut updates = Vec::with_capacity(subscribe.unacknowledged_updates.len());
            for u in &subscribe.unacknowledged_updates {
                match convert::status_from_v1(&u.status, wall) {
                    Ok(s) => updates.push(s),
                    Err(e) => return http::error(StatusCode::BAD_REQUEST, e),
                }
            }
            let (stream, rx) = d.open_executor_stream();
            let result = d.agent.borrow_mut().handle_executor_subscribe_with(
                now,
                wall,
                stream,
                &framework_id,
                &executor_id,
                &tasks,
                updates,
            );
            d.drain();
            match result {
                Ok(()) => {
                    let guard = d.stream_guard(stream);
                    let rx = rx.map(move |chunk: Bytes| {
                        let _keep = &guard;
                        chunk
                    });
                    http::stream(rx, None)
                }
                Err(e) => {
                    d.executor_stream_closed(stream);
                    http::error(StatusCode::BAD_REQUEST, e.to_string())
                }
            }
        }
        Some(T::Update) => {
            let Some(update) = call.update.as_ref() else {
                return http::error(StatusCode::BAD_REQUEST, "Missing required fields: update");
            };
            let status = match convert::status_from_v1(&update.status, wall) {
                Ok(s) => s,
                Err(e) => return http::error(StatusCode::BAD_REQUEST, e),
            };
            let result = d.agent.borrow_mut().handle_executor_update(
                now,
                wall,
                &framework_id,
                &executor_id,
                status,
            );
            d.drain();
            match result {
                Ok(()) => http::empty(StatusCode::ACCEPTED),
                Err(e) => http::error(StatusCode::BAD_REQUEST, e.to_string()),
            }
        }
        Some(T::Message) => {
            let Some(m) = call.message.as_ref() else {
                return http::error(StatusCode::BAD_REQUEST, "Missing required fields: message");
            };
            let result = d.agent.borrow_mut().handle_executor_message(
                &framework_id,
                &executor_id,
                m.data.0.clone(),
            );
            d.drain();
            match result {
                Ok(()) => http::empty(StatusCode::ACCEPTED),
                Err(e) => http::error(StatusCode::BAD_REQUEST, e.to_string()),
            }
        }
        _ => http::error(StatusCode::BAD_REQUEST, "Missing required fields: type"),
    }
}
