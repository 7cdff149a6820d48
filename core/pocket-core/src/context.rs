//! What every node of one run shares.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::kv::KvStore;
use crate::workflow::StoreSpec;

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

impl RunContext {
    /// The context of a new run of `workflow`, with an empty store set up by
    /// `store`, stopped through `cancel`.
    pub fn new(workflow: impl Into<Arc<str>>, store: &StoreSpec, cancel: CancellationToken) -> RunContext {
        RunContext {
            workflow: workflow.into(),
            store: Arc::new(KvStore::new(store)),
            cancel,
        }
    }
}
