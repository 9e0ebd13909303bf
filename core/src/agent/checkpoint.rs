//! The agent's checkpoint (Mesos `meta/slaves/<id>/...`): the records of what an agent must not
//! forget across a restart, [`CheckpointState`] that replays them, and their bytes on disk.
//!
//! Every change the agent must survive is one [`Record`]; the agent hands them to its driver in
//! batches ([`CheckpointBatch`]), one framed log record per batch, so one `fdatasync` covers a
//! whole batch (group commit). Replaying the records of every durable batch in order gives the
//! [`CheckpointState`] that [`super::Agent::recover`] rebuilds an agent from; the state can also
//! be written back as a compacted list of records (a snapshot).
//!
//! Log record: `[len u32 LE][crc32c u32 LE][payload]`, `payload` being
//! `[CHECKPOINT_FORMAT_VERSION][postcard(Vec<Record>)]`; `len` counts the payload bytes and the
//! CRC-32C covers them. Snapshot file: `[CHECKPOINT_SNAPSHOT_MAGIC 8][version u8][len u32 LE]
//! [crc32c u32 LE][postcard(Vec<Record>)]`.
//!
//! Versions: a binary reads [`CHECKPOINT_FORMAT_VERSION`] and the one before it. New record kinds
//! are appended at the end of [`Record`] (postcard numbers variants in order), which old files
//! still decode with; a change to an existing record bumps the version and keeps the old shape
//! as a type of its own to convert from: version 2 gave executors their data and tasks their
//! role, and version 1 records are read as [`super::checkpoint_v1::RecordV1`].

use super::checkpoint_v1::{self, RecordV1};
use crate::ids::{AgentId, ContainerId, ExecutorId, FrameworkId, TaskId};
use crate::registry::crc32c;
use crate::resources::Resources;
use crate::sealed::{seal, unseal, SealError, SealProblem};
use crate::task_state::TaskState;
use crate::wire::{AgentInfo, ExecutorSpec, FrameworkRecord, StatusUpdate, TaskSpec};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

/// Format version byte of log records and snapshots.
pub const CHECKPOINT_FORMAT_VERSION: u8 = 2;
/// Bytes of a log record header (length and checksum).
pub const CHECKPOINT_RECORD_HEADER_LEN: usize = 8;
/// Largest log record payload (one batch) or snapshot body written or read.
pub const MAX_CHECKPOINT_BYTES: usize = 256 * 1024 * 1024;
/// First bytes of a checkpoint snapshot file.
pub const CHECKPOINT_SNAPSHOT_MAGIC: [u8; 8] = *b"MLAGTSNP";
/// Bytes of a snapshot header (magic, version, length, checksum).
pub const CHECKPOINT_SNAPSHOT_HEADER_LEN: usize = crate::sealed::SEALED_HEADER_LEN;

/// One fact the agent must not forget. Records are applied in order by [`CheckpointState::apply`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Record {
    /// The agent's id, given by the master, and the info it registered with (Mesos `slave.info`).
    Identity { id: AgentId, info: AgentInfo },
    /// A framework with tasks here was added or its facts changed (Mesos `framework.info`).
    Framework(FrameworkRecord),
    /// An executor and its container were created (Mesos `executor.info` and the run directory).
    ExecutorLaunched {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        container_id: ContainerId,
        spec: ExecutorSpec,
        /// The sandbox, relative to the work dir.
        sandbox: String,
        command_executor: bool,
    },
    /// The driver started the container's process (Mesos `pids/forked.pid`): its process group.
    ExecutorPid {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        container_id: ContainerId,
        pid: u32,
    },
    /// Tasks given to an executor, alone or as one task group (Mesos `task.info`).
    TasksAdded {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        tasks: Vec<TaskSpec>,
        group: bool,
    },
    /// A reliable status update the agent accepted (Mesos `task.updates`, an update).
    UpdateQueued {
        executor_id: ExecutorId,
        update: StatusUpdate,
    },
    /// The framework acknowledged the oldest queued update of a task (Mesos `task.updates`, an ACK).
    UpdateAcknowledged {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        task_id: TaskId,
        uuid: [u8; 16],
    },
    /// The executor's process ended (Mesos `executor.sentinel`).
    ExecutorEnded {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
    },
    /// The executor ended and every update of its tasks was acknowledged: it is forgotten.
    ExecutorRemoved {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
    },
    /// The framework has nothing left on this agent.
    FrameworkRemoved { framework_id: FrameworkId },
    /// Compaction form: every update of the task is acknowledged, the newest had `state` and `uuid`.
    TaskSettled {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        task_id: TaskId,
        state: TaskState,
        uuid: [u8; 16],
    },
    /// The agent's dynamic reservations and persistent volumes as the master last sent them
    /// (Mesos `resources/resources.info`). Appended last: older files never contain it.
    CheckpointedResources(Resources),
}

/// A batch of records the driver persists with one write and one `fdatasync`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckpointBatch {
    /// Numbers batches in the order they are handed out; `handle_checkpoint_written` names it.
    pub seq: u64,
    pub records: Vec<Record>,
}

/// One task as the checkpoint knows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskCheckpoint {
    /// Updates accepted and not yet acknowledged by the framework, oldest first.
    pub pending: VecDeque<StatusUpdate>,
    /// State and uuid of the newest acknowledged update, once one is.
    pub settled: Option<(TaskState, [u8; 16])>,
}

impl TaskCheckpoint {
    /// The newest accepted state, `None` while the task has had no update (it is staging).
    pub fn latest_state(&self) -> Option<TaskState> {
        self.pending
            .back()
            .map(|u| u.status.state)
            .or(self.settled.map(|(s, _)| s))
    }

    /// The uuid of the newest accepted update.
    pub fn latest_uuid(&self) -> Option<[u8; 16]> {
        self.pending
            .back()
            .and_then(|u| u.status.uuid)
            .or(self.settled.map(|(_, u)| u))
    }
}

/// One executor (and its container) as the checkpoint knows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutorCheckpoint {
    pub container_id: ContainerId,
    pub spec: ExecutorSpec,
    pub sandbox: String,
    pub command_executor: bool,
    /// The process group, once the driver reported it.
    pub pid: Option<u32>,
    /// The process is known to have ended.
    pub ended: bool,
    /// The tasks in the order they were added, each batch with whether it is a task group.
    pub adds: Vec<(Vec<TaskSpec>, bool)>,
    pub tasks: BTreeMap<TaskId, TaskCheckpoint>,
}

/// Why a record does not apply to the state before it: the checkpoint is inconsistent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyError {
    /// A record names an executor that was never launched (or was removed).
    UnknownExecutor,
    /// A record names a task its executor was never given.
    UnknownTask,
    /// An acknowledgement does not match the oldest queued update of its task.
    AckMismatch,
    /// A queued update has no uuid (only reliable updates are checkpointed).
    UpdateWithoutUuid,
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApplyError::UnknownExecutor => "a record names an executor that was never launched",
            ApplyError::UnknownTask => "a record names a task its executor was never given",
            ApplyError::AckMismatch => {
                "an acknowledgement does not match the oldest queued update of its task"
            }
            ApplyError::UpdateWithoutUuid => "a queued status update has no uuid",
        })
    }
}

/// Everything the agent checkpointed, replayed from records.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckpointState {
    pub identity: Option<(AgentId, AgentInfo)>,
    pub frameworks: BTreeMap<FrameworkId, FrameworkRecord>,
    pub executors: BTreeMap<(FrameworkId, ExecutorId), ExecutorCheckpoint>,
    /// Dynamic reservations and persistent volumes.
    pub checkpointed: Resources,
}

impl CheckpointState {
    /// True when nothing was ever checkpointed (a new agent).
    pub fn is_empty(&self) -> bool {
        self.identity.is_none()
            && self.frameworks.is_empty()
            && self.executors.is_empty()
            && self.checkpointed.is_empty()
    }

    /// The agent id, once the agent registered.
    pub fn agent_id(&self) -> Option<&AgentId> {
        self.identity.as_ref().map(|(id, _)| id)
    }

    /// The info the agent last registered with (for the reconfiguration check on recovery).
    pub fn info(&self) -> Option<&AgentInfo> {
        self.identity.as_ref().map(|(_, info)| info)
    }

    /// Whether the state holds update `uuid` of a task as queued or as its newest update.
    pub fn knows_update(
        &self,
        framework_id: &FrameworkId,
        task_id: &TaskId,
        uuid: [u8; 16],
    ) -> bool {
        self.executors
            .iter()
            .filter(|((f, _), _)| f == framework_id)
            .filter_map(|(_, e)| e.tasks.get(task_id))
            .any(|t| {
                t.latest_uuid() == Some(uuid)
                    || t.pending.iter().any(|u| u.status.uuid == Some(uuid))
            })
    }

    fn executor_mut(
        &mut self,
        framework_id: &FrameworkId,
        executor_id: &ExecutorId,
    ) -> Result<&mut ExecutorCheckpoint, ApplyError> {
        self.executors
            .get_mut(&(framework_id.clone(), executor_id.clone()))
            .ok_or(ApplyError::UnknownExecutor)
    }

    /// Applies one record.
    pub fn apply(&mut self, record: Record) -> Result<(), ApplyError> {
        match record {
            Record::Identity { id, info } => self.identity = Some((id, info)),
            Record::Framework(fw) => {
                self.frameworks.insert(fw.id.clone(), fw);
            }
            Record::ExecutorLaunched {
                framework_id,
                executor_id,
                container_id,
                spec,
                sandbox,
                command_executor,
            } => {
                self.executors.insert(
                    (framework_id, executor_id),
                    ExecutorCheckpoint {
                        container_id,
                        spec,
                        sandbox,
                        command_executor,
                        pid: None,
                        ended: false,
                        adds: Vec::new(),
                        tasks: BTreeMap::new(),
                    },
                );
            }
            Record::ExecutorPid {
                framework_id,
                executor_id,
                container_id,
                pid,
            } => {
                let e = self.executor_mut(&framework_id, &executor_id)?;
                if e.container_id == container_id {
                    e.pid = Some(pid);
                }
            }
            Record::TasksAdded {
                framework_id,
                executor_id,
                tasks,
                group,
            } => {
                let e = self.executor_mut(&framework_id, &executor_id)?;
                for t in &tasks {
                    e.tasks.entry(t.task_id.clone()).or_default();
                }
                e.adds.push((tasks, group));
            }
            Record::UpdateQueued {
                executor_id,
                update,
            } => {
                let uuid = update.status.uuid.ok_or(ApplyError::UpdateWithoutUuid)?;
                let e = self.executor_mut(&update.framework_id.clone(), &executor_id)?;
                let t = e
                    .tasks
                    .get_mut(&update.status.task_id)
                    .ok_or(ApplyError::UnknownTask)?;
                if !t.pending.iter().any(|u| u.status.uuid == Some(uuid)) {
                    t.pending.push_back(update);
                }
            }
            Record::UpdateAcknowledged {
                framework_id,
                executor_id,
                task_id,
                uuid,
            } => {
                let e = self.executor_mut(&framework_id, &executor_id)?;
                let t = e.tasks.get_mut(&task_id).ok_or(ApplyError::UnknownTask)?;
                if t.pending.front().and_then(|u| u.status.uuid) != Some(uuid) {
                    return Err(ApplyError::AckMismatch);
                }
                if let Some(done) = t.pending.pop_front() {
                    t.settled = Some((done.status.state, uuid));
                }
            }
            Record::ExecutorEnded {
                framework_id,
                executor_id,
            } => self.executor_mut(&framework_id, &executor_id)?.ended = true,
            Record::ExecutorRemoved {
                framework_id,
                executor_id,
            } => {
                self.executors.remove(&(framework_id, executor_id));
            }
            Record::FrameworkRemoved { framework_id } => {
                self.frameworks.remove(&framework_id);
                self.executors.retain(|(f, _), _| *f != framework_id);
            }
            Record::TaskSettled {
                framework_id,
                executor_id,
                task_id,
                state,
                uuid,
            } => {
                let e = self.executor_mut(&framework_id, &executor_id)?;
                let t = e.tasks.get_mut(&task_id).ok_or(ApplyError::UnknownTask)?;
                t.pending.clear();
                t.settled = Some((state, uuid));
            }
            Record::CheckpointedResources(resources) => self.checkpointed = resources,
        }
        Ok(())
    }

    /// The records that rebuild this state from nothing (a compacted snapshot).
    pub fn snapshot_records(&self) -> Vec<Record> {
        let mut out = Vec::new();
        if let Some((id, info)) = &self.identity {
            out.push(Record::Identity {
                id: id.clone(),
                info: info.clone(),
            });
        }
        out.extend(self.frameworks.values().cloned().map(Record::Framework));
        if !self.checkpointed.is_empty() {
            out.push(Record::CheckpointedResources(self.checkpointed.clone()));
        }
        for ((fid, eid), e) in &self.executors {
            out.push(Record::ExecutorLaunched {
                framework_id: fid.clone(),
                executor_id: eid.clone(),
                container_id: e.container_id.clone(),
                spec: e.spec.clone(),
                sandbox: e.sandbox.clone(),
                command_executor: e.command_executor,
            });
            if let Some(pid) = e.pid {
                out.push(Record::ExecutorPid {
                    framework_id: fid.clone(),
                    executor_id: eid.clone(),
                    container_id: e.container_id.clone(),
                    pid,
                });
            }
            for (tasks, group) in &e.adds {
                out.push(Record::TasksAdded {
                    framework_id: fid.clone(),
                    executor_id: eid.clone(),
                    tasks: tasks.clone(),
                    group: *group,
                });
            }
            for (tid, t) in &e.tasks {
                if let Some((state, uuid)) = t.settled {
                    out.push(Record::TaskSettled {
                        framework_id: fid.clone(),
                        executor_id: eid.clone(),
                        task_id: tid.clone(),
                        state,
                        uuid,
                    });
                }
                for u in &t.pending {
                    out.push(Record::UpdateQueued {
                        executor_id: eid.clone(),
                        update: u.clone(),
                    });
                }
            }
            if e.ended {
                out.push(Record::ExecutorEnded {
                    framework_id: fid.clone(),
                    executor_id: eid.clone(),
                });
            }
        }
        out
    }

    /// Replays `records` onto an empty state.
    pub fn from_records(records: Vec<Record>) -> Result<CheckpointState, ApplyError> {
        let mut s = CheckpointState::default();
        for r in records {
            s.apply(r)?;
        }
        Ok(s)
    }
}

// ----- bytes -----

/// Why a batch or snapshot could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointEncodeError {
    TooLarge { len: usize },
    Serialize,
}

impl fmt::Display for CheckpointEncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointEncodeError::TooLarge { len } => write!(
                f,
                "checkpoint record is {len} bytes, more than the {MAX_CHECKPOINT_BYTES} allowed"
            ),
            CheckpointEncodeError::Serialize => {
                f.write_str("checkpoint record could not be serialized")
            }
        }
    }
}

/// What is wrong with one log record or a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointProblem {
    /// The length field is zero or above [`MAX_CHECKPOINT_BYTES`].
    BadLength(u64),
    ChecksumMismatch,
    UnsupportedVersion(u8),
    /// The checksum matched but the bytes are not records.
    Undecodable,
    BadMagic,
    /// A snapshot is shorter than its header says.
    Truncated {
        expected: u64,
        found: u64,
    },
    /// A snapshot is longer than its header says.
    TrailingBytes {
        expected: u64,
        found: u64,
    },
    /// The records decode but do not replay.
    Inconsistent(ApplyError),
}

impl fmt::Display for CheckpointProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointProblem::BadLength(len) => write!(f, "impossible record length {len}"),
            CheckpointProblem::ChecksumMismatch => f.write_str("checksum mismatch"),
            CheckpointProblem::UnsupportedVersion(v) => write!(
                f,
                "unsupported checkpoint format version {v} (this binary reads {} and {})",
                CHECKPOINT_FORMAT_VERSION.saturating_sub(1),
                CHECKPOINT_FORMAT_VERSION
            ),
            CheckpointProblem::Undecodable => {
                f.write_str("bytes do not decode as checkpoint records")
            }
            CheckpointProblem::BadMagic => {
                f.write_str("not an agent checkpoint snapshot (bad magic)")
            }
            CheckpointProblem::Truncated { expected, found } => {
                write!(f, "truncated: {found} bytes where {expected} were expected")
            }
            CheckpointProblem::TrailingBytes { expected, found } => {
                write!(f, "{found} bytes where {expected} were expected")
            }
            CheckpointProblem::Inconsistent(e) => write!(f, "inconsistent: {e}"),
        }
    }
}

/// A bad record in a checkpoint log: `offset` is the byte where it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointLogError {
    pub offset: u64,
    pub problem: CheckpointProblem,
}

impl fmt::Display for CheckpointLogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "corrupt at byte {}: {}", self.offset, self.problem)
    }
}

fn readable_version(v: u8) -> bool {
    // This binary's version and the one before it.
    v == CHECKPOINT_FORMAT_VERSION || v == checkpoint_v1::VERSION
}

fn decode_records_body(version: u8, body: &[u8]) -> Result<Vec<Record>, CheckpointProblem> {
    if version == checkpoint_v1::VERSION {
        return match postcard::take_from_bytes::<Vec<RecordV1>>(body) {
            Ok((records, [])) => Ok(records.into_iter().map(RecordV1::upgrade).collect()),
            _ => Err(CheckpointProblem::Undecodable),
        };
    }
    match postcard::take_from_bytes::<Vec<Record>>(body) {
        Ok((records, [])) => Ok(records),
        _ => Err(CheckpointProblem::Undecodable),
    }
}

/// Appends one framed log record holding `records` to `out`.
pub fn encode_batch_into(
    records: &[Record],
    out: &mut Vec<u8>,
) -> Result<(), CheckpointEncodeError> {
    let start = out.len();
    out.extend_from_slice(&[0u8; CHECKPOINT_RECORD_HEADER_LEN]);
    out.push(CHECKPOINT_FORMAT_VERSION);
    let buf = core::mem::take(out);
    *out = match postcard::to_extend(records, buf) {
        Ok(v) => v,
        Err(_) => return Err(CheckpointEncodeError::Serialize),
    };
    let len = out.len() - start - CHECKPOINT_RECORD_HEADER_LEN;
    if len > MAX_CHECKPOINT_BYTES {
        out.truncate(start);
        return Err(CheckpointEncodeError::TooLarge { len });
    }
    let crc = crc32c(&out[start + CHECKPOINT_RECORD_HEADER_LEN..]);
    out[start..start + 4].copy_from_slice(&(len as u32).to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// A batch read from a log: the byte offset of its record and its records.
pub type LoggedBatch = (u64, Vec<Record>);

/// Decodes the batches of a checkpoint log, each with the byte offset of its record. Returns
/// them with `valid_len`, the length of the prefix made of whole records; `valid_len < bytes.len()` means the log ends with a torn record
/// (an append interrupted before its fsync, so never reported durable). A whole record that is
/// wrong is an `Err`.
pub fn decode_log(bytes: &[u8]) -> Result<(Vec<LoggedBatch>, usize), CheckpointLogError> {
    let mut batches = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let fail = |problem| CheckpointLogError {
            offset: pos as u64,
            problem,
        };
        if rest.len() < CHECKPOINT_RECORD_HEADER_LEN {
            break;
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len == 0 || len > MAX_CHECKPOINT_BYTES {
            return Err(fail(CheckpointProblem::BadLength(len as u64)));
        }
        let end = CHECKPOINT_RECORD_HEADER_LEN + len;
        if rest.len() < end {
            break;
        }
        let payload = &rest[CHECKPOINT_RECORD_HEADER_LEN..end];
        if crc32c(payload) != crc {
            return Err(fail(CheckpointProblem::ChecksumMismatch));
        }
        if !readable_version(payload[0]) {
            return Err(fail(CheckpointProblem::UnsupportedVersion(payload[0])));
        }
        batches.push((
            pos as u64,
            decode_records_body(payload[0], &payload[1..]).map_err(fail)?,
        ));
        pos += end;
    }
    Ok((batches, pos))
}

/// The snapshot file bytes of `state`.
pub fn encode_checkpoint_snapshot(
    state: &CheckpointState,
) -> Result<Vec<u8>, CheckpointEncodeError> {
    let records = state.snapshot_records();
    seal(
        &CHECKPOINT_SNAPSHOT_MAGIC,
        CHECKPOINT_FORMAT_VERSION,
        &records,
        MAX_CHECKPOINT_BYTES,
    )
    .map_err(|e| match e {
        SealError::Serialize => CheckpointEncodeError::Serialize,
        SealError::TooLarge { len } => CheckpointEncodeError::TooLarge { len },
    })
}

/// Decodes and replays a snapshot file made by [`encode_checkpoint_snapshot`].
pub fn decode_checkpoint_snapshot(bytes: &[u8]) -> Result<CheckpointState, CheckpointProblem> {
    let (version, body) = unseal(
        bytes,
        &CHECKPOINT_SNAPSHOT_MAGIC,
        readable_version,
        MAX_CHECKPOINT_BYTES,
    )
    .map_err(|p| match p {
        SealProblem::BadMagic => CheckpointProblem::BadMagic,
        SealProblem::UnsupportedVersion(v) => CheckpointProblem::UnsupportedVersion(v),
        SealProblem::Truncated { expected, found } => {
            CheckpointProblem::Truncated { expected, found }
        }
        SealProblem::TrailingBytes { expected, found } => {
            CheckpointProblem::TrailingBytes { expected, found }
        }
        SealProblem::TooLarge(len) => CheckpointProblem::BadLength(len),
        SealProblem::ChecksumMismatch => CheckpointProblem::ChecksumMismatch,
    })?;
    let records = decode_records_body(version, body)?;
    CheckpointState::from_records(records).map_err(CheckpointProblem::Inconsistent)
}

/// The state a snapshot (if any) and a log's whole records hold: what a restarted agent
/// recovers. A torn tail is ignored here; the caller decides whether to accept it.
pub fn replay(
    snapshot: Option<&[u8]>,
    log: &[u8],
) -> Result<(CheckpointState, usize), ReplayFailure> {
    let mut state = match snapshot {
        Some(bytes) => decode_checkpoint_snapshot(bytes).map_err(ReplayFailure::Snapshot)?,
        None => CheckpointState::default(),
    };
    let (batches, valid) = decode_log(log).map_err(ReplayFailure::Log)?;
    for (offset, batch) in batches {
        for r in batch {
            state.apply(r).map_err(|e| {
                ReplayFailure::Log(CheckpointLogError {
                    offset,
                    problem: CheckpointProblem::Inconsistent(e),
                })
            })?;
        }
    }
    Ok((state, valid))
}

/// Why [`replay`] failed: in the snapshot or in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayFailure {
    Snapshot(CheckpointProblem),
    Log(CheckpointLogError),
}

impl fmt::Display for ReplayFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayFailure::Snapshot(p) => write!(f, "snapshot is corrupt: {p}"),
            ReplayFailure::Log(e) => write!(f, "log is {e}"),
        }
    }
}
