//! Pocket's JSON value.
//!
//! Every node in a Pocket workflow receives a [`Value`] and returns one. Values
//! flow from node to node on every hop, so this type is built for that path:
//!
//! - **Cloning is O(1).** Strings, arrays and objects live behind [`Arc`], so
//!   passing a value to the next node, to several fan-out branches, or keeping
//!   it for a retry never copies the tree. Changing a shared container copies
//!   only that container (copy-on-write through [`Array::make_mut`] and
//!   [`Object::make_mut`]).
//! - **Depth is not a hazard.** A chain of nodes that each nest their input
//!   (`{"input": {"input": ...}}`) builds values thousands of levels deep.
//!   Dropping such a value is iterative, and every recursive walk in this crate
//!   (equality, serialization, parsing, conversion) grows its stack on demand
//!   with [`stacker`], so no depth overflows the thread's stack.
//!
//! It does not try to be a general JSON library: parsing and printing go
//! through `serde_json`, and conversion to and from [`serde_json::Value`] is
//! provided for crates (such as JSON Schema validators) that need that type.

mod convert;
mod footprint;
mod number;
mod pretty;
mod serde_impl;
mod shared_str;
mod value;

pub use footprint::{Footprint, MAX_DEPTH, STACK_PER_LEVEL, TooBig, UntrustedJsonError, check_footprint, footprint};
pub use pretty::MAX_INDENT_LEVELS;
pub use shared_str::Str;
pub use value::{Array, INDEXED_FROM, Map, Object, Value};

pub use number::Number;

/// Runs `f`, first moving to a fresh stack segment if less than 64 KiB of the
/// current one is left. Every recursive walk over a [`Value`] goes through it.
pub fn with_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, f)
}

/// What [`Value::approx_size`] counts for every value, besides the bytes of
/// its strings and keys: about one JSON token.
pub const VALUE_SIZE: u64 = 16;

/// What an array or object costs the host besides [`VALUE_SIZE`] (its
/// shared allocation and element list, or the frame that builds it), where
/// untrusted input decides how many there are.
pub const CONTAINER_SIZE: u64 = 128;
