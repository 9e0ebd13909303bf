//! Checkpoint records as format version 1 wrote them, read so that an upgraded agent recovers
//! the tasks an older binary checkpointed. Version 1 held executors without their data and tasks
//! without their role (the internal protocol's version 2 shapes); every other record is the same.

use super::checkpoint::Record;
use crate::ids::{AgentId, ContainerId, ExecutorId, FrameworkId, TaskId};
use crate::task_state::TaskState;
use crate::wire::previous::{ExecutorSpecV2, TaskSpecV2};
use crate::wire::{AgentInfo, FrameworkRecord, StatusUpdate};
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// The format version this module reads.
pub const VERSION: u8 = 1;

/// [`Record`] as version 1 wrote it (variants in the same order).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RecordV1 {
    Identity {
        id: AgentId,
        info: AgentInfo,
    },
    Framework(FrameworkRecord),
    ExecutorLaunched {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        container_id: ContainerId,
        spec: ExecutorSpecV2,
        sandbox: String,
        command_executor: bool,
    },
    ExecutorPid {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        container_id: ContainerId,
        pid: u32,
    },
    TasksAdded {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        tasks: Vec<TaskSpecV2>,
        group: bool,
    },
    UpdateQueued {
        executor_id: ExecutorId,
        update: StatusUpdate,
    },
    UpdateAcknowledged {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        task_id: TaskId,
        uuid: [u8; 16],
    },
    ExecutorEnded {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
    },
    ExecutorRemoved {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
    },
    FrameworkRemoved {
        framework_id: FrameworkId,
    },
    TaskSettled {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        task_id: TaskId,
        state: TaskState,
        uuid: [u8; 16],
    },
}

impl RecordV1 {
    /// The same record in the current version (no executor data, task roles unknown).
    pub fn upgrade(self) -> Record {
        match self {
            RecordV1::Identity { id, info } => Record::Identity { id, info },
            RecordV1::Framework(f) => Record::Framework(f),
            RecordV1::ExecutorLaunched {
                framework_id,
                executor_id,
                container_id,
                spec,
                sandbox,
                command_executor,
            } => Record::ExecutorLaunched {
                framework_id,
                executor_id,
                container_id,
                spec: spec.upgrade(),
                sandbox,
                command_executor,
            },
            RecordV1::ExecutorPid {
                framework_id,
                executor_id,
                container_id,
                pid,
            } => Record::ExecutorPid {
                framework_id,
                executor_id,
                container_id,
                pid,
            },
            RecordV1::TasksAdded {
                framework_id,
                executor_id,
                tasks,
                group,
            } => Record::TasksAdded {
                framework_id,
                executor_id,
                tasks: tasks.into_iter().map(TaskSpecV2::upgrade).collect(),
                group,
            },
            RecordV1::UpdateQueued {
                executor_id,
                update,
            } => Record::UpdateQueued {
                executor_id,
                update,
            },
            RecordV1::UpdateAcknowledged {
                framework_id,
                executor_id,
                task_id,
                uuid,
            } => Record::UpdateAcknowledged {
                framework_id,
                executor_id,
                task_id,
                uuid,
            },
            RecordV1::ExecutorEnded {
                framework_id,
                executor_id,
            } => Record::ExecutorEnded {
                framework_id,
                executor_id,
            },
            RecordV1::ExecutorRemoved {
                framework_id,
                executor_id,
            } => Record::ExecutorRemoved {
                framework_id,
                executor_id,
            },
            RecordV1::FrameworkRemoved { framework_id } => {
                Record::FrameworkRemoved { framework_id }
            }
            RecordV1::TaskSettled {
                framework_id,
                executor_id,
                task_id,
                state,
                uuid,
            } => Record::TaskSettled {
                framework_id,
                executor_id,
                task_id,
                state,
                uuid,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::checkpoint::{decode_log, CHECKPOINT_RECORD_HEADER_LEN};
    use crate::registry::crc32c;
    use crate::resources::Resources;
    use crate::wire::CommandSpec;

    #[test]
    fn a_version_1_log_record_reads_as_current_records() {
        let task = TaskSpecV2 {
            task_id: TaskId::new("t"),
            name: "t".into(),
            resources: Resources::parse("cpus:1").unwrap(),
            executor: ExecutorSpecV2 {
                executor_id: ExecutorId::new("t"),
                name: "cmd".into(),
                command: None,
                resources: Resources::new(),
            },
            command: Some(CommandSpec::default()),
            kill_grace: None,
            data: alloc::vec![7],
        };
        let records = alloc::vec![RecordV1::TasksAdded {
            framework_id: FrameworkId::new("f"),
            executor_id: ExecutorId::new("t"),
            tasks: alloc::vec![task],
            group: false,
        }];
        let mut payload = alloc::vec![VERSION];
        payload.extend(postcard::to_allocvec(&records).unwrap());
        let mut log = Vec::new();
        log.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        log.extend_from_slice(&crc32c(&payload).to_le_bytes());
        log.extend_from_slice(&payload);
        assert_eq!(log.len(), CHECKPOINT_RECORD_HEADER_LEN + payload.len());

        let (batches, valid) = decode_log(&log).expect("a version 1 record reads");
        assert_eq!(valid, log.len());
        let Record::TasksAdded { tasks, .. } = &batches[0].1[0] else {
            panic!("not TasksAdded: {:?}", batches[0].1[0]);
        };
        assert_eq!(tasks[0].role, None);
        assert_eq!(tasks[0].executor.data, None);
        assert_eq!(tasks[0].data, alloc::vec![7]);
    }
}
