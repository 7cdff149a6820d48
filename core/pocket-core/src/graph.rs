//! The validated, executable form of a workflow.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::location::Position;
use crate::outcome::{DEFAULT_ACTION, ERROR_ACTION};
use crate::plugin_call::WorkflowPluginCaller;
use crate::prepared::PreparedNode;
use crate::workflow::{RetrySpec, StoreSpec};

/// Index of a node in its [`Graph`].
pub type NodeId = usize;

/// A workflow checked against the registry: every type resolved, every config
/// checked and compiled, every edge pointing at a real node. Immutable; cheap
/// to share between concurrent runs.
pub struct Graph {
    pub(crate) name: Arc<str>,
    pub(crate) description: Option<String>,
    pub(crate) source: Option<PathBuf>,
    pub(crate) nodes: Vec<GraphNode>,
    pub(crate) by_name: HashMap<Arc<str>, NodeId>,
    pub(crate) start: NodeId,
    pub(crate) store: StoreSpec,
    pub(crate) max_steps: u64,
    /// What plugin calls made during its runs go through.
    pub(crate) plugin_caller: Arc<WorkflowPluginCaller>,
    pub(crate) triggers: Vec<crate::Trigger>,
}

/// One node of a [`Graph`].
pub struct GraphNode {
    pub(crate) prepared: PreparedNode,
    pub(crate) retry: Option<RetrySpec>,
    pub(crate) edges: Vec<Edge>,
    /// Present when several nodes lead here: the fan-in rule applies.
    pub(crate) join: Option<Join>,
    /// An action without an edge may continue at the node of that name
    /// ([`crate::Node::jumps_to_named_nodes`]).
    pub(crate) jumps_by_name: bool,
    pub(crate) position: Option<Position>,
}

/// The targets an action leads to.
#[derive(Debug, Clone)]
pub struct Edge {
    /// The action that selects this edge.
    pub action: Arc<str>,
    /// Where it leads, in declaration order.
    pub targets: Vec<NodeId>,
}

/// Fan-in bookkeeping for a node with several predecessors.
pub(crate) struct Join {
    /// The distinct nodes with an edge here.
    pub(crate) sources: Vec<NodeId>,
    /// `can_reach[n]`: whether node `n` has a path to this node.
    pub(crate) can_reach: Vec<bool>,
}

impl Graph {
    /// A fresh context for one run of this workflow (its store, its
    /// plugin-call table), stopped by `cancel`.
    pub fn run_context(&self, cancel: tokio_util::sync::CancellationToken) -> crate::RunContext {
        crate::RunContext::new(self.name.clone(), &self.store, cancel).with_plugin_caller(self.plugin_caller.clone())
    }

    /// The workflow's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What starts it under `pocket serve`.
    pub fn triggers(&self) -> &[crate::Trigger] {
        &self.triggers
    }

    /// The workflow's description.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The file it was read from.
    pub fn source(&self) -> Option<&std::path::Path> {
        self.source.as_deref()
    }

    /// The nodes, in file order.
    pub fn nodes(&self) -> &[GraphNode] {
        &self.nodes
    }

    /// The first node.
    pub fn start(&self) -> &GraphNode {
        &self.nodes[self.start]
    }

    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<&GraphNode> {
        self.by_name.get(name).map(|&id| &self.nodes[id])
    }

    /// The loop guard: how many node executions a run may take.
    pub fn max_steps(&self) -> u64 {
        self.max_steps
    }

    /// Where `action` leads from `from`: the edges with that action; else,
    /// from a node that jumps by name (`conditional`), the node named like
    /// the action; else the `default` edges; else nowhere (the branch ends).
    pub(crate) fn next(&self, from: NodeId, action: &str) -> &[NodeId] {
        let node = &self.nodes[from];
        if let Some(edge) = node.edge(action) {
            return &edge.targets;
        }
        if node.jumps_by_name
            && action != DEFAULT_ACTION
            && action != ERROR_ACTION
            && let Some((_, id)) = self.by_name.get_key_value(action)
        {
            return std::slice::from_ref(id);
        }
        node.edge(DEFAULT_ACTION).map_or(&[], |e| &e.targets)
    }
}

impl GraphNode {
    /// The node's name.
    pub fn name(&self) -> &str {
        &self.prepared.name
    }

    /// The node type as written in the workflow.
    pub fn type_name(&self) -> &str {
        &self.prepared.type_name
    }

    /// The plugin that provides the node type.
    pub fn plugin(&self) -> &str {
        &self.prepared.plugin
    }

    /// The prepared node: its bound implementation and compiled config.
    pub fn prepared(&self) -> &PreparedNode {
        &self.prepared
    }

    /// Outgoing edges, one per action.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// Where the node is defined in its file.
    pub fn position(&self) -> Option<Position> {
        self.position
    }

    /// The edge selected by `action`, if the node has one.
    pub(crate) fn edge(&self, action: &str) -> Option<&Edge> {
        self.edges.iter().find(|e| &*e.action == action)
    }
}
