//! The messages host and plugin process exchange, one per frame. The host
//! asks ([`ToChild`]); the child answers each request with one reply
//! ([`FromChild`]), after any number of host calls it makes meanwhile
//! ([`FromChild::Host`], each answered by a [`ToChild::Host`]).

use pocket_host::{HttpRequest, HttpResponse, PluginCall};
use pocket_value::Value;
use serde::{Deserialize, Serialize};

/// What the host sends a plugin's process.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToChild {
    /// Describe the plugin; answered by [`FromChild::Described`].
    Describe,
    /// Prepare node type `node_type` for workflow node `node` and keep it
    /// under `key`; answered by [`FromChild::Prepared`].
    Prepare {
        /// The host's name for this prepared node, the same in every process.
        key: u64,
        /// The node type.
        node_type: String,
        /// The workflow node's name.
        node: String,
        /// Its config as written (templates unrendered).
        config: Value,
        /// The plugin's config.
        plugin_config: Value,
    },
    /// Call the node prepared under `key`; answered by [`FromChild::Done`].
    Call {
        /// The prepared node.
        key: u64,
        /// The node's input.
        input: Value,
        /// The rendered config; `None` for the config it was prepared with.
        config: Option<Value>,
    },
    /// The answer to the child's pending [`FromChild::Host`].
    Host(HostResponse),
}

/// What a plugin's process sends the host.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum FromChild {
    /// The plugin's description.
    Described(Description),
    /// The library could not be loaded in the child; it exits after this.
    Refused(String),
    /// The node is prepared, or why not.
    Prepared(Result<(), Failure>),
    /// The call's result.
    Done(Result<Outcome, Failure>),
    /// A host call the node makes mid-call.
    Host(HostRequest),
}

/// What a plugin says about itself, as its library described it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Description {
    pub name: String,
    pub version: String,
    pub description: String,
    pub author: String,
    /// Declared capabilities, as written (the host parses them).
    pub permissions: Vec<String>,
    pub node_types: Vec<NodeTypeInfo>,
}

/// One node type of the plugin. (Whether its calls block does not cross:
/// every isolated call waits on a pipe, so all run off the runner's thread.)
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NodeTypeInfo {
    pub name: String,
    pub description: String,
    pub config_schema: Option<serde_json::Value>,
    /// Declared examples, as written (the host checks them).
    pub examples: Vec<serde_json::Value>,
}

/// A node's output and the action it chose.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Outcome {
    pub output: Value,
    pub action: Option<String>,
}

/// Why a node (or its preparation) failed, as the plugin said.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

/// The kinds of [`Failure`]: the interface's error kinds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) enum FailureKind {
    Failed,
    InvalidInput,
    InvalidConfig,
    Panicked,
}

/// One host call, as it crosses the pipe.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum HostRequest {
    Log { level: u8, message: String },
    KvGet { key: String },
    KvSet { key: String, value: Value },
    ConfigGet { key: String },
    EnvGet { name: String },
    Http(HttpRequest),
    PluginCall(PluginCall),
}

/// What a host call gave back.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum HostResponse {
    /// Done, nothing to return (`log`, `kv_set`).
    Done,
    /// A value, or none (`kv_get`, `config_get`).
    Value(Option<Value>),
    /// A text, or none (`env_get`).
    Text(Option<String>),
    /// An HTTP response.
    Http(HttpResponse),
    /// What another node type produced (`plugin_call`).
    Output { output: Value, action: Option<String> },
    /// The call failed (a refused capability, a rate limit, a failed request).
    Failed(String),
}
