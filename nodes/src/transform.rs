//! `transform`: reshapes its input with a jq program or a mapping of templates.
//!
//! With `jq`, the program (compiled once, before the run) runs on the input:
//! one output is the result, several are collected into an array, none is
//! `null`. Otherwise every config key is an output key whose value is
//! rendered against the input. With no keys, it returns the Go engine's
//! default shape `{transformed: true, original, timestamp, node}`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use pocket_core::{ConfigError, Execution, Invocation, Node, NodeError, NodeOutput, NodeSetup, Value};
use serde_json::json;

use crate::builtin::{Builtin, with_room_for};
use crate::jq::JqProgram;

pub(crate) struct Transform;

impl Builtin for Transform {
    const NAME: &'static str = "transform";
    const DESCRIPTION: &'static str =
        "Builds its output with a jq program, or from a mapping of templates over the input";
    const RAW_KEYS: &'static [&'static str] = &["jq"];

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "description": "Either `jq`, or a mapping whose keys become output keys (values may be templates)",
            "properties": {
                "jq": {
                    "type": "string",
                    "description": "A jq program run on the input (not a template); several outputs become an array, none is null"
                }
            }
        })
    }

    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        let mode = if let Some(code) = setup.config_value("jq") {
            if setup.config.as_object().is_some_and(|o| o.len() > 1) {
                return Err(ConfigError::new(
                    "`jq` computes the whole output: remove the other keys, or compute them in the program",
                ));
            }
            let program = JqProgram::compile(code.as_str().unwrap_or_default())
                .map_err(|e| ConfigError::at("/jq", e.to_string()))?;
            Mode::Jq(program)
        } else if setup.config.as_object().is_some_and(|o| !o.is_empty()) {
            Mode::Mapping
        } else {
            Mode::Wrap(Value::from(setup.node))
        };
        Ok(Arc::new(TransformNode { mode }))
    }
}

enum Mode {
    /// A compiled jq program.
    Jq(JqProgram),
    /// The rendered config is the output.
    Mapping,
    /// The Go engine's default shape, with this node's name.
    Wrap(Value),
}

struct TransformNode {
    mode: Mode,
}

impl Node for TransformNode {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        let output = match &self.mode {
            Mode::Jq(program) => match with_room_for(&call.input, "jq", || {
                program
                    .run(&call.input, call.deadline, call.run.cancel())
                    .map_err(|e| NodeError::failed(format!("jq: {e}")))
            }) {
                Ok(output) => output,
                Err(e) => return Execution::Ready(Err(e)),
            },
            Mode::Mapping => call.config,
            Mode::Wrap(node) => {
                let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                Value::object([
                    ("transformed", Value::Bool(true)),
                    ("original", call.input),
                    ("timestamp", Value::from(timestamp)),
                    ("node", node.clone()),
                ])
            }
        };
        Execution::Ready(Ok(NodeOutput::new(output)))
    }
}
