//! One node call of an Extism plugin: what goes in ([`ExtismCall`]: the
//! export, the input bytes, the config map) and how its output bytes
//! become the node's output ([`output_value`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use pocket_core::{Limit, NodeError, NodeOutput, Value};

use crate::limits::Culprit;

/// How a node's input reaches its Extism function.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum InputMode {
    /// The input as JSON text (the default).
    #[default]
    Json,
    /// A string input as its own text, without quotes; any other input as JSON.
    Text,
}

impl InputMode {
    /// `input` as the bytes the function reads.
    pub(crate) fn bytes(self, input: &Value) -> Arc<[u8]> {
        match (self, input) {
            (InputMode::Text, Value::String(text)) => Arc::from(text.as_bytes()),
            _ => Arc::from(input.to_json().into_bytes()),
        }
    }
}

/// One call of an Extism export.
pub(crate) struct ExtismCall {
    /// The exported function to call.
    pub export: Arc<str>,
    /// The input bytes.
    pub input: Arc<[u8]>,
    /// Extism's config map: the plugin's config, then the node's.
    pub config: Arc<BTreeMap<String, String>>,
}

impl ExtismCall {
    /// The config map of a node whose plugin config is `plugin` and whose
    /// own (rendered) config is `node`: strings as they are, other values
    /// as JSON; the node's keys win.
    pub(crate) fn config(plugin: &Value, node: &Value) -> Arc<BTreeMap<String, String>> {
        let mut map = BTreeMap::new();
        for source in [plugin, node] {
            if let Value::Object(object) = source {
                for (key, value) in object.iter() {
                    let text = match value {
                        Value::String(text) => text.to_string(),
                        Value::Null => continue,
                        other => other.to_json(),
                    };
                    map.insert(key.to_string(), text);
                }
            }
        }
        Arc::new(map)
    }
}

/// The node output of an Extism function's output bytes: JSON when they
/// parse (within `max_bytes` of memory, as every guest response), else the
/// text; bytes that are not UTF-8 fail the node.
pub(crate) fn output_value(bytes: &[u8], culprit: Culprit<'_>, max_bytes: u64) -> Result<NodeOutput, NodeError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        NodeError::Failed(format!(
            "{culprit} returned output that is neither JSON nor UTF-8 text (at byte {})",
            e.valid_up_to()
        ))
    })?;
    if text.trim().is_empty() {
        return Ok(NodeOutput::new(Value::String(text.into())));
    }
    if pocket_value::check_footprint(text, max_bytes).is_ok()
        && let Ok(value) = Value::from_json(text)
    {
        return Ok(NodeOutput::new(value));
    }
    if text.len() as u64 > max_bytes {
        return Err(NodeError::LimitExceeded {
            limit: Limit::Memory,
            detail: format!("{culprit} returned {} bytes, more than its memory limit", text.len()),
        });
    }
    Ok(NodeOutput::new(Value::String(text.into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn culprit() -> Culprit<'static> {
        Culprit {
            plugin: "p",
            node_type: "t",
            node: "n",
        }
    }

    #[test]
    fn output_is_json_when_it_parses_and_text_when_not() {
        let out = |bytes: &[u8]| output_value(bytes, culprit(), 1 << 20).map(|o| o.output);
        assert_eq!(
            out(br#"{"count": 3}"#).unwrap(),
            Value::from_json(r#"{"count":3}"#).unwrap()
        );
        assert_eq!(out(b"Hello, Ann!").unwrap(), Value::String("Hello, Ann!".into()));
        assert_eq!(out(b"").unwrap(), Value::String("".into()));
        let err = out(&[0xff, 0xfe]).unwrap_err().to_string();
        assert!(err.contains("neither JSON nor UTF-8"), "{err}");
        // JSON too deep to take is given as its text, not parsed.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(out(deep.as_bytes()).unwrap(), Value::String(_)));
    }

    #[test]
    fn config_maps_hold_strings_and_the_node_wins() {
        let plugin = Value::from_json(r#"{"greeting": "Hello", "n": 2, "off": null}"#).unwrap();
        let node = Value::from_json(r#"{"greeting": "Hi", "list": [1]}"#).unwrap();
        let map = ExtismCall::config(&plugin, &node);
        assert_eq!(map.get("greeting").map(String::as_str), Some("Hi"));
        assert_eq!(map.get("n").map(String::as_str), Some("2"));
        assert_eq!(map.get("list").map(String::as_str), Some("[1]"));
        assert!(!map.contains_key("off"));
    }

    #[test]
    fn text_input_passes_strings_bare() {
        let hello = Value::String("hé".into());
        assert_eq!(&*InputMode::Text.bytes(&hello), "hé".as_bytes());
        assert_eq!(&*InputMode::Json.bytes(&hello), "\"hé\"".as_bytes());
        assert_eq!(&*InputMode::Text.bytes(&Value::from(3)), b"3");
    }
}
