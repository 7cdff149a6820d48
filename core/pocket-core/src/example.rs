//! Examples a plugin declares for its node types: an input and a config,
//! with the output (or the error) the node must give for them. `pocket
//! plugin test` runs them, `pocket plugin bench` times them, and `pocket
//! plugin info` shows them, for every kind of plugin.

use serde::{Deserialize, Serialize};

/// The most examples one node type may declare.
pub const MAX_EXAMPLES: usize = 100;

/// One declared example of a node type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// What it shows, for reports (default: its position).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The node's input.
    #[serde(default)]
    pub input: serde_json::Value,
    /// The node's config (none: `{}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    /// The output the node must give, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<serde_json::Value>,
    /// The action the node must choose (unchecked when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Text the node's error must contain: the node must fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Example {
    /// Reads a node type's examples as a plugin declared them (a JSON
    /// array of example objects), checking each says what to expect.
    pub fn parse_list(node_type: &str, declared: serde_json::Value) -> Result<Vec<Example>, String> {
        let examples: Vec<Example> = match declared {
            serde_json::Value::Null => Vec::new(),
            // An empty Lua table reads as an empty object.
            serde_json::Value::Object(map) if map.is_empty() => Vec::new(),
            other => serde_json::from_value(other).map_err(|e| format!("node type `{node_type}`: examples: {e}"))?,
        };
        if examples.len() > MAX_EXAMPLES {
            return Err(format!(
                "node type `{node_type}` declares {} examples; at most {MAX_EXAMPLES} are allowed",
                examples.len()
            ));
        }
        for (i, example) in examples.iter().enumerate() {
            if example.output.is_some() == example.error.is_some() {
                return Err(format!(
                    "node type `{node_type}`: example {} must give either `output` or `error`",
                    i + 1
                ));
            }
        }
        Ok(examples)
    }

    /// Its name, or `example N` (N counting from 1).
    pub fn label(&self, index: usize) -> String {
        if self.name.is_empty() {
            format!("example {}", index + 1)
        } else {
            self.name.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn examples_must_say_what_to_expect() {
        let ok = Example::parse_list("t", json!([{"input": 1, "output": 2}, {"error": "bad"}])).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].label(1), "example 2");
        for bad in [
            json!([{"input": 1}]),
            json!([{"output": 1, "error": "x"}]),
            json!([{"outptu": 1}]),
        ] {
            assert!(Example::parse_list("t", bad).is_err());
        }
        let many = json!((0..=MAX_EXAMPLES).map(|_| json!({"output": 1})).collect::<Vec<_>>());
        assert!(Example::parse_list("t", many).unwrap_err().contains("at most"));
        assert!(Example::parse_list("t", json!({})).unwrap().is_empty());
    }
}
