//! Per-call enforcement of the instruction, wall-clock and memory limits.
//!
//! Each Lua state carries a [`Meter`] (as app data) and one global count hook,
//! which Lua copies into every coroutine the script creates. Every
//! [`HOOK_STEP`] VM instructions the hook charges the call and checks the
//! clock and the run's cancellation. Once a limit trips it stays tripped:
//! the hook raises again on every later tick, and the sandbox's `pcall`,
//! `xpcall` and `coroutine.resume`/`close` re-raise instead of returning
//! `false` (see `prelude.lua`), so a script cannot swallow it. Whatever the
//! script returns afterwards, the call fails.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mlua::{HookTriggers, Lua, VmState};
use pocket_core::{Limit, Limits, NodeError, RunContext, format_duration};
use pocket_host::Stop;

/// Instructions between two hook ticks: small enough that a tripped limit is
/// noticed quickly and short coroutines are still charged, large enough that
/// the hook costs little.
pub(crate) const HOOK_STEP: u32 = 1_000;

/// The message Lua's allocator failure produces.
pub(crate) const MEMORY_ERROR: &str = "not enough memory";

/// The message a stop raises inside the state (what `pcall` would see).
fn stop_message(stop: Stop) -> &'static str {
    match stop {
        Stop::Limit(Limit::Memory) => "memory limit exceeded",
        Stop::Limit(Limit::Timeout) => "timeout limit exceeded",
        Stop::Limit(_) => "instructions limit exceeded",
        Stop::Cancelled => "cancelled",
    }
}

/// The node error for a stop, naming the script that hit it.
pub(crate) fn node_error(stop: Stop, script: &str, limits: &Limits, timeout: Duration) -> NodeError {
    let limit = match stop {
        Stop::Limit(limit) => limit,
        Stop::Cancelled => return NodeError::Cancelled,
    };
    let detail = match limit {
        Limit::Memory => format!("{script} used more than {} bytes", limits.memory),
        Limit::Timeout => format!("{script} ran longer than {}", format_duration(timeout)),
        _ => format!(
            "{script} ran more than {} VM instructions in one call",
            limits.instructions
        ),
    };
    NodeError::LimitExceeded { limit, detail }
}

/// The budget of the call in progress on one state.
#[derive(Debug)]
pub(crate) struct Meter {
    max_instructions: u64,
    used: u64,
    deadline: Option<Instant>,
    cancel: Option<RunContext>,
    abandoned: Option<Arc<AtomicBool>>,
    tripped: Option<Stop>,
}

/// What a call may watch besides its own budget.
#[derive(Debug, Clone, Default)]
pub(crate) struct Watch {
    /// The run, whose cancellation stops the call (a context is cheaper to
    /// keep per call than a token of its own).
    pub cancel: Option<RunContext>,
    /// Set when nobody waits for the call's result any more.
    pub abandoned: Option<Arc<AtomicBool>>,
}

impl Meter {
    fn idle() -> Self {
        Meter {
            max_instructions: u64::MAX,
            used: 0,
            deadline: None,
            cancel: None,
            abandoned: None,
            tripped: None,
        }
    }

    /// The time left before the call's deadline.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Records that the call is stopped (the first stop wins).
    pub(crate) fn trip(&mut self, stop: Stop) -> mlua::Error {
        let stop = *self.tripped.get_or_insert(stop);
        mlua::Error::runtime(stop_message(stop))
    }

    /// Charges `count` instructions and checks every limit the call watches.
    fn spend(&mut self, count: u64) -> mlua::Result<()> {
        if let Some(limit) = self.tripped {
            return Err(mlua::Error::runtime(stop_message(limit)));
        }
        self.used = self.used.saturating_add(count);
        if self.used > self.max_instructions {
            return Err(self.trip(Stop::Limit(Limit::Instructions)));
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(self.trip(Stop::Limit(Limit::Timeout)));
        }
        let cancelled = self.cancel.as_ref().is_some_and(|run| run.cancel().is_cancelled())
            || self.abandoned.as_ref().is_some_and(|a| a.load(Ordering::Relaxed));
        if cancelled {
            return Err(self.trip(Stop::Cancelled));
        }
        Ok(())
    }
}

/// Installs the meter and its hook on a new state.
pub(crate) fn install(lua: &Lua) -> mlua::Result<()> {
    lua.set_app_data(Meter::idle());
    lua.set_global_hook(
        HookTriggers::new().every_nth_instruction(HOOK_STEP),
        |lua, _debug| match lua.app_data_mut::<Meter>() {
            Some(mut meter) => meter.spend(u64::from(HOOK_STEP)).map(|()| VmState::Continue),
            None => Ok(VmState::Continue),
        },
    )
}

/// Starts a call's budget: `instructions` VM instructions and `timeout` of wall clock.
pub(crate) fn start(lua: &Lua, instructions: u64, timeout: Duration, watch: Watch) {
    if let Some(mut meter) = lua.app_data_mut::<Meter>() {
        *meter = Meter {
            max_instructions: instructions,
            used: 0,
            deadline: Instant::now().checked_add(timeout),
            cancel: watch.cancel,
            abandoned: watch.abandoned,
            tripped: None,
        };
    }
}

/// Ends the call: returns the limit that tripped, if any, and disarms the meter.
pub(crate) fn finish(lua: &Lua) -> Option<Stop> {
    let mut meter = lua.app_data_mut::<Meter>()?;
    let tripped = meter.tripped;
    *meter = Meter::idle();
    tripped
}

/// Counts `count` instructions of work done inside one C or Rust function
/// (where the hook cannot see it) against the call's budget, and checks the
/// clock and cancellation as a hook tick does: fails once a limit trips.
pub(crate) fn charge(lua: &Lua, count: u64) -> mlua::Result<()> {
    match lua.app_data_mut::<Meter>() {
        Some(mut meter) => meter.spend(count),
        None => Ok(()),
    }
}

/// Trips the memory limit for memory a host function would need outside the
/// state's allocator.
pub(crate) fn out_of_memory(lua: &Lua) -> mlua::Error {
    match lua.app_data_mut::<Meter>() {
        Some(mut meter) => meter.trip(Stop::Limit(Limit::Memory)),
        None => mlua::Error::runtime(stop_message(Stop::Limit(Limit::Memory))),
    }
}

/// Called by the sandbox's `pcall` family with the error it caught: raises
/// again when a limit has tripped, or when the error is Lua's out-of-memory
/// error (which then trips the memory limit).
pub(crate) fn recheck(lua: &Lua, error: &mlua::Value) -> mlua::Result<()> {
    let Some(mut meter) = lua.app_data_mut::<Meter>() else {
        return Ok(());
    };
    if let Some(limit) = meter.tripped {
        return Err(mlua::Error::runtime(stop_message(limit)));
    }
    let out_of_memory = matches!(error, mlua::Value::String(s) if s.as_bytes() == MEMORY_ERROR.as_bytes());
    if out_of_memory {
        return Err(meter.trip(Stop::Limit(Limit::Memory)));
    }
    Ok(())
}
