//! Turns argh's raw strings into a validated `Command`: each flag falls back to its `MESOLITE_*`
//! variable, then to its default, and is validated with an error naming where the value came from.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU16;

use mesolite_core::agent::reconfiguration::ReconfigurationPolicy;
use mesolite_core::time::Duration;
use mesolite_core::wire::FaultDomain;

use crate::args::{AgentArgs, CtlArgs, MasterArgs, RunArgs, StandaloneArgs, SubArgs};
use crate::command::{
    AgentConfig, Command, CtlConfig, CtlQuery, MasterConfig, PartitionConfig, RecoverMode,
    RunCommand, RunConfig, StandaloneConfig,
};
use crate::error::{env_var_name, ConfigError, Origin};
use crate::values::{
    check_duration_range, parse_advertise_ip, parse_bounded, parse_domain, parse_duration,
    parse_fraction_permille, parse_listen, parse_master_list, parse_percent,
    parse_reconfiguration_policy, Attributes, Hostname, MasterAddr, Scalar,
};
use crate::workdir::{default_work_dir, WorkDir};
use crate::ResourcesText;

/// Looks up environment variables; tests pass a closure over a map.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The facts a resolution depends on besides the arguments.
pub(crate) struct Ctx<'a> {
    pub env: Env<'a>,
    pub is_root: bool,
}

impl Ctx<'_> {
    /// The flag's text and where it came from: the command line, else a non-empty variable.
    fn raw(&self, flag: &'static str, given: Option<String>) -> Option<(String, Origin)> {
        match given {
            Some(v) => Some((
                v,
                Origin {
                    flag,
                    from_env: false,
                },
            )),
            None => (self.env)(&env_var_name(flag))
                .filter(|v| !v.is_empty())
                .map(|v| {
                    (
                        v,
                        Origin {
                            flag,
                            from_env: true,
                        },
                    )
                }),
        }
    }

    /// The flag's validated value, or `None` when it is given nowhere.
    fn get<T>(
        &self,
        flag: &'static str,
        given: Option<String>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        match self.raw(flag, given) {
            None => Ok(None),
            Some((text, origin)) => parse(&text)
                .map(Some)
                .map_err(|why| ConfigError::invalid(origin, &text, why)),
        }
    }

    /// A switch: present on the command line, or its variable set to 1/true/yes (0/false/no: off).
    fn switch(&self, flag: &'static str, given: bool) -> Result<bool, ConfigError> {
        if given {
            return Ok(true);
        }
        let parsed = self.get(flag, None, |v| match v.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Ok(true),
            "0" | "false" | "no" => Ok(false),
            _ => Err(String::from(
                "is not a boolean (1, true, yes, 0, false, no)",
            )),
        })?;
        Ok(parsed.unwrap_or(false))
    }

    fn listen(
        &self,
        given: Option<String>,
        default: SocketAddr,
    ) -> Result<SocketAddr, ConfigError> {
        Ok(self
            .get("--listen", given, parse_listen)?
            .unwrap_or(default))
    }

    fn duration(
        &self,
        flag: &'static str,
        given: Option<String>,
        default: Duration,
        (min, max): (Duration, Duration),
    ) -> Result<Duration, ConfigError> {
        let d = self.get(flag, given, |t| {
            check_duration_range(parse_duration(t)?, min, max)
        })?;
        Ok(d.unwrap_or(default))
    }

    fn bounded(
        &self,
        flag: &'static str,
        given: Option<String>,
        default: u32,
        (min, max): (u32, u32),
    ) -> Result<u32, ConfigError> {
        Ok(self
            .get(flag, given, |t| parse_bounded(t, min, max))?
            .unwrap_or(default))
    }

    fn advertise_ip(&self, given: Option<String>) -> Result<Option<IpAddr>, ConfigError> {
        self.get("--advertise-ip", given, parse_advertise_ip)
    }

    fn hostname(&self, given: Option<String>) -> Result<Option<Hostname>, ConfigError> {
        self.get("--hostname", given, Hostname::parse)
    }

    fn resources(&self, given: Option<String>) -> Result<Option<ResourcesText>, ConfigError> {
        self.get("--resources", given, ResourcesText::parse)
    }

    fn reconfiguration_policy(
        &self,
        given: Option<String>,
    ) -> Result<ReconfigurationPolicy, ConfigError> {
        Ok(self
            .get(
                "--reconfiguration-policy",
                given,
                parse_reconfiguration_policy,
            )?
            .unwrap_or_default())
    }

    fn domain(&self, given: Option<String>) -> Result<Option<FaultDomain>, ConfigError> {
        self.get("--domain", given, parse_domain)
    }

    fn master(&self, given: Option<String>) -> Result<Option<MasterAddr>, ConfigError> {
        self.get("--master", given, MasterAddr::parse)
    }

    /// The work dir from the flag, its variable or the default for `mode`, created and checked.
    /// Resolved last, so a bad flag elsewhere creates nothing.
    fn work_dir(&self, given: Option<String>, mode: &str) -> Result<WorkDir, ConfigError> {
        let path = match self.raw("--work-dir", given) {
            Some((text, _)) => text.into(),
            None => default_work_dir(mode, self.is_root, self.env)?,
        };
        WorkDir::prepare(path)
    }
}

/// The master that `run` and `ctl` talk to by default: 127.0.0.1:5050.
fn local_master() -> MasterAddr {
    MasterAddr::from_ip(IpAddr::from([127, 0, 0, 1]), DEFAULT_MASTER_PORT)
}
const DEFAULT_MASTER_PORT: NonZeroU16 = match NonZeroU16::new(5050) {
    Some(p) => p,
    None => NonZeroU16::MIN,
};
const ALLOCATION_INTERVAL: (Duration, Duration) =
    (Duration::from_millis(1), Duration::from_secs(86_400));
const GRACE_PERIOD: (Duration, Duration) = (Duration::ZERO, Duration::from_secs(86_400));
const MAX_AGENTS: (u32, u32) = (1, 1_000_000);
const MAX_FRAMEWORKS: (u32, u32) = (1, 100_000);
const MAX_REQUEST_BODY: (u32, u32) = (64 * 1024, 256 * 1024 * 1024);
const DEFAULT_MAX_REQUEST_BODY: u32 = 4 * 1024 * 1024;

const SECOND_TO_DAY: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(86_400));
const MAX_AGENT_AGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(3_650 * 86_400));
const MAX_PING_TIMEOUTS: (u32, u32) = (1, 1_000);
const REGISTRY_AGENT_COUNT: (u32, u32) = (1, 102_400);

/// The master's agent-health and registry GC flags, as given to `master` or `standalone`.
pub(crate) struct PartitionArgs {
    pub agent_ping_timeout: Option<String>,
    pub max_agent_ping_timeouts: Option<String>,
    pub agent_reregister_timeout: Option<String>,
    pub recovery_agent_removal_limit: Option<String>,
    pub registry_gc_interval: Option<String>,
    pub registry_max_agent_age: Option<String>,
    pub registry_max_agent_count: Option<String>,
}

macro_rules! partition_args {
    ($a:expr) => {
        PartitionArgs {
            agent_ping_timeout: $a.agent_ping_timeout,
            max_agent_ping_timeouts: $a.max_agent_ping_timeouts,
            agent_reregister_timeout: $a.agent_reregister_timeout,
            recovery_agent_removal_limit: $a.recovery_agent_removal_limit,
            registry_gc_interval: $a.registry_gc_interval,
            registry_max_agent_age: $a.registry_max_agent_age,
            registry_max_agent_count: $a.registry_max_agent_count,
        }
    };
}

fn partition(a: PartitionArgs, ctx: &Ctx<'_>) -> Result<PartitionConfig, ConfigError> {
    let d = PartitionConfig::default();
    Ok(PartitionConfig {
        agent_ping_timeout: ctx.duration(
            "--agent-ping-timeout",
            a.agent_ping_timeout,
            d.agent_ping_timeout,
            SECOND_TO_DAY,
        )?,
        max_agent_ping_timeouts: ctx.bounded(
            "--max-agent-ping-timeouts",
            a.max_agent_ping_timeouts,
            d.max_agent_ping_timeouts,
            MAX_PING_TIMEOUTS,
        )?,
        agent_reregister_timeout: ctx.duration(
            "--agent-reregister-timeout",
            a.agent_reregister_timeout,
            d.agent_reregister_timeout,
            SECOND_TO_DAY,
        )?,
        recovery_agent_removal_limit: ctx
            .get(
                "--recovery-agent-removal-limit",
                a.recovery_agent_removal_limit,
                parse_percent,
            )?
            .unwrap_or(d.recovery_agent_removal_limit),
        registry_gc_interval: ctx.duration(
            "--registry-gc-interval",
            a.registry_gc_interval,
            d.registry_gc_interval,
            SECOND_TO_DAY,
        )?,
        registry_max_agent_age: ctx.duration(
            "--registry-max-agent-age",
            a.registry_max_agent_age,
            d.registry_max_agent_age,
            MAX_AGENT_AGE,
        )?,
        registry_max_agent_count: ctx.bounded(
            "--registry-max-agent-count",
            a.registry_max_agent_count,
            d.registry_max_agent_count,
            REGISTRY_AGENT_COUNT,
        )?,
    })
}

fn addr(ip: [u8; 4], port: u16) -> SocketAddr {
    SocketAddr::from((ip, port))
}

pub(crate) fn resolve(sub: SubArgs, ctx: &Ctx<'_>) -> Result<Command, ConfigError> {
    Ok(match sub {
        SubArgs::Master(a) => Command::Master(master(a, ctx)?),
        SubArgs::Agent(a) => Command::Agent(agent(a, ctx)?),
        SubArgs::Standalone(a) => Command::Standalone(standalone(a, ctx)?),
        SubArgs::Run(a) => Command::Run(run(a, ctx)?),
        SubArgs::Ctl(a) => Command::Ctl(ctl(a, ctx)?),
        SubArgs::Executor(_) => Command::Executor,
    })
}

fn master(a: MasterArgs, ctx: &Ctx<'_>) -> Result<MasterConfig, ConfigError> {
    let listen = ctx.listen(a.listen, addr([0, 0, 0, 0], 5050))?;
    let allocation_interval = ctx.duration(
        "--allocation-interval",
        a.allocation_interval,
        Duration::from_secs(1),
        ALLOCATION_INTERVAL,
    )?;
    let max_agents = ctx.bounded("--max-agents", a.max_agents, 10_000, MAX_AGENTS)?;
    let max_frameworks =
        ctx.bounded("--max-frameworks", a.max_frameworks, 1_000, MAX_FRAMEWORKS)?;
    let max_request_body = ctx.bounded(
        "--max-request-body",
        a.max_request_body,
        DEFAULT_MAX_REQUEST_BODY,
        MAX_REQUEST_BODY,
    )?;
    let advertise_ip = ctx.advertise_ip(a.advertise_ip)?;
    let hostname = ctx.hostname(a.hostname)?;
    let partition = partition(partition_args!(a), ctx)?;
    let work_dir = ctx.work_dir(a.work_dir, "master")?;
    Ok(MasterConfig {
        listen,
        work_dir,
        allocation_interval,
        max_agents,
        max_frameworks,
        max_request_body,
        advertise_ip,
        hostname,
        partition,
    })
}

fn agent(a: AgentArgs, ctx: &Ctx<'_>) -> Result<AgentConfig, ConfigError> {
    let master = ctx
        .master(a.master)?
        .ok_or(ConfigError::MissingFlag { flag: "--master" })?;
    let listen = ctx.listen(a.listen, addr([0, 0, 0, 0], 5051))?;
    let advertise_ip = ctx.advertise_ip(a.advertise_ip)?;
    let resources = ctx.resources(a.resources)?;
    let attributes = ctx
        .get("--attributes", a.attributes, Attributes::parse)?
        .unwrap_or_default();
    let hostname = ctx.hostname(a.hostname)?;
    let executor_shutdown_grace_period = ctx.duration(
        "--executor-shutdown-grace-period",
        a.executor_shutdown_grace_period,
        Duration::from_secs(5),
        GRACE_PERIOD,
    )?;
    let reconfiguration_policy = ctx.reconfiguration_policy(a.reconfiguration_policy)?;
    let domain = ctx.domain(a.domain)?;
    let recover = ctx
        .get("--recover", a.recover, |t| match t {
            "reconnect" => Ok(RecoverMode::Reconnect),
            "cleanup" => Ok(RecoverMode::Cleanup),
            _ => Err(String::from("is not reconnect or cleanup")),
        })?
        .unwrap_or_default();
    let executor_reregistration_timeout = ctx.duration(
        "--executor-reregistration-timeout",
        a.executor_reregistration_timeout,
        Duration::from_secs(2),
        (Duration::ZERO, Duration::from_secs(15)),
    )?;
    let registration_backoff_factor = ctx.duration(
        "--registration-backoff-factor",
        a.registration_backoff_factor,
        Duration::from_secs(1),
        (Duration::ZERO, Duration::from_secs(60)),
    )?;
    let registration_backoff_max = ctx.duration(
        "--registration-backoff-max",
        a.registration_backoff_max,
        Duration::from_secs(4),
        (Duration::ZERO, Duration::from_secs(3600)),
    )?;
    let gc_delay = ctx.duration(
        "--gc-delay",
        a.gc_delay,
        Duration::from_secs(7 * 86_400),
        MAX_AGENT_AGE,
    )?;
    let gc_disk_headroom_permille = ctx
        .get(
            "--gc-disk-headroom",
            a.gc_disk_headroom,
            parse_fraction_permille,
        )?
        .unwrap_or(100);
    let disk_watch_interval = ctx.duration(
        "--disk-watch-interval",
        a.disk_watch_interval,
        Duration::from_secs(60),
        SECOND_TO_DAY,
    )?;
    let work_dir = ctx.work_dir(a.work_dir, "agent")?;
    Ok(AgentConfig {
        master,
        listen,
        advertise_ip,
        work_dir,
        resources,
        attributes,
        hostname,
        executor_shutdown_grace_period,
        reconfiguration_policy,
        domain,
        recover,
        shutdown: a.shutdown,
        executor_reregistration_timeout,
        registration_backoff_factor,
        registration_backoff_max,
        gc_delay,
        gc_disk_headroom_permille,
        disk_watch_interval,
    })
}

fn standalone(a: StandaloneArgs, ctx: &Ctx<'_>) -> Result<StandaloneConfig, ConfigError> {
    let listen = ctx.listen(a.listen, addr([127, 0, 0, 1], 5050))?;
    let resources = ctx.resources(a.resources)?;
    let allocation_interval = ctx.duration(
        "--allocation-interval",
        a.allocation_interval,
        Duration::from_secs(1),
        ALLOCATION_INTERVAL,
    )?;
    let max_agents = ctx.bounded("--max-agents", a.max_agents, 10_000, MAX_AGENTS)?;
    let max_frameworks =
        ctx.bounded("--max-frameworks", a.max_frameworks, 1_000, MAX_FRAMEWORKS)?;
    let max_request_body = ctx.bounded(
        "--max-request-body",
        a.max_request_body,
        DEFAULT_MAX_REQUEST_BODY,
        MAX_REQUEST_BODY,
    )?;
    let reconfiguration_policy = ctx.reconfiguration_policy(a.reconfiguration_policy)?;
    let domain = ctx.domain(a.domain)?;
    let partition = partition(partition_args!(a), ctx)?;
    let work_dir = ctx.work_dir(a.work_dir, "standalone")?;
    Ok(StandaloneConfig {
        listen,
        work_dir,
        resources,
        allocation_interval,
        max_agents,
        max_frameworks,
        max_request_body,
        reconfiguration_policy,
        domain,
        partition,
    })
}

fn parse_task_name(text: &str) -> Result<String, String> {
    if text.is_empty() || text.chars().count() > 200 || text.chars().any(char::is_control) {
        return Err("is not a task name (1 to 200 characters, no control characters)".into());
    }
    Ok(text.to_string())
}

fn run(a: RunArgs, ctx: &Ctx<'_>) -> Result<RunConfig, ConfigError> {
    let masters = match ctx.get("--master", a.master, parse_master_list)? {
        Some(list) => list,
        None => vec![local_master()],
    };
    let cpus = ctx
        .get("--cpus", a.cpus, |t| {
            Scalar::parse(
                t,
                Scalar::from_thousandths(1),
                Scalar::from_thousandths(1_000_000_000),
            )
        })?
        .unwrap_or(Scalar::from_thousandths(100));
    let mem_mb = ctx
        .get("--mem", a.mem, |t| {
            Scalar::parse(
                t,
                Scalar::from_thousandths(1_000),
                Scalar::from_thousandths(1_000_000_000_000),
            )
        })?
        .unwrap_or(Scalar::from_thousandths(32_000));
    let name = ctx
        .get("--name", a.name, parse_task_name)?
        .unwrap_or_else(|| "mesolite-run".into());
    // A command after `--` is as explicit as a flag, so it beats `MESOLITE_SHELL`.
    let command = if a.command.is_empty() {
        let line = ctx.get("--shell", a.shell, |t| {
            if t.trim().is_empty() {
                Err(String::from("is an empty command line"))
            } else {
                Ok(t.to_string())
            }
        })?;
        RunCommand::Shell(line.ok_or(ConfigError::Conflict(
            "run: give a command: --shell 'CMDLINE' or -- CMD ARGS..",
        ))?)
    } else if a.shell.is_some() {
        return Err(ConfigError::Conflict(
            "run: give either --shell 'CMDLINE' or -- CMD ARGS.., not both",
        ));
    } else {
        RunCommand::Argv(a.command)
    };
    Ok(RunConfig {
        masters,
        cpus,
        mem_mb,
        name,
        command,
    })
}

fn ctl(a: CtlArgs, ctx: &Ctx<'_>) -> Result<CtlConfig, ConfigError> {
    let master = match ctx.master(a.master)? {
        Some(m) => m,
        None => local_master(),
    };
    let json = ctx.switch("--json", a.json)?;
    let query = CtlQuery::from_name(&a.query).ok_or_else(|| {
        ConfigError::Usage(format!(
            "ctl: '{}' is not one of state, agents, frameworks, tasks, version",
            a.query.escape_debug()
        ))
    })?;
    Ok(CtlConfig {
        master,
        json,
        query,
    })
}
