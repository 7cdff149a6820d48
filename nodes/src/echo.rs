//! `echo`: returns `{message, input, node}`; with no `message`, the Go
//! engine's "Hello from echo node".

use std::sync::Arc;

use pocket_core::{ConfigError, Execution, Invocation, Node, NodeOutput, NodeSetup, Value};
use serde_json::json;

use crate::builtin::Builtin;

/// What the Go engine's echo says when no message is set.
const DEFAULT_MESSAGE: &str = "Hello from echo node";

pub(crate) struct Echo;

impl Builtin for Echo {
    const NAME: &'static str = "echo";
    const DESCRIPTION: &'static str = "Wraps its input with a message: {message, input, node}";

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "properties": {"message": {"description": "Any value; templates allowed", "default": DEFAULT_MESSAGE}},
            "additionalProperties": false
        })
    }

    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        Ok(Arc::new(EchoNode {
            node: Value::from(setup.node),
        }))
    }
}

struct EchoNode {
    node: Value,
}

impl Node for EchoNode {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        let message = call
            .config
            .get("message")
            .cloned()
            .unwrap_or_else(|| Value::from(DEFAULT_MESSAGE));
        let output = Value::object([("message", message), ("input", call.input), ("node", self.node.clone())]);
        Execution::Ready(Ok(NodeOutput::new(output)))
    }
}
