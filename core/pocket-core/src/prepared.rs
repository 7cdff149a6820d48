//! What preparing a node yields, and the trait through which node types
//! that run other node types (such as `parallel`) prepare theirs.

use std::sync::Arc;
use std::time::Duration;

use pocket_value::Value;

use crate::config_template::ConfigTemplate;
use crate::error::PrepareError;
use crate::node::Node;
use crate::schema::ConfigSchema;

/// A node as written: what a [`NodeFactory`] needs to know about it.
#[derive(Debug, Clone, Copy)]
pub struct NodeRequest<'a> {
    /// The node's name.
    pub name: &'a str,
    /// Its type: `type` or `plugin/type`.
    pub node_type: &'a str,
    /// Its config as written (templates unrendered); `None` for no config.
    pub config: Option<&'a Value>,
    /// Time limit per call.
    pub timeout: Option<Duration>,
    /// The names of the nodes with an edge to this one (the sources of a
    /// fan-in); empty for a node a node type runs itself.
    pub sources: &'a [String],
}

/// Prepares nodes the way a workflow's own nodes are prepared (same registry
/// snapshot, pocket.toml and disabled built-ins), for node types that run
/// other node types (such as `parallel`).
pub trait NodeFactory: Sync {
    /// Runs the whole preparation pipeline for one node; every problem found is returned.
    fn prepare(&self, request: &NodeRequest<'_>) -> Result<PreparedNode, Vec<PrepareError>>;
}

/// A node bound to its type and config, ready to call any number of times.
pub struct PreparedNode {
    pub(crate) name: Arc<str>,
    pub(crate) type_name: String,
    /// The type's full name, `plugin/type`, as the registry resolved it.
    pub(crate) full_type: Arc<str>,
    pub(crate) plugin: Arc<str>,
    pub(crate) node: Arc<dyn Node>,
    pub(crate) config: ConfigTemplate,
    /// Checks rendered configs of templated nodes whose type has a schema.
    pub(crate) config_check: Option<ConfigSchema>,
    pub(crate) timeout: Option<Duration>,
}

impl PreparedNode {
    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node type as written.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// The node type's full name, `plugin/type`, as the registry resolved
    /// it (the same however the workflow wrote the type).
    pub fn full_type(&self) -> &str {
        &self.full_type
    }

    /// The plugin that provides the node type.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    /// The bound node implementation.
    pub fn node(&self) -> &Arc<dyn Node> {
        &self.node
    }
}
