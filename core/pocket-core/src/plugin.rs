//! Plugins and the node types they provide: the one interface every backend
//! (built-in, native, Lua, WASM) implements.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pocket_value::Value;

use crate::config::PocketConfig;
use crate::error::ConfigError;
use crate::example::Example;
use crate::node::Node;
use crate::permissions::Capability;
use crate::policy::Policy;
use crate::prepared::NodeFactory;
use crate::workflow_files::{FileBase, FileRefused};

/// Where a plugin's code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
    /// An executable speaking the process plugin protocol, in a jail.
    Process,
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PluginKind::Builtin => "builtin",
            PluginKind::Native => "native",
            PluginKind::Lua => "lua",
            PluginKind::Wasm => "wasm",
            PluginKind::Process => "process",
        })
    }
}

/// What a plugin says about itself, whatever its kind: the one shape every
/// backend reads its own format into (a Lua plugin table or header, a WASM
/// module's `pocket_describe`, a native library's descriptor).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PluginDescription {
    /// Unique plugin name, e.g. `text-tools` (its file's name).
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
    /// The node types it provides, in its own order.
    pub nodes: Vec<NodeDescription>,
    /// The capabilities it declares it needs (pocket.toml grants them, or
    /// not); a host call outside them is refused even when granted.
    pub permissions: Vec<Capability>,
}

impl PluginDescription {
    /// A plugin `name` of `kind` providing `types`, version `0.0.0`, with no
    /// description, author or file (fill them in as needed).
    pub fn new(name: &str, kind: PluginKind, types: &[Arc<dyn NodeType>]) -> PluginDescription {
        PluginDescription {
            name: name.into(),
            version: "0.0.0".into(),
            description: String::new(),
            author: String::new(),
            kind,
            source: None,
            nodes: types.iter().map(|t| t.description().clone()).collect(),
            permissions: Vec::new(),
        }
    }
}

/// One node type in a [`PluginDescription`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NodeDescription {
    /// The type name workflows write in `type:`.
    #[serde(rename = "type")]
    pub node_type: String,
    /// One-line description.
    pub description: String,
    /// JSON Schema for the node's config, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_schema: Option<serde_json::Value>,
    /// Its declared examples.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Example>,
}

impl NodeDescription {
    /// A node type `node_type` described by `description`, with no config
    /// schema and no examples (fill them in as needed).
    pub fn new(node_type: impl Into<String>, description: impl Into<String>) -> NodeDescription {
        NodeDescription {
            node_type: node_type.into(),
            description: description.into(),
            config_schema: None,
            examples: Vec::new(),
        }
    }
}

/// A loaded plugin: its description plus the node types it provides.
pub trait Plugin: Send + Sync {
    /// What the plugin says about itself.
    fn description(&self) -> &PluginDescription;

    /// The node types this plugin provides.
    fn node_types(&self) -> Vec<Arc<dyn NodeType>>;

    /// How many host calls the plugin made in its current rate windows;
    /// `None` for code whose host calls are not counted (built-ins).
    fn rate_counts(&self) -> Option<RateCounts> {
        None
    }

    /// What the backend adds about this plugin for the person checking it
    /// (`pocket plugin check` prints each line): for a WASM module, the WASI
    /// functions it imports and the grants they heed.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Drops the plugin's instances (Lua states, WASM stores) idle for
    /// longer than its `idle_timeout` at `now` (`Instant::now()`, or a later
    /// instant in a test); a long-running host calls it now and then. How
    /// many were dropped.
    fn drop_idle(&self, _now: std::time::Instant) -> usize {
        0
    }
}

/// How many calls of each kind a plugin made in its current rate windows
/// (pocket.toml's `host_calls_per_second`, `http_per_minute`,
/// `kv_per_second`, `plugin_calls_per_second`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateCounts {
    /// Host calls in the last second.
    pub host_calls: u64,
    /// HTTP requests in the last minute.
    pub http: u64,
    /// kv operations in the last second.
    pub kv: u64,
    /// Plugin calls in the last second.
    pub plugin_calls: u64,
}

/// A kind of node that workflows can use, such as `echo` or `redis-get`.
pub trait NodeType: Send + Sync {
    /// What the type says about itself: its name, one-line description,
    /// config schema and examples.
    fn description(&self) -> &NodeDescription;

    /// The type name workflows write in `type:`.
    fn name(&self) -> &str {
        &self.description().node_type
    }

    /// JSON Schema for the node's `config`, checked (and its `default`s
    /// applied) before a workflow runs.
    fn config_schema(&self) -> Option<&serde_json::Value> {
        self.description().config_schema.as_ref()
    }

    /// Examples of what the node gives for an input and config, declared by
    /// its plugin (see [`Example`]).
    fn examples(&self) -> &[Example] {
        &self.description().examples
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
    /// The directory of the workflow file (`None` for a workflow sent
    /// inline). Not for opening files: read them with [`NodeSetup::read_file`].
    pub workflow_dir: Option<&'a Path>,
    /// Where the workflow's files may be opened: beneath `workflow_dir`,
    /// unless pocket.toml switches files off or there is no directory.
    pub files: FileBase<'a>,
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

    /// Reads the text of a file the node's config names: `path`, relative
    /// to the workflow file's directory and never outside it (see
    /// [`FileBase`]). Every node type reads a workflow's files this way.
    pub fn read_file(&self, path: &str) -> Result<String, FileRefused> {
        self.files.read_to_string(path)
    }
}

impl PocketConfig {
    /// The policy of a plugin registered as `plugin` that declares
    /// `description`'s capabilities: pocket.toml's grants, narrowed to them.
    pub fn policy_for(&self, plugin: &str, description: &PluginDescription) -> Policy {
        let policy = self.policy(plugin);
        Policy {
            permissions: policy.permissions.declared_by(&description.permissions),
            ..policy
        }
    }
}
