//! What every node of one run shares.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::kv::KvStore;
use crate::plugin_call::NodeCaller;
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
    /// Runs node types for plugin code (plugin-to-plugin calls); `None`
    /// when the run has no workflow to resolve them in.
    calls: Option<Arc<NodeCaller>>,
    /// How many plugin calls deep the current call is: 0 for a workflow's
    /// own nodes. Only the host sets it.
    call_depth: u32,
}

impl RunContext {
    /// The context of a new run of `workflow`, with an empty store set up by
    /// `store`, stopped through `cancel`.
    pub fn new(workflow: impl Into<Arc<str>>, store: &StoreSpec, cancel: CancellationToken) -> RunContext {
        RunContext {
            workflow: workflow.into(),
            store: Arc::new(KvStore::new(store)),
            cancel,
            calls: None,
            call_depth: 0,
        }
    }

    /// The same context, making plugin calls through `calls`.
    pub fn with_calls(self, calls: Arc<NodeCaller>) -> RunContext {
        RunContext {
            calls: Some(calls),
            ..self
        }
    }

    /// The same run, stopped through `cancel` instead (a node type running
    /// nodes of its own that it may stop without stopping the run).
    pub fn with_cancel(&self, cancel: CancellationToken) -> RunContext {
        RunContext { cancel, ..self.clone() }
    }

    /// What plugin calls in this run go through, if anything.
    pub fn calls(&self) -> Option<&Arc<NodeCaller>> {
        self.calls.as_ref()
    }

    /// How many plugin calls deep the current call is (0 for a workflow's own nodes).
    pub fn call_depth(&self) -> u32 {
        self.call_depth
    }

    /// The context of a plugin call made from this one: one level deeper.
    pub(crate) fn nested(&self) -> RunContext {
        RunContext {
            call_depth: self.call_depth.saturating_add(1),
            ..self.clone()
        }
    }
}
