//! Metrics under Mesos' names, for `/metrics/snapshot` and GET_METRICS. Gauges are computed
//! from the state at the time of the request. Terminal-task counters (`*/tasks_finished`, ...)
//! count the tasks the state still holds (live ones and the bounded list of completed ones),
//! so after more than `max_completed_tasks_per_framework` completions they are lower bounds.

use crate::v1::operator::{GetMetrics, Metric};
use mesolite_core::agent::{Agent, ExecutorState, MasterLink};
use mesolite_core::master::{Master, Phase};
use mesolite_core::resources::{Resources, Value};
use mesolite_core::task_state::TaskState;
use mesolite_core::time::WallTime;
use std::collections::BTreeMap;

/// Metric names and values, sorted by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics(BTreeMap<String, f64>);

impl Metrics {
    fn set(&mut self, name: &str, value: f64) {
        self.0.insert(name.to_string(), value);
    }

    /// Adds `other`'s metrics (a process serving a master and an agent reports both).
    pub fn extend(&mut self, other: Metrics) {
        self.0.extend(other.0);
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.get(name).copied()
    }

    /// `Response.GetMetrics`.
    pub fn to_v1(&self) -> GetMetrics {
        GetMetrics {
            metrics: self
                .0
                .iter()
                .map(|(name, value)| Metric {
                    name: name.clone(),
                    value: Some(*value),
                })
                .collect(),
        }
    }

    /// The `/metrics/snapshot` answer: one flat object of numbers.
    pub fn to_snapshot_json(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = self
            .0
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::json!(v)))
            .collect();
        serde_json::Value::Object(map)
    }
}

/// The scalar named `name` in `r` (0 when absent).
fn scalar(r: &Resources, name: &str) -> f64 {
    r.iter()
        .filter(|res| res.name.as_str() == name)
        .map(|res| match &res.value {
            Value::Scalar(f) => f.as_f64(),
            _ => 0.0,
        })
        .sum()
}

/// `<prefix>/tasks_<state>` for every task state Mesos counts.
const TASK_STATES: [(TaskState, &str); 13] = [
    (TaskState::Staging, "tasks_staging"),
    (TaskState::Starting, "tasks_starting"),
    (TaskState::Running, "tasks_running"),
    (TaskState::Killing, "tasks_killing"),
    (TaskState::Finished, "tasks_finished"),
    (TaskState::Failed, "tasks_failed"),
    (TaskState::Killed, "tasks_killed"),
    (TaskState::Lost, "tasks_lost"),
    (TaskState::Error, "tasks_error"),
    (TaskState::Dropped, "tasks_dropped"),
    (TaskState::Unreachable, "tasks_unreachable"),
    (TaskState::Gone, "tasks_gone"),
    (TaskState::GoneByOperator, "tasks_gone_by_operator"),
];

fn count_states(m: &mut Metrics, prefix: &str, states: impl Iterator<Item = TaskState>) {
    let mut counts: BTreeMap<&str, f64> = TASK_STATES.iter().map(|(_, n)| (*n, 0.0)).collect();
    for s in states {
        if let Some((_, name)) = TASK_STATES.iter().find(|(t, _)| *t == s) {
            *counts.entry(name).or_default() += 1.0;
        }
    }
    for (name, n) in counts {
        m.set(&format!("{prefix}/{name}"), n);
    }
}

fn resource_metrics(m: &mut Metrics, prefix: &str, total: &Resources, used: &Resources) {
    for name in ["cpus", "mem", "disk", "gpus"] {
        let t = scalar(total, name);
        let u = scalar(used, name);
        m.set(&format!("{prefix}/{name}_total"), t);
        m.set(&format!("{prefix}/{name}_used"), u);
        m.set(
            &format!("{prefix}/{name}_percent"),
            if t > 0.0 { u / t } else { 0.0 },
        );
    }
}

/// The master's metrics at `now`.
pub fn master(m: &Master, now: WallTime) -> Metrics {
    let mut out = Metrics::default();
    let uptime = (now.as_secs_f64() - m.start_time().as_secs_f64()).max(0.0);
    out.set("master/uptime_secs", uptime);
    out.set(
        "master/elected",
        if m.phase() == Phase::Leading {
            1.0
        } else {
            0.0
        },
    );
    let (mut active, mut inactive) = (0.0, 0.0);
    let mut total = Resources::new();
    let mut used = Resources::new();
    for a in m.agents() {
        if a.active {
            active += 1.0;
        } else {
            inactive += 1.0;
        }
        let _ = total.add_all(a.total);
        let _ = used.add_all(&a.allocated);
    }
    out.set("master/slaves_active", active);
    out.set("master/slaves_inactive", inactive);
    out.set("master/slaves_connected", active);
    out.set("master/slaves_disconnected", inactive);
    out.set(
        "master/slaves_unreachable",
        m.registry().unreachable.len() as f64,
    );
    let (mut fa, mut fi, mut fc, mut fd) = (0.0, 0.0, 0.0, 0.0);
    for f in m.frameworks() {
        if f.active {
            fa += 1.0;
        } else {
            fi += 1.0;
        }
        if f.connected {
            fc += 1.0;
        } else {
            fd += 1.0;
        }
    }
    out.set("master/frameworks_active", fa);
    out.set("master/frameworks_inactive", fi);
    out.set("master/frameworks_connected", fc);
    out.set("master/frameworks_disconnected", fd);
    out.set("master/outstanding_offers", m.offers().count() as f64);
    count_states(
        &mut out,
        "master",
        m.tasks().chain(m.completed_tasks()).map(|t| t.state),
    );
    resource_metrics(&mut out, "master", &total, &used);
    out.set("registrar/queued_operations", m.registrar_queued() as f64);
    out.set(
        "allocator/mesos/allocation_runs",
        m.allocation_runs() as f64,
    );
    out
}

/// The agent's metrics at `now`, for an agent that started at `started`.
pub fn agent(a: &Agent, started: WallTime, now: WallTime) -> Metrics {
    let mut out = Metrics::default();
    out.set(
        "slave/uptime_secs",
        (now.as_secs_f64() - started.as_secs_f64()).max(0.0),
    );
    out.set(
        "slave/registered",
        if a.link() == MasterLink::Registered {
            1.0
        } else {
            0.0
        },
    );
    let (mut registering, mut running, mut terminating, mut terminated) = (0.0, 0.0, 0.0, 0.0);
    for e in a.executor_details() {
        match e.state {
            ExecutorState::Launching { .. } => registering += 1.0,
            ExecutorState::Running => running += 1.0,
            ExecutorState::Terminating { .. } => terminating += 1.0,
            ExecutorState::Terminated => terminated += 1.0,
        }
    }
    out.set("slave/executors_registering", registering);
    out.set("slave/executors_running", running);
    out.set("slave/executors_terminating", terminating);
    out.set("slave/executors_terminated", terminated);
    out.set("slave/frameworks_active", a.frameworks().count() as f64);
    count_states(&mut out, "slave", a.agent_tasks().map(|t| t.state));
    let mut used = Resources::new();
    for t in a.agent_tasks().filter(|t| !t.state.is_terminal()) {
        let _ = used.add_all(&t.spec.resources);
    }
    resource_metrics(&mut out, "slave", &a.info().resources, &used);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_metrics_is_a_list_of_name_value_pairs() {
        let mut m = Metrics::default();
        m.set("master/tasks_running", 3.0);
        m.set("master/elected", 1.0);
        // include/mesos/v1/master/master.proto: Response.GetMetrics { repeated Metric metrics = 1; }
        // include/mesos/v1/mesos.proto: Metric { required string name = 1; optional double value = 2; }
        let json = crate::v1::to_ascii_json(&crate::v1::operator::Response::metrics(m.to_v1()));
        assert_eq!(
            json,
            r#"{"type":"GET_METRICS","get_metrics":{"metrics":[{"name":"master/elected","value":1.0},{"name":"master/tasks_running","value":3.0}]}}"#
        );
        assert_eq!(
            crate::v1::to_ascii_json(&m.to_snapshot_json()),
            r#"{"master/elected":1.0,"master/tasks_running":3.0}"#
        );
    }

    #[test]
    fn scalars_are_summed_by_name() {
        let r = Resources::parse("cpus:2;mem:512;ports:[1-2]").unwrap();
        assert_eq!(scalar(&r, "cpus"), 2.0);
        assert_eq!(scalar(&r, "mem"), 512.0);
        assert_eq!(scalar(&r, "ports"), 0.0);
        assert_eq!(scalar(&r, "gpus"), 0.0);
    }
}
