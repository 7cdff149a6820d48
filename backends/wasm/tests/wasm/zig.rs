//! A plugin written in Zig with the Zig SDK (`backends/wasm/sdks/zig`): the
//! example in `examples/plugins/wasm/zig`, a WASI reactor built from source
//! by `scripts/build-zig-plugins.sh` (which installs Zig when it is missing).

use std::path::PathBuf;
use std::sync::OnceLock;

use pocket_core::{PluginLoader, PocketConfig, Registry, testing};

use crate::common::{json, loader, one_node, repo, run_graph, run_script};

/// `examples/plugins/wasm/zig-text.wasm`, built once per test process.
fn zig_text() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            run_script("build-zig-plugins.sh", &[]);
            repo().join("examples/plugins/wasm/zig-text.wasm")
        })
        .clone()
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
