//! The state queries of the operator API (GET_STATE, GET_TASKS, GET_EXECUTORS, GET_FRAMEWORKS,
//! GET_AGENTS) rendered once per master state and shared by every request until the state
//! changes, and the response body that sends a rendering without copying it.
//!
//! A rendering is keyed by the master's state version (`MasterCell::version`, bumped on every
//! mutable borrow of the master), so no change can be missed. None of these answers depends on
//! the wall clock: every time in them is a time recorded in the master's state.

use super::state_json;
use crate::http::Body;
use crate::v1::operator::CallType;
use crate::v1::WireEnum;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Frame, SizeHint};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::Response;
use mesolite_core::master::Master;
use std::cell::RefCell;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A state query whose answer is cached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateQuery {
    State,
    Tasks,
    Executors,
    Frameworks,
    Agents,
}

const QUERIES: usize = 5;

impl StateQuery {
    /// The cached query answering `kind`, if any.
    pub fn of(kind: CallType) -> Option<StateQuery> {
        Some(match kind {
            CallType::GetState => StateQuery::State,
            CallType::GetTasks => StateQuery::Tasks,
            CallType::GetExecutors => StateQuery::Executors,
            CallType::GetFrameworks => StateQuery::Frameworks,
            CallType::GetAgents => StateQuery::Agents,
            _ => return None,
        })
    }

    fn index(self) -> usize {
        self as usize
    }

    fn call_type(self) -> CallType {
        match self {
            StateQuery::State => CallType::GetState,
            StateQuery::Tasks => CallType::GetTasks,
            StateQuery::Executors => CallType::GetExecutors,
            StateQuery::Frameworks => CallType::GetFrameworks,
            StateQuery::Agents => CallType::GetAgents,
        }
    }

    /// The `Response` field holding the answer (the call type's name in lower case).
    fn field(self) -> &'static str {
        match self {
            StateQuery::State => "get_state",
            StateQuery::Tasks => "get_tasks",
            StateQuery::Executors => "get_executors",
            StateQuery::Frameworks => "get_frameworks",
            StateQuery::Agents => "get_agents",
        }
    }

    /// Writes the answer message (without the `Response` around it).
    fn render(self, m: &Master, out: &mut Vec<u8>) {
        match self {
            StateQuery::State => state_json::write_get_state(m, out),
            StateQuery::Tasks => state_json::write_get_tasks(m, out),
            StateQuery::Executors => state_json::write_get_executors(m, out),
            StateQuery::Frameworks => state_json::write_get_frameworks(m, out),
            StateQuery::Agents => state_json::write_get_agents(m, out),
        }
    }

    /// `{"type":"GET_STATE","get_state":`: what precedes the message in the `Response`.
    fn response_head(self) -> Bytes {
        Bytes::from(format!(
            "{{\"type\":\"{}\",\"{}\":",
            self.call_type().wire_name(),
            self.field()
        ))
    }
}

struct Rendered {
    version: u64,
    json: Bytes,
}

/// The latest rendering of each state query. It holds one rendering per query at most (the
/// GET_STATE one is the size of the answer: about 750 bytes per task); a stale one is replaced
/// by the next request, not kept beside it.
#[derive(Default)]
pub struct RenderCache {
    slots: RefCell<[Option<Rendered>; QUERIES]>,
    renders: std::cell::Cell<u64>,
}

impl RenderCache {
    /// The answer message of `query` for the master at state `version`: the cached rendering
    /// when it was made at that version, else a new one (which is cached).
    pub fn get(&self, query: StateQuery, version: u64, m: &Master) -> Bytes {
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[query.index()];
        if let Some(r) = slot.as_ref().filter(|r| r.version == version) {
            return r.json.clone();
        }
        // The previous size (plus room to grow) avoids copying the buffer while it grows.
        let hint = slot
            .as_ref()
            .map_or(4096, |r| r.json.len() + r.json.len() / 8);
        // Release the stale rendering before building the next one (requests still sending it
        // keep their own reference).
        *slot = None;
        let mut out = Vec::with_capacity(hint);
        query.render(m, &mut out);
        let json = Bytes::from(out);
        *slot = Some(Rendered {
            version,
            json: json.clone(),
        });
        self.renders.set(self.renders.get() + 1);
        json
    }

    /// How many renderings were made (each a cache miss).
    pub fn renders(&self) -> u64 {
        self.renders.get()
    }
}

/// The `200` answer to `query`: `{"type":..,"<field>":` + the shared rendering + `}`.
pub fn response(query: StateQuery, json: Bytes) -> Response<Body> {
    let body = SharedBody::new([query.response_head(), json, Bytes::from_static(b"}")]);
    let mut resp = Response::new(body.boxed_unsync());
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// Largest chunk handed to hyper at once. hyper copies each chunk into its write buffer when
/// the connection does not do vectored writes; chunks this size keep that buffer small and
/// reused instead of one allocation as large as the answer per connection.
const CHUNK: usize = 128 * 1024;

/// A response body made of shared `Bytes`, sent as slices of at most [`CHUNK`] bytes (slicing
/// `Bytes` copies nothing) with an exact length, so the answer has a `Content-Length`.
pub struct SharedBody<const N: usize> {
    parts: [Bytes; N],
    next: usize,
}

impl<const N: usize> SharedBody<N> {
    pub fn new(parts: [Bytes; N]) -> Self {
        SharedBody { parts, next: 0 }
    }

    fn remaining(&self) -> u64 {
        self.parts[self.next.min(N)..]
            .iter()
            .map(|p| p.len() as u64)
            .sum()
    }
}

impl<const N: usize> hyper::body::Body for SharedBody<N> {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        while let Some(part) = this.parts.get_mut(this.next) {
            if part.is_empty() {
                this.next += 1;
                continue;
            }
            let chunk = part.split_to(part.len().min(CHUNK));
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.remaining() == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining())
    }
}
