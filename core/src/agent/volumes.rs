//! The agent's dynamic reservations and persistent volumes (Mesos checkpointed resources): kept
//! as the master last sent them, checkpointed, reported when (re)registering, and the volume
//! directories `<work_dir>/volumes/roles/<role>/<persistence_id>` created and removed to match.

use super::checkpoint::Record;
use super::{Agent, AgentOutput};
use crate::resources::operations::is_persistent_volume;
use crate::resources::{Resource, Resources};
use crate::time::Instant;
use alloc::string::String;
use alloc::vec::Vec;

/// Where a persistent volume lives, relative to the work dir (Mesos
/// `paths::getPersistentVolumePath`): `volumes/roles/<role>/<persistence_id>`; `None` for
/// anything else. The role is the volume's reservation role (a hierarchical role is nested
/// directories; role and id validation keep `.`, `..` and empty components out).
pub fn volume_path(r: &Resource) -> Option<String> {
    if !is_persistent_volume(r) {
        return None;
    }
    let role = r.reservation_role()?;
    let id = &r.meta()?.disk.as_ref()?.persistence.as_ref()?.id;
    let mut p = String::from("volumes/roles/");
    p.push_str(role.as_str());
    p.push('/');
    p.push_str(id);
    Some(p)
}

/// A persistent volume as a container sees it: `<sandbox>/<container_path>` leads to
/// `<work_dir>/<source>` (Mesos' posix filesystem isolator links it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeMount {
    pub source: String,
    pub container_path: String,
    pub read_only: bool,
}

/// The persistent volumes among `resources` as mounts, each once.
pub fn volume_mounts<'a>(resources: impl Iterator<Item = &'a Resource>) -> Vec<VolumeMount> {
    let mut out: Vec<VolumeMount> = Vec::new();
    for r in resources {
        let (Some(source), Some(disk)) = (volume_path(r), r.meta().and_then(|m| m.disk.as_ref()))
        else {
            continue;
        };
        let Some(container_path) = disk.container_path.clone() else {
            continue;
        };
        if !out.iter().any(|m| m.container_path == container_path) {
            out.push(VolumeMount {
                source,
                container_path,
                read_only: disk.read_only,
            });
        }
    }
    out
}

/// The paths of every persistent volume in `resources`, sorted, without duplicates.
pub fn volume_paths(resources: &Resources) -> Vec<String> {
    let mut out: Vec<String> = resources.iter().filter_map(volume_path).collect();
    out.sort();
    out.dedup();
    out
}

impl Agent {
    /// The agent's dynamic reservations and persistent volumes.
    pub fn checkpointed_resources(&self) -> &Resources {
        &self.checkpointed
    }

    /// The master's `CheckpointResources`: the new set is checkpointed; once durable the
    /// directories of new volumes are created and those of destroyed volumes removed.
    pub(super) fn checkpoint_resources(&mut self, now: Instant, resources: Resources) {
        if resources == self.checkpointed {
            return;
        }
        let old = volume_paths(&self.checkpointed);
        let new = volume_paths(&resources);
        let create: Vec<String> = new.iter().filter(|p| !old.contains(p)).cloned().collect();
        let remove: Vec<String> = old.iter().filter(|p| !new.contains(p)).cloned().collect();
        self.checkpointed = resources.clone();
        self.record(Record::CheckpointedResources(resources));
        if !create.is_empty() || !remove.is_empty() {
            self.emit_exec(now, AgentOutput::SyncVolumes { create, remove });
        }
    }

    /// After a restart: every checkpointed volume's directory exists again (creating one that
    /// does is a no-op; none is removed).
    pub(super) fn resync_volumes(&mut self) {
        let create = volume_paths(&self.checkpointed);
        if !create.is_empty() {
            self.outputs.push_back(AgentOutput::SyncVolumes {
                create,
                remove: Vec::new(),
            });
        }
    }
}
