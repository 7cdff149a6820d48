//! Pocket's WASM backend: sandboxed WebAssembly plugins (ABI v1, see
//! `docs/wasm-abi.md` in the repository) on wasmer with the cranelift compiler.
//!
//! - [`WasmLoader`] is the [`pocket_core::PluginLoader`] for `*.wasm` and
//!   `*.wat` files (opening what pocket-core's load gate admitted).
//!   Before a module is instantiated, every import must be one of the `pocket`
//!   host functions with the right signature (anything else, `env.*` or any
//!   `wasi_*` module, is refused naming the import), every required export
//!   must be present with the right type, and the initial memory must fit the
//!   `memory` limit. Then one instance checks `pocket_abi_version() == 1` and
//!   `pocket_describe` provides the [`Description`].
//! - [`WasmEngine`] compiles modules (fuel metering on by default) and keeps
//!   compiled code in a [`ModuleCache`] on disk, keyed by the module's BLAKE3
//!   hash and the engine's versions, settings and target, so a second start
//!   loads without compiling; a corrupt or mismatched entry is rewritten.
//! - Each plugin keeps a small pool of instances (each in its own store):
//!   calls reuse them, concurrent calls (fan-out branches) take different
//!   instances and run in parallel. Instance state (linear memory, globals)
//!   lives as long as the pooled instance: keep run state in `kv`.
//!
//! **Host functions** (module `pocket`): `log`, `now_ms`, `config_get` (the
//! plugin's own config), `kv_get`/`kv_set` (needs `kv`; the plugin's own
//! namespace of the run's store), `http_request` (needs `http:<host>`). The
//! checks are `pocket-host`'s, shared with the Lua backend, so `log` too needs
//! the `log` capability (granted by pocket.toml's usual `default = ["log"]`);
//! a refused log line is dropped. Guest pointers and lengths are
//! bounds-checked; a bad one, invalid UTF-8 or a denied capability returns an
//! error value (`-1` packed, a non-zero `kv_set` code, an `{"error"}` JSON),
//! never a trap. A response outside linear memory, not UTF-8 or not JSON fails
//! the node with an error naming the plugin.
//!
//! **Limits** (pocket.toml `[plugins.limits]`, per plugin by name). Each
//! failure is `NodeError::LimitExceeded` naming the plugin, node and limit;
//! the instance that hit it is discarded and the next call uses a fresh one.
//! - `memory`: a hard cap. Linear memory has a maximum of the limit (through
//!   wasmer tunables): a module whose initial memory is larger is refused at
//!   load, and `memory.grow` past it returns -1. The call fails with `memory`
//!   when the guest then traps with its memory at the cap (a guest that
//!   handles -1 itself reports its own error).
//! - `fuel`: a hard cap on work. Every operator costs one unit (but `block`,
//!   `loop`, `end` and `nop`, which compile to nothing), and a bulk
//!   operation one more per 8 bytes (`memory.fill`, `memory.copy`,
//!   `memory.init`) or per element (`table.fill`, `.copy`, `.init`), taken
//!   before it runs; the compiled code adds up the count at the end of every
//!   basic block and checks it at every branch back to a loop, call and bulk
//!   operation (`fuel_meter`); the budget is reset before each call.
//!   This is what bounds CPU time: a loop cannot outrun it.
//! - `timeout`: wall clock per call, enforced by a watchdog thread checking
//!   every 5 ms. At the deadline it sets the call's fuel limit to zero (a
//!   value the guest never writes), so a running guest traps at its next
//!   check, and the node fails with `timeout`. A guest inside a host function stops when that returns; host
//!   functions pass the remaining time to their own I/O (`http_request`).
//!   Without metering ([`WasmEngineBuilder::metering`]) the watchdog cannot
//!   stop a guest: a late call fails only when it returns.
//! - stack: unbounded recursion hits wasmer's stack guard and traps; the
//!   node fails with the `stack` limit.
//!
//! This crate does not provide WASI, threads or shared memory, does not run
//! the component model, and does not interrupt a host function in progress.

mod abi;
mod cache;
mod engine;
mod error;
pub mod extism;
mod extism_kernel;
mod fuel_meter;
mod host_functions;
mod instance;
mod limits;
mod loader;
mod manifest;
mod module;
mod plugin;
mod response;
pub mod wasi;
mod wasi_descriptors;
mod wasi_state;
mod watchdog;

pub use abi::{ABI_VERSION, IMPORT_MODULE, PACKED_ERROR};
pub use cache::{CACHE_DIR_ENV, CacheKey, ModuleCache};
pub use engine::{CompileSource, Compiled, WasmEngine, WasmEngineBuilder};
pub use error::ModuleError;
pub use loader::WasmLoader;
pub use plugin::WasmPlugin;
pub use pocket_wasm_abi::{Description, NodeDescription};
