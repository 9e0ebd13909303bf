//! Read-only views of the master's state for the operator API and `/state`.

use super::Master;
use crate::ids::{AgentId, ExecutorId, FrameworkId, TaskId};
use crate::resources::Resources;
use crate::task_state::TaskState;
use crate::time::WallTime;
use crate::wire::{AgentInfo, TaskStatus};

/// An agent as the operator API shows it.
#[derive(Debug)]
pub struct AgentView<'a> {
    pub id: &'a AgentId,
    pub info: &'a AgentInfo,
    /// Its resources with its dynamic reservations and persistent volumes applied.
    pub total: &'a Resources,
    pub active: bool,
    pub registered_time: WallTime,
    pub reregistered_time: Option<WallTime>,
    /// Resources in use by tasks and outstanding offers.
    pub allocated: Resources,
    pub offered: Resources,
}

/// A framework as the operator API shows it.
#[derive(Debug)]
pub struct FrameworkView<'a> {
    pub id: &'a FrameworkId,
    pub spec: &'a super::FrameworkSpec,
    pub active: bool,
    pub connected: bool,
    pub recovered: bool,
    pub registered_time: Option<WallTime>,
    pub reregistered_time: Option<WallTime>,
    pub offers: usize,
}

/// A task as the operator API shows it.
#[derive(Debug)]
pub struct TaskView<'a> {
    pub task_id: &'a TaskId,
    pub name: &'a str,
    pub framework_id: &'a FrameworkId,
    pub agent_id: &'a AgentId,
    pub executor_id: &'a ExecutorId,
    pub state: TaskState,
    pub resources: &'a Resources,
    pub statuses: &'a alloc::collections::VecDeque<TaskStatus>,
    pub status_update_state: Option<TaskState>,
    pub status_update_uuid: Option<[u8; 16]>,
    /// The role the task's resources are allocated to.
    pub role: &'a crate::ids::Role,
    /// Changes whenever what is shown of the task changes, other than `state` and the
    /// `status_update_*` fields: two views with the same fingerprint and those fields equal
    /// render the same (up to a 64-bit hash collision), so a rendering may be reused.
    pub fingerprint: u64,
}

impl Master {
    /// Live agents, ordered by id. One pass over tasks and offers computes every agent's
    /// allocated and offered resources (not one pass per agent).
    pub fn agents(&self) -> impl Iterator<Item = AgentView<'_>> {
        let mut used: alloc::collections::BTreeMap<&AgentId, (Resources, Resources)> =
            alloc::collections::BTreeMap::new();
        for t in self.tasks.values().filter(|t| !t.released) {
            let _ = used.entry(&t.agent_id).or_default().0.add_all(&t.resources);
        }
        for o in self.offers.values() {
            let _ = used.entry(&o.agent_id).or_default().1.add_all(&o.resources);
        }
        self.agents.values().map(move |a| {
            let (allocated, offered) = used.remove(&a.id).unwrap_or_default();
            AgentView {
                id: &a.id,
                info: &a.info,
                total: self.allocator.total(a.slot).unwrap_or(&a.info.resources),
                active: a.conn.is_some(),
                registered_time: a.registered_time,
                reregistered_time: a.reregistered_time,
                allocated,
                offered,
            }
        })
    }

    /// One live agent.
    pub fn agent(&self, id: &AgentId) -> Option<AgentView<'_>> {
        self.agents.get(id).map(|a| self.agent_view(a))
    }

    fn agent_view<'a>(&'a self, a: &'a super::agents::AgentEntry) -> AgentView<'a> {
        let mut allocated = Resources::new();
        for t in self
            .tasks
            .values()
            .filter(|t| t.agent_id == a.id && !t.released)
        {
            let _ = allocated.add_all(&t.resources);
        }
        let mut offered = Resources::new();
        for o in self.offers.values().filter(|o| o.agent_id == a.id) {
            let _ = offered.add_all(&o.resources);
        }
        AgentView {
            id: &a.id,
            info: &a.info,
            total: self.allocator.total(a.slot).unwrap_or(&a.info.resources),
            active: a.conn.is_some(),
            registered_time: a.registered_time,
            reregistered_time: a.reregistered_time,
            allocated,
            offered,
        }
    }

    /// The info of a live agent.
    pub fn agent_info(&self, id: &AgentId) -> Option<&AgentInfo> {
        self.agents.get(id).map(|a| &a.info)
    }

    /// Agents admitted in the registry but not back since this master started (their info as last admitted).
    pub fn recovered_agents(&self) -> impl Iterator<Item = &crate::registry::AdmittedAgent> {
        self.registry()
            .admitted
            .iter()
            .filter(move |a| !self.agents.contains_key(&a.id))
    }

    pub fn frameworks(&self) -> impl Iterator<Item = FrameworkView<'_>> {
        self.frameworks.values().map(framework_view)
    }

    /// One framework the master knows.
    pub fn framework(&self, id: &FrameworkId) -> Option<FrameworkView<'_>> {
        self.frameworks.get(id).map(framework_view)
    }

    /// One task not yet removed.
    pub fn task(&self, framework: &FrameworkId, task: &TaskId) -> Option<TaskView<'_>> {
        self.tasks
            .get(&(framework.clone(), task.clone()))
            .map(task_view)
    }

    /// Tasks not yet removed (running, or terminal but not acknowledged).
    pub fn tasks(&self) -> impl Iterator<Item = TaskView<'_>> {
        self.tasks.values().map(task_view)
    }

    /// Tasks of unreachable agents (Mesos `unreachable_tasks`), with the time each agent was
    /// marked unreachable.
    pub fn unreachable_tasks(&self) -> impl Iterator<Item = (TaskView<'_>, WallTime)> {
        self.unreachable_tasks
            .values()
            .map(|u| (task_view(&u.task), u.since))
    }

    /// Agents whose `MarkUnreachable` write is in flight (still listed by [`Master::agents`]).
    pub fn agents_being_marked_unreachable(&self) -> impl Iterator<Item = &AgentId> {
        self.marking_unreachable.iter()
    }

    /// The most recent removed tasks, oldest first.
    pub fn completed_tasks(&self) -> impl Iterator<Item = TaskView<'_>> {
        self.completed_tasks.iter().map(task_view)
    }

    pub fn offers(&self) -> impl Iterator<Item = &super::OfferRecord> {
        self.offers.values()
    }

    pub fn start_time(&self) -> WallTime {
        self.start_time
    }

    pub fn elected_time(&self) -> Option<WallTime> {
        self.elected_time
    }

    /// Allocation cycles run so far (Mesos metric `allocator/mesos/allocation_runs`).
    pub fn allocation_runs(&self) -> u64 {
        self.allocator.cycles()
    }

    /// Registry operations waiting to be written (Mesos metric `registrar/queued_operations`).
    pub fn registrar_queued(&self) -> usize {
        self.registrar.queued()
    }

    /// A role's weight as the allocator uses it (1.0 unless set).
    pub fn role_weight(&self, role: &crate::ids::Role) -> f64 {
        f64::from(self.allocator.weight(role)) / 1000.0
    }
}

fn framework_view(f: &super::frameworks::FrameworkEntry) -> FrameworkView<'_> {
    FrameworkView {
        id: &f.id,
        spec: &f.spec,
        active: f.stream.is_some() && !f.suppressed,
        connected: f.stream.is_some(),
        recovered: f.recovered,
        registered_time: f.registered_time,
        reregistered_time: f.reregistered_time,
        offers: f.offers.len(),
    }
}

fn task_view(t: &super::tasks::TaskEntry) -> TaskView<'_> {
    TaskView {
        task_id: &t.task_id,
        name: &t.name,
        framework_id: &t.framework_id,
        agent_id: &t.agent_id,
        executor_id: &t.executor_id,
        state: t.state,
        resources: &t.resources,
        statuses: &t.statuses,
        status_update_state: t.status_update_state,
        status_update_uuid: t.status_update_uuid,
        role: &t.role,
        fingerprint: t.fingerprint,
    }
}
