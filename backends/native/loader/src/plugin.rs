//! [`NativePlugin`]: a loaded library's manifest and node types.

use std::path::Path;
use std::sync::Arc;

use pocket_core::{LoadError, NodeDescription, NodeType, OpenedPlugin, Plugin, PluginDescription, PluginKind, Policy};
use pocket_native_abi::module::PluginDescriptor;

use crate::node::NativeNodeType;

/// A native plugin: what its library described when it was loaded.
/// Built by [`crate::NativeLoader`].
pub struct NativePlugin {
    description: PluginDescription,
    node_types: Vec<Arc<dyn NodeType>>,
}

impl NativePlugin {
    /// The plugin `descriptor` describes; an error if it describes itself
    /// wrongly (malformed examples).
    pub(crate) fn new(descriptor: PluginDescriptor, path: &Path) -> Result<NativePlugin, String> {
        let name = descriptor.name.into_string();
        let plugin: Arc<str> = name.as_str().into();
        let node_types: Vec<Arc<dyn NodeType>> = descriptor
            .node_types
            .into_iter()
            .map(|d| Ok(Arc::new(NativeNodeType::new(plugin.clone(), d)?) as Arc<dyn NodeType>))
            .collect::<Result<_, String>>()?;
        let description = PluginDescription {
            name,
            version: descriptor.version.into_string(),
            description: descriptor.description.into_string(),
            author: descriptor.author.into_string(),
            kind: PluginKind::Native,
            source: Some(path.to_path_buf()),
            nodes: node_types.iter().map(|t| NodeDescription::of(t.as_ref())).collect(),
        };
        Ok(NativePlugin {
            description,
            node_types,
        })
    }
}

impl Plugin for NativePlugin {
    fn description(&self) -> &PluginDescription {
        &self.description
    }

    fn node_types(&self) -> Vec<Arc<dyn NodeType>> {
        self.node_types.clone()
    }
}

/// Native plugins are trusted code, running unsandboxed: opening the library
/// loads it whole, and binding it to a policy changes nothing (pocket.toml's
/// permissions and limits do not apply; its config reaches each node when it
/// is prepared).
impl OpenedPlugin for NativePlugin {
    fn description(&self) -> &PluginDescription {
        &self.description
    }

    fn bind(self: Box<Self>, _policy: Policy) -> Result<Arc<dyn Plugin>, LoadError> {
        Ok(Arc::new(*self))
    }
}
