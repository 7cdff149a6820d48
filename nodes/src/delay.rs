//! `delay`: waits, then passes its input on.

use std::sync::Arc;
use std::time::Duration;

use pocket_core::{ConfigError, Execution, Node, NodeCall, NodeError, NodeOutput, NodeSetup, Value, parse_duration};
use serde_json::json;

use crate::builtin::Builtin;

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
        if let Some(written) = setup.config_value("duration")
            && !pocket_template::is_template(written.as_str().unwrap_or_default())
        {
            duration_of(written).map_err(|e| ConfigError::at("/duration", e))?;
        }
        Ok(Arc::new(DelayNode))
    }
}

fn duration_of(value: &Value) -> Result<Duration, String> {
    match value {
        Value::String(s) => parse_duration(s),
        Value::Number(n) => Duration::try_from_secs_f64(n.as_f64()).map_err(|e| format!("invalid duration: {e}")),
        other => Err(format!(
            "`duration` must be a string like `500ms` or a number of seconds, not {}",
            other.type_name()
        )),
    }
}

struct DelayNode;

impl Node for DelayNode {
    fn exec<'a>(&'a self, call: NodeCall<'a>) -> Execution<'a> {
        let duration = match call.config.get("duration").map(duration_of) {
            Some(Ok(d)) => d,
            Some(Err(e)) => return Execution::Ready(Err(NodeError::InvalidConfig(e))),
            None => Duration::from_secs(1),
        };
        Execution::pending(async move {
            tokio::select! {
                () = tokio::time::sleep(duration) => Ok(NodeOutput::new(call.input)),
                () = call.run.cancel.cancelled() => Err(NodeError::Cancelled),
            }
        })
    }
}
