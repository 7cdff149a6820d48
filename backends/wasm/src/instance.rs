//! [`Instance`]: one instantiated module in its own store, ready for calls,
//! and the ABI's call sequence (alloc, write, exec, read, free).

use std::sync::Arc;
use std::time::Instant;

use pocket_host::{Fate, PluginHost};
use wasmer::sys::vm::TrapCode;
use wasmer::{Engine, FunctionEnv, Global, Memory, Module, RuntimeError, Store, TypedFunction, WASM_PAGE_SIZE};

use crate::abi::{FEATURES, FREES_RESPONSE, KEEPS_REQUEST, pack, read_guest, unpack, unsigned};
use crate::error::ModuleError;
use crate::fuel_meter;
use crate::host_functions::{CallScope, GuestPanic, HostEnv, imports};
use crate::wasi::Exit;
use crate::watchdog::{Alarm, FuelLimit};
use pocket_core::{Limit, Limits};

/// A module instantiated in a store of its own.
pub(crate) struct Instance {
    store: Store,
    env: FunctionEnv<HostEnv>,
    memory: Memory,
    alloc: TypedFunction<i32, i32>,
    free: TypedFunction<(i32, i32), ()>,
    exec: TypedFunction<(i32, i32), i64>,
    describe: TypedFunction<(), i64>,
    abi_version: TypedFunction<(), i32>,
    fuel: Option<FuelGlobals>,
    alarm: Arc<Alarm>,
    memory_limit: u64,
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

// SAFETY: wasmer 7's `Store` is `!Send` only because its optional
// `on_called` handler type lost its `Send` bound (wasmer issue #7001); the
// sys backend's store has no thread affinity (it was `Send` through wasmer
// 6.1). This crate never installs an `on_called` handler, the host
// environment is `Send`, and an `Instance` is owned by one thread at a time:
// it moves between threads only whole, through the pool's mutex, never shared.
unsafe impl Send for Instance {}

/// The fuel meter's globals (see `fuel_meter`).
struct FuelGlobals {
    used: Global,
    limit: Global,
}

/// Why a call did not produce a response.
#[derive(Debug)]
pub(crate) enum CallFailure {
    /// A limit stopped it; the instance must be discarded.
    Limit(Limit),
    /// The guest trapped; the instance must be discarded.
    Trap(String),
    /// The guest panicked, saying this (message and source location); the
    /// instance must be discarded.
    Panic(String),
    /// The guest broke the ABI (a bad pointer, a failed allocation); the instance stays usable.
    Abi(String),
    /// The guest called WASI's `proc_exit` with this code; the instance must
    /// be discarded.
    Exited(i32),
}

impl std::fmt::Display for CallFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallFailure::Limit(limit) => write!(f, "{limit} limit exceeded"),
            CallFailure::Trap(message) => write!(f, "trapped: {message}"),
            CallFailure::Panic(message) => write!(f, "panicked: {message}"),
            CallFailure::Abi(message) => f.write_str(message),
            CallFailure::Exited(code) => write!(f, "exited with code {code}"),
        }
    }
}

impl CallFailure {
    /// What the failure leaves of the instance: only an ABI mistake leaves it usable.
    pub(crate) fn fate(&self) -> Fate {
        match self {
            CallFailure::Abi(_) => Fate::Keep,
            CallFailure::Limit(_) | CallFailure::Trap(_) | CallFailure::Panic(_) | CallFailure::Exited(_) => {
                Fate::Discard
            }
        }
    }
}

impl Instance {
    /// Instantiates `module` in a store of `engine`, as `host`, with fuel
    /// metering if the module has it, and runs its `_initialize` (a WASI
    /// reactor's start-up) within `limits`' fuel and timeout.
    pub(crate) fn new(
        engine: &Engine,
        module: &Module,
        host: PluginHost,
        limits: &Limits,
    ) -> Result<Instance, ModuleError> {
        let memory_limit = limits.memory;
        let mut store = Store::new(engine.clone());
        let env = FunctionEnv::new(&mut store, HostEnv::new(host, memory_limit));
        let mut imports = imports(&mut store, &env);
        crate::wasi::add_imports(&mut store, &env, module, &mut imports);
        let instance = wasmer::Instance::new(&mut store, module, &imports)
            .map_err(|e| ModuleError::Instantiate(format!("cannot instantiate: {e}")))?;
        let exports = &instance.exports;
        let missing = |e: wasmer::ExportError| ModuleError::Instantiate(e.to_string());
        let memory = exports.get_memory("memory").map_err(missing)?.clone();
        let alloc = exports.get_typed_function(&store, "pocket_alloc").map_err(missing)?;
        let fuel = match (
            exports.get_global(fuel_meter::USED),
            exports.get_global(fuel_meter::LIMIT),
        ) {
            (Ok(used), Ok(limit)) => Some(FuelGlobals {
                used: used.clone(),
                limit: limit.clone(),
            }),
            _ => None,
        };
        let limit = fuel.as_ref().and_then(|f| FuelLimit::of(&mut store, &f.limit));
        env.as_mut(&mut store).connect(memory.clone(), alloc.clone());
        let initialize = exports.get_typed_function::<(), ()>(&store, "_initialize").ok();
        let mut instance = Instance {
            features: exports.get_typed_function(&store, FEATURES.name).ok(),
            free: exports.get_typed_function(&store, "pocket_free").map_err(missing)?,
            exec: exports.get_typed_function(&store, "pocket_exec").map_err(missing)?,
            describe: exports.get_typed_function(&store, "pocket_describe").map_err(missing)?,
            abi_version: exports
                .get_typed_function(&store, "pocket_abi_version")
                .map_err(missing)?,
            alarm: Alarm::register(limit),
            store,
            env,
            memory,
            alloc,
            fuel,
            memory_limit,
            supports: None,
            request_buffer: None,
        };
        if let Some(initialize) = initialize {
            instance.initialize(&initialize, limits)?;
        }
        Ok(instance)
    }

    /// Runs a WASI reactor's `_initialize` once, within the plugin's fuel
    /// and timeout (the watchdog stops a start-up that never ends).
    fn initialize(&mut self, initialize: &TypedFunction<(), ()>, limits: &Limits) -> Result<(), ModuleError> {
        self.set_fuel(limits.fuel);
        let deadline = Instant::now().checked_add(limits.timeout);
        // The deadline also bounds what host functions wait for (a WASI sleep).
        self.env.as_mut(&mut self.store).enter(CallScope {
            deadline,
            ..CallScope::default()
        });
        if let Some(deadline) = deadline {
            self.alarm.arm(deadline);
        }
        let result = initialize.call(&mut self.store);
        let fired = self.alarm.disarm();
        self.env.as_mut(&mut self.store).enter(CallScope::default());
        result.map_err(|error| {
            let failure = if fired {
                CallFailure::Limit(Limit::Timeout)
            } else {
                self.trap(error)
            };
            ModuleError::Instantiate(format!("_initialize failed: {failure}"))
        })
    }

    /// `pocket_abi_version()`, within `fuel`.
    pub(crate) fn abi_version(&mut self, fuel: u64) -> Result<i32, ModuleError> {
        self.set_fuel(fuel);
        self.abi_version
            .call(&mut self.store)
            .map_err(|e| ModuleError::Instantiate(format!("pocket_abi_version failed: {}", e.message())))
    }

    /// `pocket_describe()`'s JSON, within `fuel`.
    pub(crate) fn describe(&mut self, fuel: u64) -> Result<Vec<u8>, ModuleError> {
        self.set_fuel(fuel);
        let packed = self
            .describe
            .call(&mut self.store)
            .map_err(|e| ModuleError::Instantiate(format!("pocket_describe failed: {}", e.message())))?;
        let (ptr, len) = unpack(packed);
        let bytes = self.read(ptr, len).map_err(ModuleError::Manifest)?;
        let _ = self.free.call(&mut self.store, ptr.cast_signed(), len.cast_signed());
        Ok(bytes)
    }

    /// Runs `pocket_exec` on `request` with `fuel` and the call's scope; the response bytes.
    pub(crate) fn call(&mut self, request: &[u8], fuel: u64, scope: CallScope) -> Result<Vec<u8>, CallFailure> {
        self.set_fuel(fuel);
        let deadline = scope.deadline;
        self.env.as_mut(&mut self.store).enter(scope);
        if let Some(deadline) = deadline {
            self.alarm.arm(deadline);
        }
        let result = self.exchange(request);
        let fired = self.alarm.disarm() || deadline.is_some_and(|d| Instant::now() >= d);
        self.env.as_mut(&mut self.store).enter(CallScope::default());
        match result {
            Ok(_) | Err(CallFailure::Trap(_) | CallFailure::Limit(_)) if fired => {
                Err(CallFailure::Limit(Limit::Timeout))
            }
            other => other,
        }
    }

    /// The ABI exchange: request in, response out. Both buffers are freed,
    /// except a small request buffer the module lets the host keep for the
    /// next call (see [`KEPT_REQUEST_BYTES`]) and a response the module
    /// frees itself.
    fn exchange(&mut self, request: &[u8]) -> Result<Vec<u8>, CallFailure> {
        let len = u32::try_from(request.len()).map_err(|_| CallFailure::Abi("request larger than 4 GiB".into()))?;
        let buffer = self.request_buffer(len)?;
        if self
            .memory
            .view(&self.store)
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
            .call(&mut self.store, buffer.ptr, len.cast_signed())
            .map_err(|e| self.trap(e))?;
        if self.request_buffer != Some(buffer) {
            self.free
                .call(&mut self.store, buffer.ptr, buffer.capacity.cast_signed())
                .map_err(|e| self.trap(e))?;
        }
        if packed == 0 {
            return Err(CallFailure::Abi("pocket_exec returned no response".into()));
        }
        let (out_ptr, out_len) = unpack(packed);
        let response = self.read(out_ptr, out_len).map_err(CallFailure::Abi)?;
        if !self.supports(FREES_RESPONSE)? {
            self.free
                .call(&mut self.store, out_ptr.cast_signed(), out_len.cast_signed())
                .map_err(|e| self.trap(e))?;
        }
        Ok(response)
    }

    /// A buffer for a request of `len` bytes: the kept one if it is large
    /// enough, else a new one from `pocket_alloc` (kept in place of the old
    /// one, which is freed, when `len` is small enough to keep).
    fn request_buffer(&mut self, len: u32) -> Result<Buffer, CallFailure> {
        if let Some(kept) = self.request_buffer
            && len <= kept.capacity
        {
            return Ok(kept);
        }
        let keep = len <= KEPT_REQUEST_BYTES && self.supports(KEEPS_REQUEST)?;
        let capacity = if keep {
            len.next_power_of_two().max(MIN_REQUEST_BUFFER)
        } else {
            len
        };
        if keep && let Some(old) = self.request_buffer.take() {
            self.free
                .call(&mut self.store, old.ptr, old.capacity.cast_signed())
                .map_err(|e| self.trap(e))?;
        }
        let ptr = self
            .alloc
            .call(&mut self.store, capacity.cast_signed())
            .map_err(|e| self.trap(e))?;
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
    fn supports(&mut self, feature: i32) -> Result<bool, CallFailure> {
        let supported = match (self.supports, &self.features) {
            (Some(bits), _) => bits,
            (None, Some(features)) => {
                let bits = features.call(&mut self.store).map_err(|e| self.trap(e))?;
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

    /// Copies a guest buffer out, checking it lies inside linear memory.
    fn read(&self, ptr: u32, len: u32) -> Result<Vec<u8>, String> {
        let view = self.memory.view(&self.store);
        read_guest(&view, ptr, len).ok_or_else(|| {
            format!(
                "response {:#x} (pointer {ptr}, length {len}) is outside linear memory ({} bytes)",
                pack(ptr, len),
                view.data_size()
            )
        })
    }

    fn set_fuel(&mut self, fuel: u64) {
        if let Some(globals) = &self.fuel {
            // The counts are unsigned numbers in i64 globals.
            let _ = globals.used.set(&mut self.store, wasmer::Value::I64(0));
            let _ = globals
                .limit
                .set(&mut self.store, wasmer::Value::I64(fuel.cast_signed()));
        }
    }

    /// Reads a trap: which limit it means, if any.
    fn trap(&mut self, error: RuntimeError) -> CallFailure {
        let fuel_exhausted = self.fuel.as_ref().is_some_and(|g| {
            let count =
                |global: &Global, store: &mut Store| global.get(store).i64().unwrap_or_default().cast_unsigned();
            count(&g.used, &mut self.store) > count(&g.limit, &mut self.store)
        });
        let memory_full = self.memory.view(&self.store).data_size() + WASM_PAGE_SIZE as u64 > self.memory_limit;
        if let Some(GuestPanic(message)) = error.downcast_ref::<GuestPanic>()
            && !fuel_exhausted
        {
            return CallFailure::Panic(message.clone());
        }
        if let Some(&Exit(code)) = error.downcast_ref::<Exit>() {
            return CallFailure::Exited(code);
        }
        let message = error.message();
        match error.to_trap() {
            Some(TrapCode::StackOverflow) => CallFailure::Limit(Limit::Stack),
            _ if fuel_exhausted => CallFailure::Limit(Limit::Fuel),
            _ if memory_full => CallFailure::Limit(Limit::Memory),
            _ => CallFailure::Trap(message),
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.alarm.detach();
    }
}
