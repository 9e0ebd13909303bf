//! The work directory: its default location, preparing it, and the exclusive lock that keeps two
//! mesolite processes from sharing one.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rustix::fs::{Access, FlockOperation};

use crate::error::{ConfigError, WorkDirProblem};

/// A directory that exists, is a directory, and that this process can create files in.
/// The path is absolute (canonicalized when prepared).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkDir {
    path: PathBuf,
}

fn work_dir_error(path: &Path, problem: WorkDirProblem) -> ConfigError {
    ConfigError::WorkDir {
        path: path.to_path_buf(),
        problem,
    }
}

impl WorkDir {
    /// Creates `path` with its parents if missing, and checks that it is a writable directory.
    pub fn prepare(path: impl AsRef<Path>) -> Result<WorkDir, ConfigError> {
        let path = path.as_ref();
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_dir() => {
                return Err(work_dir_error(path, WorkDirProblem::NotADirectory))
            }
            Ok(_) => {}
            Err(_) => std::fs::create_dir_all(path)
                .map_err(|e| work_dir_error(path, WorkDirProblem::Create(e)))?,
        }
        // `access` asks the kernel with this process's real ids; it also reports a read-only mount.
        rustix::fs::access(path, Access::WRITE_OK | Access::EXEC_OK)
            .map_err(|e| work_dir_error(path, WorkDirProblem::NotWritable(e.into())))?;
        let path = std::fs::canonicalize(path)
            .map_err(|e| work_dir_error(path, WorkDirProblem::Create(e)))?;
        Ok(WorkDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the exclusive lock on this directory; see [`WorkDirLock::acquire`].
    pub fn lock(&self) -> Result<WorkDirLock, ConfigError> {
        WorkDirLock::acquire(&self.path)
    }
}

/// The default work dir for `mode` (`master`, `agent`, `standalone`): `/var/lib/mesolite/<mode>` for
/// root; otherwise `$XDG_STATE_HOME/mesolite/<mode>` when that is an absolute path, else
/// `$HOME/.local/state/mesolite/<mode>`. The directory is not created here.
pub fn default_work_dir(
    mode: &str,
    is_root: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PathBuf, ConfigError> {
    if is_root {
        return Ok(Path::new("/var/lib/mesolite").join(mode));
    }
    let non_empty = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(state) = non_empty("XDG_STATE_HOME").filter(|s| Path::new(s).is_absolute()) {
        return Ok(Path::new(&state).join("mesolite").join(mode));
    }
    let home = non_empty("HOME").ok_or(ConfigError::NoDefaultWorkDir)?;
    Ok(Path::new(&home).join(".local/state/mesolite").join(mode))
}

/// Whether this process runs as root (effective uid 0).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// An exclusive `flock` on `<work dir>/lock`, held until this value is dropped (normally for the
/// life of the process). The lock file holds the owner's pid, which a refused process reports.
///
/// The lock belongs to the open file description: a second `acquire` in the same process (a new
/// `open`) is refused like one from another process, and the kernel releases the lock when the
/// holder exits, however it exits. The file is opened close-on-exec, so tasks and executors started
/// by this process never hold it.
#[derive(Debug)]
pub struct WorkDirLock {
    /// Kept open only to hold the lock.
    _file: File,
    dir: PathBuf,
}

impl WorkDirLock {
    /// Locks `dir` (which must exist) or reports who holds it:
    /// `--work-dir /x: already in use by another mesolite process (pid N)`.
    pub fn acquire(dir: &Path) -> Result<WorkDirLock, ConfigError> {
        let lock_error = |e: std::io::Error| work_dir_error(dir, WorkDirProblem::LockFile(e));
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("lock"))
            .map_err(lock_error)?;
        match rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                let mut text = String::new();
                // The holder may not have written its pid yet; then none is shown.
                let pid = file
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.trim().parse().ok());
                return Err(work_dir_error(dir, WorkDirProblem::InUse { pid }));
            }
            Err(e) => return Err(lock_error(e.into())),
        }
        file.set_len(0).map_err(lock_error)?;
        file.seek(SeekFrom::Start(0)).map_err(lock_error)?;
        writeln!(file, "{}", std::process::id()).map_err(lock_error)?;
        file.flush().map_err(lock_error)?;
        Ok(WorkDirLock {
            _file: file,
            dir: dir.to_path_buf(),
        })
    }

    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
