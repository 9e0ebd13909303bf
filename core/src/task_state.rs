//! The 14 v1 task states with Mesos' numbering, so wire and checkpoint enums never reorder.

use serde::{Deserialize, Serialize};

/// Mesos `TaskState` (v1). The discriminants are Mesos' wire numbers; never reorder or reuse them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum TaskState {
    Starting = 0,
    Running = 1,
    Finished = 2,
    Failed = 3,
    Killed = 4,
    Lost = 5,
    Staging = 6,
    Error = 7,
    Killing = 8,
    Dropped = 9,
    Unreachable = 10,
    Gone = 11,
    GoneByOperator = 12,
    Unknown = 13,
}

impl TaskState {
    pub const ALL: [TaskState; 14] = [
        TaskState::Starting,
        TaskState::Running,
        TaskState::Finished,
        TaskState::Failed,
        TaskState::Killed,
        TaskState::Lost,
        TaskState::Staging,
        TaskState::Error,
        TaskState::Killing,
        TaskState::Dropped,
        TaskState::Unreachable,
        TaskState::Gone,
        TaskState::GoneByOperator,
        TaskState::Unknown,
    ];

    /// The wire name, e.g. `TASK_RUNNING`.
    pub const fn name(self) -> &'static str {
        match self {
            TaskState::Starting => "TASK_STARTING",
            TaskState::Running => "TASK_RUNNING",
            TaskState::Finished => "TASK_FINISHED",
            TaskState::Failed => "TASK_FAILED",
            TaskState::Killed => "TASK_KILLED",
            TaskState::Lost => "TASK_LOST",
            TaskState::Staging => "TASK_STAGING",
            TaskState::Error => "TASK_ERROR",
            TaskState::Killing => "TASK_KILLING",
            TaskState::Dropped => "TASK_DROPPED",
            TaskState::Unreachable => "TASK_UNREACHABLE",
            TaskState::Gone => "TASK_GONE",
            TaskState::GoneByOperator => "TASK_GONE_BY_OPERATOR",
            TaskState::Unknown => "TASK_UNKNOWN",
        }
    }

    pub fn from_name(s: &str) -> Option<TaskState> {
        TaskState::ALL.into_iter().find(|t| t.name() == s)
    }

    pub const fn number(self) -> u8 {
        self as u8
    }

    pub fn from_number(n: u8) -> Option<TaskState> {
        TaskState::ALL.into_iter().find(|t| t.number() == n)
    }

    /// Terminal states release the task's resources (Mesos `protobuf::isTerminalState`).
    /// `TASK_LOST` counts as terminal as in Mesos, though a partitioned agent may bring it back.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskState::Finished
                | TaskState::Failed
                | TaskState::Killed
                | TaskState::Error
                | TaskState::Lost
                | TaskState::Dropped
                | TaskState::Gone
                | TaskState::GoneByOperator
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_matches_mesos() {
        assert_eq!(TaskState::Staging.number(), 6);
        assert_eq!(TaskState::Starting.number(), 0);
        assert_eq!(TaskState::Unknown.number(), 13);
        for s in TaskState::ALL {
            assert_eq!(TaskState::from_number(s.number()), Some(s));
            assert_eq!(TaskState::from_name(s.name()), Some(s));
        }
        assert_eq!(TaskState::from_name("TASK_BOGUS"), None);
    }

    #[test]
    fn terminal_states() {
        assert!(TaskState::Finished.is_terminal());
        assert!(!TaskState::Running.is_terminal());
        assert!(!TaskState::Unreachable.is_terminal());
        assert!(TaskState::Lost.is_terminal());
    }
}
