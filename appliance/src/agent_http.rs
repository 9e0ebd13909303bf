//! The agent's HTTP endpoints: the v1 executor API (`/api/v1/executor`), `/files/read` for
//! sandbox files, and `/health`, `/version`, `/state`. Served under `/slave(1)` too.

use crate::agent_driver::AgentDriver;
use crate::convert;
use crate::http::{self, Body, Handler};
use crate::v1::{self, from_json, to_ascii_json};
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use mesolite_core::ids::{ExecutorId, FrameworkId};
use smol::stream::StreamExt;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::rc::Rc;

/// Most bytes one `/files/read` answers with.
const MAX_READ: u64 = 1024 * 1024;

/// The agent's request handler. Paths may carry `prefix` (`/slave(1)` in standalone) or not.
pub fn handler(d: Rc<AgentDriver>, prefix: &'static str) -> Handler {
    Rc::new(move |req| {
        let d = d.clone();
        Box::pin(async move { route(d, prefix, req).await })
    })
}

async fn route(d: Rc<AgentDriver>, prefix: &str, req: Request<Incoming>) -> Response<Body> {
    let full = req.uri().path().to_string();
    let path = full
        .strip_prefix("/slave(1)")
        .or_else(|| full.strip_prefix(prefix).filter(|_| !prefix.is_empty()))
        .unwrap_or(&full);
    match (req.method(), path) {
        (_, "/api/v1/executor") => executor_api(d, req).await,
        (&Method::GET, "/files/read" | "/files/read.json") => read_file(&d, req.uri()),
        (&Method::GET, "/health") => http::empty(StatusCode::OK),
        (&Method::GET, "/version") => {
            http::json(StatusCode::OK, crate::master_http::version_json())
        }
        (&Method::GET, "/state" | "/state.json") => http::json(StatusCode::OK, state(&d)),
        _ => http::error(StatusCode::NOT_FOUND, format!("no such endpoint: {full}")),
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
            let (stream, rx) = d.open_executor_stream();
            let result = d.agent.borrow_mut().handle_executor_subscribe(
                now,
                stream,
                &framework_id,
                &executor_id,
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
        Some(T::Message) => http::error(
            StatusCode::NOT_IMPLEMENTED,
            "executor MESSAGE is not supported by mesolite yet",
        ),
        _ => http::error(StatusCode::BAD_REQUEST, "Missing required fields: type"),
    }
}

/// `GET /files/read?path=P&offset=N&length=L`, Mesos' answer shape `{"data":"..","offset":N}`.
/// `offset=-1` answers the file's size. Paths are relative to the agent's work dir (or absolute inside it).
fn read_file(d: &AgentDriver, uri: &hyper::Uri) -> Response<Body> {
    let Some(path) = http::query_param(uri, "path") else {
        return http::error(
            StatusCode::BAD_REQUEST,
            "Missing required query parameter 'path'",
        );
    };
    let offset: i64 = match http::query_param(uri, "offset").map(|o| o.parse::<i64>()) {
        None => 0,
        Some(Ok(o)) if o >= -1 => o,
        Some(_) => {
            return http::error(StatusCode::BAD_REQUEST, "'offset' must be an integer >= -1")
        }
    };
    let length: u64 = match http::query_param(uri, "length").map(|l| l.parse::<u64>()) {
        None => MAX_READ,
        Some(Ok(l)) => l.min(MAX_READ),
        Some(Err(_)) => {
            return http::error(
                StatusCode::BAD_REQUEST,
                "'length' must be a non-negative integer",
            )
        }
    };
    let file = match d.sandbox_file(&path) {
        Ok(f) => f,
        Err(e) => return http::error(StatusCode::NOT_FOUND, e),
    };
    let read = (|| -> std::io::Result<(Vec<u8>, u64)> {
        // Non-blocking open and a type check after it: a FIFO a task made must not block the
        // agent's event loop.
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(&file)?;
        let meta = f.metadata()?;
        if !meta.is_file() {
            return Err(std::io::Error::other("not a regular file"));
        }
        let size = meta.len();
        if offset == -1 {
            return Ok((Vec::new(), size));
        }
        let start = (offset as u64).min(size);
        f.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::new();
        f.take(length).read_to_end(&mut buf)?;
        Ok((buf, start))
    })();
    match read {
        Ok((data, offset)) => {
            let body =
                serde_json::json!({"data": String::from_utf8_lossy(&data), "offset": offset});
            http::json(StatusCode::OK, to_ascii_json(&body))
        }
        Err(e) => http::error(StatusCode::NOT_FOUND, format!("cannot read '{path}': {e}")),
    }
}

fn state(d: &AgentDriver) -> String {
    let agent = d.agent.borrow();
    let info = agent.info();
    let executors: Vec<serde_json::Value> = agent
        .executors()
        .map(|e| {
            let tasks: Vec<serde_json::Value> = e
                .tasks
                .iter()
                .map(|(t, s)| serde_json::json!({"id": t.task_id.as_str(), "name": t.name, "state": s.name()}))
                .collect();
            serde_json::json!({
                "id": e.executor_id.as_str(),
                "framework_id": e.framework_id.as_str(),
                "container": e.container_id.as_str(),
                "tasks": tasks,
            })
        })
        .collect();
    let body = serde_json::json!({
        "version": mesolite_core::master::MESOS_VERSION,
        "id": agent.id().map(|i| i.as_str().to_string()),
        "hostname": info.hostname,
        "pid": format!("slave(1)@{}:{}", info.ip, info.port),
        "resources": info.resources.to_string(),
        "registered": matches!(agent.link(), mesolite_core::agent::MasterLink::Registered),
        "executors": executors,
    });
    to_ascii_json(&body)
}
