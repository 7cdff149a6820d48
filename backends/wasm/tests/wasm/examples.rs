//! The example plugins (built from Rust with pocket-pdk by
//! scripts/build-plugins.sh, plus a hand-written .wat) and the example workflow.

use std::path::PathBuf;

use pocket_core::{PluginLoader, PocketConfig, Registry, RunOptions, parse_file, run, validate};

use crate::common::{build_once, json, loader, repo};

/// The example plugins' directory, built once per test run.
fn built() -> PathBuf {
    build_once("build-plugins.sh", &[]);
    repo().join("examples/plugins/wasm")
}

fn registry(config: &PocketConfig) -> Registry {
    let registry = Registry::new();
    for file in ["text-stats.wasm", "json-tools.wasm", "hello-wat.wat"] {
        let plugin = loader()
            .load(&built().join(file), config)
            .unwrap_or_else(|e| panic!("{e}"));
        registry.register(plugin).unwrap();
    }
    registry
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_workflow_runs_on_the_example_plugins() {
    let config = PocketConfig::load(&repo().join("pocket.toml")).unwrap();
    let registry = registry(&config);
    let file = parse_file(&repo().join("examples/workflows/wasm-text-report.yaml")).unwrap();
    let graph = validate(&file, &registry.catalog(), &config)
        .unwrap_or_else(|e| panic!("{e}"))
        .graph;

    let long = run(
        graph.clone(),
        json(r#"{"text": "one two three four five six"}"#),
        RunOptions::default(),
    )
    .await
    .unwrap()
    .output;
    assert_eq!(long.get("input"), Some(&json(r#"{"words": 6, "chars": 27}"#)), "{long}");
    assert_eq!(long.get("label"), Some(&json(r#""example""#)), "{long}");
    assert_eq!(long.get("seen"), Some(&json("1")), "{long}");

    let short = run(graph, json(r#"{"text": "hi"}"#), RunOptions::default())
        .await
        .unwrap()
        .output;
    assert_eq!(short, json(r#"{"message": "hello from wat"}"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_functions_errors_become_node_errors() {
    let config = PocketConfig::default();
    let registry = registry(&config);
    let yaml = "name: t\nstart: n\nnodes:\n  - name: n\n    type: word-stats\n    config: { field: body }\n";
    let file = pocket_core::parse_str(yaml, pocket_core::Format::Yaml).unwrap();
    let graph = validate(&file, &registry.catalog(), &config).unwrap().graph;
    let err = run(graph, json(r#"{"text": "x"}"#), RunOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("input has no string field `body`"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_branches_calling_one_plugin_run_concurrently() {
    let config = PocketConfig::default();
    let registry = registry(&config);
    let yaml = "name: t\nstart: a\nnodes:\n  - name: a\n    type: echo-json\n  - name: b\n    type: echo-json\n  - name: c\n    type: echo-json\nconnections:\n  - from: a\n    to: b\n  - from: a\n    to: c\n";
    let file = pocket_core::parse_str(yaml, pocket_core::Format::Yaml).unwrap();
    let graph = validate(&file, &registry.catalog(), &config).unwrap().graph;
    let out = run(graph, json(r#"{"n": 41}"#), RunOptions::default())
        .await
        .unwrap()
        .output;
    assert_eq!(out, json(r#"{"b": {"n": 41}, "c": {"n": 41}}"#));
}
