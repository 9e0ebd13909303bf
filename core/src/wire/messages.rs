//! The messages masters and agents exchange (Mesos' internal `*SlaveMessage` family, by meaning not by wire).

use crate::attributes::Attribute;
use crate::ids::{AgentId, ContainerId, ExecutorId, FrameworkId, Role, TaskId};
use crate::resources::Resources;
use crate::task_state::TaskState;
use crate::time::{Duration, WallTime};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

/// What an agent tells the master about itself (Mesos `SlaveInfo`).
///
/// Mesos' `SlaveInfo` holds hostname, port, resources, attributes and domain; `ip` and
/// `version` travel beside it in Mesos, so the reconfiguration policy ignores them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentInfo {
    pub hostname: String,
    /// The IP the agent advertises (never 0.0.0.0).
    pub ip: String,
    pub port: u16,
    pub resources: Resources,
    /// Attributes in the order given; names are distinct.
    pub attributes: Vec<Attribute>,
    /// Where the agent runs (Mesos `DomainInfo.fault_domain`); `None` without `--domain`.
    pub domain: Option<FaultDomain>,
    pub version: String,
}

/// The fault domain of a node (Mesos `DomainInfo.FaultDomain`): a region and a zone in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultDomain {
    /// `region.name`.
    pub region: String,
    /// `zone.name`.
    pub zone: String,
}

impl fmt::Display for FaultDomain {
    /// The JSON form the `--domain` flag takes:
    /// `{"fault_domain":{"region":{"name":"r"},"zone":{"name":"z"}}}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"{"fault_domain":{"region":{"name":"#)?;
        write_json_string(f, &self.region)?;
        f.write_str(r#"},"zone":{"name":"#)?;
        write_json_string(f, &self.zone)?;
        f.write_str("}}}")
    }
}

/// Writes `s` as a JSON string literal.
fn write_json_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

/// The framework facts an agent needs to run its tasks (a subset of Mesos `FrameworkInfo`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameworkRecord {
    pub id: FrameworkId,
    pub name: String,
    pub user: String,
    pub checkpoint: bool,
    /// The role the framework's tasks consume resources as (so a restarted master can account them).
    pub role: Role,
}

/// What to run (Mesos `CommandInfo`, the parts mesolite supports).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandSpec {
    /// Run `value` with `/bin/sh -c` when true; otherwise exec `value` with argv `arguments`.
    pub shell: bool,
    pub value: String,
    pub arguments: Vec<String>,
    pub environment: Vec<(String, String)>,
    pub user: Option<String>,
}

/// The executor a task runs under. A command task gets a generated command executor whose
/// id equals the task id (as in Mesos).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutorSpec {
    pub executor_id: ExecutorId,
    pub name: String,
    /// `None` for the generated command executor (`mesolite executor`).
    pub command: Option<CommandSpec>,
    pub resources: Resources,
    /// Opaque data the framework gave its executor (Mesos `ExecutorInfo.data`).
    pub data: Option<Vec<u8>>,
}

/// A task as the master hands it to an agent (Mesos `TaskInfo`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskSpec {
    pub task_id: TaskId,
    pub name: String,
    pub resources: Resources,
    pub executor: ExecutorSpec,
    /// Set for command tasks.
    pub command: Option<CommandSpec>,
    /// Grace period between SIGTERM and SIGKILL when the task is killed.
    pub kill_grace: Option<Duration>,
    /// Opaque data for the executor.
    pub data: Vec<u8>,
    /// The role the task's resources are allocated to (Mesos `Resource.AllocationInfo.role`);
    /// `None` in checkpoints written before the role was recorded.
    pub role: Option<Role>,
}

/// Who produced a status update (Mesos `TaskStatus.Source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusSource {
    Master,
    Agent,
    Executor,
}

/// Why a status update happened (a subset of Mesos `TaskStatus.Reason`; the API issue adds the rest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusReason {
    CommandExecutorFailed,
    ExecutorTerminated,
    InvalidOffers,
    TaskInvalid,
    TaskKilledDuringLaunch,
    AgentRemoved,
    AgentDisconnected,
    AgentUnknown,
    Reconciliation,
    FrameworkRemoved,
    ContainerLaunchFailed,
    ExecutorRegistrationTimeout,
    /// A task of a LAUNCH_GROUP failed validation, so the whole group did (Mesos
    /// `REASON_TASK_GROUP_INVALID`).
    TaskGroupInvalid,
    /// The operator marked the task's agent gone (Mesos `REASON_AGENT_REMOVED_BY_OPERATOR`).
    AgentRemovedByOperator,
    /// A recovered executor did not subscribe again after an agent restart (Mesos
    /// `REASON_EXECUTOR_REREGISTRATION_TIMEOUT`). Appended last: postcard numbers variants in order.
    ExecutorReregistrationTimeout,
    /// The agent restarted and ended the task: `--recover cleanup` or after a reboot (Mesos
    /// `REASON_AGENT_RESTARTED`). Appended last.
    AgentRestarted,
    /// An unreachable agent came back and its task is known again (Mesos
    /// `REASON_AGENT_REREGISTERED`). Appended last.
    AgentReregistered,
}

/// One task status (Mesos `TaskStatus`). `uuid` is set for reliable updates, which must be acknowledged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskStatus {
    pub task_id: TaskId,
    pub state: TaskState,
    pub message: Option<String>,
    pub source: StatusSource,
    pub reason: Option<StatusReason>,
    pub agent_id: Option<AgentId>,
    pub executor_id: Option<ExecutorId>,
    pub timestamp: WallTime,
    pub uuid: Option<[u8; 16]>,
    pub data: Vec<u8>,
    /// When the task's agent became unreachable (only on `TASK_UNREACHABLE` answers).
    pub unreachable_time: Option<WallTime>,
}

/// A reliable status update travelling agent → master → framework (Mesos `StatusUpdate`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub framework_id: FrameworkId,
    pub status: TaskStatus,
    /// The state of the newest update the agent holds for this task, so the master learns a
    /// terminal state early even while older updates wait for acknowledgement.
    pub latest_state: TaskState,
}

/// A task an agent reports when it re-registers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskReport {
    pub framework_id: FrameworkId,
    pub executor_id: ExecutorId,
    pub task_id: TaskId,
    pub name: String,
    pub state: TaskState,
    pub resources: Resources,
    /// The role of the task's resources; `None` from agents that do not know it (protocol
    /// version 2, or tasks checkpointed before roles were): the master then uses the framework's
    /// first role.
    pub role: Option<Role>,
}

/// Messages from an agent to the master.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AgentToMaster {
    /// First registration (Mesos `RegisterSlaveMessage`). `checkpointed` holds the agent's
    /// dynamic reservations and persistent volumes (Mesos `checkpointed_resources`): its total is
    /// `info.resources` converted by them.
    Register {
        info: AgentInfo,
        checkpointed: Resources,
    },
    /// Registration of a known agent after a reconnect or a master restart (Mesos `ReregisterSlaveMessage`).
    Reregister {
        id: AgentId,
        info: AgentInfo,
        checkpointed: Resources,
        frameworks: Vec<FrameworkRecord>,
        tasks: Vec<TaskReport>,
    },
    /// A reliable status update (Mesos `StatusUpdateMessage`).
    StatusUpdate(StatusUpdate),
    /// Answer to [`MasterToAgent::Ping`] (Mesos `PongSlaveMessage`).
    Pong { seq: u64 },
    /// An executor ended (Mesos `ExitedExecutorMessage`); `status` is the wait status.
    ExecutorExited {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        status: i32,
        /// A generated command executor (its exit says nothing the task's status did not).
        command_executor: bool,
    },
    /// An executor's MESSAGE for its scheduler (Mesos `ExecutorToFrameworkMessage`); unreliable.
    ExecutorMessage {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        data: Vec<u8>,
    },
    /// The agent shut down for good after ending all its tasks (Mesos `UnregisterSlaveMessage`):
    /// the master removes it. Appended last: postcard numbers variants in order.
    Unregister,
}

/// Messages from the master to an agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum MasterToAgent {
    /// The agent is admitted; its entry is durable in the registry (Mesos `SlaveRegisteredMessage`).
    Registered { id: AgentId },
    /// The agent is known again (Mesos `SlaveReregisteredMessage`).
    Reregistered { id: AgentId },
    /// The master will not take this agent now. With `forget_id` the agent's id is unknown to the
    /// master and the agent registers afresh; otherwise it retries later with backoff.
    Refused { reason: String, forget_id: bool },
    /// Liveness probe (Mesos `PingSlaveMessage`).
    Ping { seq: u64 },
    /// Run a task under its executor (Mesos `RunTaskMessage`).
    RunTask {
        framework: FrameworkRecord,
        task: Box<TaskSpec>,
    },
    /// Run a task group (a pod) atomically under one default executor (Mesos `RunTaskGroupMessage`).
    /// Every task's `executor` equals `executor`.
    RunTaskGroup {
        framework: FrameworkRecord,
        executor: Box<ExecutorSpec>,
        tasks: Vec<TaskSpec>,
    },
    /// Kill a task (Mesos `KillTaskMessage`).
    KillTask {
        framework_id: FrameworkId,
        task_id: TaskId,
    },
    /// The framework acknowledged a status update (Mesos `StatusUpdateAcknowledgementMessage`).
    Acknowledge {
        framework_id: FrameworkId,
        task_id: TaskId,
        uuid: [u8; 16],
    },
    /// The framework is gone: kill its executors (Mesos `ShutdownFrameworkMessage`).
    ShutdownFramework { framework_id: FrameworkId },
    /// The scheduler's SHUTDOWN call: shut one executor down (Mesos `ShutdownExecutorMessage`).
    ShutdownExecutor {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
    },
    /// A scheduler's MESSAGE for one of its executors (Mesos `FrameworkToExecutorMessage`); unreliable.
    FrameworkMessage {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        data: Vec<u8>,
    },
    /// The agent's dynamic reservations and persistent volumes after an operation (Mesos
    /// `CheckpointResourcesMessage`): the agent checkpoints them, creates the directories of new
    /// volumes and removes those of destroyed ones.
    CheckpointResources { resources: Resources },
}

/// Where an executor run lives, relative to the agent's work dir (Mesos sandbox layout):
/// `slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/<container>`.
pub fn sandbox_path(
    agent: &AgentId,
    framework: &FrameworkId,
    executor: &ExecutorId,
    container: &ContainerId,
) -> String {
    let mut p = executor_dir(agent, framework, executor);
    p.push_str("/runs/");
    p.push_str(container.as_str());
    p
}

/// The directory holding all runs of one executor (and its `latest` link).
pub fn executor_dir(agent: &AgentId, framework: &FrameworkId, executor: &ExecutorId) -> String {
    let mut p = String::from("slaves/");
    p.push_str(agent.as_str());
    p.push_str("/frameworks/");
    p.push_str(framework.as_str());
    p.push_str("/executors/");
    p.push_str(executor.as_str());
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_layout_matches_mesos() {
        let p = sandbox_path(
            &AgentId::from("c-S0"),
            &FrameworkId::from("c-0001-0000"),
            &ExecutorId::from("t1"),
            &ContainerId::from("k1"),
        );
        assert_eq!(p, "slaves/c-S0/frameworks/c-0001-0000/executors/t1/runs/k1");
    }
}
