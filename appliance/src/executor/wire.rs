//! The executor's slice of the v1 executor API: JSON calls and events, RecordIO, base64.
//!
//! These types hold only what the command executor reads or writes; unknown fields are ignored and
//! absent optional fields are omitted, as Mesos' JSON does.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A Mesos `*ID` message: `{"value": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Id {
    pub value: String,
}

impl Id {
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
        }
    }
}

/// The v1 `TaskStatus` an executor sends, with `source` always `SOURCE_EXECUTOR`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct TaskStatus {
    pub task_id: Id,
    pub state: &'static str,
    pub source: &'static str,
    /// The update's 16 random bytes, base64-encoded.
    pub uuid: String,
    /// Seconds since the Unix epoch.
    pub timestamp: f64,
    pub executor_id: Id,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `Call.Update`: the body of an `UPDATE` call, also an element of `unacknowledged_updates`.
#[derive(Debug, Serialize)]
pub(crate) struct UpdateBody<'a> {
    pub status: &'a TaskStatus,
}

/// `Call.Subscribe`: what the executor still holds that the agent has not acknowledged.
#[derive(Debug, Serialize)]
pub(crate) struct SubscribeBody<'a> {
    /// Tasks received but with no acknowledged update yet, as the raw `TaskInfo` JSON.
    pub unacknowledged_tasks: Vec<&'a serde_json::Value>,
    pub unacknowledged_updates: Vec<UpdateBody<'a>>,
}

/// A v1 executor `Call`.
#[derive(Debug, Serialize)]
pub(crate) struct Call<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub framework_id: &'a Id,
    pub executor_id: &'a Id,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<SubscribeBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<UpdateBody<'a>>,
}

/// A v1 executor `Event` as received; the payload matching `kind` is set.
#[derive(Debug, Deserialize)]
pub(crate) struct Event {
    #[serde(rename = "type")]
    pub kind: String,
    pub launch: Option<LaunchEvent>,
    pub launch_group: Option<LaunchGroupEvent>,
    pub kill: Option<KillEvent>,
    pub acknowledged: Option<AcknowledgedEvent>,
    pub error: Option<ErrorEvent>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct LaunchEvent {
    /// Kept raw: it goes back to the agent verbatim in `unacknowledged_tasks`.
    pub task: serde_json::Value,
}

#[derive(Debug, Deserialize)]
pub(crate) struct LaunchGroupEvent {
    pub task_group: TaskGroup,
}

/// Mesos `TaskGroupInfo`; its tasks are kept raw like a `LAUNCH`'s.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TaskGroup {
    #[serde(default)]
    pub tasks: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct KillEvent {
    pub task_id: Id,
    pub kill_policy: Option<KillPolicy>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AcknowledgedEvent {
    pub task_id: Id,
    /// Base64 of the acknowledged update's uuid.
    pub uuid: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorEvent {
    pub message: Option<String>,
}

/// The fields of a v1 `TaskInfo` that the command executor uses.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TaskInfo {
    pub task_id: Id,
    pub command: Option<CommandInfo>,
    pub kill_policy: Option<KillPolicy>,
}

/// Mesos `CommandInfo`: `shell` (default true) runs `/bin/sh -c value`; otherwise `value` is the
/// program and `arguments` the full argv, `argv[0]` included.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CommandInfo {
    pub shell: Option<bool>,
    pub value: Option<String>,
    pub arguments: Option<Vec<String>>,
    pub environment: Option<Environment>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Environment {
    pub variables: Option<Vec<Variable>>,
}

/// One `Environment.Variable`; secret-typed variables carry no `value` and are skipped.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Variable {
    pub name: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct KillPolicy {
    pub grace_period: Option<DurationInfo>,
}

/// Mesos `DurationInfo`; `nanoseconds` may be a JSON number or, as proto3 JSON writes int64, a string.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DurationInfo {
    #[serde(deserialize_with = "int64")]
    pub nanoseconds: i64,
}

fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrString {
        Num(i64),
        Str(String),
    }
    match NumOrString::deserialize(d)? {
        NumOrString::Num(n) => Ok(n),
        NumOrString::Str(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

impl KillPolicy {
    /// The grace period, if set and not negative.
    pub fn grace(&self) -> Option<std::time::Duration> {
        let nanos = self.grace_period.as_ref()?.nanoseconds;
        u64::try_from(nanos)
            .ok()
            .map(std::time::Duration::from_nanos)
    }
}

/// The largest RecordIO record the executor accepts (a `LAUNCH` carries a whole `TaskInfo`).
pub(crate) const MAX_RECORD: usize = 16 * 1024 * 1024;

/// Why a RecordIO stream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RecordIoError {
    /// The length prefix is not a decimal number followed by `\n`.
    BadLength,
    /// The length prefix exceeds [`MAX_RECORD`].
    TooLarge(u64),
}

impl fmt::Display for RecordIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadLength => f.write_str("malformed RecordIO length prefix"),
            Self::TooLarge(n) => write!(f, "RecordIO record of {n} bytes exceeds {MAX_RECORD}"),
        }
    }
}

/// Splits a byte stream framed as `<decimal length>\n<bytes>` records, independent of how the
/// bytes were chunked on the wire.
#[derive(Debug, Default)]
pub(crate) struct RecordIoDecoder {
    buf: Vec<u8>,
}

impl RecordIoDecoder {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete record, `Ok(None)` if more bytes are needed.
    pub fn next_record(&mut self) -> Result<Option<Vec<u8>>, RecordIoError> {
        // A length of at most 20 digits fits any u64; a longer prefix is malformed.
        let Some(newline) = self.buf.iter().take(21).position(|&b| b == b'\n') else {
            return if self.buf.len() > 20 || !self.buf.iter().all(u8::is_ascii_digit) {
                Err(RecordIoError::BadLength)
            } else {
                Ok(None)
            };
        };
        let digits = &self.buf[..newline];
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(RecordIoError::BadLength);
        }
        let len: u64 = std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(RecordIoError::BadLength)?;
        let len_usize = usize::try_from(len)
            .ok()
            .filter(|&l| l <= MAX_RECORD)
            .ok_or(RecordIoError::TooLarge(len))?;
        let start = newline + 1;
        if self.buf.len() - start < len_usize {
            return Ok(None);
        }
        let record = self.buf[start..start + len_usize].to_vec();
        self.buf.drain(..start + len_usize);
        Ok(Some(record))
    }
}

/// Encodes one record for a RecordIO stream.
#[cfg(test)]
pub(crate) fn recordio_frame(record: &[u8]) -> Vec<u8> {
    let mut out = format!("{}\n", record.len()).into_bytes();
    out.extend_from_slice(record);
    out
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, as Mesos encodes `bytes` fields in JSON.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard or URL-safe base64, with or without padding; `None` if malformed.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Six leftover bits cannot come from whole bytes.
    (bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_matches_known_vectors() {
        for (raw, enc) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(raw), enc);
            assert_eq!(base64_decode(enc).as_deref(), Some(raw));
        }
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(base64_decode(&base64_encode(&bytes)), Some(bytes));
        assert_eq!(base64_decode("Z"), None);
        assert_eq!(base64_decode("Zm9v!"), None);
    }

    #[test]
    fn recordio_decodes_records_split_anywhere() {
        let mut stream = recordio_frame(br#"{"type":"SUBSCRIBED"}"#);
        stream.extend(recordio_frame(b""));
        stream.extend(recordio_frame(br#"{"type":"HEARTBEAT"}"#));
        for split in 0..stream.len() {
            let mut d = RecordIoDecoder::default();
            let mut records = Vec::new();
            for part in [&stream[..split], &stream[split..]] {
                d.push(part);
                while let Some(r) = d.next_record().expect("valid") {
                    records.push(r);
                }
            }
            assert_eq!(
                records,
                vec![
                    br#"{"type":"SUBSCRIBED"}"#.to_vec(),
                    Vec::new(),
                    br#"{"type":"HEARTBEAT"}"#.to_vec()
                ],
                "split at {split}"
            );
        }
    }

    #[test]
    fn recordio_rejects_malformed_and_oversized_prefixes() {
        let mut d = RecordIoDecoder::default();
        d.push(b"x1\n{}");
        assert_eq!(d.next_record(), Err(RecordIoError::BadLength));
        let mut d = RecordIoDecoder::default();
        d.push(b"99999999999\n");
        assert_eq!(
            d.next_record(),
            Err(RecordIoError::TooLarge(99_999_999_999))
        );
        let mut d = RecordIoDecoder::default();
        d.push(b"123456789012345678901234");
        assert_eq!(d.next_record(), Err(RecordIoError::BadLength));
        let mut d = RecordIoDecoder::default();
        d.push(b"12");
        assert_eq!(d.next_record(), Ok(None));
    }

    #[test]
    fn events_parse_with_number_or_string_nanoseconds() {
        let kill: Event = serde_json::from_str(
            r#"{"type":"KILL","kill":{"task_id":{"value":"t"},"kill_policy":{"grace_period":{"nanoseconds":"2000000000"}}}}"#,
        )
        .expect("kill");
        let policy = kill.kill.and_then(|k| k.kill_policy).expect("policy");
        assert_eq!(policy.grace(), Some(std::time::Duration::from_secs(2)));
        let info: TaskInfo = serde_json::from_str(
            r#"{"name":"n","task_id":{"value":"t"},"agent_id":{"value":"a"},"kill_policy":{"grace_period":{"nanoseconds":-5}},
               "command":{"value":"echo hi","environment":{"variables":[{"name":"A","value":"1"},{"name":"S","type":"SECRET"}]}}}"#,
        )
        .expect("task");
        assert_eq!(info.kill_policy.and_then(|k| k.grace()), None);
        let cmd = info.command.expect("command");
        assert_eq!(cmd.shell, None);
        assert_eq!(
            cmd.environment.and_then(|e| e.variables).map(|v| v.len()),
            Some(2)
        );
    }
}
