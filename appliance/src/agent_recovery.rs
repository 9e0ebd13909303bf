//! Starting an agent on its work dir: reads the checkpoint, applies the reconfiguration policy and
//! the reboot rule, and builds the agent new or recovered (Mesos `Slave::recover`).

use crate::master_driver::log;
use crate::MainError;
use mesolite_core::agent::reconfiguration::ReconfigurationPolicy;
use mesolite_core::agent::{start_from, Agent, AgentConfig, StartFrom};
use mesolite_core::time::Instant;
use mesolite_platform::checkpoint::{self, AgentCheckpoint};
use mesolite_platform::host;
use std::path::Path;

/// The agent built from its work dir, with the open checkpoint it writes to.
pub struct StartedAgent {
    pub agent: Agent,
    pub checkpoint: AgentCheckpoint,
    /// The host rebooted since the checkpoint was last opened: no executor of the checkpoint
    /// survived, and its pids may now belong to unrelated processes.
    pub rebooted: bool,
}

/// Opens the checkpoint under `work_dir` and builds the agent from it:
///
/// - nothing checkpointed: a new agent;
/// - an identity whose info the flags change in a way `policy` refuses: an error naming every
///   refused change, unless the host rebooted, in which case the old checkpoint is set aside
///   and the agent starts as a new agent (Mesos 1.4+);
/// - otherwise: the agent recovered with its id, executors, tasks and queued updates.
///
/// A checkpoint that does not read is an error naming the file; the agent never starts from a
/// silently emptied state.
pub fn start_agent_from_checkpoint(
    work_dir: &Path,
    cfg: AgentConfig,
    policy: ReconfigurationPolicy,
    now: Instant,
) -> Result<StartedAgent, MainError> {
    let dir = checkpoint::checkpoint_dir(work_dir);
    let startup = |e: checkpoint::CheckpointError| MainError::Startup(e.to_string());
    let (mut ckpt, mut state) = AgentCheckpoint::open(&dir).map_err(startup)?;
    let boot_id = host::boot_id();
    let recorded = ckpt.recorded_boot_id().map_err(startup)?;
    let decision = start_from(
        &state,
        &cfg.info,
        policy,
        boot_id.as_deref(),
        recorded.as_deref(),
    );
    let mut rebooted = false;
    match decision {
        StartFrom::New => {}
        StartFrom::Checkpoint { rebooted: r } => rebooted = r,
        StartFrom::Refuse(refusal) => {
            return Err(MainError::Startup(format!(
                "{refusal} (or move {} away to start as a new agent; its tasks are not recovered)",
                dir.display()
            )));
        }
        StartFrom::DiscardAfterReboot(refusal) => {
            log(&format!(
                "the host rebooted and {refusal}; setting the old checkpoint aside and \
                 registering as a new agent"
            ));
            (ckpt, state) = ckpt.discard().map_err(startup)?;
        }
    }
    if let Some(id) = &boot_id {
        if recorded.as_ref() != Some(id) {
            ckpt.record_boot_id(id).map_err(startup)?;
        }
    }
    let agent = if state.is_empty() {
        Agent::new(cfg, now)
    } else {
        let executors = state.executors.len();
        log(&format!(
            "recovering agent {} from {}: {executors} executor(s){}",
            state
                .agent_id()
                .map(|id| id.as_str())
                .unwrap_or("(not yet registered)"),
            dir.display(),
            if rebooted {
                "; the host rebooted, so none of them survived"
            } else {
                ""
            }
        ));
        Agent::recover(cfg, now, state)
    };
    Ok(StartedAgent {
        agent,
        checkpoint: ckpt,
        rebooted,
    })
}
