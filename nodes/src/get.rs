//! `get`: reads a key of the run's key-value store.
//!
//! Found: the stored value is the output, with the action `found`. Not found
//! (never set, or expired by the store's `ttl`): the input passes on
//! unchanged, with the action `not_found`, so the next node can compute the
//! value from it (cache-aside).

use std::sync::Arc;

use pocket_core::{ConfigError, Execution, Invocation, Node, NodeOutput, NodeSetup, Owner};
use serde_json::json;

use crate::builtin::Builtin;
use crate::set::store_key;

pub(crate) struct Get;

impl Builtin for Get {
    const NAME: &'static str = "get";
    const DESCRIPTION: &'static str =
        "Reads `key` from the run's store: the value with action `found`, else the input with `not_found`";

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "properties": {
                "key": {"type": ["string", "number"], "description": "The key (templates allowed), e.g. `user:{{.id}}`"}
            },
            "required": ["key"],
            "additionalProperties": false
        })
    }

    fn prepare(_setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        Ok(Arc::new(GetNode))
    }
}

struct GetNode;

impl Node for GetNode {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        Execution::Ready(
            store_key(&call.config).map(|key| match call.run.store().get(Owner::Workflow, &key) {
                Some(value) => NodeOutput::new(value).with_action("found"),
                None => NodeOutput::new(call.input).with_action("not_found"),
            }),
        )
    }
}
