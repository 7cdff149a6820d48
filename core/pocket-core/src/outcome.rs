//! What a node's run comes to: its output and chosen [`Action`], or a
//! [`NodeError`]. A leaf: everything that runs nodes, and everything nodes
//! call, speaks these types.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use pocket_value::Value;

use crate::limits::Limit;

/// A boxed, sendable future, as returned by asynchronous node executions.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The name of the action a node chose; it selects the outgoing edge.
pub type Action = Arc<str>;

/// The action a node takes when it names none.
pub const DEFAULT_ACTION: &str = "default";

/// The action whose edges receive a node's failure.
pub const ERROR_ACTION: &str = "error";

/// What a node returns: its output and, optionally, the action it chose.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeOutput {
    /// The value passed to the next node.
    pub output: Value,
    /// The chosen action; `None` means [`DEFAULT_ACTION`].
    pub action: Option<Action>,
}

impl NodeOutput {
    /// An output taking the default action.
    pub fn new(output: Value) -> Self {
        NodeOutput { output, action: None }
    }

    /// The same output, taking `action`.
    pub fn with_action(mut self, action: impl Into<Action>) -> Self {
        self.action = Some(action.into());
        self
    }

    /// The chosen action, `"default"` when none was named.
    pub fn action(&self) -> &str {
        self.action.as_deref().unwrap_or(DEFAULT_ACTION)
    }
}

/// Why a node call failed.
///
/// Cheap to build (no backtraces), so failing calls on hot paths stay fast.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The node ran and reported a failure.
    #[error("{0}")]
    Failed(String),
    /// The node cannot use its input.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The node's configuration (after rendering templates) is unusable.
    #[error("invalid config: {0}")]
    InvalidConfig(String),
    /// A resource limit (memory, fuel, instructions, time...) stopped the node.
    #[error("{limit} limit exceeded: {detail}")]
    LimitExceeded {
        /// Which limit.
        limit: Limit,
        /// What hit it.
        detail: String,
    },
    /// The node needed a capability its plugin was not granted.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The node did not finish within its `timeout`.
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// Plugin code panicked or trapped.
    #[error("crashed: {0}")]
    Crashed(String),
    /// The run was cancelled while the node ran.
    #[error("cancelled")]
    Cancelled,
}

impl NodeError {
    /// A failure with a message.
    pub fn failed(message: impl Into<String>) -> Self {
        NodeError::Failed(message.into())
    }

    /// Whether retrying the same call may succeed. Cancellation never retries.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, NodeError::Cancelled)
    }
}
