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

use pocket_core::{BUILTIN_PLUGIN, NodeType, Plugin, PluginDescription, PluginKind};

use builtin::BuiltinType;

/// The `builtin` plugin: every node type compiled into Pocket.
pub struct BuiltinPlugin {
    description: PluginDescription,
}

impl BuiltinPlugin {
    /// The plugin, ready to register.
    pub fn new() -> Self {
        let mut description = PluginDescription::new(BUILTIN_PLUGIN, PluginKind::Builtin, &node_types());
        description.version = env!("CARGO_PKG_VERSION").to_string();
        description.description = "Node types built into Pocket".to_string();
        description.author = "Pocket".to_string();
        BuiltinPlugin { description }
    }
}

impl Default for BuiltinPlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl Plugin for BuiltinPlugin {
    fn description(&self) -> &PluginDescription {
        &self.description
    }

    fn node_types(&self) -> Vec<Arc<dyn NodeType>> {
        node_types()
    }
}

/// Every built-in node type.
fn node_types() -> Vec<Arc<dyn NodeType>> {
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

#[cfg(test)]
mod tests;

/// The unit tests count allocations as the `pocket` binary does (jq's memory limit).
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: pocket_core::thread_memory::CountingAllocator = pocket_core::thread_memory::CountingAllocator;
