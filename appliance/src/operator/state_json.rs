//! GET_STATE and its parts (GET_TASKS, GET_EXECUTORS, GET_FRAMEWORKS, GET_AGENTS) written as
//! compact ASCII-only JSON straight from the master's views into one buffer.
//!
//! Tasks dominate the size of the answer (tens of thousands of them with their statuses), so
//! they are written by hand from `TaskView`s without building owned `v1::Task` copies. The
//! bytes are exactly those `to_ascii_json` writes for the `v1` message built by
//! `operator::master` (same fields, same order, same number and string formatting); the tests
//! below compare the two. The parts that are small (agents, frameworks, executors) and the rare
//! cases (reserved resources, statuses with a reason) go through the `v1` types themselves.

use super::fragments::TaskWriter;
use super::master::{get_agents, get_executors, get_frameworks};
use crate::convert;
use crate::v1::ascii_json::AsciiFormatter;
use crate::v1::{self, WireEnum};
use mesolite_core::master::{Master, TaskView};
use mesolite_core::resources::{Resource, Value};
use mesolite_core::wire::{StatusSource, TaskStatus};
use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};

/// The `GetState` message: `{"get_tasks":..,"get_executors":..,"get_frameworks":..,"get_agents":..}`.
pub fn write_get_state(m: &Master, out: &mut Vec<u8>) {
    write_get_state_with(m, out, &mut TaskWriter::fresh());
}

/// [`write_get_state`] with the tasks written through `tasks` (which may copy them from a
/// previous rendering).
pub fn write_get_state_with(m: &Master, out: &mut Vec<u8>, tasks: &mut TaskWriter<'_>) {
    out.extend_from_slice(b"{\"get_tasks\":");
    write_get_tasks_with(m, out, tasks);
    out.extend_from_slice(b",\"get_executors\":");
    write_get_executors(m, out);
    out.extend_from_slice(b",\"get_frameworks\":");
    write_get_frameworks(m, out);
    out.extend_from_slice(b",\"get_agents\":");
    write_get_agents(m, out);
    out.push(b'}');
}

/// The `GetTasks` message: live tasks, tasks of unreachable agents and the recently completed
/// ones (empty lists omitted).
pub fn write_get_tasks(m: &Master, out: &mut Vec<u8>) {
    write_get_tasks_with(m, out, &mut TaskWriter::fresh());
}

/// [`write_get_tasks`] with the tasks written through `tasks`.
pub fn write_get_tasks_with(m: &Master, out: &mut Vec<u8>, tasks: &mut TaskWriter<'_>) {
    let mut obj = Obj::open(out);
    write_task_list(&mut obj, "tasks", m.tasks(), tasks);
    write_task_list(
        &mut obj,
        "unreachable_tasks",
        m.unreachable_tasks().map(|(t, _)| t),
        tasks,
    );
    write_task_list(&mut obj, "completed_tasks", m.completed_tasks(), tasks);
    obj.close();
}

/// The `GetExecutors` message.
pub fn write_get_executors(m: &Master, out: &mut Vec<u8>) {
    write_serde(out, &get_executors(m));
}

/// The `GetFrameworks` message, with each framework's allocation and offers gathered in one
/// pass over tasks and offers.
pub fn write_get_frameworks(m: &Master, out: &mut Vec<u8>) {
    write_serde(out, &get_frameworks(m));
}

/// The `GetAgents` message.
pub fn write_get_agents(m: &Master, out: &mut Vec<u8>) {
    write_serde(out, &get_agents(m));
}

/// One `Task` message.
///
/// Every message here starts with a field that is always present, so each further field is
/// written as `,"key":value` with the key and punctuation as one literal.
pub fn write_task(t: &TaskView<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"name\":");
    write_str(out, t.name);
    out.extend_from_slice(b",\"task_id\":{\"value\":");
    write_str(out, t.task_id.as_str());
    out.extend_from_slice(b"},\"framework_id\":{\"value\":");
    write_str(out, t.framework_id.as_str());
    if t.executor_id.as_str() != t.task_id.as_str() {
        out.extend_from_slice(b"},\"executor_id\":{\"value\":");
        write_str(out, t.executor_id.as_str());
    }
    out.extend_from_slice(b"},\"agent_id\":{\"value\":");
    write_str(out, t.agent_id.as_str());
    out.extend_from_slice(b"},\"state\":");
    write_raw_str(out, t.state.wire_name());
    if !t.resources.is_empty() {
        out.extend_from_slice(b",\"resources\":[");
        for (i, r) in t.resources.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_resource(r, out);
        }
        out.push(b']');
    }
    if !t.statuses.is_empty() {
        out.extend_from_slice(b",\"statuses\":[");
        for (i, s) in t.statuses.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_status(s, out);
        }
        out.push(b']');
    }
    if let Some(state) = t.status_update_state {
        out.extend_from_slice(b",\"status_update_state\":");
        write_raw_str(out, state.wire_name());
    }
    if let Some(uuid) = &t.status_update_uuid {
        out.extend_from_slice(b",\"status_update_uuid\":");
        write_base64(out, uuid);
    }
    out.push(b'}');
}

/// `"key":[task,...]` unless there are none.
fn write_task_list<'a>(
    obj: &mut Obj<'_>,
    key: &str,
    list: impl Iterator<Item = TaskView<'a>>,
    tasks: &mut TaskWriter<'_>,
) {
    let mut list = list.peekable();
    if list.peek().is_none() {
        return;
    }
    let out = obj.key(key);
    out.push(b'[');
    for (i, t) in list.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        tasks.write(&t, out, write_task);
    }
    out.push(b']');
}

/// One `TaskStatus` message, as `convert::status_to_v1` builds it.
fn write_status(s: &TaskStatus, out: &mut Vec<u8>) {
    if s.reason.is_some() {
        // Reasons are rare (failures); their names live with the `v1` conversion.
        write_serde(out, &convert::status_to_v1(s));
        return;
    }
    out.extend_from_slice(b"{\"task_id\":{\"value\":");
    write_str(out, s.task_id.as_str());
    out.extend_from_slice(b"},\"state\":");
    write_raw_str(out, s.state.wire_name());
    if let Some(message) = &s.message {
        out.extend_from_slice(b",\"message\":");
        write_str(out, message);
    }
    let source = match s.source {
        StatusSource::Master => v1::StatusSource::Master,
        StatusSource::Agent => v1::StatusSource::Agent,
        StatusSource::Executor => v1::StatusSource::Executor,
    };
    out.extend_from_slice(b",\"source\":");
    write_raw_str(out, source.wire_name());
    if !s.data.is_empty() {
        out.extend_from_slice(b",\"data\":");
        write_base64(out, &s.data);
    }
    if let Some(agent) = &s.agent_id {
        out.extend_from_slice(b",\"agent_id\":{\"value\":");
        write_str(out, agent.as_str());
        out.push(b'}');
    }
    if let Some(executor) = &s.executor_id {
        out.extend_from_slice(b",\"executor_id\":{\"value\":");
        write_str(out, executor.as_str());
        out.push(b'}');
    }
    out.extend_from_slice(b",\"timestamp\":");
    write_f64(out, s.timestamp.as_secs_f64());
    if let Some(uuid) = &s.uuid {
        out.extend_from_slice(b",\"uuid\":");
        write_base64(out, uuid);
    }
    if let Some(t) = s.unreachable_time {
        out.extend_from_slice(b",\"unreachable_time\":{\"nanoseconds\":");
        write_i64(out, t.unix_nanos as i64);
        out.push(b'}');
    }
    out.push(b'}');
}

/// One `Resource` in the pre-refinement format without `allocation_info`, as
/// `convert::resources_to_v1(.., None)` builds it.
fn write_resource(r: &Resource, out: &mut Vec<u8>) {
    if r.meta.is_some() {
        // Reserved, shared, revocable or disk resources: rare, and their shape has many cases.
        let mut res = v1::resources::resource_to_v1(r);
        v1::resources::downgrade_to_pre_refinement(&mut res);
        write_serde(out, &res);
        return;
    }
    out.extend_from_slice(b"{\"name\":");
    write_str(out, r.name.as_str());
    match &r.value {
        Value::Scalar(f) => {
            out.extend_from_slice(b",\"type\":\"SCALAR\",\"scalar\":{\"value\":");
            write_f64(out, f.as_f64());
            out.push(b'}');
        }
        Value::Ranges(set) => {
            out.extend_from_slice(b",\"type\":\"RANGES\",\"ranges\":{");
            if !set.as_slice().is_empty() {
                out.extend_from_slice(b"\"range\":[");
                for (i, range) in set.as_slice().iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"{\"begin\":");
                    write_u64(out, range.begin);
                    out.extend_from_slice(b",\"end\":");
                    write_u64(out, range.end);
                    out.push(b'}');
                }
                out.push(b']');
            }
            out.push(b'}');
        }
        Value::Set(items) => {
            out.extend_from_slice(b",\"type\":\"SET\",\"set\":{");
            if !items.as_slice().is_empty() {
                out.extend_from_slice(b"\"item\":[");
                for (i, item) in items.as_slice().iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, item.as_str());
                }
                out.push(b']');
            }
            out.push(b'}');
        }
    }
    // An unreserved resource reads as role "*" in the pre-refinement format.
    out.extend_from_slice(b",\"role\":\"*\"}");
}

/// A JSON object being written: tracks whether a comma precedes the next key.
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, first: true }
    }

    /// Writes `"key":` (the key is a proto field name: plain ASCII) and returns the buffer for
    /// the value.
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// A string known to need no escaping (an enum name).
pub(super) fn write_raw_str(out: &mut Vec<u8>, s: &str) {
    debug_assert!(s
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\'));
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A JSON string as serde_json escapes it (`\"`, `\\`, the short control escapes, `\u00XX` for
/// other control characters) with every non-ASCII character written as `\uXXXX` UTF-16 units,
/// as `AsciiFormatter` does.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    if needs_no_escape(s.as_bytes()) {
        out.extend_from_slice(s.as_bytes());
    } else {
        write_escaped(out, s);
    }
    out.push(b'"');
}

/// Whether every byte is printable ASCII other than `"` and `\\` (the common case: ids and
/// names), tested eight bytes at a time.
fn needs_no_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let x = u64::from_le_bytes(w);
        // The classic "has a byte less than n" and "has a zero byte" tests: exact as to
        // whether such a byte exists, which is all that is needed.
        let control = x.wrapping_sub(ONES * 0x20) & !x;
        let q = x ^ (ONES * u64::from(b'"'));
        let quote = q.wrapping_sub(ONES) & !q;
        let b = x ^ (ONES * u64::from(b'\\'));
        let backslash = b.wrapping_sub(ONES) & !b;
        if (control | quote | backslash | x) & HIGH != 0 {
            return false;
        }
    }
    words
        .remainder()
        .iter()
        .all(|&b| (0x20..0x80).contains(&b) && b != b'"' && b != b'\\')
}

/// The body of a string that needs escapes.
fn write_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            0x20..=0x7f => {
                i += 1;
                continue;
            }
            _ => {
                out.extend_from_slice(&bytes[start..i]);
                // `i` is on a character boundary: only whole characters are skipped.
                let ch = s[i..].chars().next().unwrap_or(char::REPLACEMENT_CHARACTER);
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    write_u_escape(out, *unit);
                }
                i += ch.len_utf8();
                start = i;
                continue;
            }
        };
        out.extend_from_slice(&bytes[start..i]);
        if short.is_empty() {
            write_u_escape(out, u16::from(b));
        } else {
            out.extend_from_slice(short);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
}

fn write_u_escape(out: &mut Vec<u8>, unit: u16) {
    out.extend_from_slice(b"\\u");
    for shift in [12, 8, 4, 0] {
        out.push(HEX[usize::from((unit >> shift) & 0xf)]);
    }
}

/// Bytes as a padded standard Base64 JSON string (`v1::Bytes`, as `v1::base64::encode`
/// writes it) without an intermediate `String`.
pub(super) fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.push(b'"');
    for chunk in bytes.chunks(3) {
        let b0 = chunk[0];
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        let symbol = |shift: u32| ALPHABET[((n >> shift) & 0x3f) as usize];
        out.extend_from_slice(&[
            symbol(18),
            symbol(12),
            if chunk.len() > 1 { symbol(6) } else { b'=' },
            if chunk.len() > 2 { symbol(0) } else { b'=' },
        ]);
    }
    out.push(b'"');
}

/// A number as serde_json writes an `f64`: the shortest round-trip form, `null` when not finite.
pub(super) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        // Writing into a `Vec` cannot fail.
        let _ = CompactFormatter.write_f64(out, v);
    } else {
        out.extend_from_slice(b"null");
    }
}

pub(super) fn write_i64(out: &mut Vec<u8>, v: i64) {
    let _ = CompactFormatter.write_i64(out, v);
}

pub(super) fn write_u64(out: &mut Vec<u8>, v: u64) {
    let _ = CompactFormatter.write_u64(out, v);
}

/// A `v1` message through serde with the ASCII-only formatter, as `to_ascii_json` writes it
/// (`null` should serialization fail, which the `v1` types never do).
pub(super) fn write_serde<T: Serialize>(out: &mut Vec<u8>, value: &T) {
    let start = out.len();
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, AsciiFormatter);
    if value.serialize(&mut ser).is_err() {
        out.truncate(start);
        out.extend_from_slice(b"null");
    }
}

#[cfg(test)]
#[path = "state_json_tests.rs"]
mod tests;
