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
    LoadError, NodeType, Plugin, PluginKind, PluginLoader, PluginManifest, PocketConfig, check_plugin_name,
    file_plugin_name,
};
use pocket_host::PluginHost;

use crate::error::ScriptError;
use crate::plugin::{LuaNodeType, LuaPlugin};
use crate::runtime::Runtime;
use crate::script::{Form, Instance, Script};

/// Loads `*.lua` plugin files, with each plugin's permissions and limits
/// taken from pocket.toml by the plugin's name, which must be its file's
/// name ([`check_plugin_name`]).
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

    fn load(&self, path: &Path, config: &PocketConfig) -> Result<Arc<dyn Plugin>, LoadError> {
        Ok(Arc::new(load_plugin(path, config)?))
    }
}

/// Reads, checks and prepares the plugin in `path`.
pub(crate) fn load_plugin(path: &Path, config: &PocketConfig) -> Result<LuaPlugin, LoadError> {
    let source = std::fs::read_to_string(path).map_err(|e| LoadError::new(path, format!("cannot read: {e}")))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Scripts run (at load too) under the policy of the file's name only.
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
        label: file_name.clone(),
        chunk_name: format!("@{file_name}"),
        source,
        form,
    };
    let failed = |e: ScriptError| LoadError::new(path, e);
    let runtime_for = |name: &str| {
        Runtime::new(
            script.clone(),
            PluginHost::for_plugin(name, config),
            config.limits(name),
        )
    };
    let (manifest, node_types) = if form == Form::Table {
        let runtime = runtime_for(&stem);
        let instance = runtime.instantiate().map_err(failed)?;
        let meta = TableMeta::read(&instance, &stem).map_err(failed)?;
        check_plugin_name(path, &meta.name)?;
        runtime.keep(instance);
        let node_types = meta
            .nodes
            .into_iter()
            .map(|node| {
                Arc::new(LuaNodeType {
                    entry: Some(node.name.as_str().into()),
                    name: node.name,
                    description: node.description,
                    schema: node.schema,
                    runtime: runtime.clone(),
                }) as Arc<dyn NodeType>
            })
            .collect();
        (meta.manifest, node_types)
    } else {
        let name = header.get("name").cloned().unwrap_or(stem);
        check_plugin_name(path, &name)?;
        let runtime = runtime_for(&name);
        runtime.keep(runtime.instantiate().map_err(failed)?);
        let description = header.get("description").cloned().unwrap_or_default();
        let manifest = PluginManifest {
            name: name.clone(),
            version: header.get("version").cloned().unwrap_or_else(|| "0.0.0".into()),
            description: description.clone(),
            author: header.get("author").cloned().unwrap_or_default(),
            kind: PluginKind::Lua,
            source: None,
        };
        let node_type = LuaNodeType {
            name,
            description,
            schema: None,
            runtime,
            entry: None,
        };
        (manifest, vec![Arc::new(node_type) as Arc<dyn NodeType>])
    };
    tracing::debug!(plugin = %manifest.name, file = %path.display(), ?form, "loaded Lua plugin");
    Ok(LuaPlugin {
        manifest: PluginManifest {
            source: Some(path.to_path_buf()),
            ..manifest
        },
        node_types,
    })
}

/// What a table-form plugin says about itself.
struct TableMeta {
    name: String,
    manifest: PluginManifest,
    nodes: Vec<NodeMeta>,
}

struct NodeMeta {
    name: String,
    description: String,
    schema: Option<serde_json::Value>,
}

impl TableMeta {
    fn read(instance: &Instance, stem: &str) -> Result<TableMeta, ScriptError> {
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
        let name = text(exports, "name")?.unwrap_or_else(|| stem.to_string());
        let manifest = PluginManifest {
            name: name.clone(),
            version: text(exports, "version")?.unwrap_or_else(|| "0.0.0".into()),
            description: text(exports, "description")?.unwrap_or_default(),
            author: text(exports, "author")?.unwrap_or_default(),
            kind: PluginKind::Lua,
            source: None,
        };
        let nodes_table: mlua::Table = exports.raw_get("nodes").map_err(|e| ScriptError::from_lua(&e))?;
        let mut nodes = Vec::new();
        for pair in nodes_table.pairs::<String, mlua::Table>() {
            let (node_name, node) = pair.map_err(|e| ScriptError::from_lua(&e))?;
            let schema = match node
                .raw_get::<LuaValue>("config_schema")
                .map_err(|e| ScriptError::from_lua(&e))?
            {
                LuaValue::Nil => None,
                value => Some(
                    pocket_core::schema_json(&instance.read(&value, "config_schema")?)
                        .map_err(|e| ScriptError::Shape(format!("node type `{node_name}`: config_schema: {e}")))?,
                ),
            };
            nodes.push(NodeMeta {
                description: text(&node, "description")?.unwrap_or_default(),
                name: node_name,
                schema,
            });
        }
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(TableMeta { name, manifest, nodes })
    }
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
