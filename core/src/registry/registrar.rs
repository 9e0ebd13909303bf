//! The registrar (Mesos `Registrar`): queues registry operations, batches them into log entries,
//! and releases each operation's result only once its entry is durable. Sans-IO: the driver
//! persists the entries and reports back.
//!
//! # Methods and poll order
//!
//! Getters: [`Registrar::registry`], [`Registrar::queued`], [`Registrar::in_flight`],
//! [`Registrar::state`]. Inputs: [`Registrar::submit`], [`Registrar::handle_write_done`],
//! [`Registrar::handle_snapshot_written`]. Pollers, drained in this order after every input:
//!
//! 1. [`Registrar::poll_write`]: at most one entry is in flight; persist it (append + fsync, or a
//!    raft proposal) and report with `handle_write_done`.
//! 2. [`Registrar::poll_completion`] until `None`: reply to whoever submitted each tag.
//! 3. [`Registrar::wants_snapshot`]: if true (never while a write is in flight), write
//!    [`Registrar::registry`] as a snapshot and call `handle_snapshot_written`.
//!
//! # Durability rules
//!
//! - [`Registrar::registry`] is always the durable registry. Batches are applied to a second,
//!   working copy to compute results; on `Durable` the entry's ops are applied (moved) to the
//!   durable copy, on `Failed`/`Abandoned` the working copy is reset from the durable one. The
//!   price is two copies of the registry in memory.
//! - An op that is refused (`Err`) or changes nothing (`Applied::Unchanged`) is not written.
//!   Its completion is released with its batch once that batch is durable, because its result
//!   may depend on earlier ops of the same batch. If no op of a batch changed anything, the
//!   batch writes nothing and its completions are released at once (they depend only on durable
//!   state).
//! - `Failed` (the store failed) and `Abandoned` (no longer leader) stop the registrar for good,
//!   as in Mesos, where any store failure aborts the master: the in-flight batch and every queued
//!   op complete with that outcome, and `submit` is refused afterwards.
//!
//! # Bounds
//!
//! Every op submitted and not yet taken by `poll_completion` counts against `max_queue`
//! (queued, in flight, or completed but not polled); `submit` refuses with
//! [`RegistrarError::QueueFull`] beyond it, and the caller refuses its own request (an agent
//! retries its registration). A batch holds at most `max_batch` ops and at most
//! [`MAX_RECORD_BYTES`] of encoded entry.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;

use super::codec::{encode_snapshot, EncodeError, Entry, MAX_RECORD_BYTES};
use super::state::{apply, apply_owned, Applied, Op, OpError, Registry};

/// Default bound on outstanding ops (see the module's bounds).
pub const DEFAULT_MAX_QUEUE: usize = 16 * 1024;
/// Default number of entries written between snapshots.
pub const DEFAULT_SNAPSHOT_EVERY: u64 = 1024;
/// Room left in a record for the entry's version byte, index and op count.
const ENTRY_OVERHEAD: usize = 1 + 10 + 10;

/// Registrar limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegistrarConfig {
    /// Most ops in one entry (at least 1).
    pub max_batch: usize,
    /// Most outstanding ops (at least 1).
    pub max_queue: usize,
    /// Entries between snapshots (at least 1).
    pub snapshot_every: u64,
}

/// How the driver's write of an entry ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteResult {
    /// The entry is on disk (fsynced) or committed by a quorum.
    Durable,
    /// The store failed; fatal for the master.
    Failed,
    /// This master is no longer the leader; the entry's fate is unknown.
    Abandoned,
}

/// Whether the registrar still accepts work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistrarState {
    Running,
    /// A write failed; the master must exit.
    Failed,
    /// Leadership was lost; the master must stop serving.
    Abandoned,
}

/// The final outcome of a submitted op.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The op's result, durable (or, for `Unchanged`/`Err`, reflecting durable state).
    Done(Result<Applied, OpError>),
    /// The write of the op's batch failed, or an earlier one did.
    Failed,
    /// Leadership was lost before the op's batch was durable.
    Abandoned,
}

/// A submitted op's outcome, with the caller's tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub tag: u64,
    pub outcome: Outcome,
}

/// Why the registrar refused an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistrarError {
    /// `max_queue` ops are outstanding.
    QueueFull,
    /// The registrar stopped after a failed or abandoned write.
    Stopped,
    /// `handle_write_done` named an entry that is not in flight (a driver bug).
    NoSuchWrite { index: u64 },
}

impl fmt::Display for RegistrarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistrarError::QueueFull => f.write_str("registrar queue is full"),
            RegistrarError::Stopped => f.write_str("registrar stopped after a failed write"),
            RegistrarError::NoSuchWrite { index } => {
                write!(f, "registry entry {index} is not being written")
            }
        }
    }
}

/// The registrar state machine. See the module documentation.
pub struct Registrar {
    durable: Registry,
    working: Registry,
    config: RegistrarConfig,
    state: RegistrarState,
    queue: VecDeque<(Op, u64)>,
    /// The entry being written; meaningful only while `in_flight`.
    entry: Entry,
    in_flight: bool,
    /// Results of the in-flight batch, in op order, released when it is durable.
    batch: Vec<(u64, Result<Applied, OpError>)>,
    completions: VecDeque<Completion>,
    entries_since_snapshot: u64,
}

impl Registrar {
    /// A registrar over `registry` (as recovered from the store) with at most `max_batch` ops per
    /// entry and the default queue bound and snapshot interval.
    pub fn new(registry: Registry, max_batch: usize) -> Registrar {
        Registrar::with_config(
            registry,
            RegistrarConfig {
                max_batch,
                max_queue: DEFAULT_MAX_QUEUE,
                snapshot_every: DEFAULT_SNAPSHOT_EVERY,
            },
        )
    }

    /// A registrar with explicit limits; zero limits are raised to 1. All queues are allocated
    /// here, once.
    pub fn with_config(registry: Registry, config: RegistrarConfig) -> Registrar {
        let config = RegistrarConfig {
            max_batch: config.max_batch.max(1),
            max_queue: config.max_queue.max(1),
            snapshot_every: config.snapshot_every.max(1),
        };
        Registrar {
            working: registry.clone(),
            durable: registry,
            state: RegistrarState::Running,
            queue: VecDeque::with_capacity(config.max_queue),
            entry: Entry {
                index: 0,
                ops: Vec::with_capacity(config.max_batch),
            },
            in_flight: false,
            batch: Vec::with_capacity(config.max_batch.min(config.max_queue)),
            completions: VecDeque::with_capacity(config.max_queue),
            entries_since_snapshot: 0,
            config,
        }
    }

    /// The durable registry.
    pub fn registry(&self) -> &Registry {
        &self.durable
    }

    /// Ops waiting for a batch (Mesos metric `registrar/queued_operations`).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Index of the entry being written, if any.
    pub fn in_flight(&self) -> Option<u64> {
        self.in_flight.then_some(self.entry.index)
    }

    pub fn state(&self) -> RegistrarState {
        self.state
    }

    pub fn config(&self) -> RegistrarConfig {
        self.config
    }

    /// Queues `op`; its completion carries `tag`.
    pub fn submit(&mut self, op: Op, tag: u64) -> Result<(), RegistrarError> {
        if self.state != RegistrarState::Running {
            return Err(RegistrarError::Stopped);
        }
        let outstanding = self.queue.len() + self.batch.len() + self.completions.len();
        if outstanding >= self.config.max_queue {
            return Err(RegistrarError::QueueFull);
        }
        self.queue.push_back((op, tag));
        Ok(())
    }

    /// The next entry to persist, when none is in flight and ops are queued. Batches that change
    /// nothing are completed at once and the next batch is tried.
    pub fn poll_write(&mut self) -> Option<&Entry> {
        if self.in_flight || self.state != RegistrarState::Running {
            return None;
        }
        while !self.queue.is_empty() {
            self.take_batch();
            if !self.entry.ops.is_empty() {
                self.entry.index = self.durable.version + 1;
                self.working.version = self.entry.index;
                self.in_flight = true;
                return Some(&self.entry);
            }
            self.release_batch();
        }
        None
    }

    /// Applies queued ops to the working copy until the batch is full; changing ops move into
    /// the entry, every op's result goes to `batch`.
    fn take_batch(&mut self) {
        let mut bytes = ENTRY_OVERHEAD;
        while self.batch.len() < self.config.max_batch {
            let Some((op, _)) = self.queue.front() else {
                break;
            };
            // Field bounds keep a single op far below MAX_RECORD_BYTES, so an empty entry
            // always has room.
            let size = postcard::serialize_with_flavor(op, postcard::ser_flavors::Size::default())
                .unwrap_or(MAX_RECORD_BYTES);
            if !self.entry.ops.is_empty() && bytes + size > MAX_RECORD_BYTES {
                break;
            }
            let Some((op, tag)) = self.queue.pop_front() else {
                break;
            };
            let result = apply(&mut self.working, &op);
            if matches!(result, Ok(ref a) if *a != Applied::Unchanged) {
                bytes += size;
                self.entry.ops.push(op);
            }
            self.batch.push((tag, result));
        }
    }

    /// Moves the batch's results to the completions.
    fn release_batch(&mut self) {
        for (tag, result) in self.batch.drain(..) {
            self.completions.push_back(Completion {
                tag,
                outcome: Outcome::Done(result),
            });
        }
    }

    /// Reports how the write of entry `index` ended.
    pub fn handle_write_done(
        &mut self,
        index: u64,
        result: WriteResult,
    ) -> Result<(), RegistrarError> {
        if !self.in_flight || index != self.entry.index {
            return Err(RegistrarError::NoSuchWrite { index });
        }
        self.in_flight = false;
        match result {
            WriteResult::Durable => {
                for op in self.entry.ops.drain(..) {
                    // Deterministic: the same result the working copy got.
                    let _ = apply_owned(&mut self.durable, op);
                }
                self.durable.version = index;
                self.entries_since_snapshot += 1;
                self.release_batch();
            }
            WriteResult::Failed | WriteResult::Abandoned => {
                let (state, outcome) = if result == WriteResult::Failed {
                    (RegistrarState::Failed, Outcome::Failed)
                } else {
                    (RegistrarState::Abandoned, Outcome::Abandoned)
                };
                self.state = state;
                self.entry.ops.clear();
                self.working = self.durable.clone();
                let batch_tags = self.batch.drain(..).map(|(tag, _)| tag);
                let queued_tags = self.queue.drain(..).map(|(_, tag)| tag);
                for tag in batch_tags.chain(queued_tags) {
                    self.completions.push_back(Completion {
                        tag,
                        outcome: outcome.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The next op outcome to report.
    pub fn poll_completion(&mut self) -> Option<Completion> {
        self.completions.pop_front()
    }

    /// Whether the driver should write a snapshot now: `snapshot_every` entries were written
    /// since the last one and no write is in flight.
    pub fn wants_snapshot(&self) -> bool {
        self.state == RegistrarState::Running
            && !self.in_flight
            && self.entries_since_snapshot >= self.config.snapshot_every
    }

    /// The snapshot file bytes of the durable registry.
    pub fn snapshot_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        encode_snapshot(&self.durable)
    }

    /// Reports that a snapshot of the current durable registry was written.
    pub fn handle_snapshot_written(&mut self) {
        self.entries_since_snapshot = 0;
    }

    /// Tells the registrar how many entries the recovered log already holds past the snapshot,
    /// so the snapshot interval counts them.
    pub fn set_entries_since_snapshot(&mut self, entries: u64) {
        self.entries_since_snapshot = entries;
    }
}
