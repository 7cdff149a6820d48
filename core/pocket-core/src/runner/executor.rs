//! Where a run's node attempts happen: in this process (the default), or
//! wherever a [`NodeExecutor`] sends them (a cluster's workers).

use pocket_value::Value;

use crate::context::RunContext;
use crate::graph::{Graph, GraphNode};
use crate::outcome::{BoxFuture, NodeError, NodeOutput};

/// Carries out node attempts for a run instead of the run's own process.
///
/// The runner still does everything else: it renders each node's config,
/// retries failed attempts with the node's backoff, routes outputs and keeps
/// the fan-in bookkeeping. An executor only answers "what did this attempt
/// produce", so a run's semantics do not depend on where its nodes ran.
pub trait NodeExecutor: Send + Sync {
    /// Runs one attempt of a node. The node's `timeout` is the executor's
    /// to enforce (where the attempt runs, through
    /// [`crate::PreparedNode::attempt`]); the runner stops waiting when the
    /// run is cancelled.
    fn attempt<'a>(&'a self, job: NodeJob<'a>) -> BoxFuture<'a, Result<NodeOutput, NodeError>>;
}

/// One node attempt an executor is asked to carry out.
pub struct NodeJob<'a> {
    /// The run's workflow.
    pub graph: &'a Graph,
    /// The node.
    pub node: &'a GraphNode,
    /// Its input.
    pub input: Value,
    /// Its config, templates rendered against the input.
    pub config: Value,
    /// Which execution of a node in this run the attempt belongs to: the
    /// same for every attempt of one execution, different between
    /// executions (numbered in the order the runner started them).
    pub execution: u64,
    /// Which attempt this is (1 for the first).
    pub attempt: u32,
    /// The run.
    pub run: &'a RunContext,
}
