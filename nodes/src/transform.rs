//! `transform`: reshapes its input with a mapping of templates.
//!
//! Every config key is an output key whose value is rendered against the
//! input. With no keys, it returns the Go engine's default shape
//! `{transformed: true, original, timestamp, node}`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use pocket_core::{ConfigError, Execution, Node, NodeCall, NodeOutput, NodeSetup, Value};
use serde_json::json;

use crate::builtin::Builtin;

pub(crate) struct Transform;

impl Builtin for Transform {
    const NAME: &'static str = "transform";
    const DESCRIPTION: &'static str = "Builds its output from a mapping of templates over the input";

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "description": "Each key becomes an output key; values may be templates"
        })
    }

    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        if setup.config_value("jq").is_some() {
            return Err(ConfigError::at(
                "/jq",
                "`jq` programs are not supported by this version of `transform`; use a mapping of templates",
            ));
        }
        let mapped = setup.config.as_object().is_some_and(|o| !o.is_empty());
        Ok(Arc::new(TransformNode {
            node: Value::from(setup.node),
            mapped,
        }))
    }
}

struct TransformNode {
    node: Value,
    mapped: bool,
}

impl Node for TransformNode {
    fn exec<'a>(&'a self, call: NodeCall<'a>) -> Execution<'a> {
        let output = if self.mapped {
            call.config
        } else {
            let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            Value::object([
                ("transformed", Value::Bool(true)),
                ("original", call.input),
                ("timestamp", Value::from(timestamp)),
                ("node", self.node.clone()),
            ])
        };
        Execution::Ready(Ok(NodeOutput::new(output)))
    }
}
