//! The wall-clock watchdog: one background thread that stops guest calls
//! running past their deadline.
//!
//! Wasmer has no epoch interruption, so the watchdog uses the fuel meter
//! instead: every instance registers an [`Alarm`] holding the address of its
//! fuel `limit` global (see `fuel_meter`), a value the compiled code reads at
//! every check but never writes. A call arms the alarm with its deadline;
//! when the watchdog finds an armed alarm past its deadline, it marks it fired
//! and stores 0 into the limit, so the guest traps at its next check (a branch
//! back to a loop, a call or a bulk operation).
//! The call then fails with the `timeout` limit and the instance is discarded.
//! A guest blocked in a host function is stopped when the function returns;
//! each host function bounds its own I/O by the deadline.
//!
//! The watchdog checks every [`TICK`] while calls are armed, and parks once
//! none has been for [`IDLE_TICKS`] ticks: a steady stream of calls never
//! pays for waking it, and an idle host has no thread waking 200 times a
//! second. The first call after a pause wakes it. Without metering there is
//! no limit to zero: a late call is then failed (and its instance discarded)
//! only when it returns.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::thread::Thread;
use std::time::{Duration, Instant};

use wasmer::sys::vm::{VMExtern, VMGlobalDefinition};
use wasmer::{AsStoreMut, Extern, Global};

/// How often the watchdog looks at the armed alarms: the precision of `timeout`.
pub(crate) const TICK: Duration = Duration::from_millis(5);

/// How many ticks without an armed call before the watchdog parks (1 s).
const IDLE_TICKS: u32 = 200;

/// The fuel limit of one instance, where the compiled code reads it.
#[derive(Clone, Copy)]
pub(crate) struct FuelLimit(NonNull<VMGlobalDefinition>);

// SAFETY: the pointer is only dereferenced by `exhaust`, under the alarm's
// lock, while the owning instance is alive and registered (see `Alarm`).
unsafe impl Send for FuelLimit {}

impl FuelLimit {
    /// The storage of `global` (the fuel meter's `limit` global) in `store`.
    pub(crate) fn of(store: &mut impl AsStoreMut, global: &Global) -> Option<FuelLimit> {
        let VMExtern::Global(handle) = Extern::Global(global.clone()).to_vm_extern().unwrap_sys() else {
            return None;
        };
        Some(FuelLimit(handle.get(store.objects_mut().as_sys()).vmglobal()))
    }

    fn exhaust(self) {
        // SAFETY: `Alarm` only calls this while the instance that owns the
        // global is alive (its `Drop` detaches the counter under the same lock
        // first), so the pointer is valid and, being a `VMGlobalDefinition`
        // (`repr(C, align(16))`, value first), aligned for an `i64`. The
        // compiled code only reads this 8-byte cell, with plain aligned loads,
        // which are single-copy atomic on every target wasmer's cranelift
        // backend supports (the host writes it between calls, on the thread
        // running them); an atomic store from here is the same cross-thread
        // pattern wasmtime uses for its epoch counter.
        let cell = unsafe { AtomicI64::from_ptr(self.0.as_ptr().cast::<i64>()) };
        cell.store(0, Ordering::SeqCst);
    }
}

/// One instance's deadline, watched by the watchdog.
#[derive(Default)]
pub(crate) struct Alarm {
    state: Mutex<AlarmState>,
}

#[derive(Default)]
struct AlarmState {
    deadline: Option<Instant>,
    fired: bool,
    fuel: Option<FuelLimit>,
}

impl Alarm {
    /// A new alarm for an instance whose fuel limit is `fuel`, watched from now on.
    pub(crate) fn register(fuel: Option<FuelLimit>) -> Arc<Alarm> {
        let alarm = Arc::new(Alarm {
            state: Mutex::new(AlarmState {
                fuel,
                ..AlarmState::default()
            }),
        });
        watchdog().watch(&alarm);
        alarm
    }

    /// Starts watching a call that must end by `deadline`.
    pub(crate) fn arm(&self, deadline: Instant) {
        {
            let mut state = self.lock();
            state.deadline = Some(deadline);
            state.fired = false;
        }
        watchdog().wake();
    }

    /// Stops watching; whether the deadline passed during the call.
    pub(crate) fn disarm(&self) -> bool {
        let mut state = self.lock();
        state.deadline = None;
        std::mem::take(&mut state.fired)
    }

    /// Forgets the fuel counter: called before the instance is dropped.
    pub(crate) fn detach(&self) {
        let mut state = self.lock();
        state.deadline = None;
        state.fuel = None;
    }

    /// Fires the alarm if its call is past its deadline; whether a call is armed.
    fn check(&self, now: Instant) -> bool {
        let mut state = self.lock();
        let Some(deadline) = state.deadline else {
            return false;
        };
        if now >= deadline && !state.fired {
            state.fired = true;
            if let Some(fuel) = state.fuel {
                fuel.exhaust();
            }
        }
        true
    }

    fn lock(&self) -> MutexGuard<'_, AlarmState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

struct Watchdog {
    alarms: Mutex<Vec<Weak<Alarm>>>,
    thread: Thread,
    /// Set by the watchdog before it parks; cleared by the call that wakes it.
    parked: AtomicBool,
}

fn watchdog() -> &'static Watchdog {
    static WATCHDOG: OnceLock<Watchdog> = OnceLock::new();
    WATCHDOG.get_or_init(|| {
        let handle = std::thread::Builder::new()
            .name("pocket-wasm-watchdog".into())
            .spawn(|| watchdog().patrol());
        let thread = match handle {
            Ok(handle) => handle.thread().clone(),
            Err(e) => {
                tracing::error!(error = %e, "cannot start the WASM watchdog; timeouts are checked when calls return");
                std::thread::current()
            }
        };
        Watchdog {
            alarms: Mutex::new(Vec::new()),
            thread,
            parked: AtomicBool::new(false),
        }
    })
}

impl Watchdog {
    fn watch(&self, alarm: &Arc<Alarm>) {
        self.lock().push(Arc::downgrade(alarm));
    }

    /// The watchdog thread's loop: tick while calls are armed, park when idle.
    fn patrol(&self) {
        let mut idle = 0;
        loop {
            if self.tick(Instant::now()) {
                idle = 0;
            } else {
                idle += 1;
            }
            if idle < IDLE_TICKS {
                std::thread::sleep(TICK);
                continue;
            }
            self.parked.store(true, Ordering::SeqCst);
            // A call armed since the last tick saw `parked` still false and
            // did not wake us: look once more before parking. (Its alarm's
            // lock orders its `arm` against this check.)
            if self.tick(Instant::now()) {
                self.parked.store(false, Ordering::SeqCst);
                idle = 0;
                continue;
            }
            std::thread::park();
        }
    }

    /// Wakes the watchdog if it parked: a call was just armed.
    fn wake(&self) {
        if self.parked.load(Ordering::Relaxed) && self.parked.swap(false, Ordering::SeqCst) {
            self.thread.unpark();
        }
    }

    /// Checks every live alarm (dropping those of dropped instances); whether
    /// any call is armed.
    fn tick(&self, now: Instant) -> bool {
        let mut armed = false;
        self.lock().retain(|weak| match weak.upgrade() {
            Some(alarm) => {
                armed |= alarm.check(now);
                true
            }
            None => false,
        });
        armed
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Weak<Alarm>>> {
        self.alarms.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};

    use wasmer::{Global, Imports, Instance, Module, Store, TypedFunction};

    use super::{Alarm, FuelLimit, TICK, watchdog};
    use crate::engine::new_engine;
    use crate::fuel_meter::LIMIT;

    /// A metered guest whose `spin` loops forever, watched by an alarm.
    struct Spinner {
        store: Store,
        limit: Global,
        spin: TypedFunction<(), ()>,
        alarm: Arc<Alarm>,
    }

    impl Spinner {
        fn new() -> Spinner {
            let mut store = Store::new(new_engine(true));
            let module = Module::new(&store, r#"(module (func (export "spin") (loop $l (br $l))))"#).unwrap();
            let instance = Instance::new(&mut store, &module, &Imports::new()).unwrap();
            let limit = instance.exports.get_global(LIMIT).unwrap().clone();
            let spin = instance.exports.get_typed_function(&store, "spin").unwrap();
            let alarm = Alarm::register(FuelLimit::of(&mut store, &limit));
            Spinner {
                store,
                limit,
                spin,
                alarm,
            }
        }
    }

    #[test]
    fn a_fired_alarm_stops_a_tight_loop_every_time() {
        // The loop the guest runs is one checked block: it reads `used`,
        // adds, writes it back and reads `limit` a billion times a second.
        // When the watchdog zeroed a counter the guest itself wrote back,
        // its store was lost for seconds at a time; the limit it only reads
        // must stop it within a few ticks, in every round.
        let Spinner {
            mut store,
            limit,
            spin,
            alarm,
        } = Spinner::new();
        let started = Instant::now();
        for _ in 0..20 {
            limit.set(&mut store, wasmer::Value::I64(i64::MAX)).unwrap();
            alarm.arm(Instant::now() + Duration::from_millis(10));
            assert!(spin.call(&mut store).is_err(), "the loop ends only by trapping");
            assert!(alarm.disarm(), "the alarm fired");
        }
        // 20 rounds of 10 ms and a 5 ms tick take well under a second; the
        // bound is loose for a loaded machine, and the lost store took
        // seconds in most runs of 20.
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "took {:?}",
            started.elapsed()
        );
        alarm.detach();
    }

    #[test]
    fn a_call_armed_after_the_watchdog_parked_wakes_it() {
        let Spinner {
            mut store,
            limit,
            spin,
            alarm,
        } = Spinner::new();
        // Parks once no call anywhere in this process was armed for a second.
        let waiting = Instant::now();
        while !watchdog().parked.load(Ordering::SeqCst) {
            assert!(
                waiting.elapsed() < Duration::from_secs(120),
                "the watchdog never parked"
            );
            std::thread::sleep(TICK);
        }
        // Fuel for seconds of spinning, so that a watchdog left asleep fails
        // the test (the alarm did not fire) instead of hanging it.
        limit.set(&mut store, wasmer::Value::I64(20_000_000_000)).unwrap();
        alarm.arm(Instant::now() + Duration::from_millis(10));
        assert!(spin.call(&mut store).is_err(), "the loop ends only by trapping");
        assert!(alarm.disarm(), "the woken watchdog fired the alarm");
        alarm.detach();
    }
}
