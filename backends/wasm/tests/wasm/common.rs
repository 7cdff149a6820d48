//! Helpers: engines with a test cache, registries of fixtures, one-node workflows.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use pocket_core::{Graph, PluginLoader, PocketConfig, Registry, Value, testing};
use pocket_wasm::{WasmEngine, WasmLoader};

pub use pocket_core::testing::{config, json, run_graph};

/// The repository's root directory.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs `scripts/SCRIPT` with `args` (paths relative to the repository:
/// a build that installs its toolchain when missing) once per test process:
/// a later call with the same script and arguments returns at once, and
/// builds never run side by side. Panics with what the script printed if it
/// fails.
pub fn build_once(script: &str, args: &[&str]) {
    static DONE: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let key = format!("{script} {}", args.join(" "));
    let mut done = DONE.lock().unwrap_or_else(PoisonError::into_inner);
    if done.contains(&key) {
        return;
    }
    let ran = std::process::Command::new("bash")
        .arg(repo().join("scripts").join(script))
        .args(args.iter().map(|arg| repo().join(arg)))
        .output()
        .expect("cannot run bash");
    assert!(
        ran.status.success(),
        "scripts/{script} failed:\n{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    done.push(key);
}

/// The example plugin `examples/plugins/wasm/FILE`, built by `scripts/SCRIPT`
/// once per test process.
pub fn example(script: &str, file: &str) -> PathBuf {
    build_once(script, &[]);
    repo().join("examples/plugins/wasm").join(file)
}

/// A test guest built from `source` into `out` by `scripts/SCRIPT SOURCE
/// OUT`, once per test process.
pub fn test_guest(script: &str, source: &str, out: &str) -> PathBuf {
    build_once(script, &[source, out]);
    repo().join(out)
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// One engine for the whole test binary, caching into the target directory.
pub fn engine() -> WasmEngine {
    static ENGINE: OnceLock<WasmEngine> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/wasm-test-cache");
            WasmEngine::builder().cache_dir(dir).build()
        })
        .clone()
}

pub fn loader() -> WasmLoader {
    WasmLoader::with_engine(engine())
}

/// A registry with the given fixtures loaded.
pub fn registry(config: &PocketConfig, fixtures: &[&str]) -> Registry {
    let registry = Registry::new();
    for name in fixtures {
        let plugin = loader().load(&fixture(name), config).unwrap_or_else(|e| panic!("{e}"));
        registry.register(plugin).unwrap();
    }
    registry
}

/// A registry with the plugin files `plugins` loaded under `config`.
pub fn registry_of(config: &PocketConfig, plugins: &[&Path]) -> Registry {
    let registry = Registry::new();
    for plugin in plugins {
        let plugin = loader().load(plugin, config).unwrap_or_else(|e| panic!("{e}"));
        registry.register(plugin).unwrap();
    }
    registry
}

/// The `count` node type the Zig and JavaScript examples share: it adds 1
/// to a counter in the run's kv store (under its config's `key`) with the
/// `kv` grant, each key apart and each run afresh, and fails with the host's
/// refusal without the grant.
pub async fn counts_in_kv_under_its_grant(plugin: &Path, name: &str) {
    let granted = config(&format!("[plugins.permissions]\n{name} = [\"log\", \"kv\"]\n"));
    let registry = registry_of(&granted, &[plugin]);
    let yaml = "name: t\nstart: a\nnodes:\n  - {name: a, type: count}\n  - {name: b, type: count}\n  \
                - {name: o, type: count, config: {key: other}}\n  - {name: c, type: count}\n\
                connections:\n  - {from: a, to: b}\n  - {from: b, to: o}\n  - {from: o, to: c}\n";
    let graph = testing::graph(yaml, &registry, &granted).unwrap();
    assert_eq!(
        run_graph(&graph, "null").await.unwrap(),
        json("3"),
        "`other` counts apart"
    );
    let one = testing::graph(&one_node("count"), &registry, &granted).unwrap();
    assert_eq!(
        run_graph(&one, "null").await.unwrap(),
        json("1"),
        "a new run, a new store"
    );
    // Without the `kv` grant (pocket.toml's default grants `log` only).
    let default = PocketConfig::default();
    let registry = registry_of(&default, &[plugin]);
    let one = testing::graph(&one_node("count"), &registry, &default).unwrap();
    let err = run_graph(&one, "null").await.unwrap_err().to_string();
    assert!(err.contains("the host refused the call"), "{err}");
}

pub fn graph(yaml: &str, config: &PocketConfig, fixtures: &[&str]) -> Arc<Graph> {
    testing::graph(yaml, &registry(config, fixtures), config).unwrap_or_else(|e| panic!("{e}"))
}

/// A workflow of one node `n` of type `node_type`.
pub fn one_node(node_type: &str) -> String {
    testing::one_node(node_type, "")
}

/// Runs a one-node workflow of `node_type` from `registry` on `input`: its
/// output, or its error as text.
pub async fn run_node(
    registry: &Registry,
    config: &PocketConfig,
    node_type: &str,
    input: &str,
) -> Result<Value, String> {
    let graph = testing::graph(&one_node(node_type), registry, config).unwrap_or_else(|e| panic!("{e}"));
    run_graph(&graph, input).await.map_err(|e| e.to_string())
}

/// Runs node `attack` of `fixture` (expecting a failure whose text contains
/// each of `expected`), then node `ok` of the same plugin, which must work.
pub async fn attack_then_recover(fixture_name: &str, toml: &str, expected: &[&str]) -> String {
    let config = config(toml);
    let registry = registry(&config, &[fixture_name]);
    let build =
        |node_type: &str| testing::graph(&one_node(node_type), &registry, &config).unwrap_or_else(|e| panic!("{e}"));
    let err = run_graph(&build("attack"), "{}").await.unwrap_err().to_string();
    for part in expected {
        assert!(err.contains(part), "expected `{part}` in: {err}");
    }
    assert_eq!(
        run_graph(&build("ok"), "{}").await.unwrap(),
        json(r#""ok""#),
        "the next call works"
    );
    err
}
