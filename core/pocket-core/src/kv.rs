//! The per-run key-value store configured by a workflow's `store:` block.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pocket_value::Value;

use crate::workflow::StoreSpec;

/// Default cap on entries when the workflow sets none.
pub const DEFAULT_MAX_ENTRIES: usize = 10_000;

/// Who an entry belongs to. Each owner has keys of its own: no key one owner
/// can write names an entry of another (a plugin named `a:b` cannot reach
/// plugin `a`'s key `b:c`, nor a workflow's `set` node any plugin's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    /// The workflow's own `set` and `get` nodes.
    Workflow,
    /// The plugin of this name (its host calls `kv.get` / `kv.set`).
    Plugin(&'a str),
}

impl Owner<'_> {
    /// The map key of this owner's `key`: a tag, and for a plugin its name
    /// length-prefixed, so that the split between owner and key is unambiguous.
    fn slot(self, key: &str) -> String {
        match self {
            Owner::Workflow => format!("w:{key}"),
            Owner::Plugin(name) => format!("p:{}:{name}:{key}", name.len()),
        }
    }
}

/// A small in-memory store shared by the nodes of one run. Entries expire
/// after the store's `ttl`; beyond `max_entries`, the oldest entry is evicted.
/// Keys are per [`Owner`]; a plugin's entries can be held to a byte budget
/// ([`KvStore::set_within`]).
#[derive(Debug)]
pub struct KvStore {
    max_entries: usize,
    ttl: Option<Duration>,
    entries: Mutex<Entries>,
}

/// A plugin's `kv_set` would go past one of its quotas; nothing was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KvFull {
    /// Its entries would take more bytes than `kv_bytes`.
    #[error(
        "kv_bytes limit exceeded: storing it would take the plugin's entries to {needed} bytes, over its limit of {limit} bytes"
    )]
    Bytes {
        /// The plugin's bytes with the value stored.
        needed: u64,
        /// Its budget.
        limit: u64,
    },
    /// It would hold more keys than `kv_keys`.
    #[error("kv_keys limit exceeded: the plugin already holds {limit} keys in this run")]
    Keys {
        /// Its budget.
        limit: u64,
    },
    /// The value alone is larger than `kv_value_bytes`.
    #[error("kv_value_bytes limit exceeded: the value takes more than {limit} bytes")]
    Value {
        /// Its budget.
        limit: u64,
    },
}

/// What one plugin's entries in a store may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvQuota {
    /// Bytes of all its entries.
    pub bytes: u64,
    /// Number of its keys.
    pub keys: u64,
    /// Bytes of one value.
    pub value_bytes: u64,
}

/// What one plugin's entries take now.
#[derive(Debug, Clone, Copy, Default)]
struct Usage {
    bytes: u64,
    keys: u64,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<String, Entry>,
    /// Insertion counter, to find the oldest entry.
    clock: u64,
    /// What each plugin's entries take ([`Value::approx_size`] plus keys).
    usage: HashMap<Arc<str>, Usage>,
}

#[derive(Debug)]
struct Entry {
    value: Value,
    written: Instant,
    seq: u64,
    /// The plugin that wrote it, whose bytes it counts against.
    plugin: Option<Arc<str>>,
    size: u64,
}

impl Entries {
    /// Removes the entry in `slot`, giving its bytes back to its plugin.
    fn remove(&mut self, slot: &str) -> Option<Entry> {
        let entry = self.map.remove(slot)?;
        if let Some(plugin) = &entry.plugin
            && let Some(usage) = self.usage.get_mut(plugin)
        {
            usage.bytes = usage.bytes.saturating_sub(entry.size);
            usage.keys = usage.keys.saturating_sub(1);
        }
        Some(entry)
    }
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

    /// The value `owner` stored under `key`, unless absent or expired.
    pub fn get(&self, owner: Owner<'_>, key: &str) -> Option<Value> {
        let slot = owner.slot(key);
        let mut entries = self.lock();
        let expired = entries.map.get(&slot).is_some_and(|e| self.is_expired(e));
        if expired {
            entries.remove(&slot);
            return None;
        }
        entries.map.get(&slot).map(|e| e.value.clone())
    }

    /// Stores `value` under `owner`'s `key`, evicting the oldest entry when full.
    pub fn set(&self, owner: Owner<'_>, key: &str, value: Value) {
        // Without a budget nothing is refused.
        let _ = self.insert(owner, key, value, None);
    }

    /// [`KvStore::set`], refused when `owner` is a plugin whose entries
    /// would then take more than `max_bytes`.
    pub fn set_within(&self, owner: Owner<'_>, key: &str, value: Value, quota: &KvQuota) -> Result<(), KvFull> {
        self.insert(owner, key, value, Some(quota))
    }

    fn insert(&self, owner: Owner<'_>, key: &str, value: Value, quota: Option<&KvQuota>) -> Result<(), KvFull> {
        let slot = owner.slot(key);
        let plugin = match owner {
            Owner::Plugin(name) => Some(name),
            Owner::Workflow => None,
        };
        // Measured only as far as the budget: a huge value is refused quickly.
        let value_limit = quota.map_or(u64::MAX, |q| q.value_bytes.min(q.bytes));
        let value_size = value.approx_size(value_limit);
        if let Some(quota) = quota
            && value_size > quota.value_bytes
        {
            return Err(KvFull::Value {
                limit: quota.value_bytes,
            });
        }
        let size = (slot.len() as u64).saturating_add(value_size);
        let mut entries = self.lock();
        if let (Some(quota), Some(name)) = (quota, plugin) {
            let current = entries.usage.get(name).copied().unwrap_or_default();
            let replaced = entries.map.get(&slot);
            let needed = current
                .bytes
                .saturating_sub(replaced.map_or(0, |e| e.size))
                .saturating_add(size);
            if needed > quota.bytes {
                return Err(KvFull::Bytes {
                    needed,
                    limit: quota.bytes,
                });
            }
            if replaced.is_none() && current.keys >= quota.keys {
                return Err(KvFull::Keys { limit: quota.keys });
            }
        }
        if entries.remove(&slot).is_none() && entries.map.len() >= self.max_entries {
            let expired: Vec<String> = entries
                .map
                .iter()
                .filter(|(_, e)| self.is_expired(e))
                .map(|(k, _)| k.clone())
                .collect();
            for key in expired {
                entries.remove(&key);
            }
            if entries.map.len() >= self.max_entries
                && let Some(oldest) = entries.map.iter().min_by_key(|(_, e)| e.seq).map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.clock += 1;
        let seq = entries.clock;
        let plugin: Option<Arc<str>> = plugin.map(Arc::from);
        if let Some(name) = &plugin {
            let usage = entries.usage.entry(name.clone()).or_default();
            usage.bytes += size;
            usage.keys += 1;
        }
        entries.map.insert(
            slot,
            Entry {
                value,
                written: Instant::now(),
                seq,
                plugin,
                size,
            },
        );
        Ok(())
    }

    /// Removes `owner`'s `key`; returns whether it was present.
    pub fn delete(&self, owner: Owner<'_>, key: &str) -> bool {
        self.lock().remove(&owner.slot(key)).is_some()
    }

    fn is_expired(&self, entry: &Entry) -> bool {
        self.ttl.is_some_and(|ttl| entry.written.elapsed() >= ttl)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let kv = KvStore::new(&StoreSpec::default());
        kv.set(Owner::Workflow, "a", Value::from(1));
        assert_eq!(kv.get(Owner::Workflow, "a"), Some(Value::from(1)));
        assert!(kv.delete(Owner::Workflow, "a"));
        assert_eq!(kv.get(Owner::Workflow, "a"), None);
    }

    #[test]
    fn owners_never_see_each_others_keys() {
        let kv = KvStore::new(&StoreSpec::default());
        kv.set(Owner::Plugin("a"), "b:c", Value::from("a's"));
        // Plugin `a:b`'s key `c` and the workflow's key `p:1:a:b:c` are other entries.
        assert_eq!(kv.get(Owner::Plugin("a:b"), "c"), None);
        assert_eq!(kv.get(Owner::Workflow, "p:1:a:b:c"), None);
        kv.set(Owner::Plugin("a:b"), "c", Value::from("a:b's"));
        assert_eq!(kv.get(Owner::Plugin("a"), "b:c"), Some(Value::from("a's")));
        assert!(!kv.delete(Owner::Workflow, "p:1:a:b:c"));
    }

    fn bytes(bytes: u64) -> KvQuota {
        KvQuota {
            bytes,
            keys: u64::MAX,
            value_bytes: u64::MAX,
        }
    }

    #[test]
    fn a_plugins_entries_stay_within_its_byte_budget() {
        let kv = KvStore::new(&StoreSpec::default());
        let p = Owner::Plugin("p");
        let quota = bytes(1000);
        kv.set_within(p, "a", Value::from("x".repeat(600)), &quota).unwrap();
        let err = kv.set_within(p, "b", Value::from("y".repeat(600)), &quota).unwrap_err();
        assert!(
            matches!(err, KvFull::Bytes { needed, limit: 1000 } if needed > 1000),
            "{err}"
        );
        // Replacing an entry counts only the new value; deleting frees its bytes.
        kv.set_within(p, "a", Value::from("z".repeat(700)), &quota).unwrap();
        assert!(kv.delete(p, "a"));
        kv.set_within(p, "b", Value::from("y".repeat(600)), &quota).unwrap();
        // Another plugin has a budget of its own.
        kv.set_within(Owner::Plugin("q"), "a", Value::from("q".repeat(600)), &quota)
            .unwrap();
    }

    #[test]
    fn a_plugins_key_count_and_value_size_are_capped() {
        let kv = KvStore::new(&StoreSpec::default());
        let p = Owner::Plugin("p");
        let quota = KvQuota {
            bytes: 1 << 20,
            keys: 3,
            value_bytes: 100,
        };
        for key in ["a", "b", "c"] {
            kv.set_within(p, key, Value::from(1), &quota).unwrap();
        }
        let err = kv.set_within(p, "d", Value::from(1), &quota).unwrap_err();
        assert_eq!(err, KvFull::Keys { limit: 3 });
        kv.set_within(p, "a", Value::from(2), &quota).unwrap();
        let err = kv.set_within(p, "a", Value::from("x".repeat(200)), &quota).unwrap_err();
        assert_eq!(err, KvFull::Value { limit: 100 });
        assert!(kv.delete(p, "c"));
        kv.set_within(p, "d", Value::from(1), &quota).unwrap();
    }

    #[test]
    fn a_value_sharing_one_subtree_a_million_times_is_refused_quickly() {
        let leaf = Value::from("x".repeat(1000));
        let mut value = leaf;
        for _ in 0..20 {
            value = Value::array([value.clone(), value]);
        }
        let kv = KvStore::new(&StoreSpec::default());
        assert!(kv.set_within(Owner::Plugin("p"), "k", value, &bytes(1 << 20)).is_err());
    }

    #[test]
    fn the_oldest_entry_is_evicted_when_full() {
        let kv = KvStore::new(&StoreSpec {
            max_entries: Some(2),
            ttl: None,
        });
        kv.set(Owner::Workflow, "a", Value::from(1));
        kv.set(Owner::Workflow, "b", Value::from(2));
        kv.set(Owner::Workflow, "c", Value::from(3));
        assert_eq!(kv.get(Owner::Workflow, "a"), None);
        assert_eq!(kv.get(Owner::Workflow, "c"), Some(Value::from(3)));
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let kv = KvStore::new(&StoreSpec {
            max_entries: None,
            ttl: Some(Duration::from_millis(1)),
        });
        kv.set(Owner::Workflow, "a", Value::from(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(kv.get(Owner::Workflow, "a"), None);
    }
}
