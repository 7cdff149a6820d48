//! [`Instance`]: one instantiated module in its own store, ready for calls
//! under the fuel meter and the watchdog, in either guest ABI: Pocket's
//! ([`pocket`]: alloc, write, exec, read, free) or Extism's (an exported
//! function over the host-kept kernel, see [`crate::extism`]).

mod pocket;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use pocket_host::{Fate, PluginHost};
use wasmer::sys::vm::TrapCode;
use wasmer::{Engine, FunctionEnv, Global, Memory, Module, RuntimeError, Store, TypedFunction, WASM_PAGE_SIZE};

use crate::abi::{pack, read_guest};
use crate::error::ModuleError;
use crate::extism::ExtismCall;
use crate::extism::kernel::KernelError;
use crate::fuel_meter;
use crate::host_functions::{CallScope, GuestPanic, HostEnv, imports};
use crate::wasi::Exit;
use crate::watchdog::{Alarm, FuelLimit};
use pocket_core::{Limit, Limits};

use self::pocket::PocketExports;

/// A module instantiated in a store of its own.
pub(crate) struct Instance {
    store: Store,
    env: FunctionEnv<HostEnv>,
    memory: Memory,
    fuel: Option<FuelGlobals>,
    alarm: Arc<Alarm>,
    memory_limit: u64,
    /// The exports the guest's ABI calls.
    guest: Guest,
}

/// What the host calls in a guest, by its ABI.
enum Guest {
    /// Pocket's ABI.
    Pocket(PocketExports),
    /// Extism's: its plugin functions, by name.
    Extism(HashMap<String, TypedFunction<(), i32>>),
}

/// What one call asks of a guest.
pub(crate) enum GuestCall<'a> {
    /// A Pocket request (JSON).
    Pocket(&'a [u8]),
    /// An Extism function call.
    Extism(&'a ExtismCall),
}

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
    /// An Extism function returned this non-zero code, with the error it
    /// set (if any); the instance stays usable.
    Returned(i32, Option<String>),
    /// Extism's kernel stopped the guest (a bad offset, a full var store, a
    /// refused HTTP request); the instance must be discarded.
    Kernel(String),
}

impl std::fmt::Display for CallFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallFailure::Limit(limit) => write!(f, "{limit} limit exceeded"),
            CallFailure::Trap(message) => write!(f, "trapped: {message}"),
            CallFailure::Panic(message) => write!(f, "panicked: {message}"),
            CallFailure::Abi(message) => f.write_str(message),
            CallFailure::Exited(code) => write!(f, "exited with code {code}"),
            CallFailure::Returned(_, Some(message)) | CallFailure::Kernel(message) => f.write_str(message),
            CallFailure::Returned(code, None) => write!(f, "returned error code {code}"),
        }
    }
}

impl CallFailure {
    /// What the failure leaves of the instance: only an ABI mistake or an
    /// error the guest returned leaves it usable.
    pub(crate) fn fate(&self) -> Fate {
        match self {
            CallFailure::Abi(_) | CallFailure::Returned(..) => Fate::Keep,
            CallFailure::Limit(_)
            | CallFailure::Trap(_)
            | CallFailure::Panic(_)
            | CallFailure::Exited(_)
            | CallFailure::Kernel(_) => Fate::Discard,
        }
    }
}

impl Instance {
    /// Instantiates `module` in a store of `engine`, as `host`, with fuel
    /// metering if the module has it, and runs its `_initialize` (a WASI
    /// reactor's start-up) within `limits`' fuel and timeout. An Extism
    /// module (see [`crate::extism::is_extism`]) gets Extism's kernel and
    /// is called through its plugin functions; any other, Pocket's ABI.
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
        crate::extism::functions::add_imports(&mut store, &env, module, &mut imports);
        let instance = wasmer::Instance::new(&mut store, module, &imports)
            .map_err(|e| ModuleError::Instantiate(format!("cannot instantiate: {e}")))?;
        let exports = &instance.exports;
        let missing = |e: wasmer::ExportError| ModuleError::Instantiate(e.to_string());
        let memory = exports.get_memory("memory").map_err(missing)?.clone();
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
        let guest = if crate::extism::is_extism(module) {
            let mut functions = HashMap::new();
            for (name, export) in exports.iter() {
                if crate::extism::is_plugin_function(name, &export.ty(&store)) {
                    functions.insert(name.clone(), exports.get_typed_function(&store, name).map_err(missing)?);
                }
            }
            env.as_mut(&mut store).connect(memory.clone(), None);
            Guest::Extism(functions)
        } else {
            let pocket = PocketExports::of(&store, exports)?;
            env.as_mut(&mut store)
                .connect(memory.clone(), Some(pocket.functions.alloc.clone()));
            Guest::Pocket(pocket)
        };
        let initialize = exports.get_typed_function::<(), ()>(&store, "_initialize").ok();
        let mut instance = Instance {
            alarm: Alarm::register(limit),
            store,
            env,
            memory,
            fuel,
            memory_limit,
            guest,
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

    /// Runs one call (`call`) with `fuel` and the call's scope; the response
    /// (Pocket) or output (Extism) bytes.
    pub(crate) fn call(&mut self, call: GuestCall<'_>, fuel: u64, scope: CallScope) -> Result<Vec<u8>, CallFailure> {
        self.set_fuel(fuel);
        let deadline = scope.deadline;
        self.env.as_mut(&mut self.store).enter(scope);
        if let Some(deadline) = deadline {
            self.alarm.arm(deadline);
        }
        let result = match call {
            GuestCall::Pocket(request) => self.exchange(request),
            GuestCall::Extism(call) => self.extism_call(call),
        };
        let fired = self.alarm.disarm() || deadline.is_some_and(|d| Instant::now() >= d);
        self.env.as_mut(&mut self.store).enter(CallScope::default());
        match result {
            Ok(_) | Err(CallFailure::Trap(_) | CallFailure::Limit(_) | CallFailure::Kernel(_)) if fired => {
                Err(CallFailure::Limit(Limit::Timeout))
            }
            other => other,
        }
    }

    /// Calls Extism function `call.export` on `call.input` and `call.config`;
    /// its output, or the error it returned.
    fn extism_call(&mut self, call: &ExtismCall) -> Result<Vec<u8>, CallFailure> {
        let Guest::Extism(functions) = &self.guest else {
            return Err(CallFailure::Abi("not an Extism plugin".into()));
        };
        let function = functions
            .get(&*call.export)
            .cloned()
            .ok_or_else(|| CallFailure::Abi(format!("the module exports no plugin function `{}`", call.export)))?;
        self.env
            .as_mut(&mut self.store)
            .extism
            .begin(call.input.clone(), call.config.clone());
        let code = function.call(&mut self.store);
        let (output, error) = self.env.as_mut(&mut self.store).extism.finish();
        match code.map_err(|e| self.trap(e))? {
            0 => Ok(output),
            code => Err(CallFailure::Returned(code, error)),
        }
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
        if let Some(KernelError(message)) = error.downcast_ref::<KernelError>()
            && !fuel_exhausted
        {
            return CallFailure::Kernel(message.clone());
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
