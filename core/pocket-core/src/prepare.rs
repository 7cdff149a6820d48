//! Preparing a node: one pipeline turns a node as written (name, type,
//! config) into a [`PreparedNode`]: resolve the type in the registry, refuse
//! built-ins the deployment switched off, apply the schema's defaults,
//! compile the config's templates, check the config against the schema, and
//! bind the type with [`NodeType::prepare`]. Validation runs it for every
//! workflow node; node types that run other node types (`parallel`) run it
//! for theirs through the [`NodeFactory`] in their [`NodeSetup`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use pocket_value::Value;

use crate::config::PocketConfig;
use crate::config_template::ConfigTemplate;
use crate::error::{ConfigError, PrepareError};
use crate::names::BUILTIN_PLUGIN;
use crate::node::Node;
use crate::permissions::Permissions;
use crate::plugin::{NodeSetup, NodeType};
use crate::prepared::{NodeFactory, NodeRequest, PreparedNode};
use crate::registry::Catalog;
use crate::schema::ConfigSchema;
use crate::secret_config::withhold_secrets;
use crate::workflow::WorkflowFile;
use crate::workflow_files::{FileBase, NoFiles};

/// Prepares the nodes of one workflow against one registry snapshot and
/// pocket.toml. Schemas and plugin configs are compiled once per workflow.
pub struct Preparer<'a> {
    catalog: &'a Catalog,
    config: &'a PocketConfig,
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
        Preparer::from_parts(
            catalog,
            config,
            &workflow.plugins,
            workflow.source.as_deref().map(crate::paths::directory_of),
        )
    }

    /// A preparer for nodes of a workflow with this `plugins:` block
    /// (`overrides`) in `workflow_dir`.
    pub fn from_parts(
        catalog: &'a Catalog,
        config: &'a PocketConfig,
        overrides: &'a BTreeMap<String, Value>,
        workflow_dir: Option<&'a Path>,
    ) -> Self {
        Preparer {
            catalog,
            config,
            overrides,
            workflow_dir,
            schemas: Mutex::default(),
            plugin_configs: Mutex::default(),
        }
    }

    /// The registry snapshot nodes are resolved in.
    pub fn catalog(&self) -> &'a Catalog {
        self.catalog
    }

    fn schema(&self, plugin: &str, node_type: &dyn NodeType) -> Option<ConfigSchema> {
        let key = format!("{plugin}/{}", node_type.name());
        let mut schemas = self.schemas.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        schemas
            .entry(key)
            .or_insert_with(|| node_type.config_schema().and_then(|s| ConfigSchema::compile(s).ok()))
            .clone()
    }

    /// pocket.toml's config for `plugin`, with the workflow's `plugins:` entry
    /// on top, less the keys, at any depth, that look secret and that the
    /// plugin is not both granted and declares (`config:<path>`; see
    /// [`withhold_secrets`]).
    fn plugin_config(&self, plugin: &Arc<str>) -> Result<Value, PrepareError> {
        if let Some(config) = self
            .plugin_configs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
        withhold_secrets(plugin, &mut merged, &self.permissions(plugin));
        let merged = Value::from(merged);
        self.plugin_configs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(plugin.clone(), merged.clone());
        Ok(merged)
    }
}

impl Preparer<'_> {
    /// What the plugin registered as `plugin` may do: pocket.toml's grants,
    /// narrowed to what it declares (code built into Pocket declares
    /// nothing and is bound by its grants alone), as it is bound at load.
    fn permissions(&self, plugin: &str) -> Permissions {
        match self.catalog.plugin(plugin) {
            Some(registered) if registered.built_in => self.config.permissions(plugin),
            Some(registered) => self.config.policy_for(plugin, registered.description()).permissions,
            None => Permissions::default(),
        }
    }
}

impl NodeFactory for Preparer<'_> {
    fn prepare(&self, request: &NodeRequest<'_>) -> Result<PreparedNode, Vec<PrepareError>> {
        let resolved = self
            .catalog
            .resolve(request.node_type)
            .map_err(|e| vec![PrepareError::Type(e)])?;
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
            files: FileBase::of(&self.config.builtins, self.workflow_dir),
            sources: request.sources,
            factory: self,
        };
        let node = node_type.prepare(&setup).map_err(|e| vec![PrepareError::Config(e)])?;
        Ok(PreparedNode {
            name: request.name.into(),
            type_name: request.node_type.to_string(),
            full_type: resolved.full_name().into(),
            plugin: resolved.plugin,
            config_check: schema.filter(|_| !template.is_static()),
            node,
            config: template,
            timeout: request.timeout,
        })
    }
}

/// Prepares a node `node` of `node_type` outside any workflow file: a bare
/// [`NodeType::prepare`] with `config` as given (no schema defaults, no
/// templates), no plugin config, no workflow directory (so no files), no incoming edges and
/// no other node types to prepare. For embedding a single node call, and for
/// benchmarks of a backend's call path.
pub fn prepare_standalone(node_type: &dyn NodeType, node: &str, config: &Value) -> Result<Arc<dyn Node>, ConfigError> {
    node_type.prepare(&NodeSetup {
        node,
        config,
        plugin_config: &Value::Null,
        workflow_dir: None,
        files: FileBase::none(NoFiles::NoDirectory),
        sources: &[],
        factory: &NoNodes,
    })
}

/// The factory of a node prepared on its own: it prepares no other node.
struct NoNodes;

impl NodeFactory for NoNodes {
    fn prepare(&self, request: &NodeRequest<'_>) -> Result<PreparedNode, Vec<PrepareError>> {
        Err(vec![PrepareError::Config(ConfigError::new(format!(
            "node `{}` cannot be prepared here: a node prepared on its own runs no other node types",
            request.name
        )))])
    }
}
