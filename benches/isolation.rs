//! The per-call cost of process isolation: the same native node (the
//! text-tools example's `text-upper`) called in-process and in its own
//! process (`isolation = "process"`, served by this package's `pocket
//! __native-child`), through `Node::exec` as the runner calls it.
//!
//! Run with `cargo bench --bench isolation` (unset RUST_BACKTRACE). Each
//! iteration makes 100 calls; divan's time column is per 100 calls.

use std::sync::Arc;

use divan::Bencher;
use divan::counter::ItemsCount;
use pocket_core::{
    Execution, Invocation, Isolation, Node, PluginLoader, PocketConfig, RunContext, StoreSpec, Value,
    prepare_standalone,
};
use pocket_native::{ChildCommand, NativeLoader};
use pocket_test_support::libraries;
use tokio_util::sync::CancellationToken;

const CALLS: usize = 100;
const INPUT: &str = r#"{"id": 7, "text": "Pocket runs native plugins at close to plain Rust speed"}"#;

fn main() {
    divan::main();
}

/// In the host process: the default.
#[divan::bench]
fn in_process_call(bencher: Bencher) {
    calls(bencher, Isolation::InProcess);
}

/// In a plugin process: two frames over pipes and a context switch each way.
#[divan::bench]
fn process_isolated_call(bencher: Bencher) {
    calls(bencher, Isolation::Process);
}

fn calls(bencher: Bencher, isolation: Isolation) {
    // The config the node was prepared with, passed to every call, as the
    // runner passes a config without templates: neither path sends it again.
    let config = Value::object([("field", Value::from("text"))]);
    let node = prepared_node(isolation, &config);
    let run = RunContext::new("bench", &StoreSpec::default(), CancellationToken::new());
    let input = Value::from_json(INPUT).unwrap();
    bencher.counter(ItemsCount::new(CALLS)).bench_local(|| {
        for _ in 0..CALLS {
            let call = Invocation {
                input: input.clone(),
                config: config.clone(),
                node: "bench",
                attempt: 1,
                deadline: None,
                run: &run,
            };
            // Outside a runtime, even an isolated call runs in place.
            match node.exec(call) {
                Execution::Ready(out) => divan::black_box(out.unwrap()),
                Execution::Pending(_) => unreachable!("no runtime: calls run in place"),
            };
        }
    });
}

fn prepared_node(isolation: Isolation, config: &Value) -> Arc<dyn Node> {
    let path = libraries::library("pocket-plugin-text-tools");
    let loader =
        NativeLoader::new().isolating_with(ChildCommand::new(env!("CARGO_BIN_EXE_pocket")).arg("__native-child"));
    let policy = pocket_core::Policy {
        isolation,
        ..PocketConfig::default().policy("native-text")
    };
    let admitted = pocket_core::admit(&path, &PocketConfig::default().plugins).unwrap();
    let plugin = loader
        .open_for(&admitted.source("native-text"), &policy)
        .and_then(|opened| opened.bind(policy))
        .unwrap();
    let node_type = plugin
        .node_types()
        .into_iter()
        .find(|t| t.name() == "text-upper")
        .unwrap();
    prepare_standalone(node_type.as_ref(), "bench", config).unwrap()
}
