//! The sync log and run history. The log is keyed by time, so the newest entries are a reverse
//! scan and retention is a range delete.

use super::keys::log_key;
use super::records::{LogEntry, RunRecord};
use super::{Store, StoreError, codec};

/// `meta` key of the newest run id taken (`reserve_run_id`).
const LAST_RUN_ID: &[u8] = b"last_run_id";

impl Store {
    /// Appends one entry; returns its key (time + sequence), usable as a "since" marker.
    pub fn append_log(&self, entry: &LogEntry) -> Result<[u8; 16], StoreError> {
        let key = log_key(entry.at.timestamp_millis(), self.db.generate_id()?);
        self.synclog.insert(key, codec::encode(entry)?)?;
        Ok(key)
    }

    /// The newest `limit` entries, oldest first.
    pub fn log_tail(&self, limit: usize) -> Result<Vec<LogEntry>, StoreError> {
        Ok(self
            .log_tail_keyed(limit)?
            .into_iter()
            .map(|(_, entry)| entry)
            .collect())
    }

    /// The newest `limit` entries with their keys (for `log_after`), oldest first; only those
    /// are decoded.
    pub fn log_tail_keyed(&self, limit: usize) -> Result<Vec<([u8; 16], LogEntry)>, StoreError> {
        let mut entries = self
            .synclog
            .iter()
            .rev()
            .take(limit)
            .map(|item| {
                let (key, value) = item?;
                Ok((fixed_key(&key), codec::decode("synclog", &key, &value)?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        entries.reverse();
        Ok(entries)
    }

    /// Entries strictly after `after` (a key from `append_log`, or None for all), oldest first.
    pub fn log_after(
        &self,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<([u8; 16], LogEntry)>, StoreError> {
        let range = match after {
            Some(key) => self
                .synclog
                .range::<&[u8], _>((std::ops::Bound::Excluded(key), std::ops::Bound::Unbounded)),
            None => self.synclog.iter(),
        };
        range
            .take(limit)
            .map(|item| {
                let (key, value) = item?;
                Ok((fixed_key(&key), codec::decode("synclog", &key, &value)?))
            })
            .collect()
    }

    pub fn log_len(&self) -> usize {
        self.synclog.len()
    }

    /// Retention: drops entries older than `max_age`, then the oldest beyond `max_entries`.
    /// Returns how many were removed.
    pub fn prune_log(
        &self,
        max_age: chrono::Duration,
        max_entries: usize,
    ) -> Result<usize, StoreError> {
        let cutoff = log_key((chrono::Utc::now() - max_age).timestamp_millis(), 0);
        let mut removed = 0;
        let old: Vec<_> = self
            .synclog
            .range(..cutoff)
            .keys()
            .collect::<Result<_, _>>()?;
        for key in old {
            self.synclog.remove(key)?;
            removed += 1;
        }
        let excess = self.synclog.len().saturating_sub(max_entries);
        let oldest: Vec<_> = self
            .synclog
            .iter()
            .keys()
            .take(excess)
            .collect::<Result<_, _>>()?;
        for key in oldest {
            self.synclog.remove(key)?;
            removed += 1;
        }
        self.flush()?;
        Ok(removed)
    }

    pub fn put_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        self.runs
            .insert(run.id.to_be_bytes(), codec::encode(run)?)?;
        self.flush()
    }

    /// The id of the next run: one more than the newest run started (1 for the first), so
    /// runs count 1, 2, 3… Not `generate_id`, which operations use: shared, and moved on by
    /// a million every time the store is reopened (sled persists its counter in steps). A dry
    /// run records nothing, so it shows the id the next real run will have.
    pub fn next_run_id(&self) -> Result<u64, StoreError> {
        let recorded = match self.runs.last()? {
            Some((key, _)) => {
                let mut id = [0u8; 8];
                if key.len() == 8 {
                    id.copy_from_slice(&key);
                }
                u64::from_be_bytes(id)
            }
            None => 0,
        };
        let started: u64 = self.get(&self.meta, "meta", LAST_RUN_ID)?.unwrap_or(0);
        Ok(recorded.max(started) + 1)
    }

    /// Takes the next run id for a run that writes: kept (and flushed) at once, so a run that
    /// ends without its record (killed) never shares its id, and its log entries, with the next.
    pub fn reserve_run_id(&self) -> Result<u64, StoreError> {
        let id = self.next_run_id()?;
        self.meta.insert(LAST_RUN_ID, codec::encode(&id)?)?;
        self.flush()?;
        Ok(id)
    }

    /// A small JSON value in `meta` under `key` (what the engine keeps between processes).
    pub fn put_meta_json<T: serde::Serialize>(
        &self,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        self.meta.insert(key, codec::encode(value)?)?;
        Ok(())
    }

    pub fn meta_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        self.get(&self.meta, "meta", key.as_bytes())
    }

    /// The newest `limit` runs, newest first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        self.runs
            .iter()
            .rev()
            .take(limit)
            .map(|item| {
                let (key, value) = item?;
                codec::decode("runs", &key, &value)
            })
            .collect()
    }
}

/// A log key as the fixed array `log_after` takes back (all zero for a key of another length,
/// which no entry written by `append_log` has).
fn fixed_key(key: &[u8]) -> [u8; 16] {
    let mut fixed = [0u8; 16];
    if key.len() == 16 {
        fixed.copy_from_slice(key);
    }
    fixed
}
