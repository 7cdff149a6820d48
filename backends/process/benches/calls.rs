//! Process plugin calls, measured end to end through the runner (a one-node
//! workflow per call): the protocol's own cost with an echo child written in
//! Rust (this very binary, started with `--echo-child`), then the Python,
//! Node and Go examples' `echo`, each at 1 and 16 calls in flight; and the cold
//! start of a jailed Python plugin (loading it, then its first call).
//!
//! Prints one line per figure. Run with `cargo bench -p pocket-process`
//! (after `scripts/build-plugins.sh`, which readies the examples).

use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pocket_core::{Graph, PluginLoader, PocketConfig, Registry, testing};
use pocket_process::ProcessLoader;
use pocket_process::protocol::{read_frame, write_frame};
use serde_json::json;

/// Calls per figure.
const CALLS: usize = 4000;

fn main() {
    if std::env::args().any(|arg| arg == "--echo-child") {
        echo_child();
        return;
    }
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let rust = rust_echo_plugin(root.path());
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/plugins/process");
    for (label, manifest) in [
        ("Rust echo child (the protocol's own cost)", rust),
        ("Python (py-sql/echo)", examples.join("py-sql/pocket-plugin.toml")),
        (
            "Node.js (node-hash/echo)",
            examples.join("node-hash/pocket-plugin.toml"),
        ),
        ("Go (go-stats/echo)", examples.join("go-stats/pocket-plugin.toml")),
    ] {
        let graph = echo_graph(&manifest);
        runtime.block_on(async {
            // Started, and warm.
            for _ in 0..200 {
                testing::run_graph(&graph, r#"{"a": [1, "two"]}"#).await.unwrap();
            }
            let one = one_at_a_time(&graph).await;
            let many = in_flight(&graph, 16).await;
            println!(
                "{label}: 1 in flight: {:.0} calls/s, p50 {:.1} us, p99 {:.1} us; 16 in flight: {:.0} calls/s \
                 ({CALLS} calls each)",
                one.0, one.1, one.2, many
            );
        });
    }
    let manifest = examples.join("py-sql/pocket-plugin.toml");
    let mut cold = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let graph = echo_graph(&manifest);
        let loaded = started.elapsed();
        runtime.block_on(testing::run_graph(&graph, "1")).unwrap();
        cold.push((loaded, started.elapsed()));
    }
    cold.sort();
    let (loaded, first) = cold[2];
    println!(
        "Python cold start, jailed: load (start, describe) {:.0} ms, to the first call's answer {:.0} ms (median of 5)",
        ms(loaded),
        ms(first)
    );
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// A plugin directory whose program is this binary as an echo child.
fn rust_echo_plugin(root: &Path) -> PathBuf {
    let dir = root.join("rust-echo");
    std::fs::create_dir(&dir).unwrap();
    let exe = std::env::current_exe().unwrap();
    let manifest = dir.join("pocket-plugin.toml");
    std::fs::write(
        &manifest,
        format!(
            "name = \"rust-echo\"\nversion = \"1.0.0\"\nkind = \"process\"\ncommand = \"{}\"\nargs = [\"--echo-child\"]\n\
             [resources]\nmax_in_flight = 16\n",
            exe.display()
        ),
    )
    .unwrap();
    manifest
}

/// A one-node workflow of the plugin's `echo`.
fn echo_graph(manifest: &Path) -> Arc<Graph> {
    let config = PocketConfig::default();
    let plugin = ProcessLoader::new()
        .load(manifest, &config)
        .unwrap_or_else(|e| panic!("{e}"));
    let node_type = format!("{}/echo", plugin.description().name);
    let registry = Registry::new();
    registry.register(plugin).unwrap();
    testing::graph(&testing::one_node(&node_type, ""), &registry, &config).unwrap()
}

/// Calls/s, p50 and p99 in microseconds, one call at a time.
async fn one_at_a_time(graph: &Arc<Graph>) -> (f64, f64, f64) {
    let mut took = Vec::with_capacity(CALLS);
    let started = Instant::now();
    for _ in 0..CALLS {
        let call = Instant::now();
        testing::run_graph(graph, r#"{"a": [1, "two"]}"#).await.unwrap();
        took.push(call.elapsed());
    }
    let rate = CALLS as f64 / started.elapsed().as_secs_f64();
    took.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    (rate, us(took[CALLS / 2]), us(took[CALLS * 99 / 100]))
}

/// Calls/s with `tasks` calls in flight.
async fn in_flight(graph: &Arc<Graph>, tasks: usize) -> f64 {
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let graph = graph.clone();
            tokio::spawn(async move {
                for _ in 0..CALLS / tasks {
                    testing::run_graph(&graph, r#"{"a": [1, "two"]}"#).await.unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    (CALLS / tasks * tasks) as f64 / started.elapsed().as_secs_f64()
}

/// The echo child: answers `describe`, `prepare` and `exec` (its input) in
/// order, until stdin closes.
fn echo_child() {
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = BufWriter::new(std::io::stdout().lock());
    while let Ok(message) = read_frame::<_, serde_json::Value>(&mut input) {
        let id = message["id"].clone();
        let answer = match message["type"].as_str() {
            Some("describe") => json!({
                "type": "described", "id": id, "protocol": 1,
                "plugin": {"name": "rust-echo", "version": "1.0.0", "nodes": [{"type": "echo"}]}
            }),
            Some("prepare") => json!({"type": "prepared", "id": id}),
            Some("exec") => json!({"type": "result", "id": id, "output": message["input"]}),
            Some("shutdown") => return,
            _ => continue,
        };
        if write_frame(&mut output, &answer).is_err() {
            return;
        }
    }
}
