//! A loaded script ready for calls: its code, host access, limits and a pool of states.

use std::sync::Arc;
use std::time::Duration;

use pocket_core::{KvStore, Limits, NodeError, NodeOutput, Value};
use pocket_host::{PluginHost, Pool};

use crate::error::ScriptError;
use crate::limits::Watch;
use crate::script::{Budget, Script, ScriptState};

/// One script with everything needed to call it, shared by the nodes that use it.
pub(crate) struct Instance {
    script: Script,
    host: PluginHost,
    limits: Limits,
    pool: Pool<ScriptState>,
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
    /// The run's key-value store.
    pub store: Option<Arc<KvStore>>,
    /// Cancellation to watch.
    pub watch: Watch,
}

impl Instance {
    /// An instance of `script`, run as `host` within `limits`; no state is built yet.
    pub(crate) fn new(script: Script, host: PluginHost, limits: Limits) -> Arc<Instance> {
        Arc::new(Instance {
            script,
            host,
            limits,
            pool: Pool::per_core(),
        })
    }

    /// Builds a new state with the script loaded (compiling it, and running
    /// its top level for table and function forms).
    pub(crate) fn load_state(&self) -> Result<ScriptState, ScriptError> {
        ScriptState::load(&self.script, &self.host, &self.limits)
    }

    /// Keeps a loaded state for the next call.
    pub(crate) fn keep(&self, state: ScriptState) {
        self.pool.give(state);
    }

    /// Runs one call on an idle state (or a new one). A state that hit a limit
    /// is dropped, so the next call starts from a fresh one.
    pub(crate) fn call(&self, request: CallRequest) -> Result<NodeOutput, NodeError> {
        let timeout = request
            .timeout
            .map_or(self.limits.timeout, |t| t.min(self.limits.timeout));
        let fail = |error: ScriptError| error.node_error(&self.script.label, &self.limits, timeout);
        let state = match self.pool.take() {
            Some(state) => state,
            None => self.load_state().map_err(fail)?,
        };
        let budget = Budget {
            instructions: self.limits.instructions,
            timeout,
            watch: request.watch,
            store: request.store,
        };
        match state.call(request.node_type.as_deref(), &request.input, &request.config, &budget) {
            Ok((output, action)) => {
                self.pool.give(state);
                Ok(NodeOutput {
                    output,
                    action: action.map(Into::into),
                })
            }
            Err(error @ ScriptError::Limit(_)) => {
                tracing::debug!(script = %self.script.label, %error, "limit hit; the state is dropped");
                Err(fail(error))
            }
            Err(error) => {
                self.pool.give(state);
                Err(fail(error))
            }
        }
    }
}
