//! The validated configuration of each `mesolite` subcommand, as the binary receives it.

use std::net::{IpAddr, SocketAddr};

use mesolite_core::agent::reconfiguration::ReconfigurationPolicy;
use mesolite_core::time::Duration;
use mesolite_core::wire::FaultDomain;

use crate::values::{Attributes, Hostname, MasterAddr, Scalar};
use crate::workdir::WorkDir;
use crate::ResourcesText;

/// A parsed and validated subcommand.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Master(MasterConfig),
    Agent(AgentConfig),
    Standalone(StandaloneConfig),
    Run(RunConfig),
    Ctl(CtlConfig),
    /// The command executor; it reads its `MESOS_*` variables itself.
    Executor,
}

/// `mesolite master`.
#[derive(Clone, Debug, PartialEq)]
pub struct MasterConfig {
    /// `--listen`, default `0.0.0.0:5050`.
    pub listen: SocketAddr,
    /// `--work-dir`, created and checked writable; not yet locked.
    pub work_dir: WorkDir,
    /// `--allocation-interval`, default 1s, within 1ms..=1day.
    pub allocation_interval: Duration,
    /// `--max-agents`, default 10000, within 1..=1_000_000.
    pub max_agents: u32,
    /// `--max-frameworks`, default 1000, within 1..=100_000.
    pub max_frameworks: u32,
    /// Largest HTTP request body accepted, in bytes.
    pub max_request_body: u32,
    /// `--advertise-ip`, never the unspecified address; `None` means detect it.
    pub advertise_ip: Option<IpAddr>,
    /// `--hostname`; `None` means the kernel's host name.
    pub hostname: Option<Hostname>,
    /// Agent health, re-registration and registry GC flags.
    pub partition: PartitionConfig,
}

/// The master's agent-health and registry GC flags (Mesos 1.5 defaults), shared by `master` and
/// `standalone`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionConfig {
    /// `--agent-ping-timeout`, default 15s, within 1s..=1day.
    pub agent_ping_timeout: Duration,
    /// `--max-agent-ping-timeouts`, default 5, within 1..=1000.
    pub max_agent_ping_timeouts: u32,
    /// `--agent-reregister-timeout`, default 10mins, within 1s..=1day.
    pub agent_reregister_timeout: Duration,
    /// `--recovery-agent-removal-limit` in hundredths of a percent (10_000 is 100%), default 100%.
    pub recovery_agent_removal_limit: u32,
    /// `--registry-gc-interval`, default 15mins, within 1s..=1day.
    pub registry_gc_interval: Duration,
    /// `--registry-max-agent-age`, default 2weeks, within 1s..=3650days.
    pub registry_max_agent_age: Duration,
    /// `--registry-max-agent-count`, default 102400, within 1..=102400.
    pub registry_max_agent_count: u32,
}

impl Default for PartitionConfig {
    fn default() -> Self {
        PartitionConfig {
            agent_ping_timeout: Duration::from_secs(15),
            max_agent_ping_timeouts: 5,
            agent_reregister_timeout: Duration::from_secs(600),
            recovery_agent_removal_limit: 10_000,
            registry_gc_interval: Duration::from_secs(900),
            registry_max_agent_age: Duration::from_secs(14 * 86_400),
            registry_max_agent_count: 102_400,
        }
    }
}

/// `mesolite agent`.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentConfig {
    /// `--master`, required.
    pub master: MasterAddr,
    /// `--listen`, default `0.0.0.0:5051`.
    pub listen: SocketAddr,
    /// `--advertise-ip`, never the unspecified address; `None` means detect it.
    pub advertise_ip: Option<IpAddr>,
    /// `--work-dir`, created and checked writable; not yet locked.
    pub work_dir: WorkDir,
    /// `--resources`; `None` means detect everything.
    pub resources: Option<ResourcesText>,
    /// `--attributes`, empty by default.
    pub attributes: Attributes,
    /// `--hostname`; `None` means the kernel's host name.
    pub hostname: Option<Hostname>,
    /// `--executor-shutdown-grace-period`, default 5s, within 0..=1day.
    pub executor_shutdown_grace_period: Duration,
    /// `--reconfiguration-policy`, default `equal`: how the agent's info may differ from the
    /// checkpointed one on recovery.
    pub reconfiguration_policy: ReconfigurationPolicy,
    /// `--domain`, the agent's fault domain; `None` by default.
    pub domain: Option<FaultDomain>,
    /// `--recover`, default `reconnect`.
    pub recover: RecoverMode,
    /// `--shutdown`: end every task, unregister and exit.
    pub shutdown: bool,
    /// `--executor-reregistration-timeout`, default 2s, within 0..=15s (Mesos' maximum).
    pub executor_reregistration_timeout: Duration,
    /// `--registration-backoff-factor`, default 1s, within 0..=1min.
    pub registration_backoff_factor: Duration,
    /// `--registration-backoff-max`, default 4s, within 0..=1hour.
    pub registration_backoff_max: Duration,
    /// `--gc-delay`, default 1 week, within 1s..=3650days.
    pub gc_delay: Duration,
    /// `--gc-disk-headroom` in permille, default 100 (0.1), within 0..=1000.
    pub gc_disk_headroom_permille: u16,
    /// `--disk-watch-interval`, default 1min, within 1s..=1day.
    pub disk_watch_interval: Duration,
}

/// What a starting agent does with the executors of its checkpoint (Mesos `--recover`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecoverMode {
    /// Keep them: they subscribe again and their tasks go on.
    #[default]
    Reconnect,
    /// Kill them, report their tasks `TASK_LOST` (`REASON_AGENT_RESTARTED`) and exit 0.
    Cleanup,
}

impl RecoverMode {
    pub fn name(self) -> &'static str {
        match self {
            RecoverMode::Reconnect => "reconnect",
            RecoverMode::Cleanup => "cleanup",
        }
    }
}

/// `mesolite standalone`: a master and an agent in one process.
#[derive(Clone, Debug, PartialEq)]
pub struct StandaloneConfig {
    /// `--listen`, default `127.0.0.1:5050`.
    pub listen: SocketAddr,
    /// `--work-dir`, created and checked writable; not yet locked.
    pub work_dir: WorkDir,
    /// `--resources`; `None` means detect everything.
    pub resources: Option<ResourcesText>,
    /// `--allocation-interval`, default 1s, within 1ms..=1day.
    pub allocation_interval: Duration,
    /// `--max-agents`, default 10000, within 1..=1_000_000.
    pub max_agents: u32,
    /// `--max-frameworks`, default 1000, within 1..=100_000.
    pub max_frameworks: u32,
    /// Largest HTTP request body accepted, in bytes.
    pub max_request_body: u32,
    /// `--reconfiguration-policy` of the agent, default `equal`.
    pub reconfiguration_policy: ReconfigurationPolicy,
    /// `--domain` of the agent; `None` by default.
    pub domain: Option<FaultDomain>,
    /// Agent health, re-registration and registry GC flags of the master.
    pub partition: PartitionConfig,
}

/// What `mesolite run` runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunCommand {
    /// `--shell 'CMDLINE'`: run by `/bin/sh -c` (Mesos `CommandInfo.shell = true`).
    Shell(String),
    /// `-- CMD ARGS..`: run directly; never empty (Mesos `CommandInfo.shell = false`).
    Argv(Vec<String>),
}

/// `mesolite run`.
#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    /// `--master`, one or more, default `127.0.0.1:5050`.
    pub masters: Vec<MasterAddr>,
    /// `--cpus`, default 0.1, within 0.001..=1_000_000.
    pub cpus: Scalar,
    /// `--mem` in MB, default 32, within 1..=1_000_000_000.
    pub mem_mb: Scalar,
    /// `--name`, default `mesolite-run`; 1..=200 printable characters.
    pub name: String,
    pub command: RunCommand,
}

/// What `mesolite ctl` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtlQuery {
    State,
    Agents,
    Frameworks,
    Tasks,
    Version,
}

impl CtlQuery {
    pub const ALL: [CtlQuery; 5] = [
        CtlQuery::State,
        CtlQuery::Agents,
        CtlQuery::Frameworks,
        CtlQuery::Tasks,
        CtlQuery::Version,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CtlQuery::State => "state",
            CtlQuery::Agents => "agents",
            CtlQuery::Frameworks => "frameworks",
            CtlQuery::Tasks => "tasks",
            CtlQuery::Version => "version",
        }
    }

    pub fn from_name(name: &str) -> Option<CtlQuery> {
        CtlQuery::ALL.into_iter().find(|q| q.name() == name)
    }
}

/// `mesolite ctl`.
#[derive(Clone, Debug, PartialEq)]
pub struct CtlConfig {
    /// `--master`, default `127.0.0.1:5050`.
    pub master: MasterAddr,
    /// `--json`: print JSON rather than a table.
    pub json: bool,
    pub query: CtlQuery,
}
