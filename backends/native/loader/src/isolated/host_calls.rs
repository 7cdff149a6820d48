//! Host calls from a plugin's process, answered by the host.
//!
//! In the child, [`ForwardingHost`] is the `HostObject` a node call gets: each
//! method becomes a [`HostRequest`] sent up the pipe, and waits for its
//! [`HostResponse`]. In the host, [`HostRequest::answer`] runs the request on
//! the very `HostObject` an in-process call would get (`NativeHost`), so the
//! permission checks, rate limits, kv namespace and quotas all stay in the
//! trusted process. A new host function is one arm here, in each of the
//! two `match`es.

use std::cell::RefCell;
use std::io::{BufReader, BufWriter, Read, Write};

use abi_stable::std_types::{RErr, RNone, ROk, ROption, RResult, RSome, RStr, RString};
use pocket_host::PluginCall;
use pocket_native_abi::{HostObject, RError, RErrorKind, RHttpRequest, RHttpResponse, ROutput};
use pocket_value::Value;

use super::protocol::{FromChild, HostRequest, HostResponse, ToChild};
use crate::http;
use pocket_host::frame::{read_frame, write_frame};

impl HostRequest {
    /// Runs the request on the host's side of the call.
    pub(crate) fn answer(self, host: &dyn HostObject) -> HostResponse {
        fn failed(error: RError) -> HostResponse {
            HostResponse::Failed(error.message.into_string())
        }
        match self {
            HostRequest::Log { level, message } => {
                host.log(level, RStr::from_str(&message));
                HostResponse::Done
            }
            HostRequest::KvGet { key } => match host.kv_get(RStr::from_str(&key)) {
                ROk(value) => HostResponse::Value(value.into_option()),
                RErr(error) => failed(error),
            },
            HostRequest::KvSet { key, value } => match host.kv_set(RStr::from_str(&key), value) {
                ROk(()) => HostResponse::Done,
                RErr(error) => failed(error),
            },
            HostRequest::ConfigGet { key } => HostResponse::Value(host.config_get(RStr::from_str(&key)).into_option()),
            HostRequest::EnvGet { name } => match host.env_get(RStr::from_str(&name)) {
                ROk(value) => HostResponse::Text(value.into_option().map(RString::into_string)),
                RErr(error) => failed(error),
            },
            HostRequest::Http(request) => match host.http_request(http::request_to_abi(request)) {
                ROk(response) => HostResponse::Http(http::response_from_abi(response)),
                RErr(error) => failed(error),
            },
            HostRequest::PluginCall(call) => {
                match host.plugin_call(RStr::from_str(&call.target), call.input, call.config) {
                    ROk(out) => HostResponse::Output {
                        output: out.output,
                        action: out.action.into_option().map(RString::into_string),
                    },
                    RErr(error) => failed(error),
                }
            }
        }
    }
}

/// The child's end of the pipe, shared by its main loop and the host calls
/// of the node call in progress.
pub(crate) struct Pipe<R: Read, W: Write> {
    pub input: BufReader<R>,
    pub output: BufWriter<W>,
}

/// The `HostObject` of a node call in a plugin's process: every call goes
/// to the host and waits for its answer.
pub(crate) struct ForwardingHost<'a, R: Read, W: Write> {
    pub pipe: &'a RefCell<Pipe<R, W>>,
}

impl<R: Read, W: Write> ForwardingHost<'_, R, W> {
    /// Sends `request` and waits for the host's answer.
    fn ask(&self, request: HostRequest) -> HostResponse {
        let mut pipe = self.pipe.borrow_mut();
        let pipe = &mut *pipe;
        let asked = write_frame(&mut pipe.output, &FromChild::Host(request))
            .and_then(|()| read_frame::<_, ToChild>(&mut pipe.input));
        match asked {
            Ok(ToChild::Host(response)) => response,
            Ok(other) => HostResponse::Failed(format!("the host answered a host call with {other:?}")),
            Err(e) => HostResponse::Failed(format!("the host is unreachable: {e}")),
        }
    }
}

fn error(message: String) -> RError {
    RError::new(RErrorKind::Failed, message)
}

fn unexpected(response: HostResponse) -> RError {
    match response {
        HostResponse::Failed(message) => error(message),
        other => error(format!("unexpected answer from the host: {other:?}")),
    }
}

impl<R: Read, W: Write> HostObject for ForwardingHost<'_, R, W> {
    fn log(&self, level: u8, message: RStr<'_>) {
        // A refusal is logged by the host; `log` has no result to carry it.
        let _ = self.ask(HostRequest::Log {
            level,
            message: message.as_str().to_string(),
        });
    }

    fn kv_get(&self, key: RStr<'_>) -> RResult<ROption<Value>, RError> {
        match self.ask(HostRequest::KvGet {
            key: key.as_str().into(),
        }) {
            HostResponse::Value(value) => ROk(value.into()),
            other => RErr(unexpected(other)),
        }
    }

    fn kv_set(&self, key: RStr<'_>, value: Value) -> RResult<(), RError> {
        match self.ask(HostRequest::KvSet {
            key: key.as_str().into(),
            value,
        }) {
            HostResponse::Done => ROk(()),
            other => RErr(unexpected(other)),
        }
    }

    fn config_get(&self, key: RStr<'_>) -> ROption<Value> {
        match self.ask(HostRequest::ConfigGet {
            key: key.as_str().into(),
        }) {
            HostResponse::Value(Some(value)) => RSome(value),
            _ => RNone,
        }
    }

    fn env_get(&self, name: RStr<'_>) -> RResult<ROption<RString>, RError> {
        match self.ask(HostRequest::EnvGet {
            name: name.as_str().into(),
        }) {
            HostResponse::Text(value) => ROk(value.map(RString::from).into()),
            other => RErr(unexpected(other)),
        }
    }

    fn http_request(&self, request: RHttpRequest) -> RResult<RHttpResponse, RError> {
        match self.ask(HostRequest::Http(http::request_from_abi(request, None))) {
            HostResponse::Http(response) => ROk(http::response_to_abi(response)),
            other => RErr(unexpected(other)),
        }
    }

    fn plugin_call(&self, node_type: RStr<'_>, input: Value, config: Value) -> RResult<ROutput, RError> {
        match self.ask(HostRequest::PluginCall(PluginCall {
            target: node_type.as_str().into(),
            input,
            config,
        })) {
            HostResponse::Output { output, action } => ROk(ROutput {
                output,
                action: action.map(RString::from).into(),
            }),
            other => RErr(unexpected(other)),
        }
    }
}
