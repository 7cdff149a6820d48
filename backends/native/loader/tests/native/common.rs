//! Helpers: loading the built libraries, one-node workflows, runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pocket_core::{
    Format, LoadError, Plugin, PluginLoader, PocketConfig, Registry, RunError, RunOptions, Value, parse_str, run,
    validate,
};
use pocket_native::NativeLoader;

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

pub fn config(toml: &str) -> PocketConfig {
    PocketConfig::parse(toml, Path::new("/tmp/pocket.toml")).unwrap()
}

pub fn load(path: &Path, config: &PocketConfig) -> Result<Arc<dyn Plugin>, LoadError> {
    NativeLoader::new().load(path, config)
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
    let file = parse_str(yaml, Format::Yaml).unwrap();
    let graph = validate(&file, &registry(packages, config).catalog(), config)
        .unwrap_or_else(|e| panic!("{e}"))
        .graph;
    run(graph, json(input), RunOptions::default()).await.map(|o| o.output)
}

/// A workflow with one node `n` of `node_type` with `config` (YAML flow).
pub fn one_node(node_type: &str, config: &str) -> String {
    format!("name: t\nstart: n\nnodes:\n  - name: n\n    type: {node_type}\n    config: {config}\n")
}

pub fn json(text: &str) -> Value {
    Value::from_json(text).unwrap()
}
