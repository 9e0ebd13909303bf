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
