//! [`NativePlugin`]: a loaded library's description and node types, bound
//! to the plugin's policy for its host calls.

use std::path::Path;
use std::sync::Arc;

use abi_stable::std_types::RString;
use pocket_core::{
    Capability, LoadError, NodeType, OpenedPlugin, Plugin, PluginDescription, PluginKind, Policy, RateCounts,
};
use pocket_host::PluginHost;
use pocket_native_abi::PluginDescriptor;

use crate::node::{NativeNodeType, NodeTypeParts};

/// A library opened and described, not yet bound to a policy.
pub(crate) struct OpenedNative {
    description: PluginDescription,
    node_types: Vec<NodeTypeParts>,
}

impl OpenedNative {
    /// What `descriptor` describes; an error if it describes itself wrongly
    /// (malformed examples).
    pub(crate) fn new(descriptor: PluginDescriptor, path: &Path) -> Result<OpenedNative, String> {
        let name = descriptor.name.into_string();
        let plugin: Arc<str> = name.as_str().into();
        let node_types = descriptor
            .node_types
            .into_iter()
            .map(|d| NodeTypeParts::new(plugin.clone(), d))
            .collect::<Result<Vec<_>, String>>()?;
        let listed: Vec<String> = descriptor.permissions.into_iter().map(RString::into_string).collect();
        let permissions = Capability::parse_list(&listed).map_err(|e| format!("permissions: {e}"))?;
        let description = PluginDescription {
            name,
            version: descriptor.version.into_string(),
            description: descriptor.description.into_string(),
            author: descriptor.author.into_string(),
            kind: PluginKind::Native,
            source: Some(path.to_path_buf()),
            nodes: node_types.iter().map(|parts| parts.description.clone()).collect(),
            permissions,
        };
        Ok(OpenedNative {
            description,
            node_types,
        })
    }
}

/// Native plugins are trusted code, running unsandboxed: opening the library
/// loads it whole. Binding gives its node types the plugin's host, through
/// which their host calls (log, kv, env, http) are checked against the
/// policy's permissions and host-call limits; no other limit applies.
impl OpenedPlugin for OpenedNative {
    fn description(&self) -> &PluginDescription {
        &self.description
    }

    fn bind(self: Box<Self>, policy: Policy) -> Result<Arc<dyn Plugin>, LoadError> {
        let host = PluginHost::bound(&self.description.name, &policy);
        let node_types = self
            .node_types
            .into_iter()
            .map(|parts| Arc::new(NativeNodeType::new(parts, host.clone())) as Arc<dyn NodeType>)
            .collect();
        Ok(Arc::new(NativePlugin {
            description: self.description,
            node_types,
            host,
        }))
    }
}

/// A native plugin: what its library described when it was loaded.
/// Built by [`crate::NativeLoader`].
pub struct NativePlugin {
    description: PluginDescription,
    node_types: Vec<Arc<dyn NodeType>>,
    /// Its host, whose rate windows count its calls.
    host: PluginHost,
}

impl Plugin for NativePlugin {
    fn description(&self) -> &PluginDescription {
        &self.description
    }

    fn node_types(&self) -> Vec<Arc<dyn NodeType>> {
        self.node_types.clone()
    }

    fn rate_counts(&self) -> Option<RateCounts> {
        Some(self.host.rate_counts())
    }
}
