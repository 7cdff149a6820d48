//! [`Runtime`]: a loaded script ready for calls: its code, host access,
//! limits, and a pool of instances (Lua states with the script loaded).

use std::sync::Arc;
use std::time::{Duration, Instant};

use pocket_core::{Limits, NodeError, NodeOutput, RunContext, Value};
use pocket_host::{Fate, PluginHost, Pool};

use crate::error::ScriptError;
use crate::limits::Watch;
use crate::script::{Budget, Instance, Script};

/// One script with everything needed to call it, shared by the nodes that use it.
pub(crate) struct Runtime {
    script: Script,
    host: PluginHost,
    limits: Limits,
    pool: Pool<Instance>,
}

/// One call, owned, so it can move to a blocking thread.
pub(crate) struct CallRequest {
    /// The node type (table-form plugins).
    pub node_type: Option<Arc<str>>,
    /// The node's input.
    pub input: Value,
    /// The node's config.
    pub config: Value,
    /// A wall-clock limit tighter than the plugin's, if the node has one
    /// (its `timeout`, or the script's own).
    pub timeout: Option<Duration>,
    /// The run the call belongs to (its store, its plugin calls).
    pub run: Option<RunContext>,
    /// Cancellation to watch.
    pub watch: Watch,
}

impl Runtime {
    /// A runtime for `script`, run as `host` within `limits`; no instance is built yet.
    pub(crate) fn new(script: Script, host: PluginHost, limits: Limits) -> Arc<Runtime> {
        Arc::new(Runtime {
            script,
            host,
            limits,
            pool: Pool::per_core().idle_time(limits.idle_timeout),
        })
    }

    /// Builds a new instance: a Lua state with the script loaded (compiling it, and running
    /// its top level for table and function forms).
    pub(crate) fn instantiate(&self) -> Result<Instance, ScriptError> {
        Instance::load(&self.script, &self.host, &self.limits)
    }

    /// The plugin's host.
    pub(crate) fn host(&self) -> &PluginHost {
        &self.host
    }

    /// Drops the instances idle for longer than `idle_timeout` at `now`; how many.
    pub(crate) fn drop_idle(&self, now: Instant) -> usize {
        self.pool.sweep(now)
    }

    /// Keeps an instance for the next call.
    pub(crate) fn keep(&self, state: Instance) {
        self.pool.give(state);
    }

    /// Runs one call on an idle instance (or a new one). An instance that
    /// was stopped (a limit, cancellation) is dropped, so the next call
    /// starts from a fresh one.
    pub(crate) fn call(&self, request: CallRequest) -> Result<NodeOutput, NodeError> {
        let timeout = request
            .timeout
            .map_or(self.limits.timeout, |t| t.min(self.limits.timeout));
        let fail = |error: ScriptError| error.node_error(&self.script.label, &self.limits, timeout);
        let budget = Budget {
            instructions: self.limits.instructions,
            timeout,
            watch: request.watch,
            run: request.run,
        };
        let result = self.pool.call(
            || self.instantiate(),
            |instance| {
                let result = instance.call(request.node_type.as_deref(), &request.input, &request.config, &budget);
                let fate = match &result {
                    Err(error @ ScriptError::Stopped(_)) => {
                        tracing::debug!(script = %self.script.label, %error, "stopped; the instance is dropped");
                        Fate::Discard
                    }
                    _ => Fate::Keep,
                };
                (result, fate)
            },
        );
        let (output, action) = result.and_then(|called| called).map_err(fail)?;
        Ok(NodeOutput {
            output,
            action: action.map(Into::into),
        })
    }
}
