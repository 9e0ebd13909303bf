//! The state queries of the operator API (GET_STATE, GET_TASKS, GET_EXECUTORS, GET_FRAMEWORKS,
//! GET_AGENTS) rendered once per master state and shared by every request until the state
//! changes, and the response body that sends a rendering without copying it.
//!
//! A rendering is keyed by the master's state version (`MasterCell::version`, bumped on every
//! mutable borrow of the master), so no change can be missed. None of these answers depends on
//! the wall clock: every time in them is a time recorded in the master's state. A new rendering
//! copies every unchanged task from the previous one (`fragments`), into the buffer of the
//! rendering before that when no response still sends it.
//!
//! The gzip form of an answer (for requests that accept it, see `http::encoding`) is made once
//! per rendering, by the first such request, and shared like the plain one.

use super::fragments::{Buffer, Fragments, TaskWriter};
use super::{legacy, state_json};
use crate::http::{Body, Compressible, SharedGzip};
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
use std::sync::Arc;
use std::task::{Context, Poll};

/// A state query whose answer is cached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateQuery {
    State,
    Tasks,
    Executors,
    Frameworks,
    Agents,
    /// The legacy v0 `/state` document without its last member, `flags`
    /// (`legacy::master_state_response` adds it).
    LegacyState,
}

const QUERIES: usize = 6;

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

    /// The v1 call and the `Response` field holding its answer (the call type's name in lower
    /// case); none for the legacy document.
    fn call(self) -> Option<(CallType, &'static str)> {
        Some(match self {
            StateQuery::State => (CallType::GetState, "get_state"),
            StateQuery::Tasks => (CallType::GetTasks, "get_tasks"),
            StateQuery::Executors => (CallType::GetExecutors, "get_executors"),
            StateQuery::Frameworks => (CallType::GetFrameworks, "get_frameworks"),
            StateQuery::Agents => (CallType::GetAgents, "get_agents"),
            StateQuery::LegacyState => return None,
        })
    }

    /// Writes the answer message (without the `Response` around it), with its tasks written
    /// through `tasks`.
    fn render(self, m: &Master, out: &mut Vec<u8>, tasks: &mut TaskWriter<'_>) {
        match self {
            StateQuery::State => state_json::write_get_state_with(m, out, tasks),
            StateQuery::Tasks => state_json::write_get_tasks_with(m, out, tasks),
            StateQuery::Executors => state_json::write_get_executors(m, out),
            StateQuery::Frameworks => state_json::write_get_frameworks(m, out),
            StateQuery::Agents => state_json::write_get_agents(m, out),
            StateQuery::LegacyState => legacy::write_master_state_head(m, out, tasks),
        }
    }

    /// A rendering that reuses nothing, to check cached ones against.
    #[cfg(test)]
    pub fn render_fresh(self, m: &Master) -> Vec<u8> {
        let mut out = Vec::new();
        self.render(m, &mut out, &mut TaskWriter::fresh());
        out
    }

    /// `{"type":"GET_STATE","get_state":`: what precedes the message in the `Response`.
    fn response_head(self) -> Bytes {
        match self.call() {
            Some((call, field)) => {
                Bytes::from(format!("{{\"type\":\"{}\",\"{field}\":", call.wire_name()))
            }
            None => Bytes::new(),
        }
    }
}

/// The latest rendering of one query, and the buffer of the one before it.
#[derive(Default)]
struct Slot {
    current: Option<Rendered>,
    spare: Option<Buffer>,
}

struct Rendered {
    version: u64,
    buf: Buffer,
    json: Bytes,
    tasks: Fragments,
}

/// The latest rendering of each state query. It holds two buffers per query at most: the
/// latest rendering (the GET_STATE one is the size of the answer: about 750 bytes per task) and
/// the previous one's buffer, reused for the next rendering once no response holds it.
#[derive(Default)]
pub struct RenderCache {
    slots: RefCell<[Slot; QUERIES]>,
    renders: std::cell::Cell<u64>,
    reused: std::cell::Cell<u64>,
}

impl RenderCache {
    /// The answer message of `query` for the master at state `version`: the cached rendering
    /// when it was made at that version, else a new one (which is cached).
    pub fn get(&self, query: StateQuery, version: u64, m: &Master) -> Bytes {
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[query.index()];
        if let Some(r) = slot.current.as_ref().filter(|r| r.version == version) {
            return r.json.clone();
        }
        // The buffer of the rendering before the current one, unless a response still sends it.
        let mut out = slot
            .spare
            .take()
            .and_then(Buffer::reclaim)
            .unwrap_or_default();
        // The previous size (plus room to grow) avoids copying the buffer while it grows.
        let hint = slot
            .current
            .as_ref()
            .map_or(4096, |r| r.json.len() + r.json.len() / 8);
        out.reserve(hint);
        let (tasks, reused) = {
            let mut writer = match &slot.current {
                Some(prev) => TaskWriter::reusing(prev.buf.as_slice(), &prev.tasks),
                None => TaskWriter::fresh(),
            };
            query.render(m, &mut out, &mut writer);
            let reused = writer.reused();
            (writer.finish(), reused)
        };
        #[cfg(debug_assertions)]
        if reused > 0 {
            let mut fresh = Vec::new();
            query.render(m, &mut fresh, &mut TaskWriter::fresh());
            debug_assert!(fresh == out, "{query:?}: a reused task rendering is stale");
        }
        let buf = Buffer::new(out);
        let json = buf.bytes();
        let previous = slot.current.replace(Rendered {
            version,
            buf,
            json: json.clone(),
            tasks,
        });
        // The previous rendering's own `Bytes` goes with it: only responses may still hold it.
        slot.spare = previous.map(|r| r.buf);
        self.renders.set(self.renders.get() + 1);
        self.reused.set(self.reused.get() + reused as u64);
        json
    }

    /// How many renderings were made (each a cache miss).
    pub fn renders(&self) -> u64 {
        self.renders.get()
    }

    /// How many task renderings were copied from a previous rendering.
    pub fn reused_tasks(&self) -> u64 {
        self.reused.get()
    }
}

/// The `200` answer to `query`: `{"type":..,"<field>":` + the shared rendering + `}`.
pub fn response(query: StateQuery, json: Bytes) -> Response<Body> {
    let tail = Bytes::from_static(b"}");
    let gzip = shared_gzip(query, &json, &tail);
    let body = SharedBody::new([query.response_head(), json, tail]);
    let mut resp = Response::new(body.boxed_unsync());
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp.extensions_mut().insert(Compressible::shared(gzip));
    resp
}

/// The answer most recently sent for one query by this thread, and its gzip form's slot.
struct LatestAnswer {
    /// The rendering; holding it keeps its buffer from being reused, so a rendering at the
    /// same address and of the same length is this one.
    json: Bytes,
    /// What follows the rendering in the answer (`}`, or the legacy document's flags).
    tail: Bytes,
    gzip: Arc<SharedGzip>,
}

thread_local! {
    /// The gzip slot of the latest answer of each query. It lives here rather than in the
    /// `RenderCache` because an answer is made from the rendering's bytes alone
    /// (`MasterDriver::rendered`); a master and its connections share one thread.
    static LATEST: RefCell<[Option<LatestAnswer>; QUERIES]> =
        const { RefCell::new([const { None }; QUERIES]) };
}

/// The slot of the gzip form of the answer made of `query`'s rendering `json` followed by
/// `tail`: the same slot for every answer of one rendering, so it is compressed once.
pub fn shared_gzip(query: StateQuery, json: &Bytes, tail: &Bytes) -> Arc<SharedGzip> {
    LATEST.with_borrow_mut(|latest| {
        let entry = &mut latest[query.index()];
        match entry {
            Some(e)
                if e.json.as_ptr() == json.as_ptr()
                    && e.json.len() == json.len()
                    && e.tail == *tail =>
            {
                e.gzip.clone()
            }
            _ => {
                let gzip = Arc::new(SharedGzip::default());
                *entry = Some(LatestAnswer {
                    json: json.clone(),
                    tail: tail.clone(),
                    gzip: gzip.clone(),
                });
                gzip
            }
        }
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answers_of_one_rendering_share_one_gzip_slot() {
        let json = Bytes::from(vec![b'1'; 2048]);
        let close = Bytes::from_static(b"}");
        let a = shared_gzip(StateQuery::State, &json, &close);
        let b = shared_gzip(StateQuery::State, &json.clone(), &Bytes::from_static(b"}"));
        assert!(
            Arc::ptr_eq(&a, &b),
            "the same rendering and tail share a slot"
        );
        // Another query, another tail or another rendering (equal bytes elsewhere) do not.
        let other_query = shared_gzip(StateQuery::Tasks, &json, &close);
        assert!(!Arc::ptr_eq(&a, &other_query));
        let other_tail = shared_gzip(StateQuery::State, &json, &Bytes::from_static(b",{}}"));
        assert!(!Arc::ptr_eq(&a, &other_tail));
        let copy = Bytes::from(json.to_vec());
        let other_rendering = shared_gzip(StateQuery::State, &copy, &close);
        assert!(!Arc::ptr_eq(&other_tail, &other_rendering));
        assert!(!Arc::ptr_eq(&a, &other_rendering));
    }
}
