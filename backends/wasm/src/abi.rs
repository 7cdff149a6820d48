//! ABI v1 as data: the exports the host requires, the imports it provides,
//! and how `(ptr, len)` pairs are packed into one `i64`.
//! See `docs/wasm-abi.md`; this file must match it exactly.

use wasmer::MemoryView;
use wasmer::Type::{I32, I64};

/// The ABI version a module's `pocket_abi_version` must return.
pub const ABI_VERSION: i32 = 1;

/// The module name of every host import.
pub const IMPORT_MODULE: &str = "pocket";

/// A function signature: parameter and result types.
pub(crate) struct Signature {
    pub name: &'static str,
    pub params: &'static [wasmer::Type],
    pub results: &'static [wasmer::Type],
}

/// The exported functions the host requires (besides the `memory` export).
pub(crate) const REQUIRED_EXPORTS: &[Signature] = &[
    Signature {
        name: "pocket_abi_version",
        params: &[],
        results: &[I32],
    },
    Signature {
        name: "pocket_alloc",
        params: &[I32],
        results: &[I32],
    },
    Signature {
        name: "pocket_free",
        params: &[I32, I32],
        results: &[],
    },
    Signature {
        name: "pocket_describe",
        params: &[],
        results: &[I64],
    },
    Signature {
        name: "pocket_exec",
        params: &[I32, I32],
        results: &[I64],
    },
];

/// The functions the host provides in module [`IMPORT_MODULE`].
pub(crate) const HOST_IMPORTS: &[Signature] = &[
    Signature {
        name: "log",
        params: &[I32, I32, I32],
        results: &[],
    },
    Signature {
        name: "now_ms",
        params: &[],
        results: &[I64],
    },
    Signature {
        name: "config_get",
        params: &[I32, I32],
        results: &[I64],
    },
    Signature {
        name: "kv_get",
        params: &[I32, I32],
        results: &[I64],
    },
    Signature {
        name: "kv_set",
        params: &[I32, I32, I32, I32],
        results: &[I32],
    },
    Signature {
        name: "http_request",
        params: &[I32, I32],
        results: &[I64],
    },
];

/// What a host function returning a packed value answers on failure (a
/// denied capability, an argument outside linear memory...). No real buffer
/// packs to it: a length of `u32::MAX` at offset `u32::MAX` cannot fit in
/// linear memory.
pub const PACKED_ERROR: i64 = -1;

/// `(ptr << 32) | len`.
pub(crate) fn pack(ptr: u32, len: u32) -> i64 {
    ((u64::from(ptr) << 32) | u64::from(len)) as i64
}

/// The `(ptr, len)` in a packed value.
pub(crate) fn unpack(packed: i64) -> (u32, u32) {
    let bits = packed as u64;
    ((bits >> 32) as u32, bits as u32)
}

/// The guest's `i32` pointer or length read as the unsigned value it is.
pub(crate) fn unsigned(value: i32) -> u32 {
    value as u32
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips_full_range_values() {
        for (ptr, len) in [(0, 0), (8, 29), (u32::MAX - 1, 1), (0x8000_0000, 7)] {
            assert_eq!(unpack(pack(ptr, len)), (ptr, len));
        }
        assert_eq!(unpack(PACKED_ERROR), (u32::MAX, u32::MAX));
    }
}
