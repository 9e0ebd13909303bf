//! Persistent volumes on the agent's disk: their directories under `<work_dir>/volumes/roles/`
//! created and removed as the master's checkpointed resources say, and linked into a container's
//! sandbox at their `container_path` (as Mesos' posix filesystem isolator does), so that a
//! sandbox removal never touches a volume's data.

use crate::master_driver::log;
use mesolite_core::agent::volumes::VolumeMount;
use std::path::{Component, Path, PathBuf};

/// Whether `rel` is a relative path of normal components only (no `..`, no root).
fn is_plain_relative(rel: &str) -> bool {
    !rel.is_empty()
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Creates the volume directories `create` and removes the trees `remove` (paths relative to
/// `work_dir`, all under `volumes/roles/`; anything else is refused with a log line). Removal
/// runs off the event loop: a volume may hold much data.
pub fn sync(work_dir: &Path, create: &[String], remove: Vec<String>) {
    for rel in create {
        if !rel.starts_with("volumes/roles/") || !is_plain_relative(rel) {
            log(&format!("agent: refusing to create volume dir {rel:?}"));
            continue;
        }
        match std::fs::create_dir_all(work_dir.join(rel)) {
            Ok(()) => {}
            Err(e) => log(&format!("agent: cannot create volume dir {rel}: {e}")),
        }
    }
    let work_dir = work_dir.to_path_buf();
    smol::unblock(move || {
        for rel in remove {
            if !rel.starts_with("volumes/roles/") || !is_plain_relative(&rel) {
                log(&format!("agent: refusing to remove volume dir {rel:?}"));
                continue;
            }
            match std::fs::remove_dir_all(work_dir.join(&rel)) {
                Ok(()) => log(&format!("agent: removed destroyed volume {rel}")),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => log(&format!("agent: cannot remove volume dir {rel}: {e}")),
            }
        }
    })
    .detach();
}

/// A volume resolved for one launch: the absolute volume directory and the link in the sandbox.
#[derive(Clone, Debug)]
pub struct SandboxLink {
    pub volume: PathBuf,
    pub link: PathBuf,
}

/// Where each of `mounts` goes in `sandbox`; a mount whose paths are not plain relative paths
/// is an error naming it.
pub fn links(
    work_dir: &Path,
    sandbox: &Path,
    mounts: &[VolumeMount],
) -> Result<Vec<SandboxLink>, String> {
    mounts
        .iter()
        .map(|m| {
            if !is_plain_relative(&m.container_path) || !is_plain_relative(&m.source) {
                return Err(format!(
                    "volume {} cannot be placed at container path {:?}",
                    m.source, m.container_path
                ));
            }
            Ok(SandboxLink {
                volume: work_dir.join(&m.source),
                link: sandbox.join(&m.container_path),
            })
        })
        .collect()
}

/// Makes each volume appear in the sandbox (blocking I/O, on the launcher thread): the volume
/// directory exists, and `<sandbox>/<container_path>` is a symbolic link to it.
pub fn link_into_sandbox(links: &[SandboxLink]) -> Result<(), String> {
    for l in links {
        std::fs::create_dir_all(&l.volume)
            .map_err(|e| format!("cannot create volume {}: {e}", l.volume.display()))?;
        if let Some(parent) = l.link.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let _ = std::fs::remove_file(&l.link);
        std::os::unix::fs::symlink(&l.volume, &l.link).map_err(|e| {
            format!(
                "cannot link volume {} at {}: {e}",
                l.volume.display(),
                l.link.display()
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_are_linked_into_a_sandbox_and_sync_stays_under_volumes() {
        let dir = std::env::temp_dir().join(format!("mesolite-vol-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sandbox = dir.join("slaves/s/runs/c");
        std::fs::create_dir_all(&sandbox).unwrap();
        let mount = VolumeMount {
            source: "volumes/roles/web/v1".into(),
            container_path: "data/db".into(),
            read_only: false,
        };
        let l = links(&dir, &sandbox, std::slice::from_ref(&mount)).unwrap();
        link_into_sandbox(&l).unwrap();
        std::fs::write(sandbox.join("data/db/file"), b"kept").unwrap();
        assert_eq!(
            std::fs::read(dir.join("volumes/roles/web/v1/file")).unwrap(),
            b"kept"
        );
        // Removing the sandbox leaves the volume's data.
        std::fs::remove_dir_all(&sandbox).unwrap();
        assert!(dir.join("volumes/roles/web/v1/file").exists());
        // Escaping paths are refused.
        let bad = VolumeMount {
            container_path: "../out".into(),
            ..mount
        };
        assert!(links(&dir, &sandbox, &[bad]).is_err());
        sync(&dir, &["volumes/roles/../../etc".to_string()], Vec::new());
        assert!(!dir.join("etc").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
