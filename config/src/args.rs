//! The raw command line as argh sees it, and the normalization that runs before argh.
//!
//! Every option is an `Option<String>` here; `resolve.rs` fills gaps from the environment and
//! validates, so that every error message has the same one-line form.

use argh::FromArgs;

use crate::error::ConfigError;

#[derive(FromArgs, Debug)]
/// mesolite: a Mesos-compatible master and agent in one binary.
#[argh(
    help_triggers("-h", "--help", "help"),
    note = "Every flag can also be set by an environment variable named MESOLITE_ and the flag in \
            upper snake case (--work-dir: MESOLITE_WORK_DIR); a flag on the command line wins. \
            Flags also accept --flag=value and Mesos' underscore spellings (--work_dir)."
)]
pub(crate) struct TopArgs {
    #[argh(subcommand)]
    pub cmd: SubArgs,
}

#[derive(FromArgs, Debug)]
#[argh(subcommand)]
pub(crate) enum SubArgs {
    Master(MasterArgs),
    Agent(AgentArgs),
    Standalone(StandaloneArgs),
    Run(RunArgs),
    Ctl(CtlArgs),
    Executor(ExecutorArgs),
}

#[derive(FromArgs, Debug)]
/// run a master: the registry of agents and frameworks, and the allocator.
#[argh(subcommand, name = "master", help_triggers("-h", "--help", "help"))]
pub(crate) struct MasterArgs {
    /// IP:PORT to listen on (default 0.0.0.0:5050)
    #[argh(option)]
    pub listen: Option<String>,
    /// directory for the registry (default /var/lib/mesolite/master as root, else
    /// ~/.local/state/mesolite/master)
    #[argh(option)]
    pub work_dir: Option<String>,
    /// time between allocation batches, like 1s or 500ms (default 1s)
    #[argh(option)]
    pub allocation_interval: Option<String>,
    /// most agents the master admits, 1..=1000000 (default 10000)
    #[argh(option)]
    pub max_agents: Option<String>,
    /// most frameworks the master admits, 1..=100000 (default 1000)
    #[argh(option)]
    pub max_frameworks: Option<String>,
    /// largest HTTP request body accepted, in bytes, 65536..=268435456 (default 4194304)
    #[argh(option)]
    pub max_request_body: Option<String>,
    /// IP address others use to reach this master (default: the default route's address)
    #[argh(option)]
    pub advertise_ip: Option<String>,
    /// host name to report (default: the kernel's host name)
    #[argh(option)]
    pub hostname: Option<String>,
    /// time between the master's pings to each agent, at least 1s (default 15secs)
    #[argh(option)]
    pub agent_ping_timeout: Option<String>,
    /// pings an agent may leave unanswered in a row before it is marked unreachable, 1..=1000
    /// (default 5)
    #[argh(option)]
    pub max_agent_ping_timeouts: Option<String>,
    /// after a master restart, how long agents have to re-register before they are marked
    /// unreachable, at least 1s (default 10mins; Mesos' minimum is 10mins)
    #[argh(option)]
    pub agent_reregister_timeout: Option<String>,
    /// most of the admitted agents that the re-registration timeout may mark unreachable, like
    /// 50% (default 100%); past it they are left recovered and a line is logged
    #[argh(option)]
    pub recovery_agent_removal_limit: Option<String>,
    /// how often unreachable and gone agents are pruned from the registry (default 15mins)
    #[argh(option)]
    pub registry_gc_interval: Option<String>,
    /// unreachable and gone agents older than this are pruned from the registry (default 2weeks)
    #[argh(option)]
    pub registry_max_agent_age: Option<String>,
    /// most unreachable and most gone agents the registry keeps, 1..=102400 (default 102400)
    #[argh(option)]
    pub registry_max_agent_count: Option<String>,
}

#[derive(FromArgs, Debug)]
/// run an agent: it offers this machine's resources and runs tasks.
#[argh(subcommand, name = "agent", help_triggers("-h", "--help", "help"))]
pub(crate) struct AgentArgs {
    /// the master's HOST:PORT (required)
    #[argh(option)]
    pub master: Option<String>,
    /// IP:PORT to listen on (default 0.0.0.0:5051)
    #[argh(option)]
    pub listen: Option<String>,
    /// IP address others use to reach this agent (default: the default route's address)
    #[argh(option)]
    pub advertise_ip: Option<String>,
    /// directory for checkpoints and sandboxes (default /var/lib/mesolite/agent as root, else
    /// ~/.local/state/mesolite/agent)
    #[argh(option)]
    pub work_dir: Option<String>,
    /// resources to offer, like 'cpus:2;mem:1024' (anything not given is detected)
    #[argh(option)]
    pub resources: Option<String>,
    /// attributes, like 'rack:a;zone:b'
    #[argh(option)]
    pub attributes: Option<String>,
    /// host name to report (default: the kernel's host name)
    #[argh(option)]
    pub hostname: Option<String>,
    /// time an executor gets to exit after being asked to (default 5s)
    #[argh(option)]
    pub executor_shutdown_grace_period: Option<String>,
    /// how the agent's resources, attributes and domain may change across a restart: equal or
    /// additive (default equal)
    #[argh(option)]
    pub reconfiguration_policy: Option<String>,
    /// the agent's fault domain as JSON, like
    /// '{"fault_domain":{"region":{"name":"eu"},"zone":{"name":"eu-1"}}}'
    #[argh(option)]
    pub domain: Option<String>,
    /// what to do with the executors of the checkpoint on start: reconnect (keep them) or
    /// cleanup (kill them, report their tasks lost, exit) (default reconnect)
    #[argh(option)]
    pub recover: Option<String>,
    /// kill every task, unregister from the master and exit (what SIGUSR1 does to a running
    /// agent); the next start is a new agent
    #[argh(switch)]
    pub shutdown: bool,
    /// how long executors have to subscribe again after an agent restart before their tasks
    /// are lost, up to 15s (default 2secs)
    #[argh(option)]
    pub executor_reregistration_timeout: Option<String>,
    /// the first (re)registration attempt waits a random time up to this; each failure doubles
    /// it (default 1secs)
    #[argh(option)]
    pub registration_backoff_factor: Option<String>,
    /// cap of the registration backoff (default 4secs)
    #[argh(option)]
    pub registration_backoff_max: Option<String>,
    /// how long the sandbox of an ended executor is kept, 1s..=3650days (default 1weeks); the
    /// fuller the disk, the shorter
    #[argh(option)]
    pub gc_delay: Option<String>,
    /// share of the work dir's disk to keep free, 0.0..=1.0: sandboxes older than
    /// gc-delay × (1 − headroom − disk usage) are removed (default 0.1)
    #[argh(option)]
    pub gc_disk_headroom: Option<String>,
    /// how often the work dir's disk usage is checked, 1s..=1days (default 1mins)
    #[argh(option)]
    pub disk_watch_interval: Option<String>,
}

#[derive(FromArgs, Debug)]
/// run a master and an agent in one process, for a single machine.
#[argh(subcommand, name = "standalone", help_triggers("-h", "--help", "help"))]
pub(crate) struct StandaloneArgs {
    /// IP:PORT to listen on (default 127.0.0.1:5050)
    #[argh(option)]
    pub listen: Option<String>,
    /// directory for all state (default /var/lib/mesolite/standalone as root, else
    /// ~/.local/state/mesolite/standalone)
    #[argh(option)]
    pub work_dir: Option<String>,
    /// resources to offer, like 'cpus:2;mem:1024' (anything not given is detected)
    #[argh(option)]
    pub resources: Option<String>,
    /// time between allocation batches, like 1s or 500ms (default 1s)
    #[argh(option)]
    pub allocation_interval: Option<String>,
    /// most agents the master admits, 1..=1000000 (default 10000)
    #[argh(option)]
    pub max_agents: Option<String>,
    /// most frameworks the master admits, 1..=100000 (default 1000)
    #[argh(option)]
    pub max_frameworks: Option<String>,
    /// largest HTTP request body accepted, in bytes, 65536..=268435456 (default 4194304)
    #[argh(option)]
    pub max_request_body: Option<String>,
    /// how the agent's resources and domain may change across a restart: equal or additive
    /// (default equal)
    #[argh(option)]
    pub reconfiguration_policy: Option<String>,
    /// the agent's fault domain as JSON, like
    /// '{"fault_domain":{"region":{"name":"eu"},"zone":{"name":"eu-1"}}}'
    #[argh(option)]
    pub domain: Option<String>,
    /// time between the master's pings to each agent, at least 1s (default 15secs)
    #[argh(option)]
    pub agent_ping_timeout: Option<String>,
    /// pings an agent may leave unanswered in a row before it is marked unreachable, 1..=1000
    /// (default 5)
    #[argh(option)]
    pub max_agent_ping_timeouts: Option<String>,
    /// after a master restart, how long agents have to re-register before they are marked
    /// unreachable, at least 1s (default 10mins; Mesos' minimum is 10mins)
    #[argh(option)]
    pub agent_reregister_timeout: Option<String>,
    /// most of the admitted agents that the re-registration timeout may mark unreachable, like
    /// 50% (default 100%); past it they are left recovered and a line is logged
    #[argh(option)]
    pub recovery_agent_removal_limit: Option<String>,
    /// how often unreachable and gone agents are pruned from the registry (default 15mins)
    #[argh(option)]
    pub registry_gc_interval: Option<String>,
    /// unreachable and gone agents older than this are pruned from the registry (default 2weeks)
    #[argh(option)]
    pub registry_max_agent_age: Option<String>,
    /// most unreachable and most gone agents the registry keeps, 1..=102400 (default 102400)
    #[argh(option)]
    pub registry_max_agent_count: Option<String>,
}

#[derive(FromArgs, Debug)]
/// run one command as a task on the cluster and wait for it: `run --shell 'CMDLINE'` or
/// `run -- CMD ARGS..`.
#[argh(subcommand, name = "run", help_triggers("-h", "--help", "help"))]
pub(crate) struct RunArgs {
    /// masters to try, HOST:PORT[,HOST:PORT..] (default 127.0.0.1:5050)
    #[argh(option)]
    pub master: Option<String>,
    /// cpus for the task (default 0.1)
    #[argh(option)]
    pub cpus: Option<String>,
    /// memory for the task in MB (default 32)
    #[argh(option)]
    pub mem: Option<String>,
    /// task name (default mesolite-run)
    #[argh(option)]
    pub name: Option<String>,
    /// command line run by /bin/sh -c
    #[argh(option)]
    pub shell: Option<String>,
    /// the command and its arguments, run without a shell
    #[argh(positional, greedy)]
    pub command: Vec<String>,
}

#[derive(FromArgs, Debug)]
/// ask a master about the cluster: state, agents, frameworks, tasks or version.
#[argh(subcommand, name = "ctl", help_triggers("-h", "--help", "help"))]
pub(crate) struct CtlArgs {
    /// the master's HOST:PORT (default 127.0.0.1:5050)
    #[argh(option)]
    pub master: Option<String>,
    /// print JSON instead of a table
    #[argh(switch)]
    pub json: bool,
    /// what to show: state, agents, frameworks, tasks or version
    #[argh(positional)]
    pub query: String,
}

#[derive(FromArgs, Debug)]
/// internal: the command executor started by agents.
#[argh(subcommand, name = "executor", help_triggers("-h", "--help", "help"))]
pub(crate) struct ExecutorArgs {}

/// The switches (flags without a value) of a subcommand. Every other `--flag` takes a value.
fn switches(subcommand: &str) -> &'static [&'static str] {
    match subcommand {
        "ctl" => &["--help", "--json"],
        "agent" => &["--help", "--shutdown"],
        _ => &["--help"],
    }
}

/// Whether a subcommand's first positional argument takes every argument after it.
fn greedy(subcommand: &str) -> bool {
    subcommand == "run"
}

/// Rewrites `args` (without the program name) into the form argh expects:
/// `--flag=value` becomes `--flag value`, and `_` becomes `-` in flag names (`--work_dir`).
/// Values, everything after `--` and a greedy command are left exactly as given.
pub(crate) fn normalize(args: &[String]) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::with_capacity(args.len() + 2);
    let mut subcommand: Option<&str> = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            out.push(arg.clone());
            out.extend(rest.cloned());
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let flag = format!("--{}", name.replace('_', "-"));
            let is_switch = switches(subcommand.unwrap_or("")).contains(&flag.as_str());
            if is_switch && value.is_some() {
                return Err(ConfigError::Usage(format!("{flag}: takes no value")));
            }
            out.push(flag);
            match value {
                Some(v) => out.push(v.to_string()),
                None if !is_switch => out.extend(rest.next().cloned()),
                None => {}
            }
            continue;
        }
        out.push(arg.clone());
        if arg.starts_with('-') {
            continue;
        }
        match subcommand {
            None => subcommand = Some(arg.as_str()),
            Some(sub) if greedy(sub) => {
                out.extend(rest.cloned());
                break;
            }
            Some(_) => {}
        }
    }
    Ok(out)
}

/// Flattens argh's multi-line messages into one line.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
