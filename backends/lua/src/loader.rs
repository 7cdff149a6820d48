//! [`LuaLoader`]: `.lua` files in plugin directories become [`LuaPlugin`]s.
//!
//! Two shapes are accepted. The table form returns
//! `{ name, version, description, author, nodes = { [type] = { description, config_schema, exec } } }`.
//! The Go engine's simple form has header comments (`-- @name: x`,
//! `-- @description: ...`, `-- @version: ...`, `-- @category: ...`) and
//! defines `exec(input)` or `process(input, config)`, or else, when it has a
//! header, is itself the node's body (reads `input`, returns the output). It
//! provides one node type named by `@name`, or the file name.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use mlua::Value as LuaValue;
use pocket_core::{
    Capability, Example, Limits, LoadError, NodeDescription, NodeType, OpenedPlugin, Permissions, Plugin,
    PluginDescription, PluginKind, PluginLoader, PluginSource, Policy, file_plugin_name,
};
use pocket_host::PluginHost;

use crate::error::ScriptError;
use crate::plugin::{LuaNodeType, LuaPlugin};
use crate::runtime::Runtime;
use crate::script::{Form, Instance, Script};

/// Loads `*.lua` plugin files: [`open`](PluginLoader::open) reads what a
/// script says about itself (running a table-form script's top level with
/// no capability), [`OpenedPlugin::bind`] gives it its policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct LuaLoader;

impl LuaLoader {
    /// The loader.
    pub fn new() -> Self {
        LuaLoader
    }
}

impl PluginLoader for LuaLoader {
    fn kind(&self) -> PluginKind {
        PluginKind::Lua
    }

    fn handles(&self, path: &Path) -> bool {
        path.extension().is_some_and(|e| e.eq_ignore_ascii_case("lua"))
    }

    fn open(&self, source: &PluginSource<'_>, limits: &Limits) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        Ok(Box::new(OpenedLua::open(source, limits)?))
    }
}

/// A Lua plugin file read and described, not yet bound to a policy.
struct OpenedLua {
    script: Script,
    description: PluginDescription,
}

impl OpenedLua {
    fn open(plugin: &PluginSource<'_>, limits: &Limits) -> Result<OpenedLua, LoadError> {
        let path = plugin.path();
        let source = std::str::from_utf8(plugin.bytes())
            .map_err(|e| LoadError::new(path, format!("cannot read: not UTF-8 text ({e})")))?
            .to_string();
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = file_plugin_name(path);
        let header = header_fields(&source);
        let form = if defines_entry_function(&source) {
            Form::Functions
        } else if header.contains_key("name") {
            Form::Body
        } else {
            Form::Table
        };
        let script = Script {
            chunk_name: format!("@{file_name}"),
            label: file_name,
            source,
            form,
        };
        let mut description = if form == Form::Table {
            // The table's top level runs to describe it: with no capability.
            let unbound = Policy {
                limits: *limits,
                permissions: Permissions::default(),
                ..Policy::default()
            };
            let runtime = Runtime::new(script.clone(), PluginHost::bound(&stem, &unbound), *limits);
            let instance = runtime.instantiate().map_err(|e| LoadError::new(path, e))?;
            describe_table(&instance, &stem).map_err(|e| LoadError::new(path, e))?
        } else {
            describe_header(&header, stem).map_err(|e| LoadError::new(path, e))?
        };
        description.source = Some(path.to_path_buf());
        tracing::debug!(plugin = %description.name, file = %path.display(), ?form, "opened Lua plugin");
        Ok(OpenedLua { script, description })
    }
}

impl OpenedPlugin for OpenedLua {
    fn description(&self) -> &PluginDescription {
        &self.description
    }

    fn bind(self: Box<Self>, policy: Policy) -> Result<Arc<dyn Plugin>, LoadError> {
        let OpenedLua { script, description } = *self;
        let table_form = script.form == Form::Table;
        let runtime = Runtime::new(script, PluginHost::bound(&description.name, &policy), policy.limits);
        let node_types = description
            .nodes
            .iter()
            .map(|node| {
                Arc::new(LuaNodeType {
                    entry: table_form.then(|| node.node_type.as_str().into()),
                    description: node.clone(),
                    runtime: runtime.clone(),
                }) as Arc<dyn NodeType>
            })
            .collect();
        Ok(Arc::new(LuaPlugin {
            description,
            node_types,
            runtime,
        }))
    }
}

/// What a script in the Go engine's simple form says in its header: one
/// node type, named by `@name` (else the file's name), and the capabilities
/// `@permissions` lists (comma-separated).
fn describe_header(header: &BTreeMap<String, String>, stem: String) -> Result<PluginDescription, ScriptError> {
    let name = header.get("name").cloned().unwrap_or(stem);
    let description = header.get("description").cloned().unwrap_or_default();
    let listed: Vec<&str> = header
        .get("permissions")
        .map(|list| list.split(',').map(str::trim).filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let permissions = Capability::parse_list(&listed).map_err(|e| ScriptError::Shape(format!("@permissions: {e}")))?;
    Ok(PluginDescription {
        version: header.get("version").cloned().unwrap_or_else(|| "0.0.0".into()),
        author: header.get("author").cloned().unwrap_or_default(),
        kind: PluginKind::Lua,
        source: None,
        nodes: vec![NodeDescription {
            node_type: name.clone(),
            description: description.clone(),
            config_schema: None,
            examples: Vec::new(),
        }],
        name,
        description,
        permissions,
    })
}

/// What a table-form plugin says about itself: `name`, `version`,
/// `description`, `author`, and its `nodes` (sorted by type name).
fn describe_table(instance: &Instance, stem: &str) -> Result<PluginDescription, ScriptError> {
    let exports = instance
        .exports()
        .ok_or_else(|| ScriptError::Shape("not a plugin table".into()))?;
    let text = |table: &mlua::Table, key: &str| -> Result<Option<String>, ScriptError> {
        match table.raw_get::<LuaValue>(key).map_err(|e| ScriptError::from_lua(&e))? {
            LuaValue::Nil => Ok(None),
            LuaValue::String(s) => Ok(Some(s.to_string_lossy())),
            other => Err(ScriptError::Shape(format!(
                "`{key}` must be a string, not a {}",
                other.type_name()
            ))),
        }
    };
    let nodes_table: mlua::Table = exports.raw_get("nodes").map_err(|e| ScriptError::from_lua(&e))?;
    let mut nodes = Vec::new();
    for pair in nodes_table.pairs::<String, mlua::Table>() {
        let (node_type, node) = pair.map_err(|e| ScriptError::from_lua(&e))?;
        let config_schema = match node
            .raw_get::<LuaValue>("config_schema")
            .map_err(|e| ScriptError::from_lua(&e))?
        {
            LuaValue::Nil => None,
            value => Some(
                pocket_core::schema_json(&instance.read(&value, "config_schema")?)
                    .map_err(|e| ScriptError::Shape(format!("node type `{node_type}`: config_schema: {e}")))?,
            ),
        };
        let examples = match node
            .raw_get::<LuaValue>("examples")
            .map_err(|e| ScriptError::from_lua(&e))?
        {
            LuaValue::Nil => Vec::new(),
            value => {
                let declared = serde_json::to_value(instance.read(&value, "examples")?)
                    .map_err(|e| ScriptError::Shape(format!("node type `{node_type}`: examples: {e}")))?;
                Example::parse_list(&node_type, declared).map_err(ScriptError::Shape)?
            }
        };
        nodes.push(NodeDescription {
            description: text(&node, "description")?.unwrap_or_default(),
            node_type,
            config_schema,
            examples,
        });
    }
    nodes.sort_by(|a, b| a.node_type.cmp(&b.node_type));
    let permissions = match exports
        .raw_get::<LuaValue>("permissions")
        .map_err(|e| ScriptError::from_lua(&e))?
    {
        LuaValue::Nil => Vec::new(),
        value => {
            let listed = match serde_json::to_value(instance.read(&value, "permissions")?).unwrap_or_default() {
                // An empty Lua table reads as an empty object.
                serde_json::Value::Object(map) if map.is_empty() => Vec::new(),
                list => serde_json::from_value::<Vec<String>>(list)
                    .map_err(|_| ScriptError::Shape("`permissions` must be a list of capability names".into()))?,
            };
            Capability::parse_list(&listed).map_err(|e| ScriptError::Shape(format!("permissions: {e}")))?
        }
    };
    Ok(PluginDescription {
        name: text(exports, "name")?.unwrap_or_else(|| stem.to_string()),
        version: text(exports, "version")?.unwrap_or_else(|| "0.0.0".into()),
        description: text(exports, "description")?.unwrap_or_default(),
        author: text(exports, "author")?.unwrap_or_default(),
        kind: PluginKind::Lua,
        source: None,
        nodes,
        permissions,
    })
}

/// The `-- @key: value` lines of the comment block that opens the file.
fn header_fields(source: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    for line in source.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("#!") {
            continue;
        }
        let Some(comment) = line.strip_prefix("--") else { break };
        if let Some((key, value)) = comment.trim().strip_prefix('@').and_then(|f| f.split_once(':')) {
            fields.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    fields
}

/// Whether the script defines a global `exec` or `process` function at the
/// start of an unindented line (`function exec(`, `exec = function`); the
/// indented `exec = function` entries of a plugin table do not count.
fn defines_entry_function(source: &str) -> bool {
    source.lines().any(|line| {
        fn name_then(rest: &str) -> Option<&str> {
            ["exec", "process"]
                .iter()
                .find_map(|name| rest.strip_prefix(name))
                .map(str::trim_start)
        }
        if let Some(rest) = line.strip_prefix("function ").map(str::trim_start).and_then(name_then) {
            return rest.starts_with('(');
        }
        name_then(line)
            .and_then(|rest| rest.strip_prefix('='))
            .is_some_and(|rest| rest.trim_start().starts_with("function"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_come_from_the_opening_comment_block() {
        let fields = header_fields(
            "#!/usr/bin/env lua\n-- @name: data-processor\n-- @Version: 1.0.0\n-- plain comment\nlocal x = 1\n-- @name: ignored\n",
        );
        assert_eq!(fields.get("name").map(String::as_str), Some("data-processor"));
        assert_eq!(fields.get("version").map(String::as_str), Some("1.0.0"));
    }

    #[test]
    fn entry_functions_are_found_in_both_spellings() {
        assert!(defines_entry_function("function exec(input)\nend"));
        assert!(defines_entry_function("process = function(input, config) end"));
        assert!(!defines_entry_function(
            "  nodes = { x = {\n    exec = function(input) end } }"
        ));
        assert!(!defines_entry_function("local function exec(input) end"));
        assert!(!defines_entry_function("function executor(input) end"));
        assert!(!defines_entry_function(
            "return { nodes = { x = { exec = function() end } } }"
        ));
    }
}
