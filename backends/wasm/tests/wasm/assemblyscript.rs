//! A plugin written in AssemblyScript with the AssemblyScript SDK
//! (`backends/wasm/sdks/assemblyscript`): the example in
//! `examples/plugins/wasm/assemblyscript`, built by
//! `scripts/build-as-plugins.sh` (which installs AssemblyScript from npm
//! when it is missing), and a test guest (`backends/wasm/tests/as-guest`)
//! making every host call.

use std::path::PathBuf;

use pocket_core::{PluginLoader, PocketConfig, Registry, testing};

use crate::common::{config, example, json, loader, one_node, registry_of, run_graph, run_node, test_guest};

/// `examples/plugins/wasm/as-text.wasm`, built once per test process.
fn as_text() -> PathBuf {
    example("build-as-plugins.sh", "as-text.wasm")
}

/// The test guest, built once per test process.
fn as_guest() -> PathBuf {
    test_guest(
        "build-as-plugins.sh",
        "backends/wasm/tests/as-guest",
        "target/as-guests/as-guest.wasm",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assemblyscript_plugin_runs_its_node_types_and_reports_their_errors() {
    let config = PocketConfig::default();
    let plugin = loader().load(&as_text(), &config).unwrap_or_else(|e| panic!("{e}"));
    let description = plugin.description().clone();
    let registry = Registry::new();
    registry.register(plugin).unwrap();
    assert_eq!(description.name, "as-text");
    assert_eq!(description.nodes.len(), 4);
    assert!(!description.nodes[0].examples.is_empty(), "its examples are read");
    let build = |node_type: &str| testing::graph(&one_node(node_type), &registry, &config).unwrap();
    assert_eq!(
        run_graph(&build("upper"), r#""straße""#).await.unwrap(),
        json(r#""STRASSE""#)
    );
    let tricky = r#"{"s": "a \"}] ,\"input\":", "n": [1, {"x": "]"}]}"#;
    assert_eq!(run_graph(&build("echo"), tricky).await.unwrap(), json(tricky));
    let err = run_graph(&build("upper"), "7").await.unwrap_err().to_string();
    assert!(err.contains("expected a string"), "{err}");
    // An abort (a failed assert) fails the node through `panic`, with where.
    let err = run_graph(&build("positive"), "-1").await.unwrap_err().to_string();
    assert!(
        err.contains("panicked: expected a positive number at main.ts:"),
        "{err}"
    );
    assert_eq!(
        run_graph(&build("upper"), r#""ab""#).await.unwrap(),
        json(r#""AB""#),
        "a fresh instance"
    );
    // The collector and the module-freed responses keep a thousand big calls in memory.
    let big = format!("\"{}\"", "x".repeat(100_000));
    for _ in 0..1000 {
        run_graph(&build("upper"), &big).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assemblyscript_sdk_reaches_config_kv_http_and_plugin_calls_under_the_plugins_grants() {
    let config = config(
        "[plugins.permissions]\nas-guest = [\"log\", \"kv\", \"http:127.0.0.1\", \"plugin_call:as-text/*\"]\n\
         [plugins.config.as-guest]\ngreeting = \"hello\"\n",
    );
    let registry = registry_of(&config, &[&as_guest(), &as_text()]);
    let run = async |node_type: &str, input: &str| {
        run_node(&registry, &config, &format!("as-guest/{node_type}"), input).await
    };
    assert_eq!(run("config", "null").await.unwrap(), json(r#""hello""#));
    assert_eq!(run("kv", r#"{"a": [1, 2]}"#).await.unwrap(), json(r#"{"a": [1, 2]}"#));
    assert_eq!(run("call", r#""shout""#).await.unwrap(), json(r#""SHOUT""#));
    let callee_failed = run("call", "7").await.unwrap_err();
    assert!(callee_failed.contains("expected a string"), "{callee_failed}");
    let denied = run("http", r#""http://denied.invalid/""#).await.unwrap_err();
    assert!(denied.contains("denied.invalid"), "{denied}");
    assert_eq!(run("random", "null").await.unwrap(), json("1"));
    assert_eq!(run("console", "null").await.unwrap(), json("null"));
    assert_eq!(run("big", "null").await.unwrap(), json("50000"));
    let thrown = run("throw", "1").await.unwrap_err();
    assert!(thrown.contains("panicked: boom at main.ts:"), "{thrown}");
    let out_of_range = run("oob", "7").await.unwrap_err();
    assert!(out_of_range.contains("Index out of range"), "{out_of_range}");
    let failed = run("fail", "null").await.unwrap_err();
    assert!(failed.contains("it failed"), "{failed}");
    assert_eq!(run("config", "null").await.unwrap(), json(r#""hello""#), "it goes on");
    // Without the `kv` grant the host's refusal reaches the node.
    let default = PocketConfig::default();
    let registry = registry_of(&default, &[&as_guest()]);
    let graph = testing::graph(&one_node("kv"), &registry, &default).unwrap();
    let refused = run_graph(&graph, "1").await.unwrap_err().to_string();
    assert!(refused.contains("kv"), "{refused}");
}
