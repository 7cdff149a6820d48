//! A Lua node call with a small table in and out, against a raw mlua call
//! doing the same work, and the two ways of keeping tokio's workers free.
//!
//! Run with `cargo bench -p pocket-lua` (unset RUST_BACKTRACE). Each
//! iteration makes 1,000 calls; divan's time column is per 1,000 calls, so
//! divide by 1,000 for one call (or read the items/s throughput).

use std::sync::Arc;

use divan::Bencher;
use divan::counter::ItemsCount;
use pocket_core::{
    Execution, Invocation, Node, Plugin, PocketConfig, RunContext, StoreSpec, Value, prepare_standalone,
};
use pocket_lua::LuaNodePlugin;
use tokio_util::sync::CancellationToken;

const CALLS: usize = 1_000;
const SOURCE: &str = "return { n = input.n + 1, s = input.s }";

fn main() {
    divan::main();
    let (mut raw, mut node) = (raw_round(), node_round(multi_thread()));
    pocket_core::testing::print_ratio(
        "Lua node call in a multi-thread runtime task vs raw mlua",
        "<= 5x",
        CALLS,
        &mut node,
        &mut raw,
    );
}

/// The baseline: build the table, call the function, read the result's fields.
#[divan::bench]
fn raw_mlua_call(bencher: Bencher) {
    bencher.counter(ItemsCount::new(CALLS)).bench_local(raw_round());
}

/// `CALLS` raw mlua calls.
fn raw_round() -> impl FnMut() {
    let lua = mlua::Lua::new();
    let function: mlua::Function = lua
        .load("return function(input) return { n = input.n + 1, s = input.s } end")
        .eval()
        .unwrap();
    move || {
        for _ in 0..CALLS {
            let input = lua.create_table().unwrap();
            input.raw_set("n", 41).unwrap();
            input.raw_set("s", "hello").unwrap();
            let out: mlua::Table = function.call(input).unwrap();
            let n: i64 = out.raw_get("n").unwrap();
            let s: String = out.raw_get("s").unwrap();
            divan::black_box((n, s));
        }
    }
}

fn prepared_node() -> Arc<dyn Node> {
    let pocket = PocketConfig::default();
    let plugin = LuaNodePlugin::new(pocket.policy("lua"));
    let config = Value::object([("source", Value::from(SOURCE))]);
    prepare_standalone(plugin.node_types()[0].as_ref(), "bench", &config).unwrap()
}

fn context() -> RunContext {
    RunContext::new("bench", &StoreSpec::default(), CancellationToken::new())
}

/// One call of the bench node with `input`.
fn call<'a>(input: &Value, run: &'a RunContext) -> Invocation<'a> {
    Invocation {
        input: input.clone(),
        config: Value::Null,
        node: "bench",
        attempt: 1,
        deadline: None,
        run,
    }
}

async fn calls(node: &dyn Node, run: &RunContext, input: &Value) {
    for _ in 0..CALLS {
        let out = node.exec(call(input, run)).finish().await.unwrap();
        divan::black_box(out);
    }
}

/// `CALLS` node calls inside a task spawned on `runtime`, as the runner's
/// branches run.
fn node_round(runtime: tokio::runtime::Runtime) -> impl FnMut() {
    let node = prepared_node();
    let run = context();
    let input = Value::from_json(r#"{"n": 41, "s": "hello"}"#).unwrap();
    move || {
        let (node, run, input) = (node.clone(), run.clone(), input.clone());
        runtime
            .block_on(runtime.spawn(async move { calls(&*node, &run, &input).await }))
            .unwrap();
    }
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// Through `Node::exec` on a multi-threaded runtime (`block_in_place`).
#[divan::bench]
fn lua_node_call_multi_thread(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(CALLS))
        .bench_local(node_round(multi_thread()));
}

/// Through `Node::exec` on a current-thread runtime (`spawn_blocking`).
#[divan::bench]
fn lua_node_call_current_thread(bencher: Bencher) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    bencher.counter(ItemsCount::new(CALLS)).bench_local(node_round(runtime));
}

/// Through `Node::exec` outside any runtime: the call runs in place, so this
/// is the backend's own cost without any scheduling.
#[divan::bench]
fn lua_node_call_in_place(bencher: Bencher) {
    let node = prepared_node();
    let run = context();
    let input = Value::from_json(r#"{"n": 41, "s": "hello"}"#).unwrap();
    bencher.counter(ItemsCount::new(CALLS)).bench_local(|| {
        for _ in 0..CALLS {
            match node.exec(call(&input, &run)) {
                Execution::Ready(out) => divan::black_box(out.unwrap()),
                Execution::Pending(_) => unreachable!("outside a runtime calls run in place"),
            };
        }
    });
}
