//! Guests written in Rust with pocket-pdk (`tests/guests`), built for
//! wasm32-unknown-unknown by the tests themselves.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use pocket_core::{PluginLoader, PocketConfig, Registry, testing};

use crate::common::{json, loader, one_node, run_graph};

const TARGET: &str = "wasm32-unknown-unknown";

/// The module of test guest `name`, built (once per test process) with the
/// cargo that runs the tests, into the target directory the example
/// plugins' build uses, so they share compiled dependencies.
fn guest(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let out = BUILT.get_or_init(|| {
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target_dir = manifest_dir.join("../../target/wasm-guests");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args(["build", "--quiet", "--release", "--target", TARGET, "--manifest-path"])
            .arg(manifest_dir.join("tests/guests/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .output()
            .expect("cannot run cargo");
        assert!(
            output.status.success(),
            "building the test guests failed (scripts/test.sh adds the {TARGET} target):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        target_dir.join(TARGET).join("release")
    });
    out.join(format!("{}.wasm", name.replace('-', "_")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_rust_guest_reports_its_panic_message_and_location() {
    let config = PocketConfig::default();
    let registry = Registry::new();
    let plugin = loader()
        .load(&guest("panicky"), &config)
        .unwrap_or_else(|e| panic!("{e}"));
    registry.register(plugin).unwrap();
    let build = |node_type: &str| testing::graph(&one_node(node_type), &registry, &config).unwrap();

    let err = run_graph(&build("attack"), "3").await.unwrap_err().to_string();
    assert!(
        err.contains("plugin `panicky`")
            && err.contains("panicked: index out of bounds: the len is 0 but the index is 3")
            && err.contains("src/lib.rs:9:"),
        "{err}"
    );
    assert!(!err.contains("unreachable"), "{err}");
    assert_eq!(
        run_graph(&build("ok"), "null").await.unwrap(),
        json(r#""ok""#),
        "the next call works"
    );
}
