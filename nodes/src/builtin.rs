//! The scaffolding every built-in node type shares.

use std::marker::PhantomData;
use std::sync::Arc;

use pocket_core::{ConfigError, Node, NodeSetup, NodeType};

/// A built-in node type: its name, description, schema and how it binds to a node.
pub(crate) trait Builtin: Send + Sync + 'static {
    /// The type name.
    const NAME: &'static str;
    /// One-line description.
    const DESCRIPTION: &'static str;
    /// The config's JSON Schema.
    fn schema() -> serde_json::Value;
    /// Config keys the node interprets itself instead of having them rendered.
    const RAW_KEYS: &'static [&'static str] = &[];
    /// Binds the type to one workflow node.
    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError>;
}

/// Adapts a [`Builtin`] to [`NodeType`].
pub(crate) struct BuiltinType<B> {
    schema: serde_json::Value,
    kind: PhantomData<fn() -> B>,
}

impl<B: Builtin> BuiltinType<B> {
    pub(crate) fn shared() -> Arc<dyn NodeType> {
        Arc::new(BuiltinType::<B> {
            schema: B::schema(),
            kind: PhantomData,
        })
    }
}

impl<B: Builtin> NodeType for BuiltinType<B> {
    fn name(&self) -> &str {
        B::NAME
    }

    fn description(&self) -> &str {
        B::DESCRIPTION
    }

    fn config_schema(&self) -> Option<&serde_json::Value> {
        Some(&self.schema)
    }

    fn raw_config_keys(&self) -> &[&str] {
        B::RAW_KEYS
    }

    fn prepare(&self, setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        B::prepare(setup)
    }
}
