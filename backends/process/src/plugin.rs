//! [`ProcessPlugin`]: a bound process plugin, its node types, and the
//! nodes that send calls to its process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pocket_core::{
    ConfigError, Execution, Invocation, Limit, Node, NodeDescription, NodeError, NodeOutput, NodeSetup, NodeType,
    Plugin, PluginDescription, RateCounts, Value,
};
use pocket_host::PluginHost;
use tokio::sync::Semaphore;

use crate::connection::Reply;
use crate::host_calls::CallScope;
use crate::jail::Confinement;
use crate::protocol::{ErrorKind, ToPlugin};
use crate::supervisor::Supervisor;

/// A process plugin, bound to its policy.
pub struct ProcessPlugin {
    pub(crate) description: PluginDescription,
    pub(crate) node_types: Vec<Arc<dyn NodeType>>,
    pub(crate) runtime: Arc<Runtime>,
}

/// What a plugin's nodes share.
pub(crate) struct Runtime {
    pub name: Arc<str>,
    pub host: PluginHost,
    pub supervisor: Supervisor,
    /// Calls sent to the process at once.
    pub in_flight: Semaphore,
    /// One call's time: the manifest's `call_timeout`, capped by
    /// pocket.toml's `timeout`.
    pub call_timeout: Duration,
    pub confinement: Confinement,
}

impl Plugin for ProcessPlugin {
    fn description(&self) -> &PluginDescription {
        &self.description
    }

    fn node_types(&self) -> Vec<Arc<dyn NodeType>> {
        self.node_types.clone()
    }

    fn rate_counts(&self) -> Option<RateCounts> {
        Some(self.runtime.host.rate_counts())
    }

    fn notes(&self) -> Vec<String> {
        vec![self.runtime.confinement.describe().to_string()]
    }
}

/// The process ends when nothing can call it any more: the plugin is
/// unloaded or replaced, and the calls in flight on it have finished.
impl Drop for Runtime {
    fn drop(&mut self) {
        self.supervisor.stop();
    }
}

/// One node type of a process plugin.
pub(crate) struct ProcessNodeType {
    pub description: NodeDescription,
    pub runtime: Arc<Runtime>,
}

impl NodeType for ProcessNodeType {
    fn description(&self) -> &NodeDescription {
        &self.description
    }

    /// Asks the process whether the config is usable (starting it if it
    /// is not running).
    fn prepare(&self, setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        let runtime = &self.runtime;
        let connection = runtime
            .supervisor
            .connection()
            .map_err(|why| ConfigError::new(format!("process plugin `{}` cannot start: it {why}", runtime.name)))?;
        let node_type = self.description.node_type.as_str();
        let (_, reply) = connection
            .request(
                |id| ToPlugin::Prepare {
                    id,
                    node_type,
                    node: setup.node,
                    config: setup.config,
                    plugin_config: setup.plugin_config,
                },
                None,
            )
            .map_err(|why| ConfigError::new(format!("process plugin `{}`: it {why}", runtime.name)))?;
        let answer = connection
            .wait_blocking(reply, runtime.call_timeout, "answer `prepare`")
            .unwrap_or_else(Reply::Ended);
        match answer {
            Reply::Prepared => Ok(Arc::new(ProcessNode {
                node: setup.node.into(),
                node_type: self.description.node_type.clone(),
                plugin_config: setup.plugin_config.clone(),
                runtime: self.runtime.clone(),
            })),
            Reply::Failed { message, .. } => Err(ConfigError::new(message)),
            Reply::Ended(why) => Err(ConfigError::new(format!(
                "process plugin `{}`: its process {why}",
                runtime.name
            ))),
            other => Err(ConfigError::new(format!(
                "process plugin `{}` answered `prepare` with {other:?}",
                runtime.name
            ))),
        }
    }
}

/// A workflow node using a process plugin's node type.
struct ProcessNode {
    node: Arc<str>,
    node_type: String,
    plugin_config: Value,
    runtime: Arc<Runtime>,
}

impl ProcessNode {
    async fn call(&self, call: Invocation<'_>) -> Result<NodeOutput, NodeError> {
        let runtime = &self.runtime;
        let crashed = |why: String| NodeError::Crashed(format!("process plugin `{}`: its process {why}", runtime.name));
        let _permit = runtime.in_flight.acquire().await.map_err(|_| NodeError::Cancelled)?;
        let connection = match runtime.supervisor.running() {
            Some(connection) => connection,
            // Starting (or waiting out a back-off) blocks: off the runtime.
            None => {
                let starter = runtime.clone();
                tokio::task::spawn_blocking(move || starter.supervisor.connection())
                    .await
                    .map_err(|e| crashed(format!("could not be started ({e})")))?
                    .map_err(crashed)?
            }
        };
        let timeout = call
            .remaining()
            .map_or(runtime.call_timeout, |left| left.min(runtime.call_timeout));
        let scope = Arc::new(CallScope {
            run: Some(call.run.clone()),
            plugin_config: self.plugin_config.clone(),
            deadline: Instant::now().checked_add(timeout),
            runtime: Some(tokio::runtime::Handle::current()),
        });
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let (id, reply) = connection
            .request(
                |id| ToPlugin::Exec {
                    id,
                    node_type: &self.node_type,
                    node: &self.node,
                    input: &call.input,
                    config: &call.config,
                    plugin_config: &self.plugin_config,
                    attempt: call.attempt,
                    timeout_ms,
                },
                Some(scope),
            )
            .map_err(crashed)?;
        let answer = tokio::select! {
            answer = reply => answer.unwrap_or_else(|_| Reply::Ended("went away".into())),
            () = tokio::time::sleep(timeout) => {
                // The process may be stuck for good: it is replaced, and the
                // calls it had fail with this reason.
                connection.kill(&format!("was stopped: a call ran past {}", pocket_core::format_duration(timeout)));
                return Err(NodeError::LimitExceeded {
                    limit: Limit::Timeout,
                    detail: format!(
                        "process plugin `{}` (node `{}`, type `{}`) ran past {}; its process was restarted",
                        runtime.name,
                        self.node,
                        self.node_type,
                        pocket_core::format_duration(timeout)
                    ),
                });
            }
            () = call.run.cancel().cancelled() => {
                connection.cancel(id);
                return Err(NodeError::Cancelled);
            }
        };
        match answer {
            Reply::Output { output, action } => Ok(match action {
                Some(action) => NodeOutput::new(output).with_action(action),
                None => NodeOutput::new(output),
            }),
            Reply::Failed { message, kind } => Err(match kind {
                ErrorKind::InvalidInput => NodeError::InvalidInput(message),
                ErrorKind::InvalidConfig => NodeError::InvalidConfig(message),
                ErrorKind::Failed => NodeError::Failed(message),
            }),
            Reply::Ended(why) => Err(crashed(why)),
            other => Err(crashed(format!("answered a call with {other:?}"))),
        }
    }
}

impl Node for ProcessNode {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        Execution::pending(self.call(call))
    }
}
