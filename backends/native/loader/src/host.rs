//! The host calls a native plugin makes during a node call (log, kv,
//! config, env, http, plugin calls), served by [`PluginHost`]: the same
//! permission checks and host-call limits as Lua's and WASM's.

use std::time::Instant;

use abi_stable::std_types::{RErr, RNone, ROk, ROption, RResult, RSome, RStr, RString};
use pocket_core::{RunContext, Value};
use pocket_host::{HostError, LogLevel, PluginCall, PluginHost};
use pocket_native_abi::{HostObject, RError, RErrorKind, RHttpRequest, RHttpResponse, ROutput};
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::http;

/// What the host calls of one node call may reach.
pub(crate) struct CallScope<'r> {
    /// The run the call belongs to (its store, its plugin calls): borrowed,
    /// so an inline call clones nothing.
    pub run: &'r RunContext,
    /// When the call must end.
    pub deadline: Option<Instant>,
    /// The call runs inline on the runner's thread (its node type is not
    /// marked blocking).
    pub inline: bool,
}

/// The host's side of one native node call.
pub(crate) struct NativeHost<'a> {
    pub host: &'a PluginHost,
    pub plugin_config: &'a Value,
    pub scope: CallScope<'a>,
}

fn failed(message: impl Into<String>) -> RError {
    RError::new(RErrorKind::Failed, message.into())
}

impl HostObject for NativeHost<'_> {
    fn log(&self, level: u8, message: RStr<'_>) {
        let level = match level {
            0 | 1 => LogLevel::Debug,
            2 => LogLevel::Info,
            3 => LogLevel::Warn,
            _ => LogLevel::Error,
        };
        // A refusal is logged by the permission check; `log` has no result to carry it.
        let _ = self.host.log(level, message.as_str());
    }

    fn kv_get(&self, key: RStr<'_>) -> RResult<ROption<Value>, RError> {
        match self.host.kv_get(Some(self.scope.run.store()), key.as_str()) {
            Ok(Some(value)) => ROk(RSome(value)),
            Ok(None) => ROk(RNone),
            Err(e) => RErr(failed(e.to_string())),
        }
    }

    fn kv_set(&self, key: RStr<'_>, value: Value) -> RResult<(), RError> {
        match self.host.kv_set(Some(self.scope.run.store()), key.as_str(), value) {
            Ok(()) => ROk(()),
            Err(e) => RErr(failed(e.to_string())),
        }
    }

    fn config_get(&self, key: RStr<'_>) -> ROption<Value> {
        match self.plugin_config.get(key.as_str()) {
            Some(value) => RSome(value.clone()),
            None => RNone,
        }
    }

    fn env_get(&self, name: RStr<'_>) -> RResult<ROption<RString>, RError> {
        match self.host.env_get(name.as_str()) {
            Ok(value) => ROk(value.map(RString::from).into()),
            Err(e) => RErr(failed(e.to_string())),
        }
    }

    fn http_request(&self, request: RHttpRequest) -> RResult<RHttpResponse, RError> {
        let timeout = self.scope.deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if timeout.is_some_and(|t| t.is_zero()) {
            return RErr(failed("http_request: the call's time is up"));
        }
        let request = http::request_from_abi(request, timeout);
        let sent = match self.may_block("http_request") {
            Ok(()) => self.blocking(|| self.host.http_request_blocking(request)),
            Err(refused) => return RErr(refused),
        };
        match sent {
            Ok(response) => ROk(http::response_to_abi(response)),
            Err(e) => RErr(failed(format!("http_request: {e}"))),
        }
    }

    fn plugin_call(&self, node_type: RStr<'_>, input: Value, config: Value) -> RResult<ROutput, RError> {
        if let Err(refused) = self.may_block("plugin_call") {
            return RErr(refused);
        }
        let call = PluginCall {
            target: node_type.as_str().to_string(),
            input,
            config,
        };
        let called: Result<_, HostError> =
            self.blocking(|| self.host.plugin_call(Some(self.scope.run), call, self.scope.deadline));
        match called {
            Ok(out) => ROk(ROutput {
                output: out.output,
                action: out.action.map(|a| RString::from(&*a)).into(),
            }),
            Err(e) => RErr(failed(e.to_string())),
        }
    }
}

impl NativeHost<'_> {
    /// Refuses a call that must wait (for I/O, for another node) when the
    /// node runs inline on a single-threaded runtime: blocking there would
    /// stall every other branch of the run.
    fn may_block(&self, function: &str) -> Result<(), RError> {
        let single_threaded = Handle::try_current().is_ok_and(|h| h.runtime_flavor() != RuntimeFlavor::MultiThread);
        if self.scope.inline && single_threaded {
            return Err(failed(format!(
                "{function}: this node type runs inline on a single-threaded runtime; mark it `.blocking()` to call {function}"
            )));
        }
        Ok(())
    }

    /// Runs `wait`, which blocks the thread: a call inline on a runner
    /// thread first leaves the runtime's worker; a blocking one already has.
    fn blocking<R>(&self, wait: impl FnOnce() -> R) -> R {
        if self.scope.inline && Handle::try_current().is_ok() {
            tokio::task::block_in_place(wait)
        } else {
            wait()
        }
    }
}
