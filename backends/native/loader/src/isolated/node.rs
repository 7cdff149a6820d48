//! An isolated plugin's node types and prepared nodes: each preparation and
//! call is an exchange with one of the plugin's processes.

use std::sync::Arc;
use std::time::Duration;

use pocket_core::{
    ConfigError, Execution, Invocation, Node, NodeDescription, NodeError, NodeOutput, NodeSetup, NodeType, Value,
    run_blocking,
};

use super::process::{ChildProcess, Ended, Wait};
use super::protocol::{Failure, FailureKind, FromChild, ToChild};
use super::runtime::Runtime;
use crate::host::{CallScope, NativeHost};

/// A node type of an isolated plugin.
pub(crate) struct IsolatedNodeType {
    /// What the plugin's process said about it.
    pub description: NodeDescription,
    pub runtime: Arc<Runtime>,
}

impl NodeType for IsolatedNodeType {
    fn description(&self) -> &NodeDescription {
        &self.description
    }

    /// Prepares the node in one of the plugin's processes (so a bad config
    /// is found before the run); other processes prepare it on first use.
    fn prepare(&self, setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        let node = Arc::new(NodeState {
            key: self.runtime.next_key(),
            node_type: self.description.node_type.clone(),
            node: setup.node.to_string(),
            config: setup.config.clone(),
            plugin_config: setup.plugin_config.clone(),
            runtime: self.runtime.clone(),
        });
        let mut process = self.runtime.process().map_err(|e| ConfigError::new(e.to_string()))?;
        let (wait, timeout) = self.runtime.wait(None);
        match node.prepare_in(&mut process, wait) {
            Ok(Ok(())) => {
                self.runtime.pool.give(process);
                Ok(Arc::new(IsolatedNode { state: node }))
            }
            Ok(Err(failure)) => {
                self.runtime.pool.give(process);
                Err(ConfigError::new(failure_message(&self.runtime.plugin, failure)))
            }
            Err(ended) => Err(ConfigError::new(
                self.runtime
                    .node_error(ended, "the node's preparation", timeout)
                    .to_string(),
            )),
        }
    }
}

/// A workflow node of an isolated plugin.
struct IsolatedNode {
    state: Arc<NodeState>,
}

/// What an [`IsolatedNode`]'s calls need, shared with the blocking body.
struct NodeState {
    /// Its key in every process that prepared it.
    key: u64,
    node_type: String,
    node: String,
    /// The config it was prepared with (sent again only when rendered
    /// templates changed it).
    config: Value,
    plugin_config: Value,
    runtime: Arc<Runtime>,
}

impl NodeState {
    /// Prepares the node in `process`; the outer error means the process is spent.
    fn prepare_in(&self, process: &mut ChildProcess, wait: Wait) -> Result<Result<(), Failure>, Ended> {
        let request = ToChild::Prepare {
            key: self.key,
            node_type: self.node_type.clone(),
            node: self.node.clone(),
            config: self.config.clone(),
            plugin_config: self.plugin_config.clone(),
        };
        match process.exchange(&request, wait, None)? {
            FromChild::Prepared(result) => {
                if result.is_ok() {
                    process.prepared.insert(self.key);
                }
                Ok(result)
            }
            other => {
                process.kill();
                Err(Ended::Broke(format!("answered a preparation with {}", name_of(&other))))
            }
        }
    }

    /// One call on `process`: prepares the node there first if needed.
    fn call_in(
        &self,
        process: &mut ChildProcess,
        input: Value,
        config: Option<Value>,
        scope: CallScope,
        wait: Wait,
    ) -> Result<Result<NodeOutput, NodeError>, Ended> {
        if !process.prepared.contains(&self.key)
            && let Err(failure) = self.prepare_in(process, wait.clone())?
        {
            return Ok(Err(NodeError::InvalidConfig(failure_message(
                &self.runtime.plugin,
                failure,
            ))));
        }
        let host = NativeHost {
            host: &self.runtime.host,
            plugin_config: &self.plugin_config,
            scope,
        };
        let request = ToChild::Call {
            key: self.key,
            input,
            config,
        };
        match process.exchange(&request, wait, Some(&host))? {
            FromChild::Done(Ok(outcome)) => Ok(Ok(NodeOutput {
                output: outcome.output,
                action: outcome.action.map(Into::into),
            })),
            FromChild::Done(Err(failure)) => Ok(Err(node_error(&self.runtime.plugin, failure))),
            other => {
                process.kill();
                Err(Ended::Broke(format!("answered a call with {}", name_of(&other))))
            }
        }
    }

    /// The whole call: a process from the pool, the exchange, and the
    /// process back to the pool unless it is spent.
    /// `budget` is the time the call has (for the timeout's message).
    fn run(
        &self,
        input: Value,
        config: Option<Value>,
        scope: CallScope,
        wait: Wait,
        budget: Duration,
    ) -> Result<NodeOutput, NodeError> {
        let mut process = self.runtime.process()?;
        match self.call_in(&mut process, input, config, scope, wait) {
            Ok(result) => {
                self.runtime.pool.give(process);
                result
            }
            Err(ended) => {
                let error = self
                    .runtime
                    .node_error(ended, &format!("a call of node `{}`", self.node), budget);
                tracing::warn!(plugin = &*self.runtime.plugin, node = %self.node, "{error}");
                Err(error)
            }
        }
    }
}

impl Node for IsolatedNode {
    /// Every call waits on a pipe, so it runs through
    /// [`pocket_core::run_blocking`], whatever the node type says; it ends
    /// by the node's deadline or the plugin's `timeout`, and with the run's
    /// cancellation, by killing the process.
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        let state = self.state.clone();
        let config = match (&call.config, &state.config) {
            (Value::Object(a), Value::Object(b)) if a.ptr_eq(b) => None,
            (Value::Null, Value::Null) => None,
            (rendered, _) => Some(rendered.clone()),
        };
        let (run, deadline) = (call.run.clone(), call.deadline);
        let (mut wait, budget) = state.runtime.wait(deadline);
        wait.cancel = Some(call.run.cancel().clone());
        let input = call.input;
        run_blocking("native", move |abandoned| {
            let scope = CallScope {
                run: &run,
                deadline,
                inline: false,
            };
            state.run(input, config, scope, Wait { abandoned, ..wait }, budget)
        })
    }
}

/// A reply's name, for protocol errors.
fn name_of(reply: &FromChild) -> &'static str {
    match reply {
        FromChild::Described(_) => "a description",
        FromChild::Refused(_) => "a refusal",
        FromChild::Prepared(_) => "a preparation's result",
        FromChild::Done(_) => "a call's result",
        FromChild::Host(_) => "a host call",
    }
}

fn failure_message(plugin: &str, failure: Failure) -> String {
    match failure.kind {
        FailureKind::Panicked => format!("native plugin `{plugin}` panicked: {}", failure.message),
        _ => failure.message,
    }
}

/// The node error for a plugin's error (as in-process calls map them).
fn node_error(plugin: &str, failure: Failure) -> NodeError {
    match failure.kind {
        FailureKind::InvalidInput => NodeError::InvalidInput(failure.message),
        FailureKind::InvalidConfig => NodeError::InvalidConfig(failure.message),
        FailureKind::Panicked => NodeError::Crashed(format!("native plugin `{plugin}` panicked: {}", failure.message)),
        FailureKind::Failed => NodeError::Failed(failure.message),
    }
}
