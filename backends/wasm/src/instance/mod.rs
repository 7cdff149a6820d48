//! [`Instance`]: one instantiated module in its own store, ready for calls
//! under the fuel meter and the watchdog, in either guest ABI: Pocket's
//! ([`pocket`]: alloc, write, exec, read, free) or Extism's (an exported
//! function over the host-kept kernel, see [`crate::extism`]).

mod core;
mod failure;
mod pocket;

use std::collections::HashMap;
use std::time::Instant;

use pocket_core::{Limit, Limits};
use pocket_host::PluginHost;
use wasmer::{Engine, FunctionEnv, Module, Store, TypedFunction};

use self::core::{Core, FuelGlobals};
use self::pocket::PocketExports;
use crate::error::ModuleError;
use crate::extism::ExtismCall;
use crate::fuel_meter;
use crate::host_functions::{CallScope, HostEnv, imports};
use crate::module::START_EXPORT;
use crate::watchdog::{Alarm, FuelLimit};

pub(crate) use self::failure::CallFailure;

/// A module instantiated in a store of its own.
pub(crate) struct Instance {
    core: Core,
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

/// What one call gives the guest, by its ABI.
pub(crate) enum Payload {
    /// A Pocket request's JSON.
    Pocket(Vec<u8>),
    /// An Extism function call.
    Extism(ExtismCall),
}

impl Instance {
    /// Instantiates `module` in a store of `engine`, as `host`, with fuel
    /// metering if the module has it, and runs its `_initialize` (a WASI
    /// reactor's start-up) and its start function, if it had one, within
    /// `limits`' fuel and timeout. An Extism
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
            env.as_mut(&mut store)
                .connect(memory.clone(), None, fuel.as_ref().map(|f| f.used.clone()));
            Guest::Extism(functions)
        } else {
            let pocket = PocketExports::of(&store, exports)?;
            env.as_mut(&mut store).connect(
                memory.clone(),
                Some(pocket.alloc()),
                fuel.as_ref().map(|f| f.used.clone()),
            );
            Guest::Pocket(pocket)
        };
        // Start-up, in order: the start function (moved out of
        // instantiation, see `module::move_start`), then a WASI reactor's
        // `_initialize`.
        let start_up: Vec<(&str, TypedFunction<(), ()>)> = [START_EXPORT, "_initialize"]
            .into_iter()
            .filter_map(|name| Some((name, exports.get_typed_function(&store, name).ok()?)))
            .collect();
        let mut instance = Instance {
            core: Core {
                alarm: Alarm::register(limit),
                store,
                env,
                memory,
                fuel,
                memory_limit,
            },
            guest,
        };
        for (name, function) in start_up {
            instance.initialize(name, &function, limits)?;
        }
        Ok(instance)
    }

    /// Runs start-up function `name` once, within the plugin's fuel and
    /// timeout (the watchdog stops a start-up that never ends).
    fn initialize(
        &mut self,
        name: &str,
        initialize: &TypedFunction<(), ()>,
        limits: &Limits,
    ) -> Result<(), ModuleError> {
        let core = &mut self.core;
        core.set_fuel(limits.fuel);
        let deadline = Instant::now().checked_add(limits.timeout);
        // The deadline also bounds what host functions wait for (a WASI sleep).
        core.env.as_mut(&mut core.store).enter(CallScope {
            deadline,
            ..CallScope::default()
        });
        if let Some(deadline) = deadline {
            core.alarm.arm(deadline);
        }
        let result = initialize.call(&mut core.store);
        let fired = core.alarm.disarm();
        core.env.as_mut(&mut core.store).enter(CallScope::default());
        result.map_err(|error| {
            let failure = if fired {
                CallFailure::Limit(Limit::Timeout)
            } else {
                core.trap(error)
            };
            let name = if name == START_EXPORT {
                "the start function"
            } else {
                name
            };
            ModuleError::Instantiate(format!("{name} failed: {failure}"))
        })
    }

    /// `pocket_abi_version()`, within `fuel` (a Pocket-ABI module's).
    pub(crate) fn abi_version(&mut self, fuel: u64) -> Result<i32, ModuleError> {
        let Instance { core, guest } = self;
        pocket(guest)?.abi_version(core, fuel)
    }

    /// `pocket_describe()`'s JSON, within `fuel` (a Pocket-ABI module's).
    pub(crate) fn describe(&mut self, fuel: u64) -> Result<Vec<u8>, ModuleError> {
        let Instance { core, guest } = self;
        pocket(guest)?.describe(core, fuel)
    }

    /// Runs one call (`call`) with `fuel` and the call's scope; the response
    /// (Pocket) or output (Extism) bytes.
    pub(crate) fn call(&mut self, call: &Payload, fuel: u64, scope: CallScope) -> Result<Vec<u8>, CallFailure> {
        let core = &mut self.core;
        core.set_fuel(fuel);
        let deadline = scope.deadline;
        core.env.as_mut(&mut core.store).enter(scope);
        if let Some(deadline) = deadline {
            core.alarm.arm(deadline);
        }
        let result = match (call, &mut self.guest) {
            (Payload::Pocket(request), Guest::Pocket(pocket)) => pocket.exchange(core, request),
            (Payload::Extism(call), Guest::Extism(functions)) => extism_call(core, functions, call),
            _ => Err(CallFailure::Abi("a call in another ABI than the module's".into())),
        };
        let fired = core.alarm.disarm() || deadline.is_some_and(|d| Instant::now() >= d);
        core.env.as_mut(&mut core.store).enter(CallScope::default());
        match result {
            Ok(_) | Err(CallFailure::Trap(_) | CallFailure::Limit(_) | CallFailure::Kernel(_)) if fired => {
                Err(CallFailure::Limit(Limit::Timeout))
            }
            other => other,
        }
    }
}

/// A Pocket-ABI guest's exports.
fn pocket(guest: &mut Guest) -> Result<&mut PocketExports, ModuleError> {
    match guest {
        Guest::Pocket(pocket) => Ok(pocket),
        Guest::Extism(_) => Err(ModuleError::Instantiate(
            "an Extism module has no Pocket ABI to call".into(),
        )),
    }
}

/// Calls Extism function `call.export` of `functions` on `call.input` and
/// `call.config`; its output, or the error it returned.
fn extism_call(
    core: &mut Core,
    functions: &HashMap<String, TypedFunction<(), i32>>,
    call: &ExtismCall,
) -> Result<Vec<u8>, CallFailure> {
    let function = functions
        .get(&*call.export)
        .ok_or_else(|| CallFailure::Abi(format!("the module exports no plugin function `{}`", call.export)))?;
    core.env
        .as_mut(&mut core.store)
        .extism
        .begin(call.input.clone(), call.config.clone());
    let code = function.call(&mut core.store);
    let (output, error) = core.env.as_mut(&mut core.store).extism.finish();
    match code {
        Ok(0) => Ok(output),
        Ok(code) => Err(CallFailure::Returned(code, error)),
        // A guest that set its error and then trapped (an AssemblyScript
        // abort does) failed with that error.
        Err(trap) => Err(match (core.trap(trap), error) {
            (CallFailure::Trap(_), Some(message)) => CallFailure::Trap(message),
            (failure, _) => failure,
        }),
    }
}
