//! How node attempts and their results are written on the wire: a job's
//! input and config as one JSON document, a result as another, errors with
//! their kind so the scheduler's retry rules see what the worker saw.

use std::time::Duration;

use pocket_core::{Limit, NodeError, NodeOutput, Value};

use crate::error::ClusterError;

/// Header naming the run.
pub(crate) const RUN: &str = "Pocket-Run";
/// Header naming the attempt's key (`run.step.attempt`): its result's key.
pub(crate) const KEY: &str = "Pocket-Key";
/// Header giving the attempt number.
pub(crate) const ATTEMPT: &str = "Pocket-Attempt";
/// Header naming the workflow record (its digest).
pub(crate) const WORKFLOW: &str = "Pocket-Workflow";
/// Header naming the node.
pub(crate) const NODE: &str = "Pocket-Node";
/// Header naming the blob that holds the body, when it was too large to inline.
pub(crate) const BLOB: &str = "Pocket-Blob";

/// A job's body, `{"input": ..., "config": ...}`, around the input's JSON.
pub(crate) fn job_body(input_json: &str, config: &Value) -> String {
    format!(r#"{{"input":{input_json},"config":{}}}"#, config.to_json())
}

/// The input and config of a job's body.
pub(crate) fn read_job_body(text: &str) -> Result<(Value, Value), ClusterError> {
    let body = Value::from_json(text).map_err(|e| ClusterError::malformed("job", e))?;
    let field = |name| body.get(name).cloned().unwrap_or_default();
    Ok((field("input"), field("config")))
}

/// A stored result: `{"output": ..., "action": ...}` or `{"error": {...}}`.
pub(crate) fn result_text(result: &Result<NodeOutput, NodeError>) -> String {
    match result {
        Ok(out) => {
            let action = out.action.as_deref().map_or(Value::Null, Value::from);
            Value::object([("output", out.output.clone()), ("action", action)]).to_json()
        }
        Err(error) => Value::object([("error", error_value(error))]).to_json(),
    }
}

/// The result a stored text holds.
pub(crate) fn read_result(text: &str) -> Result<Result<NodeOutput, NodeError>, ClusterError> {
    let stored = Value::from_json(text).map_err(|e| ClusterError::malformed("result", e))?;
    if let Some(error) = stored.get("error") {
        return Ok(Err(error_from(error)));
    }
    Ok(Ok(NodeOutput {
        output: stored.get("output").cloned().unwrap_or_default(),
        action: stored.get("action").and_then(Value::as_str).map(Into::into),
    }))
}

fn error_value(error: &NodeError) -> Value {
    let (kind, message) = match error {
        NodeError::Failed(m) => ("failed", m.clone()),
        NodeError::InvalidInput(m) => ("invalid_input", m.clone()),
        NodeError::InvalidConfig(m) => ("invalid_config", m.clone()),
        NodeError::PermissionDenied(m) => ("permission_denied", m.clone()),
        NodeError::Crashed(m) => ("crashed", m.clone()),
        NodeError::Cancelled => ("cancelled", String::new()),
        NodeError::Timeout(limit) => {
            return Value::object([
                ("kind", Value::from("timeout")),
                ("ms", Value::from(u64::try_from(limit.as_millis()).unwrap_or(u64::MAX))),
            ]);
        }
        NodeError::LimitExceeded { limit, detail } => {
            return Value::object([
                ("kind", Value::from("limit_exceeded")),
                ("limit", Value::from(limit.name())),
                ("message", Value::from(detail.as_str())),
            ]);
        }
        other => ("failed", other.to_string()),
    };
    Value::object([("kind", Value::from(kind)), ("message", Value::from(message))])
}

fn error_from(error: &Value) -> NodeError {
    let text = |name| error.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    let message = text("message");
    match error.get("kind").and_then(Value::as_str).unwrap_or_default() {
        "invalid_input" => NodeError::InvalidInput(message),
        "invalid_config" => NodeError::InvalidConfig(message),
        "permission_denied" => NodeError::PermissionDenied(message),
        "crashed" => NodeError::Crashed(message),
        "cancelled" => NodeError::Cancelled,
        "timeout" => {
            let ms = error.get("ms").and_then(Value::as_i64).unwrap_or_default();
            NodeError::Timeout(Duration::from_millis(u64::try_from(ms).unwrap_or_default()))
        }
        "limit_exceeded" => match limit_named(&text("limit")) {
            Some(limit) => NodeError::LimitExceeded { limit, detail: message },
            None => NodeError::Failed(message),
        },
        _ => NodeError::Failed(message),
    }
}

fn limit_named(name: &str) -> Option<Limit> {
    [
        Limit::Memory,
        Limit::Instructions,
        Limit::Fuel,
        Limit::Timeout,
        Limit::Stack,
    ]
    .into_iter()
    .find(|limit| limit.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_kind_survives_the_trip() {
        let errors = [
            NodeError::Failed("f".into()),
            NodeError::InvalidInput("i".into()),
            NodeError::InvalidConfig("c".into()),
            NodeError::PermissionDenied("p".into()),
            NodeError::Crashed("x".into()),
            NodeError::Cancelled,
            NodeError::Timeout(Duration::from_millis(1500)),
            NodeError::LimitExceeded {
                limit: Limit::Fuel,
                detail: "out of fuel".into(),
            },
        ];
        for error in errors {
            let back = read_result(&result_text(&Err(error.clone()))).unwrap();
            assert_eq!(back.unwrap_err(), error);
        }
    }

    #[test]
    fn outputs_keep_their_action_and_value() {
        let out = NodeOutput {
            output: Value::from_json(r#"{"a":[1,2.5,"x",null]}"#).unwrap(),
            action: Some("left".into()),
        };
        let back = read_result(&result_text(&Ok(out.clone()))).unwrap().unwrap();
        assert_eq!((back.output, back.action), (out.output, out.action));
        let plain = read_result(&result_text(&Ok(NodeOutput::new(Value::Null))))
            .unwrap()
            .unwrap();
        assert_eq!(plain.action, None);
    }

    #[test]
    fn a_job_body_reads_back_and_garbage_is_an_error() {
        let (input, config) = read_job_body(&job_body(&Value::from("in").to_json(), &Value::from(3))).unwrap();
        assert_eq!((input, config), (Value::from("in"), Value::from(3)));
        assert!(read_job_body("{not json").is_err());
        assert!(read_result("[").is_err());
    }
}
