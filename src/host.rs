//! The assembled host: configuration plus a registry with every plugin loaded.

use std::sync::Arc;

use anyhow::Context;
use pocket_core::{PocketConfig, Registry};
use pocket_nodes::BuiltinPlugin;

/// Everything a command needs: pocket.toml and the registry.
pub struct Host {
    pub config: PocketConfig,
    pub registry: Registry,
}

impl Host {
    /// Loads pocket.toml (explicit path, `$POCKET_CONFIG`, or the nearest one
    /// upwards) and registers the built-in plugin.
    pub fn load(explicit_config: Option<&std::path::Path>) -> anyhow::Result<Host> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let config = PocketConfig::discover(explicit_config, &cwd)?;
        if let Some(path) = &config.path {
            tracing::debug!(config = %path.display(), "loaded pocket.toml");
        }
        let registry = Registry::new();
        registry.register(Arc::new(BuiltinPlugin::new()))?;
        Ok(Host { config, registry })
    }
}
