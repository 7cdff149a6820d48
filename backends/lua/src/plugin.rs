//! [`LuaPlugin`]: a loaded `.lua` plugin file and its node types.

use std::sync::Arc;
use std::time::Instant;

use pocket_core::{
    ConfigError, Execution, Invocation, Node, NodeDescription, NodeSetup, NodeType, Plugin, PluginDescription,
    RateCounts, Value,
};

use crate::dispatch;
use crate::limits::Watch;
use crate::runtime::{CallRequest, Runtime};

/// A Lua plugin: its description and the node types its script provides.
/// Built by [`crate::LuaLoader`].
pub struct LuaPlugin {
    pub(crate) description: PluginDescription,
    pub(crate) node_types: Vec<Arc<dyn NodeType>>,
    /// What its node types run on: its host (whose rate windows count its
    /// calls) and its pool of instances.
    pub(crate) runtime: Arc<Runtime>,
}

impl Plugin for LuaPlugin {
    fn description(&self) -> &PluginDescription {
        &self.description
    }

    fn node_types(&self) -> Vec<Arc<dyn NodeType>> {
        self.node_types.clone()
    }

    fn rate_counts(&self) -> Option<RateCounts> {
        Some(self.runtime.host().rate_counts())
    }

    fn drop_idle(&self, now: Instant) -> usize {
        self.runtime.drop_idle(now)
    }
}

/// One node type of a Lua plugin.
pub(crate) struct LuaNodeType {
    pub description: NodeDescription,
    pub runtime: Arc<Runtime>,
    /// The key in the plugin's `nodes` table (table form); `None` for single-node scripts.
    pub entry: Option<Arc<str>>,
}

impl NodeType for LuaNodeType {
    fn description(&self) -> &NodeDescription {
        &self.description
    }

    fn prepare(&self, setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        Ok(Arc::new(PluginNode {
            runtime: self.runtime.clone(),
            entry: self.entry.clone(),
            plugin_config: setup
                .plugin_config
                .as_object()
                .filter(|o| !o.is_empty())
                .map(|_| setup.plugin_config.clone()),
        }))
    }
}

/// A workflow node using a Lua plugin's node type.
struct PluginNode {
    runtime: Arc<Runtime>,
    entry: Option<Arc<str>>,
    /// The plugin's config (pocket.toml and the workflow's `plugins:`), under the node's own keys.
    plugin_config: Option<Value>,
}

impl Node for PluginNode {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        let timeout = call.remaining();
        let config = match &self.plugin_config {
            Some(base) => layered(base, call.config),
            None => call.config,
        };
        let request = CallRequest {
            node_type: self.entry.clone(),
            input: call.input,
            config,
            timeout,
            run: Some(call.run.clone()),
            watch: Watch {
                cancel: Some(call.run.clone()),
                abandoned: None,
            },
        };
        dispatch::execute(self.runtime.clone(), request)
    }
}

/// `config`'s keys over `base`'s.
fn layered(base: &Value, config: Value) -> Value {
    match (base, config) {
        (Value::Object(base), Value::Object(own)) => {
            let mut merged = base.clone();
            let entries = merged.make_mut();
            for (key, value) in own.iter() {
                entries.insert(key.clone(), value.clone());
            }
            Value::Object(merged)
        }
        (base, Value::Null) => base.clone(),
        (_, config) => config,
    }
}
