//! What crosses the boundary between Pocket and a native plugin library:
//! the root module every plugin exports ([`PluginModule`]), what a plugin
//! describes ([`PluginDescriptor`], [`NodeTypeDescriptor`]), the node objects
//! the host calls ([`NodeTypeObject`], [`NodeObject`]), the host calls a node
//! makes ([`HostObject`]), the FFI-safe values they carry, and the
//! [`INTERFACE_VERSION`].
//!
//! This crate is the stable part, kept small: Pocket's loader (the
//! `pocket-native` crate) and every plugin library are built against it, and
//! abi_stable checks at load that both agree on the layout of every type
//! reachable from the root module. Plugin authors do not use it directly:
//! they write against `pocket-native-sdk` (a [`PluginModule`] built from
//! plain Rust functions, exported with its `export_plugin!`), as abi_stable's
//! own examples split an interface crate from the code on each side of it.
//!
//! Values cross as [`Value`] itself (pocket-value's `Value` has a stable
//! layout), so a call costs a few small copies, not parsing.

// `#[sabi_trait]` implements abi_stable traits inside items it generates.
#![allow(non_local_definitions)]

use abi_stable::StableAbi;
use abi_stable::library::RootModule;
use abi_stable::sabi_trait;
use abi_stable::sabi_types::RRef;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RBox, ROption, RResult, RStr, RString, RVec, Tuple2};
pub use pocket_value::Value;

/// The version of this interface. A library built against an interface whose
/// major version differs from the host's is refused at load, before any of
/// its code runs beyond its static initialisers; abi_stable then checks the
/// layout of every type reachable from the root module.
pub const INTERFACE_VERSION: &str = "3.0.0";

/// The root module a plugin library exports (the SDK's `export_plugin!`
/// builds it around the plugin's `describe`).
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModuleRef)))]
#[sabi(missing_field(panic))]
pub struct PluginModule {
    /// Builds the plugin's description and node types; called once per load.
    pub describe: extern "C" fn() -> RResult<PluginDescriptor, RError>,
    /// Whether the library was compiled with `panic = "unwind"`, so that a
    /// panic in its code can be caught and reported as a node error. A
    /// library compiled with `panic = "abort"` would take the whole host down
    /// on its first panic, and is refused before any of its code runs.
    #[sabi(last_prefix_field)]
    pub unwinds: bool,
}

impl RootModule for PluginModuleRef {
    abi_stable::declare_root_module_statics! {PluginModuleRef}
    const BASE_NAME: &'static str = "pocket_plugin";
    const NAME: &'static str = "pocket_plugin";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(INTERFACE_VERSION);
}

/// What a plugin says about itself, with its node types.
#[repr(C)]
#[derive(StableAbi)]
pub struct PluginDescriptor {
    /// Unique plugin name.
    pub name: RString,
    /// The plugin's version.
    pub version: RString,
    /// One-line description.
    pub description: RString,
    /// Author, possibly empty.
    pub author: RString,
    /// The capabilities the plugin's host calls need (`log`, `kv`,
    /// `http:<host>`...): a call outside them is refused even when granted.
    pub permissions: RVec<RString>,
    /// The node types the plugin provides.
    pub node_types: RVec<NodeTypeDescriptor>,
}

/// One node type of a plugin.
#[repr(C)]
#[derive(StableAbi)]
pub struct NodeTypeDescriptor {
    /// The type name workflows write in `type:`.
    pub name: RString,
    /// One-line description.
    pub description: RString,
    /// JSON Schema for the node's config.
    pub config_schema: ROption<Value>,
    /// Whether calls may block (I/O, long computations): the host runs them
    /// on its blocking thread pool instead of the runner's threads.
    pub blocking: bool,
    /// Declared examples, each an object `{input, config, output | error,
    /// action, name}` (see `pocket plugin test`).
    pub examples: RVec<Value>,
    /// Binds the type to one workflow node.
    pub node_type: NodeTypeObject_TO<'static, RBox<()>>,
}

/// A node type, behind the library boundary.
#[sabi_trait]
pub trait NodeTypeObject: Send + Sync {
    /// Binds this type to a workflow node: `config` is the node's config as
    /// written (templates unrendered), `plugin_config` the plugin's config
    /// from pocket.toml and the workflow.
    fn prepare(
        &self,
        node: RStr<'_>,
        config: Value,
        plugin_config: Value,
    ) -> RResult<NodeObject_TO<'static, RBox<()>>, RError>;
}

/// A prepared node, behind the library boundary.
#[sabi_trait]
pub trait NodeObject: Send + Sync {
    /// Runs the node once with its input and its rendered config; `RNone`
    /// means the config given to `prepare` (a config without templates), so
    /// static configs cross the boundary once, not on every call. `host`
    /// serves the plugin's host calls for the length of this call.
    fn exec(
        &self,
        input: Value,
        config: ROption<Value>,
        host: HostObject_TO<'_, RRef<'_, ()>>,
    ) -> RResult<ROutput, RError>;
}

/// Pocket's host calls, as the host offers them to one node call, checked
/// against the plugin's grant in pocket.toml as Lua's and WASM's are.
#[sabi_trait]
pub trait HostObject {
    /// Writes a log line (`log` capability); level 1 debug, 2 info, 3 warn,
    /// 4 error. A refusal is logged by the host.
    fn log(&self, level: u8, message: RStr<'_>);

    /// The value the plugin stored under `key` in the run's store (`kv`).
    fn kv_get(&self, key: RStr<'_>) -> RResult<ROption<Value>, RError>;

    /// Stores `value` under `key` in the plugin's namespace of the run's store (`kv`).
    fn kv_set(&self, key: RStr<'_>, value: Value) -> RResult<(), RError>;

    /// One key of the plugin's config (no capability needed).
    fn config_get(&self, key: RStr<'_>) -> ROption<Value>;

    /// An environment variable (`env:<pattern>`).
    fn env_get(&self, name: RStr<'_>) -> RResult<ROption<RString>, RError>;

    /// Sends an HTTP request (`http` / `http:<host>`), within what is left
    /// of the call's time.
    fn http_request(&self, request: RHttpRequest) -> RResult<RHttpResponse, RError>;

    /// Runs the node type `node_type` (`plugin/type`) with `input` and
    /// `config` (`plugin_call:<pattern>`), within what is left of the call's
    /// time; its output and action.
    fn plugin_call(&self, node_type: RStr<'_>, input: Value, config: Value) -> RResult<ROutput, RError>;
}

/// An HTTP request across the boundary.
#[repr(C)]
#[derive(StableAbi)]
pub struct RHttpRequest {
    /// `GET`, `POST`... (any case).
    pub method: RString,
    /// An absolute `http` or `https` URL.
    pub url: RString,
    /// Request headers, in order.
    pub headers: RVec<Tuple2<RString, RString>>,
    /// The body, if any.
    pub body: ROption<RVec<u8>>,
}

/// An HTTP response across the boundary.
#[repr(C)]
#[derive(StableAbi)]
pub struct RHttpResponse {
    /// The status code.
    pub status: u16,
    /// Response headers, names in lower case, in order.
    pub headers: RVec<Tuple2<RString, RString>>,
    /// The body as text (invalid UTF-8 replaced).
    pub body: RString,
}

/// HTTP headers as they cross the boundary, from `(name, value)` pairs.
pub fn headers_to_abi(headers: Vec<(String, String)>) -> RVec<Tuple2<RString, RString>> {
    headers.into_iter().map(|(k, v)| Tuple2(k.into(), v.into())).collect()
}

/// HTTP headers that crossed the boundary, as `(name, value)` pairs.
pub fn headers_from_abi(headers: RVec<Tuple2<RString, RString>>) -> Vec<(String, String)> {
    headers
        .into_iter()
        .map(|Tuple2(k, v)| (k.into_string(), v.into_string()))
        .collect()
}

/// A node's result: its output and optionally the action it chose.
#[repr(C)]
#[derive(StableAbi)]
pub struct ROutput {
    /// The output value.
    pub output: Value,
    /// The chosen action; none means `default`.
    pub action: ROption<RString>,
}

/// Why a plugin call failed.
#[repr(C)]
#[derive(StableAbi, Debug)]
pub struct RError {
    /// What kind of failure: a non-exhaustive enum across the boundary, so a
    /// later interface can add kinds (a host reads a kind it does not know as
    /// [`RErrorKind::Failed`]).
    pub kind: RErrorKind_NE,
    /// What happened.
    pub message: RString,
}

/// The kinds of [`RError`].
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
#[sabi(kind(WithNonExhaustive(size = [u32; 1], traits(Debug, Clone, PartialEq))))]
#[non_exhaustive]
pub enum RErrorKind {
    /// The call ran and failed.
    Failed,
    /// The input is unusable.
    InvalidInput,
    /// The config is unusable.
    InvalidConfig,
    /// Plugin code panicked; the panic was caught inside the plugin.
    Panicked,
}

impl RError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: RErrorKind, message: impl Into<RString>) -> RError {
        RError {
            kind: RErrorKind_NE::new(kind),
            message: message.into(),
        }
    }

    /// The error's kind; a kind this interface does not know (sent by a
    /// newer plugin) reads as [`RErrorKind::Failed`].
    pub fn kind(&self) -> RErrorKind {
        self.kind.as_enum().map_or(RErrorKind::Failed, |kind| *kind)
    }
}
