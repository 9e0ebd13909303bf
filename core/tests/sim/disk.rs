//! The simulated master disk: the registry log as framed bytes (and a snapshot), with torn and
//! failed writes, and the replay a restarted master recovers from.

use mesolite_core::registry::{
    apply_entry, decode_records, decode_snapshot, encode_record_into, encode_snapshot, Entry,
    Registry,
};
use mesolite_core::rng::Rng;

/// What a write that did not complete left on the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leftover {
    Nothing,
    /// A prefix of the record: a torn append.
    Torn,
    /// The whole record, although the write was never reported durable.
    Whole,
}

/// The registry files of the one simulated master.
#[derive(Debug)]
pub struct Disk {
    pub cluster_id: String,
    pub snapshot: Option<Vec<u8>>,
    pub log: Vec<u8>,
    /// Registry replayed from the current bytes, with the log length it was computed for.
    cache: Option<(usize, usize, Registry)>,
}

impl Disk {
    pub fn new(cluster_id: &str) -> Disk {
        Disk {
            cluster_id: cluster_id.to_string(),
            snapshot: None,
            log: Vec::new(),
            cache: None,
        }
    }

    /// The framed log record of `entry` (what an append writes).
    pub fn record(entry: &Entry) -> Vec<u8> {
        let mut out = Vec::new();
        encode_record_into(entry, &mut out).expect("registry entries always encode");
        out
    }

    /// A durable append: the whole record.
    pub fn append(&mut self, record: &[u8]) {
        self.log.extend_from_slice(record);
    }

    /// A write that was interrupted or failed leaves nothing, a prefix, or all of its bytes.
    pub fn leave(&mut self, record: &[u8], what: Leftover, rng: &mut Rng) {
        match what {
            Leftover::Nothing => {}
            Leftover::Torn => {
                let n = rng.below(record.len() as u64) as usize;
                self.log.extend_from_slice(&record[..n]);
            }
            Leftover::Whole => self.log.extend_from_slice(record),
        }
    }

    /// Writes a snapshot of `reg` and starts an empty log, as the platform store does.
    pub fn write_snapshot(&mut self, reg: &Registry) {
        self.snapshot = Some(encode_snapshot(reg).expect("registry snapshots encode"));
        self.log.clear();
    }

    /// Drops a torn last record, as the operator is told to do by the platform store.
    /// Returns how many bytes were dropped.
    pub fn truncate_torn_tail(&mut self) -> Result<usize, String> {
        let (_, valid) = decode_records(&self.log).map_err(|e| format!("registry log {e}"))?;
        let dropped = self.log.len() - valid;
        self.log.truncate(valid);
        Ok(dropped)
    }

    /// The registry the bytes on disk hold (ignoring a torn tail), replayed with core's
    /// `apply_entry` exactly as a restart does.
    pub fn replay(&mut self) -> Result<Registry, String> {
        let snap_len = self.snapshot.as_ref().map_or(0, Vec::len);
        if let Some((s, l, reg)) = &self.cache {
            if *s == snap_len && *l == self.log.len() {
                return Ok(reg.clone());
            }
        }
        let mut reg = match &self.snapshot {
            Some(bytes) => decode_snapshot(bytes).map_err(|e| format!("snapshot: {e}"))?,
            None => Registry::new_cluster(&self.cluster_id),
        };
        let (entries, _) = decode_records(&self.log).map_err(|e| format!("registry log {e}"))?;
        for entry in entries {
            let index = entry.index;
            apply_entry(&mut reg, entry)
                .map_err(|e| format!("entry {index} does not replay: {e}"))?;
        }
        self.cache = Some((snap_len, self.log.len(), reg.clone()));
        Ok(reg)
    }
}
