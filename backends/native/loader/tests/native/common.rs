//! Helpers: loading the built libraries, one-node workflows, runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pocket_core::{Limits, LoadError, Plugin, PluginLoader, PocketConfig, Registry, RunError, Value, testing};
use pocket_native::NativeLoader;

pub use pocket_core::testing::{config, one_node};

use crate::libraries::library;

pub const TEXT_TOOLS: &str = "pocket-plugin-text-tools";
pub const REDIS_CACHE: &str = "pocket-plugin-redis-cache";
pub const CRASHY: &str = "pocket-native-fixture-crashy";
pub const NOT_A_PLUGIN: &str = "pocket-native-fixture-not-a-plugin";
pub const OLD_INTERFACE: &str = "pocket-native-fixture-old-interface";

/// The built library of `package`.
pub fn lib(package: &str) -> PathBuf {
    library(package)
}

/// Loads the library at `path` whatever its file is called (cargo names it
/// `libpocket_plugin_...`), bound to the policy of the name it declares.
pub fn load(path: &Path, config: &PocketConfig) -> Result<Arc<dyn Plugin>, LoadError> {
    let admitted = pocket_core::admit(path, &config.plugins)?;
    let opened = NativeLoader::new().open(
        &admitted.source(&pocket_core::file_plugin_name(path)),
        &Limits::default(),
    )?;
    let policy = config.policy(&opened.description().name);
    opened.bind(policy)
}

/// A registry with the given packages' plugins.
pub fn registry(packages: &[&str], config: &PocketConfig) -> Registry {
    let registry = Registry::new();
    for package in packages {
        let plugin = load(&lib(package), config).unwrap_or_else(|e| panic!("{e}"));
        registry.register(plugin).unwrap();
    }
    registry
}

/// Validates and runs a YAML workflow against the packages' plugins.
pub async fn run_yaml(yaml: &str, packages: &[&str], config: &PocketConfig, input: &str) -> Result<Value, RunError> {
    let graph = testing::graph(yaml, &registry(packages, config), config).unwrap_or_else(|e| panic!("{e}"));
    testing::run_graph(&graph, input).await
}
