//! Pocket's ABI on an [`Instance`]: the exports it calls and the call
//! sequence (alloc, write, exec, read, free), with the optional parts a
//! module can support (a request buffer kept between calls, a response it
//! frees itself). See `docs/wasm-abi.md`.

use wasmer::{Exports, Store, TypedFunction};

use super::{CallFailure, Guest, Instance};
use crate::abi::{FEATURES, FREES_RESPONSE, KEEPS_REQUEST, unpack, unsigned};
use crate::error::ModuleError;

/// A Pocket-ABI module's exports and what the host learnt of them.
pub(super) struct PocketExports {
    pub(super) functions: PocketFunctions,
    /// The optional parts of the ABI the module supports ([`KEEPS_REQUEST`],
    /// [`FREES_RESPONSE`]); asked on the first call.
    supports: Option<i32>,
    /// The guest buffer kept for requests between calls, if any.
    request_buffer: Option<Buffer>,
}

/// The functions Pocket's ABI calls (handles: cheap to clone).
#[derive(Clone)]
pub(super) struct PocketFunctions {
    pub(super) alloc: TypedFunction<i32, i32>,
    free: TypedFunction<(i32, i32), ()>,
    exec: TypedFunction<(i32, i32), i64>,
    describe: TypedFunction<(), i64>,
    abi_version: TypedFunction<(), i32>,
    /// `pocket_abi_features`, if the module has it.
    features: Option<TypedFunction<(), i32>>,
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
            functions: PocketFunctions {
                alloc: exports.get_typed_function(store, "pocket_alloc").map_err(missing)?,
                free: exports.get_typed_function(store, "pocket_free").map_err(missing)?,
                exec: exports.get_typed_function(store, "pocket_exec").map_err(missing)?,
                describe: exports.get_typed_function(store, "pocket_describe").map_err(missing)?,
                abi_version: exports
                    .get_typed_function(store, "pocket_abi_version")
                    .map_err(missing)?,
                features: exports.get_typed_function(store, FEATURES.name).ok(),
            },
            supports: None,
            request_buffer: None,
        })
    }
}

impl Instance {
    /// The ABI's state, for a Pocket-ABI module.
    fn pocket(&mut self) -> Result<&mut PocketExports, CallFailure> {
        match &mut self.guest {
            Guest::Pocket(pocket) => Ok(pocket),
            Guest::Extism(_) => Err(CallFailure::Abi("an Extism module has no Pocket ABI".into())),
        }
    }

    /// The ABI's functions, for a Pocket-ABI module.
    fn functions(&mut self) -> Result<PocketFunctions, CallFailure> {
        self.pocket().map(|pocket| pocket.functions.clone())
    }

    /// `pocket_abi_version()`, within `fuel`.
    pub(crate) fn abi_version(&mut self, fuel: u64) -> Result<i32, ModuleError> {
        let functions = self.functions().map_err(|e| ModuleError::Instantiate(e.to_string()))?;
        self.set_fuel(fuel);
        functions
            .abi_version
            .call(&mut self.store)
            .map_err(|e| ModuleError::Instantiate(format!("pocket_abi_version failed: {}", e.message())))
    }

    /// `pocket_describe()`'s JSON, within `fuel`.
    pub(crate) fn describe(&mut self, fuel: u64) -> Result<Vec<u8>, ModuleError> {
        let functions = self.functions().map_err(|e| ModuleError::Instantiate(e.to_string()))?;
        self.set_fuel(fuel);
        let packed = functions
            .describe
            .call(&mut self.store)
            .map_err(|e| ModuleError::Instantiate(format!("pocket_describe failed: {}", e.message())))?;
        let (ptr, len) = unpack(packed);
        let bytes = self.read(ptr, len).map_err(ModuleError::Manifest)?;
        let _ = functions
            .free
            .call(&mut self.store, ptr.cast_signed(), len.cast_signed());
        Ok(bytes)
    }

    /// The ABI exchange: request in, response out. Both buffers are freed,
    /// except a small request buffer the module lets the host keep for the
    /// next call (see [`KEPT_REQUEST_BYTES`]) and a response the module
    /// frees itself.
    pub(super) fn exchange(&mut self, request: &[u8]) -> Result<Vec<u8>, CallFailure> {
        let functions = self.functions()?;
        let len = u32::try_from(request.len()).map_err(|_| CallFailure::Abi("request larger than 4 GiB".into()))?;
        let buffer = self.request_buffer(&functions, len)?;
        if self
            .memory
            .view(&self.store)
            .write(u64::from(unsigned(buffer.ptr)), request)
            .is_err()
        {
            self.pocket()?.request_buffer = None;
            return Err(CallFailure::Abi(format!(
                "pocket_alloc({}) returned {}, outside linear memory",
                buffer.capacity,
                unsigned(buffer.ptr)
            )));
        }
        let packed = functions
            .exec
            .call(&mut self.store, buffer.ptr, len.cast_signed())
            .map_err(|e| self.trap(e))?;
        if self.pocket()?.request_buffer != Some(buffer) {
            functions
                .free
                .call(&mut self.store, buffer.ptr, buffer.capacity.cast_signed())
                .map_err(|e| self.trap(e))?;
        }
        if packed == 0 {
            return Err(CallFailure::Abi("pocket_exec returned no response".into()));
        }
        let (out_ptr, out_len) = unpack(packed);
        let response = self.read(out_ptr, out_len).map_err(CallFailure::Abi)?;
        if !self.supports(&functions, FREES_RESPONSE)? {
            functions
                .free
                .call(&mut self.store, out_ptr.cast_signed(), out_len.cast_signed())
                .map_err(|e| self.trap(e))?;
        }
        Ok(response)
    }

    /// A buffer for a request of `len` bytes: the kept one if it is large
    /// enough, else a new one from `pocket_alloc` (kept in place of the old
    /// one, which is freed, when `len` is small enough to keep).
    fn request_buffer(&mut self, functions: &PocketFunctions, len: u32) -> Result<Buffer, CallFailure> {
        if let Some(kept) = self.pocket()?.request_buffer
            && len <= kept.capacity
        {
            return Ok(kept);
        }
        let keep = len <= KEPT_REQUEST_BYTES && self.supports(functions, KEEPS_REQUEST)?;
        let capacity = if keep {
            len.next_power_of_two().max(MIN_REQUEST_BUFFER)
        } else {
            len
        };
        if keep && let Some(old) = self.pocket()?.request_buffer.take() {
            functions
                .free
                .call(&mut self.store, old.ptr, old.capacity.cast_signed())
                .map_err(|e| self.trap(e))?;
        }
        let ptr = functions
            .alloc
            .call(&mut self.store, capacity.cast_signed())
            .map_err(|e| self.trap(e))?;
        if ptr == 0 {
            return Err(CallFailure::Abi(format!("pocket_alloc({capacity}) returned 0")));
        }
        let buffer = Buffer { ptr, capacity };
        if keep {
            self.pocket()?.request_buffer = Some(buffer);
        }
        Ok(buffer)
    }

    /// Whether the module supports `feature` (a [`FEATURES`] bit); the
    /// module is asked once, within the current call's fuel.
    fn supports(&mut self, functions: &PocketFunctions, feature: i32) -> Result<bool, CallFailure> {
        let supported = match (self.pocket()?.supports, &functions.features) {
            (Some(bits), _) => bits,
            (None, Some(features)) => {
                let bits = features.call(&mut self.store).map_err(|e| self.trap(e))?;
                self.pocket()?.supports = Some(bits);
                bits
            }
            (None, None) => {
                self.pocket()?.supports = Some(0);
                0
            }
        };
        Ok(supported & feature != 0)
    }
}
