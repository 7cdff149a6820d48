//! Pocket's ABI on an instance: the exports it calls and the call sequence
//! (alloc, write, exec, read, free), with the optional parts a module can
//! support (a request buffer kept between calls, a response it frees
//! itself). See `docs/wasm-abi.md`.

use wasmer::{Exports, Store, TypedFunction};

use super::core::Core;
use super::failure::CallFailure;
use crate::abi::{FEATURES, FREES_RESPONSE, KEEPS_REQUEST, unpack, unsigned};
use crate::error::ModuleError;

/// A Pocket-ABI module's exports and what the host learnt of them.
pub(super) struct PocketExports {
    alloc: TypedFunction<i32, i32>,
    free: TypedFunction<(i32, i32), ()>,
    exec: TypedFunction<(i32, i32), i64>,
    describe: TypedFunction<(), i64>,
    abi_version: TypedFunction<(), i32>,
    /// `pocket_abi_features`, if the module has it.
    features: Option<TypedFunction<(), i32>>,
    /// The optional parts of the ABI the module supports ([`KEEPS_REQUEST`],
    /// [`FREES_RESPONSE`]); asked on the first call.
    supports: Option<i32>,
    /// The guest buffer kept for requests between calls, if any.
    request_buffer: Option<Buffer>,
}

/// A buffer the host got from the guest's `pocket_alloc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Buffer {
    ptr: i32,
    capacity: u32,
}

/// In a module that allows it, requests up to this size are written into one
/// buffer the instance keeps from call to call (two fewer guest calls each);
/// a larger request gets a buffer of its own, freed after its call, so a rare
/// big request does not pin its size in the guest's heap.
const KEPT_REQUEST_BYTES: u32 = 64 * 1024;

/// The smallest request buffer kept: most requests fit, and it grows by
/// doubling.
const MIN_REQUEST_BUFFER: u32 = 256;

impl PocketExports {
    /// The ABI's exports of an instance.
    pub(super) fn of(store: &Store, exports: &Exports) -> Result<PocketExports, ModuleError> {
        let missing = |e: wasmer::ExportError| ModuleError::Instantiate(e.to_string());
        Ok(PocketExports {
            alloc: exports.get_typed_function(store, "pocket_alloc").map_err(missing)?,
            free: exports.get_typed_function(store, "pocket_free").map_err(missing)?,
            exec: exports.get_typed_function(store, "pocket_exec").map_err(missing)?,
            describe: exports.get_typed_function(store, "pocket_describe").map_err(missing)?,
            abi_version: exports
                .get_typed_function(store, "pocket_abi_version")
                .map_err(missing)?,
            features: exports.get_typed_function(store, FEATURES.name).ok(),
            supports: None,
            request_buffer: None,
        })
    }

    /// The guest's `pocket_alloc` (host functions hand it buffers with it).
    pub(super) fn alloc(&self) -> TypedFunction<i32, i32> {
        self.alloc.clone()
    }

    /// `pocket_abi_version()`, within `fuel`.
    pub(super) fn abi_version(&self, core: &mut Core, fuel: u64) -> Result<i32, ModuleError> {
        core.set_fuel(fuel);
        self.abi_version
            .call(&mut core.store)
            .map_err(|e| ModuleError::Instantiate(format!("pocket_abi_version failed: {}", e.message())))
    }

    /// `pocket_describe()`'s JSON, within `fuel`.
    pub(super) fn describe(&self, core: &mut Core, fuel: u64) -> Result<Vec<u8>, ModuleError> {
        core.set_fuel(fuel);
        let packed = self
            .describe
            .call(&mut core.store)
            .map_err(|e| ModuleError::Instantiate(format!("pocket_describe failed: {}", e.message())))?;
        let (ptr, len) = unpack(packed);
        let bytes = core.read(ptr, len).map_err(ModuleError::Manifest)?;
        let _ = self.free.call(&mut core.store, ptr.cast_signed(), len.cast_signed());
        Ok(bytes)
    }

    /// The ABI exchange: request in, response out. Both buffers are freed,
    /// except a small request buffer the module lets the host keep for the
    /// next call (see [`KEPT_REQUEST_BYTES`]) and a response the module
    /// frees itself.
    pub(super) fn exchange(&mut self, core: &mut Core, request: &[u8]) -> Result<Vec<u8>, CallFailure> {
        let len = u32::try_from(request.len()).map_err(|_| CallFailure::Abi("request larger than 4 GiB".into()))?;
        let buffer = self.request_buffer(core, len)?;
        if core
            .memory
            .view(&core.store)
            .write(u64::from(unsigned(buffer.ptr)), request)
            .is_err()
        {
            self.request_buffer = None;
            return Err(CallFailure::Abi(format!(
                "pocket_alloc({}) returned {}, outside linear memory",
                buffer.capacity,
                unsigned(buffer.ptr)
            )));
        }
        let packed = self
            .exec
            .call(&mut core.store, buffer.ptr, len.cast_signed())
            .map_err(|e| core.trap(e))?;
        if self.request_buffer != Some(buffer) {
            self.free
                .call(&mut core.store, buffer.ptr, buffer.capacity.cast_signed())
                .map_err(|e| core.trap(e))?;
        }
        if packed == 0 {
            return Err(CallFailure::Abi("pocket_exec returned no response".into()));
        }
        let (out_ptr, out_len) = unpack(packed);
        let response = core.read(out_ptr, out_len).map_err(CallFailure::Abi)?;
        if !self.supports(core, FREES_RESPONSE)? {
            self.free
                .call(&mut core.store, out_ptr.cast_signed(), out_len.cast_signed())
                .map_err(|e| core.trap(e))?;
        }
        Ok(response)
    }

    /// A buffer for a request of `len` bytes: the kept one if it is large
    /// enough, else a new one from `pocket_alloc` (kept in place of the old
    /// one, which is freed, when `len` is small enough to keep).
    fn request_buffer(&mut self, core: &mut Core, len: u32) -> Result<Buffer, CallFailure> {
        if let Some(kept) = self.request_buffer
            && len <= kept.capacity
        {
            return Ok(kept);
        }
        let keep = len <= KEPT_REQUEST_BYTES && self.supports(core, KEEPS_REQUEST)?;
        let capacity = if keep {
            len.next_power_of_two().max(MIN_REQUEST_BUFFER)
        } else {
            len
        };
        if keep && let Some(old) = self.request_buffer.take() {
            self.free
                .call(&mut core.store, old.ptr, old.capacity.cast_signed())
                .map_err(|e| core.trap(e))?;
        }
        let ptr = self
            .alloc
            .call(&mut core.store, capacity.cast_signed())
            .map_err(|e| core.trap(e))?;
        if ptr == 0 {
            return Err(CallFailure::Abi(format!("pocket_alloc({capacity}) returned 0")));
        }
        let buffer = Buffer { ptr, capacity };
        if keep {
            self.request_buffer = Some(buffer);
        }
        Ok(buffer)
    }

    /// Whether the module supports `feature` (a [`FEATURES`] bit); the
    /// module is asked once, within the current call's fuel.
    fn supports(&mut self, core: &mut Core, feature: i32) -> Result<bool, CallFailure> {
        let supported = match (self.supports, &self.features) {
            (Some(bits), _) => bits,
            (None, Some(features)) => {
                let bits = features.call(&mut core.store).map_err(|e| core.trap(e))?;
                self.supports = Some(bits);
                bits
            }
            (None, None) => {
                self.supports = Some(0);
                0
            }
        };
        Ok(supported & feature != 0)
    }
}
