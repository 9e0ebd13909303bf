//! The registry's files: a snapshot and an append-only log in `<work_dir>/registry/`, each
//! write fsynced before it is reported durable; opening replays them and refuses any damage.
//!
//! Layout of the registry directory:
//! - `snapshot`: the whole registry (core's snapshot format), replaced atomically
//!   (write `snapshot.tmp`, fsync, rename, fsync the directory).
//! - `log`: framed entries appended after the snapshot, one fsync (`fdatasync`) per entry.
//!   After a snapshot the log is replaced by an empty one the same atomic way.
//! - `lock`: held with `flock` while a `Store` is open, so two masters never share a directory.
//!
//! A damaged file (bad magic, bad checksum, impossible length, or a torn last record) is refused
//! with an error naming the file and the byte offset; it is never replaced by an empty registry.
//! A torn last record can only come from an append interrupted before its fsync, so it was never
//! acknowledged: the error tells the operator the length to truncate the log to.

use crate::durable;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use mesolite_core::registry::{
    apply_entry, decode_records, decode_snapshot, encode_record_into, encode_snapshot, EncodeError,
    Entry, LogError, Registry, ReplayError, SnapshotError, MAX_SNAPSHOT_BYTES, SNAPSHOT_HEADER_LEN,
};

const SNAPSHOT: &str = "snapshot";
const SNAPSHOT_TMP: &str = "snapshot.tmp";
const LOG: &str = "log";
const LOG_TMP: &str = "log.tmp";
const LOCK: &str = "lock";

/// The registry directory under a master's work directory.
pub fn registry_dir(work_dir: &Path) -> PathBuf {
    work_dir.join("registry")
}

/// A fresh cluster id: 16 hex characters from the OS random source.
pub fn random_cluster_id() -> io::Result<String> {
    let mut bytes = [0u8; 8];
    File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Why the registry files could not be read or written. Every message names the file.
#[derive(Debug)]
pub enum StoreError {
    /// A system call failed.
    Io {
        path: PathBuf,
        action: &'static str,
        source: io::Error,
    },
    /// Another process (or `Store`) holds the directory's lock.
    Locked {
        path: PathBuf,
    },
    /// A whole record of the log is wrong.
    CorruptLog {
        path: PathBuf,
        error: LogError,
    },
    /// The log ends inside a record.
    TornLog {
        path: PathBuf,
        valid_len: u64,
        file_len: u64,
    },
    CorruptSnapshot {
        path: PathBuf,
        error: SnapshotError,
    },
    /// A log entry does not apply to the snapshot.
    Replay {
        path: PathBuf,
        error: ReplayError,
    },
    /// The log holds entries but there is no snapshot to apply them to.
    LogWithoutSnapshot {
        path: PathBuf,
    },
    /// The snapshot exists but the log does not.
    MissingLog {
        path: PathBuf,
    },
    /// A snapshot would drop log entries it does not contain.
    SnapshotBehindLog {
        path: PathBuf,
        snapshot: u64,
        log: u64,
    },
    Encode {
        path: PathBuf,
        error: EncodeError,
    },
    /// An earlier write failed; the store accepts no more writes.
    Poisoned {
        path: PathBuf,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io {
                path,
                action,
                source,
            } => {
                write!(f, "cannot {action} {}: {source}", path.display())
            }
            StoreError::Locked { path } => {
                write!(
                    f,
                    "registry directory {} is in use by another process",
                    path.display()
                )
            }
            StoreError::CorruptLog { path, error } => {
                write!(f, "registry log {} is {error}", path.display())
            }
            StoreError::TornLog {
                path,
                valid_len,
                file_len,
            } => write!(
                f,
                "registry log {} ends with a torn record at byte {valid_len} (file is {file_len} \
                 bytes); an append was interrupted before it was acknowledged: truncate the file \
                 to {valid_len} bytes to drop it",
                path.display()
            ),
            StoreError::CorruptSnapshot { path, error } => {
                write!(
                    f,
                    "registry snapshot {} is corrupt: {error}",
                    path.display()
                )
            }
            StoreError::Replay { path, error } => {
                write!(
                    f,
                    "registry log {} does not apply to its snapshot: {error}",
                    path.display()
                )
            }
            StoreError::LogWithoutSnapshot { path } => write!(
                f,
                "registry log {} holds entries but the snapshot next to it is missing",
                path.display()
            ),
            StoreError::MissingLog { path } => {
                write!(
                    f,
                    "registry log {} is missing although a snapshot exists",
                    path.display()
                )
            }
            StoreError::SnapshotBehindLog {
                path,
                snapshot,
                log,
            } => write!(
                f,
                "refusing to write registry snapshot {} at version {snapshot}: the log already \
                 holds entry {log}",
                path.display()
            ),
            StoreError::Encode { path, error } => {
                write!(f, "cannot encode a record for {}: {error}", path.display())
            }
            StoreError::Poisoned { path } => write!(
                f,
                "registry log {} refuses writes after an earlier write failed",
                path.display()
            ),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<durable::FileError> for StoreError {
    fn from(e: durable::FileError) -> Self {
        StoreError::Io {
            path: e.path,
            action: e.action,
            source: e.source,
        }
    }
}

impl StoreError {
    fn locking(dir: &Path, e: durable::LockError) -> Self {
        match e {
            durable::LockError::Locked => StoreError::Locked {
                path: dir.to_path_buf(),
            },
            durable::LockError::Io(e) => e.into(),
        }
    }
}

fn io_err<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// The open registry files. Writes are synchronous: when `append` returns `Ok`, the entry is on
/// disk.
pub struct Store {
    dir: PathBuf,
    log_path: PathBuf,
    snapshot_path: PathBuf,
    log: File,
    /// Bytes of whole records in the log.
    log_len: u64,
    /// Index of the last entry in the log or snapshot.
    last_index: u64,
    /// Entries in the log past the snapshot.
    entries_since_snapshot: u64,
    /// Reused encoding buffer.
    buf: Vec<u8>,
    poisoned: bool,
    created: bool,
    /// Held for the `flock` on `lock`; released when the store is dropped.
    _lock: File,
}

impl Store {
    /// Opens the registry in `dir` (usually [`registry_dir`]), replaying snapshot and log. An
    /// empty or missing directory starts a new cluster with a [`random_cluster_id`].
    pub fn open(dir: &Path) -> Result<(Store, Registry), StoreError> {
        Store::open_with(dir, random_cluster_id)
    }

    /// [`Store::open`] with the cluster id of a new registry chosen by `new_cluster_id` (called
    /// only if the directory holds no registry).
    pub fn open_with(
        dir: &Path,
        new_cluster_id: impl FnOnce() -> io::Result<String>,
    ) -> Result<(Store, Registry), StoreError> {
        fs::create_dir_all(dir).map_err(io_err(dir, "create directory"))?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            durable::sync_dir(parent)?;
        }
        let lock = durable::lock_dir(dir, LOCK).map_err(|e| StoreError::locking(dir, e))?;
        let log_path = dir.join(LOG);
        let snapshot_path = dir.join(SNAPSHOT);
        for tmp in [SNAPSHOT_TMP, LOG_TMP] {
            let path = dir.join(tmp);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&path, "remove")(e)),
            }
        }
        let (registry, log_len, entries, created) = if exists(&snapshot_path)? {
            let registry = read_snapshot(&snapshot_path)?;
            if !exists(&log_path)? {
                return Err(StoreError::MissingLog { path: log_path });
            }
            let (registry, log_len, entries) = replay_log(&log_path, registry)?;
            (registry, log_len, entries, false)
        } else {
            // A new registry: the log is made first and the snapshot last, so a crash in between
            // leaves an empty log and no snapshot, which is still "no registry".
            if exists(&log_path)? && durable::file_len(&log_path)? > 0 {
                return Err(StoreError::LogWithoutSnapshot { path: log_path });
            }
            let id = new_cluster_id().map_err(io_err(dir, "choose a cluster id for"))?;
            let registry = Registry::new_cluster(&id);
            durable::replace_file(dir, LOG_TMP, &dir.join(LOG), &[])?;
            let bytes = encode_snapshot(&registry).map_err(|error| StoreError::Encode {
                path: snapshot_path.clone(),
                error,
            })?;
            durable::replace_file(dir, SNAPSHOT_TMP, &dir.join(SNAPSHOT), &bytes)?;
            (registry, 0, 0, true)
        };
        let log = durable::open_append(&log_path)?;
        let store = Store {
            dir: dir.to_path_buf(),
            log_path,
            snapshot_path,
            log,
            log_len,
            last_index: registry.version,
            entries_since_snapshot: entries,
            buf: Vec::with_capacity(64 * 1024),
            poisoned: false,
            created,
            _lock: lock,
        };
        Ok((store, registry))
    }

    /// Appends `entry` to the log and waits until it is on disk (`fdatasync`). After a failure
    /// the store refuses further writes (the master must exit); it first tries to cut the
    /// partial record off so the next start finds a clean log.
    pub fn append(&mut self, entry: &Entry) -> Result<(), StoreError> {
        if self.poisoned {
            return Err(StoreError::Poisoned {
                path: self.log_path.clone(),
            });
        }
        self.buf.clear();
        encode_record_into(entry, &mut self.buf).map_err(|error| StoreError::Encode {
            path: self.log_path.clone(),
            error,
        })?;
        if let Err(e) =
            durable::append_synced(&mut self.log, self.log_len, &self.log_path, &self.buf)
        {
            self.poisoned = true;
            return Err(e.into());
        }
        self.log_len += self.buf.len() as u64;
        self.last_index = entry.index;
        self.entries_since_snapshot += 1;
        Ok(())
    }

    /// Replaces the snapshot with `registry` and starts an empty log. `registry` must contain
    /// every entry appended so far (the registrar's durable registry with no write in flight).
    /// Each step is atomic: a crash leaves either the old snapshot and log, the new snapshot and
    /// the old log (whose entries it already contains and replay skips), or the new pair.
    pub fn write_snapshot(&mut self, registry: &Registry) -> Result<(), StoreError> {
        if self.poisoned {
            return Err(StoreError::Poisoned {
                path: self.log_path.clone(),
            });
        }
        if registry.version < self.last_index {
            return Err(StoreError::SnapshotBehindLog {
                path: self.snapshot_path.clone(),
                snapshot: registry.version,
                log: self.last_index,
            });
        }
        let bytes = encode_snapshot(registry).map_err(|error| StoreError::Encode {
            path: self.snapshot_path.clone(),
            error,
        })?;
        let result =
            durable::replace_file(&self.dir, SNAPSHOT_TMP, &self.dir.join(SNAPSHOT), &bytes)
                .and_then(|()| durable::replace_file(&self.dir, LOG_TMP, &self.log_path, &[]))
                .and_then(|()| durable::open_append(&self.log_path))
                .map_err(StoreError::from);
        match result {
            Ok(log) => {
                self.log = log;
                self.log_len = 0;
                self.last_index = registry.version;
                self.entries_since_snapshot = 0;
                Ok(())
            }
            Err(e) => {
                self.poisoned = true;
                Err(e)
            }
        }
    }

    /// Entries in the log past the snapshot (for `Registrar::set_entries_since_snapshot`).
    pub fn entries_since_snapshot(&self) -> u64 {
        self.entries_since_snapshot
    }

    /// Whether `open` created a new registry (and cluster id).
    pub fn created(&self) -> bool {
        self.created
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    pub fn snapshot_path(&self) -> &Path {
        &self.snapshot_path
    }

    /// Bytes of the log (Mesos metric `registrar/registry_size_bytes` adds the snapshot's).
    pub fn log_len(&self) -> u64 {
        self.log_len
    }
}

fn exists(path: &Path) -> Result<bool, StoreError> {
    path.try_exists().map_err(io_err(path, "inspect"))
}

fn read_snapshot(path: &Path) -> Result<Registry, StoreError> {
    let len = durable::file_len(path)?;
    let max = (SNAPSHOT_HEADER_LEN + MAX_SNAPSHOT_BYTES) as u64;
    if len > max {
        let error = SnapshotError::TooLarge(len);
        return Err(StoreError::CorruptSnapshot {
            path: path.to_path_buf(),
            error,
        });
    }
    let bytes = fs::read(path).map_err(io_err(path, "read"))?;
    decode_snapshot(&bytes).map_err(|error| StoreError::CorruptSnapshot {
        path: path.to_path_buf(),
        error,
    })
}

/// Applies the log's entries past the snapshot's version; returns the registry, the log length
/// and the number of entries applied.
fn replay_log(path: &Path, mut registry: Registry) -> Result<(Registry, u64, u64), StoreError> {
    let bytes = fs::read(path).map_err(io_err(path, "read"))?;
    let (entries, valid_len) = decode_records(&bytes).map_err(|error| StoreError::CorruptLog {
        path: path.to_path_buf(),
        error,
    })?;
    if valid_len != bytes.len() {
        return Err(StoreError::TornLog {
            path: path.to_path_buf(),
            valid_len: valid_len as u64,
            file_len: bytes.len() as u64,
        });
    }
    let mut applied = 0;
    for entry in entries {
        // A crash between a snapshot's rename and the log's rotation leaves entries that the
        // snapshot already holds.
        if entry.index <= registry.version {
            continue;
        }
        apply_entry(&mut registry, entry).map_err(|error| StoreError::Replay {
            path: path.to_path_buf(),
            error,
        })?;
        applied += 1;
    }
    Ok((registry, bytes.len() as u64, applied))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesolite_core::ids::AgentId;
    use mesolite_core::registry::{AgentRecord, Op, Registrar, WriteResult};
    use mesolite_core::time::WallTime;
    use std::fs::OpenOptions;

    /// A fresh directory under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let path = std::env::temp_dir().join(format!(
                "mesolite-store-{name}-{}-{nanos}",
                std::process::id()
            ));
            fs::create_dir_all(&path).unwrap();
            TempDir(path.join("registry"))
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            if let Some(parent) = self.0.parent() {
                let _ = fs::remove_dir_all(parent);
            }
        }
    }

    fn fixed_id() -> io::Result<String> {
        Ok("c0ffee".to_string())
    }

    fn admit(host: &str) -> Op {
        Op::AdmitAgent {
            info: AgentRecord {
                hostname: host.to_string(),
                ip: "10.1.2.3".to_string(),
                port: 5051,
                resources_text: "cpus:4;mem:2048".to_string(),
                attributes_text: "rack:a".to_string(),
            },
        }
    }

    /// Submits `ops` one batch at a time through a registrar and the store; returns the
    /// registrar's durable registry.
    fn write_batches(store: &mut Store, registry: Registry, batches: &[Vec<Op>]) -> Registry {
        let mut r = Registrar::new(registry, 100);
        for (i, batch) in batches.iter().enumerate() {
            for op in batch {
                r.submit(op.clone(), i as u64).unwrap();
            }
            let entry = r.poll_write().expect("an entry");
            store.append(entry).unwrap();
            let index = entry.index;
            r.handle_write_done(index, WriteResult::Durable).unwrap();
            while r.poll_completion().is_some() {}
        }
        r.registry().clone()
    }

    fn some_batches() -> Vec<Vec<Op>> {
        vec![
            vec![Op::Recover {
                leader: "10.0.0.1:5050".into(),
            }],
            vec![admit("a"), admit("b")],
            vec![Op::MarkUnreachable {
                id: AgentId::from("c0ffee-S0"),
                at: WallTime { unix_nanos: 42 },
            }],
            vec![admit("c")],
        ]
    }

    fn open_err(dir: &Path) -> String {
        match Store::open_with(dir, fixed_id) {
            Ok(_) => panic!("a damaged registry in {} was accepted", dir.display()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_new_directory_gets_a_random_cluster_id() {
        let dir = TempDir::new("new");
        let (store, reg) = Store::open(&dir.0).unwrap();
        assert!(store.created());
        assert_eq!(reg.cluster_id.len(), 16);
        assert!(reg.cluster_id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(reg.version, 0);
        drop(store);
        let (store, again) = Store::open(&dir.0).unwrap();
        assert!(!store.created());
        assert_eq!(again, reg, "the cluster id must survive a restart");
        assert_ne!(random_cluster_id().unwrap(), reg.cluster_id);
    }

    #[test]
    fn appended_entries_survive_a_reopen() {
        let dir = TempDir::new("reopen");
        let (mut store, reg) = Store::open_with(&dir.0, fixed_id).unwrap();
        let written = write_batches(&mut store, reg, &some_batches());
        assert_eq!(written.version, 4);
        assert_eq!(written.admitted.len(), 2);
        drop(store);
        let (store, reopened) = Store::open_with(&dir.0, fixed_id).unwrap();
        assert_eq!(reopened, written);
        assert_eq!(store.entries_since_snapshot(), 4);
        assert_eq!(
            store.log_len(),
            durable::file_len(store.log_path()).unwrap()
        );
    }

    #[test]
    fn a_snapshot_and_the_log_after_it_replay_together() {
        let dir = TempDir::new("snapshot");
        let (mut store, reg) = Store::open_with(&dir.0, fixed_id).unwrap();
        let batches = some_batches();
        let mid = write_batches(&mut store, reg, &batches[..2]);
        store.write_snapshot(&mid).unwrap();
        assert_eq!(durable::file_len(store.log_path()).unwrap(), 0);
        let end = write_batches(&mut store, mid.clone(), &batches[2..]);
        // A snapshot older than the log would drop entries.
        assert!(matches!(
            store.write_snapshot(&mid),
            Err(StoreError::SnapshotBehindLog { .. })
        ));
        drop(store);
        let (store, reopened) = Store::open_with(&dir.0, fixed_id).unwrap();
        assert_eq!(reopened, end);
        assert_eq!(store.entries_since_snapshot(), 2);
    }

    #[test]
    fn a_crash_between_snapshot_and_log_rotation_replays_correctly() {
        let dir = TempDir::new("rotation");
        let (mut store, reg) = Store::open_with(&dir.0, fixed_id).unwrap();
        let batches = some_batches();
        let mid = write_batches(&mut store, reg, &batches[..2]);
        drop(store);
        // The new snapshot is in place but the old log with entries 1 and 2 is still there.
        fs::write(dir.0.join(SNAPSHOT), encode_snapshot(&mid).unwrap()).unwrap();
        let (mut store, reopened) = Store::open_with(&dir.0, fixed_id).unwrap();
        assert_eq!(reopened, mid);
        let end = write_batches(&mut store, reopened, &batches[2..]);
        drop(store);
        assert_eq!(Store::open_with(&dir.0, fixed_id).unwrap().1, end);
    }

    #[test]
    fn a_flipped_byte_in_the_log_is_refused_naming_the_file() {
        let dir = TempDir::new("flip");
        let (mut store, reg) = Store::open_with(&dir.0, fixed_id).unwrap();
        write_batches(&mut store, reg, &some_batches());
        let log = store.log_path().to_path_buf();
        drop(store);
        let mut bytes = fs::read(&log).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        fs::write(&log, &bytes).unwrap();
        let msg = open_err(&dir.0);
        assert!(
            msg.starts_with(&format!(
                "registry log {} is corrupt at byte ",
                log.display()
            )),
            "{msg}"
        );
        assert!(
            msg.contains("checksum mismatch") || msg.contains("record length"),
            "{msg}"
        );
    }

    #[test]
    fn a_log_cut_inside_a_record_is_refused_with_the_length_to_cut_to() {
        let dir = TempDir::new("torn");
        let (mut store, reg) = Store::open_with(&dir.0, fixed_id).unwrap();
        let batches = some_batches();
        let three = write_batches(&mut store, reg, &batches[..3]);
        let good_len = store.log_len();
        write_batches(&mut store, three.clone(), &batches[3..]);
        let log = store.log_path().to_path_buf();
        drop(store);
        let file = OpenOptions::new().write(true).open(&log).unwrap();
        file.set_len(good_len + 5).unwrap();
        drop(file);
        let msg = open_err(&dir.0);
        let expected = format!(
            "registry log {} ends with a torn record at byte {good_len} (file is {} bytes)",
            log.display(),
            good_len + 5
        );
        assert!(msg.starts_with(&expected), "{msg}");
        // Following the message's advice recovers every acknowledged entry.
        OpenOptions::new()
            .write(true)
            .open(&log)
            .unwrap()
            .set_len(good_len)
            .unwrap();
        assert_eq!(Store::open_with(&dir.0, fixed_id).unwrap().1, three);
    }

    #[test]
    fn a_corrupt_or_missing_snapshot_is_refused() {
        let dir = TempDir::new("badsnap");
        let (mut store, reg) = Store::open_with(&dir.0, fixed_id).unwrap();
        let end = write_batches(&mut store, reg, &some_batches());
        store.write_snapshot(&end).unwrap();
        let snap = store.snapshot_path().to_path_buf();
        drop(store);
        let good = fs::read(&snap).unwrap();
        let mut bad = good.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0x80;
        fs::write(&snap, &bad).unwrap();
        let msg = open_err(&dir.0);
        assert_eq!(
            msg,
            format!(
                "registry snapshot {} is corrupt: checksum mismatch",
                snap.display()
            )
        );
        fs::write(&snap, &good[..good.len() / 2]).unwrap();
        assert!(open_err(&dir.0).contains("truncated"));
        fs::write(&snap, b"").unwrap();
        assert!(open_err(&dir.0).contains(&snap.display().to_string()));
        // No snapshot but a log with entries: refused, not replaced by a new cluster.
        fs::write(&snap, &good).unwrap();
        let (mut store, reg) = Store::open_with(&dir.0, fixed_id).unwrap();
        write_batches(&mut store, reg, &some_batches()[..1]);
        drop(store);
        fs::remove_file(&snap).unwrap();
        assert!(open_err(&dir.0).contains("the snapshot next to it is missing"));
        fs::write(&snap, &good).unwrap();
        fs::remove_file(dir.0.join(LOG)).unwrap();
        assert!(open_err(&dir.0).contains("is missing although a snapshot exists"));
    }

    #[test]
    fn two_stores_cannot_share_a_directory() {
        let dir = TempDir::new("lock");
        let (first, _) = Store::open_with(&dir.0, fixed_id).unwrap();
        assert!(open_err(&dir.0).contains("is in use by another process"));
        drop(first);
        assert!(Store::open_with(&dir.0, fixed_id).is_ok());
    }
}
