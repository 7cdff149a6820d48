//! Helpers: registries with the Lua plugins, one-node workflows, runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pocket_core::testing;
use pocket_core::{Graph, PluginLoader, PocketConfig, Registry, Value, parse_file, validate};
use pocket_lua::{LuaLoader, LuaNodePlugin};

pub use pocket_core::testing::{config, json, run_graph};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// A registry with the `lua` node type and the given plugin fixtures.
pub fn registry(config: &PocketConfig, plugins: &[&str]) -> Registry {
    let registry = Registry::new();
    registry
        .register_built_in(Arc::new(LuaNodePlugin::new(config.policy("lua"))))
        .unwrap();
    for name in plugins {
        let plugin = LuaLoader::new()
            .load(&fixture(&format!("plugins/{name}")), config)
            .unwrap();
        registry.register(plugin).unwrap();
    }
    registry
}

pub fn graph_with(yaml: &str, config: &PocketConfig, plugins: &[&str]) -> Result<Arc<Graph>, String> {
    testing::graph(yaml, &registry(config, plugins), config).map_err(|e| e.to_string())
}

pub fn graph_file(name: &str, config: &PocketConfig) -> Arc<Graph> {
    let file = parse_file(&fixture(name)).unwrap();
    validate(&file, &registry(config, &[]).catalog(), config)
        .map(|v| v.graph)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A workflow with one `lua` node named `s` running `source`.
pub fn inline(source: &str) -> String {
    let body: String = source.lines().flat_map(|l| ["        ", l, "\n"]).collect();
    format!("name: t\nstart: s\nnodes:\n  - name: s\n    type: lua\n    config:\n      source: |\n{body}")
}

pub fn inline_graph(source: &str, config: &PocketConfig) -> Arc<Graph> {
    graph_with(&inline(source), config, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs one inline script with default limits and returns its output.
pub async fn eval(source: &str, input: &str) -> Value {
    let graph = inline_graph(source, &PocketConfig::default());
    run_graph(&graph, input).await.unwrap_or_else(|e| panic!("{e}"))
}

/// Small limits, so limit tests finish quickly.
pub const TIGHT: &str = "[plugins.limits]\nmemory = \"8MiB\"\ninstructions = 2000000\ntimeout = \"5s\"\n";
