//! The per-run key-value store configured by a workflow's `store:` block.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pocket_value::Value;

use crate::workflow::StoreSpec;

/// Default cap on entries when the workflow sets none.
pub const DEFAULT_MAX_ENTRIES: usize = 10_000;

/// A small in-memory store shared by the nodes of one run. Entries expire
/// after the store's `ttl`; beyond `max_entries`, the oldest entry is evicted.
#[derive(Debug)]
pub struct KvStore {
    max_entries: usize,
    ttl: Option<Duration>,
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<String, Entry>,
    /// Insertion counter, to find the oldest entry.
    clock: u64,
}

#[derive(Debug)]
struct Entry {
    value: Value,
    written: Instant,
    seq: u64,
}

impl KvStore {
    /// A store with the workflow's limits.
    pub fn new(spec: &StoreSpec) -> KvStore {
        KvStore {
            max_entries: spec.max_entries.unwrap_or(DEFAULT_MAX_ENTRIES).max(1),
            ttl: spec.ttl,
            entries: Mutex::default(),
        }
    }

    /// The value under `key`, unless absent or expired.
    pub fn get(&self, key: &str) -> Option<Value> {
        let mut entries = self.lock();
        let expired = entries.map.get(key).is_some_and(|e| self.is_expired(e));
        if expired {
            entries.map.remove(key);
            return None;
        }
        entries.map.get(key).map(|e| e.value.clone())
    }

    /// Stores `value` under `key`, evicting the oldest entry when full.
    pub fn set(&self, key: &str, value: Value) {
        let mut entries = self.lock();
        if !entries.map.contains_key(key) && entries.map.len() >= self.max_entries {
            entries
                .map
                .retain(|_, e| self.ttl.is_none_or(|ttl| e.written.elapsed() < ttl));
            if entries.map.len() >= self.max_entries
                && let Some(oldest) = entries.map.iter().min_by_key(|(_, e)| e.seq).map(|(k, _)| k.clone())
            {
                entries.map.remove(&oldest);
            }
        }
        entries.clock += 1;
        let seq = entries.clock;
        entries.map.insert(
            key.to_string(),
            Entry {
                value,
                written: Instant::now(),
                seq,
            },
        );
    }

    /// Removes `key`; returns whether it was present.
    pub fn delete(&self, key: &str) -> bool {
        self.lock().map.remove(key).is_some()
    }

    fn is_expired(&self, entry: &Entry) -> bool {
        self.ttl.is_some_and(|ttl| entry.written.elapsed() >= ttl)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let kv = KvStore::new(&StoreSpec::default());
        kv.set("a", Value::from(1));
        assert_eq!(kv.get("a"), Some(Value::from(1)));
        assert!(kv.delete("a"));
        assert_eq!(kv.get("a"), None);
    }

    #[test]
    fn the_oldest_entry_is_evicted_when_full() {
        let kv = KvStore::new(&StoreSpec {
            max_entries: Some(2),
            ttl: None,
        });
        kv.set("a", Value::from(1));
        kv.set("b", Value::from(2));
        kv.set("c", Value::from(3));
        assert_eq!(kv.get("a"), None);
        assert_eq!(kv.get("c"), Some(Value::from(3)));
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let kv = KvStore::new(&StoreSpec {
            max_entries: None,
            ttl: Some(Duration::from_millis(1)),
        });
        kv.set("a", Value::from(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(kv.get("a"), None);
    }
}
