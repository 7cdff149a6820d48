//! A plugin written in Zig with the Zig SDK (`backends/wasm/sdks/zig`): the
//! example in `examples/plugins/wasm/zig`, a WASI reactor built from source
//! by `scripts/build-zig-plugins.sh` (which installs Zig when it is missing),
//! and a test guest (`backends/wasm/tests/zig-guest`) making every host call.

use std::path::PathBuf;

use pocket_core::{PluginLoader, PocketConfig, Registry, testing};

use crate::common::{
    config, counts_in_kv_under_its_grant, example, json, loader, one_node, registry_of, run_graph, run_node, test_guest,
};

/// `examples/plugins/wasm/zig-text.wasm`, built once per test process.
fn zig_text() -> PathBuf {
    example("build-zig-plugins.sh", "zig-text.wasm")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zig_plugin_runs_its_node_types_and_reports_their_errors() {
    let config = PocketConfig::default();
    let plugin = loader().load(&zig_text(), &config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plugin.description().name, "zig-text");
    assert_eq!(plugin.description().nodes[0].examples.len(), 2, "its examples are read");
    let registry = Registry::new();
    registry.register(plugin).unwrap();
    let build = |node_type: &str| testing::graph(&one_node(node_type), &registry, &config).unwrap();
    assert_eq!(
        run_graph(&build("reverse"), r#""hello""#).await.unwrap(),
        json(r#""olleh""#)
    );
    let tricky = r#"{"s": "a \"}] ,\"input\":", "n": [1, {"x": "]"}]}"#;
    assert_eq!(run_graph(&build("echo"), tricky).await.unwrap(), json(tricky));
    let err = run_graph(&build("reverse"), "7").await.unwrap_err().to_string();
    assert!(err.contains("expected a string"), "{err}");
    // Each call's allocations are freed by the next: a thousand calls stay in memory.
    let big = format!("\"{}\"", "x".repeat(100_000));
    for _ in 0..1000 {
        run_graph(&build("reverse"), &big).await.unwrap();
    }
    assert_eq!(run_graph(&build("reverse"), r#""ab""#).await.unwrap(), json(r#""ba""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_zig_example_counts_in_the_runs_kv_store_under_its_grant_and_is_refused_without() {
    counts_in_kv_under_its_grant(&zig_text(), "zig-text").await;
}

/// The test guest exercising every host call of the Zig SDK.
fn zig_guest() -> PathBuf {
    test_guest(
        "build-zig-plugins.sh",
        "backends/wasm/tests/zig-guest",
        "target/zig-guests/zig-guest.wasm",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_zig_sdk_reaches_config_kv_http_and_plugin_calls_under_the_plugins_grants() {
    let config = config(
        "[plugins.permissions]\nzig-guest = [\"log\", \"kv\", \"http:127.0.0.1\", \"plugin_call:zig-guest/*\"]\n\
         [plugins.config.zig-guest]\ngreeting = \"hello\"\n",
    );
    let registry = registry_of(&config, &[&zig_guest()]);
    let run = async |node_type: &str, input: &str| run_node(&registry, &config, node_type, input).await;
    assert_eq!(run("config", "null").await.unwrap(), json(r#""hello""#));
    assert_eq!(run("kv", r#"{"a": [1, 2]}"#).await.unwrap(), json(r#"{"a": [1, 2]}"#));
    assert_eq!(run("log", "null").await.unwrap(), json("null"));
    // A plugin call: the callee's output and action come back.
    let called = run("call", r#"{"type": "zig-guest/route", "input": [1]}"#)
        .await
        .unwrap();
    assert_eq!(called, json(r#"{"output": [1], "action": "side"}"#));
    // Host refusals and failures reach the guest as errors with the host's words.
    let tried = async |op: &str| run("try", &format!("\"{op}\"")).await.unwrap();
    let denied = tried("http_denied").await;
    assert_eq!(denied.get("error"), Some(&json(r#""Failed""#)), "{denied}");
    assert!(denied.to_string().contains("denied.invalid"), "{denied}");
    let failing = tried("call_failing").await;
    assert!(failing.to_string().contains("it failed"), "{failing}");
    let bad = tried("call_bad_input").await;
    assert_eq!(bad.get("error"), Some(&json(r#""InvalidArgument""#)), "{bad}");
    let not_granted = tried("call_denied").await;
    assert!(not_granted.to_string().contains("zig-text/echo"), "{not_granted}");
    // A megabyte through kv a hundred times: the host's buffers are freed.
    let chain = testing::graph(&testing::chain("bigkv", 100), &registry, &config).unwrap();
    assert_eq!(run_graph(&chain, "null").await.unwrap(), json("1000000"));
    let failed = run("fail", "null").await.unwrap_err();
    assert!(failed.contains("it failed"), "{failed}");
    assert_eq!(run("config", "null").await.unwrap(), json(r#""hello""#), "it goes on");
}
