//! A WASM node call with small JSON in and out (`{"text":"hello world","n":41}`,
//! the payload Extism's echo benchmark uses) against raw wasmer calls in the
//! same run, with and without fuel metering, and a cold compile against a
//! load from the module cache.
//!
//! Then, per guest language, the module's size, a cold compile, a load from
//! the module cache and an echo node call (Rust with pocket-pdk, Go with the
//! Go SDK on WASI...), and an Extism echo guest (built with Extism's own
//! Rust PDK) called by Pocket and by Extism's own runtime (libextism, from
//! PyPI's extism-sys) in the same run.
//!
//! Run with `cargo bench -p pocket-wasm` (unset RUST_BACKTRACE). The example
//! plugins are built first (scripts/build-plugins.sh). Call benchmarks make
//! 1,000 calls per iteration: divide divan's time column by 1,000 for one
//! call (or read the items/s throughput).

#[path = "support/extism_host.rs"]
mod extism_host;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use divan::Bencher;
use divan::counter::ItemsCount;
use pocket_core::{
    Execution, Invocation, Node, NodeType, PluginLoader, PocketConfig, RunContext, StoreSpec, Value, prepare_standalone,
};
use pocket_wasm::{WasmEngine, WasmLoader};
use tokio_util::sync::CancellationToken;
use wasmer::{Imports, Instance, Module, Store, TypedFunction};

use extism_host::ExtismPlugin;

const CALLS: usize = 1_000;
const PAYLOAD: &str = r#"{"text":"hello world","n":41}"#;

fn main() {
    divan::main();
    let (mut exchange, mut node) = (exchange_round(), node_round(true));
    pocket_core::testing::print_ratio(
        "WASM node call, 29-byte JSON echo, metering on, vs the raw wasmer exchange",
        "<= 1.5 us per call; Extism 1.30 on wasmtime takes 3.3 us here",
        CALLS,
        &mut node,
        &mut exchange,
    );
    print_languages();
    print_extism();
}

/// The Extism example's `echo`: a Pocket node call (input `Value` to JSON
/// bytes, Pocket's Extism kernel, output parsed back into a `Value`) against
/// Extism's own runtime calling the same export with the same bytes.
fn print_extism() {
    let file = json_tools().parent().unwrap().join("extism-text.wasm");
    let mut extism = ExtismPlugin::new(&repo(), &std::fs::read(&file).unwrap());
    let echo = ExtismPlugin::function("echo");
    assert_eq!(extism.call(&echo, PAYLOAD.as_bytes()), PAYLOAD.as_bytes());
    let mut extism_round = move || {
        for _ in 0..CALLS {
            divan::black_box(extism.call(&echo, PAYLOAD.as_bytes()));
        }
    };
    pocket_core::testing::print_ratio(
        "Extism echo guest (extism-pdk), 29-byte JSON: Pocket's node call vs Extism's own runtime (libextism 1.41)",
        "<= 0.7x",
        CALLS,
        &mut node_round_of(&file, "echo", true),
        &mut extism_round,
    );
}

/// Per guest language: module size, cold compile, cached load, echo call.
fn print_languages() {
    let examples = json_tools().parent().unwrap();
    // json-tools built for wasm32-wasip1 too (by scripts/build-plugins.sh,
    // kept in the target dir): the cost of the WASI layer on the same guest.
    let json_tools_wasi = repo().join("target/wasm-guests/wasip1/json-tools.wasm");
    let guests = [
        ("Rust (pocket-pdk)", examples.join("json-tools.wasm"), "echo-json"),
        ("Rust on wasm32-wasip1 (pocket-pdk, std)", json_tools_wasi, "echo-json"),
        ("Go (Go SDK, wasip1)", examples.join("go-text.wasm"), "echo"),
        ("Zig (Zig SDK, wasip1)", examples.join("zig-text.wasm"), "echo"),
        (
            "AssemblyScript (AssemblyScript SDK)",
            examples.join("as-text.wasm"),
            "echo",
        ),
        (
            "JavaScript (JavaScript SDK, QuickJS)",
            examples.join("js-text.wasm"),
            "echo",
        ),
        ("Extism, Rust extism-pdk", examples.join("extism-text.wasm"), "echo"),
        (
            "Extism, AssemblyScript as-pdk",
            examples.join("extism-as.wasm"),
            "count_vowels",
        ),
    ];
    for (language, file, echo) in guests {
        let size = std::fs::metadata(&file).unwrap().len();
        let pocket = PocketConfig::default();
        let started = std::time::Instant::now();
        WasmLoader::with_engine(engine(true)).load(&file, &pocket).unwrap();
        let cold = started.elapsed();
        let cache = repo().join("target/wasm-bench-cache").join(file.file_stem().unwrap());
        let _ = std::fs::remove_dir_all(&cache);
        let cached = || WasmLoader::with_engine(WasmEngine::builder().cache_dir(&cache).build());
        cached().load(&file, &pocket).unwrap();
        let started = std::time::Instant::now();
        cached().load(&file, &pocket).unwrap();
        let load = started.elapsed();
        let mut node = node_round_of(&file, echo, true);
        let mut rounds: Vec<f64> = (0..31)
            .map(|_| {
                let started = std::time::Instant::now();
                node();
                started.elapsed().as_nanos() as f64 / CALLS as f64 / 1_000.0
            })
            .collect();
        rounds.sort_by(f64::total_cmp);
        println!(
            "{language}: module {} KiB, cold compile {:.0} ms, cached load {:.1} ms, echo call {:.2} us (median of 31 rounds of {CALLS} calls)",
            size / 1024,
            cold.as_secs_f64() * 1e3,
            load.as_secs_f64() * 1e3,
            rounds[15]
        );
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The json-tools example plugin (its `echo-json` node returns its input),
/// built once per bench run.
fn json_tools() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let status = Command::new("bash")
            .arg(repo().join("scripts/build-plugins.sh"))
            .status()
            .expect("run scripts/build-plugins.sh");
        assert!(status.success(), "scripts/build-plugins.sh failed");
        repo().join("examples/plugins/wasm/json-tools.wasm")
    })
}

fn engine(metering: bool) -> WasmEngine {
    WasmEngine::builder().metering(metering).without_cache().build()
}

/// The baseline: a call of a trivial export (`pocket_abi_version`) through
/// wasmer's typed function API, no metering.
#[divan::bench]
fn raw_wasmer_trivial_call(bencher: Bencher) {
    let (mut store, instance) = raw_instance();
    let version: TypedFunction<(), i32> = instance
        .exports
        .get_typed_function(&store, "pocket_abi_version")
        .unwrap();
    bencher.counter(ItemsCount::new(CALLS)).bench_local(|| {
        for _ in 0..CALLS {
            divan::black_box(version.call(&mut store).unwrap());
        }
    });
}

/// The guest-side floor: the ABI exchange done by hand with raw wasmer
/// (alloc, write the request, `pocket_exec`, read the response, free both),
/// no metering, no host-side JSON.
#[divan::bench]
fn raw_wasmer_abi_exchange(bencher: Bencher) {
    bencher.counter(ItemsCount::new(CALLS)).bench_local(exchange_round());
}

/// `CALLS` raw ABI exchanges.
fn exchange_round() -> impl FnMut() {
    let (mut store, instance) = raw_instance();
    let exports = &instance.exports;
    let memory = exports.get_memory("memory").unwrap().clone();
    let alloc: TypedFunction<i32, i32> = exports.get_typed_function(&store, "pocket_alloc").unwrap();
    let free: TypedFunction<(i32, i32), ()> = exports.get_typed_function(&store, "pocket_free").unwrap();
    let exec: TypedFunction<(i32, i32), i64> = exports.get_typed_function(&store, "pocket_exec").unwrap();
    let request = format!(r#"{{"node":"echo-json","config":{{}},"input":{PAYLOAD}}}"#);
    move || {
        for _ in 0..CALLS {
            let len = i32::try_from(request.len()).unwrap();
            let ptr = alloc.call(&mut store, len).unwrap();
            memory
                .view(&store)
                .write(u64::from(ptr.cast_unsigned()), request.as_bytes())
                .unwrap();
            let packed = exec.call(&mut store, ptr, len).unwrap();
            free.call(&mut store, ptr, len).unwrap();
            let (out_ptr, out_len) = pocket_wasm_abi::unpack(packed);
            let mut response = vec![0; out_len as usize];
            memory.view(&store).read(u64::from(out_ptr), &mut response).unwrap();
            free.call(&mut store, out_ptr.cast_signed(), out_len.cast_signed())
                .unwrap();
            divan::black_box(response);
        }
    }
}

/// json-tools instantiated with plain wasmer: default engine, no metering.
fn raw_instance() -> (Store, Instance) {
    let wasm = std::fs::read(json_tools()).unwrap();
    let mut store = Store::default();
    let module = Module::new(&store, wasm).unwrap();
    let imports = stub_imports(&mut store, &module);
    let instance = Instance::new(&mut store, &module, &imports).unwrap();
    (store, instance)
}

/// Host functions that are never called: `echo-json` imports them but does
/// not use them, and the raw baselines only need the module to instantiate.
fn stub_imports(store: &mut Store, module: &Module) -> Imports {
    let mut imports = Imports::new();
    for import in module.imports() {
        if let wasmer::ExternType::Function(ty) = import.ty() {
            let function = wasmer::Function::new(store, ty, |_| {
                Err(wasmer::RuntimeError::new("not available in the raw baseline"))
            });
            imports.define(import.module(), import.name(), function);
        }
    }
    imports
}

/// `echo-json` prepared as a workflow node would be.
fn echo_node(metering: bool) -> Arc<dyn Node> {
    echo_node_of(json_tools(), "echo-json", metering)
}

/// Node type `echo` of the module `file`, prepared as a workflow node would be.
fn echo_node_of(file: &Path, echo: &str, metering: bool) -> Arc<dyn Node> {
    let pocket = PocketConfig::default();
    let plugin = WasmLoader::with_engine(engine(metering)).load(file, &pocket).unwrap();
    let node_type: Arc<dyn NodeType> = plugin.node_types().into_iter().find(|t| t.name() == echo).unwrap();
    let config = Value::from_json("{}").unwrap();
    prepare_standalone(node_type.as_ref(), "bench", &config).unwrap()
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

/// Through `Node::exec` outside any runtime: the call runs in place, so
/// this is the backend's own cost (request JSON, the ABI exchange with its
/// checks, response JSON into a `Value`).
fn node_call_in_place(bencher: Bencher, metering: bool) {
    bencher
        .counter(ItemsCount::new(CALLS))
        .bench_local(node_round(metering));
}

/// `CALLS` node calls in place.
fn node_round(metering: bool) -> impl FnMut() {
    node_round_of(json_tools(), "echo-json", metering)
}

/// `CALLS` calls in place of node type `echo` of the module `file`.
fn node_round_of(file: &Path, echo: &str, metering: bool) -> impl FnMut() + use<> {
    let node = echo_node_of(file, echo, metering);
    let run = context();
    let input = Value::from_json(PAYLOAD).unwrap();
    move || {
        for _ in 0..CALLS {
            match node.exec(call(&input, &run)) {
                Execution::Ready(out) => divan::black_box(out.unwrap()),
                Execution::Pending(_) => unreachable!("outside a runtime calls run in place"),
            };
        }
    }
}

/// A node call with fuel metering (the default).
#[divan::bench]
fn node_call_metered(bencher: Bencher) {
    node_call_in_place(bencher, true);
}

/// A node call without fuel metering (trusted modules only).
#[divan::bench]
fn node_call_unmetered(bencher: Bencher) {
    node_call_in_place(bencher, false);
}

/// A node call inside a task of a multi-threaded runtime, as the runner's
/// branches make it (`block_in_place`), with metering.
#[divan::bench]
fn node_call_metered_multi_thread(bencher: Bencher) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let node = echo_node(true);
    let run = context();
    let input = Value::from_json(PAYLOAD).unwrap();
    bencher.counter(ItemsCount::new(CALLS)).bench_local(|| {
        let (node, run, input) = (node.clone(), run.clone(), input.clone());
        runtime
            .block_on(runtime.spawn(async move {
                for _ in 0..CALLS {
                    divan::black_box(node.exec(call(&input, &run)).finish().await.unwrap());
                }
            }))
            .unwrap();
    });
}

/// Compiling the module with cranelift and metering, no cache.
#[divan::bench(sample_count = 10)]
fn module_cold_compile(bencher: Bencher) {
    let wasm = std::fs::read(json_tools()).unwrap();
    let engine = engine(true);
    bencher.bench_local(|| divan::black_box(engine.compile(&wasm).unwrap()));
}

/// Loading the same module from the on-disk cache (hash, verify, deserialize).
#[divan::bench(sample_count = 50)]
fn module_cached_load(bencher: Bencher) {
    let wasm = std::fs::read(json_tools()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = WasmEngine::builder().cache_dir(dir.path()).build();
    engine.compile(&wasm).unwrap();
    bencher.bench_local(|| {
        let compiled = engine.compile(&wasm).unwrap();
        assert_eq!(compiled.source, pocket_wasm::CompileSource::Cache);
        divan::black_box(compiled.module)
    });
}
