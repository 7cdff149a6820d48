//! `plugin_call`: a plugin running another node type and getting its output.

use std::time::Instant;

use pocket_core::{NodeOutput, PluginCallError, Request, RunContext, Value};
use tokio::runtime::Handle;

use crate::{HostError, PluginHost};

/// A node type to run for a plugin, with what to run it on.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginCall {
    /// `plugin/type`, or a bare type name resolved as workflows resolve it.
    pub target: String,
    /// The node's input.
    pub input: Value,
    /// The node's config (validated against the type's schema).
    pub config: Value,
}

impl PluginHost {
    /// Runs `call`'s node type in `run` and returns what it produced, one
    /// call level deeper than `run`. Needs a `plugin_call:<pattern>`
    /// capability matching the type's full name (`plugin/type`, after
    /// resolving a bare name, so a bare name cannot impersonate another
    /// plugin's type), counts against `plugin_calls_per_second`, and is
    /// refused past `max_call_depth`. The callee runs under its own plugin's
    /// permissions and limits; the call ends by `deadline`.
    ///
    /// Blocks the calling thread until the callee finishes: call it from a
    /// thread that may block (a node body running through
    /// [`pocket_core::run_blocking`]), never from inside an async task.
    pub fn plugin_call(
        &self,
        run: Option<&RunContext>,
        call: PluginCall,
        deadline: Option<Instant>,
    ) -> Result<NodeOutput, HostError> {
        let run = run.ok_or(PluginCallError::NotInRun)?;
        let caller = run.calls().ok_or(PluginCallError::NotInRun)?;
        let target = caller.resolve(&call.target)?;
        let full_name = target.full_name();
        self.check(Request::PluginCall {
            target: &full_name,
            built_in: target.is_built_in(),
        })?;
        let handle = Handle::try_current().map_err(|_| PluginCallError::NotInRun)?;
        tracing::debug!(
            plugin = &*self.plugin,
            target = %full_name,
            depth = run.call_depth() + 1,
            "plugin call"
        );
        Ok(handle.block_on(caller.call(&target, call.input, call.config, run, deadline))?)
    }
}
