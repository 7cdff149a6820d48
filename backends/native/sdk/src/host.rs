//! [`HostApi`]: Pocket's host calls (log, kv, config, env, http) for the node
//! call in progress, checked against the plugin's grant in pocket.toml
//! exactly as Lua's and WASM's are.

use abi_stable::sabi_types::RRef;
use abi_stable::std_types::{RErr, ROk, ROption, RResult, RStr, RString};
use pocket_value::Value;

use crate::abi::{
    HostObject, HostObject_TO, RError, RHttpRequest, RHttpResponse, ROutput, headers_from_abi, headers_to_abi,
};
use crate::error::Error;

/// The host's side of one node call, as the library receives it.
pub(crate) type HostRef<'a, 'b> = HostObject_TO<'a, RRef<'b, ()>>;

/// [`HostObject`](crate::abi::HostObject)'s methods as a plain Rust
/// trait, so that a [`HostApi`] can borrow a [`HostRef`] of any lifetimes for
/// as long as the call lasts.
trait HostCalls {
    fn log(&self, level: u8, message: &str);
    fn kv_get(&self, key: &str) -> RResult<ROption<Value>, RError>;
    fn kv_set(&self, key: &str, value: Value) -> RResult<(), RError>;
    fn config_get(&self, key: &str) -> ROption<Value>;
    fn env_get(&self, name: &str) -> RResult<ROption<RString>, RError>;
    fn http_request(&self, request: RHttpRequest) -> RResult<RHttpResponse, RError>;
    fn plugin_call(&self, node_type: &str, input: Value, config: Value) -> RResult<ROutput, RError>;
}

impl HostCalls for HostRef<'_, '_> {
    fn log(&self, level: u8, message: &str) {
        HostObject::log(self, level, RStr::from_str(message));
    }
    fn kv_get(&self, key: &str) -> RResult<ROption<Value>, RError> {
        HostObject::kv_get(self, RStr::from_str(key))
    }
    fn kv_set(&self, key: &str, value: Value) -> RResult<(), RError> {
        HostObject::kv_set(self, RStr::from_str(key), value)
    }
    fn config_get(&self, key: &str) -> ROption<Value> {
        HostObject::config_get(self, RStr::from_str(key))
    }
    fn env_get(&self, name: &str) -> RResult<ROption<RString>, RError> {
        HostObject::env_get(self, RStr::from_str(name))
    }
    fn http_request(&self, request: RHttpRequest) -> RResult<RHttpResponse, RError> {
        HostObject::http_request(self, request)
    }
    fn plugin_call(&self, node_type: &str, input: Value, config: Value) -> RResult<ROutput, RError> {
        HostObject::plugin_call(self, RStr::from_str(node_type), input, config)
    }
}

/// What another node type produced when [`HostApi::plugin_call`] ran it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutput {
    /// Its output.
    pub output: Value,
    /// The action it chose, if any.
    pub action: Option<String>,
}

/// A log line's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Details for debugging.
    Debug = 1,
    /// Normal operation.
    Info = 2,
    /// Something looks wrong.
    Warn = 3,
    /// Something failed.
    Error = 4,
}

/// An HTTP request for [`HostApi::http`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`... (any case).
    pub method: String,
    /// An absolute `http` or `https` URL.
    pub url: String,
    /// Request headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    /// A `GET` of `url`.
    pub fn get(url: impl Into<String>) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }
}

/// The request as it crosses the library boundary.
impl From<HttpRequest> for RHttpRequest {
    fn from(request: HttpRequest) -> RHttpRequest {
        RHttpRequest {
            method: request.method.into(),
            url: request.url.into(),
            headers: headers_to_abi(request.headers),
            body: request.body.map(Into::into).into(),
        }
    }
}

/// What [`HostApi::http`] got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Response headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
}

/// The response as it came back across the library boundary.
impl From<RHttpResponse> for HttpResponse {
    fn from(response: RHttpResponse) -> HttpResponse {
        HttpResponse {
            status: response.status,
            headers: headers_from_abi(response.headers),
            body: response.body.into_string(),
        }
    }
}

/// Pocket's host calls for the node call in progress. Each needs the
/// capability pocket.toml grants the plugin (`log`, `kv`, `env:<pattern>`,
/// `http:<host>`); a refusal is an [`Error`] saying which, never a panic.
/// A `HostApi` made by [`HostApi::detached`] (a unit test's) refuses everything.
#[derive(Clone, Copy)]
pub struct HostApi<'a> {
    object: Option<&'a (dyn HostCalls + 'a)>,
}

impl std::fmt::Debug for HostApi<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.object.is_some() {
            "HostApi"
        } else {
            "HostApi(detached)"
        })
    }
}

impl<'a> HostApi<'a> {
    pub(crate) fn new(object: &'a HostRef<'_, '_>) -> HostApi<'a> {
        HostApi { object: Some(object) }
    }

    /// A host outside Pocket: every call is refused (logs are dropped).
    pub fn detached() -> HostApi<'static> {
        HostApi { object: None }
    }

    fn object(&self) -> Result<&'a (dyn HostCalls + 'a), Error> {
        self.object
            .ok_or_else(|| Error::failed("no Pocket host: the node is not running inside Pocket"))
    }

    /// Writes a line to Pocket's log, tagged with the plugin's name (`log`).
    pub fn log(&self, level: Level, message: &str) {
        if let Some(object) = self.object {
            object.log(level as u8, message);
        }
    }

    /// The value stored under `key` in the plugin's namespace of the run's
    /// store (`kv`).
    pub fn kv_get(&self, key: &str) -> Result<Option<Value>, Error> {
        match self.object()?.kv_get(key) {
            ROk(value) => Ok(value.into_option()),
            RErr(error) => Err(error.into()),
        }
    }

    /// Stores `value` under `key` in the plugin's namespace of the run's
    /// store (`kv`), within the plugin's `kv_bytes` limit.
    pub fn kv_set(&self, key: &str, value: &Value) -> Result<(), Error> {
        match self.object()?.kv_set(key, value.clone()) {
            ROk(()) => Ok(()),
            RErr(error) => Err(error.into()),
        }
    }

    /// One key of the plugin's config (pocket.toml's, under the workflow's).
    pub fn config(&self, key: &str) -> Option<Value> {
        self.object.and_then(|object| object.config_get(key).into_option())
    }

    /// An environment variable (`env:<pattern>`); `None` when unset.
    pub fn env(&self, name: &str) -> Result<Option<String>, Error> {
        match self.object()?.env_get(name) {
            ROk(value) => Ok(value.into_option().map(RString::into_string)),
            RErr(error) => Err(error.into()),
        }
    }

    /// Sends an HTTP request (`http` or `http:<host>`; every redirect is
    /// checked too), within what is left of the call's time and the
    /// plugin's `http_body` limit. A node type that makes requests should be
    /// marked [`crate::NodeType::blocking`].
    pub fn http(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        match self.object()?.http_request(request.into()) {
            ROk(response) => Ok(response.into()),
            RErr(error) => Err(error.into()),
        }
    }

    /// Runs the node type `node_type` (`plugin/type`) with `input` and
    /// `config` (`plugin_call:<pattern>` matching its full name), within
    /// what is left of the call's time; the callee runs under its own
    /// plugin's permissions and limits. A node type that calls others
    /// should be marked [`crate::NodeType::blocking`].
    pub fn plugin_call(&self, node_type: &str, input: &Value, config: &Value) -> Result<CallOutput, Error> {
        match self.object()?.plugin_call(node_type, input.clone(), config.clone()) {
            ROk(out) => Ok(CallOutput {
                output: out.output,
                action: out.action.into_option().map(RString::into_string),
            }),
            RErr(error) => Err(error.into()),
        }
    }
}
