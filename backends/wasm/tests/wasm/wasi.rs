//! WASI preview 1 guests: what they may do by default and with grants, and
//! that each refusal or limit fails one node while the plugin goes on.

use pocket_core::{PluginLoader, testing};

use crate::common::{config, json, one_node, registry, run_graph};

const GUEST: &str = "wasi-guest.wat";

/// Runs node type `node_type` of the WASI guest under `toml`: its output, or its error's text.
async fn run(toml: &str, node_type: &str) -> Result<pocket_core::Value, String> {
    let config = config(toml);
    let registry = registry(&config, &[GUEST]);
    let graph = testing::graph(&one_node(node_type), &registry, &config).unwrap_or_else(|e| panic!("{e}"));
    let out = run_graph(&graph, "{}").await.map_err(|e| e.to_string())?;
    let ok = run_graph(&graph_of(&registry, &config), "{}").await.unwrap();
    assert_eq!(ok, json(r#""ok""#), "the plugin goes on after `{node_type}`");
    Ok(out)
}

fn graph_of(
    registry: &pocket_core::Registry,
    config: &pocket_core::PocketConfig,
) -> std::sync::Arc<pocket_core::Graph> {
    testing::graph(&one_node("ok"), registry, config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wasi_guest_loads_and_writes_to_its_log() {
    let out = run("[plugins.permissions]\nwasi-guest = [\"log\"]\n", "hello")
        .await
        .unwrap();
    assert_eq!(out, json(r#""ok""#));
    // Without the `log` grant its output is dropped, and the node still works.
    assert_eq!(run("", "hello").await.unwrap(), json(r#""ok""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_file_is_refused_with_ebadf_there_being_no_preopened_directory() {
    let err = run("", "pathopen").await.unwrap_err();
    assert!(err.contains("exited with code 8"), "{err}");
    // With a granted directory as descriptor 3, an absolute path is still
    // refused: paths are relative to the directory they are opened beneath.
    let granted = "[plugins.permissions]\nwasi-guest = [\"file:/tmp\"]\n";
    let err = run(granted, "pathopen").await.unwrap_err();
    assert!(err.contains("exited with code 76"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_is_refused_with_enotcapable() {
    let err = run("", "socket").await.unwrap_err();
    assert!(
        err.contains("wasm plugin `wasi-guest`") && err.contains("exited with code 76"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_environment_is_empty_unless_an_env_grant_names_a_variable() {
    // exit(0): no variables, and an exit with 0 is a null output.
    assert_eq!(run("", "env").await.unwrap(), pocket_core::Value::Null);
    let granted = "[plugins.permissions]\nwasi-guest = [\"env:PATH\"]\n";
    let err = run(granted, "env").await.unwrap_err();
    assert!(err.contains("exited with code 1"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_zero_ends_the_call_with_a_null_output() {
    assert_eq!(run("", "zero-exit").await.unwrap(), pocket_core::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_flooding_stdout_is_stopped_by_its_limits() {
    let toml = "[plugins.permissions]\nwasi-guest = [\"log\"]\n[plugins.limits.wasi-guest]\nfuel = 20000000\nlog_bytes = \"4KiB\"\n";
    let err = run(toml, "flood").await.unwrap_err();
    assert!(err.contains("fuel limit exceeded"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_work_a_wasi_call_does_is_charged_to_the_calls_fuel() {
    // 64 KiB of random bytes per call costs 8,192 units: the loop stops at
    // its fuel, long before its timeout, and the next call works.
    let toml = "[plugins.limits.wasi-guest]\nfuel = 20000000\ntimeout = \"60s\"\n";
    let err = run(toml, "random").await.unwrap_err();
    assert!(err.contains("fuel limit exceeded"), "{err}");
    assert_eq!(run(toml, "ok").await.unwrap(), pocket_core::Value::from("ok"));
}

#[test]
fn a_reactor_whose_initialize_never_ends_is_stopped_and_refused() {
    let config = config("[plugins.limits.init-loop]\nfuel = 10000000\n");
    let loaded = crate::common::loader().load(&crate::common::fixture("init-loop.wat"), &config);
    let err = loaded
        .err()
        .expect("the module loads only if its _initialize ends")
        .to_string();
    assert!(
        err.contains("_initialize failed") && err.contains("fuel limit exceeded"),
        "{err}"
    );
}
