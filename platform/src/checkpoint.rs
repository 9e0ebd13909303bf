//! The agent's checkpoint files in `<work_dir>/meta/`: a snapshot and an append-only log of
//! record batches (core's `agent::checkpoint` formats), each batch written with one `write` and
//! one `fdatasync` before it is reported durable; opening replays them and refuses any damage.
//!
//! Layout of the `meta` directory (Mesos keeps one file per fact under `meta/slaves/<id>/`; one
//! log and one snapshot do the same job with one fsync per batch):
//! - `snapshot.<gen>`: the whole checkpoint as records, written `snapshot.tmp`, fsynced, renamed,
//!   directory fsynced. Absent for generation 0.
//! - `log.<gen>`: batches appended after `snapshot.<gen>`.
//! - `lock`: held with `flock` while an [`AgentCheckpoint`] is open (one agent per work dir).
//! - `boot_id`: the host's boot id when the agent last started on this checkpoint, to tell a
//!   reboot (every executor gone, pids meaningless) from an agent restart.
//!
//! Compaction writes `snapshot.<gen+1>`, then an empty `log.<gen+1>`, then removes generation
//! `gen`. A crash at any point leaves a readable pair: the newest snapshot with its log, or, if
//! the crash came before its log existed, the newest snapshot alone (its log is created empty;
//! the older log's batches are all inside the snapshot).
//!
//! A damaged file (bad checksum, impossible length, unknown version, records that do not
//! replay, or a torn last record) is refused with an error naming the file; the agent never
//! starts from a silently emptied checkpoint. A torn last record can only come from an append
//! interrupted before its fsync, so it was never reported durable: the error gives the length
//! to truncate the log to.

use crate::durable;
use std::fmt;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use mesolite_core::agent::checkpoint::{
    decode_checkpoint_snapshot, decode_log, encode_batch_into, encode_checkpoint_snapshot,
    ApplyError, CheckpointEncodeError, CheckpointLogError, CheckpointProblem,
    CHECKPOINT_SNAPSHOT_HEADER_LEN, MAX_CHECKPOINT_BYTES,
};
use mesolite_core::agent::{CheckpointState, Record};

const SNAPSHOT_TMP: &str = "snapshot.tmp";
const LOCK: &str = "lock";
/// The boot id the checkpoint was last opened under (Mesos `meta/boot_id`).
const BOOT_ID: &str = "boot_id";
const BOOT_ID_TMP: &str = "boot_id.tmp";
/// Log size past which [`AgentCheckpoint::wants_compaction`] says yes (if the log is also
/// larger than the snapshot, so a large steady state is not rewritten after every batch).
pub const COMPACT_AFTER_BYTES: u64 = 4 * 1024 * 1024;

/// The checkpoint directory under an agent's work directory.
pub fn checkpoint_dir(work_dir: &Path) -> PathBuf {
    work_dir.join("meta")
}

/// Why the checkpoint files could not be read or written. Every message names the file.
#[derive(Debug)]
pub enum CheckpointError {
    Io {
        path: PathBuf,
        action: &'static str,
        source: io::Error,
    },
    /// Another agent holds the directory's lock.
    Locked { path: PathBuf },
    /// A whole record of the log is wrong.
    CorruptLog {
        path: PathBuf,
        error: CheckpointLogError,
    },
    /// The log ends inside a record.
    TornLog {
        path: PathBuf,
        valid_len: u64,
        file_len: u64,
    },
    CorruptSnapshot {
        path: PathBuf,
        problem: CheckpointProblem,
    },
    /// The snapshot's generation has no log and no older log that it replaces.
    MissingLog { path: PathBuf },
    Encode {
        path: PathBuf,
        error: CheckpointEncodeError,
    },
    /// An earlier write failed; the checkpoint accepts no more writes.
    Poisoned { path: PathBuf },
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::Io {
                path,
                action,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            CheckpointError::Locked { path } => write!(
                f,
                "agent checkpoint directory {} is in use by another process",
                path.display()
            ),
            CheckpointError::CorruptLog { path, error } => {
                write!(f, "agent checkpoint log {} is {error}", path.display())
            }
            CheckpointError::TornLog {
                path,
                valid_len,
                file_len,
            } => write!(
                f,
                "agent checkpoint log {} ends with a torn record at byte {valid_len} (file is \
                 {file_len} bytes); an append was interrupted before it was acknowledged: \
                 truncate the file to {valid_len} bytes to drop it",
                path.display()
            ),
            CheckpointError::CorruptSnapshot { path, problem } => write!(
                f,
                "agent checkpoint snapshot {} is corrupt: {problem}",
                path.display()
            ),
            CheckpointError::MissingLog { path } => write!(
                f,
                "agent checkpoint log {} is missing although its snapshot exists",
                path.display()
            ),
            CheckpointError::Encode { path, error } => {
                write!(f, "cannot encode a record for {}: {error}", path.display())
            }
            CheckpointError::Poisoned { path } => write!(
                f,
                "agent checkpoint log {} refuses writes after an earlier write failed",
                path.display()
            ),
        }
    }
}

impl std::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CheckpointError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<durable::FileError> for CheckpointError {
    fn from(e: durable::FileError) -> Self {
        CheckpointError::Io {
            path: e.path,
            action: e.action,
            source: e.source,
        }
    }
}

impl CheckpointError {
    fn locking(dir: &Path, e: durable::LockError) -> Self {
        match e {
            durable::LockError::Locked => CheckpointError::Locked {
                path: dir.to_path_buf(),
            },
            durable::LockError::Io(e) => e.into(),
        }
    }
}

fn io_err<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(io::Error) -> CheckpointError + 'a {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// The open checkpoint files. Writes are synchronous: when `append` returns `Ok`, the batch is
/// on disk.
pub struct AgentCheckpoint {
    dir: PathBuf,
    gen: u64,
    log_path: PathBuf,
    log: File,
    /// Bytes of whole records in the log.
    log_len: u64,
    snapshot_len: u64,
    buf: Vec<u8>,
    poisoned: bool,
    /// Held for the `flock` on `lock`; released when dropped.
    _lock: File,
}

/// Renames the checkpoint directory `dir` to the first free `<dir>.discarded.<n>` (kept for the
/// operator) and returns the new name: the next start finds no checkpoint.
pub fn set_aside(dir: &Path) -> Result<PathBuf, CheckpointError> {
    let mut n = 1u32;
    let aside = loop {
        let mut name = dir.as_os_str().to_os_string();
        name.push(format!(".discarded.{n}"));
        let candidate = PathBuf::from(name);
        if !candidate.exists() {
            break candidate;
        }
        n += 1;
    };
    fs::rename(dir, &aside).map_err(io_err(dir, "set aside"))?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        durable::sync_dir(parent)?;
    }
    Ok(aside)
}

fn log_name(gen: u64) -> String {
    format!("log.{gen}")
}

fn snapshot_name(gen: u64) -> String {
    format!("snapshot.{gen}")
}

/// Generations of the `snapshot.<n>` and `log.<n>` files in `dir`.
fn generations(dir: &Path) -> Result<(Vec<u64>, Vec<u64>), CheckpointError> {
    let mut snapshots = Vec::new();
    let mut logs = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir, "list"))? {
        let entry = entry.map_err(io_err(dir, "list"))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(n) = name.strip_prefix("snapshot.").and_then(|g| g.parse().ok()) {
            snapshots.push(n);
        } else if let Some(n) = name.strip_prefix("log.").and_then(|g| g.parse().ok()) {
            logs.push(n);
        }
    }
    snapshots.sort_unstable();
    logs.sort_unstable();
    Ok((snapshots, logs))
}

impl AgentCheckpoint {
    /// Opens the checkpoint in `dir` (usually [`checkpoint_dir`]), creating it if absent, and
    /// returns the state it holds (empty for a new agent).
    pub fn open(dir: &Path) -> Result<(AgentCheckpoint, CheckpointState), CheckpointError> {
        fs::create_dir_all(dir).map_err(io_err(dir, "create directory"))?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            durable::sync_dir(parent)?;
        }
        let lock = durable::lock_dir(dir, LOCK).map_err(|e| CheckpointError::locking(dir, e))?;
        remove_if_present(&dir.join(SNAPSHOT_TMP))?;
        let (snapshots, logs) = generations(dir)?;
        let gen = snapshots.last().copied().unwrap_or(0);
        let (mut state, snapshot_len) = if gen > 0 {
            let path = dir.join(snapshot_name(gen));
            (read_snapshot(&path)?, durable::file_len(&path)?)
        } else {
            (CheckpointState::default(), 0)
        };
        let log_path = dir.join(log_name(gen));
        let log_len = if logs.contains(&gen) {
            replay_log(&log_path, &mut state)?
        } else if gen == 0 || logs.contains(&(gen - 1)) {
            // New, or a crash during compaction after the snapshot's rename: its log is empty.
            write_new(dir, &log_path)?;
            0
        } else {
            return Err(CheckpointError::MissingLog { path: log_path });
        };
        // Older generations are inside the snapshot.
        for old in snapshots.iter().filter(|g| **g < gen) {
            remove_if_present(&dir.join(snapshot_name(*old)))?;
        }
        for old in logs.iter().filter(|g| **g < gen) {
            remove_if_present(&dir.join(log_name(*old)))?;
        }
        let log = durable::open_append(&log_path)?;
        let ckpt = AgentCheckpoint {
            dir: dir.to_path_buf(),
            gen,
            log_path,
            log,
            log_len,
            snapshot_len,
            buf: Vec::with_capacity(64 * 1024),
            poisoned: false,
            _lock: lock,
        };
        Ok((ckpt, state))
    }

    /// Appends one batch with one write and one `fdatasync`. After a failure the checkpoint
    /// refuses further writes (the agent must exit); it first tries to cut the partial record
    /// off so the next start finds a clean log.
    pub fn append(&mut self, records: &[Record]) -> Result<(), CheckpointError> {
        if self.poisoned {
            return Err(CheckpointError::Poisoned {
                path: self.log_path.clone(),
            });
        }
        self.buf.clear();
        encode_batch_into(records, &mut self.buf).map_err(|error| CheckpointError::Encode {
            path: self.log_path.clone(),
            error,
        })?;
        if let Err(e) =
            durable::append_synced(&mut self.log, self.log_len, &self.log_path, &self.buf)
        {
            self.poisoned = true;
            return Err(e.into());
        }
        self.log_len += self.buf.len() as u64;
        Ok(())
    }

    /// Whether the log has grown enough to be worth folding into a snapshot.
    pub fn wants_compaction(&self) -> bool {
        !self.poisoned && self.log_len > COMPACT_AFTER_BYTES && self.log_len > self.snapshot_len
    }

    /// Replaces snapshot and log with a snapshot of `state`, which must be everything appended
    /// so far (the agent's `checkpoint_state()` right after a batch was reported durable).
    pub fn compact(&mut self, state: &CheckpointState) -> Result<(), CheckpointError> {
        if self.poisoned {
            return Err(CheckpointError::Poisoned {
                path: self.log_path.clone(),
            });
        }
        let next = self.gen + 1;
        let snapshot_path = self.dir.join(snapshot_name(next));
        let bytes = encode_checkpoint_snapshot(state).map_err(|error| CheckpointError::Encode {
            path: snapshot_path.clone(),
            error,
        })?;
        let log_path = self.dir.join(log_name(next));
        let result = durable::replace_file(&self.dir, SNAPSHOT_TMP, &snapshot_path, &bytes)
            .map_err(CheckpointError::from)
            .and_then(|()| write_new(&self.dir, &log_path))
            .and_then(|()| durable::open_append(&log_path).map_err(CheckpointError::from));
        let log = match result {
            Ok(log) => log,
            Err(e) => {
                self.poisoned = true;
                return Err(e);
            }
        };
        let old_gen = self.gen;
        self.gen = next;
        self.log = log;
        self.log_path = log_path;
        self.log_len = 0;
        self.snapshot_len = bytes.len() as u64;
        remove_if_present(&self.dir.join(log_name(old_gen)))?;
        remove_if_present(&self.dir.join(snapshot_name(old_gen)))?;
        Ok(durable::sync_dir(&self.dir)?)
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The boot id recorded by [`AgentCheckpoint::record_boot_id`], if any.
    pub fn recorded_boot_id(&self) -> Result<Option<String>, CheckpointError> {
        let path = self.dir.join(BOOT_ID);
        match fs::read_to_string(&path) {
            Ok(id) => Ok(Some(id.trim().to_string())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path, "read")(e)),
        }
    }

    /// Durably records the boot id the agent runs under.
    pub fn record_boot_id(&self, boot_id: &str) -> Result<(), CheckpointError> {
        let path = self.dir.join(BOOT_ID);
        Ok(durable::replace_file(
            &self.dir,
            BOOT_ID_TMP,
            &path,
            boot_id.as_bytes(),
        )?)
    }

    /// Sets the whole checkpoint aside (renamed to `<dir>.discarded.<n>`, kept for the operator)
    /// and opens an empty one in its place: the agent starts as a new agent.
    pub fn discard(self) -> Result<(AgentCheckpoint, CheckpointState), CheckpointError> {
        let dir = self.dir.clone();
        drop(self);
        set_aside(&dir)?;
        AgentCheckpoint::open(&dir)
    }

    /// Bytes of the current log.
    pub fn log_len(&self) -> u64 {
        self.log_len
    }
}

fn remove_if_present(path: &Path) -> Result<(), CheckpointError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path, "remove")(e)),
    }
}

fn read_snapshot(path: &Path) -> Result<CheckpointState, CheckpointError> {
    let corrupt = |problem| CheckpointError::CorruptSnapshot {
        path: path.to_path_buf(),
        problem,
    };
    let len = durable::file_len(path)?;
    if len > (CHECKPOINT_SNAPSHOT_HEADER_LEN + MAX_CHECKPOINT_BYTES) as u64 {
        return Err(corrupt(CheckpointProblem::BadLength(len)));
    }
    let bytes = fs::read(path).map_err(io_err(path, "read"))?;
    decode_checkpoint_snapshot(&bytes).map_err(corrupt)
}

/// Applies the log's batches to `state`; returns the log's length.
fn replay_log(path: &Path, state: &mut CheckpointState) -> Result<u64, CheckpointError> {
    let bytes = fs::read(path).map_err(io_err(path, "read"))?;
    let corrupt = |error| CheckpointError::CorruptLog {
        path: path.to_path_buf(),
        error,
    };
    let (batches, valid_len) = decode_log(&bytes).map_err(corrupt)?;
    if valid_len != bytes.len() {
        return Err(CheckpointError::TornLog {
            path: path.to_path_buf(),
            valid_len: valid_len as u64,
            file_len: bytes.len() as u64,
        });
    }
    for (offset, batch) in batches {
        for r in batch {
            state.apply(r).map_err(|e: ApplyError| {
                corrupt(CheckpointLogError {
                    offset,
                    problem: CheckpointProblem::Inconsistent(e),
                })
            })?;
        }
    }
    Ok(bytes.len() as u64)
}

/// Creates an empty file at `path` (replacing any), fsyncs it and `dir`.
fn write_new(dir: &Path, path: &Path) -> Result<(), CheckpointError> {
    File::create(path)
        .and_then(|f| f.sync_all())
        .map_err(io_err(path, "create"))?;
    Ok(durable::sync_dir(dir)?)
}

#[cfg(test)]
mod tests;
