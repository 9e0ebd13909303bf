//! The agent driver's part of sandbox garbage collection: removing the directories the agent
//! names, measuring the work dir's disk, and finding leftover sandboxes at start. What to remove
//! and when is the core agent's decision (`mesolite_core::agent` `gc.rs`).

use crate::agent_driver::AgentDriver;
use crate::master_driver::log;
use mesolite_core::time::Duration;
use mesolite_platform::host;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::time::SystemTime;

/// Why a directory could not be removed; each message names the path.
#[derive(Debug)]
pub enum RemoveError {
    /// The path is not a relative path under `slaves/`.
    Refused(String),
    Io {
        path: PathBuf,
        err: std::io::Error,
    },
}

impl std::fmt::Display for RemoveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RemoveError::Refused(p) => {
                write!(f, "refusing to remove '{p}': not a directory under slaves/")
            }
            RemoveError::Io { path, err } => {
                write!(f, "cannot remove {}: {err}", path.display())
            }
        }
    }
}

/// `<work_dir>/<path>` when `path` is relative, made of plain names only, and inside `slaves/`
/// (never `slaves/` itself).
pub fn gc_target(work_dir: &Path, path: &str) -> Result<PathBuf, RemoveError> {
    let p = Path::new(path);
    let plain = p.components().all(|c| matches!(c, Component::Normal(_)));
    let mut names = p.components();
    let under_slaves = names.next() == Some(Component::Normal("slaves".as_ref()));
    if !plain || !under_slaves || names.next().is_none() {
        return Err(RemoveError::Refused(path.to_string()));
    }
    Ok(work_dir.join(p))
}

/// Removes the directory tree `<work_dir>/<path>` (blocking); a path already gone is fine.
pub fn remove_tree(work_dir: &Path, path: &str) -> Result<(), RemoveError> {
    let target = gc_target(work_dir, path)?;
    match std::fs::remove_dir_all(&target) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(RemoveError::Io { path: target, err }),
    }
}

/// Starts removing `<work_dir>/<path>` on a blocking thread; a failure is logged.
pub fn spawn_remove(work_dir: &Path, path: String) {
    let work_dir = work_dir.to_path_buf();
    smol::unblock(move || match remove_tree(&work_dir, &path) {
        Ok(()) => log(&format!("removed sandbox dir {path}")),
        Err(e) => log(&format!("sandbox gc: {e}")),
    })
    .detach();
}

/// Every run dir `slaves/*/frameworks/*/executors/*/runs/*` under `work_dir` (real directories
/// only: the `latest` links are skipped), relative to `work_dir`, with its age from its mtime
/// (zero when the mtime is in the future). Unreadable directories are skipped.
pub fn scan_run_dirs(work_dir: &Path) -> Vec<(String, Duration)> {
    let now = SystemTime::now();
    let mut level = vec![String::from("slaves")];
    for name in ["frameworks", "executors", "runs"] {
        let mut next = Vec::new();
        for dir in &level {
            for child in subdirs(work_dir, dir) {
                next.push(format!("{dir}/{child}/{name}"));
            }
        }
        level = next;
    }
    let mut found = Vec::new();
    for runs in &level {
        for child in subdirs(work_dir, runs) {
            let rel = format!("{runs}/{child}");
            let Ok(meta) = std::fs::symlink_metadata(work_dir.join(&rel)) else {
                continue;
            };
            let age = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .map(|d| Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
                .unwrap_or(Duration::ZERO);
            found.push((rel, age));
        }
    }
    found
}

/// Names of the real (not symlinked) subdirectories of `<work_dir>/<dir>` with UTF-8 names.
fn subdirs(work_dir: &Path, dir: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(work_dir.join(dir)) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect()
}

/// Finds leftover run dirs once at start and hands them to the agent.
pub async fn startup_scan_task(d: Rc<AgentDriver>) {
    let dir = d.work_dir.clone();
    let found = smol::unblock(move || scan_run_dirs(&dir)).await;
    let now = d.clock.now();
    d.agent.borrow_mut().handle_found_sandboxes(now, found);
    d.drain();
}

/// Measures the work dir's filesystem every `disk_watch_interval` and tells the agent.
pub async fn disk_watch_task(d: Rc<AgentDriver>) {
    let interval = d.agent.borrow().config().disk_watch_interval;
    let interval = std::time::Duration::from_millis(interval.as_millis().max(1));
    let mut failing = false;
    loop {
        smol::Timer::after(interval).await;
        let dir = d.work_dir.clone();
        match smol::unblock(move || host::disk_usage(&dir)).await {
            Ok(used) => {
                failing = false;
                // `used` is within 0..=1, so this fits.
                let permille = (used * 1000.0).round().clamp(0.0, 1000.0) as u16;
                let now = d.clock.now();
                d.agent.borrow_mut().handle_disk_usage(now, permille);
                d.drain();
            }
            Err(e) if !failing => {
                failing = true;
                log(&format!(
                    "cannot measure the disk of {}: {e}; sandbox gc goes by --gc-delay alone",
                    d.work_dir.display()
                ));
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dirs_under_slaves_are_removed() {
        let root = std::env::temp_dir().join(format!("mesolite-gc-{}", std::process::id()));
        let run = root.join("slaves/a/frameworks/f/executors/e/runs/c");
        std::fs::create_dir_all(&run).expect("mkdir");
        std::fs::write(run.join("stdout"), b"x").expect("write");
        std::fs::write(root.join("keep"), b"x").expect("write");
        std::os::unix::fs::symlink("c", run.with_file_name("latest")).expect("symlink");
        let found = scan_run_dirs(&root);
        assert_eq!(
            found.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
            vec!["slaves/a/frameworks/f/executors/e/runs/c"]
        );
        for bad in ["", "slaves", "/slaves/a", "slaves/../keep", "meta/x"] {
            assert!(
                matches!(remove_tree(&root, bad), Err(RemoveError::Refused(_))),
                "{bad}"
            );
        }
        remove_tree(&root, "slaves/a/frameworks/f/executors/e").expect("removed");
        assert!(!run.exists());
        assert!(root.join("slaves/a/frameworks/f").is_dir());
        remove_tree(&root, "slaves/a/frameworks/f/executors/e").expect("already gone is fine");
        assert!(root.join("keep").exists());
        std::fs::remove_dir_all(&root).expect("cleanup");
    }
}
