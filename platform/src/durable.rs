//! File operations shared by the master's registry store and the agent's checkpoint: an
//! exclusive directory lock, atomic whole-file replacement, directory fsync, and a synced append
//! that cuts a failed write back off. Errors name the file and the action; each store wraps them.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// An I/O error on one file, with what was being done to it.
#[derive(Debug)]
pub(crate) struct FileError {
    pub path: PathBuf,
    pub action: &'static str,
    pub source: io::Error,
}

fn file_err<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(io::Error) -> FileError + 'a {
    move |source| FileError {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// Why a directory could not be locked.
#[derive(Debug)]
pub(crate) enum LockError {
    /// Another process holds the lock.
    Locked,
    Io(FileError),
}

/// Takes an exclusive, non-blocking `flock` on `dir/name` (created if absent); the lock lasts as
/// long as the returned file is open.
pub(crate) fn lock_dir(dir: &Path, name: &str) -> Result<File, LockError> {
    let path = dir.join(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| LockError::Io(file_err(&path, "open")(e)))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(file),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(LockError::Locked),
        Err(e) => Err(LockError::Io(file_err(&path, "lock")(e.into()))),
    }
}

pub(crate) fn file_len(path: &Path) -> Result<u64, FileError> {
    Ok(fs::metadata(path).map_err(file_err(path, "inspect"))?.len())
}

/// Writes `bytes` to `dir/tmp`, fsyncs it, renames it to `path` and fsyncs `dir`.
pub(crate) fn replace_file(
    dir: &Path,
    tmp: &str,
    path: &Path,
    bytes: &[u8],
) -> Result<(), FileError> {
    let tmp_path = dir.join(tmp);
    let mut file = File::create(&tmp_path).map_err(file_err(&tmp_path, "create"))?;
    file.write_all(bytes)
        .map_err(file_err(&tmp_path, "write"))?;
    file.sync_all().map_err(file_err(&tmp_path, "fsync"))?;
    drop(file);
    fs::rename(&tmp_path, path).map_err(file_err(path, "rename a new file onto"))?;
    sync_dir(dir)
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), FileError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(file_err(dir, "fsync directory"))
}

pub(crate) fn open_append(path: &Path) -> Result<File, FileError> {
    OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(file_err(path, "open for append"))
}

/// Appends `bytes` to `log` (whose length is `len`) with one write and one `fdatasync`. On
/// failure it first tries to cut the partial write off (back to `len`) so the next start finds a
/// clean log; the caller must refuse further writes either way.
pub(crate) fn append_synced(
    log: &mut File,
    len: u64,
    path: &Path,
    bytes: &[u8],
) -> Result<(), FileError> {
    let written = log.write_all(bytes).and_then(|()| log.sync_data());
    if let Err(e) = written {
        let _ = log.set_len(len).and_then(|()| log.sync_data());
        return Err(file_err(path, "append to")(e));
    }
    Ok(())
}
