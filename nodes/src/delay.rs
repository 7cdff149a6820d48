//! `delay`: waits, then passes its input on.

use std::sync::Arc;
use std::time::Duration;

use pocket_core::{ConfigError, Execution, Invocation, Node, NodeError, NodeOutput, NodeSetup};
use serde_json::json;

use crate::builtin::{Builtin, check_static_duration, config_duration};

pub(crate) struct Delay;

impl Builtin for Delay {
    const NAME: &'static str = "delay";
    const DESCRIPTION: &'static str = "Waits for `duration`, then passes its input on";

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "properties": {"duration": {"type": ["string", "number"], "default": "1s"}},
            "additionalProperties": false
        })
    }

    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        check_static_duration(setup, "duration")?;
        Ok(Arc::new(DelayNode))
    }
}

struct DelayNode;

impl Node for DelayNode {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        let duration = match config_duration(&call.config, "duration", Duration::from_secs(1)) {
            Ok(d) => d,
            Err(e) => return Execution::Ready(Err(e)),
        };
        Execution::pending(async move {
            tokio::select! {
                () = tokio::time::sleep(duration) => Ok(NodeOutput::new(call.input)),
                () = call.run.cancel().cancelled() => Err(NodeError::Cancelled),
            }
        })
    }
}
