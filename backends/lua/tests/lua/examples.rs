//! The repository's example Lua plugins and workflow load and run.

use std::path::Path;
use std::sync::Arc;

use pocket_core::{PluginLoader, PocketConfig, Registry, RunOptions, Value, parse_file, run, validate};
use pocket_lua::{LuaLoader, LuaNodePlugin};

use crate::common::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_workflow_runs_with_the_example_plugins() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let config = PocketConfig::default();
    let registry = Registry::new();
    registry
        .register_built_in(Arc::new(LuaNodePlugin::new(config.policy("lua"))))
        .unwrap();
    for plugin in ["text-tools.lua", "json-reshaper.lua"] {
        registry
            .register(
                LuaLoader::new()
                    .load(&examples.join("plugins/lua").join(plugin), &config)
                    .unwrap(),
            )
            .unwrap();
    }
    let file = parse_file(&examples.join("workflows/lua-text-report.yaml")).unwrap();
    let graph = validate(&file, &registry.catalog(), &config)
        .unwrap_or_else(|e| panic!("{e}"))
        .graph;
    let input = json(
        r#"{"article": {"title": "Hello, Lua World!", "body": "Pocket runs sandboxed Lua scripts as workflow nodes."}}"#,
    );
    let out = run(graph, input, RunOptions::default()).await.unwrap().output;
    let report = out.get("report").unwrap();
    assert_eq!(report.get("summary"), Some(&Value::from("8 words, 52 characters")));
    assert_eq!(report.get("text"), Some(&Value::from("Pocket runs sandboxe…")));
    assert_eq!(report.get("truncated"), Some(&Value::Bool(true)));
    assert!(out.get("checked_at").and_then(Value::as_i64).is_some());
}
