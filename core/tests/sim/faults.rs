//! The master's life and the injected faults: start from the disk, crash (tearing a write in
//! flight), registry writes that fail, and the per-second fault draw (crashes, connection resets
//! and silent partitions, scheduler failovers, executor crashes).

use mesolite_core::master::{Leadership, Master, MasterConfig};
use mesolite_core::registry::WriteResult;
use mesolite_core::time::Duration;

use crate::config::{between, chance};
use crate::disk::Leftover;
use crate::world::{Ev, World};

impl World {
    pub fn start_master(&mut self) {
        let (now, wall) = (self.now, self.wall());
        match self.disk.truncate_torn_tail() {
            Ok(0) => {}
            Ok(n) => self.trace(format!("dropping a torn {n}-byte record at the log's end")),
            Err(e) => {
                self.fail(format!("the registry log cannot be read on restart: {e}"));
                return;
            }
        }
        let registry = match self.disk.replay() {
            Ok(r) => r,
            Err(e) => {
                self.fail(format!("the registry does not replay on restart: {e}"));
                return;
            }
        };
        let mut cfg = MasterConfig::new(
            "master".to_string(),
            "10.0.0.1".to_string(),
            5050,
            self.seed ^ (self.master_gen << 40),
        );
        cfg.ping_interval = self.cfg.ping_interval;
        cfg.max_missed_pings = self.cfg.max_missed_pings;
        // Short enough that agents still away after a restart are marked unreachable in a run.
        cfg.agent_reregister_timeout = Duration::from_secs(120);
        self.trace(format!(
            "master #{} starts from a registry at version {} with {} admitted agents",
            self.master_gen,
            registry.version,
            registry.admitted.len()
        ));
        let mut m = Master::new(cfg, registry, now, wall);
        m.handle_leadership(now, wall, Leadership::BecameLeader);
        // An operator is always subscribed, so the event paths run under every fault.
        m.set_operator_subscribed(now, true);
        self.master = Some(m);
    }

    /// The master process dies: its connections close, an in-flight write may be torn, and it
    /// restarts from the disk after a while.
    pub fn crash_master(&mut self, why: &str) {
        if self.master.take().is_none() {
            return;
        }
        self.trace(format!("master #{} crashes ({why})", self.master_gen));
        self.master_gen += 1;
        if let Some((_, _, record)) = self.write.take() {
            let what = match self.rng.below(3) {
                0 => Leftover::Nothing,
                1 => Leftover::Torn,
                _ => Leftover::Whole,
            };
            if what == Leftover::Torn {
                self.stats.torn_writes += 1;
            }
            self.disk.leave(&record, what, &mut self.rng);
        }
        let conns: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.master_open)
            .map(|(id, _)| *id)
            .collect();
        for conn in conns {
            let c = self.conns.get_mut(&conn).expect("present");
            c.master_open = false;
            c.master_told = true;
            if c.agent_open && !c.blackholed && !c.cut {
                let last = c.to_agent_at;
                let at = self.ordered(last);
                self.push_at(at, Ev::AgentSideClosed { conn });
            }
        }
        let streams: Vec<u64> = self
            .streams
            .iter()
            .filter(|(_, s)| s.master_open)
            .map(|(id, _)| *id)
            .collect();
        for stream in streams {
            let st = self.streams.get_mut(&stream).expect("present");
            st.master_open = false;
            st.master_told = true;
            let last = st.at;
            let at = self.ordered(last);
            self.push_at(at, Ev::StreamEnded { stream });
        }
        let d = between(&mut self.rng, 500, 10_000);
        self.push_in(d, Ev::MasterRestart);
    }

    pub fn disk_done(&mut self, gen: u64, index: u64) {
        let (now, wall) = (self.now, self.wall());
        if gen != self.master_gen {
            return;
        }
        let Some((_, idx, record)) = self.write.take() else {
            return;
        };
        if idx != index {
            self.fail(format!(
                "disk finished entry {index} but {idx} was in flight"
            ));
            return;
        }
        if self.in_fault_window() && chance(&mut self.rng, self.cfg.crash_in_write_ppm) {
            self.write = Some((gen, idx, record));
            self.stats.master_crashes += 1;
            self.crash_master("injected crash during a registry write");
            return;
        }
        let fail = if self.fail_writes > 0 {
            self.fail_writes -= 1;
            true
        } else {
            self.in_fault_window() && chance(&mut self.rng, self.cfg.write_fail_ppm)
        };
        let result = if fail {
            self.stats.failed_writes += 1;
            let what = match self.rng.below(3) {
                0 => Leftover::Nothing,
                1 => Leftover::Torn,
                _ => Leftover::Whole,
            };
            self.disk.leave(&record, what, &mut self.rng);
            self.trace(format!(
                "registry write {index} fails ({what:?} left on disk)"
            ));
            WriteResult::Failed
        } else {
            self.disk.append(&record);
            WriteResult::Durable
        };
        if let Some(m) = self.master.as_mut() {
            m.handle_registry_written(now, wall, index, result);
        }
        if fail && self.master.is_some() {
            // Drain what the master says about the failure; a correct master says Fatal.
            self.drain();
            if self.master.is_some() {
                self.fail(format!(
                    "registry write {index} failed but the master did not emit Fatal"
                ));
            }
        }
    }

    // ----- faults -----

    pub fn fault_tick(&mut self) {
        if !self.in_fault_window() {
            return;
        }
        let c = self.cfg.clone();
        if chance(&mut self.rng, c.master_crash_ppm) {
            self.stats.master_crashes += 1;
            self.crash_master("injected crash");
        }
        if chance(&mut self.rng, c.agent_crash_ppm) {
            let i = self.rng.below(self.agents.len() as u64) as usize;
            self.crash_agent(i, "injected crash");
        }
        if chance(&mut self.rng, c.conn_cut_ppm) {
            if let Some(conn) = self.pick_live_conn() {
                self.cut_conn(conn);
            }
        }
        if chance(&mut self.rng, c.conn_blackhole_ppm) {
            if let Some(conn) = self.pick_live_conn() {
                self.stats.blackholes += 1;
                self.trace(format!("network silently drops everything on c{conn}"));
                self.conns.get_mut(&conn).expect("present").blackholed = true;
            }
        }
        if chance(&mut self.rng, c.partition_ppm) {
            let i = self.rng.below(self.agents.len() as u64) as usize;
            self.partition_agent(i);
        }
        if chance(&mut self.rng, c.sched_failover_ppm) {
            let n = self.scheds.len() as u64;
            let i = self.rng.below(n) as usize;
            self.sched_failover(i);
        }
        if chance(&mut self.rng, c.executor_crash_ppm) {
            let alive: Vec<(usize, String)> = self
                .execs
                .iter()
                .filter(|(_, e)| e.alive)
                .map(|(k, _)| k.clone())
                .collect();
            if !alive.is_empty() {
                let k = alive[self.rng.below(alive.len() as u64) as usize].clone();
                self.stats.executor_crashes += 1;
                self.trace(format!(
                    "executor in container {} on agent{} crashes",
                    k.1, k.0
                ));
                self.push_in(
                    0,
                    Ev::ContainerExit {
                        agent: k.0,
                        container: k.1,
                        status: 1 << 8,
                    },
                );
            }
        }
        self.push_in(1_000, Ev::FaultTick);
    }

    /// Cuts agent `i` off from the master for a while: its connection goes silent and it cannot
    /// connect, so the master stops hearing pongs and the agent stops hearing pings.
    pub fn partition_agent(&mut self, i: usize) {
        let (lo, hi) = self.cfg.partition_ms;
        let d = between(&mut self.rng, lo, hi);
        self.isolate_agent(i, Duration::from_millis(d));
    }

    /// Isolates agent `i` for `d` (scenarios call this directly).
    pub fn isolate_agent(&mut self, i: usize, d: Duration) {
        let until = self.now + d;
        let a = &mut self.agents[i];
        a.isolated_until = a.isolated_until.max(until);
        self.stats.partitions += 1;
        self.trace(format!("agent{i} is partitioned for {} ms", d.as_millis()));
        if let Some(conn) = self.agents[i].current {
            if let Some(c) = self.conns.get_mut(&conn) {
                c.blackholed = true;
            }
        }
    }

    fn pick_live_conn(&mut self) -> Option<u64> {
        let live: Vec<u64> = self.agents.iter().filter_map(|a| a.current).collect();
        if live.is_empty() {
            return None;
        }
        Some(live[self.rng.below(live.len() as u64) as usize])
    }
}
