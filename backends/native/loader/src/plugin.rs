//! [`NativePlugin`]: a loaded library's manifest and node types.

use std::path::Path;
use std::sync::Arc;

use pocket_core::{NodeType, Plugin, PluginKind, PluginManifest};
use pocket_native_abi::module::PluginDescriptor;

use crate::node::NativeNodeType;

/// A native plugin: what its library described when it was loaded.
/// Built by [`crate::NativeLoader`].
pub struct NativePlugin {
    manifest: PluginManifest,
    node_types: Vec<Arc<dyn NodeType>>,
}

impl NativePlugin {
    pub(crate) fn new(descriptor: PluginDescriptor, path: &Path) -> NativePlugin {
        let manifest = PluginManifest {
            name: descriptor.name.into_string(),
            version: descriptor.version.into_string(),
            description: descriptor.description.into_string(),
            author: descriptor.author.into_string(),
            kind: PluginKind::Native,
            source: Some(path.to_path_buf()),
        };
        let plugin: Arc<str> = manifest.name.as_str().into();
        let node_types = descriptor
            .node_types
            .into_iter()
            .map(|d| Arc::new(NativeNodeType::new(plugin.clone(), d)) as Arc<dyn NodeType>)
            .collect();
        NativePlugin { manifest, node_types }
    }
}

impl Plugin for NativePlugin {
    fn manifest(&self) -> &PluginManifest {
        &self.manifest
    }

    fn node_types(&self) -> Vec<Arc<dyn NodeType>> {
        self.node_types.clone()
    }
}
