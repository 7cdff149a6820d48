//! Plugins and the node types they provide: the one interface every backend
//! (built-in, native, Lua, WASM) implements.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pocket_value::Value;

use crate::error::ConfigError;
use crate::node::Node;
use crate::prepared::NodeFactory;

/// The name of the plugin that holds Pocket's built-in node types.
pub const BUILTIN_PLUGIN: &str = "builtin";

/// Where a plugin's code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PluginKind {
    /// Compiled into Pocket.
    Builtin,
    /// A dynamic library built against Pocket's stable ABI.
    Native,
    /// A sandboxed Lua script.
    Lua,
    /// A sandboxed WebAssembly module.
    Wasm,
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PluginKind::Builtin => "builtin",
            PluginKind::Native => "native",
            PluginKind::Lua => "lua",
            PluginKind::Wasm => "wasm",
        })
    }
}

/// What a plugin says about itself.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PluginManifest {
    /// Unique plugin name, e.g. `text-tools`.
    pub name: String,
    /// Version, e.g. `1.2.0`.
    pub version: String,
    /// One-line description.
    pub description: String,
    /// Author, possibly empty.
    pub author: String,
    /// Which backend runs it.
    pub kind: PluginKind,
    /// The file it was loaded from, if any.
    pub source: Option<PathBuf>,
}

/// A loaded plugin: metadata plus the node types it provides.
pub trait Plugin: Send + Sync {
    /// The plugin's metadata.
    fn manifest(&self) -> &PluginManifest;

    /// The node types this plugin provides.
    fn node_types(&self) -> Vec<Arc<dyn NodeType>>;
}

/// A kind of node that workflows can use, such as `echo` or `redis-get`.
pub trait NodeType: Send + Sync {
    /// The type name workflows write in `type:`.
    fn name(&self) -> &str;

    /// One-line description for `pocket nodes`.
    fn description(&self) -> &str;

    /// JSON Schema for the node's `config`, checked (and its `default`s
    /// applied) before a workflow runs.
    fn config_schema(&self) -> Option<&serde_json::Value> {
        None
    }

    /// Top-level config keys the runner must pass through as written instead
    /// of rendering them as templates (for example a Lua `source` or the
    /// conditions a node evaluates itself).
    fn raw_config_keys(&self) -> &[&str] {
        &[]
    }

    /// Binds this type to one workflow node, once, before the workflow runs:
    /// check the static config, precompile what can be precompiled.
    fn prepare(&self, setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError>;
}

/// What [`NodeType::prepare`] gets to know about the workflow node.
#[derive(Clone, Copy)]
pub struct NodeSetup<'a> {
    /// The workflow node's name.
    pub node: &'a str,
    /// The node's config as written (schema defaults applied, templates unrendered).
    pub config: &'a Value,
    /// The providing plugin's config: pocket.toml's, with the workflow's `plugins:` entry on top.
    pub plugin_config: &'a Value,
    /// The directory of the workflow file, for resolving relative paths.
    pub workflow_dir: Option<&'a Path>,
    /// The names of the workflow nodes with an edge (a connection or a
    /// `successors` entry) to this one: the sources of a fan-in here.
    pub sources: &'a [String],
    /// Prepares other nodes the way the workflow's own nodes are prepared,
    /// for node types that run other node types (such as `parallel`).
    pub factory: &'a dyn NodeFactory,
}

impl NodeSetup<'_> {
    /// The config value under `key`, if present and not null.
    pub fn config_value(&self, key: &str) -> Option<&Value> {
        self.config.get(key).filter(|v| !v.is_null())
    }

    /// Resolves `path` against the workflow file's directory.
    pub fn resolve_path(&self, path: &str) -> PathBuf {
        match self.workflow_dir {
            Some(dir) => dir.join(path),
            None => PathBuf::from(path),
        }
    }
}
