//! The registry's bytes: log entries, the framed record format of the on-disk log, and the
//! snapshot file format. Also [`apply_entry`], the one way a follower or a restart replays an entry.
//!
//! Log record: `[len u32 LE][crc32c u32 LE][payload]`, where `payload` is
//! `[LOG_FORMAT_VERSION][postcard(Entry)]`, `len` counts the payload bytes and the CRC-32C covers
//! them. Snapshot file: `[SNAPSHOT_MAGIC 8][version u8][len u32 LE][crc32c u32 LE][postcard(Registry)]`.

use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use super::crc::crc32c;
use super::state::{apply_owned, Op, OpError, Registry, RegistryInvalid};
use crate::sealed::{seal, unseal, SealError, SealProblem};

/// One durable write: a batch of operations that each changed the registry, in order.
/// `index` is the registry version after the entry is applied (the first entry has index 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub index: u64,
    pub ops: Vec<Op>,
}

/// Format version byte that starts every log record payload.
pub const LOG_FORMAT_VERSION: u8 = 1;
/// Bytes of a log record header (length and checksum).
pub const RECORD_HEADER_LEN: usize = 8;
/// Largest log record payload accepted, written or read. The registrar cuts batches to fit.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;
/// First bytes of a snapshot file.
pub const SNAPSHOT_MAGIC: [u8; 8] = *b"MLREGSNP";
/// Format version of the snapshot file.
pub const SNAPSHOT_FORMAT_VERSION: u8 = 1;
/// Bytes of a snapshot header (magic, version, length, checksum).
pub const SNAPSHOT_HEADER_LEN: usize = crate::sealed::SEALED_HEADER_LEN;
/// Largest snapshot body accepted, written or read.
pub const MAX_SNAPSHOT_BYTES: usize = 1024 * 1024 * 1024;

/// Why something could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The encoding is larger than its format allows.
    TooLarge { len: usize, max: usize },
    /// postcard refused the value (not expected for registry types).
    Serialize,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::TooLarge { len, max } => {
                write!(f, "encoding is {len} bytes, more than the {max} allowed")
            }
            EncodeError::Serialize => f.write_str("value could not be serialized"),
        }
    }
}

/// Appends an entry's payload (`[LOG_FORMAT_VERSION][postcard(Entry)]`) to `out`.
fn push_entry_payload(entry: &Entry, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    out.push(LOG_FORMAT_VERSION);
    let buf = core::mem::take(out);
    *out = postcard::to_extend(entry, buf).map_err(|_| EncodeError::Serialize)?;
    Ok(())
}

/// An entry's payload bytes (`[LOG_FORMAT_VERSION][postcard(Entry)]`), unframed: what a
/// replicated log (raft) would carry.
pub fn encode_entry(entry: &Entry) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    push_entry_payload(entry, &mut out)?;
    if out.len() > MAX_RECORD_BYTES {
        return Err(EncodeError::TooLarge {
            len: out.len(),
            max: MAX_RECORD_BYTES,
        });
    }
    Ok(out)
}

/// Decodes an entry payload made by [`encode_entry`].
pub fn decode_entry(payload: &[u8]) -> Result<Entry, RecordProblem> {
    match payload.split_first() {
        None => Err(RecordProblem::Undecodable),
        Some((&LOG_FORMAT_VERSION, body)) => match postcard::take_from_bytes::<Entry>(body) {
            Ok((entry, [])) => Ok(entry),
            Ok(_) => Err(RecordProblem::TrailingBytes),
            Err(_) => Err(RecordProblem::Undecodable),
        },
        Some((&v, _)) => Err(RecordProblem::UnsupportedVersion(v)),
    }
}

/// Appends one framed log record holding `entry` to `out`. With a reused `out` of enough
/// capacity this allocates nothing.
pub fn encode_record_into(entry: &Entry, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let start = out.len();
    out.extend_from_slice(&[0u8; RECORD_HEADER_LEN]);
    push_entry_payload(entry, out)?;
    let payload_len = out.len() - start - RECORD_HEADER_LEN;
    if payload_len > MAX_RECORD_BYTES {
        out.truncate(start);
        return Err(EncodeError::TooLarge {
            len: payload_len,
            max: MAX_RECORD_BYTES,
        });
    }
    let crc = crc32c(&out[start + RECORD_HEADER_LEN..]);
    out[start..start + 4].copy_from_slice(&(payload_len as u32).to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// What is wrong with one log record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordProblem {
    /// The length field is zero or above [`MAX_RECORD_BYTES`].
    BadLength(u32),
    ChecksumMismatch,
    UnsupportedVersion(u8),
    /// The checksum matched but the payload is not an entry.
    Undecodable,
    TrailingBytes,
}

impl fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordProblem::BadLength(len) => write!(f, "impossible record length {len}"),
            RecordProblem::ChecksumMismatch => f.write_str("checksum mismatch"),
            RecordProblem::UnsupportedVersion(v) => {
                write!(f, "unsupported record format version {v}")
            }
            RecordProblem::Undecodable => f.write_str("record does not decode as an entry"),
            RecordProblem::TrailingBytes => f.write_str("record has bytes after its entry"),
        }
    }
}

/// A corrupt record in a log: `offset` is the byte where the bad record starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogError {
    pub offset: u64,
    pub problem: RecordProblem,
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "corrupt at byte {}: {}", self.offset, self.problem)
    }
}

/// Decodes the records of a log file.
///
/// Returns the entries and `valid_len`, the length of the prefix made of whole records. If
/// `valid_len < bytes.len()`, the log ends with a torn record: a header or payload shorter than
/// its header says, which an interrupted append leaves; the caller decides what to do with it.
/// A whole record that is wrong (bad length, checksum, version or payload) is an `Err`.
pub fn decode_records(bytes: &[u8]) -> Result<(Vec<Entry>, usize), LogError> {
    let mut entries = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let fail = |problem| LogError {
            offset: pos as u64,
            problem,
        };
        if rest.len() < RECORD_HEADER_LEN {
            return Ok((entries, pos));
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len == 0 || len as usize > MAX_RECORD_BYTES {
            return Err(fail(RecordProblem::BadLength(len)));
        }
        let end = RECORD_HEADER_LEN + len as usize;
        if rest.len() < end {
            return Ok((entries, pos));
        }
        let payload = &rest[RECORD_HEADER_LEN..end];
        if crc32c(payload) != crc {
            return Err(fail(RecordProblem::ChecksumMismatch));
        }
        entries.push(decode_entry(payload).map_err(fail)?);
        pos += end;
    }
    Ok((entries, pos))
}

/// Why an entry could not be applied during replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// The entry does not follow the registry's version.
    OutOfOrder { expected: u64, found: u64 },
    /// An operation that was accepted when written is refused now: the log and snapshot disagree.
    Refused { op: usize, error: OpError },
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::OutOfOrder { expected, found } => {
                write!(f, "entry {found} found where entry {expected} was expected")
            }
            ReplayError::Refused { op, error } => {
                write!(
                    f,
                    "operation {op} of the entry is refused on replay: {error}"
                )
            }
        }
    }
}

/// Applies a durable entry: its index must be `reg.version + 1`; afterwards `reg.version` is the
/// entry's index. Used on restart and (later) by raft followers; deterministic like [`apply`].
/// On error `reg` may hold part of the entry and must be discarded.
///
/// [`apply`]: super::state::apply
pub fn apply_entry(reg: &mut Registry, entry: Entry) -> Result<(), ReplayError> {
    let expected = reg.version.saturating_add(1);
    if entry.index != expected {
        return Err(ReplayError::OutOfOrder {
            expected,
            found: entry.index,
        });
    }
    for (i, op) in entry.ops.into_iter().enumerate() {
        apply_owned(reg, op).map_err(|error| ReplayError::Refused { op: i, error })?;
    }
    reg.version = expected;
    Ok(())
}

/// What is wrong with a snapshot file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    BadMagic,
    UnsupportedVersion(u8),
    /// The file is shorter than its header says (or than a header).
    Truncated {
        expected: u64,
        found: u64,
    },
    /// The file is longer than its header says.
    TrailingBytes {
        expected: u64,
        found: u64,
    },
    TooLarge(u64),
    ChecksumMismatch,
    Undecodable,
    Invalid(RegistryInvalid),
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::BadMagic => f.write_str("not a registry snapshot (bad magic)"),
            SnapshotError::UnsupportedVersion(v) => {
                write!(f, "unsupported snapshot format version {v}")
            }
            SnapshotError::Truncated { expected, found } => {
                write!(f, "truncated: {found} bytes where {expected} were expected")
            }
            SnapshotError::TrailingBytes { expected, found } => {
                write!(f, "{found} bytes where {expected} were expected")
            }
            SnapshotError::TooLarge(len) => write!(f, "impossible snapshot length {len}"),
            SnapshotError::ChecksumMismatch => f.write_str("checksum mismatch"),
            SnapshotError::Undecodable => f.write_str("body does not decode as a registry"),
            SnapshotError::Invalid(why) => write!(f, "registry is inconsistent: {why}"),
        }
    }
}

/// The snapshot file bytes for `reg`.
pub fn encode_snapshot(reg: &Registry) -> Result<Vec<u8>, EncodeError> {
    seal(
        &SNAPSHOT_MAGIC,
        SNAPSHOT_FORMAT_VERSION,
        reg,
        MAX_SNAPSHOT_BYTES,
    )
    .map_err(|e| match e {
        SealError::Serialize => EncodeError::Serialize,
        SealError::TooLarge { len } => EncodeError::TooLarge {
            len,
            max: MAX_SNAPSHOT_BYTES,
        },
    })
}

/// Decodes and validates a snapshot file made by [`encode_snapshot`].
pub fn decode_snapshot(bytes: &[u8]) -> Result<Registry, SnapshotError> {
    let readable = |v| v == SNAPSHOT_FORMAT_VERSION;
    let (_, body) =
        unseal(bytes, &SNAPSHOT_MAGIC, readable, MAX_SNAPSHOT_BYTES).map_err(|p| match p {
            SealProblem::BadMagic => SnapshotError::BadMagic,
            SealProblem::UnsupportedVersion(v) => SnapshotError::UnsupportedVersion(v),
            SealProblem::Truncated { expected, found } => {
                SnapshotError::Truncated { expected, found }
            }
            SealProblem::TrailingBytes { expected, found } => {
                SnapshotError::TrailingBytes { expected, found }
            }
            SealProblem::TooLarge(len) => SnapshotError::TooLarge(len),
            SealProblem::ChecksumMismatch => SnapshotError::ChecksumMismatch,
        })?;
    let reg = match postcard::take_from_bytes::<Registry>(body) {
        Ok((reg, [])) => reg,
        _ => return Err(SnapshotError::Undecodable),
    };
    reg.validate().map_err(SnapshotError::Invalid)?;
    Ok(reg)
}
