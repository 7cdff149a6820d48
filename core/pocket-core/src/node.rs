//! What a node does when it runs: [`Node`], its call and its [`Execution`]
//! (the outcome types are `outcome.rs`'s).

use std::future::Future;
use std::time::{Duration, Instant};

use pocket_value::Value;

use crate::context::RunContext;
use crate::outcome::{BoxFuture, NodeError, NodeOutput};

/// A node of a validated workflow, ready to run: a [`crate::NodeType`] bound to
/// one workflow node's static configuration by [`crate::NodeType::prepare`].
///
/// A running workflow holds its `Arc<dyn Node>`s, so unregistering or reloading
/// a plugin never changes the code a run in flight executes.
pub trait Node: Send + Sync {
    /// Runs the node once. Nodes that finish without waiting return
    /// [`Execution::Ready`], which the runner handles without allocating.
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a>;

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

/// One invocation of a [`Node`]: what [`Node::exec`] runs on.
pub struct Invocation<'a> {
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

impl Invocation<'_> {
    /// The time left before [`Invocation::deadline`], if there is one.
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
