//! A fresh, sandboxed Lua state: exactly the contract's library surface, the
//! host API, the limit hook and the memory limit.
//!
//! Built with only the base, `coroutine`, `table`, `string`, `utf8`, `math`
//! and `os` libraries (never `io`, `debug` or `package`), then trimmed by
//! `prelude.lua`: `os` keeps `time`, `clock` and `date`; `string.dump`,
//! `dofile`, `loadfile` and `require` are gone; `load` reads text only;
//! `collectgarbage` answers `"count"` only; `setmetatable` refuses `__gc`
//! (finalizers run with hooks off, out of the limits' reach); the string
//! metatable is hidden; and the `pcall` family re-raises tripped limits.

use mlua::chunk::ChunkMode;
use mlua::{Function, Lua, LuaOptions, StdLib, Table, Value as LuaValue};
use pocket_host::PluginHost;

use crate::{host_api, limits, pattern};

const PRELUDE: &str = include_str!("prelude.lua");

/// A sandboxed state and the marker its JSON arrays carry.
pub(crate) struct Sandbox {
    /// The state.
    pub lua: Lua,
    /// The metatable that marks a table as a JSON array (`json.array`).
    pub array_marker: Table,
    /// `run_body(env, chunk, input, config)`: calls a body-form chunk with fresh globals.
    pub run_body: Function,
    /// The state's memory limit, which also bounds each value read out of it.
    pub memory: u64,
}

impl Sandbox {
    /// A new state for `host`'s scripts, allowed `memory` bytes.
    pub(crate) fn new(host: &PluginHost, memory: u64) -> mlua::Result<Sandbox> {
        let libs = StdLib::COROUTINE | StdLib::TABLE | StdLib::STRING | StdLib::UTF8 | StdLib::MATH | StdLib::OS;
        let lua = Lua::new_with(libs, LuaOptions::new())?;
        lua.set_memory_limit(usize::try_from(memory).unwrap_or(usize::MAX))?;
        limits::install(&lua)?;
        pattern::install(&lua, memory)?;
        let array_marker = lua.create_table()?;
        array_marker.set("__metatable", "json.array")?;
        host_api::install(&lua, host, &array_marker, memory)?;
        let recheck = lua.create_function(|lua, error: LuaValue| limits::recheck(lua, &error))?;
        let charge = lua.create_function(|lua, count: i64| limits::charge(lua, u64::try_from(count).unwrap_or(0)))?;
        let run_body = lua
            .load(PRELUDE)
            .set_name("=pocket-sandbox")
            .set_mode(ChunkMode::Text)
            .call((recheck, charge))?;
        Ok(Sandbox {
            lua,
            array_marker,
            run_body,
            memory,
        })
    }
}
