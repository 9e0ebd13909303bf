//! The invariants checked after every step of the simulation (and at the moments the brief
//! names): resources conserved, no task on two agents, nothing acknowledged before it is
//! durable, offers only from registered and connected agents and each offer id sent once,
//! active agents only on live connections, admitted agent ids unique, and unreachable agents
//! and their tasks held apart from live ones. For agents: an
//! executor is told an update is acknowledged only once it is on the agent's disk (checked where
//! the output leaves, in `world.rs`), no task is launched twice (in `executor.rs`), and a
//! terminal state the agent acknowledged to an executor is the one the framework gets reliably.

use std::collections::{BTreeMap, BTreeSet};

use mesolite_core::ids::{AgentId, FrameworkId, TaskId};
use mesolite_core::master::OfferRecord;
use mesolite_core::resources::Resources;
use mesolite_core::task_state::TaskState;

use crate::world::World;

impl World {
    /// An agent id the master names to an agent must already be in the registry on disk.
    pub fn check_durable_id(&mut self, id: &AgentId, when: &str) {
        match self.disk.replay() {
            Ok(reg) => {
                if reg.admitted_agent(id).is_none() {
                    self.fail(format!(
                        "agent id {id} {when} to an agent before it is durable in the registry"
                    ));
                }
            }
            Err(e) => self.fail(format!("the registry on disk does not replay: {e}")),
        }
    }

    /// An offer's agent must be live, active and still connected as far as the master was told.
    pub fn check_offer_source(&mut self, o: &OfferRecord) {
        let Some(m) = &self.master else { return };
        let active = m.agents().any(|a| *a.id == o.agent_id && a.active);
        if !active {
            self.fail(format!(
                "offer {} is on agent {} which is not registered and active",
                o.id, o.agent_id
            ));
            return;
        }
        if !self.connected(&o.agent_id) {
            self.fail(format!(
                "offer {} is on agent {} but the master was told every connection of that agent closed",
                o.id, o.agent_id
            ));
        }
    }

    /// An offer id is sent to a scheduler once, by whichever master incarnation sends it.
    pub fn check_offer_id_new(&mut self, o: &OfferRecord) {
        if !self.offer_ids_sent.insert(o.id.clone()) {
            self.fail(format!(
                "offer id {} is sent to a scheduler a second time",
                o.id
            ));
        }
    }

    /// Whether the agent `id` has a connection to the current master that the master named it on
    /// and was not told closed.
    fn connected(&self, id: &AgentId) -> bool {
        let gen = self.master_gen;
        self.conns
            .values()
            .any(|c| c.gen == gen && !c.master_told && c.registered.as_ref() == Some(id))
    }

    pub fn check_invariants(&mut self) {
        if self.violation.is_some() {
            return;
        }
        self.check_master_resources();
        self.check_offers();
        self.check_active_agents();
        self.check_admitted_unique();
        self.check_agent_tasks();
        self.check_unreachable();
    }

    /// (7) An agent the registry lists unreachable is not live in the master, and each task
    /// kept for an unreachable agent is not also live and belongs to an agent the registry
    /// lists unreachable (durably: it is reported only after `MarkUnreachable` is written), or
    /// to one re-admitted whose connection closed before it was answered.
    fn check_unreachable(&mut self) {
        let Some(m) = &self.master else { return };
        let reg = m.registry();
        let unreachable: BTreeSet<&AgentId> = reg.unreachable.iter().map(|(id, _)| id).collect();
        let mut bad = m
            .agents()
            .find(|a| unreachable.contains(a.id))
            .map(|a| format!("agent {} is live and unreachable at once", a.id));
        for (t, _) in m.unreachable_tasks() {
            if bad.is_some() {
                break;
            }
            if m.task(t.framework_id, t.task_id).is_some() {
                bad = Some(format!(
                    "task {} is live and unreachable at once",
                    t.task_id
                ));
            } else if !(unreachable.contains(t.agent_id)
                || (reg.admitted_agent(t.agent_id).is_some() && m.agent(t.agent_id).is_none()))
            {
                bad = Some(format!(
                    "task {} is kept unreachable but its agent {} is not unreachable in the registry",
                    t.task_id, t.agent_id
                ));
            }
        }
        if let Some(b) = bad {
            self.fail(b);
        }
    }

    /// (5) Every agent the master lists as active has a live connection the master named it on.
    fn check_active_agents(&mut self) {
        let Some(m) = &self.master else { return };
        let dead = m
            .agents()
            .find(|a| a.active && !self.connected(a.id))
            .map(|a| a.id.clone());
        if let Some(id) = dead {
            self.fail(format!(
                "the master lists agent {id} as active but was told every connection of that agent closed"
            ));
        }
    }

    /// (6) No agent id is admitted twice in the master's registry.
    fn check_admitted_unique(&mut self) {
        let Some(m) = &self.master else { return };
        let mut seen = BTreeSet::new();
        let twice = m
            .registry()
            .admitted
            .iter()
            .find(|a| !seen.insert(&a.id))
            .map(|a| a.id.clone());
        if let Some(id) = twice {
            self.fail(format!("agent id {id} is admitted twice in the registry"));
        }
    }

    /// (1) For each agent: outstanding offers plus resources of unreleased tasks fit in its total.
    fn check_master_resources(&mut self) {
        let Some(m) = &self.master else { return };
        let mut bad = None;
        for a in m.agents() {
            let mut used = a.allocated.clone();
            if used.add_all(&a.offered).is_err() || !a.info.resources.contains(&used) {
                bad = Some(format!(
                    "agent {} is overcommitted: tasks {} + offers {} exceed its total {}",
                    a.id, a.allocated, a.offered, a.info.resources
                ));
                break;
            }
        }
        if let Some(b) = bad {
            self.fail(b);
        }
    }

    /// (4) Every outstanding offer comes from a registered, active, connected agent.
    fn check_offers(&mut self) {
        let Some(m) = &self.master else { return };
        let offers: Vec<OfferRecord> = m.offers().cloned().collect();
        for o in &offers {
            self.check_offer_source(o);
        }
    }

    /// (2) No task of a framework runs on two agents, and what runs on an agent fits in it.
    fn check_agent_tasks(&mut self) {
        let mut seen: BTreeMap<(FrameworkId, TaskId), usize> = BTreeMap::new();
        let mut bad = None;
        for (i, a) in self.agents.iter().enumerate().filter(|(_, a)| a.up) {
            let mut used = Resources::new();
            for e in a.agent.executors() {
                for (spec, state) in &e.tasks {
                    if state.is_terminal() {
                        continue;
                    }
                    let key = (e.framework_id.clone(), spec.task_id.clone());
                    if let Some(other) = seen.insert(key, i) {
                        bad = Some(format!(
                            "task {} of framework {} runs on agent{other} and agent{i}",
                            spec.task_id, e.framework_id
                        ));
                    }
                    let _ = used.add_all(&spec.resources);
                }
            }
            if !a.total.contains(&used) {
                bad = Some(format!(
                    "agent{i} runs tasks using {used}, more than its total {}",
                    a.total
                ));
            }
        }
        if let Some(b) = bad {
            self.fail(b);
        }
    }

    /// An executor was told its terminal update is durable: the framework's reliable terminal
    /// state for the task, if any, must be that one (nothing acknowledged is lost or contradicted).
    pub fn note_durable_terminal(&mut self, fid: FrameworkId, tid: TaskId, state: TaskState) {
        let reliable = self
            .scheds
            .iter()
            .filter(|s| s.fid.as_ref() == Some(&fid))
            .find_map(|s| s.tasks.get(&tid).and_then(|t| t.acked_terminal));
        if let Some(seen) = reliable.filter(|s| *s != state) {
            self.fail(format!(
                "task {tid}: the agent made {} durable but the framework acknowledged {}",
                state.name(),
                seen.name()
            ));
        }
        self.durable_terminals.insert((fid, tid), state);
    }

    /// The framework acknowledged terminal `state`; it must agree with a durable one.
    pub fn check_terminal_agrees(&mut self, fid: &FrameworkId, tid: &TaskId, state: TaskState) {
        let durable = self
            .durable_terminals
            .get(&(fid.clone(), tid.clone()))
            .copied();
        if let Some(d) = durable.filter(|d| *d != state) {
            self.fail(format!(
                "task {tid}: the framework acknowledged {} but the agent made {} durable",
                state.name(),
                d.name()
            ));
        }
    }
}
