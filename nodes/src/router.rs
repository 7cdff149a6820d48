//! `router`: passes its input on, taking the action named by `route`.

use std::sync::Arc;

use pocket_core::{ConfigError, Execution, Invocation, Node, NodeOutput, NodeSetup, Value};
use serde_json::json;

use crate::builtin::Builtin;

pub(crate) struct Router;

impl Builtin for Router {
    const NAME: &'static str = "router";
    const DESCRIPTION: &'static str = "Passes its input on, taking the action `route` (or `default_route`)";

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "properties": {
                "route": {"type": "string"},
                "default_route": {"type": "string"}
            },
            "additionalProperties": false
        })
    }

    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        let known = ["route", "default_route"]
            .iter()
            .filter_map(|k| setup.config_value(k).and_then(|v| v.as_str()))
            .filter(|s| !pocket_template::is_template(s))
            .map(str::to_string)
            .collect();
        Ok(Arc::new(RouterNode { known }))
    }
}

struct RouterNode {
    known: Vec<String>,
}

impl Node for RouterNode {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        let route = ["route", "default_route"]
            .iter()
            .find_map(|k| match call.config.get(k) {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                _ => None,
            });
        let output = NodeOutput::new(call.input);
        Execution::Ready(Ok(match route {
            Some(route) => output.with_action(route),
            None => output,
        }))
    }

    fn known_actions(&self) -> Vec<String> {
        self.known.clone()
    }
}
