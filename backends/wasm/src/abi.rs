//! The host's side of ABI v1: the shared definition (`pocket-wasm-abi`) and
//! what only the host does with it: reading guest buffers and matching
//! signatures against wasmer's types. See `docs/wasm-abi.md`.

use pocket_wasm_abi::ValType;
use wasmer::MemoryView;

pub use pocket_wasm_abi::{
    FEATURES, FREES_RESPONSE, IMPORT_MODULE, KEEPS_REQUEST, PACKED_ERROR, VERSION as ABI_VERSION, pack, unpack,
};

/// wasmer's type for an ABI value type.
pub(crate) fn wasmer_type(ty: ValType) -> wasmer::Type {
    match ty {
        ValType::I32 => wasmer::Type::I32,
        ValType::I64 => wasmer::Type::I64,
    }
}

/// The guest's `i32` pointer or length read as the unsigned value it is.
pub(crate) fn unsigned(value: i32) -> u32 {
    value.cast_unsigned()
}

/// Copies the guest buffer `(ptr, len)` out of linear memory; `None` when any
/// of it lies outside. (wasmer's `copy_range_to_vec` silently truncates a
/// range that runs past the end, so it must not be used on guest input.)
pub(crate) fn read_guest(view: &MemoryView<'_>, ptr: u32, len: u32) -> Option<Vec<u8>> {
    let start = u64::from(ptr);
    if start + u64::from(len) > view.data_size() {
        return None;
    }
    let mut bytes = vec![0; len as usize];
    view.read(start, &mut bytes).ok()?;
    Some(bytes)
}
