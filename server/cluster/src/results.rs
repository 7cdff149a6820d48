//! Storing and reading attempt results in the results bucket, large ones
//! through the blob store.

use async_nats::jetstream::kv::CreateErrorKind;
use pocket_core::{NodeError, NodeOutput, Value};

use crate::connection::Cluster;
use crate::error::ClusterError;
use crate::wire;

/// What storing a result did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    /// It is the attempt's result.
    First,
    /// The attempt had a result already (a redelivered duplicate): this one was dropped.
    Duplicate,
}

impl Cluster {
    /// Stores the result of the attempt `key`, unless it has one already.
    pub(crate) async fn store_result(
        &self,
        key: &str,
        result: &Result<NodeOutput, NodeError>,
    ) -> Result<Stored, ClusterError> {
        let mut text = wire::result_text(result);
        if text.len() > self.settings.inline_limit {
            let blob = format!("result.{key}");
            self.put_blob(&blob, &text).await?;
            text = Value::object([("blob", Value::from(blob))]).to_json();
        }
        match self.results.create(key, text.into()).await {
            Ok(_) => Ok(Stored::First),
            Err(error) if error.kind() == CreateErrorKind::AlreadyExists => Ok(Stored::Duplicate),
            Err(error) => Err(ClusterError::jetstream("store a result", error)),
        }
    }

    /// The result stored as `stored`.
    pub(crate) async fn read_result(&self, stored: &[u8]) -> Result<Result<NodeOutput, NodeError>, ClusterError> {
        let text = std::str::from_utf8(stored).map_err(|e| ClusterError::malformed("result", e))?;
        match blob_name(text) {
            Some(blob) => wire::read_result(&self.blob(&blob).await?),
            None => wire::read_result(text),
        }
    }
}

/// The blob a stored result points to, if it is a reference.
fn blob_name(text: &str) -> Option<String> {
    if !text.starts_with("{\"blob\"") {
        return None;
    }
    let value = Value::from_json(text).ok()?;
    value.get("blob").and_then(Value::as_str).map(str::to_string)
}
