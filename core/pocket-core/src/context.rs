//! What every node of one run shares.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::kv::KvStore;

/// The state of one workflow run, shared by its nodes.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The workflow's name.
    pub workflow: Arc<str>,
    /// The run's key-value store.
    pub store: Arc<KvStore>,
    /// Cancelled when the run is stopped (Ctrl-C, or a failure elsewhere);
    /// long-running nodes should watch it.
    pub cancel: CancellationToken,
}
