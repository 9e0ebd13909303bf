//! The knobs of one simulated run: cluster size, workload and fault rates, drawn from the seed
//! (`SimConfig::random`) or fixed for a scenario (`SimConfig::calm`).

use mesolite_core::rng::Rng;
use mesolite_core::time::Duration;

/// Uniform integer in `lo..=hi`.
pub fn between(rng: &mut Rng, lo: u64, hi: u64) -> u64 {
    lo + rng.below(hi - lo + 1)
}

/// True with probability `p` (in millionths).
pub fn chance(rng: &mut Rng, ppm: u64) -> bool {
    rng.below(1_000_000) < ppm
}

#[derive(Clone, Debug)]
pub struct SimConfig {
    pub agents: usize,
    pub schedulers: usize,
    /// Tasks each scheduler launches before it is done (inclusive range).
    pub tasks_per_scheduler: (u64, u64),
    /// How long a task runs before its executor reports it finished or failed (ms).
    pub task_runtime_ms: (u64, u64),
    /// Share of tasks that end FAILED rather than FINISHED (ppm).
    pub task_failure_ppm: u64,
    /// Faults happen only before this virtual time; afterwards the cluster must converge.
    pub fault_window: Duration,
    /// The run fails if the schedulers are not done by then.
    pub max_time: Duration,
    /// Faults are drawn once per virtual second inside the window (each in ppm per second).
    pub master_crash_ppm: u64,
    pub conn_cut_ppm: u64,
    pub conn_blackhole_ppm: u64,
    pub sched_failover_ppm: u64,
    pub executor_crash_ppm: u64,
    /// Per scheduler wake (every ~2 s): kill one running task.
    pub sched_kill_ppm: u64,
    /// Per registry write: it fails, or the master crashes while it is in flight.
    pub write_fail_ppm: u64,
    pub crash_in_write_ppm: u64,
    /// Per virtual second: an agent process crashes (restarting from its checkpoint).
    pub agent_crash_ppm: u64,
    /// Per agent checkpoint write: it fails (fatal for the agent), or the agent crashes while
    /// it is in flight.
    pub agent_write_fail_ppm: u64,
    pub crash_in_agent_write_ppm: u64,
    /// Per connection attempt while the master is up.
    pub connect_fail_ppm: u64,
    /// Per executor launch: the container fails to start / the executor is too slow to subscribe.
    pub launch_fail_ppm: u64,
    pub slow_executor_ppm: u64,
    /// Network delay per message (ms) and the share of messages delayed up to `spike_ms`.
    pub net_delay_ms: (u64, u64),
    pub spike_ppm: u64,
    pub spike_ms: u64,
    /// Registry write latency (ms).
    pub disk_delay_ms: (u64, u64),
    /// Failover timeout the schedulers ask for.
    pub failover_timeout: Duration,
    /// The master's ping interval and unanswered pings before an agent is marked unreachable
    /// (the agent gives up on a silent master after their product, as Mesos' agent does).
    pub ping_interval: Duration,
    pub max_missed_pings: u32,
    /// Per virtual second: one agent is cut off from the master (its connection goes silent
    /// and it cannot connect) for a time drawn from `partition_ms`, often longer than the ping
    /// timeout, so that it is marked unreachable and later comes back.
    pub partition_ppm: u64,
    pub partition_ms: (u64, u64),
}

impl SimConfig {
    /// No faults, small delays: for the scenario tests.
    pub fn calm() -> SimConfig {
        SimConfig {
            agents: 2,
            schedulers: 1,
            tasks_per_scheduler: (2, 2),
            task_runtime_ms: (1_000, 3_000),
            task_failure_ppm: 0,
            fault_window: Duration::ZERO,
            max_time: Duration::from_secs(600),
            master_crash_ppm: 0,
            conn_cut_ppm: 0,
            conn_blackhole_ppm: 0,
            sched_failover_ppm: 0,
            executor_crash_ppm: 0,
            sched_kill_ppm: 0,
            write_fail_ppm: 0,
            crash_in_write_ppm: 0,
            connect_fail_ppm: 0,
            agent_crash_ppm: 0,
            agent_write_fail_ppm: 0,
            crash_in_agent_write_ppm: 0,
            launch_fail_ppm: 0,
            slow_executor_ppm: 0,
            net_delay_ms: (1, 5),
            spike_ppm: 0,
            spike_ms: 0,
            disk_delay_ms: (1, 5),
            failover_timeout: Duration::from_secs(120),
            ping_interval: Duration::from_secs(15),
            max_missed_pings: 5,
            partition_ppm: 0,
            partition_ms: (0, 0),
        }
    }

    /// A cluster and fault profile drawn from the seed; some seeds are calm, most are not.
    pub fn random(rng: &mut Rng) -> SimConfig {
        let mut c = SimConfig::calm();
        c.agents = between(rng, 2, 5) as usize;
        c.schedulers = between(rng, 1, 3) as usize;
        let k = between(rng, 2, 6);
        c.tasks_per_scheduler = (k, k + between(rng, 0, 3));
        c.task_runtime_ms = (200, between(rng, 1_000, 40_000));
        c.task_failure_ppm = 200_000;
        c.fault_window = Duration::from_secs(between(rng, 60, 240));
        c.max_time = Duration::from_secs(1_800);
        // One profile in eight has no faults at all: the happy path must converge quickly too.
        if rng.below(8) != 0 {
            let f = |rng: &mut Rng, max: u64| rng.below(max + 1);
            c.master_crash_ppm = f(rng, 8_000);
            c.conn_cut_ppm = f(rng, 20_000);
            c.conn_blackhole_ppm = f(rng, 6_000);
            c.sched_failover_ppm = f(rng, 10_000);
            c.executor_crash_ppm = f(rng, 5_000);
            c.sched_kill_ppm = f(rng, 60_000);
            c.write_fail_ppm = f(rng, 50_000);
            c.crash_in_write_ppm = f(rng, 50_000);
            c.connect_fail_ppm = f(rng, 100_000);
            c.agent_crash_ppm = f(rng, 8_000);
            c.agent_write_fail_ppm = f(rng, 5_000);
            c.crash_in_agent_write_ppm = f(rng, 5_000);
            c.launch_fail_ppm = f(rng, 30_000);
            c.slow_executor_ppm = f(rng, 20_000);
            c.spike_ppm = f(rng, 20_000);
            c.spike_ms = between(rng, 100, 3_000);
            c.disk_delay_ms = (1, between(rng, 5, 800));
            c.net_delay_ms = (1, between(rng, 2, 80));
        }
        c.failover_timeout = Duration::from_secs(between(rng, 60, 300));
        // Half the profiles use short pings, so partitions outlast the ping timeout often.
        if rng.below(2) == 0 {
            c.ping_interval = Duration::from_secs(between(rng, 2, 5));
            c.max_missed_pings = between(rng, 2, 4) as u32;
        }
        if c.master_crash_ppm > 0 || rng.below(4) == 0 {
            c.partition_ppm = rng.below(15_001);
            let total = c.ping_interval.as_millis() * u64::from(c.max_missed_pings);
            c.partition_ms = (total / 2, total * 3 + 10_000);
        }
        c
    }
}
