//! Small plugins for the core's own tests.

use std::sync::Arc;

use pocket_value::Value;

use crate::error::ConfigError;
use crate::node::{Execution, Node, NodeCall, NodeOutput};
use crate::plugin::{NodeSetup, NodeType, Plugin, PluginKind, PluginManifest};

/// A plugin with a fixed list of node types.
pub struct StaticPlugin {
    manifest: PluginManifest,
    types: Vec<Arc<dyn NodeType>>,
}

impl StaticPlugin {
    pub fn new(name: &str, types: Vec<Arc<dyn NodeType>>) -> Self {
        StaticPlugin {
            manifest: PluginManifest {
                name: name.into(),
                version: "0.0.0".into(),
                description: String::new(),
                author: String::new(),
                kind: PluginKind::Builtin,
                source: None,
            },
            types,
        }
    }
}

impl Plugin for StaticPlugin {
    fn manifest(&self) -> &PluginManifest {
        &self.manifest
    }

    fn node_types(&self) -> Vec<Arc<dyn NodeType>> {
        self.types.clone()
    }
}

/// The body of a test node: a closure over the call.
type NodeFn = Arc<dyn Fn(&NodeCall<'_>) -> Result<NodeOutput, crate::NodeError> + Send + Sync>;

/// A node type implemented by a closure over (input, config).
pub struct FnType {
    name: String,
    f: NodeFn,
}

pub fn fn_type(
    name: &str,
    f: impl Fn(&NodeCall<'_>) -> Result<NodeOutput, crate::NodeError> + Send + Sync + 'static,
) -> Arc<dyn NodeType> {
    Arc::new(FnType {
        name: name.into(),
        f: Arc::new(f),
    })
}

/// A node type that outputs the constant string `value`.
pub fn constant_type(name: &str, value: &str) -> Arc<dyn NodeType> {
    let value = Value::from(value);
    fn_type(name, move |_| Ok(NodeOutput::new(value.clone())))
}

struct FnNode(NodeFn);

impl NodeType for FnType {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        "test node"
    }

    fn prepare(&self, _setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        Ok(Arc::new(FnNode(self.f.clone())))
    }
}

impl Node for FnNode {
    fn exec<'a>(&'a self, call: NodeCall<'a>) -> Execution<'a> {
        Execution::Ready((self.0)(&call))
    }
}
