//! Runner overhead: long chains, a wide fan-out/fan-in, and a deep-nesting echo chain.
//!
//! Run with `cargo bench -p pocket-nodes --bench runner` (unset RUST_BACKTRACE).
//! Divan's throughput column (items/s) counts node hops, so 1e9 / items-per-second is ns per hop.

use std::sync::Arc;

use divan::Bencher;
use divan::counter::ItemsCount;
use pocket_core::{Format, Graph, PocketConfig, Registry, RunOptions, Value, parse_str, run, validate};
use pocket_nodes::BuiltinPlugin;

fn main() {
    divan::main();
}

fn build(yaml: &str) -> Arc<Graph> {
    let registry = Registry::new();
    registry.register_built_in(Arc::new(BuiltinPlugin::new())).unwrap();
    let file = parse_str(yaml, Format::Yaml).unwrap();
    validate(&file, &registry.catalog(), &PocketConfig::default())
        .unwrap()
        .graph
}

fn chain(node_type: &str, length: usize) -> Arc<Graph> {
    build(&pocket_core::testing::chain(node_type, length))
}

fn fan_out(width: usize) -> Arc<Graph> {
    let mut yaml =
        String::from("name: fan\nstart: split\nnodes:\n- {name: split, type: router}\n- {name: join, type: router}\n");
    for i in 0..width {
        yaml.push_str(&format!("- {{name: b{i}, type: router}}\n"));
    }
    yaml.push_str("connections:\n");
    for i in 0..width {
        yaml.push_str(&format!("- {{from: split, to: b{i}}}\n- {{from: b{i}, to: join}}\n"));
    }
    build(&yaml)
}

fn bench_graph(bencher: Bencher, graph: Arc<Graph>, hops: usize) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let input = Value::from_json(r#"{"text": "hello world", "n": 41}"#).unwrap();
    bencher.counter(ItemsCount::new(hops)).bench_local(|| {
        let outcome = runtime
            .block_on(run(graph.clone(), input.clone(), RunOptions::default()))
            .unwrap();
        assert_eq!(usize::try_from(outcome.steps).unwrap(), hops);
        outcome
    });
}

/// 10,000 `router` nodes in a chain: pure runner overhead per hop.
#[divan::bench(sample_count = 20)]
fn chain_of_10k_routers(bencher: Bencher) {
    bench_graph(bencher, chain("router", 10_000), 10_000);
}

/// 10,000 `echo` nodes: each nests its input, so the result is 10,000 levels deep.
#[divan::bench(sample_count = 20)]
fn chain_of_10k_echoes(bencher: Bencher) {
    bench_graph(bencher, chain("echo", 10_000), 10_000);
}

/// One node fanning out to 1,000 branches that fan back in to one join.
#[divan::bench(sample_count = 20)]
fn fan_out_1000_and_join(bencher: Bencher) {
    bench_graph(bencher, fan_out(1000), 1002);
}
