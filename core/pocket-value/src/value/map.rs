//! [`Map`]'s methods: an object's entries, in insertion order, with a
//! stable layout.
//!
//! Small objects (most of what flows between nodes) are a plain vector of
//! entries searched linearly: building one allocates the vector and nothing
//! else, no hash table. Past [`INDEXED_FROM`] entries the map also keeps
//! their positions sorted by key, so lookups stay O(log n) however many keys
//! a hostile input brings. The sorted index needs no hash function: two
//! builds of this crate (the host's and a native plugin's) that share one map
//! agree on it by construction.

use abi_stable::std_types::RVec;

use super::{Entry, Map, Value};
use crate::Str;

/// From this many entries on, a map keeps a sorted index of its keys.
pub const INDEXED_FROM: usize = 12;

/// An entry's position as the sorted index stores it.
#[expect(
    clippy::cast_possible_truncation,
    reason = "2^32 entries (at least 160 GiB) cannot be allocated before one is indexed"
)]
fn index(position: usize) -> u32 {
    position as u32
}

impl Entry {
    fn parts(&self) -> (&Str, &Value) {
        (&self.key, &self.value)
    }

    fn into_parts(self) -> (Str, Value) {
        (self.key, self.value)
    }
}

impl Map {
    /// An empty map.
    pub fn new() -> Map {
        Map::default()
    }

    /// An empty map with room for `capacity` entries.
    pub fn with_capacity(capacity: usize) -> Map {
        Map {
            entries: RVec::with_capacity(capacity),
            sorted: RVec::new(),
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).ok().map(|at| &self.entries[at].value)
    }

    /// The value under `key`, to change it in place.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.position(key).ok().map(|at| &mut self.entries[at].value)
    }

    /// The stored key equal to `key`, and its value.
    pub fn get_key_value(&self, key: &str) -> Option<(&Str, &Value)> {
        self.position(key).ok().map(|at| self.entries[at].parts())
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// The entry at `index` in insertion order.
    pub fn get_index(&self, index: usize) -> Option<(&Str, &Value)> {
        self.entries.get(index).map(Entry::parts)
    }

    /// Sets `key` to `value`, returning the value it replaces. A new key goes
    /// last; an existing one keeps its place. A new key in a large map moves
    /// part of the index (4 bytes per entry): build large maps by collecting.
    pub fn insert(&mut self, key: impl Into<Str>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.position(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.entries[at].value, value)),
            Err(slot) => {
                self.push_new(key, value, slot);
                None
            }
        }
    }

    /// Removes `key`, moving the entries after it up one place; its value.
    pub fn shift_remove(&mut self, key: &str) -> Option<Value> {
        let at = self.position(key).ok()?;
        let removed = self.entries.remove(at);
        if self.entries.len() < INDEXED_FROM {
            self.sorted.clear();
        } else {
            let at = index(at);
            self.sorted.retain(|&position| position != at);
            for position in &mut self.sorted {
                if *position > at {
                    *position -= 1;
                }
            }
        }
        Some(removed.value)
    }

    /// Keeps the entries for which `keep` says yes, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&Str, &mut Value) -> bool) {
        let before = self.entries.len();
        let mut entries = std::mem::take(&mut self.entries).into_vec();
        entries.retain_mut(|entry| keep(&entry.key, &mut entry.value));
        self.entries = entries.into();
        if self.entries.len() != before {
            self.reindex();
        }
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.sorted.clear();
    }

    /// The entries in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Str, &Value)> + ExactSizeIterator {
        self.entries.iter().map(Entry::parts)
    }

    /// The entries in order, values changeable.
    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = (&Str, &mut Value)> + ExactSizeIterator {
        self.entries.iter_mut().map(|entry| (&entry.key, &mut entry.value))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Str> + ExactSizeIterator {
        self.entries.iter().map(|entry| &entry.key)
    }

    /// The values in order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.entries.iter().map(|entry| &entry.value)
    }

    /// The values in order, changeable.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator {
        self.entries.iter_mut().map(|entry| &mut entry.value)
    }

    /// Takes every value out, leaving the map empty (dropping values without recursion).
    pub(crate) fn take_values(&mut self) -> impl Iterator<Item = Value> + use<> {
        self.sorted.clear();
        std::mem::take(&mut self.entries).into_iter().map(|entry| entry.value)
    }

    /// Where `key` is: `Ok(entry position)`, or `Err(where its position
    /// would go in the sorted index)` (0 when there is no index).
    fn position(&self, key: &str) -> Result<usize, usize> {
        if self.sorted.is_empty() {
            return self.entries.iter().position(|entry| entry.key == *key).ok_or(0);
        }
        self.sorted
            .binary_search_by(|&position| self.entries[position as usize].key.as_str().cmp(key))
            .map(|slot| self.sorted[slot] as usize)
    }

    /// Appends an entry whose key is not present; `slot` is its place in the
    /// sorted index, from [`Map::position`].
    fn push_new(&mut self, key: Str, value: Value, slot: usize) {
        let position = index(self.entries.len());
        self.entries.push(Entry { key, value });
        if !self.sorted.is_empty() {
            self.sorted.insert(slot, position);
        } else if self.entries.len() >= INDEXED_FROM {
            self.reindex();
        }
    }

    /// Rebuilds the sorted index from the entries (which hold unique keys).
    fn reindex(&mut self) {
        self.sorted.clear();
        if self.entries.len() >= INDEXED_FROM {
            self.sorted = self.sorted_positions().into();
        }
    }

    /// The entries' positions ordered by key, equal keys by position.
    fn sorted_positions(&self) -> Vec<u32> {
        let mut positions: Vec<u32> = (0..index(self.entries.len())).collect();
        positions.sort_by(|&a, &b| {
            let (a_key, b_key) = (&self.entries[a as usize].key, &self.entries[b as usize].key);
            a_key.as_str().cmp(b_key.as_str()).then(a.cmp(&b))
        });
        positions
    }

    /// A map of `entries` in order; a repeated key keeps its first place and
    /// its last value. Sorts once, so building a large map is O(n log n).
    fn from_entries(entries: Vec<Entry>) -> Map {
        let mut map = Map {
            entries: entries.into(),
            sorted: RVec::new(),
        };
        if map.entries.len() < INDEXED_FROM {
            map.dedupe_small();
        } else {
            map.dedupe_sorted();
        }
        map.reindex();
        map
    }

    /// Dedupes a short entry list pairwise.
    fn dedupe_small(&mut self) {
        let mut at = 1;
        while at < self.entries.len() {
            match self.entries[..at]
                .iter()
                .position(|entry| entry.key == self.entries[at].key)
            {
                Some(first) => {
                    let later = self.entries.remove(at);
                    self.entries[first].value = later.value;
                }
                None => at += 1,
            }
        }
    }

    /// Dedupes a long entry list through one sort of its positions.
    fn dedupe_sorted(&mut self) {
        let positions = self.sorted_positions();
        let mut dropped = vec![false; self.entries.len()];
        let mut moves = Vec::new();
        for run in positions.chunk_by(|&a, &b| self.entries[a as usize].key == self.entries[b as usize].key) {
            if let [first, .., last] = *run {
                moves.push((first as usize, last as usize));
                run[1..].iter().for_each(|&later| dropped[later as usize] = true);
            }
        }
        let any = !moves.is_empty();
        for (first, last) in moves {
            let value = std::mem::take(&mut self.entries[last].value);
            self.entries[first].value = value;
        }
        if any {
            let mut entries = std::mem::take(&mut self.entries).into_vec();
            let mut position = 0;
            entries.retain(|_| {
                position += 1;
                !dropped[position - 1]
            });
            self.entries = entries.into();
        }
    }
}

impl PartialEq for Map {
    /// Equal when both have the same keys with equal values, in any order.
    fn eq(&self, other: &Map) -> bool {
        self.len() == other.len() && self.iter().all(|(key, value)| other.get(key) == Some(value))
    }
}

impl std::fmt::Debug for Map {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl std::ops::Index<&str> for Map {
    type Output = Value;

    /// The value under `key`; panics if there is none, as `IndexMap` does.
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or_else(|| panic!("no key {key:?} in the map"))
    }
}

impl<K: Into<Str>> FromIterator<(K, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Map {
        Map::from_entries(
            iter.into_iter()
                .map(|(key, value)| Entry { key: key.into(), value })
                .collect(),
        )
    }
}

impl<K: Into<Str>> Extend<(K, Value)> for Map {
    /// Inserts each entry; many at once are appended and the map rebuilt in
    /// one sort, so that extending a large map stays O(n log n).
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        if iter.size_hint().0 < INDEXED_FROM {
            for (key, value) in iter {
                self.insert(key, value);
            }
            return;
        }
        let mut entries = std::mem::take(&mut self.entries).into_vec();
        entries.extend(iter.map(|(key, value)| Entry { key: key.into(), value }));
        *self = Map::from_entries(entries);
    }
}

impl IntoIterator for Map {
    type Item = (Str, Value);
    type IntoIter = std::iter::Map<abi_stable::std_types::vec::IntoIter<Entry>, fn(Entry) -> (Str, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries
            .into_iter()
            .map(Entry::into_parts as fn(Entry) -> (Str, Value))
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a Str, &'a Value);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, Entry>, fn(&'a Entry) -> (&'a Str, &'a Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries
            .iter()
            .map(Entry::parts as fn(&'a Entry) -> (&'a Str, &'a Value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(map: &Map) -> Vec<&str> {
        map.keys().map(Str::as_str).collect()
    }

    #[test]
    fn inserting_keeps_order_and_replaces_in_place() {
        let mut map = Map::new();
        assert_eq!(map.insert("b", Value::from(1)), None);
        map.insert("a", Value::from(2));
        assert_eq!(map.insert("b", Value::from(3)), Some(Value::from(1)));
        assert_eq!(keys(&map), ["b", "a"]);
        assert_eq!(map.get("b"), Some(&Value::from(3)));
    }

    #[test]
    fn large_maps_find_every_key_through_their_index_as_they_change() {
        let mut map = Map::new();
        for i in (0..500).rev() {
            map.insert(format!("k{i}"), Value::from(i));
        }
        assert_eq!(map.sorted.len(), 500);
        assert!((0..500).all(|i| map.get(&format!("k{i}")) == Some(&Value::from(i))));
        assert_eq!(map.get("k500"), None);
        for i in (0..500).step_by(2) {
            assert_eq!(map.shift_remove(&format!("k{i}")), Some(Value::from(i)));
        }
        assert_eq!(map.len(), 250);
        assert!((0..500).all(|i| map.contains_key(&format!("k{i}")) == (i % 2 == 1)));
        assert_eq!(map.get_index(0).map(|(k, _)| k.as_str()), Some("k499"));
        map.retain(|key, _| key.ends_with('1'));
        assert_eq!(map.len(), 50);
        assert!(map.sorted.len() == 50 && map.get("k11") == Some(&Value::from(11)));
        map.retain(|key, _| key.ends_with("11"));
        assert!(map.sorted.is_empty());
        assert_eq!(keys(&map), ["k411", "k311", "k211", "k111", "k11"]);
    }

    #[test]
    fn collecting_keeps_first_places_and_last_values() {
        let small: Map = [("a", 1), ("b", 2), ("a", 3)]
            .map(|(k, v)| (k, Value::from(v)))
            .into_iter()
            .collect();
        assert_eq!(keys(&small), ["a", "b"]);
        assert_eq!(small["a"], Value::from(3));
        let large: Map = (0..100).map(|i| (format!("k{}", i % 40), Value::from(i))).collect();
        assert_eq!(large.len(), 40);
        assert_eq!(
            large.get_index(0).map(|(k, v)| (k.as_str(), v.clone())),
            Some(("k0", Value::from(80)))
        );
        assert!((0..40).all(|i| large.get(&format!("k{i}")).is_some()));
        let mut extended = small.clone();
        extended.extend((0..100).rev().map(|i| (format!("k{}", i % 30), Value::from(i))));
        assert_eq!(extended.len(), 32);
        assert_eq!(keys(&extended)[..3], ["a", "b", "k9"]);
        assert_eq!(extended["k0"], Value::from(0));
        assert!((0..30).all(|i| extended.contains_key(&format!("k{i}"))));
    }

    #[test]
    fn maps_are_equal_whatever_their_order() {
        let a: Map = [("x", Value::from(1)), ("y", Value::Null)].into_iter().collect();
        let b: Map = [("y", Value::Null), ("x", Value::from(1))].into_iter().collect();
        assert_eq!(a, b);
        assert_ne!(a, Map::new());
    }
}
