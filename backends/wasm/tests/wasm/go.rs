//! A plugin written in Go with the Go SDK (`backends/wasm/sdks/go`): the
//! example in `examples/plugins/wasm/go`, built for `wasip1` from source by
//! `scripts/build-go-plugins.sh` (which installs Go when it is missing).

use std::path::PathBuf;

use pocket_core::{PluginLoader, Registry, testing};

use crate::common::{config, example, json, loader, one_node, registry_of, run_graph, run_node, test_guest};

/// `examples/plugins/wasm/go-text.wasm`, built once per test process.
fn go_text() -> PathBuf {
    example("build-go-plugins.sh", "go-text.wasm")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_go_plugin_runs_its_node_types_and_reports_their_errors() {
    let config = config("[plugins.permissions]\ngo-text = [\"log\"]\n");
    let plugin = loader().load(&go_text(), &config).unwrap_or_else(|e| panic!("{e}"));
    let description = plugin.description().clone();
    assert_eq!(
        (description.name.as_str(), description.version.as_str()),
        ("go-text", "1.0.0")
    );
    assert_eq!(description.nodes.len(), 3);
    assert_eq!(description.nodes[0].examples.len(), 3, "its examples are read");
    let registry = Registry::new();
    registry.register(plugin).unwrap();
    let build = |node_type: &str| testing::graph(&one_node(node_type), &registry, &config).unwrap();
    assert_eq!(
        run_graph(&build("shout"), r#""hello""#).await.unwrap(),
        json(r#""HELLO!""#)
    );
    assert_eq!(
        run_graph(&build("words"), r#""a b c d""#).await.unwrap(),
        json(r#"{"words": 4}"#)
    );
    let err = run_graph(&build("shout"), "7").await.unwrap_err().to_string();
    assert!(err.contains("expected a string"), "{err}");
    // The instance goes on after an error.
    assert_eq!(
        run_graph(&build("shout"), r#""again""#).await.unwrap(),
        json(r#""AGAIN!""#)
    );
}

/// `backends/wasm/tests/go-guest`, which calls the Go SDK's host functions,
/// built once per test process into the target directory.
fn go_guest() -> PathBuf {
    test_guest(
        "build-go-plugins.sh",
        "backends/wasm/tests/go-guest",
        "target/go-guests/go-guest.wasm",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_go_sdk_reaches_config_kv_and_http_under_the_plugins_grants_and_reports_panics() {
    let config = config(
        "[plugins.permissions]\ngo-guest = [\"log\", \"kv\", \"http:127.0.0.1\", \"plugin_call:go-guest/*\"]\n\
         [plugins.config.go-guest]\ngreeting = \"hello\"\n",
    );
    let registry = registry_of(&config, &[&go_guest()]);
    let run = async |node_type: &str, input: &str| run_node(&registry, &config, node_type, input).await;
    assert_eq!(run("config", "null").await.unwrap(), json(r#""hello""#));
    assert_eq!(run("kv", r#"{"a": [1, 2]}"#).await.unwrap(), json(r#"{"a": [1, 2]}"#));
    // A host the plugin is not granted: refused before any connection.
    let denied = run("http", r#""http://denied.invalid/""#).await.unwrap_err();
    assert!(denied.contains("denied.invalid"), "{denied}");
    let panicked = run("panic", "null").await.unwrap_err();
    assert!(panicked.contains("panicked: boom"), "{panicked}");
    let failed = run("fail", "null").await.unwrap_err();
    assert!(failed.contains("it failed"), "{failed}");
    // Plugin calls: the callee's output comes back, and its failure too.
    let called = run("call", r#"{"type": "go-guest/config", "input": null}"#).await;
    assert_eq!(called.unwrap(), json(r#""hello""#));
    let failed = run("call", r#"{"type": "go-guest/fail", "input": null}"#)
        .await
        .unwrap_err();
    assert!(failed.contains("it failed"), "{failed}");
    assert_eq!(run("config", "null").await.unwrap(), json(r#""hello""#), "it goes on");
}
