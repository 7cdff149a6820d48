//! Pocket's Lua backend: sandboxed Lua 5.4 (through mlua, vendored) for
//! `.lua` plugin files and for the built-in `lua` node type.
//!
//! - [`LuaLoader`] is the [`pocket_core::PluginLoader`] for `*.lua` files: a
//!   file returning a plugin table, or a script in the Go engine's simple form
//!   (`-- @name:` header, `exec(input)`), becomes a [`LuaPlugin`] whose node
//!   types register like any other. Load errors name the file and line.
//! - [`LuaNodePlugin`] provides the `lua` node type: inline `source`, or
//!   `script`/`file`, compiled once per workflow node before the run; the
//!   chunk sees `input` and `config` (fresh globals on every call) and returns
//!   the output, plus an optional action.
//!
//! **Sandbox.** Scripts get the base library without `dofile`/`loadfile`,
//! text-only `load`, `collectgarbage("count")` only, `string` without `dump`,
//! `table`, `math`, `utf8`, `coroutine`, and `os.time`/`clock`/`date`; no
//! `io`, `debug`, `package` or `require`. `setmetatable` refuses `__gc`
//! metamethods and the string metatable is hidden. Host API: `json`,
//! `log.*` (`print` and `warn` log too), and, with the capability pocket.toml
//! grants, `http.request`, `env.get`, `kv.get`/`kv.set` (the plugin's own
//! namespace of the run's store); refusals return `nil, "permission denied:
//! <capability>"`. Also the Go engine's helpers `json_encode`, `json_decode`,
//! `str_split`, `str_trim`, `str_contains`, `str_replace`, `type_of`. Every
//! plugin and every inline script has Lua states of its own, so nothing a
//! script does to its globals or libraries reaches another script.
//!
//! **Values.** Pocket values convert to Lua directly (no JSON text), on a
//! growing stack, so depth is not a hazard. Integers stay integers, floats
//! stay floats; `null` is `json.null`. *The empty-table rule:* a JSON array
//! becomes a table marked as an array, so `[]` round-trips as `[]`; an
//! unmarked Lua table is an array when its keys are exactly `1..n` (`n >= 1`)
//! and an object otherwise, so an empty unmarked table is `{}`. Use
//! `json.array(t)` to return an empty array. Object keys come out sorted.
//!
//! **Limits** (pocket.toml `[plugins.limits]`, per plugin by name; `lua` for
//! inline scripts), each failing the call with `NodeError::LimitExceeded`
//! naming the limit and the script, after which the state is dropped and the
//! next call gets a fresh one:
//! - `memory`: bytes per Lua state, enforced by the allocator; no allocation
//!   beyond it succeeds. Catching the out-of-memory error with `pcall` does
//!   not save the call.
//! - `instructions`: VM instructions per call, counted by a hook every 1,000
//!   instructions in the main thread and in every coroutine. Once exceeded the
//!   hook keeps raising and `pcall`/`xpcall`/`coroutine.resume` re-raise, so
//!   the call always fails. Instructions of coroutines that finish within one
//!   1,000-instruction step are not charged.
//! - `timeout`: wall clock per call (a `lua` node's own `timeout` can only
//!   lower it), checked at the same hook ticks, and passed to `http.request`.
//!   Work a library function does inside one call is counted too:
//!   `string.find`/`match`/`gmatch`/`gsub` run Pocket's port of Lua's
//!   matcher, which charges every backtracking step and checks the clock and
//!   cancellation as it goes; `string.rep` of an empty result, `table.move`
//!   and `table.sort` charge their iterations up front. Other library calls
//!   do work linear in a string or table the memory limit already bounds.
//!
//! **Concurrency.** Each script keeps a small pool of prepared states, so
//! concurrent calls run in parallel; calls run in `block_in_place` on a
//! multi-threaded runtime and on `spawn_blocking` on a current-thread one.
//!
//! This crate does not run compiled Lua (binary chunks), C modules, LuaJIT or
//! Luau, and does not keep script state across calls in any promised way:
//! a table-form plugin's module-level locals live as long as the pooled
//! state that holds them. Use `kv` for state shared along a run.

#![forbid(unsafe_code)]

mod convert;
mod dispatch;
mod error;
mod host_api;
mod limits;
mod loader;
mod lua_node;
mod pattern;
mod plugin;
mod runtime;
mod sandbox;
mod script;

pub use loader::LuaLoader;
pub use lua_node::{LUA_NODE_PLUGIN, LuaNodePlugin};
pub use plugin::LuaPlugin;
