//! A script's code and shape, and one sandboxed state with that script loaded.

use std::collections::HashMap;
use std::time::Duration;

use mlua::chunk::ChunkMode;
use mlua::{Function, Lua, MultiValue, Table, Value as LuaValue};
use pocket_core::{Limit, Limits, RunContext, Value};
use pocket_host::{PluginHost, Stop};

use crate::convert::{from_lua, to_lua};
use crate::error::ScriptError;
use crate::host_api;
use crate::limits::{self, Watch};
use crate::sandbox::Sandbox;

/// Lua source plus what the host needs to know to run it.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    /// How messages name the script: `text-tools.lua`, `lua node \`double\``.
    pub label: String,
    /// The chunk name Lua puts in error positions (`@text-tools.lua`, `=double`).
    pub chunk_name: String,
    /// The code.
    pub source: String,
    /// How the code provides its node types.
    pub form: Form,
}

/// How a script provides its node types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// It returns `{ name = ..., nodes = { [type] = { exec = function(input, config) ... } } }`.
    Table,
    /// It defines a global `exec(input)` or `process(input, config)` (the Go engine's simple form).
    Functions,
    /// The chunk itself is the node: it reads the globals `input` and `config`
    /// and returns the output (the `lua` node, and simple-form scripts without `exec`).
    Body,
}

/// What one call may use: its budget and the run it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    /// VM instructions.
    pub instructions: u64,
    /// Wall-clock time.
    pub timeout: Duration,
    /// Cancellation to watch.
    pub watch: Watch,
    /// The run the call belongs to, for `kv` and `nodes`.
    pub run: Option<RunContext>,
}

impl Budget {
    /// The budget for running a script's top level at load time.
    pub(crate) fn for_loading(limits: &Limits) -> Budget {
        Budget {
            instructions: limits.instructions,
            timeout: limits.timeout,
            watch: Watch::default(),
            run: None,
        }
    }
}

/// A call's result: the output and the action, if the script named one.
pub(crate) type Returned = (Value, Option<String>);

/// A sandboxed state with one script loaded and its entry points found.
pub(crate) struct Instance {
    sandbox: Sandbox,
    entries: Entries,
}

enum Entries {
    Table {
        exports: Table,
        exec: HashMap<String, Function>,
    },
    Functions {
        exec: Function,
    },
    Body {
        chunk: Function,
        env: Table,
    },
}

impl Instance {
    /// Builds a state for `host` and loads `script` in it, running its top
    /// level (table and function forms) within `limits`.
    pub(crate) fn load(script: &Script, host: &PluginHost, limits: &Limits) -> Result<Instance, ScriptError> {
        let sandbox = Sandbox::new(host, limits.memory).map_err(|e| ScriptError::from_lua(&e))?;
        let lua = &sandbox.lua;
        let chunk = lua
            .load(&script.source)
            .set_name(&script.chunk_name)
            .set_mode(ChunkMode::Text);
        let budget = Budget::for_loading(limits);
        let entries = match script.form {
            Form::Body => {
                let env = lua.create_table().map_err(|e| ScriptError::from_lua(&e))?;
                let meta = lua.create_table().map_err(|e| ScriptError::from_lua(&e))?;
                let setup = meta
                    .raw_set("__index", lua.globals())
                    .and_then(|()| meta.raw_set("__metatable", false))
                    .and_then(|()| env.set_metatable(Some(meta)));
                setup.map_err(|e| ScriptError::from_lua(&e))?;
                let chunk = chunk
                    .set_environment(env.clone())
                    .into_function()
                    .map_err(|e| ScriptError::from_lua(&e))?;
                Entries::Body { chunk, env }
            }
            Form::Functions => {
                metered(lua, &budget, || chunk.exec())?;
                let globals = lua.globals();
                let exec = ["exec", "process"]
                    .iter()
                    .find_map(|name| globals.raw_get::<Option<Function>>(*name).ok().flatten())
                    .ok_or_else(|| {
                        ScriptError::Shape(
                            "the script defines neither `exec(input)` nor `process(input, config)`".into(),
                        )
                    })?;
                Entries::Functions { exec }
            }
            Form::Table => {
                let exports = match metered(lua, &budget, || chunk.call::<LuaValue>(()))? {
                    LuaValue::Table(t) => t,
                    other => {
                        return Err(ScriptError::Shape(format!(
                            "the script must return a plugin table ({{ name = ..., nodes = {{ ... }} }}), not a {}",
                            other.type_name()
                        )));
                    }
                };
                let exec = node_functions(&exports)?;
                Entries::Table { exports, exec }
            }
        };
        Ok(Instance { sandbox, entries })
    }

    /// The table a table-form script returned.
    pub(crate) fn exports(&self) -> Option<&Table> {
        match &self.entries {
            Entries::Table { exports, .. } => Some(exports),
            _ => None,
        }
    }

    /// Reads a Lua value of this state as JSON (`what` names it in errors),
    /// within the state's memory limit.
    pub(crate) fn read(&self, value: &LuaValue, what: &'static str) -> Result<Value, ScriptError> {
        from_lua(value, &self.sandbox.array_marker, self.sandbox.memory).map_err(|error| {
            if error.is_too_large() {
                ScriptError::Stopped(Stop::Limit(Limit::Memory))
            } else {
                ScriptError::Convert { what, error }
            }
        })
    }

    /// Calls node type `node` (table form) or the script's entry point with
    /// `input` and `config`, within `budget`.
    pub(crate) fn call(
        &self,
        node: Option<&str>,
        input: &Value,
        config: &Value,
        budget: &Budget,
    ) -> Result<Returned, ScriptError> {
        let lua = &self.sandbox.lua;
        let marker = &self.sandbox.array_marker;
        let returned = metered(lua, budget, || {
            let input = to_lua(lua, input, marker)?;
            let config = to_lua(lua, config, marker)?;
            match &self.entries {
                Entries::Table { exec, .. } => {
                    let name = node.unwrap_or_default();
                    let Some(function) = exec.get(name) else {
                        return Err(mlua::Error::runtime(format!("the plugin has no node type `{name}`")));
                    };
                    function.call::<MultiValue>((input, config))
                }
                Entries::Functions { exec } => exec.call::<MultiValue>((input, config)),
                Entries::Body { chunk, env } => self.sandbox.run_body.call::<MultiValue>((env, chunk, input, config)),
            }
        })?;
        let mut returned = returned.into_iter();
        // A script that returns nothing passes its input on (the Go engine's
        // rule); `return nil` is an explicit null.
        let output = match returned.next() {
            None => input.clone(),
            Some(output) => self.read(&output, "output")?,
        };
        let action = match returned.next().unwrap_or(LuaValue::Nil) {
            LuaValue::Nil => None,
            LuaValue::String(s) => Some(s.to_string_lossy()),
            other => {
                return Err(ScriptError::Shape(format!(
                    "the second return value (the action) must be a string, not a {}",
                    other.type_name()
                )));
            }
        };
        Ok((output, action))
    }
}

/// Runs `f` under `budget`: a tripped limit wins over whatever `f` returned.
fn metered<R>(lua: &Lua, budget: &Budget, f: impl FnOnce() -> mlua::Result<R>) -> Result<R, ScriptError> {
    host_api::enter(lua, budget.run.clone());
    limits::start(lua, budget.instructions, budget.timeout, budget.watch.clone());
    let result = f();
    let stopped = limits::finish(lua);
    host_api::enter(lua, None);
    if let Some(stop) = stopped {
        return Err(ScriptError::Stopped(stop));
    }
    result.map_err(|e| ScriptError::from_lua(&e))
}

/// The `exec` function of every entry of a plugin table's `nodes`.
fn node_functions(exports: &Table) -> Result<HashMap<String, Function>, ScriptError> {
    let nodes = match exports.raw_get::<LuaValue>("nodes") {
        Ok(LuaValue::Table(nodes)) => nodes,
        _ => return Err(ScriptError::Shape("the plugin table has no `nodes` table".into())),
    };
    let mut exec = HashMap::new();
    for pair in nodes.pairs::<LuaValue, LuaValue>() {
        let (name, node) = pair.map_err(|e| ScriptError::from_lua(&e))?;
        let LuaValue::String(name) = name else {
            return Err(ScriptError::Shape(format!(
                "`nodes` keys must be node type names, not a {}",
                name.type_name()
            )));
        };
        let name = name.to_string_lossy();
        let function = match node {
            LuaValue::Table(node) => node.raw_get::<Option<Function>>("exec").ok().flatten(),
            _ => None,
        };
        let function =
            function.ok_or_else(|| ScriptError::Shape(format!("node type `{name}` has no `exec` function")))?;
        exec.insert(name, function);
    }
    if exec.is_empty() {
        return Err(ScriptError::Shape("the plugin table's `nodes` is empty".into()));
    }
    Ok(exec)
}
