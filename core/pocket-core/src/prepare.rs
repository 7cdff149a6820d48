//! Preparing a node, and calling it.
//!
//! One pipeline turns a node as written (name, type, config) into a
//! [`PreparedNode`]: resolve the type in the registry, refuse built-ins the
//! deployment switched off, apply the schema's defaults, compile the config's
//! templates, check the config against the schema, and bind the type with
//! [`NodeType::prepare`](crate::NodeType::prepare). Validation runs it for
//! every workflow node; node types that run other node types (`parallel`) run
//! it for theirs through [`NodeSetup::preparer`]. A prepared node is called
//! the same way by the runner and by them: render the config against the
//! input, check it, execute with the time limit, catching panics.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use pocket_value::Value;

use crate::config::PocketConfig;
use crate::config_template::ConfigTemplate;
use crate::context::RunContext;
use crate::node::{Execution, Node, NodeCall, NodeError, NodeOutput};
use crate::plugin::{BUILTIN_PLUGIN, ConfigError, NodeSetup};
use crate::registry::{Catalog, Registry, UnknownType};
use crate::schema::ConfigSchema;
use crate::workflow::WorkflowFile;

/// A node as written: what [`Preparer::prepare`] needs to know about it.
#[derive(Debug, Clone, Copy)]
pub struct NodeRequest<'a> {
    /// The node's name.
    pub name: &'a str,
    /// Its type: `type` or `plugin/type`.
    pub node_type: &'a str,
    /// Its config as written (templates unrendered); `None` for no config.
    pub config: Option<&'a Value>,
    /// Time limit per call.
    pub timeout: Option<Duration>,
}

/// Why a node could not be prepared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PrepareError {
    /// No registered plugin provides the type.
    #[error("{0}")]
    UnknownType(UnknownType),
    /// The type is a built-in that pocket.toml's `[builtins]` switches off.
    #[error("node type `{0}` is disabled in this deployment")]
    Disabled(String),
    /// The providing plugin's config (pocket.toml, workflow `plugins:`) is unusable.
    #[error("{0}")]
    PluginConfig(String),
    /// The config violates the type's JSON Schema.
    #[error("config at {}: {message}", if .path.is_empty() { "(root)" } else { .path.as_str() })]
    Schema {
        /// JSON pointer to the offending value (`""` for the whole config).
        path: String,
        /// What is wrong.
        message: String,
        /// The plugin whose `pocket plugin info` shows the schema.
        plugin: String,
    },
    /// The config is unusable: a broken template, or refused by the node type.
    #[error("{}", config_message(.0))]
    Config(ConfigError),
}

fn config_message(error: &ConfigError) -> String {
    if error.path.is_empty() {
        error.message.clone()
    } else {
        format!("config at {}: {}", error.path, error.message)
    }
}

impl PrepareError {
    /// What to do about it, when there is something to say.
    pub fn help(&self) -> Option<String> {
        match self {
            PrepareError::UnknownType(unknown) => Some(match &unknown.suggestion {
                Some(s) => format!("did you mean `{s}`? (`pocket nodes` lists every type)"),
                None => "`pocket nodes` lists every available type; is the plugin providing it loaded?".into(),
            }),
            PrepareError::Disabled(_) => Some("pocket.toml's [builtins] section switches it off".into()),
            PrepareError::PluginConfig(_) => Some("fix the plugin's section in pocket.toml".into()),
            PrepareError::Schema { plugin, .. } => Some(format!("see the schema with `pocket plugin info {plugin}`")),
            PrepareError::Config(_) => None,
        }
    }

    /// Whether the error is about the node's `type` (rather than its config).
    pub fn is_about_type(&self) -> bool {
        matches!(self, PrepareError::UnknownType(_) | PrepareError::Disabled(_))
    }
}

/// Prepares the nodes of one workflow against one registry snapshot and
/// pocket.toml. Schemas and plugin configs are compiled once per workflow.
pub struct Preparer<'a> {
    catalog: &'a Catalog,
    config: &'a PocketConfig,
    workflow: &'a WorkflowFile,
    /// The workflow's `plugins:` block: per-plugin config on top of pocket.toml's.
    overrides: &'a BTreeMap<String, Value>,
    workflow_dir: Option<&'a Path>,
    /// Compiled schemas by `plugin/type` (`None`: the type has no usable schema).
    schemas: Mutex<HashMap<String, Option<ConfigSchema>>>,
    plugin_configs: Mutex<HashMap<Arc<str>, Value>>,
}

impl fmt::Debug for Preparer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Preparer")
            .field("workflow_dir", &self.workflow_dir)
            .finish_non_exhaustive()
    }
}

impl<'a> Preparer<'a> {
    /// A preparer for the nodes of `workflow`.
    pub fn new(catalog: &'a Catalog, config: &'a PocketConfig, workflow: &'a WorkflowFile) -> Self {
        Preparer {
            catalog,
            config,
            workflow,
            overrides: &workflow.plugins,
            workflow_dir: workflow.source.as_deref().map(crate::paths::directory_of),
            schemas: Mutex::default(),
            plugin_configs: Mutex::default(),
        }
    }

    /// The registry snapshot nodes are resolved in.
    pub fn catalog(&self) -> &'a Catalog {
        self.catalog
    }

    /// The workflow's nodes with an edge (a connection or a `successors`
    /// entry) to `node`, in file order: the sources of a fan-in there.
    pub fn sources_of(&self, node: &str) -> Vec<String> {
        let from_connections = self
            .workflow
            .connections
            .iter()
            .filter(|c| c.to.as_str() == node)
            .map(|c| c.from.as_str());
        let from_successors = self
            .workflow
            .nodes
            .iter()
            .filter(|n| n.successors.iter().any(|s| s.target.as_str() == node))
            .map(|n| n.name.as_str());
        let mut sources: Vec<String> = Vec::new();
        for source in from_connections.chain(from_successors) {
            if !sources.iter().any(|s| s == source) {
                sources.push(source.to_string());
            }
        }
        sources
    }

    /// Runs the whole pipeline for one node; every problem found is returned.
    pub fn prepare(&self, request: &NodeRequest<'_>) -> Result<PreparedNode, Vec<PrepareError>> {
        let resolved = self
            .catalog
            .resolve(request.node_type)
            .map_err(|unknown| vec![PrepareError::UnknownType(unknown)])?;
        let node_type = &resolved.node_type;
        if &*resolved.plugin == BUILTIN_PLUGIN && self.config.builtins.disabled().contains(&node_type.name()) {
            return Err(vec![PrepareError::Disabled(node_type.name().to_string())]);
        }
        let schema = self.schema(&resolved.plugin, node_type.as_ref());
        let plugin_config = self.plugin_config(&resolved.plugin).map_err(|e| vec![e])?;
        let raw = request.config.cloned().unwrap_or_default();
        if !matches!(raw, Value::Object(_) | Value::Null) {
            return Err(vec![PrepareError::Config(ConfigError::new(format!(
                "`config` must be a mapping, not {}",
                raw.type_name()
            )))]);
        }
        let config = match &schema {
            Some(schema) => schema.apply_defaults(&raw),
            None if raw.is_null() => Value::empty_object(),
            None => raw,
        };
        let template =
            ConfigTemplate::compile(&config, node_type.raw_config_keys()).map_err(|e| vec![PrepareError::Config(e)])?;
        if let Some(schema) = &schema {
            let problems: Vec<PrepareError> = schema
                .check(&config, &template.template_paths())
                .into_iter()
                .map(|problem| PrepareError::Schema {
                    path: problem.path,
                    message: problem.message,
                    plugin: resolved.plugin.to_string(),
                })
                .collect();
            if !problems.is_empty() {
                return Err(problems);
            }
        }
        let setup = NodeSetup {
            node: request.name,
            config: &config,
            plugin_config: &plugin_config,
            workflow_dir: self.workflow_dir,
            preparer: self,
        };
        let node = node_type.prepare(&setup).map_err(|e| vec![PrepareError::Config(e)])?;
        Ok(PreparedNode {
            name: request.name.into(),
            type_name: request.node_type.to_string(),
            plugin: resolved.plugin,
            config_check: schema.filter(|_| !template.is_static()),
            node,
            config: template,
            timeout: request.timeout,
        })
    }

    fn schema(&self, plugin: &str, node_type: &dyn crate::NodeType) -> Option<ConfigSchema> {
        let key = format!("{plugin}/{}", node_type.name());
        let mut schemas = self.schemas.lock().unwrap_or_else(|p| p.into_inner());
        schemas
            .entry(key)
            .or_insert_with(|| node_type.config_schema().and_then(|s| ConfigSchema::compile(s).ok()))
            .clone()
    }

    /// pocket.toml's config for `plugin`, with the workflow's `plugins:` entry on top.
    fn plugin_config(&self, plugin: &Arc<str>) -> Result<Value, PrepareError> {
        if let Some(config) = self
            .plugin_configs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(plugin)
        {
            return Ok(config.clone());
        }
        let mut merged = self
            .config
            .plugin_config(plugin)
            .map_err(|e| PrepareError::PluginConfig(e.to_string()))?;
        match self.overrides.get(&**plugin) {
            Some(Value::Object(overrides)) => merged.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone()))),
            Some(Value::Null) | None => {}
            Some(other) => {
                return Err(PrepareError::PluginConfig(format!(
                    "`plugins.{plugin}` must be a mapping, not {}",
                    other.type_name()
                )));
            }
        }
        let merged = Value::from(merged);
        self.plugin_configs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(plugin.clone(), merged.clone());
        Ok(merged)
    }
}

/// A node bound to its type and config, ready to call any number of times.
pub struct PreparedNode {
    pub(crate) name: Arc<str>,
    pub(crate) type_name: String,
    pub(crate) plugin: Arc<str>,
    pub(crate) node: Arc<dyn Node>,
    pub(crate) config: ConfigTemplate,
    /// Checks rendered configs of templated nodes whose type has a schema.
    pub(crate) config_check: Option<ConfigSchema>,
    pub(crate) timeout: Option<Duration>,
}

impl PreparedNode {
    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node type as written.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// The plugin that provides the node type.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    /// The bound node implementation.
    pub fn node(&self) -> &Arc<dyn Node> {
        &self.node
    }

    /// Calls the node once with `input`: renders its config, then runs it.
    pub async fn call(&self, input: Value, run: &RunContext) -> Result<NodeOutput, NodeError> {
        let config = self.render_config(&input)?;
        self.attempt(input, config, 1, run).await
    }

    /// The config for one call: templates rendered against `input`, then
    /// checked against the schema when templates could change its shape.
    pub fn render_config(&self, input: &Value) -> Result<Value, NodeError> {
        let config = self.config.render(input).map_err(NodeError::InvalidConfig)?;
        if let Some(schema) = &self.config_check
            && let Some(problem) = schema.check(&config, &[]).into_iter().next()
        {
            return Err(NodeError::InvalidConfig(format!(
                "at {}: {}",
                problem.path, problem.message
            )));
        }
        Ok(config)
    }

    /// Runs the node once with a rendered config: within its time limit,
    /// stopped by the run's cancellation, a panic reported as [`NodeError::Crashed`].
    pub async fn attempt(
        &self,
        input: Value,
        config: Value,
        attempt: u32,
        run: &RunContext,
    ) -> Result<NodeOutput, NodeError> {
        let deadline = self.timeout.and_then(|limit| Instant::now().checked_add(limit));
        let call = NodeCall {
            input,
            config,
            node: &self.name,
            attempt,
            deadline,
            run,
        };
        let execution = match std::panic::catch_unwind(AssertUnwindSafe(|| self.node.exec(call))) {
            Ok(execution) => execution,
            Err(panic) => return Err(crashed(panic)),
        };
        // Ending after the deadline is a timeout, whatever the node returned:
        // a body that ran in place, or stopped itself at the deadline (a
        // script engine), reads the same as one the runner stopped.
        let late = |result: Result<NodeOutput, NodeError>| match (self.timeout, deadline) {
            (Some(limit), Some(deadline)) if Instant::now() >= deadline => Err(NodeError::Timeout(limit)),
            _ => result,
        };
        let future = match execution {
            Execution::Ready(result) => return late(result),
            Execution::Pending(future) => AssertUnwindSafe(future).catch_unwind(),
        };
        let guarded = async {
            match self.timeout {
                Some(limit) => tokio::time::timeout(limit, future)
                    .await
                    .unwrap_or(Ok(Err(NodeError::Timeout(limit)))),
                None => future.await,
            }
        };
        tokio::select! {
            result = guarded => late(result.unwrap_or_else(|panic| Err(crashed(panic)))),
            () = run.cancel.cancelled() => Err(NodeError::Cancelled),
        }
    }
}

/// Prepares a node `node` of `node_type` outside any workflow file: a bare
/// [`NodeType::prepare`](crate::NodeType::prepare) with `config` as given (no
/// schema defaults, no templates), no plugin config, no workflow directory and
/// no other node types to resolve. For embedding a single node call, and for
/// benchmarks of a backend's call path.
pub fn prepare_standalone(
    node_type: &dyn crate::NodeType,
    node: &str,
    config: &Value,
    pocket: &PocketConfig,
) -> Result<Arc<dyn Node>, ConfigError> {
    let registry = Registry::new();
    let catalog = registry.catalog();
    let workflow = WorkflowFile::named(node);
    let preparer = Preparer::new(&catalog, pocket, &workflow);
    node_type.prepare(&NodeSetup {
        node,
        config,
        plugin_config: &Value::Null,
        workflow_dir: None,
        preparer: &preparer,
    })
}

fn crashed(panic: Box<dyn std::any::Any + Send>) -> NodeError {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string());
    NodeError::Crashed(format!("panicked: {message}"))
}
