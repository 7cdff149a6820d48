//! `set`: stores a value in the run's key-value store, passing its input on.
//!
//! The store is the workflow's `store:` block (`max_entries`, `ttl`), shared
//! by every node of one run. `value` defaults to the input itself.

use std::sync::Arc;

use pocket_core::{ConfigError, Execution, Invocation, Node, NodeError, NodeOutput, NodeSetup, Owner, Value};
use serde_json::json;

use crate::builtin::Builtin;

pub(crate) struct Set;

impl Builtin for Set {
    const NAME: &'static str = "set";
    const DESCRIPTION: &'static str =
        "Stores `value` (default: the input) under `key` in the run's store; outputs its input";

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "properties": {
                "key": {"type": ["string", "number"], "description": "The key (templates allowed), e.g. `user:{{.id}}`"},
                "value": {"description": "The value to store (templates allowed); default: the input"}
            },
            "required": ["key"],
            "additionalProperties": false
        })
    }

    fn prepare(_setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        Ok(Arc::new(SetNode))
    }
}

/// The store key named by a rendered config: a non-empty string, or a number's text.
pub(crate) fn store_key(config: &Value) -> Result<String, NodeError> {
    match config.get("key") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.to_string()),
        Some(Value::Number(n)) => Ok(Value::Number(*n).to_display_string()),
        other => Err(NodeError::InvalidConfig(format!(
            "`key` must render to a non-empty string, not {}",
            other.map_or("nothing".to_string(), pocket_core::Value::to_json)
        ))),
    }
}

struct SetNode;

impl Node for SetNode {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        Execution::Ready(store_key(&call.config).map(|key| {
            let value = match call.config.get("value") {
                Some(value) => value.clone(),
                None => call.input.clone(),
            };
            call.run.store().set(Owner::Workflow, &key, value);
            NodeOutput::new(call.input)
        }))
    }
}
