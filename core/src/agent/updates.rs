//! The agent's task status update manager: one stream per task, only the oldest unacknowledged
//! update in flight, retried with backoff until the master forwards the framework's acknowledgement.
//!
//! The streams hold only updates that are durable in the agent's checkpoint: the agent pushes an
//! update once its record is written. An acknowledgement marks its stream `ack_pending` (nothing
//! is sent from it) until the acknowledgement's record is written, so a restarted agent never
//! resends an update older than one the framework already saw.

use crate::ids::{FrameworkId, TaskId};
use crate::time::{Duration, Instant};
use crate::wire::StatusUpdate;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

/// Unacknowledged updates kept per task before new ones are refused (a runaway executor cannot
/// exhaust memory; the executor retries refused updates).
pub(super) const MAX_PENDING_PER_TASK: usize = 256;

#[derive(Debug)]
struct Stream {
    pending: VecDeque<StatusUpdate>,
    /// When the head is sent again; `None` while nothing is in flight.
    next_retry: Option<Instant>,
    backoff: Duration,
    /// The head is acknowledged but the acknowledgement is not durable yet.
    ack_pending: bool,
}

/// All streams of the agent.
#[derive(Debug, Default)]
pub(super) struct UpdateStreams {
    streams: BTreeMap<(FrameworkId, TaskId), Stream>,
    /// While the master is unreachable nothing is sent; streams resume on re-registration.
    paused: bool,
}

impl UpdateStreams {
    /// Updates queued for a task.
    pub fn len(&self, framework: &FrameworkId, task: &TaskId) -> usize {
        self.streams
            .get(&(framework.clone(), task.clone()))
            .map_or(0, |s| s.pending.len())
    }

    /// Whether update `uuid` of a task is queued.
    pub fn contains(&self, framework: &FrameworkId, task: &TaskId, uuid: [u8; 16]) -> bool {
        self.streams
            .get(&(framework.clone(), task.clone()))
            .is_some_and(|s| s.pending.iter().any(|u| u.status.uuid == Some(uuid)))
    }

    /// Queues a durable update; returns it (with `latest_state` filled in) if it must be sent
    /// now. The caller bounds the queue ([`MAX_PENDING_PER_TASK`]) when it accepts the update.
    pub fn push(
        &mut self,
        now: Instant,
        retry_min: Duration,
        update: StatusUpdate,
    ) -> Option<StatusUpdate> {
        let key = (update.framework_id.clone(), update.status.task_id.clone());
        let stream = self.streams.entry(key).or_insert_with(|| Stream {
            pending: VecDeque::new(),
            next_retry: None,
            backoff: retry_min,
            ack_pending: false,
        });
        if stream
            .pending
            .iter()
            .any(|u| u.status.uuid == update.status.uuid)
        {
            return None; // A duplicate: already queued.
        }
        stream.pending.push_back(update);
        if stream.pending.len() == 1 && !self.paused {
            stream.next_retry = Some(now + retry_min);
            stream.backoff = retry_min;
            return Some(head_with_latest(stream));
        }
        None
    }

    /// An acknowledgement of `uuid` arrived: true if it matches the head (and is not a
    /// duplicate), in which case the stream stops sending until [`UpdateStreams::acknowledge`].
    pub fn begin_ack(&mut self, framework: &FrameworkId, task: &TaskId, uuid: [u8; 16]) -> bool {
        let Some(stream) = self.streams.get_mut(&(framework.clone(), task.clone())) else {
            return false;
        };
        if stream.ack_pending || stream.pending.front().and_then(|u| u.status.uuid) != Some(uuid) {
            return false;
        }
        stream.ack_pending = true;
        stream.next_retry = None;
        true
    }

    /// The framework acknowledged `uuid`: pops the head if it matches and returns the next update to send.
    pub fn acknowledge(
        &mut self,
        now: Instant,
        retry_min: Duration,
        framework: &FrameworkId,
        task: &TaskId,
        uuid: [u8; 16],
    ) -> Option<StatusUpdate> {
        let key = (framework.clone(), task.clone());
        let stream = self.streams.get_mut(&key)?;
        if stream.pending.front().and_then(|u| u.status.uuid) != Some(uuid) {
            return None; // A duplicate or unexpected acknowledgement is ignored.
        }
        stream.pending.pop_front();
        stream.ack_pending = false;
        if stream.pending.is_empty() {
            self.streams.remove(&key);
            return None;
        }
        if self.paused {
            stream.next_retry = None;
            return None;
        }
        stream.next_retry = Some(now + retry_min);
        stream.backoff = retry_min;
        Some(head_with_latest(stream))
    }

    /// Heads whose retry time has come; their backoff doubles up to `max`.
    pub fn due(&mut self, now: Instant, max: Duration) -> Vec<StatusUpdate> {
        let mut out = Vec::new();
        if self.paused {
            return out;
        }
        for stream in self.streams.values_mut() {
            if stream.ack_pending {
                continue;
            }
            if stream.next_retry.is_some_and(|t| now >= t) {
                stream.backoff = stream.backoff.saturating_mul(2).min(max);
                stream.next_retry = Some(now + stream.backoff);
                out.push(head_with_latest(stream));
            }
        }
        out
    }

    pub fn pause(&mut self) {
        self.paused = true;
        for s in self.streams.values_mut() {
            s.next_retry = None;
        }
    }

    /// Resumes after (re-)registration: every head is sent again.
    pub fn resume(&mut self, now: Instant, retry_min: Duration) -> Vec<StatusUpdate> {
        self.paused = false;
        let mut out = Vec::new();
        for stream in self.streams.values_mut() {
            if !stream.pending.is_empty() && !stream.ack_pending {
                stream.backoff = retry_min;
                stream.next_retry = Some(now + retry_min);
                out.push(head_with_latest(stream));
            }
        }
        out
    }

    pub fn next_retry(&self) -> Option<Instant> {
        self.streams.values().filter_map(|s| s.next_retry).min()
    }

    /// True while a task has updates the framework has not acknowledged, not counting a last
    /// update whose acknowledgement arrived and is being made durable.
    pub fn awaits_acknowledgement(&self, framework: &FrameworkId, task: &TaskId) -> bool {
        self.streams
            .get(&(framework.clone(), task.clone()))
            .is_some_and(|s| !(s.ack_pending && s.pending.len() == 1))
    }

    /// True while a task has updates the framework has not acknowledged.
    pub fn has_pending(&self, framework: &FrameworkId, task: &TaskId) -> bool {
        self.streams
            .contains_key(&(framework.clone(), task.clone()))
    }

    /// The newest queued state of a task, if any update is pending.
    pub fn latest_state(
        &self,
        framework: &FrameworkId,
        task: &TaskId,
    ) -> Option<crate::task_state::TaskState> {
        self.streams
            .get(&(framework.clone(), task.clone()))
            .and_then(|s| s.pending.back())
            .map(|u| u.status.state)
    }
}

fn head_with_latest(stream: &Stream) -> StatusUpdate {
    let mut head = stream
        .pending
        .front()
        .cloned()
        .expect("stream is not empty");
    if let Some(newest) = stream.pending.back() {
        head.latest_state = newest.status.state;
    }
    head
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task_state::TaskState;
    use crate::time::WallTime;
    use crate::wire::{StatusSource, TaskStatus};

    fn update(state: TaskState, uuid: u8) -> StatusUpdate {
        StatusUpdate {
            framework_id: FrameworkId::from("f"),
            status: TaskStatus {
                task_id: TaskId::from("t"),
                state,
                message: None,
                source: StatusSource::Executor,
                reason: None,
                agent_id: None,
                executor_id: None,
                timestamp: WallTime::default(),
                uuid: Some([uuid; 16]),
                data: Vec::new(),
                unreachable_time: None,
            },
            latest_state: state,
        }
    }

    #[test]
    fn one_in_flight_in_order_with_latest_state() {
        let mut s = UpdateStreams::default();
        let t0 = Instant::ZERO;
        let min = Duration::from_secs(10);
        let first = s.push(t0, min, update(TaskState::Running, 1)).unwrap();
        assert_eq!(first.status.state, TaskState::Running);
        assert_eq!(s.push(t0, min, update(TaskState::Finished, 2)), None);
        // A retry carries the newest state as latest_state.
        let retried = s.due(t0 + min, Duration::from_secs(600));
        assert_eq!(retried.len(), 1);
        assert_eq!(retried[0].latest_state, TaskState::Finished);
        // Wrong ack is ignored; right ack releases the next one.
        assert_eq!(
            s.acknowledge(
                t0,
                min,
                &FrameworkId::from("f"),
                &TaskId::from("t"),
                [9; 16]
            ),
            None
        );
        let next = s
            .acknowledge(
                t0,
                min,
                &FrameworkId::from("f"),
                &TaskId::from("t"),
                [1; 16],
            )
            .unwrap();
        assert_eq!(next.status.state, TaskState::Finished);
        assert_eq!(
            s.acknowledge(
                t0,
                min,
                &FrameworkId::from("f"),
                &TaskId::from("t"),
                [2; 16]
            ),
            None
        );
        assert!(!s.has_pending(&FrameworkId::from("f"), &TaskId::from("t")));
    }

    #[test]
    fn backoff_doubles_to_the_cap_and_pause_stops_sending() {
        let mut s = UpdateStreams::default();
        let min = Duration::from_secs(10);
        let max = Duration::from_secs(25);
        s.push(Instant::ZERO, min, update(TaskState::Running, 1));
        assert_eq!(s.next_retry(), Some(Instant::ZERO + min));
        let t1 = Instant::ZERO + min;
        assert_eq!(s.due(t1, max).len(), 1);
        assert_eq!(s.next_retry(), Some(t1 + Duration::from_secs(20)));
        let t2 = t1 + Duration::from_secs(20);
        assert_eq!(s.due(t2, max).len(), 1);
        assert_eq!(s.next_retry(), Some(t2 + max));
        s.pause();
        assert!(s.due(t2 + Duration::from_secs(1000), max).is_empty());
        assert_eq!(s.resume(t2, min).len(), 1);
    }

    #[test]
    fn duplicates_collapse() {
        let mut s = UpdateStreams::default();
        let min = Duration::from_secs(10);
        assert!(s
            .push(Instant::ZERO, min, update(TaskState::Running, 1))
            .is_some());
        assert_eq!(
            s.push(Instant::ZERO, min, update(TaskState::Running, 1)),
            None
        );
        assert!(s.contains(&FrameworkId::from("f"), &TaskId::from("t"), [1; 16]));
        assert_eq!(s.len(&FrameworkId::from("f"), &TaskId::from("t")), 1);
    }

    #[test]
    fn a_pending_acknowledgement_stops_the_stream_until_it_is_durable() {
        let mut s = UpdateStreams::default();
        let (f, t) = (FrameworkId::from("f"), TaskId::from("t"));
        let min = Duration::from_secs(10);
        s.push(Instant::ZERO, min, update(TaskState::Running, 1));
        s.push(Instant::ZERO, min, update(TaskState::Finished, 2));
        assert!(
            !s.begin_ack(&f, &t, [2; 16]),
            "only the head can be acknowledged"
        );
        assert!(s.begin_ack(&f, &t, [1; 16]));
        assert!(
            !s.begin_ack(&f, &t, [1; 16]),
            "a duplicate acknowledgement is ignored"
        );
        assert_eq!(s.next_retry(), None);
        assert!(s.due(Instant::ZERO + min, min).is_empty());
        s.pause();
        assert!(
            s.resume(Instant::ZERO, min).is_empty(),
            "nothing is resent while the ack is pending"
        );
        let next = s.acknowledge(Instant::ZERO, min, &f, &t, [1; 16]).unwrap();
        assert_eq!(next.status.state, TaskState::Finished);
    }
}
