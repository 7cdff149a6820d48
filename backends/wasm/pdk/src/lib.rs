//! The Pocket plugin development kit: write a WASM plugin as plain Rust
//! functions over serde types, and [`plugin!`] exports them with the manifest
//! under ABI v1 (`docs/wasm-abi.md` in the repository), so no plugin author touches a
//! pointer.
//!
//! ```ignore
//! use pocket_pdk::serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Input { text: String }
//! #[derive(Deserialize, Default)]
//! struct Config {}
//!
//! fn shout(input: Input, _config: Config) -> Result<String, String> {
//!     Ok(input.text.to_uppercase())
//! }
//!
//! pocket_pdk::plugin! {
//!     name: "shouter",
//!     version: "0.1.0",
//!     description: "Upper-cases text",
//!     nodes: [
//!         { type: "shout", description: "Upper-cases `text`", run: shout },
//!     ],
//! }
//! ```
//! Build with `cargo build --release --target wasm32-unknown-unknown` (crate
//! type `cdylib`). A node function takes the node's input and config (any
//! `Deserialize` types) and returns `Result<T, E>` where `T` is any
//! `Serialize` output, or [`Routed`] to choose the action, and `E: Display`
//! becomes the node's error. [`host`] wraps the host functions (on
//! `wasm32` only). The crate also builds on the host, where the ABI glue can
//! be unit-tested; it does not provide WASI or any allocator other than Rust's.

#[doc(hidden)]
pub mod abi;
#[cfg(target_arch = "wasm32")]
pub mod host;
#[doc(hidden)]
pub mod panics;

pub use serde;
pub use serde_json;

use serde::Serialize;

/// A node output with the action that selects the next edge.
#[derive(Debug, Clone, PartialEq)]
pub struct Routed<T> {
    /// The output.
    pub output: T,
    /// The action (`"default"` when a node names none).
    pub action: String,
}

impl<T> Routed<T> {
    /// `output`, taking `action`.
    pub fn new(output: T, action: impl Into<String>) -> Self {
        Routed {
            output,
            action: action.into(),
        }
    }
}

/// What a node function may return as its output.
pub trait IntoOutput {
    /// Writes the response JSON (`{"output": ..., "action": ...}`) into `out`.
    fn write_response(self, out: &mut Vec<u8>) -> Result<(), serde_json::Error>;
}

impl<T: Serialize> IntoOutput for T {
    fn write_response(self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        pocket_wasm_abi::write_response(out, &self, None)
    }
}

impl<T: Serialize> IntoOutput for Routed<T> {
    fn write_response(self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        pocket_wasm_abi::write_response(out, &self.output, Some(&self.action))
    }
}

/// Exports the plugin: its manifest and its node functions, under ABI v1.
///
/// ```ignore
/// pocket_pdk::plugin! {
///     name: "text-tools",
///     version: "1.0.0",
///     description: "Text utilities",
///     author: "Pocket",                      // optional
///     permissions: ["log", "kv"],            // optional: the capabilities it needs
///     nodes: [
///         {
///             type: "word-count",
///             description: "Counts words",
///             config_schema: { "type": "object" },   // optional, JSON
///             examples: [                    // optional: what `pocket plugin test` checks
///                 { "input": {"text": "a b"}, "output": {"words": 2} },
///                 { "input": 7, "error": "invalid input" },
///             ],
///             run: word_count,               // fn(Input, Config) -> Result<Output, E>
///         },
///     ],
/// }
/// ```
#[macro_export]
macro_rules! plugin {
    (
        name: $name:literal,
        version: $version:literal,
        description: $description:literal,
        $(author: $author:literal,)?
        $(permissions: [$($permission:literal),* $(,)?],)?
        nodes: [
            $({
                type: $node_type:literal,
                description: $node_description:literal,
                $(config_schema: $schema:tt,)?
                $(examples: [$($example:tt),* $(,)?],)?
                run: $run:path $(,)?
            }),+ $(,)?
        ] $(,)?
    ) => {
        /// ABI v1: the version this module speaks.
        #[unsafe(no_mangle)]
        pub extern "C" fn pocket_abi_version() -> i32 {
            $crate::abi::VERSION
        }

        /// ABI v1's optional parts this module supports: the host may keep
        /// its request buffer between calls (`pocket_exec` only reads the
        /// request), and the module frees its own responses.
        #[unsafe(no_mangle)]
        pub extern "C" fn pocket_abi_features() -> i32 {
            $crate::abi::KEEPS_REQUEST | $crate::abi::FREES_RESPONSE
        }

        /// ABI v1: a buffer of `len` bytes for the host to write into.
        #[unsafe(no_mangle)]
        pub extern "C" fn pocket_alloc(len: i32) -> i32 {
            $crate::abi::alloc(len)
        }

        /// ABI v1: releases a buffer from `pocket_alloc`.
        ///
        /// # Safety
        /// `ptr` and `len` must come from one `pocket_alloc` call, freed once.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn pocket_free(ptr: i32, len: i32) {
            // SAFETY: the host frees only buffers it got from `pocket_alloc` (ABI v1).
            unsafe { $crate::abi::free(ptr, len) }
        }

        /// ABI v1: the manifest as packed JSON.
        #[unsafe(no_mangle)]
        pub extern "C" fn pocket_describe() -> i64 {
            $crate::panics::report_panics();
            $crate::abi::describe(&$crate::abi::description(
                $name,
                $version,
                $description,
                $crate::plugin!(@author $($author)?),
                vec![$($($permission),*)?],
                vec![$($crate::abi::node(
                    $node_type,
                    $node_description,
                    $crate::plugin!(@schema $($schema)?),
                    vec![$($($crate::serde_json::json!($example)),*)?],
                )),+],
            ))
        }

        /// ABI v1: runs one node on the request at `ptr`; packed response JSON.
        ///
        /// # Safety
        /// `ptr` and `len` must describe a buffer from `pocket_alloc` holding the request.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn pocket_exec(ptr: i32, len: i32) -> i64 {
            $crate::panics::report_panics();
            // SAFETY: the host passes the buffer it wrote the request into (ABI v1).
            unsafe {
                $crate::abi::exec(ptr, len, |node, config, input| match node {
                    $($node_type => $crate::abi::run($run, config, input),)+
                    other => Err(format!("unknown node type `{other}`")),
                })
            }
        }
    };
    (@author) => { "" };
    (@author $author:literal) => { $author };
    (@schema) => { None };
    (@schema $schema:tt) => { Some($crate::serde_json::json!($schema)) };
}
