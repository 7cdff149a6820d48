//! What every node of one run shares.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::kv::KvStore;
use crate::plugin_call::NodeCaller;
use crate::workflow::StoreSpec;

/// The state of one workflow run, shared by its nodes. Cloning it is one
/// reference count: backends keep one per call.
#[derive(Debug, Clone)]
pub struct RunContext {
    shared: Arc<Shared>,
    /// How many plugin calls deep the current call is: 0 for a workflow's
    /// own nodes. Only the host sets it.
    call_depth: u32,
}

#[derive(Debug)]
struct Shared {
    workflow: Arc<str>,
    store: Arc<KvStore>,
    cancel: CancellationToken,
    calls: Option<Arc<NodeCaller>>,
}

impl RunContext {
    /// The context of a new run of `workflow`, with an empty store set up by
    /// `store`, stopped through `cancel`.
    pub fn new(workflow: impl Into<Arc<str>>, store: &StoreSpec, cancel: CancellationToken) -> RunContext {
        RunContext {
            shared: Arc::new(Shared {
                workflow: workflow.into(),
                store: Arc::new(KvStore::new(store)),
                cancel,
                calls: None,
            }),
            call_depth: 0,
        }
    }

    /// The same context, making plugin calls through `calls`.
    pub fn with_calls(self, calls: Arc<NodeCaller>) -> RunContext {
        self.rebuilt(|shared| Shared {
            calls: Some(calls),
            ..shared
        })
    }

    /// The same run, stopped through `cancel` instead (a node type running
    /// nodes of its own that it may stop without stopping the run).
    pub fn with_cancel(&self, cancel: CancellationToken) -> RunContext {
        self.rebuilt(|shared| Shared { cancel, ..shared })
    }

    fn rebuilt(&self, change: impl FnOnce(Shared) -> Shared) -> RunContext {
        let shared = Shared {
            workflow: self.shared.workflow.clone(),
            store: self.shared.store.clone(),
            cancel: self.shared.cancel.clone(),
            calls: self.shared.calls.clone(),
        };
        RunContext {
            shared: Arc::new(change(shared)),
            call_depth: self.call_depth,
        }
    }

    /// The workflow's name.
    pub fn workflow(&self) -> &str {
        &self.shared.workflow
    }

    /// The run's key-value store.
    pub fn store(&self) -> &Arc<KvStore> {
        &self.shared.store
    }

    /// Cancelled when the run is stopped (Ctrl-C, or a failure elsewhere);
    /// long-running nodes should watch it.
    pub fn cancel(&self) -> &CancellationToken {
        &self.shared.cancel
    }

    /// What plugin calls in this run go through, if anything.
    pub fn calls(&self) -> Option<&Arc<NodeCaller>> {
        self.shared.calls.as_ref()
    }

    /// How many plugin calls deep the current call is (0 for a workflow's own nodes).
    pub fn call_depth(&self) -> u32 {
        self.call_depth
    }

    /// The context of a plugin call made from this one: one level deeper.
    pub(crate) fn nested(&self) -> RunContext {
        RunContext {
            shared: self.shared.clone(),
            call_depth: self.call_depth.saturating_add(1),
        }
    }
}
