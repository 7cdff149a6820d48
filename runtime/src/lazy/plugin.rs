//! [`LazyPlugin`]: a plugin registered from its cached description, loaded
//! the first time one of its node types is prepared.
//!
//! Until then it answers for the plugin from the description: its node
//! types resolve, their schemas check configs and `pocket nodes` lists
//! them, and none of its code has run. Loading is the full, eager path
//! (signature rule, name check, policy), so a plugin refused at load is
//! refused here too, as the node's config error naming the plugin.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use pocket_core::{
    ConfigError, LoadError, Node, NodeDescription, NodeSetup, NodeType, Plugin, PluginDescription, RateCounts,
};

/// Loads the real plugin behind a lazy one.
pub(crate) type Load = Box<dyn Fn() -> Result<Arc<dyn Plugin>, LoadError> + Send + Sync>;

/// A plugin whose description came from the cache; see the module docs.
pub struct LazyPlugin {
    state: Arc<State>,
    node_types: Vec<Arc<dyn NodeType>>,
}

struct State {
    path: PathBuf,
    description: PluginDescription,
    load: Load,
    loaded: OnceLock<Result<Arc<dyn Plugin>, String>>,
}

impl State {
    /// The real plugin, loaded on the first call.
    fn plugin(&self) -> Result<&Arc<dyn Plugin>, ConfigError> {
        let loaded = self.loaded.get_or_init(|| {
            tracing::debug!(plugin = %self.description.name, file = %self.path.display(), "loading on first use");
            (self.load)().map_err(|e| e.to_string())
        });
        loaded
            .as_ref()
            .map_err(|e| ConfigError::new(format!("plugin `{}` failed to load: {e}", self.description.name)))
    }
}

impl LazyPlugin {
    /// The plugin in `path` as `description` says it is, loaded by `load`
    /// when first needed.
    pub fn new(path: PathBuf, description: PluginDescription, load: Load) -> LazyPlugin {
        let state = Arc::new(State {
            path,
            description,
            load,
            loaded: OnceLock::new(),
        });
        let node_types = state
            .description
            .nodes
            .iter()
            .map(|node| {
                Arc::new(LazyNodeType {
                    state: state.clone(),
                    node: node.clone(),
                }) as Arc<dyn NodeType>
            })
            .collect();
        LazyPlugin { state, node_types }
    }
}

impl Plugin for LazyPlugin {
    fn description(&self) -> &PluginDescription {
        &self.state.description
    }

    fn node_types(&self) -> Vec<Arc<dyn NodeType>> {
        self.node_types.clone()
    }

    fn rate_counts(&self) -> Option<RateCounts> {
        match self.state.loaded.get() {
            Some(Ok(plugin)) => plugin.rate_counts(),
            _ => Some(RateCounts::default()),
        }
    }

    fn drop_idle(&self, now: Instant) -> usize {
        match self.state.loaded.get() {
            Some(Ok(plugin)) => plugin.drop_idle(now),
            _ => 0,
        }
    }
}

/// A node type of a [`LazyPlugin`]: described from the cache, prepared by
/// the real plugin's type of the same name.
struct LazyNodeType {
    state: Arc<State>,
    node: NodeDescription,
}

impl NodeType for LazyNodeType {
    fn description(&self) -> &NodeDescription {
        &self.node
    }

    fn prepare(&self, setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        let plugin = self.state.plugin()?;
        let real = plugin
            .node_types()
            .into_iter()
            .find(|t| t.name() == self.node.node_type)
            .ok_or_else(|| {
                ConfigError::new(format!(
                    "plugin `{}` no longer provides node type `{}` ({} changed since it was last loaded; run again)",
                    self.state.description.name,
                    self.node.node_type,
                    self.state.path.display()
                ))
            })?;
        real.prepare(setup)
    }
}
