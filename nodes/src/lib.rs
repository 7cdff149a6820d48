//! Pocket's built-in node types, registered together as the `builtin` plugin.
//!
//! Each type lives in its own module and keeps the Go Pocket engine's config
//! keys and output shapes, so workflows written for that engine run unchanged.

mod aggregate;
mod builtin;
mod conditional;
mod delay;
mod echo;
mod exec;
mod file;
mod get;
mod http;
mod jq;
mod jsonpath;
mod parallel;
mod router;
mod set;
mod template;
mod transform;
mod validate;

use std::sync::Arc;

use pocket_core::{BUILTIN_PLUGIN, NodeType, Plugin, PluginKind, PluginManifest};

use builtin::BuiltinType;

/// The `builtin` plugin: every node type compiled into Pocket.
pub struct BuiltinPlugin {
    manifest: PluginManifest,
}

impl BuiltinPlugin {
    /// The plugin, ready to register.
    pub fn new() -> Self {
        BuiltinPlugin {
            manifest: PluginManifest {
                name: BUILTIN_PLUGIN.to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
                description: "Node types built into Pocket".to_string(),
                author: "Pocket".to_string(),
                kind: PluginKind::Builtin,
                source: None,
            },
        }
    }
}

impl Default for BuiltinPlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl Plugin for BuiltinPlugin {
    fn manifest(&self) -> &PluginManifest {
        &self.manifest
    }

    fn node_types(&self) -> Vec<Arc<dyn NodeType>> {
        vec![
            BuiltinType::<echo::Echo>::shared(),
            BuiltinType::<delay::Delay>::shared(),
            BuiltinType::<router::Router>::shared(),
            BuiltinType::<conditional::Conditional>::shared(),
            BuiltinType::<transform::Transform>::shared(),
            BuiltinType::<template::TemplateNode>::shared(),
            BuiltinType::<jsonpath::JsonPathNode>::shared(),
            BuiltinType::<validate::Validate>::shared(),
            BuiltinType::<aggregate::Aggregate>::shared(),
            BuiltinType::<http::Http>::shared(),
            BuiltinType::<file::File>::shared(),
            BuiltinType::<exec::Exec>::shared(),
            BuiltinType::<parallel::Parallel>::shared(),
            BuiltinType::<set::Set>::shared(),
            BuiltinType::<get::Get>::shared(),
        ]
    }
}

#[cfg(test)]
mod tests;
