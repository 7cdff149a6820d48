//! A plugin written in Go with the Go SDK (`backends/wasm/sdks/go`): the
//! example in `examples/plugins/wasm/go`, built for `wasip1` from source by
//! `scripts/build-go-plugins.sh` (which installs Go when it is missing).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use pocket_core::{PluginLoader, Registry, testing};

use crate::common::{config, json, loader, one_node, run_graph};

/// `examples/plugins/wasm/go-text.wasm`, built once per test process.
fn go_text() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let built = Command::new("bash")
                .arg(root.join("scripts/build-go-plugins.sh"))
                .output()
                .expect("cannot run bash");
            assert!(
                built.status.success(),
                "building the Go example failed:\n{}",
                String::from_utf8_lossy(&built.stderr)
            );
            root.join("examples/plugins/wasm/go-text.wasm")
        })
        .clone()
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
