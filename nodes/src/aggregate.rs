//! `aggregate`: combines several items into one: `{data, count, complete}`.
//!
//! The items are, in order of preference: the outputs of a fan-in (an object
//! keyed by source node name, the node having several incoming edges); the
//! elements of an array input; the elements of an input's `data` array (the
//! Go engine's convention); else the input itself, as one item.
//!
//! Modes: `array` collects the items; `object` keys them by the `key`
//! template rendered against each item (default: the fan-in source's name, or
//! `item_<index>`); `merge` deep-merges object items, later ones winning;
//! `concat` flattens array items into one array.
//!
//! `complete` says whether everything expected arrived: `count` items when
//! set, else every incoming branch of a fan-in. A `count` not reached fails
//! the node unless `partial` is set.

use std::sync::Arc;

use pocket_core::{ConfigError, Execution, Invocation, Map, Node, NodeError, NodeOutput, NodeSetup, Value};
use pocket_template::Template;
use pocket_value::with_stack;
use serde_json::json;

use crate::builtin::Builtin;

pub(crate) struct Aggregate;

impl Builtin for Aggregate {
    const NAME: &'static str = "aggregate";
    const DESCRIPTION: &'static str =
        "Combines a fan-in's outputs or an array's items (array/object/merge/concat): {data, count, complete}";
    const RAW_KEYS: &'static [&'static str] = &["key"];

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "properties": {
                "mode": {
                    "enum": ["array", "object", "merge", "concat"],
                    "default": "array",
                    "description": "array: collect the items; object: key them by `key`; merge: deep-merge objects; concat: flatten arrays"
                },
                "key": {"type": "string", "description": "object mode: a template rendered against each item for its key (default: the fan-in source's name, or item_<index>)"},
                "count": {"type": "integer", "minimum": 1, "description": "How many items are expected; fewer fails the node unless `partial`"},
                "partial": {"type": "boolean", "default": false, "description": "Accept fewer than `count` items (then `complete` is false)"},
                "timeout": {"type": "string", "description": "Accepted for compatibility with the Go engine: a fan-in waits for every branch that can still arrive; limit it with the node's `timeout`"}
            },
            "additionalProperties": false
        })
    }

    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        let key = match setup.config_value("key").and_then(Value::as_str) {
            Some(text) => {
                Some(Template::parse(text).map_err(|e| ConfigError::at("/key", format!("invalid template: {e}")))?)
            }
            None => None,
        };
        let mode = match setup.config_value("mode").and_then(Value::as_str) {
            Some("object") => Mode::Object,
            Some("merge") => Mode::Merge,
            Some("concat") => Mode::Concat,
            _ => Mode::Array,
        };
        Ok(Arc::new(AggregateRun {
            mode,
            key,
            sources: setup.sources.to_vec(),
        }))
    }
}

#[derive(Clone, Copy)]
enum Mode {
    Array,
    Object,
    Merge,
    Concat,
}

struct AggregateRun {
    mode: Mode,
    key: Option<Template>,
    /// Nodes with an edge here; two or more make this node a fan-in.
    sources: Vec<String>,
}

impl Node for AggregateRun {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        Execution::Ready(self.aggregate(call.input, &call.config).map(NodeOutput::new))
    }
}

impl AggregateRun {
    fn aggregate(&self, input: Value, config: &Value) -> Result<Value, NodeError> {
        let (items, arrived) = self.items(input);
        let count = items.len();
        let data = match self.mode {
            Mode::Array => Value::array(items.into_iter().map(|(_, item)| item)),
            Mode::Object => {
                let mut object = Map::with_capacity(count);
                for (i, (source, item)) in items.into_iter().enumerate() {
                    let key = match (&self.key, source) {
                        (Some(template), _) => template
                            .render(&item)
                            .map_err(|e| NodeError::failed(format!("`key` template: {e}")))?,
                        (None, Some(source)) => source,
                        (None, None) => format!("item_{i}"),
                    };
                    object.insert(key, item);
                }
                Value::from(object)
            }
            Mode::Merge => items
                .into_iter()
                .filter(|(_, item)| item.as_object().is_some())
                .fold(Value::empty_object(), |merged, (_, item)| deep_merge(merged, item)),
            Mode::Concat => {
                let mut all = Vec::new();
                for (_, item) in items {
                    match item {
                        Value::Array(inner) => all.extend(inner.iter().cloned()),
                        other => all.push(other),
                    }
                }
                Value::from(all)
            }
        };
        let expected = config.get("count").and_then(Value::as_i64);
        let complete = match expected {
            Some(expected) => i64::try_from(count).unwrap_or(i64::MAX) >= expected,
            None => self.sources.len() < 2 || arrived >= self.sources.len(),
        };
        if let Some(expected) = expected
            && !complete
            && !config.get("partial").and_then(Value::as_bool).unwrap_or(false)
        {
            return Err(NodeError::InvalidInput(format!(
                "expected {expected} items, got {count} (set `partial: true` to accept fewer)"
            )));
        }
        Ok(Value::object([
            ("data", data),
            ("count", Value::from(count)),
            ("complete", Value::Bool(complete)),
        ]))
    }

    /// The items with their fan-in source names, and how many fan-in branches arrived.
    fn items(&self, input: Value) -> (Vec<(Option<String>, Value)>, usize) {
        if let Value::Object(object) = &input
            && self.sources.len() >= 2
            && object.len() >= 2
            && object.keys().all(|k| self.sources.iter().any(|source| *k == *source))
        {
            let items: Vec<_> = object.iter().map(|(k, v)| (Some(k.to_string()), v.clone())).collect();
            let arrived = items.len();
            return (items, arrived);
        }
        let items = match &input {
            Value::Array(items) => items.iter().cloned().map(|v| (None, v)).collect(),
            Value::Object(_) if matches!(input.get("data"), Some(Value::Array(_))) => input
                .get("data")
                .and_then(Value::as_array)
                .map(|data| data.iter().cloned().map(|v| (None, v)).collect())
                .unwrap_or_default(),
            _ => vec![(None, input)],
        };
        (items, 1)
    }
}

/// `base` with `overlay` merged in: objects merge key by key, anything else is replaced.
fn deep_merge(base: Value, overlay: Value) -> Value {
    with_stack(|| match (base, overlay) {
        (Value::Object(mut base), Value::Object(overlay)) => {
            let map = base.make_mut();
            for (key, value) in overlay.iter() {
                match map.get_mut(key) {
                    Some(existing) => {
                        let old = std::mem::take(existing);
                        *existing = deep_merge(old, value.clone());
                    }
                    None => {
                        map.insert(key.clone(), value.clone());
                    }
                }
            }
            Value::Object(base)
        }
        (_, overlay) => overlay,
    })
}
