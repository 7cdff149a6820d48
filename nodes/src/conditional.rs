//! `conditional`: takes the `then` action of the first condition that holds.

use std::sync::Arc;

use pocket_core::{ConfigError, Execution, Invocation, Node, NodeError, NodeOutput, NodeSetup, Value};
use serde_json::json;

use crate::builtin::Builtin;

pub(crate) struct Conditional;

impl Builtin for Conditional {
    const NAME: &'static str = "conditional";
    const DESCRIPTION: &'static str =
        "Passes its input on, taking the `then` of the first `if` that holds, else `else`";

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "properties": {
                "conditions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "oneOf": [
                            {"required": ["if", "then"]},
                            {"required": ["else"]}
                        ],
                        "properties": {
                            "if": {"description": "A template; holds when it renders truthy"},
                            "then": {"type": "string"},
                            "else": {"type": "string"}
                        },
                        "additionalProperties": false
                    }
                },
                "else": {"type": "string"}
            },
            "required": ["conditions"],
            "additionalProperties": false
        })
    }

    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        let mut known = Vec::new();
        if let Some(conditions) = setup.config_value("conditions").and_then(Value::as_array) {
            for condition in conditions.iter() {
                known.extend(["then", "else"].iter().filter_map(|k| static_string(condition.get(k))));
            }
        }
        known.extend(static_string(setup.config_value("else")));
        Ok(Arc::new(ConditionalNode { known }))
    }
}

fn static_string(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|s| !pocket_template::is_template(s))
        .map(str::to_string)
}

/// Truthiness of a rendered condition: `true`, non-zero numbers, and
/// non-empty values other than the strings "false", "0" and "<no value>".
pub(crate) fn holds(value: &Value) -> bool {
    match value {
        Value::String(s) => {
            let s = s.trim();
            !(s.is_empty() || s.eq_ignore_ascii_case("false") || s == "0" || s == "<no value>")
        }
        other => other.is_truthy(),
    }
}

struct ConditionalNode {
    known: Vec<String>,
}

impl Node for ConditionalNode {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        Execution::Ready(choose(&call.config).map(|action| {
            let output = NodeOutput::new(call.input);
            match action {
                Some(action) => output.with_action(action),
                None => output,
            }
        }))
    }

    fn known_actions(&self) -> Vec<String> {
        self.known.clone()
    }

    fn jumps_to_named_nodes(&self) -> bool {
        true
    }
}

/// The chosen action: the first holding condition's `then`, else the `else`
/// entry or key; `None` (the default action) when nothing applies.
fn choose(config: &Value) -> Result<Option<Arc<str>>, NodeError> {
    let mut fallback = config.get("else").cloned();
    if let Some(conditions) = config.get("conditions").and_then(Value::as_array) {
        for condition in conditions.iter() {
            if let Some(otherwise) = condition.get("else") {
                fallback = Some(otherwise.clone());
                continue;
            }
            if condition.get("if").is_some_and(holds) {
                return action_of(condition.get("then")).map(Some);
            }
        }
    }
    fallback.as_ref().map(|v| action_of(Some(v))).transpose()
}

fn action_of(value: Option<&Value>) -> Result<Arc<str>, NodeError> {
    match value {
        Some(Value::String(s)) if !s.is_empty() => Ok(Arc::from(s.as_str())),
        Some(other) => Err(NodeError::InvalidConfig(format!(
            "a condition's action must be a non-empty string, not {other}"
        ))),
        None => Err(NodeError::InvalidConfig("a condition has no `then`".into())),
    }
}
