//! Memory: the resident set size each extra loaded plugin costs, and each
//! idle instance in its pool (a Lua state; a WASM store with its linear
//! memory), for Lua and WASM plugins.
//!
//! Run with `cargo bench --bench memory` (unset RUST_BACKTRACE). It loads
//! `PLUGINS` copies of a plugin (a small Lua table plugin; the json-tools
//! WASM example, built by scripts/build-plugins.sh), reads the process's
//! RSS (`VmRSS` in /proc/self/status) before and after, then calls each copy
//! once, which leaves one idle instance in each pool, and reads it again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pocket_core::{
    Execution, Invocation, Node, Plugin, PluginLoader, PocketConfig, RunContext, StoreSpec, Value, prepare_standalone,
};
use pocket_lua::LuaLoader;
use pocket_wasm::WasmLoader;
use tokio_util::sync::CancellationToken;

const PLUGINS: usize = 40;

const LUA_PLUGIN: &str = "return { name = 'NAME', version = '1.0.0', nodes = { \
    echo = { exec = function(input) return { echoed = input } end } } }\n";

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    println!("{:<6} {:>22} {:>26}", "kind", "per loaded plugin", "per idle instance");
    println!("(targets: at most 256 KiB per idle Lua state, 1 MiB plus linear memory per idle WASM instance)");
    let lua = measure(&LuaLoader::new(), &lua_copies(dir.path()), "echo");
    report("Lua", lua);
    let wasm = measure(&WasmLoader::new(), &wasm_copies(dir.path()), "echo-json");
    report("WASM", wasm);
}

fn report(kind: &str, (plugin, instance): (u64, u64)) {
    println!("{kind:<6} {:>18} KiB {:>22} KiB", plugin / 1024, instance / 1024);
}

/// Bytes per loaded plugin and per idle instance, over `files`.
fn measure(loader: &dyn PluginLoader, files: &[PathBuf], node_type: &str) -> (u64, u64) {
    let config = PocketConfig::default();
    let before = rss();
    let plugins: Vec<Arc<dyn Plugin>> = files
        .iter()
        .map(|file| {
            pocket_core::load_plugin(loader, file, &pocket_core::file_plugin_name(file), &config)
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let loaded = rss();
    let run = RunContext::new("memory", &StoreSpec::default(), CancellationToken::new());
    let nodes: Vec<Arc<dyn Node>> = plugins
        .iter()
        .map(|plugin| call_once(plugin.as_ref(), node_type, &run))
        .collect();
    let called = rss();
    drop(nodes);
    let count = files.len() as u64;
    (
        loaded.saturating_sub(before) / count,
        called.saturating_sub(loaded) / count,
    )
}

/// Prepares `node_type` of `plugin` and calls it once, which leaves one
/// idle instance in the plugin's pool; the node, kept alive by the caller.
fn call_once(plugin: &dyn Plugin, node_type: &str, run: &RunContext) -> Arc<dyn Node> {
    let found = plugin
        .node_types()
        .into_iter()
        .find(|t| t.name() == node_type)
        .expect("the node type");
    let node = prepare_standalone(found.as_ref(), "n", &Value::empty_object()).expect("prepared");
    let call = Invocation {
        input: Value::from_json(r#"{"text":"hello world","n":41}"#).expect("JSON"),
        config: Value::empty_object(),
        node: "n",
        attempt: 1,
        deadline: None,
        run,
    };
    let Execution::Ready(result) = node.exec(call) else {
        panic!("outside a runtime, calls run in place");
    };
    result.expect("the call succeeds");
    node
}

fn lua_copies(dir: &Path) -> Vec<PathBuf> {
    (0..PLUGINS)
        .map(|i| {
            let name = format!("lua-{i}");
            let file = dir.join(format!("{name}.lua"));
            std::fs::write(&file, LUA_PLUGIN.replace("NAME", &name)).expect("written");
            file
        })
        .collect()
}

fn wasm_copies(dir: &Path) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = std::process::Command::new("bash")
        .arg(root.join("scripts/build-plugins.sh"))
        .status()
        .expect("run scripts/build-plugins.sh");
    assert!(status.success(), "scripts/build-plugins.sh failed");
    let module = root.join("examples/plugins/wasm/json-tools.wasm");
    // A plugin's file name is its name, and json-tools says it is json-tools:
    // each copy gets a directory of its own.
    (0..PLUGINS)
        .map(|i| {
            let copy = dir.join(format!("wasm-{i}"));
            std::fs::create_dir_all(&copy).expect("created");
            let file = copy.join("json-tools.wasm");
            std::fs::copy(&module, &file).expect("copied");
            file
        })
        .collect()
}

/// The resident set size of this process, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}
