//! Extism plugins, unchanged: modules built with any Extism PDK import
//! Extism's kernel (`extism:host/env`) instead of Pocket's host functions
//! and export plain `() -> i32` functions instead of Pocket's ABI. Pocket
//! serves that kernel itself ([`crate::extism_kernel`], [`functions`]) on its own host
//! API, so such a module runs under the same grants, limits, signatures and
//! instance pool as any WASM plugin:
//!
//! - **input** is the node's input as JSON bytes (or, for a node whose
//!   manifest says `input = "text"`, a string input's own text);
//! - **output** is parsed as JSON, or given as text when it is not JSON;
//! - **errors**: a function returning non-zero fails the node with the
//!   message it set (`error_set`), or with its code;
//! - **config** is Extism's string map: the plugin's config, then the
//!   node's (strings as they are, other values as JSON);
//! - **vars** live in the instance, as in Extism (each pooled instance has
//!   its own), at most [`crate::extism_kernel::MAX_VAR_BYTES`] in all;
//! - **logging** goes to the plugin's log under its `log` grant;
//!   `get_log_level` says "off" without it, so a PDK does not even format;
//! - **HTTP** goes through `pocket-host` under the plugin's `http:` grants,
//!   within the call's deadline; a refused request fails the call, as in
//!   Extism.
//!
//! Extism's memory (the blocks a PDK allocates with `alloc`) is kept by the
//! host, apart from linear memory: at most the plugin's `memory` limit,
//! its blocks freed before each call (each byte is zeroed once, so a guest
//! that allocates and frees in a loop gets no host work for free). Every offset a guest passes is bounds-checked;
//! one outside that memory stops the call with an error, never reads or
//! writes elsewhere. Host functions of the embedding application
//! (`extism:host/user`) are not provided: a module importing one is refused
//! at load, naming it.
//!
//! Which exports are node types, and how they are described, comes from an
//! optional manifest beside the module ([`manifest`]).

mod call;
pub(crate) mod functions;
pub(crate) mod manifest;

use pocket_wasm_abi::Signature;
use pocket_wasm_abi::ValType::{I32, I64};
use wasmer::Module;

pub(crate) use call::{ExtismCall, InputMode, output_value};

/// The import module of Extism's kernel.
pub const EXTISM_MODULE: &str = "extism:host/env";

/// The import module of an Extism host application's own functions (not
/// provided by Pocket).
pub const EXTISM_USER_MODULE: &str = "extism:host/user";

const fn f(
    name: &'static str,
    params: &'static [pocket_wasm_abi::ValType],
    results: &'static [pocket_wasm_abi::ValType],
) -> Signature {
    Signature { name, params, results }
}

/// Every kernel function Pocket serves, with its wasm signature (offsets
/// and lengths are `i64`, bytes `i32`).
pub const FUNCTIONS: &[Signature] = &[
    f("alloc", &[I64], &[I64]),
    f("free", &[I64], &[]),
    f("length", &[I64], &[I64]),
    f("length_unsafe", &[I64], &[I64]),
    f("load_u8", &[I64], &[I32]),
    f("load_u64", &[I64], &[I64]),
    f("store_u8", &[I64, I32], &[]),
    f("store_u64", &[I64, I64], &[]),
    f("reset", &[], &[]),
    f("memory_bytes", &[], &[I64]),
    f("input_length", &[], &[I64]),
    f("input_offset", &[], &[I64]),
    f("input_load_u8", &[I64], &[I32]),
    f("input_load_u64", &[I64], &[I64]),
    f("output_set", &[I64, I64], &[]),
    f("error_set", &[I64], &[]),
    f("error_get", &[], &[I64]),
    f("config_get", &[I64], &[I64]),
    f("var_get", &[I64], &[I64]),
    f("var_set", &[I64, I64], &[]),
    f("http_request", &[I64, I64], &[I64]),
    f("http_status_code", &[], &[I32]),
    f("http_headers", &[], &[I64]),
    f("log_trace", &[I64], &[]),
    f("log_debug", &[I64], &[]),
    f("log_info", &[I64], &[]),
    f("log_warn", &[I64], &[]),
    f("log_error", &[I64], &[]),
    f("get_log_level", &[], &[I32]),
];

/// The kernel function `name`, if Pocket serves it.
pub fn function(name: &str) -> Option<&'static Signature> {
    FUNCTIONS.iter().find(|s| s.name == name)
}

/// Whether `module` is an Extism plugin: it imports Extism's kernel.
pub(crate) fn is_extism(module: &Module) -> bool {
    module
        .imports()
        .any(|import| import.module() == EXTISM_MODULE || import.module() == EXTISM_USER_MODULE)
}

/// Whether an export of type `ty` named `name` can be a node type: a
/// function `() -> i32` whose name does not start with `_` (start-up and
/// runtime exports such as `_initialize` and `__heap_base`).
pub(crate) fn is_plugin_function(name: &str, ty: &wasmer::ExternType) -> bool {
    match ty {
        wasmer::ExternType::Function(ty) => {
            !name.starts_with('_') && ty.params().is_empty() && ty.results() == [wasmer::Type::I32]
        }
        _ => false,
    }
}
