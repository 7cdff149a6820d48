//! The value types: [`Value`] and its containers, [`Array`] and
//! [`Object`], and the [`Map`] an object holds. They are mutually recursive
//! (an object holds a map of values), so they are defined here together;
//! `Map`'s methods are in [`map`], below them.

mod map;

use std::fmt;

use abi_stable::StableAbi;
use abi_stable::std_types::{RArc, RVec};

pub use map::INDEXED_FROM;

use crate::pretty::CappedPretty;
use crate::{Number, Str, VALUE_SIZE, with_stack};

/// A JSON value whose clones share their contents.
///
/// Its layout is stable (abi_stable's `StableAbi`): native plugins receive and
/// return values as they are, without conversion, and every container and
/// string is freed by the code of the library that allocated it.
#[repr(u8)]
#[derive(Clone, Default, StableAbi)]
pub enum Value {
    /// JSON `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number: an integer or a float.
    Number(Number),
    /// A string, shared between clones.
    String(Str),
    /// An array, shared between clones.
    Array(Array),
    /// An object, shared between clones; keys keep insertion order.
    Object(Object),
}

/// A shared JSON array. Dropping the last reference to a deep tree is iterative.
#[repr(transparent)]
#[derive(Clone, StableAbi)]
pub struct Array(RArc<RVec<Value>>);

/// A shared JSON object. Dropping the last reference to a deep tree is iterative.
#[repr(transparent)]
#[derive(Clone, StableAbi)]
pub struct Object(RArc<Map>);

impl Array {
    /// Mutable access to the elements, copying them first if this array is shared.
    pub fn make_mut(&mut self) -> &mut RVec<Value> {
        RArc::make_mut(&mut self.0)
    }

    /// Whether two arrays are the same allocation (cheap identity test).
    pub fn ptr_eq(&self, other: &Array) -> bool {
        std::ptr::eq(&raw const *self.0, &raw const *other.0)
    }
}

impl Object {
    /// Mutable access to the entries, copying them first if this object is shared.
    pub fn make_mut(&mut self) -> &mut Map {
        RArc::make_mut(&mut self.0)
    }

    /// Whether two objects are the same allocation (cheap identity test).
    pub fn ptr_eq(&self, other: &Object) -> bool {
        std::ptr::eq(&raw const *self.0, &raw const *other.0)
    }
}

impl Default for Array {
    fn default() -> Array {
        Array(RArc::new(RVec::new()))
    }
}

impl Default for Object {
    fn default() -> Object {
        Object(RArc::new(Map::new()))
    }
}

impl std::ops::Deref for Array {
    type Target = RVec<Value>;
    fn deref(&self) -> &RVec<Value> {
        &self.0
    }
}

impl std::ops::Deref for Object {
    type Target = Map;
    fn deref(&self) -> &Map {
        &self.0
    }
}

impl From<Vec<Value>> for Array {
    fn from(items: Vec<Value>) -> Self {
        Array(RArc::new(items.into()))
    }
}

impl From<RVec<Value>> for Array {
    fn from(items: RVec<Value>) -> Self {
        Array(RArc::new(items))
    }
}

impl From<Map> for Object {
    fn from(map: Map) -> Self {
        Object(RArc::new(map))
    }
}

impl FromIterator<Value> for Array {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Self {
        Array::from(iter.into_iter().collect::<Vec<Value>>())
    }
}

impl<K: Into<Str>> FromIterator<(K, Value)> for Object {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        Object::from(iter.into_iter().collect::<Map>())
    }
}

impl Drop for Array {
    fn drop(&mut self) {
        if let Some(items) = RArc::get_mut(&mut self.0)
            && items.iter().any(Value::is_container)
        {
            drop_iteratively(std::mem::take(items).into_vec());
        }
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        if let Some(map) = RArc::get_mut(&mut self.0)
            && map.values().any(Value::is_container)
        {
            drop_iteratively(map.take_values().collect());
        }
    }
}

/// Drops a forest of values without recursion: every uniquely owned container
/// is emptied onto an explicit stack before it is dropped, so each drop is shallow.
fn drop_iteratively(mut pending: Vec<Value>) {
    while let Some(value) = pending.pop() {
        match value {
            Value::Array(mut array) => {
                if let Some(items) = RArc::get_mut(&mut array.0) {
                    pending.extend(std::mem::take(items));
                }
            }
            Value::Object(mut object) => {
                if let Some(map) = RArc::get_mut(&mut object.0) {
                    pending.extend(map.take_values());
                }
            }
            _ => {}
        }
    }
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<Str>) -> Value {
        Value::String(s.into())
    }

    /// An object built from `(key, value)` pairs.
    pub fn object<K: Into<Str>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(entries.into_iter().collect())
    }

    /// An array built from values.
    pub fn array(items: impl IntoIterator<Item = Value>) -> Value {
        Value::Array(items.into_iter().collect())
    }

    /// An empty object.
    pub fn empty_object() -> Value {
        Value::Object(Object::default())
    }

    /// Whether this is an array or an object.
    pub fn is_container(&self) -> bool {
        matches!(self, Value::Array(_) | Value::Object(_))
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as an `i64`, if it is an integer (or a float with no fraction).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The number as an `f64`, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(n.as_f64()),
            _ => None,
        }
    }

    /// The array, if this is one.
    pub fn as_array(&self) -> Option<&Array> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The value under `key`, if this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|o| o.get(key))
    }

    /// The element at `index`, if this is an array that long.
    pub fn get_index(&self, index: usize) -> Option<&Value> {
        self.as_array().and_then(|a| a.get(index))
    }

    /// JSON's name for this value's type: `null`, `boolean`, `number`, `string`, `array`, `object`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// How deeply the value nests (a scalar is 0, `[1]` is 1), counting no
    /// further than `limit + 1`. Iterative: safe at any depth.
    pub fn depth(&self, limit: usize) -> usize {
        let mut deepest = 0;
        let mut pending = vec![(self, 0usize)];
        while let Some((value, depth)) = pending.pop() {
            deepest = deepest.max(depth);
            if deepest > limit {
                break;
            }
            match value {
                Value::Array(items) => pending.extend(items.iter().map(|item| (item, depth + 1))),
                Value::Object(map) => pending.extend(map.iter().map(|(_, item)| (item, depth + 1))),
                _ => {}
            }
        }
        deepest
    }

    /// About how many bytes this value takes written out as JSON (16 per
    /// scalar and container, plus string and key lengths), counting shared
    /// parts once per reference, as serializing would. Stops counting once
    /// past `limit`, so that a value sharing one subtree many times over is
    /// measured in time proportional to `limit`, not to its logical size.
    /// Iterative: safe at any depth.
    pub fn approx_size(&self, limit: u64) -> u64 {
        let mut total: u64 = 0;
        let mut pending = vec![self];
        while let Some(value) = pending.pop() {
            total = total.saturating_add(VALUE_SIZE);
            match value {
                Value::String(s) => total = total.saturating_add(s.len() as u64),
                Value::Array(items) => pending.extend(items.iter()),
                Value::Object(map) => {
                    for (key, item) in map.iter() {
                        total = total.saturating_add(key.len() as u64);
                        pending.push(item);
                    }
                }
                Value::Null | Value::Bool(_) | Value::Number(_) => {}
            }
            if total > limit {
                return total;
            }
        }
        total
    }

    /// Truthiness as Go templates define it: `false`, `0`, `null`, and empty
    /// strings, arrays and objects are false; everything else is true.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64() != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
        }
    }

    /// Compact JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a Value always serializes")
    }

    /// Indented JSON text, laid out as `serde_json::to_string_pretty` does
    /// except that indentation stops growing past [`MAX_INDENT_LEVELS`]
    /// levels, so the text stays linear in the value's size at any depth.
    pub fn to_json_pretty(&self) -> String {
        use serde::Serialize;
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, CappedPretty::default());
        self.serialize(&mut serializer).expect("a Value always serializes");
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// Parses JSON text, with no limit on nesting depth.
    pub fn from_json(text: &str) -> Result<Value, serde_json::Error> {
        use serde::Deserialize;
        let mut de = serde_json::Deserializer::from_str(text);
        de.disable_recursion_limit();
        let value = Value::deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }

    /// The text a template prints for this value: strings as they are, `null`
    /// as `<no value>` (as Go prints a missing value), everything else as JSON.
    pub fn to_display_string(&self) -> String {
        match self {
            Value::String(s) => s.to_string(),
            Value::Null => "<no value>".to_string(),
            other => other.to_json(),
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => {
                a.ptr_eq(b) || with_stack(|| a.len() == b.len() && a.iter().eq(b.iter()))
            }
            (Value::Object(a), Value::Object(b)) => {
                a.ptr_eq(b)
                    || with_stack(|| a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v == w)))
            }
            _ => false,
        }
    }
}

impl fmt::Display for Value {
    /// Compact JSON (`{:#}` gives indented JSON).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = if f.alternate() {
            self.to_json_pretty()
        } else {
            self.to_json()
        };
        f.write_str(&text)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl fmt::Debug for Array {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| fmt::Error)?)
    }
}

/// An object's entries: keys are unique and keep insertion order (inserting
/// an existing key replaces its value in place, as `IndexMap` does).
#[repr(C)]
#[derive(StableAbi, Clone, Default)]
pub struct Map {
    entries: RVec<Entry>,
    /// The positions of `entries` sorted by key, once there are
    /// [`INDEXED_FROM`] of them; empty before.
    sorted: RVec<u32>,
}

/// One key and its value, as a [`Map`] stores them.
#[repr(C)]
#[derive(StableAbi, Clone)]
pub struct Entry {
    key: Str,
    value: Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MAX_INDENT_LEVELS;

    fn nest(depth: usize) -> Value {
        let mut v = Value::string("leaf");
        for _ in 0..depth {
            v = Value::object([("input", v)]);
        }
        v
    }

    #[test]
    fn clones_share_their_contents() {
        let a = Value::object([("k", Value::array([Value::from(1), Value::from(2)]))]);
        let b = a.clone();
        assert!(a.as_object().unwrap().ptr_eq(b.as_object().unwrap()));
    }

    #[test]
    fn make_mut_copies_only_when_shared() {
        let mut a: Array = [Value::from(1)].into_iter().collect();
        let b = a.clone();
        a.make_mut().push(Value::from(2));
        assert_eq!(a.len(), 2);
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn depth_counts_nesting_and_stops_at_the_limit() {
        assert_eq!(Value::from(1).depth(10), 0);
        assert_eq!(Value::from_json(r#"{"a": [1, {"b": []}]}"#).unwrap().depth(10), 3);
        assert_eq!(nest(100_000).depth(1000), 1001);
    }

    #[test]
    fn pretty_printing_matches_serde_json_and_stays_linear_when_deep() {
        let small = Value::from_json(r#"{"a": [1, {"b": []}, {}], "c": "d"}"#).unwrap();
        let expected = serde_json::to_string_pretty(&serde_json::Value::from(&small)).unwrap();
        assert_eq!(small.to_json_pretty(), expected);
        // 16,000 levels: uncapped indentation would print about 256 MB.
        let depth = 16_000;
        let text = nest(depth).to_json_pretty();
        assert!(
            text.len() < depth * (4 * MAX_INDENT_LEVELS + 20),
            "{} bytes",
            text.len()
        );
        assert_eq!(Value::from_json(&text).unwrap(), nest(depth));
    }

    #[test]
    fn deep_values_drop_print_parse_and_compare_on_a_small_stack() {
        // 64 KiB of stack: recursion of even a few hundred levels would overflow it.
        std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(|| {
                let deep = nest(100_000);
                let text = deep.to_json();
                assert!(text.starts_with("{\"input\":{\"input\":"));
                let parsed = Value::from_json(&text).unwrap();
                assert_eq!(parsed, deep);
                let other = nest(100_000);
                assert_eq!(parsed, other);
                let as_json: serde_json::Value = (&deep).into();
                let back = Value::from(&as_json);
                assert_eq!(back, deep);
                // serde_json's own `Value` drops recursively: leak it rather
                // than measure serde_json's stack use.
                std::mem::forget(as_json);
                drop((deep, parsed, other, back));
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn truthiness_follows_go_templates() {
        assert!(!Value::Null.is_truthy());
        assert!(!Value::from(0).is_truthy());
        assert!(!Value::string("").is_truthy());
        assert!(!Value::empty_object().is_truthy());
        assert!(Value::from(0.5).is_truthy());
        assert!(Value::string("false").is_truthy());
    }

    #[test]
    fn object_keys_keep_insertion_order() {
        let v = Value::from_json(r#"{"b":1,"a":2}"#).unwrap();
        assert_eq!(v.to_json(), r#"{"b":1,"a":2}"#);
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        assert!(Value::from_json("{} x").is_err());
    }
}
