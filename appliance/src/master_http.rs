//! The master's HTTP endpoints: the v1 scheduler API (`/api/v1/scheduler`), routing of the
//! operator API and legacy endpoints (see [`crate::operator`]), and the refusal of libprocess
//! driver messages. In `standalone` the agent's endpoints are served from the same port.

use crate::convert;
use crate::http::{self, Body, Handler};
use crate::master_driver::{log, MasterDriver};
use crate::operator::{self, flags::FlagSet, legacy, metrics::Metrics};
use crate::v1::{self, from_json, to_ascii_json};
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use mesolite_core::ids::FrameworkId;
use mesolite_core::master::{CallError, SubscribeError};
use mesolite_core::time::WallTime;
use smol::stream::StreamExt;
use std::rc::Rc;

/// The agent served on the master's port in `standalone`: its handler (for every path the
/// master does not serve) and its metrics (merged into `/metrics/snapshot`, as one Mesos
/// process reports all of its metrics there).
#[derive(Clone)]
pub struct AgentSide {
    pub handler: Handler,
    pub metrics: Rc<dyn Fn() -> Metrics>,
}

/// The master's request handler. `process` holds the flags no state machine holds (work dir).
pub fn handler(d: Rc<MasterDriver>, process: FlagSet, agent: Option<AgentSide>) -> Handler {
    let process = Rc::new(process);
    Rc::new(move |req| {
        let d = d.clone();
        let agent = agent.clone();
        let process = process.clone();
        Box::pin(async move { route(d, process, agent, req).await })
    })
}

/// Legacy endpoints are read-only: GET (and HEAD) only.
fn read_only(method: &Method) -> Option<Response<Body>> {
    if method == Method::GET || method == Method::HEAD {
        return None;
    }
    let mut resp = http::error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Expecting a 'GET' request, received '{method}'"),
    );
    resp.headers_mut().insert(
        hyper::header::ALLOW,
        hyper::header::HeaderValue::from_static("GET"),
    );
    Some(resp)
}

async fn route(
    d: Rc<MasterDriver>,
    process: Rc<FlagSet>,
    agent: Option<AgentSide>,
    req: Request<Incoming>,
) -> Response<Body> {
    let full = req.uri().path().to_string();
    let path = full
        .strip_prefix("/master")
        .filter(|p| p.starts_with('/'))
        .unwrap_or(&full);
    let legacy = matches!(
        path,
        "/version"
            | "/health"
            | "/state"
            | "/state.json"
            | "/redirect"
            | "/slaves"
            | "/frameworks"
            | "/flags"
            | "/metrics/snapshot"
    );
    match path {
        "/api/v1/scheduler" => return scheduler(d, req).await,
        "/api/v1" | "/api/v1/operator" => return operator::master::call(d, process, req).await,
        "/quota" => return operator::quota::legacy(&d, path, req).await,
        p if p.starts_with("/quota/") => return operator::quota::legacy(&d, path, req).await,
        "/maintenance/schedule" | "/maintenance/status" | "/machine/down" | "/machine/up" => {
            return operator::maintenance::legacy(&d, path, req).await
        }
        _ => {}
    }
    let internal = path.starts_with("/mesos.internal.");
    if !legacy && !internal {
        if let Some(agent) = agent.as_ref() {
            return (agent.handler)(req).await;
        }
    }
    // Read (and drop) any body first: answering before it is read makes hyper close the
    // connection, which breaks keep-alive clients (pymesos reuses connections).
    let (req, _) = match http::read_body(req).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    if legacy {
        if let Some(resp) = read_only(&req.method) {
            return resp;
        }
    }
    let json = |v: serde_json::Value| http::json(StatusCode::OK, to_ascii_json(&v));
    match path {
        "/version" => http::json(StatusCode::OK, operator::version::version_json()),
        "/health" => http::empty(StatusCode::OK),
        "/state" | "/state.json" => {
            let flags = operator::flags::master(d.master.borrow().config(), &process);
            legacy::master_state_response(&d, &flags)
        }
        "/slaves" => json(legacy::master_slaves(&d.master.borrow())),
        "/frameworks" => json(legacy::master_frameworks(&d.master.borrow())),
        "/flags" => {
            let m = d.master.borrow();
            json(operator::flags::master(m.config(), &process).to_legacy_json())
        }
        "/metrics/snapshot" => {
            let mut metrics = operator::metrics::master(&d.master.borrow(), d.clock.wall());
            if let Some(agent) = &agent {
                metrics.extend((agent.metrics)());
            }
            json(metrics.to_snapshot_json())
        }
        "/redirect" => {
            let m = d.master.borrow();
            let mut resp = http::empty(StatusCode::TEMPORARY_REDIRECT);
            let loc = format!("//{}:{}", m.config().hostname, m.config().port);
            if let Ok(v) = hyper::header::HeaderValue::from_str(&loc) {
                resp.headers_mut().insert(hyper::header::LOCATION, v);
            }
            resp
        }
        p if p.starts_with("/mesos.internal.") => {
            let from = req
                .headers
                .get("Libprocess-From")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("an unknown sender")
                .to_string();
            log(&format!("refusing libprocess message {p} from {from}: mesolite speaks the v1 HTTP APIs only"));
            http::error(
                StatusCode::NOT_IMPLEMENTED,
                "mesolite does not speak the libprocess driver protocol; use the v1 HTTP scheduler API",
            )
        }
        _ => operator::not_implemented(&full),
    }
}

fn now(d: &MasterDriver) -> (mesolite_core::time::Instant, WallTime) {
    (d.clock.now(), d.clock.wall())
}

async fn scheduler(d: Rc<MasterDriver>, req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = match http::read_body(req).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    if let Err(resp) = http::check_v1_request(&parts) {
        return resp;
    }
    let call: v1::scheduler::Call = match from_json(&body) {
        Ok(c) => c,
        Err(e) => {
            return http::error(
                StatusCode::BAD_REQUEST,
                format!("Failed to parse body into Call: {e}"),
            )
        }
    };
    let stream_token = parts
        .headers
        .get("Mesos-Stream-Id")
        .and_then(|v| v.to_str().ok());
    if call.kind == Some(v1::scheduler::CallType::Subscribe) {
        if stream_token.is_some() {
            return http::error(
                StatusCode::BAD_REQUEST,
                "Expecting 'Mesos-Stream-Id' header to be absent on SUBSCRIBE",
            );
        }
        return subscribe(&d, &call);
    }
    let Some(framework_id) = call.framework_id.as_ref() else {
        return http::error(
            StatusCode::BAD_REQUEST,
            "Missing required fields: framework_id",
        );
    };
    let framework_id = FrameworkId::new(framework_id.value.clone());
    let core_call = match convert::scheduler_call_from_v1(&call) {
        Ok(Some(c)) => c,
        Ok(None) => return http::empty(StatusCode::ACCEPTED),
        Err(e @ convert::CallInputError::Unsupported(_)) => {
            return http::error(StatusCode::NOT_IMPLEMENTED, e.to_string())
        }
        Err(e) => return http::error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let (now, wall) = now(&d);
    let result = d.master.borrow_mut().handle_scheduler_call(
        now,
        wall,
        &framework_id,
        stream_token,
        core_call,
    );
    d.drain();
    match result {
        Ok(()) => http::empty(StatusCode::ACCEPTED),
        Err(e @ CallError::NotReady) => http::error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(e @ CallError::NotSubscribed) => http::error(StatusCode::FORBIDDEN, e.to_string()),
        Err(e) => http::error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

fn subscribe(d: &Rc<MasterDriver>, call: &v1::scheduler::Call) -> Response<Body> {
    let Some(sub) = call.subscribe.as_ref() else {
        return http::error(
            StatusCode::BAD_REQUEST,
            "Missing required fields: subscribe",
        );
    };
    let spec = match convert::framework_from_v1(&sub.framework_info) {
        Ok(s) => s,
        Err(e) => return http::error(StatusCode::BAD_REQUEST, e),
    };
    if let (Some(a), Some(b)) = (&call.framework_id, &sub.framework_info.id) {
        if a.value != b.value {
            return http::error(
                StatusCode::BAD_REQUEST,
                "'framework_id' differs from 'subscribe.framework_info.id'",
            );
        }
    }
    let (stream, rx, guard) = d.open_stream();
    let (now, wall) = now(d);
    let result = d
        .master
        .borrow_mut()
        .handle_subscribe(now, wall, stream, spec);
    match result {
        Ok(sub) => {
            d.drain();
            // The guard lives as long as the response body: dropping it reports the stream closed.
            let rx = rx.map(move |chunk: Bytes| {
                let _keep = &guard;
                chunk
            });
            http::stream(rx, Some(&sub.stream_token))
        }
        Err(e) => {
            drop(guard);
            let status = match e {
                SubscribeError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
                SubscribeError::TooManyFrameworks => StatusCode::SERVICE_UNAVAILABLE,
                SubscribeError::InvalidRole(_)
                | SubscribeError::RoleChanged { .. }
                | SubscribeError::InvalidRoles(_)
                | SubscribeError::Removed(_) => StatusCode::BAD_REQUEST,
            };
            http::error(status, e.to_string())
        }
    }
}
