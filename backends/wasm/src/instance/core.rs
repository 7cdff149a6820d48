//! [`Core`]: what every instance has whatever its guest ABI: its store and
//! host environment, its linear memory, the fuel meter's globals and the
//! watchdog's alarm, and the reading of traps into [`CallFailure`]s.

use std::sync::Arc;

use wasmer::sys::vm::TrapCode;
use wasmer::{FunctionEnv, Global, Memory, RuntimeError, Store, WASM_PAGE_SIZE};

use super::failure::CallFailure;
use crate::abi::{pack, read_guest};
use crate::extism_kernel::KernelError;
use crate::host_functions::{GuestPanic, HostEnv};
use crate::wasi::Exit;
use crate::watchdog::Alarm;
use pocket_core::Limit;

/// The parts of an instance every guest ABI uses.
pub(super) struct Core {
    pub(super) store: Store,
    pub(super) env: FunctionEnv<HostEnv>,
    pub(super) memory: Memory,
    pub(super) fuel: Option<FuelGlobals>,
    pub(super) alarm: Arc<Alarm>,
    pub(super) memory_limit: u64,
}

// SAFETY: wasmer 7's `Store` is `!Send` only because its optional
// `on_called` handler type lost its `Send` bound (wasmer issue #7001); the
// sys backend's store has no thread affinity (it was `Send` through wasmer
// 6.1). This crate never installs an `on_called` handler, the host
// environment is `Send`, and a `Core` (inside its `Instance`) is owned by one
// thread at a time: it moves between threads only whole, through the pool's
// mutex, never shared.
unsafe impl Send for Core {}

/// The fuel meter's globals (see `fuel_meter`).
pub(super) struct FuelGlobals {
    pub(super) used: Global,
    pub(super) limit: Global,
}

impl Core {
    /// Copies a guest buffer out, checking it lies inside linear memory.
    pub(super) fn read(&self, ptr: u32, len: u32) -> Result<Vec<u8>, String> {
        let view = self.memory.view(&self.store);
        read_guest(&view, ptr, len).ok_or_else(|| {
            format!(
                "response {:#x} (pointer {ptr}, length {len}) is outside linear memory ({} bytes)",
                pack(ptr, len),
                view.data_size()
            )
        })
    }

    /// Gives the next call a budget of `fuel`.
    pub(super) fn set_fuel(&mut self, fuel: u64) {
        if let Some(globals) = &self.fuel {
            // The counts are unsigned numbers in i64 globals.
            let _ = globals.used.set(&mut self.store, wasmer::Value::I64(0));
            let _ = globals
                .limit
                .set(&mut self.store, wasmer::Value::I64(fuel.cast_signed()));
        }
    }

    /// Reads a trap: which limit it means, if any.
    pub(super) fn trap(&mut self, error: RuntimeError) -> CallFailure {
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

impl Drop for Core {
    fn drop(&mut self) {
        self.alarm.detach();
    }
}
