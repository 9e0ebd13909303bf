//! Version 2 of the internal protocol, still spoken with agents not yet upgraded (masters are
//! upgraded first): their messages are read in version 2's shape and upgraded, and what the
//! master sends them is downgraded to it. Version 2 had no role on tasks (`TaskSpec`,
//! `TaskReport`) and no executor data (`ExecutorSpec`); every other message is the same.

use super::{
    AgentInfo, AgentToMaster, CommandSpec, ExecutorSpec, FrameworkRecord, MasterToAgent,
    StatusUpdate, TaskReport, TaskSpec,
};
use crate::ids::{AgentId, ExecutorId, FrameworkId, TaskId};
use crate::resources::Resources;
use crate::task_state::TaskState;
use crate::time::Duration;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// The version this module speaks.
pub const VERSION: u8 = 2;

/// `ExecutorSpec` as version 2 had it: no `data`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutorSpecV2 {
    pub executor_id: ExecutorId,
    pub name: String,
    pub command: Option<CommandSpec>,
    pub resources: Resources,
}

/// `TaskSpec` as version 2 had it: no `role`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskSpecV2 {
    pub task_id: TaskId,
    pub name: String,
    pub resources: Resources,
    pub executor: ExecutorSpecV2,
    pub command: Option<CommandSpec>,
    pub kill_grace: Option<Duration>,
    pub data: Vec<u8>,
}

/// `TaskReport` as version 2 had it: no `role`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskReportV2 {
    pub framework_id: FrameworkId,
    pub executor_id: ExecutorId,
    pub task_id: TaskId,
    pub name: String,
    pub state: TaskState,
    pub resources: Resources,
}

/// `AgentToMaster` as version 2 sent it (variants in the same order).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AgentToMasterV2 {
    Register {
        info: AgentInfo,
    },
    Reregister {
        id: AgentId,
        info: AgentInfo,
        frameworks: Vec<FrameworkRecord>,
        tasks: Vec<TaskReportV2>,
    },
    StatusUpdate(StatusUpdate),
    Pong {
        seq: u64,
    },
    ExecutorExited {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        status: i32,
        command_executor: bool,
    },
    ExecutorMessage {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        data: Vec<u8>,
    },
    Unregister,
}

/// `MasterToAgent` as version 2 read it (variants in the same order).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum MasterToAgentV2 {
    Registered {
        id: AgentId,
    },
    Reregistered {
        id: AgentId,
    },
    Refused {
        reason: String,
        forget_id: bool,
    },
    Ping {
        seq: u64,
    },
    RunTask {
        framework: FrameworkRecord,
        task: Box<TaskSpecV2>,
    },
    RunTaskGroup {
        framework: FrameworkRecord,
        executor: ExecutorSpecV2,
        tasks: Vec<TaskSpecV2>,
    },
    KillTask {
        framework_id: FrameworkId,
        task_id: TaskId,
    },
    Acknowledge {
        framework_id: FrameworkId,
        task_id: TaskId,
        uuid: [u8; 16],
    },
    ShutdownFramework {
        framework_id: FrameworkId,
    },
    ShutdownExecutor {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
    },
    FrameworkMessage {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        data: Vec<u8>,
    },
}

impl ExecutorSpecV2 {
    /// The current form, without data.
    pub fn upgrade(self) -> ExecutorSpec {
        ExecutorSpec {
            executor_id: self.executor_id,
            name: self.name,
            command: self.command,
            resources: self.resources,
            data: None,
        }
    }

    /// Version 2's form of `spec`: its data is dropped.
    pub fn downgrade(spec: ExecutorSpec) -> ExecutorSpecV2 {
        ExecutorSpecV2 {
            executor_id: spec.executor_id,
            name: spec.name,
            command: spec.command,
            resources: spec.resources,
        }
    }
}

impl TaskSpecV2 {
    /// The current form, with the role unknown.
    pub fn upgrade(self) -> TaskSpec {
        TaskSpec {
            task_id: self.task_id,
            name: self.name,
            resources: self.resources,
            executor: self.executor.upgrade(),
            command: self.command,
            kill_grace: self.kill_grace,
            data: self.data,
            role: None,
        }
    }

    /// Version 2's form of `spec`: its role and its executor's data are dropped.
    pub fn downgrade(spec: TaskSpec) -> TaskSpecV2 {
        TaskSpecV2 {
            task_id: spec.task_id,
            name: spec.name,
            resources: spec.resources,
            executor: ExecutorSpecV2::downgrade(spec.executor),
            command: spec.command,
            kill_grace: spec.kill_grace,
            data: spec.data,
        }
    }
}

impl TaskReportV2 {
    /// The current form, with the role unknown.
    pub fn upgrade(self) -> TaskReport {
        TaskReport {
            framework_id: self.framework_id,
            executor_id: self.executor_id,
            task_id: self.task_id,
            name: self.name,
            state: self.state,
            resources: self.resources,
            role: None,
        }
    }
}

impl AgentToMasterV2 {
    /// The same message in the current version.
    pub fn upgrade(self) -> AgentToMaster {
        match self {
            AgentToMasterV2::Register { info } => AgentToMaster::Register {
                info,
                checkpointed: Resources::new(),
            },
            AgentToMasterV2::Reregister {
                id,
                info,
                frameworks,
                tasks,
            } => AgentToMaster::Reregister {
                id,
                info,
                checkpointed: Resources::new(),
                frameworks,
                tasks: tasks.into_iter().map(TaskReportV2::upgrade).collect(),
            },
            AgentToMasterV2::StatusUpdate(u) => AgentToMaster::StatusUpdate(u),
            AgentToMasterV2::Pong { seq } => AgentToMaster::Pong { seq },
            AgentToMasterV2::ExecutorExited {
                framework_id,
                executor_id,
                status,
                command_executor,
            } => AgentToMaster::ExecutorExited {
                framework_id,
                executor_id,
                status,
                command_executor,
            },
            AgentToMasterV2::ExecutorMessage {
                framework_id,
                executor_id,
                data,
            } => AgentToMaster::ExecutorMessage {
                framework_id,
                executor_id,
                data,
            },
            AgentToMasterV2::Unregister => AgentToMaster::Unregister,
        }
    }
}

impl MasterToAgentV2 {
    /// What a version 2 agent is sent for `msg`: tasks lose their role, executors their data;
    /// `None` for what version 2 cannot say (dynamic reservations and volumes, which such an
    /// agent never has: the master refuses operations on its resources).
    pub fn downgrade(msg: MasterToAgent) -> Option<MasterToAgentV2> {
        Some(match msg {
            MasterToAgent::Registered { id } => MasterToAgentV2::Registered { id },
            MasterToAgent::Reregistered { id } => MasterToAgentV2::Reregistered { id },
            MasterToAgent::Refused { reason, forget_id } => {
                MasterToAgentV2::Refused { reason, forget_id }
            }
            MasterToAgent::Ping { seq } => MasterToAgentV2::Ping { seq },
            MasterToAgent::RunTask { framework, task } => MasterToAgentV2::RunTask {
                framework,
                task: Box::new(TaskSpecV2::downgrade(*task)),
            },
            MasterToAgent::RunTaskGroup {
                framework,
                executor,
                tasks,
            } => MasterToAgentV2::RunTaskGroup {
                framework,
                executor: ExecutorSpecV2::downgrade(*executor),
                tasks: tasks.into_iter().map(TaskSpecV2::downgrade).collect(),
            },
            MasterToAgent::KillTask {
                framework_id,
                task_id,
            } => MasterToAgentV2::KillTask {
                framework_id,
                task_id,
            },
            MasterToAgent::Acknowledge {
                framework_id,
                task_id,
                uuid,
            } => MasterToAgentV2::Acknowledge {
                framework_id,
                task_id,
                uuid,
            },
            MasterToAgent::ShutdownFramework { framework_id } => {
                MasterToAgentV2::ShutdownFramework { framework_id }
            }
            MasterToAgent::ShutdownExecutor {
                framework_id,
                executor_id,
            } => MasterToAgentV2::ShutdownExecutor {
                framework_id,
                executor_id,
            },
            MasterToAgent::FrameworkMessage {
                framework_id,
                executor_id,
                data,
            } => MasterToAgentV2::FrameworkMessage {
                framework_id,
                executor_id,
                data,
            },
            MasterToAgent::CheckpointResources { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Role;

    fn spec() -> TaskSpec {
        TaskSpec {
            task_id: TaskId::new("t"),
            name: "t".into(),
            resources: Resources::parse("cpus:1").unwrap(),
            executor: ExecutorSpec {
                executor_id: ExecutorId::new("e"),
                name: "e".into(),
                command: Some(CommandSpec {
                    shell: true,
                    value: "./exec".into(),
                    ..CommandSpec::default()
                }),
                resources: Resources::new(),
                data: Some(alloc::vec![1, 2]),
            },
            command: None,
            kill_grace: None,
            data: alloc::vec![3],
            role: Some(Role::from("web")),
        }
    }

    #[test]
    fn a_version_2_reregistration_decodes_and_upgrades_without_roles() {
        let report = TaskReportV2 {
            framework_id: FrameworkId::new("f"),
            executor_id: ExecutorId::new("e"),
            task_id: TaskId::new("t"),
            name: "t".into(),
            state: TaskState::Running,
            resources: Resources::parse("cpus:1").unwrap(),
        };
        let old = AgentToMasterV2::Reregister {
            id: AgentId::new("a"),
            info: AgentInfo {
                hostname: "edge-1".into(),
                ip: "10.0.0.1".into(),
                port: 5051,
                resources: Resources::parse("cpus:2").unwrap(),
                attributes: Vec::new(),
                domain: None,
                version: "1.5.0".into(),
            },
            frameworks: Vec::new(),
            tasks: alloc::vec![report],
        };
        let bytes = postcard::to_allocvec(&old).unwrap();
        let read: AgentToMasterV2 = postcard::from_bytes(&bytes).unwrap();
        let AgentToMaster::Reregister { tasks, .. } = read.upgrade() else {
            panic!("not a re-registration");
        };
        assert_eq!(tasks[0].task_id.as_str(), "t");
        assert_eq!(tasks[0].role, None);
    }

    #[test]
    fn a_run_task_downgrades_to_bytes_a_version_2_agent_reads() {
        let msg = MasterToAgent::RunTask {
            framework: FrameworkRecord {
                id: FrameworkId::new("f"),
                name: "f".into(),
                user: "u".into(),
                checkpoint: true,
                role: Role::from("web"),
            },
            task: Box::new(spec()),
        };
        let bytes = postcard::to_allocvec(&MasterToAgentV2::downgrade(msg).unwrap()).unwrap();
        let read: MasterToAgentV2 = postcard::from_bytes(&bytes).unwrap();
        let MasterToAgentV2::RunTask { task, .. } = read else {
            panic!("not a RunTask");
        };
        let back = task.upgrade();
        assert_eq!(back.role, None);
        assert_eq!(back.executor.data, None);
        assert_eq!(back.data, alloc::vec![3]);
        assert_eq!(back.executor.command, spec().executor.command);
    }
}
