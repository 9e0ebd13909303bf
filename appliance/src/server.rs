//! The long-running modes: `master`, `agent` and `standalone`. Each sets up its state machines and
//! drivers, listens on its one port, tells internal-protocol connections from HTTP ones, and runs
//! until a signal or a fatal error.

use crate::agent_driver::{self, AgentDriver};
use crate::http::{self, Handler};
use crate::master_driver::{self, log, MasterDriver};
use crate::operator::flags::FlagSet;
use crate::{agent_http, agent_recovery, master_http, MainError};
use mesolite_config::{
    AgentConfig as AgentFlags, MasterConfig as MasterFlags, RecoverMode, StandaloneConfig,
    WorkDirLock,
};
use mesolite_core::agent::reconfiguration::ReconfigurationPolicy;
use mesolite_core::agent::{AgentConfig, Teardown};
use mesolite_core::master::{Master, MasterConfig};
use mesolite_core::resources::Resources;
use mesolite_core::wire::{AgentInfo, Sniffed};
use mesolite_platform::checkpoint;
use mesolite_platform::clock::{random_seed, Clock};
use mesolite_platform::signals::{SignalKind, Signals};
use mesolite_platform::{host, limits, net, store};
use smol::net::{TcpListener, TcpStream};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::rc::Rc;

/// What to do with internal-protocol connections on this port.
#[derive(Clone)]
enum Internal {
    Master(Rc<MasterDriver>),
    Refuse,
}

/// The address others use to reach a listener: the explicit advertise IP, else the listen IP,
/// else (for 0.0.0.0) the address of the default route's interface. Never 0.0.0.0.
fn advertised(listen: SocketAddr, advertise: Option<IpAddr>) -> IpAddr {
    advertise.unwrap_or_else(|| {
        if listen.ip().is_unspecified() {
            host::advertise_ip()
        } else {
            listen.ip()
        }
    })
}

fn lock(dir: &Path) -> Result<WorkDirLock, MainError> {
    WorkDirLock::acquire(dir).map_err(|e| MainError::Startup(e.to_string()))
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, MainError> {
    net::listen(addr)
        .await
        .map_err(|e| MainError::Startup(format!("--listen {addr}: cannot listen: {e}")))
}

/// What a master in this process is started with.
struct MasterSetup<'a> {
    dir: &'a Path,
    listen: SocketAddr,
    ip: IpAddr,
    hostname: String,
    allocation_interval: mesolite_core::time::Duration,
    max_agents: u32,
    max_frameworks: u32,
    partition: mesolite_config::PartitionConfig,
}

/// Builds a master over the registry in `dir`, refusing to start on a corrupt registry.
fn start_master(
    m: MasterSetup<'_>,
    clock: Clock,
) -> Result<(Rc<MasterDriver>, master_driver::MasterTasks, store::Store), MainError> {
    let (st, registry) = store::Store::open(&store::registry_dir(m.dir))
        .map_err(|e| MainError::Startup(e.to_string()))?;
    let mut cfg = MasterConfig::new(m.hostname, m.ip.to_string(), m.listen.port(), random_seed());
    cfg.allocation_interval = m.allocation_interval;
    cfg.max_agents = m.max_agents;
    cfg.max_frameworks = m.max_frameworks;
    let p = m.partition;
    cfg.ping_interval = p.agent_ping_timeout;
    cfg.max_missed_pings = p.max_agent_ping_timeouts;
    cfg.agent_reregister_timeout = p.agent_reregister_timeout;
    cfg.recovery_agent_removal_limit = p.recovery_agent_removal_limit;
    cfg.registry_gc_interval = p.registry_gc_interval;
    cfg.registry_max_agent_age = p.registry_max_agent_age;
    cfg.registry_max_agent_count = p.registry_max_agent_count;
    let entries = st.entries_since_snapshot();
    let mut master = Master::new(cfg, registry, clock.now(), clock.wall());
    master.set_log_entries_since_snapshot(entries);
    let (d, tasks) = MasterDriver::new(master, clock);
    Ok((d, tasks, st))
}

/// What an agent in this process is started with.
struct AgentSetup<'a> {
    dir: &'a Path,
    master: String,
    ip: IpAddr,
    port: u16,
    hostname: String,
    resources: Option<&'a Resources>,
    attributes: Vec<mesolite_core::attributes::Attribute>,
    domain: Option<mesolite_core::wire::FaultDomain>,
    grace: mesolite_core::time::Duration,
    policy: ReconfigurationPolicy,
    /// `--executor-reregistration-timeout`.
    reregistration: mesolite_core::time::Duration,
    /// `--registration-backoff-factor` and `--registration-backoff-max`.
    backoff: (mesolite_core::time::Duration, mesolite_core::time::Duration),
    /// `--gc-delay`, `--gc-disk-headroom` (permille) and `--disk-watch-interval`.
    gc: (
        mesolite_core::time::Duration,
        u16,
        mesolite_core::time::Duration,
    ),
}

fn start_agent(
    a: AgentSetup<'_>,
    clock: Clock,
) -> Result<(Rc<AgentDriver>, agent_driver::AgentTasks), MainError> {
    let AgentSetup {
        dir,
        master,
        ip,
        port,
        hostname,
        resources,
        attributes,
        domain,
        grace,
        policy,
        reregistration,
        backoff,
        gc,
    } = a;
    let resources = match resources {
        Some(r) => r.clone(),
        None => {
            let text = host::detect_resources(dir);
            Resources::parse(&text).map_err(|e| {
                MainError::Startup(format!("detected resources '{text}' are invalid: {e}"))
            })?
        }
    };
    let info = AgentInfo {
        hostname,
        ip: ip.to_string(),
        port,
        resources,
        attributes,
        domain,
        version: mesolite_core::master::MESOS_VERSION.to_string(),
    };
    let mut cfg = AgentConfig::new(info, random_seed());
    cfg.executor_shutdown_grace = grace;
    cfg.executor_reregistration_timeout = reregistration;
    (cfg.backoff_factor, cfg.backoff_max) = backoff;
    (
        cfg.gc_delay,
        cfg.gc_disk_headroom_permille,
        cfg.disk_watch_interval,
    ) = gc;
    let started = agent_recovery::start_agent_from_checkpoint(dir, cfg, policy, clock.now())?;
    let endpoint = SocketAddr::new(ip, port).to_string();
    Ok(AgentDriver::new(
        started.agent,
        started.checkpoint,
        started.rebooted,
        clock,
        dir.to_path_buf(),
        master,
        endpoint,
    ))
}

/// Accepts connections forever, routing each by what it speaks.
async fn accept_loop(
    ex: Rc<smol::LocalExecutor<'static>>,
    listener: TcpListener,
    internal: Internal,
    handler: Handler,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                log(&format!("accept failed: {e}"));
                smol::Timer::after(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let internal = internal.clone();
        let handler = handler.clone();
        ex.spawn(route(stream, internal, handler)).detach();
    }
}

async fn route(mut stream: TcpStream, internal: Internal, handler: Handler) {
    match net::sniff(&stream).await {
        Ok(sniffed @ (Sniffed::Internal | Sniffed::InternalPrevious)) => match internal {
            Internal::Master(d) => {
                if net::skip_preamble(&mut stream).await.is_err() {
                    return;
                }
                if sniffed == Sniffed::Internal {
                    master_driver::serve_agent(d, stream).await;
                } else {
                    master_driver::serve_previous_agent(d, stream).await;
                }
            }
            Internal::Refuse => {
                log("refusing an internal-protocol connection: this process is not a master")
            }
        },
        Ok(Sniffed::WrongVersion(v)) => {
            let peer = stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            log(&format!(
                "refusing {peer}: it speaks internal protocol version {v}, this mesolite speaks {}",
                mesolite_core::wire::PROTOCOL_VERSION
            ));
        }
        Ok(_) => http::serve(stream, handler).await,
        Err(_) => {}
    }
}

/// Runs the executor until SIGTERM/SIGINT (exit 0) or a fatal error of the master (exit 1).
fn run_until_signal(
    ex: Rc<smol::LocalExecutor<'static>>,
    fatal: Option<smol::channel::Receiver<String>>,
) -> Result<(), MainError> {
    let mut signals = Signals::new(&[SignalKind::Term, SignalKind::Int])
        .map_err(|e| MainError::Startup(format!("cannot install signal handlers: {e}")))?;
    smol::block_on(ex.run(async {
        let sig = async {
            let s = signals.next().await;
            Ok::<_, MainError>(s.map(|k| k.name()).unwrap_or("signal"))
        };
        let fatal = async {
            match fatal {
                Some(rx) => match rx.recv().await {
                    Ok(reason) => Err(MainError::Fatal(reason)),
                    Err(_) => std::future::pending().await,
                },
                None => std::future::pending().await,
            }
        };
        match smol::future::or(sig, fatal).await {
            Ok(name) => {
                log(&format!(
                    "received {name}; exiting (tasks keep running under their executors)"
                ));
                Ok(())
            }
            Err(e) => Err(e),
        }
    }))
}

/// Raises the open-files limit to its hard limit: a master holds a connection per agent and
/// per subscriber, an agent one per executor.
fn raise_open_files_limit() {
    if let Err(e) = limits::raise_open_files_limit() {
        log(&format!("cannot raise the open files limit: {e}"));
    }
}

pub fn run_master(flags: MasterFlags) -> Result<(), MainError> {
    let _lock = lock(flags.work_dir.path())?;
    raise_open_files_limit();
    http::set_max_request_body(flags.max_request_body as usize);
    let clock = Clock::new();
    let ip = advertised(flags.listen, flags.advertise_ip);
    let hostname = flags
        .hostname
        .map(|h| h.to_string())
        .unwrap_or_else(host::hostname);
    let (d, tasks, st) = start_master(
        MasterSetup {
            dir: flags.work_dir.path(),
            listen: flags.listen,
            ip,
            hostname,
            allocation_interval: flags.allocation_interval,
            max_agents: flags.max_agents,
            max_frameworks: flags.max_frameworks,
            partition: flags.partition,
        },
        clock,
    )?;
    let ex = Rc::new(smol::LocalExecutor::new());
    let listener = smol::block_on(bind(flags.listen))?;
    log(&format!(
        "mesolite master {} listening on {}",
        env!("CARGO_PKG_VERSION"),
        flags.listen
    ));
    let fatal = tasks.fatal.clone();
    spawn_master_tasks(&ex, &d, tasks, st);
    let process = FlagSet::process(flags.work_dir.path(), None);
    let handler = master_http::handler(d.clone(), process, None);
    ex.spawn(accept_loop(
        ex.clone(),
        listener,
        Internal::Master(d),
        handler,
    ))
    .detach();
    run_until_signal(ex, Some(fatal))
}

fn spawn_master_tasks(
    ex: &Rc<smol::LocalExecutor<'static>>,
    d: &Rc<MasterDriver>,
    tasks: master_driver::MasterTasks,
    st: store::Store,
) {
    ex.spawn(master_driver::timer_task(d.clone(), tasks.timer_wake))
        .detach();
    ex.spawn(master_driver::store_task(d.clone(), st, tasks.store_wake))
        .detach();
    ex.spawn(master_driver::closed_streams_task(
        d.clone(),
        tasks.closed_streams,
    ))
    .detach();
    ex.spawn(master_driver::closed_operator_streams_task(
        d.clone(),
        tasks.closed_operator_streams,
    ))
    .detach();
    d.become_leader();
}

pub fn run_agent(flags: AgentFlags) -> Result<(), MainError> {
    let _lock = lock(flags.work_dir.path())?;
    raise_open_files_limit();
    let clock = Clock::new();
    let ip = advertised(flags.listen, flags.advertise_ip);
    let hostname = flags
        .hostname
        .map(|h| h.to_string())
        .unwrap_or_else(host::hostname);
    let (d, tasks) = start_agent(
        AgentSetup {
            dir: flags.work_dir.path(),
            master: flags.master.to_string(),
            ip,
            port: flags.listen.port(),
            hostname,
            resources: flags.resources.as_ref().map(|r| r.resources()),
            attributes: flags.attributes.to_vec(),
            domain: flags.domain.clone(),
            grace: flags.executor_shutdown_grace_period,
            policy: flags.reconfiguration_policy,
            reregistration: flags.executor_reregistration_timeout,
            backoff: (
                flags.registration_backoff_factor,
                flags.registration_backoff_max,
            ),
            gc: (
                flags.gc_delay,
                flags.gc_disk_headroom_permille,
                flags.disk_watch_interval,
            ),
        },
        clock,
    )?;
    let ex = Rc::new(smol::LocalExecutor::new());
    let listener = smol::block_on(bind(flags.listen))?;
    log(&format!(
        "mesolite agent {} listening on {} (advertised as {ip}), master {}",
        env!("CARGO_PKG_VERSION"),
        flags.listen,
        flags.master
    ));
    let finished = tasks.finished.clone();
    agent_driver::spawn_tasks(&ex, &d, tasks);
    if flags.recover == RecoverMode::Cleanup {
        d.begin_teardown(Teardown::Cleanup);
    }
    if flags.shutdown {
        d.begin_teardown(Teardown::Shutdown);
    }
    let mut process = FlagSet::process(flags.work_dir.path(), Some(&flags.master.to_string()));
    process.set("recover", flags.recover.name());
    process.set(
        "reconfiguration_policy",
        flags.reconfiguration_policy.name(),
    );
    let handler = agent_http::handler(d.clone(), "", process);
    ex.spawn(accept_loop(ex.clone(), listener, Internal::Refuse, handler))
        .detach();
    run_agent_until_done(ex, &d, finished)
}

/// Runs the agent until SIGTERM/SIGINT (tasks keep running) or until a teardown (cleanup,
/// `--shutdown`, SIGUSR1) is complete; a shutdown sets the checkpoint aside, so the next start
/// is a new agent.
fn run_agent_until_done(
    ex: Rc<smol::LocalExecutor<'static>>,
    d: &Rc<AgentDriver>,
    finished: smol::channel::Receiver<()>,
) -> Result<(), MainError> {
    let kinds = [SignalKind::Term, SignalKind::Int, SignalKind::Usr1];
    let mut signals = Signals::new(&kinds)
        .map_err(|e| MainError::Startup(format!("cannot install signal handlers: {e}")))?;
    smol::block_on(ex.run(async {
        loop {
            let done = async {
                let _ = finished.recv().await;
                None
            };
            let signal = async { Some(signals.next().await) };
            match smol::future::or(done, signal).await {
                None => break,
                Some(Ok(SignalKind::Usr1)) => {
                    log("received SIGUSR1; shutting down: killing every task, then unregistering");
                    d.begin_teardown(Teardown::Shutdown);
                }
                Some(Ok(kind)) => {
                    log(&format!(
                        "received {}; exiting (tasks keep running under their executors)",
                        kind.name()
                    ));
                    return Ok(());
                }
                Some(Err(e)) => return Err(MainError::Fatal(format!("waiting for signals: {e}"))),
            }
        }
        d.master_link_closed(std::time::Duration::from_secs(2))
            .await;
        let kind = d.agent.borrow().teardown();
        if kind == Some(Teardown::Shutdown) {
            let dir = checkpoint::checkpoint_dir(&d.work_dir);
            let aside = checkpoint::set_aside(&dir).map_err(|e| MainError::Fatal(e.to_string()))?;
            log(&format!(
                "shut down: every task ended and the agent unregistered; its checkpoint is kept \
                 at {}",
                aside.display()
            ));
        } else {
            log("cleanup done: every recovered executor ended; exiting");
        }
        Ok(())
    }))
}

pub fn run_standalone(flags: StandaloneConfig) -> Result<(), MainError> {
    let root = flags.work_dir.path();
    let _lock = lock(root)?;
    raise_open_files_limit();
    http::set_max_request_body(flags.max_request_body as usize);
    let clock = Clock::new();
    let ip = advertised(flags.listen, None);
    let master_dir = root.join("master");
    let agent_dir = root.join("agent");
    for dir in [&master_dir, &agent_dir] {
        std::fs::create_dir_all(dir)
            .map_err(|e| MainError::Startup(format!("--work-dir {}: {e}", dir.display())))?;
    }
    let (md, tasks, st) = start_master(
        MasterSetup {
            dir: &master_dir,
            listen: flags.listen,
            ip,
            hostname: host::hostname(),
            allocation_interval: flags.allocation_interval,
            max_agents: flags.max_agents,
            max_frameworks: flags.max_frameworks,
            partition: flags.partition,
        },
        clock,
    )?;
    let master_addr = SocketAddr::new(ip, flags.listen.port()).to_string();
    let (ad, agent_tasks) = start_agent(
        AgentSetup {
            dir: &agent_dir,
            master: master_addr.clone(),
            ip,
            port: flags.listen.port(),
            hostname: host::hostname(),
            resources: flags.resources.as_ref().map(|r| r.resources()),
            attributes: Vec::new(),
            domain: flags.domain.clone(),
            grace: mesolite_core::time::Duration::from_secs(5),
            policy: flags.reconfiguration_policy,
            reregistration: mesolite_core::time::Duration::from_secs(2),
            backoff: (
                mesolite_core::time::Duration::from_secs(1),
                mesolite_core::time::Duration::from_secs(4),
            ),
            // Mesos' defaults: 1 week, 0.1, 1 min.
            gc: (
                mesolite_core::time::Duration::from_secs(7 * 86_400),
                100,
                mesolite_core::time::Duration::from_secs(60),
            ),
        },
        clock,
    )?;
    let ex = Rc::new(smol::LocalExecutor::new());
    let listener = smol::block_on(bind(flags.listen))?;
    log(&format!(
        "mesolite standalone {} listening on {} (master and agent on one port)",
        env!("CARGO_PKG_VERSION"),
        flags.listen
    ));
    let fatal = tasks.fatal.clone();
    spawn_master_tasks(&ex, &md, tasks, st);
    agent_driver::spawn_tasks(&ex, &ad, agent_tasks);
    let agent_side = agent_http::side(
        ad,
        "/slave(1)",
        FlagSet::process(&agent_dir, Some(&master_addr)),
    );
    let handler = master_http::handler(
        md.clone(),
        FlagSet::process(&master_dir, None),
        Some(agent_side),
    );
    ex.spawn(accept_loop(
        ex.clone(),
        listener,
        Internal::Master(md),
        handler,
    ))
    .detach();
    run_until_signal(ex, Some(fatal))
}
