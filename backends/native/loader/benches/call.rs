//! A native node call (through the loaded library: value conversion both
//! ways, the `#[sabi_trait]` vtable, `catch_unwind`) against a direct call of
//! the same Rust function, in the same run; after divan's table, the two
//! side by side and their ratio (the target is at most 2x).
//!
//! Run with `cargo bench -p pocket-native` (unset RUST_BACKTRACE). Each
//! iteration makes 1,000 calls; divan's time column is per 1,000 calls.

use std::sync::Arc;

use divan::Bencher;
use divan::counter::ItemsCount;
use pocket_core::{
    Execution, Invocation, Node, PluginLoader, PocketConfig, RunContext, StoreSpec, Value, prepare_standalone,
};
use pocket_native::NativeLoader;
use pocket_native_sdk::Call;
use pocket_test_support::libraries;
use tokio_util::sync::CancellationToken;

const CALLS: usize = 1_000;
const INPUT: &str = r#"{"id": 7, "text": "Pocket runs native plugins at close to plain Rust speed"}"#;

fn main() {
    divan::main();
    let (mut direct, mut node) = (direct_round(), node_round());
    pocket_core::testing::print_ratio(
        "native node call vs the same function called directly",
        "<= 2x",
        CALLS,
        &mut node,
        &mut direct,
    );
}

/// The baseline: the node's function called directly, values as they are.
#[divan::bench]
fn direct_function_call(bencher: Bencher) {
    bencher.counter(ItemsCount::new(CALLS)).bench_local(direct_round());
}

/// The same function as a node of the loaded library, through `Node::exec`.
#[divan::bench]
fn native_node_call(bencher: Bencher) {
    bencher.counter(ItemsCount::new(CALLS)).bench_local(node_round());
}

/// `CALLS` direct calls of the function.
fn direct_round() -> impl FnMut() {
    let input = Value::from_json(INPUT).unwrap();
    let config = Value::object([("field", Value::from("text"))]);
    move || {
        for _ in 0..CALLS {
            let call = Call::detached(input.clone(), config.clone());
            divan::black_box(pocket_plugin_text_tools::upper(call).unwrap());
        }
    }
}

/// `CALLS` calls of the node through `Node::exec`.
fn node_round() -> impl FnMut() {
    let config = Value::object([("field", Value::from("text"))]);
    // A config without templates: the runner passes the prepared value itself.
    let node = prepared_node("text-upper", &config);
    let run = RunContext::new("bench", &StoreSpec::default(), CancellationToken::new());
    let input = Value::from_json(INPUT).unwrap();
    move || {
        for _ in 0..CALLS {
            let call = Invocation {
                input: input.clone(),
                config: config.clone(),
                node: "bench",
                attempt: 1,
                deadline: None,
                run: &run,
            };
            match node.exec(call) {
                Execution::Ready(out) => divan::black_box(out.unwrap()),
                Execution::Pending(_) => unreachable!("text-upper is not a blocking node type"),
            };
        }
    }
}

fn prepared_node(node_type: &str, config: &Value) -> Arc<dyn Node> {
    let pocket = PocketConfig::default();
    let path = libraries::library("pocket-plugin-text-tools");
    // Opened and bound directly: cargo names the library `libpocket_plugin_...`.
    let admitted = pocket_core::admit(&path, &pocket.plugins).unwrap();
    let plugin = NativeLoader::new()
        .open(&admitted.source("native-text"), &pocket.limits("native-text"))
        .and_then(|opened| opened.bind(pocket.policy("native-text")))
        .unwrap();
    let node_type = plugin.node_types().into_iter().find(|t| t.name() == node_type).unwrap();
    prepare_standalone(node_type.as_ref(), "bench", config).unwrap()
}
