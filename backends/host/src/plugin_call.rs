//! `plugin_call`: a plugin running another node type and getting its output.

use std::time::Instant;

use pocket_core::{NodeOutput, PluginCallError, Request, RunContext, Value};
use tokio::runtime::Handle;

use crate::{HostError, PluginHost};

/// A node type to run for a plugin, with what to run it on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
        let caller = run.plugin_caller().ok_or(PluginCallError::NotInRun)?;
        let target = caller.resolve(&call.target)?;
        let full_name = &target.full_name;
        self.check(Request::PluginCall {
            target: full_name,
            built_in: target.built_in,
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use pocket_core::{BoxFuture, CallTarget, PluginCaller, StoreSpec};
    use tokio_util::sync::CancellationToken;

    use super::*;

    /// A [`PluginCaller`] without a registry: `echo` is `other/echo`, `exec`
    /// is `builtin/exec`; a call answers its input and the depth it ran at,
    /// and is recorded.
    #[derive(Debug, Default)]
    struct FakeCaller {
        ran: Mutex<Vec<String>>,
    }

    impl PluginCaller for FakeCaller {
        fn resolve(&self, target: &str) -> Result<CallTarget, PluginCallError> {
            let (full_name, built_in) = match target {
                "echo" | "other/echo" => ("other/echo", false),
                "exec" | "builtin/exec" => ("builtin/exec", true),
                _ => return Err(PluginCallError::NotInRun),
            };
            Ok(CallTarget {
                full_name: full_name.into(),
                built_in,
            })
        }

        fn call<'a>(
            &'a self,
            target: &'a CallTarget,
            input: Value,
            _config: Value,
            run: &'a RunContext,
            _deadline: Option<Instant>,
        ) -> BoxFuture<'a, Result<NodeOutput, PluginCallError>> {
            self.ran.lock().unwrap().push(target.full_name.clone());
            let depth = i64::from(run.nested().call_depth());
            Box::pin(async move { Ok(NodeOutput::new(Value::array([input, Value::from(depth)]))) })
        }
    }

    fn call(target: &str) -> PluginCall {
        PluginCall {
            target: target.into(),
            input: Value::from("in"),
            config: Value::empty_object(),
        }
    }

    /// The host's side of a plugin call, against a fake caller: the grant is
    /// checked on the resolved full name before the caller runs anything,
    /// and what the callee answers comes back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_plugin_call_is_checked_on_the_resolved_name_then_made_through_the_runs_caller() {
        let fake = Arc::new(FakeCaller::default());
        let run =
            RunContext::new("w", &StoreSpec::default(), CancellationToken::new()).with_plugin_caller(fake.clone());
        let host = crate::configured_host("[plugins.permissions]\np = [\"plugin_call:other/*\"]\n");
        let outcomes = tokio::task::spawn_blocking(move || {
            let bare = host.plugin_call(Some(&run), call("echo"), None);
            let denied = host.plugin_call(Some(&run), call("exec"), None);
            let outside = host.plugin_call(None, call("echo"), None);
            (bare, denied, outside)
        })
        .await
        .unwrap();
        let (bare, denied, outside) = outcomes;
        assert_eq!(bare.unwrap().output, Value::array([Value::from("in"), Value::from(1)]));
        assert!(
            matches!(&denied, Err(HostError::Denied(d)) if d.to_string().contains("plugin_call:builtin/exec")),
            "{denied:?}"
        );
        assert!(matches!(outside, Err(HostError::PluginCall(PluginCallError::NotInRun))));
        assert_eq!(*fake.ran.lock().unwrap(), ["other/echo"], "the refused call never ran");
    }
}
