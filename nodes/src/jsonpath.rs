//! `jsonpath`: extracts values from its input with a JSONPath query (RFC 9535).
//!
//! The first match is the output (a one-element array unwrapped, as the Go
//! engine does, unless `unwrap: false`); with `multiple`, every match as an
//! array. Nothing matched: `default` when set, else `[]` with `multiple`,
//! else `null`.

use std::sync::Arc;

use pocket_core::{ConfigError, Execution, Invocation, Node, NodeError, NodeOutput, NodeSetup, Value};
use serde_json::json;
use serde_json_path::JsonPath;

use crate::builtin::{Builtin, is_template_value, with_room_for};

pub(crate) struct JsonPathNode;

impl Builtin for JsonPathNode {
    const NAME: &'static str = "jsonpath";
    const DESCRIPTION: &'static str = "Extracts values from the input with a JSONPath query (RFC 9535)";

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "properties": {
                "path": {"type": "string", "minLength": 1, "description": "The JSONPath query, such as `$.items[*].price` (templates allowed)"},
                "multiple": {"type": "boolean", "default": false, "description": "Return every match as an array (true) or the first match only (false)"},
                "default": {"description": "The output when nothing matches"},
                "unwrap": {"type": "boolean", "default": true, "description": "When the first match is a one-element array, return its element"}
            },
            "required": ["path"],
            "additionalProperties": false
        })
    }

    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        let compiled = match setup.config_value("path") {
            Some(path) if !is_template_value(path) => {
                Some(parse(path.as_str().unwrap_or_default()).map_err(|e| ConfigError::at("/path", e))?)
            }
            _ => None,
        };
        Ok(Arc::new(JsonPathRun { compiled }))
    }
}

fn parse(path: &str) -> Result<JsonPath, String> {
    JsonPath::parse(path).map_err(|e| format!("invalid JSONPath `{path}`: {e}"))
}

struct JsonPathRun {
    /// The query, when it is not a template.
    compiled: Option<JsonPath>,
}

impl Node for JsonPathRun {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        Execution::Ready(self.extract(&call.input, &call.config).map(NodeOutput::new))
    }
}

impl JsonPathRun {
    fn extract(&self, input: &Value, config: &Value) -> Result<Value, NodeError> {
        let rendered;
        let path = match &self.compiled {
            Some(path) => path,
            None => {
                let text = match config.get("path") {
                    Some(Value::String(s)) => s,
                    other => {
                        return Err(NodeError::InvalidConfig(format!(
                            "`path` must render to a string, not {}",
                            other.map_or("nothing", Value::type_name)
                        )));
                    }
                };
                rendered = parse(text).map_err(NodeError::InvalidConfig)?;
                &rendered
            }
        };
        let flag = |key: &str, default: bool| config.get(key).and_then(Value::as_bool).unwrap_or(default);
        // serde_json's value is built, queried and dropped recursively.
        with_room_for(input, "jsonpath", || {
            let document = serde_json::Value::from(input);
            let matches = path.query(&document).all();
            if matches.is_empty() {
                return Ok(match config.get("default").filter(|v| !v.is_null()) {
                    Some(default) => default.clone(),
                    None if flag("multiple", false) => Value::array([]),
                    None => Value::Null,
                });
            }
            if flag("multiple", false) {
                return Ok(Value::array(matches.into_iter().map(Value::from)));
            }
            let first = Value::from(matches[0]);
            Ok(match first.as_array() {
                Some(items) if items.len() == 1 && flag("unwrap", true) => items[0].clone(),
                _ => first,
            })
        })
    }
}
