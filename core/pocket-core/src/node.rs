//! What a node does when it runs: [`Node`], its call and its result.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pocket_value::Value;

use crate::context::RunContext;
use crate::limits::Limit;

/// A boxed, sendable future, as returned by asynchronous node executions.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The name of the action a node chose; it selects the outgoing edge.
pub type Action = Arc<str>;

/// The action a node takes when it names none.
pub const DEFAULT_ACTION: &str = "default";

/// The action whose edges receive a node's failure.
pub const ERROR_ACTION: &str = "error";

/// A node of a validated workflow, ready to run: a [`crate::NodeType`] bound to
/// one workflow node's static configuration by [`crate::NodeType::prepare`].
///
/// A running workflow holds its `Arc<dyn Node>`s, so unregistering or reloading
/// a plugin never changes the code a run in flight executes.
pub trait Node: Send + Sync {
    /// Runs the node once. Nodes that finish without waiting return
    /// [`Execution::Ready`], which the runner handles without allocating.
    fn exec<'a>(&'a self, call: NodeCall<'a>) -> Execution<'a>;

    /// The actions this node can take that are known before it runs (for
    /// example a `conditional`'s `then` values). The validator uses them to
    /// find reachable nodes and fan-in points; an empty list means "unknown".
    fn known_actions(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether an action with no edge of its own may continue at the node
    /// named like the action (the Go engine's `conditional`:
    /// `then: use-cache`). Off by default: any other node's action selects
    /// only among its own edges, so a plugin cannot jump to a node no edge
    /// leads to from it (past a `validate` step, say).
    fn jumps_to_named_nodes(&self) -> bool {
        false
    }
}

/// One call of a [`Node`].
pub struct NodeCall<'a> {
    /// The node's input: the previous node's output (or the fan-in object).
    pub input: Value,
    /// The node's configuration with its templates rendered against `input`.
    pub config: Value,
    /// The workflow node's name.
    pub node: &'a str,
    /// Which attempt this is, starting at 1.
    pub attempt: u32,
    /// When the node's `timeout` ends this attempt, if it has one. A body
    /// that runs synchronously (a script engine, a jq program) must stop by
    /// it: the runner cannot interrupt it.
    pub deadline: Option<Instant>,
    /// The run this call belongs to.
    pub run: &'a RunContext,
}

impl NodeCall<'_> {
    /// The time left before [`NodeCall::deadline`], if there is one.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }
}

/// The result of [`Node::exec`]: ready now, or a future to await.
pub enum Execution<'a> {
    /// The node finished synchronously.
    Ready(Result<NodeOutput, NodeError>),
    /// The node runs asynchronously.
    Pending(BoxFuture<'a, Result<NodeOutput, NodeError>>),
}

impl<'a> Execution<'a> {
    /// Wraps a future as a pending execution.
    pub fn pending(future: impl Future<Output = Result<NodeOutput, NodeError>> + Send + 'a) -> Self {
        Execution::Pending(Box::pin(future))
    }

    /// Waits for the result, whichever form it has.
    pub async fn finish(self) -> Result<NodeOutput, NodeError> {
        match self {
            Execution::Ready(result) => result,
            Execution::Pending(future) => future.await,
        }
    }
}

impl From<Result<NodeOutput, NodeError>> for Execution<'_> {
    fn from(result: Result<NodeOutput, NodeError>) -> Self {
        Execution::Ready(result)
    }
}

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
