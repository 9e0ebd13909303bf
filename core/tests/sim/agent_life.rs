//! The agents' lives: each agent's checkpoint on a simulated disk (group-committed batches that
//! can fail or tear), agent crashes, and restarts that recover from the persisted bytes only.

use std::collections::BTreeSet;

use mesolite_core::agent::checkpoint::{
    decode_log, encode_batch_into, encode_checkpoint_snapshot, replay,
};
use mesolite_core::agent::{Agent, CheckpointWritten, ExecutorState, Record};
use mesolite_core::rng::Rng;

use crate::config::{between, chance};
use crate::disk::Leftover;
use crate::world::{Ev, World};

/// Log size past which the simulated driver compacts (small, so compaction runs often).
const COMPACT_AFTER: usize = 16 * 1024;

/// A batch in flight: (agent incarnation, seq, framed bytes, uuids it makes durable).
pub type Write = (u64, u64, Vec<u8>, Vec<[u8; 16]>);

/// One agent's checkpoint files.
#[derive(Debug, Default)]
pub struct AgentDisk {
    pub snapshot: Option<Vec<u8>>,
    pub log: Vec<u8>,
    /// The batch being written.
    pub write: Option<Write>,
    /// Every update uuid that was ever durable on this disk.
    pub durable_uuids: BTreeSet<[u8; 16]>,
}

impl AgentDisk {
    fn leave(&mut self, bytes: &[u8], what: Leftover, rng: &mut Rng) {
        match what {
            Leftover::Nothing => {}
            Leftover::Torn => {
                let n = rng.below(bytes.len() as u64) as usize;
                self.log.extend_from_slice(&bytes[..n]);
            }
            Leftover::Whole => self.log.extend_from_slice(bytes),
        }
    }
}

impl World {
    /// Hands the agent's next batch to its disk (called while draining its outputs).
    pub fn poll_agent_checkpoint(&mut self, i: usize) -> bool {
        if self.agents[i].disk.write.is_some() {
            return false;
        }
        let Some(batch) = self.agents[i].agent.poll_checkpoint() else {
            return false;
        };
        let seq = batch.seq;
        let mut bytes = Vec::new();
        encode_batch_into(&batch.records, &mut bytes).expect("agent batches encode");
        let uuids = batch
            .records
            .iter()
            .filter_map(|r| match r {
                Record::UpdateQueued { update, .. } => update.status.uuid,
                _ => None,
            })
            .collect();
        let gen = self.agents[i].gen;
        self.agents[i].disk.write = Some((gen, seq, bytes, uuids));
        let (lo, hi) = self.cfg.disk_delay_ms;
        let d = between(&mut self.rng, lo, hi);
        self.push_in(d, Ev::AgentDiskDone { agent: i, gen, seq });
        true
    }

    pub fn agent_disk_done(&mut self, i: usize, gen: u64, seq: u64) {
        let now = self.now;
        if self.agents[i].gen != gen || !self.agents[i].up {
            return;
        }
        let Some((_, s, bytes, uuids)) = self.agents[i].disk.write.take() else {
            return;
        };
        if s != seq {
            self.fail(format!(
                "agent{i}: disk finished batch {seq} but {s} was in flight"
            ));
            return;
        }
        if self.in_fault_window() && chance(&mut self.rng, self.cfg.crash_in_agent_write_ppm) {
            self.agents[i].disk.write = Some((gen, s, bytes, uuids));
            self.crash_agent(i, "injected crash during a checkpoint write");
            return;
        }
        if self.in_fault_window() && chance(&mut self.rng, self.cfg.agent_write_fail_ppm) {
            let what = self.leftover();
            self.agents[i].disk.leave(&bytes, what, &mut self.rng);
            self.trace(format!(
                "agent{i}: checkpoint batch {seq} fails ({what:?} left on disk)"
            ));
            self.agents[i]
                .agent
                .handle_checkpoint_written(now, seq, CheckpointWritten::Failed);
            self.drain();
            if self.agents[i].up {
                self.fail(format!(
                    "agent{i}: checkpoint batch {seq} failed but the agent did not emit Fatal"
                ));
            }
            return;
        }
        let disk = &mut self.agents[i].disk;
        disk.log.extend_from_slice(&bytes);
        disk.durable_uuids.extend(uuids);
        self.agents[i]
            .agent
            .handle_checkpoint_written(now, seq, CheckpointWritten::Durable);
        if self.agents[i].disk.log.len() > COMPACT_AFTER {
            self.compact_agent(i);
        }
    }

    /// Writes the agent's durable state as the snapshot, after checking that it is what the
    /// disk holds (the agent's view of its checkpoint never drifts from the bytes).
    fn compact_agent(&mut self, i: usize) {
        let disk = &self.agents[i].disk;
        let on_disk = match replay(disk.snapshot.as_deref(), &disk.log) {
            Ok((state, _)) => state,
            Err(e) => return self.fail(format!("agent{i}: checkpoint does not replay: {e}")),
        };
        let mine = self.agents[i].agent.checkpoint_state();
        if on_disk != *mine {
            return self.fail(format!(
                "agent{i}: its durable checkpoint state differs from what the disk holds"
            ));
        }
        let bytes = encode_checkpoint_snapshot(mine).expect("snapshots encode");
        let disk = &mut self.agents[i].disk;
        disk.snapshot = Some(bytes);
        disk.log.clear();
    }

    fn leftover(&mut self) -> Leftover {
        match self.rng.below(3) {
            0 => Leftover::Nothing,
            1 => {
                self.stats.torn_writes += 1;
                Leftover::Torn
            }
            _ => Leftover::Whole,
        }
    }

    /// The agent process dies: its in-flight write may be torn, its connections drop, its
    /// executors keep running and try to subscribe again; it restarts from its disk later.
    pub fn crash_agent(&mut self, i: usize, why: &str) {
        if !self.agents[i].up {
            return;
        }
        self.stats.agent_crashes += 1;
        self.trace(format!("agent{i} crashes ({why})"));
        self.agents[i].up = false;
        self.agents[i].gen += 1;
        if let Some((_, _, bytes, _)) = self.agents[i].disk.write.take() {
            let what = self.leftover();
            self.agents[i].disk.leave(&bytes, what, &mut self.rng);
        }
        if let Some(conn) = self.agents[i].current.take() {
            self.agent_closes(conn);
        }
        let execs: Vec<(usize, String)> = self
            .execs
            .iter()
            .filter(|((a, _), e)| *a == i && e.alive)
            .map(|(k, _)| k.clone())
            .collect();
        for key in execs {
            if let Some(s) = self.execs.get_mut(&key).and_then(|e| e.stream.take()) {
                self.exec_streams.remove(&s);
            }
            self.schedule_resubscribe(key.0, key.1);
        }
        let d = between(&mut self.rng, 500, 10_000);
        self.push_in(d, Ev::AgentRestart { agent: i });
    }

    /// The agent starts again from its checkpoint bytes only.
    pub fn restart_agent(&mut self, i: usize) {
        let now = self.now;
        let wall = self.wall();
        // The operator follows the platform's advice for a torn tail: cut it off.
        let (batches, valid) = match decode_log(&self.agents[i].disk.log) {
            Ok(x) => x,
            Err(e) => return self.fail(format!("agent{i}: checkpoint log is {e}")),
        };
        // A write that was never reported durable may have left its whole record: it is on
        // disk now, so what it holds is durable from here on.
        for (_, batch) in &batches {
            for r in batch {
                if let Record::UpdateQueued { update, .. } = r {
                    if let Some(u) = update.status.uuid {
                        self.agents[i].disk.durable_uuids.insert(u);
                    }
                }
            }
        }
        let dropped = self.agents[i].disk.log.len() - valid;
        if dropped > 0 {
            self.trace(format!(
                "agent{i}: dropping a torn {dropped}-byte checkpoint record"
            ));
            self.agents[i].disk.log.truncate(valid);
        }
        let disk = &self.agents[i].disk;
        let state = match replay(disk.snapshot.as_deref(), &disk.log) {
            Ok((state, _)) => state,
            Err(e) => return self.fail(format!("agent{i}: checkpoint does not replay: {e}")),
        };
        let mut cfg = self.agents[i].cfg.clone();
        cfg.seed ^= self.agents[i].gen << 32;
        self.trace(format!(
            "agent{i} restarts from its checkpoint: id {:?}, {} executors",
            state.agent_id().map(|a| a.to_string()),
            state.executors.len()
        ));
        self.agents[i].agent = if state.is_empty() {
            Agent::new(cfg, now)
        } else {
            Agent::recover(cfg, now, state)
        };
        self.agents[i].up = true;
        // The driver watches recovered pids: containers that died while the agent was down.
        let dead: Vec<_> = self.agents[i]
            .agent
            .executors()
            .filter(|e| e.state != ExecutorState::Terminated)
            .filter(|e| {
                !self
                    .execs
                    .get(&(i, e.container_id.as_str().to_string()))
                    .is_some_and(|x| x.alive)
            })
            .map(|e| e.container_id.clone())
            .collect();
        for cid in dead {
            self.agents[i]
                .agent
                .handle_container_exited(now, wall, &cid, -1);
        }
    }

    /// When an executor's subscription retry happens (most are quick, some too slow).
    pub fn schedule_resubscribe(&mut self, agent: usize, container: String) {
        let d = if self.in_fault_window() && chance(&mut self.rng, 100_000) {
            between(&mut self.rng, 2_000, 6_000)
        } else {
            between(&mut self.rng, 100, 1_500)
        };
        self.push_in(d, Ev::ExecSubscribe { agent, container });
    }

    /// Whether agent `i` is down at `now` (its process is not running).
    pub fn agent_down(&self, i: usize) -> bool {
        !self.agents[i].up
    }
}
