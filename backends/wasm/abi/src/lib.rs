//! Pocket's WASM plugin ABI, version 1: the one definition the host
//! (`pocket-wasm`) and the Rust guest SDK (`pocket-pdk`) both build on, as
//! the native backend's interface crate is for native plugins.
//!
//! It holds the names and signatures of the exports a module provides and
//! of the host functions it may import, how a `(ptr, len)` buffer is packed
//! into one `i64`, the result codes and log levels of the host functions,
//! and the JSON documents that cross: the [`Description`] from
//! `pocket_describe`, the [`Request`] `pocket_exec` reads, its response, and
//! the HTTP request and response of `http_request`, the call and answer of
//! `plugin_call`. `docs/wasm-abi.md`
//! describes the same ABI for authors in other languages.

#![forbid(unsafe_code)]

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The ABI version: what `pocket_abi_version` returns.
pub const VERSION: i32 = 1;

/// The module name of every host import.
pub const IMPORT_MODULE: &str = "pocket";

use ValType::{I32, I64};

/// A WebAssembly value type in a [`Signature`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValType {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
}

/// A function's name and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    /// The export or import name.
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [ValType],
    /// Result types.
    pub results: &'static [ValType],
}

/// The functions a module must export, besides its `memory`.
pub const REQUIRED_EXPORTS: &[Signature] = &[
    Signature {
        name: "pocket_abi_version",
        params: &[],
        results: &[I32],
    },
    Signature {
        name: "pocket_alloc",
        params: &[I32],
        results: &[I32],
    },
    Signature {
        name: "pocket_free",
        params: &[I32, I32],
        results: &[],
    },
    Signature {
        name: "pocket_describe",
        params: &[],
        results: &[I64],
    },
    Signature {
        name: "pocket_exec",
        params: &[I32, I32],
        results: &[I64],
    },
];

/// `pocket_abi_features`: an export a module may have, saying which optional
/// parts of the ABI it supports as bits of its result ([`KEEPS_REQUEST`],
/// [`FREES_RESPONSE`]).
/// A module without it supports none.
pub const FEATURES: Signature = Signature {
    name: "pocket_abi_features",
    params: &[],
    results: &[I32],
};

/// [`FEATURES`] bit: the host may keep the request buffer it got from
/// `pocket_alloc` and write later requests into it (the guest never frees
/// it, and keeps no pointer into it after `pocket_exec` returns).
pub const KEEPS_REQUEST: i32 = 1;

/// [`FEATURES`] bit: the module frees its own responses. The host does not
/// call `pocket_free` on what `pocket_exec` returns; the buffer stays valid
/// until the module is next called.
pub const FREES_RESPONSE: i32 = 2;

/// The functions a module may export, checked like [`REQUIRED_EXPORTS`]
/// when present.
pub const OPTIONAL_EXPORTS: &[Signature] = &[FEATURES];

/// The functions the host provides in module [`IMPORT_MODULE`].
pub const HOST_IMPORTS: &[Signature] = &[
    Signature {
        name: "log",
        params: &[I32, I32, I32],
        results: &[],
    },
    Signature {
        name: "now_ms",
        params: &[],
        results: &[I64],
    },
    Signature {
        name: "config_get",
        params: &[I32, I32],
        results: &[I64],
    },
    Signature {
        name: "kv_get",
        params: &[I32, I32],
        results: &[I64],
    },
    Signature {
        name: "kv_set",
        params: &[I32, I32, I32, I32],
        results: &[I32],
    },
    Signature {
        name: "http_request",
        params: &[I32, I32],
        results: &[I64],
    },
    Signature {
        name: "panic",
        params: &[I32, I32],
        results: &[],
    },
    Signature {
        name: "plugin_call",
        params: &[I32, I32],
        results: &[I64],
    },
];

/// The most bytes of a panic message `panic` reads; the rest is cut.
pub const MAX_PANIC_MESSAGE: u32 = 4096;

/// A packed result that hands over no buffer ("nothing": no value, no
/// response).
pub const NOTHING: i64 = 0;

/// What a host function returning a packed value answers on failure (a
/// denied capability, an argument outside linear memory...). No real buffer
/// packs to it: a length of `u32::MAX` at offset `u32::MAX` cannot fit in
/// linear memory.
pub const PACKED_ERROR: i64 = -1;

/// `(ptr << 32) | len`: a buffer in linear memory as one `i64`.
pub fn pack(ptr: u32, len: u32) -> i64 {
    ((u64::from(ptr) << 32) | u64::from(len)).cast_signed()
}

/// The `(ptr, len)` in a packed value.
pub fn unpack(packed: i64) -> (u32, u32) {
    let bits = packed.cast_unsigned();
    let low = u32::try_from(bits & u64::from(u32::MAX)).unwrap_or_default();
    let high = u32::try_from(bits >> 32).unwrap_or_default();
    (high, low)
}

/// The results of `kv_set`.
pub mod kv_set_code {
    /// Stored.
    pub const OK: i32 = 0;
    /// The plugin has no `kv` grant.
    pub const DENIED: i32 = 1;
    /// A key or value outside linear memory, or not UTF-8.
    pub const INVALID: i32 = 2;
    /// No key-value store: the call is outside a workflow run.
    pub const NO_STORE: i32 = 3;
    /// The plugin's stored values would exceed its `kv_bytes`, `kv_keys`
    /// or `kv_value_bytes` limit.
    pub const FULL: i32 = 4;
    /// The plugin is over its `kv_per_second` (or `host_calls_per_second`)
    /// rate limit; nothing was stored.
    pub const RATE_LIMITED: i32 = 5;
}

/// The levels `log` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum LogLevel {
    /// 0 (logged as debug).
    Trace = 0,
    /// 1.
    Debug = 1,
    /// 2.
    Info = 2,
    /// 3.
    Warn = 3,
    /// 4, and any higher number.
    Error = 4,
}

impl LogLevel {
    /// The level a guest's number means: at most 1 is debug, 2 info, 3
    /// warn, anything else error.
    pub fn from_code(code: i32) -> LogLevel {
        match code {
            i32::MIN..=0 => LogLevel::Trace,
            1 => LogLevel::Debug,
            2 => LogLevel::Info,
            3 => LogLevel::Warn,
            _ => LogLevel::Error,
        }
    }
}

/// What a plugin says about itself: the JSON `pocket_describe` returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Description {
    /// The plugin's name (it must equal its file's name).
    pub name: String,
    /// Version (default `0.0.0`).
    #[serde(default = "no_version")]
    pub version: String,
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// Author, possibly empty.
    #[serde(default)]
    pub author: String,
    /// The capabilities the plugin needs (`log`, `kv`, `http:<host>`...);
    /// a host call outside them is refused even when pocket.toml grants it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// The node types the plugin provides.
    pub nodes: Vec<NodeDescription>,
}

/// One node type in a [`Description`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeDescription {
    /// The type name workflows write in `type:`.
    #[serde(rename = "type")]
    pub node_type: String,
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// JSON Schema for the node's config, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_schema: Option<serde_json::Value>,
    /// Examples: `{"input", "config", "output" | "error", "action", "name"}`
    /// objects that `pocket plugin test` runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<serde_json::Value>,
}

fn no_version() -> String {
    "0.0.0".into()
}

/// A `pocket_exec` request, borrowed from its buffer: `{"node", "config",
/// "input"}`, the config and input left as JSON text for the node's own types.
#[derive(Debug, Deserialize)]
pub struct Request<'a> {
    /// The node type to run.
    #[serde(borrow)]
    pub node: Cow<'a, str>,
    /// The node's rendered config (`{}` when absent).
    #[serde(borrow, default)]
    pub config: Option<&'a RawValue>,
    /// The node's input (`null` when absent).
    #[serde(borrow, default)]
    pub input: Option<&'a RawValue>,
}

impl Request<'_> {
    /// The config's JSON text.
    pub fn config_json(&self) -> &str {
        self.config.map_or("{}", RawValue::get)
    }

    /// The input's JSON text.
    pub fn input_json(&self) -> &str {
        self.input.map_or("null", RawValue::get)
    }
}

/// Writes a request for node type `node_type` with config and input given
/// as values: `{"node":…,"config":…,"input":…}`. The host writes the part
/// before the config once per node type ([`request_head`]).
pub fn write_request(
    out: &mut Vec<u8>,
    head: &[u8],
    config: &impl Serialize,
    input: &impl Serialize,
) -> serde_json::Result<()> {
    out.extend_from_slice(head);
    serde_json::to_writer(&mut *out, config)?;
    out.extend_from_slice(br#","input":"#);
    serde_json::to_writer(&mut *out, input)?;
    out.push(b'}');
    Ok(())
}

/// `{"node":"<node_type>","config":`, the start of every request for a node type.
pub fn request_head(node_type: &str) -> serde_json::Result<Vec<u8>> {
    let mut head = br#"{"node":"#.to_vec();
    serde_json::to_writer(&mut head, node_type)?;
    head.extend_from_slice(br#","config":"#);
    Ok(head)
}

/// Writes a successful response: `{"output": …}`, with `"action"` when the
/// node chose one.
pub fn write_response(out: &mut Vec<u8>, output: &impl Serialize, action: Option<&str>) -> serde_json::Result<()> {
    out.extend_from_slice(br#"{"output":"#);
    serde_json::to_writer(&mut *out, output)?;
    if let Some(action) = action {
        out.extend_from_slice(br#","action":"#);
        serde_json::to_writer(&mut *out, action)?;
    }
    out.push(b'}');
    Ok(())
}

/// A failed call's response: `{"error": message}`.
pub fn error_response(message: &str) -> Vec<u8> {
    serde_json::json!({ "error": message }).to_string().into_bytes()
}

/// The request `http_request` takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// `GET`, `POST`... (default `GET`).
    #[serde(default = "get")]
    pub method: String,
    /// An absolute http(s) URL; its host must be granted (`http:<host>`).
    pub url: String,
    /// Request headers.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// The body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

fn get() -> String {
    "GET".into()
}

impl Default for HttpRequest {
    /// A `GET` with no URL, headers or body yet.
    fn default() -> Self {
        HttpRequest {
            method: get(),
            url: String::new(),
            headers: Default::default(),
            body: None,
        }
    }
}

/// What `http_request` answers: the response, or `{"error": message}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HttpAnswer {
    /// The request failed (refused, unreachable, timed out...).
    Error {
        /// Why.
        error: String,
    },
    /// A response came back.
    Response(HttpResponse),
}

/// A response `http_request` got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Response headers, names in lower case.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// The body as text.
    #[serde(default)]
    pub body: String,
}

/// The call `plugin_call` takes: another node type to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginCall {
    /// `plugin/type` (or a bare type name); its full name must be granted
    /// (`plugin_call:<pattern>`) and declared.
    #[serde(rename = "type")]
    pub node_type: String,
    /// The node's input (default `null`).
    #[serde(default)]
    pub input: serde_json::Value,
    /// The node's config (default `{}`).
    #[serde(default = "empty_object")]
    pub config: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// What `plugin_call` answers: the node's output, or `{"error": message}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PluginCallAnswer {
    /// The call was refused, or the node failed.
    Error {
        /// Why.
        error: String,
    },
    /// The node ran.
    Output {
        /// What it produced.
        output: serde_json::Value,
        /// The action it chose, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips_full_range_values() {
        for (ptr, len) in [(0, 0), (8, 29), (u32::MAX - 1, 1), (0x8000_0000, 7)] {
            assert_eq!(unpack(pack(ptr, len)), (ptr, len));
        }
        assert_eq!(unpack(PACKED_ERROR), (u32::MAX, u32::MAX));
    }

    #[test]
    fn a_request_written_by_the_host_reads_back_on_the_guest() {
        let head = request_head("echo \"x\"").unwrap();
        let mut out = Vec::new();
        write_request(&mut out, &head, &serde_json::json!({"a": 1}), &[1, 2]).unwrap();
        let request: Request<'_> = serde_json::from_slice(&out).unwrap();
        assert_eq!(request.node, "echo \"x\"");
        assert_eq!(request.config_json(), r#"{"a":1}"#);
        assert_eq!(request.input_json(), "[1,2]");
        let bare: Request<'_> = serde_json::from_str(r#"{"node":"n"}"#).unwrap();
        assert_eq!((bare.config_json(), bare.input_json()), ("{}", "null"));
    }

    #[test]
    fn responses_and_http_answers_have_their_documented_shape() {
        let mut out = Vec::new();
        write_response(&mut out, &42, Some("big")).unwrap();
        assert_eq!(out, br#"{"output":42,"action":"big"}"#);
        assert_eq!(error_response("no \"luck\""), br#"{"error":"no \"luck\""}"#);
        let answer: HttpAnswer = serde_json::from_str(r#"{"status":200,"body":"ok"}"#).unwrap();
        assert!(matches!(answer, HttpAnswer::Response(HttpResponse { status: 200, .. })));
        let answer: HttpAnswer = serde_json::from_str(r#"{"error":"denied"}"#).unwrap();
        assert_eq!(answer, HttpAnswer::Error { error: "denied".into() });
    }

    #[test]
    fn descriptions_default_what_authors_may_leave_out() {
        let d: Description = serde_json::from_str(r#"{"name":"t","nodes":[{"type":"a"}]}"#).unwrap();
        assert_eq!(d.version, "0.0.0");
        assert_eq!(d.nodes[0].description, "");
        assert_eq!(LogLevel::from_code(9), LogLevel::Error);
        assert_eq!(LogLevel::from_code(-3), LogLevel::Trace);
    }
}
