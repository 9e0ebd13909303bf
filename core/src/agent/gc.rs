//! Sandbox garbage collection (Mesos' agent `GarbageCollector`): directories of ended executors
//! are removed `gc_delay` after they ended, sooner when the disk fills.
//!
//! Paths are relative to the work dir and have one of the shapes of the sandbox layout:
//! `slaves/<agent>`, `…/frameworks/<fw>`, `…/executors/<ex>`, `…/runs/<container>`. Sources:
//!
//! * An executor the agent forgets (terminated, every update acknowledged): its run dir and its
//!   executor dir, and its framework dir when no executor of the framework is left. Those calls
//!   have no clock, so the paths wait unstamped and [`Agent::poll_timeout`] asks for a timer at
//!   once; the next input with a `now` stamps them `now + gc_delay`.
//! * [`Agent::handle_found_sandboxes`]: run dirs the driver found on disk at start, with their
//!   age; they and their parent dirs are due `gc_delay - age` from now (Mesos ages them by mtime
//!   the same way).
//! * [`Agent::handle_disk_usage`]: the effective maximum age is
//!   `gc_delay × max(0, 1 − gc_disk_headroom − disk_usage)`; anything scheduled longer ago than
//!   that is removed at once (Mesos `Slave::_checkDiskUsage` and `GarbageCollector::prune`).
//!
//! **Invariant:** no [`AgentOutput::RemoveSandbox`] names a directory that holds the sandbox of an
//! executor the agent knows, or the current agent's own `slaves/<id>` dir. This is checked when
//! the path is emitted, not only when it is scheduled; a path found live then is dropped (its
//! executor schedules it again when it is forgotten).
//!
//! The schedule is not checkpointed: after a restart the driver's scan finds every leftover run
//! dir again.

use super::executors::ExecutorEntry;
use super::{Agent, AgentOutput};
use crate::time::{Duration, Instant};
use crate::wire::{executor_dir, sandbox_path};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

/// The directory kinds of the sandbox layout, by the number of path components.
const AGENT_DEPTH: usize = 2;
const RUN_DEPTH: usize = 8;

/// Paths waiting for removal, each with its removal time.
#[derive(Debug, Default)]
pub(super) struct GcSchedule {
    /// Path → when it is removed.
    at: BTreeMap<String, Instant>,
    /// The same entries ordered by time, for the next deadline.
    by_time: BTreeSet<(Instant, String)>,
    /// Paths scheduled by a call without a clock: due `gc_delay` after the next input's `now`.
    unstamped: BTreeSet<String>,
}

impl GcSchedule {
    /// When the agent's GC timer must run: at once for unstamped paths, else the earliest removal.
    pub(super) fn deadline(&self) -> Option<Instant> {
        if !self.unstamped.is_empty() {
            return Some(Instant::ZERO);
        }
        self.by_time.first().map(|(t, _)| *t)
    }

    /// Schedules `path` at `at`; a path already scheduled keeps the earlier time.
    fn schedule(&mut self, path: String, at: Instant) {
        if let Some(old) = self.at.get(&path).copied() {
            if old <= at {
                return;
            }
            self.by_time.remove(&(old, path.clone()));
        }
        self.unstamped.remove(&path);
        self.by_time.insert((at, path.clone()));
        self.at.insert(path, at);
    }

    /// Schedules `path` at `at`; a path already scheduled keeps the later time (a parent dir
    /// stays until its youngest child is due).
    fn schedule_latest(&mut self, path: String, at: Instant) {
        match self.at.get(&path).copied() {
            Some(old) if old >= at => {}
            Some(old) => {
                self.by_time.remove(&(old, path.clone()));
                self.by_time.insert((at, path.clone()));
                self.at.insert(path, at);
            }
            None => self.schedule(path, at),
        }
    }

    /// Gives every unstamped path its removal time `now + delay`.
    fn stamp(&mut self, now: Instant, delay: Duration) {
        for path in core::mem::take(&mut self.unstamped) {
            if !self.at.contains_key(&path) {
                self.schedule(path, now + delay);
            }
        }
    }

    /// Takes every path due at or before `t`, in path order (a parent before its children).
    fn take_due(&mut self, t: Instant) -> Vec<String> {
        let mut due = Vec::new();
        while let Some((at, _)) = self.by_time.first() {
            if *at > t {
                break;
            }
            if let Some((_, path)) = self.by_time.pop_first() {
                self.at.remove(&path);
                due.push(path);
            }
        }
        due.sort();
        due
    }

    /// Number of paths waiting (stamped or not).
    pub(super) fn len(&self) -> usize {
        self.at.len() + self.unstamped.len()
    }
}

/// The components of a GC path, or `None` when it is not a directory of the sandbox layout.
fn components(path: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = path.split('/').collect();
    let names_ok = parts
        .iter()
        .all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains('\0'));
    let shape_ok = matches!(parts.len(), 2 | 4 | 6 | 8)
        && ["slaves", "frameworks", "executors", "runs"]
            .iter()
            .enumerate()
            .all(|(i, name)| parts.get(2 * i).is_none_or(|p| p == name));
    let not_latest = parts.len() != RUN_DEPTH || parts[RUN_DEPTH - 1] != "latest";
    (names_ok && shape_ok && not_latest).then_some(parts)
}

/// `a - b`, zero when `b` is longer.
fn less(a: Duration, b: Duration) -> Duration {
    Duration::from_millis(a.as_millis().saturating_sub(b.as_millis()))
}

/// `path` cut to its first `depth` components.
fn ancestor(parts: &[&str], depth: usize) -> String {
    parts[..depth].join("/")
}

impl Agent {
    /// Run dirs found on disk at start, each with its age (from its mtime). Those of executors
    /// the agent knows are left alone; the others, and their executor, framework and agent dirs,
    /// are due `gc_delay - age` from now. Paths that are not run dirs of the sandbox layout are
    /// ignored.
    pub fn handle_found_sandboxes(&mut self, now: Instant, found: Vec<(String, Duration)>) {
        self.gc.stamp(now, self.cfg.gc_delay);
        let mut scheduled = 0usize;
        for (path, age) in found {
            let Some(parts) = components(&path) else {
                continue;
            };
            if parts.len() != RUN_DEPTH || self.holds_live(&parts) {
                continue;
            }
            let at = now + less(self.cfg.gc_delay, age);
            for depth in [AGENT_DEPTH, 4, 6] {
                self.gc.schedule_latest(ancestor(&parts, depth), at);
            }
            self.gc.schedule(path, at);
            scheduled += 1;
        }
        if scheduled > 0 {
            self.log(alloc::format!(
                "scheduled {scheduled} leftover sandboxes for removal (gc_delay {} s, aged by mtime)",
                self.cfg.gc_delay.as_secs()
            ));
        }
        self.run_gc(now);
    }

    /// The work dir's filesystem is `used_permille` / 1000 full: everything scheduled longer ago
    /// than `gc_delay × max(0, 1 − gc_disk_headroom − used)` is removed at once.
    pub fn handle_disk_usage(&mut self, now: Instant, used_permille: u16) {
        self.gc.stamp(now, self.cfg.gc_delay);
        let used = u64::from(used_permille.min(1000));
        let headroom = u64::from(self.cfg.gc_disk_headroom_permille.min(1000));
        let left = 1000u64.saturating_sub(headroom).saturating_sub(used);
        let delay_ms = self.cfg.gc_delay.as_millis();
        let max_age = Duration::from_millis(
            u64::try_from(u128::from(delay_ms) * u128::from(left) / 1000).unwrap_or(u64::MAX),
        );
        // A path due at `t` was scheduled at `t - gc_delay`; it is older than `max_age` when
        // `t <= now + (gc_delay - max_age)`.
        let cutoff = now + less(self.cfg.gc_delay, max_age);
        let removed = self.emit_due(cutoff);
        if removed > 0 && max_age < self.cfg.gc_delay {
            self.log(alloc::format!(
                "disk {}.{}% full: removing sandboxes older than {} s ({removed} dirs)",
                used / 10,
                used % 10,
                max_age.as_secs()
            ));
        }
    }

    /// Runs the GC timer: stamps unstamped paths and removes those due.
    pub(super) fn run_gc(&mut self, now: Instant) {
        self.gc.stamp(now, self.cfg.gc_delay);
        self.emit_due(now);
    }

    /// Schedules the directories of `exec`, which the agent has just forgotten: its run dir, its
    /// executor dir, and its framework dir when the framework has no executor left.
    pub(super) fn schedule_sandbox_gc(&mut self, exec: &ExecutorEntry) {
        let Some(agent) = self.id.clone() else {
            return;
        };
        let (fid, eid) = (&exec.framework_id, &exec.executor_id);
        let run = sandbox_path(&agent, fid, eid, &exec.container_id);
        let dir = executor_dir(&agent, fid, eid);
        self.gc.unstamped.insert(run);
        if !self.executors.keys().any(|(f, _)| f == fid) {
            if let Some(cut) = dir.rfind("/executors/") {
                self.gc.unstamped.insert(String::from(&dir[..cut]));
            }
        }
        self.gc.unstamped.insert(dir);
    }

    /// Paths waiting for removal.
    pub fn gc_pending(&self) -> usize {
        self.gc.len()
    }

    /// Emits a removal for every path due at or before `t`, skipping (and dropping) paths that
    /// hold a live sandbox and paths inside one removed in the same batch. Returns how many were
    /// emitted.
    fn emit_due(&mut self, t: Instant) -> usize {
        let mut emitted: Vec<String> = Vec::new();
        for path in self.gc.take_due(t) {
            let Some(parts) = components(&path) else {
                continue;
            };
            if self.holds_live(&parts) {
                continue;
            }
            let inside = emitted.iter().any(|e| {
                path.len() > e.len()
                    && path.starts_with(e.as_str())
                    && path.as_bytes()[e.len()] == b'/'
            });
            if !inside {
                emitted.push(path);
            }
        }
        let n = emitted.len();
        for path in emitted {
            self.outputs.push_back(AgentOutput::RemoveSandbox { path });
        }
        n
    }

    /// True when the directory `parts` is the current agent's dir or holds (or is) the sandbox
    /// of an executor the agent knows. Without an id yet, every agent dir counts as the current
    /// one for the executors' sake.
    fn holds_live(&self, parts: &[&str]) -> bool {
        let agent = parts.get(1).copied();
        let mine = self.id.as_ref().is_none_or(|id| Some(id.as_str()) == agent);
        if parts.len() == AGENT_DEPTH
            && self
                .id
                .as_ref()
                .is_some_and(|id| Some(id.as_str()) == agent)
        {
            return true;
        }
        mine && self.executors.iter().any(|((f, e), x)| {
            parts.get(3).is_none_or(|p| *p == f.as_str())
                && parts.get(5).is_none_or(|p| *p == e.as_str())
                && parts.get(7).is_none_or(|p| *p == x.container_id.as_str())
        })
    }
}
