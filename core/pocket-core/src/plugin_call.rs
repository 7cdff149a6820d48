//! Plugin-to-plugin calls: plugin code running another node type with an
//! input and getting its output back.
//!
//! A [`NodeCaller`] belongs to one validated workflow: it resolves and
//! prepares node types the way the workflow's own nodes were (same registry
//! snapshot, pocket.toml, disabled built-ins and `plugins:` block), so a
//! call can reach nothing a workflow node could not. Backends reach it
//! through the [`RunContext`] of the call in progress; the depth of the
//! chain is kept there too, set by the host and never by guest code.
//! Permission checks (`plugin_call:<plugin/type>`) and rate limits are the
//! host's job (`pocket-host`), made before [`NodeCaller::call`].

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use pocket_value::Value;

use crate::config::PocketConfig;
use crate::context::RunContext;
use crate::error::TypeLookupError;
use crate::node::{NodeError, NodeOutput};
use crate::prepare::Preparer;
use crate::prepared::{NodeFactory, NodeRequest, PreparedNode};
use crate::registry::{Catalog, ResolvedType};

/// How deep plugin calls may nest unless pocket.toml says otherwise
/// (`[plugins] max_call_depth`): a workflow node's call runs at depth 1,
/// a call made from that one at depth 2, and so on.
pub const DEFAULT_CALL_DEPTH: u32 = 10;

/// The most prepared call targets a workflow keeps for reuse; calls beyond
/// it prepare their target each time.
const MAX_CACHED_TARGETS: usize = 256;

/// The largest config (as JSON) whose prepared target is kept: a plugin
/// sending large configs must not fill the host's memory with them.
const MAX_CACHED_CONFIG: usize = 4096;

/// A plugin call could not be made, or the node type it ran failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PluginCallError {
    /// There is no workflow run to make the call in.
    #[error("plugin calls are only available while a workflow runs")]
    NotInRun,
    /// The chain of calls is as deep as pocket.toml allows.
    #[error(
        "plugin call to `{target}` refused: calls are nested {limit} deep already, the most `max_call_depth` allows \
         (a plugin calling itself without end?)"
    )]
    TooDeep {
        /// The full name of the node type asked for.
        target: String,
        /// `max_call_depth`.
        limit: u32,
    },
    /// No node type, or several, answer to the name.
    #[error("plugin call: {0}")]
    Type(#[from] TypeLookupError),
    /// The node type refused the config it was given.
    #[error("plugin call to `{target}`: {message}")]
    Prepare {
        /// The full name of the node type.
        target: String,
        /// Every problem found, joined.
        message: String,
    },
    /// The node type ran and failed.
    #[error("plugin call to `{target}` failed: {error}")]
    Failed {
        /// The full name of the node type.
        target: String,
        /// Its failure.
        error: NodeError,
    },
}

/// Runs node types by name for plugin code during one workflow's runs.
pub struct NodeCaller {
    catalog: Arc<Catalog>,
    config: PocketConfig,
    overrides: BTreeMap<String, Value>,
    workflow_dir: Option<PathBuf>,
    /// Prepared targets by full name and config (as JSON).
    prepared: Mutex<HashMap<(String, String), Arc<PreparedNode>>>,
}

impl std::fmt::Debug for NodeCaller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeCaller")
            .field("workflow_dir", &self.workflow_dir)
            .finish_non_exhaustive()
    }
}

impl NodeCaller {
    /// A caller resolving in `catalog` under `config`, with a workflow's
    /// `plugins:` block and directory.
    pub fn new(
        catalog: Arc<Catalog>,
        config: PocketConfig,
        overrides: BTreeMap<String, Value>,
        workflow_dir: Option<PathBuf>,
    ) -> Self {
        NodeCaller {
            catalog,
            config,
            overrides,
            workflow_dir,
            prepared: Mutex::default(),
        }
    }

    /// The node type `target` (`plugin/type`, or a bare name resolved as
    /// in workflows) names. Its full name is what `plugin_call:` grants match.
    pub fn resolve(&self, target: &str) -> Result<ResolvedType, PluginCallError> {
        Ok(self.catalog.resolve(target)?)
    }

    /// Runs `target` once with `input` and `config`, as a call one level
    /// deeper than `run`'s, ending by `deadline`. The caller has checked
    /// that the calling plugin may make it.
    pub async fn call(
        &self,
        target: &ResolvedType,
        input: Value,
        config: Value,
        run: &RunContext,
        deadline: Option<Instant>,
    ) -> Result<NodeOutput, PluginCallError> {
        let full_name = target.full_name();
        let limit = self.config.plugins.max_call_depth;
        if run.call_depth() >= limit {
            return Err(PluginCallError::TooDeep {
                target: full_name,
                limit,
            });
        }
        let prepared = self.prepared(&full_name, &config)?;
        let nested = run.nested();
        let failed = |error| PluginCallError::Failed {
            target: full_name.clone(),
            error,
        };
        let call = prepared.call(input, &nested);
        match deadline {
            Some(deadline) => {
                let budget = deadline.saturating_duration_since(Instant::now());
                tokio::time::timeout_at(deadline.into(), call)
                    .await
                    .unwrap_or(Err(NodeError::Timeout(budget)))
            }
            None => call.await,
        }
        .map_err(failed)
    }

    /// `full_name` prepared with `config`, from the cache when it was before.
    fn prepared(&self, full_name: &str, config: &Value) -> Result<Arc<PreparedNode>, PluginCallError> {
        let key = (full_name.to_string(), config.to_json());
        if let Some(prepared) = self.cache().get(&key) {
            return Ok(prepared.clone());
        }
        let preparer = Preparer::from_parts(
            &self.catalog,
            &self.config,
            &self.overrides,
            self.workflow_dir.as_deref(),
        );
        let request = NodeRequest {
            name: full_name,
            node_type: full_name,
            config: Some(config),
            timeout: None,
            sources: &[],
        };
        let prepared = Arc::new(
            preparer
                .prepare(&request)
                .map_err(|problems| PluginCallError::Prepare {
                    target: full_name.to_string(),
                    message: problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
                })?,
        );
        let mut cache = self.cache();
        if cache.len() < MAX_CACHED_TARGETS && key.1.len() <= MAX_CACHED_CONFIG {
            cache.insert(key, prepared.clone());
        }
        Ok(prepared)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Arc<PreparedNode>>> {
        self.prepared.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::registry::Registry;
    use crate::testing::{StaticPlugin, config, fn_type};
    use crate::workflow::StoreSpec;

    /// A caller over a registry with `t/depth`, which answers the call depth it ran at.
    fn caller(toml: &str) -> NodeCaller {
        let registry = Registry::new();
        let depth = fn_type("depth", |call| {
            Ok(NodeOutput::new(Value::from(i64::from(call.run.call_depth()))))
        });
        registry
            .register(Arc::new(StaticPlugin::new("t", vec![depth])))
            .unwrap();
        NodeCaller::new(registry.catalog(), config(toml), BTreeMap::new(), None)
    }

    fn run() -> RunContext {
        RunContext::new("w", &StoreSpec::default(), CancellationToken::new())
    }

    #[tokio::test]
    async fn a_call_runs_one_level_deeper_until_max_call_depth() {
        let caller = caller("[plugins]\nmax_call_depth = 3\n");
        let target = caller.resolve("t/depth").unwrap();
        let mut context = run();
        for expected in 1..=3 {
            let out = caller
                .call(&target, Value::Null, Value::empty_object(), &context, None)
                .await
                .unwrap();
            assert_eq!(out.output, Value::from(expected as i64));
            context = context.nested();
        }
        let refused = caller
            .call(&target, Value::Null, Value::empty_object(), &context, None)
            .await
            .unwrap_err();
        assert!(
            matches!(refused, PluginCallError::TooDeep { limit: 3, .. }),
            "{refused}"
        );
    }

    #[tokio::test]
    async fn large_configs_are_prepared_but_never_kept() {
        let caller = caller("");
        let target = caller.resolve("t/depth").unwrap();
        let small = Value::object([("k", Value::from("v"))]);
        let large = Value::object([("k", Value::from("x".repeat(MAX_CACHED_CONFIG)))]);
        for config in [small, large] {
            caller.call(&target, Value::Null, config, &run(), None).await.unwrap();
        }
        assert_eq!(caller.cache().len(), 1);
        assert!(matches!(
            caller.resolve("t/nope"),
            Err(PluginCallError::Type(TypeLookupError::Unknown(_)))
        ));
    }
}
