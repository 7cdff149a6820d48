//! Pocket's backend-agnostic core.
//!
//! - [`Plugin`] and [`NodeType`]: the one interface every backend (built-in,
//!   native, Lua, WASM) implements; [`Node`] is a node type bound to one
//!   workflow node's config.
//! - [`Registry`]: where all plugins register their node types.
//! - [`parse`] reads workflow files (YAML, JSON, TOML: the Go Pocket engine's
//!   format) into a [`WorkflowFile`]; [`validate`] checks it against the
//!   registry into an executable [`Graph`]; [`run`] executes it on tokio.
//! - [`PocketConfig`]: pocket.toml, with per-plugin config,
//!   [`Permissions`] and [`Limits`] that backends enforce.
//! - [`PluginCaller`]: plugin code running other node types, through the
//!   [`RunContext`] of its call ([`WorkflowPluginCaller`] for a validated workflow).
//!
//! This crate knows nothing about Lua, WASM or dynamic libraries.

#[cfg(target_os = "linux")]
pub mod beneath;
mod blocking;
mod config;
mod config_positions;
mod config_template;
mod context;
mod diagnostic;
mod duration;
mod error;
mod example;
mod gate;
mod graph;
mod isolation;
mod kv;
mod limits;
mod loader;
mod location;
mod names;
mod node;
mod outcome;
pub mod parse;
mod paths;
mod permissions;
mod plugin;
mod plugin_call;
mod policy;
mod prepare;
mod prepared;
mod registry;
mod runner;
mod schema;
mod secret_config;
mod server_config;
mod suggest;
pub mod thread_memory;
mod triggers;
mod validate;
mod workflow;
mod workflow_files;
mod yaml_duplicates;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use blocking::{Abandoned, run_blocking};
pub use config::{BuiltinsConfig, CONFIG_ENV, ConfigFileError, DEFAULT_PLUGIN_CALL_DEPTH, PluginsConfig, PocketConfig};
pub use config_positions::{ConfigPlaces, ConfigPositions};
pub use config_template::ConfigTemplate;
pub use context::{CallTarget, PluginCallError, PluginCaller, RunContext};
pub use diagnostic::{Diagnostic, Severity, ValidationError};
pub use duration::{format_duration, parse_duration};
pub use error::{
    ConfigError, LoadCause, LoadError, MAX_NODE_TYPES, PrepareError, RegistryError, TypeLookupError, UnknownType,
};
pub use example::{Example, MAX_EXAMPLES};
pub use gate::{Admitted, PluginBytes, PluginFile, PluginSource, SignatureRefused, admit};
pub use graph::{Edge, Graph, GraphNode, NodeId};
pub use isolation::Isolation;
pub use kv::{KvFull, KvQuota, KvStore, Owner};
pub use limits::{Limit, LimitOverrides, Limits, parse_size};
pub use loader::{
    DIRECTORY_PLUGIN_MANIFEST, OpenedPlugin, PluginLoader, check_plugin_name, file_plugin_name, load_plugin,
    plugin_files,
};
pub use location::{Located, Position};
pub use names::{
    BUILTIN_PLUGIN, LUA_NODE_PLUGIN, RESERVED_PLUGIN_NAMES, check_registered_name, is_reserved_name,
    validate_plugin_name,
};
pub use node::{Execution, Invocation, Node};
pub use outcome::{Action, BoxFuture, DEFAULT_ACTION, ERROR_ACTION, NodeError, NodeOutput};
pub use parse::{Format, ParseError, parse_file, parse_source, parse_str, parse_yaml_value, read_workflow};
pub use paths::directory_of;
pub use permissions::{Capability, DenialReason, Denied, Permissions, Request, glob_match, looks_secret};
pub use plugin::{NodeDescription, NodeSetup, NodeType, Plugin, PluginDescription, PluginKind, RateCounts};
pub use plugin_call::WorkflowPluginCaller;
pub use pocket_value::{Map, Number, Value};
pub use policy::Policy;
pub use prepare::{Preparer, prepare_standalone};
pub use prepared::{NodeFactory, NodeRequest, PreparedNode};
pub use registry::{Catalog, RegisteredPlugin, Registry, ResolvedType};
pub use runner::{NodeExecutor, NodeFailure, NodeJob, RunError, RunObserver, RunOptions, RunOutcome, TraceEntry, run};
pub use schema::{ConfigSchema, MAX_SCHEMA_DEPTH, schema_json};
pub use server_config::{HistoryLocation, Scope, ServerConfig, TokenConfig};
pub use suggest::did_you_mean;
pub use triggers::{Schedule, Trigger, TriggerSpec, WEBHOOK_PREFIX, WebhookSpec};
pub use validate::{DEFAULT_MAX_STEPS, Validated, validate};
pub use workflow::{ConnectionSpec, NodeSpec, RetrySpec, StoreSpec, SuccessorSpec, WorkflowFile};
pub use workflow_files::{FileBase, FileRefused, NoFiles, checked_beneath, lexically_inside};
