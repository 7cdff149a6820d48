//! The process plugin protocol, version [`PROTOCOL`]: JSON messages, one per
//! frame (a `u32` little-endian length, then that many bytes of UTF-8 JSON,
//! at most [`MAX_FRAME`]), over the program's stdin (host to plugin) and
//! stdout (plugin to host). `docs/process-protocol.md` is the reference an
//! SDK is written from; these types are its Rust side.
//!
//! Every request carries an `id` the answer repeats, so several calls are
//! in flight at once and answers may come in any order. Host calls the
//! plugin makes during a call carry their own `id` and the `call` they
//! belong to.

use pocket_core::Value;
use serde::{Deserialize, Serialize};

pub use pocket_host::frame::{FrameError, MAX_FRAME, read_frame, write_frame};

/// The protocol version this host speaks.
pub const PROTOCOL: u32 = 1;

/// What the host sends a plugin.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToPlugin<'a> {
    /// Describe yourself: answered by [`FromPlugin::Described`].
    Describe {
        /// The request's id.
        id: u64,
        /// The protocol version the host speaks.
        protocol: u32,
    },
    /// Check a workflow node's config: answered by
    /// [`FromPlugin::Prepared`] or [`FromPlugin::Error`].
    Prepare {
        /// The request's id.
        id: u64,
        /// The node type.
        node_type: &'a str,
        /// The workflow node's name.
        node: &'a str,
        /// Its config as written (templates unrendered).
        config: &'a Value,
        /// The plugin's config.
        plugin_config: &'a Value,
    },
    /// Run a node: answered by [`FromPlugin::Result`] or [`FromPlugin::Error`].
    Exec {
        /// The call's id.
        id: u64,
        /// The node type.
        node_type: &'a str,
        /// The workflow node's name.
        node: &'a str,
        /// The node's input.
        input: &'a Value,
        /// Its config, templates rendered.
        config: &'a Value,
        /// The plugin's config.
        plugin_config: &'a Value,
        /// Which attempt this is, from 1.
        attempt: u32,
        /// Milliseconds the call has before the host gives up on it.
        timeout_ms: u64,
    },
    /// The host no longer waits for call `id` (the run was cancelled).
    Cancel {
        /// The call's id.
        id: u64,
    },
    /// The answer to host call `id`: a `value`, or an `error`.
    HostResult {
        /// The host call's id.
        id: u64,
        /// What it gave (`null` for nothing).
        #[serde(skip_serializing_if = "Option::is_none")]
        value: Option<Value>,
        /// Why it failed (refused, rate limited, ...).
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// Exit now: the host is done with this process.
    Shutdown,
}

/// What a plugin sends the host.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromPlugin {
    /// The answer to [`ToPlugin::Describe`].
    Described {
        /// The request's id.
        id: u64,
        /// The protocol version the plugin speaks.
        protocol: u32,
        /// What it says about itself.
        plugin: Described,
    },
    /// A config is usable.
    Prepared {
        /// The request's id.
        id: u64,
    },
    /// A call's output.
    Result {
        /// The call's id.
        id: u64,
        /// What the node gives the next one.
        #[serde(default)]
        output: Value,
        /// The action it chose, if not the default.
        #[serde(default)]
        action: Option<String>,
    },
    /// A call (or a prepare) failed.
    Error {
        /// The request's id.
        id: u64,
        /// Why, for people.
        message: String,
        /// What kind of failure ([`ErrorKind`]).
        #[serde(default)]
        kind: ErrorKind,
    },
    /// A host call, made during call `call`.
    Host {
        /// The host call's own id (the plugin's choice, unique among its
        /// host calls in flight).
        id: u64,
        /// The call it belongs to.
        call: u64,
        /// `log`, `kv_get`, `kv_set`, `config_get`, `env_get`, `http` or
        /// `plugin_call`.
        function: String,
        /// Its arguments.
        #[serde(default)]
        args: serde_json::Value,
    },
}

/// What kind of failure a plugin reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The node failed.
    #[default]
    Failed,
    /// It cannot use its input.
    InvalidInput,
    /// Its config is unusable.
    InvalidConfig,
}

/// What a plugin says about itself.
#[derive(Debug, Deserialize)]
pub struct Described {
    /// Its name (the directory's name, or an alias's).
    pub name: String,
    /// Its version.
    #[serde(default)]
    pub version: String,
    /// One line about it.
    #[serde(default)]
    pub description: String,
    /// Who wrote it.
    #[serde(default)]
    pub author: String,
    /// The capabilities it declares.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Its node types.
    pub nodes: Vec<DescribedNode>,
}

/// One node type a plugin describes.
#[derive(Debug, Deserialize)]
pub struct DescribedNode {
    /// Its name.
    #[serde(rename = "type")]
    pub node_type: String,
    /// One line about it.
    #[serde(default)]
    pub description: String,
    /// A JSON Schema for its config.
    #[serde(default)]
    pub config_schema: Option<serde_json::Value>,
    /// Examples `pocket plugin test` runs.
    #[serde(default)]
    pub examples: Vec<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_json_objects_tagged_by_type() {
        let input = Value::from_json(r#"{"a": 1}"#).unwrap();
        let empty = Value::empty_object();
        let exec = ToPlugin::Exec {
            id: 7,
            node_type: "upper",
            node: "n",
            input: &input,
            config: &empty,
            plugin_config: &empty,
            attempt: 1,
            timeout_ms: 500,
        };
        assert_eq!(
            serde_json::to_string(&exec).unwrap(),
            r#"{"type":"exec","id":7,"node_type":"upper","node":"n","input":{"a":1},"config":{},"plugin_config":{},"attempt":1,"timeout_ms":500}"#
        );
        let done = ToPlugin::HostResult {
            id: 2,
            value: None,
            error: Some("permission denied: kv".into()),
        };
        assert_eq!(
            serde_json::to_string(&done).unwrap(),
            r#"{"type":"host_result","id":2,"error":"permission denied: kv"}"#
        );
        assert_eq!(
            serde_json::to_string(&ToPlugin::Shutdown).unwrap(),
            r#"{"type":"shutdown"}"#
        );
        let result: FromPlugin =
            serde_json::from_str(r#"{"type":"result","id":7,"output":[1],"action":"big"}"#).unwrap();
        assert!(matches!(result, FromPlugin::Result { id: 7, action: Some(ref a), .. } if a == "big"));
        let error: FromPlugin = serde_json::from_str(r#"{"type":"error","id":7,"message":"no"}"#).unwrap();
        assert!(matches!(
            error,
            FromPlugin::Error {
                kind: ErrorKind::Failed,
                ..
            }
        ));
        let host: FromPlugin =
            serde_json::from_str(r#"{"type":"host","id":1,"call":7,"function":"kv_get","args":{"key":"k"}}"#).unwrap();
        assert!(matches!(host, FromPlugin::Host { call: 7, .. }));
        assert!(serde_json::from_str::<FromPlugin>(r#"{"type":"launch","id":1}"#).is_err());
    }
}
