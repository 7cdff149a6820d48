//! Safe wrappers for the host functions in module `pocket` (ABI v1).
//! Capability refusals come back as [`HostError`]s, never as traps.

use pocket_wasm_abi::{HttpAnswer, NOTHING, PACKED_ERROR, PluginCall, PluginCallAnswer, kv_set_code};
use serde::de::DeserializeOwned;

use crate::abi::unpack;

pub use pocket_wasm_abi::{HttpRequest, HttpResponse, LogLevel as Level};

mod ffi {
    #[link(wasm_import_module = "pocket")]
    unsafe extern "C" {
        pub fn log(level: i32, ptr: i32, len: i32);
        pub fn now_ms() -> i64;
        pub fn config_get(key_ptr: i32, key_len: i32) -> i64;
        pub fn kv_get(key_ptr: i32, key_len: i32) -> i64;
        pub fn kv_set(key_ptr: i32, key_len: i32, val_ptr: i32, val_len: i32) -> i32;
        pub fn http_request(req_ptr: i32, req_len: i32) -> i64;
        pub fn panic(ptr: i32, len: i32);
        pub fn plugin_call(req_ptr: i32, req_len: i32) -> i64;
    }
}

/// A host call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostError {
    /// The host refused or could not serve the call (see Pocket's log for why:
    /// a denied capability, or no key-value store outside a run).
    Refused,
    /// `kv_set` failed with this code (1 denied, 2 invalid argument, 3 no
    /// store, 4 over the plugin's `kv_bytes` limit).
    Code(i32),
    /// The host's answer could not be read.
    Invalid(String),
    /// `http_request` answered with an error.
    Http(String),
    /// `plugin_call` was refused, or the node type it ran failed.
    Call(String),
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostError::Refused => f.write_str("the host refused the call (see its log)"),
            HostError::Code(kv_set_code::DENIED) => f.write_str("permission denied"),
            HostError::Code(kv_set_code::INVALID) => f.write_str("invalid key or value"),
            HostError::Code(kv_set_code::NO_STORE) => f.write_str("no key-value store outside a workflow run"),
            HostError::Code(kv_set_code::FULL) => {
                f.write_str("the plugin's stored values would exceed its kv_bytes, kv_keys or kv_value_bytes limit")
            }
            HostError::Code(kv_set_code::RATE_LIMITED) => {
                f.write_str("the plugin is over its kv_per_second rate limit")
            }
            HostError::Code(code) => write!(f, "host call failed with code {code}"),
            HostError::Invalid(message) | HostError::Http(message) | HostError::Call(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for HostError {}

fn raw(bytes: &[u8]) -> (i32, i32) {
    (bytes.as_ptr() as usize as i32, bytes.len() as i32)
}

/// Tells the host the guest is panicking with `message`; the host ends the
/// call there, reporting it (ABI: `panic`).
#[cfg(target_arch = "wasm32")]
pub(crate) fn report_panic(message: &str) {
    let (ptr, len) = raw(message.as_bytes());
    // SAFETY: `ptr`/`len` describe `message`, alive for the call.
    unsafe { ffi::panic(ptr, len) }
}

/// Takes ownership of a buffer the host returned: `None` for 0, an error for -1.
fn take(packed: i64) -> Result<Option<Vec<u8>>, HostError> {
    match packed {
        NOTHING => Ok(None),
        PACKED_ERROR => Err(HostError::Refused),
        _ => {
            let (ptr, len) = unpack(packed);
            // SAFETY: the host allocated this buffer with `pocket_alloc` and
            // wrote `len` bytes into it; it is ours to read and free (ABI v1).
            let bytes =
                unsafe { std::slice::from_raw_parts(ptr as u32 as usize as *const u8, len as u32 as usize) }.to_vec();
            // SAFETY: as above; freed exactly once, here.
            unsafe { crate::abi::free(ptr, len) };
            Ok(Some(bytes))
        }
    }
}

/// Writes `message` to Pocket's log (needs the `log` capability; refused lines are dropped).
pub fn log(level: Level, message: &str) {
    let (ptr, len) = raw(message.as_bytes());
    // SAFETY: the host only reads `len` bytes at `ptr`, a live borrowed buffer.
    unsafe { ffi::log(level as i32, ptr, len) }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    // SAFETY: no arguments, no memory shared.
    unsafe { ffi::now_ms() }
}

/// The plugin's config value under `key` (pocket.toml and the workflow's `plugins:`), if set.
pub fn config<T: DeserializeOwned>(key: &str) -> Result<Option<T>, HostError> {
    let (ptr, len) = raw(key.as_bytes());
    // SAFETY: the host only reads the borrowed key.
    let packed = unsafe { ffi::config_get(ptr, len) };
    match take(packed)? {
        None => Ok(None),
        Some(json) => serde_json::from_slice(&json)
            .map(Some)
            .map_err(|e| HostError::Invalid(format!("config `{key}`: {e}"))),
    }
}

/// The text this plugin stored under `key` in the run's key-value store (needs `kv`).
pub fn kv_get(key: &str) -> Result<Option<String>, HostError> {
    let (ptr, len) = raw(key.as_bytes());
    // SAFETY: the host only reads the borrowed key.
    let packed = unsafe { ffi::kv_get(ptr, len) };
    take(packed)?
        .map(|bytes| String::from_utf8(bytes).map_err(|e| HostError::Invalid(e.to_string())))
        .transpose()
}

/// Stores `value` under `key` in the run's key-value store (needs `kv`).
pub fn kv_set(key: &str, value: &str) -> Result<(), HostError> {
    let (key_ptr, key_len) = raw(key.as_bytes());
    let (val_ptr, val_len) = raw(value.as_bytes());
    // SAFETY: the host only reads the two borrowed buffers.
    match unsafe { ffi::kv_set(key_ptr, key_len, val_ptr, val_len) } {
        kv_set_code::OK => Ok(()),
        code => Err(HostError::Code(code)),
    }
}

/// Sends `request` through the host (needs `http:<host>`).
pub fn http_request(request: &HttpRequest) -> Result<HttpResponse, HostError> {
    let json = serde_json::to_vec(request).map_err(|e| HostError::Invalid(e.to_string()))?;
    let (ptr, len) = raw(&json);
    // SAFETY: the host only reads the borrowed request.
    let packed = unsafe { ffi::http_request(ptr, len) };
    let bytes = take(packed)?.ok_or_else(|| HostError::Invalid("empty http response".into()))?;
    match serde_json::from_slice(&bytes).map_err(|e| HostError::Invalid(e.to_string()))? {
        HttpAnswer::Response(response) => Ok(response),
        HttpAnswer::Error { error } => Err(HostError::Http(error)),
    }
}

/// What another node type produced when a plugin call ([`plugin_call`]) ran it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutput {
    /// Its output.
    pub output: serde_json::Value,
    /// The action it chose, if any.
    pub action: Option<String>,
}

/// A plugin call (the host's `plugin_call` import): runs the node type
/// `node_type` (`plugin/type`) with `input` and `config` and returns what it
/// produced (needs `plugin_call:<pattern>` matching its full name). The callee runs with its own plugin's permissions and limits,
/// within what is left of this call's time.
pub fn plugin_call(
    node_type: &str,
    input: serde_json::Value,
    config: serde_json::Value,
) -> Result<CallOutput, HostError> {
    let call = PluginCall {
        node_type: node_type.to_string(),
        input,
        config,
    };
    let json = serde_json::to_vec(&call).map_err(|e| HostError::Invalid(e.to_string()))?;
    let (ptr, len) = raw(&json);
    // SAFETY: the host only reads the borrowed call.
    let packed = unsafe { ffi::plugin_call(ptr, len) };
    let bytes = take(packed)?.ok_or_else(|| HostError::Invalid("empty plugin_call answer".into()))?;
    match serde_json::from_slice(&bytes).map_err(|e| HostError::Invalid(e.to_string()))? {
        PluginCallAnswer::Output { output, action } => Ok(CallOutput { output, action }),
        PluginCallAnswer::Error { error } => Err(HostError::Call(error)),
    }
}

/// The former name of [`plugin_call`].
#[deprecated(note = "renamed `plugin_call`: one name for plugin calls on every side")]
pub fn call_node(
    node_type: &str,
    input: serde_json::Value,
    config: serde_json::Value,
) -> Result<CallOutput, HostError> {
    plugin_call(node_type, input, config)
}
