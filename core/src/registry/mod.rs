//! The registry and the registrar (Mesos 1.5 §4.1-4.3): the master's durable state, the
//! operations that change it, their on-disk encoding, and the batching state machine that makes
//! each change durable before it is acknowledged.
//!
//! `state` holds the data and the deterministic [`apply`]; `codec` the entry, record and snapshot
//! formats; `registrar` the sans-IO state machine; `crc` the checksum. The platform's
//! `store` module persists entries and snapshots in files; a replicated (raft) store can carry
//! the same [`Entry`] payloads later.

mod codec;
mod crc;
mod maintenance;
mod registrar;
mod state;
#[cfg(test)]
mod tests;

pub use codec::{
    apply_entry, decode_entry, decode_records, decode_snapshot, encode_entry, encode_record_into,
    encode_snapshot, EncodeError, Entry, LogError, RecordProblem, ReplayError, SnapshotError,
    LOG_FORMAT_VERSION, MAX_RECORD_BYTES, MAX_SNAPSHOT_BYTES, RECORD_HEADER_LEN,
    SNAPSHOT_FORMAT_VERSION, SNAPSHOT_HEADER_LEN, SNAPSHOT_MAGIC,
};
pub use crc::crc32c;
pub use maintenance::{
    check_machines, check_schedule, MachineId, MachineRecord, MaintenanceError, MaintenanceWindow,
    Unavailability, MAX_MAINTENANCE_MACHINES,
};
pub use registrar::{
    Completion, Outcome, Registrar, RegistrarConfig, RegistrarError, RegistrarState, WriteResult,
    DEFAULT_MAX_QUEUE, DEFAULT_SNAPSHOT_EVERY,
};
pub use state::{
    apply, apply_owned, AdmittedAgent, AgentRecord, Applied, MachineMode, Op, OpError, QuotaRecord,
    Registry, RegistryInvalid, WeightRecord, MAX_ADMITTED_AGENTS, MAX_ATTRIBUTES_TEXT_LEN,
    MAX_HOSTNAME_LEN, MAX_IP_LEN, MAX_LEADER_LEN, MAX_QUOTAS, MAX_REMEMBERED_AGENTS,
    MAX_RESOURCES_TEXT_LEN, MAX_WEIGHTS, MAX_WEIGHT_MILLI,
};
