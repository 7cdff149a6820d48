//! Plugin calls of a validated workflow: the [`PluginCaller`] every run of
//! it makes plugin calls through.
//!
//! A [`WorkflowPluginCaller`] belongs to one validated workflow: it resolves and
//! prepares node types the way the workflow's own nodes were (same registry
//! snapshot, pocket.toml, disabled built-ins and `plugins:` block), so a
//! call can reach nothing a workflow node could not. Backends reach it
//! through the [`RunContext`] of the call in progress, as a [`PluginCaller`].
//! Permission checks (`plugin_call:<plugin/type>`) and rate limits are the
//! host's job (`pocket-host`), made before [`PluginCaller::call`].

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use pocket_value::Value;

use crate::config::PocketConfig;
use crate::context::{CallTarget, PluginCallError, PluginCaller, RunContext};
use crate::outcome::{BoxFuture, NodeError, NodeOutput};
use crate::prepare::Preparer;
use crate::prepared::{NodeFactory, NodeRequest, PreparedNode};
use crate::registry::Catalog;

/// The most prepared call targets a workflow keeps for reuse; calls beyond
/// it prepare their target each time.
const MAX_CACHED_TARGETS: usize = 256;

/// The largest config (as JSON) whose prepared target is kept: a plugin
/// sending large configs must not fill the host's memory with them.
const MAX_CACHED_CONFIG: usize = 4096;

/// Runs node types by name for plugin code during one workflow's runs.
pub struct WorkflowPluginCaller {
    catalog: Arc<Catalog>,
    config: PocketConfig,
    overrides: BTreeMap<String, Value>,
    workflow_dir: Option<PathBuf>,
    /// Prepared targets by full name and config (as JSON).
    prepared: Mutex<HashMap<(String, String), Arc<PreparedNode>>>,
}

impl std::fmt::Debug for WorkflowPluginCaller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowPluginCaller")
            .field("workflow_dir", &self.workflow_dir)
            .finish_non_exhaustive()
    }
}

impl WorkflowPluginCaller {
    /// A caller resolving in `catalog` under `config`, with a workflow's
    /// `plugins:` block and directory.
    pub fn new(
        catalog: Arc<Catalog>,
        config: PocketConfig,
        overrides: BTreeMap<String, Value>,
        workflow_dir: Option<PathBuf>,
    ) -> Self {
        WorkflowPluginCaller {
            catalog,
            config,
            overrides,
            workflow_dir,
            prepared: Mutex::default(),
        }
    }

    /// [`PluginCaller::call`]: refused at `max_call_depth`, else `target`
    /// prepared (or taken from the cache) and run one level deeper than `run`.
    async fn make_call(
        &self,
        target: &CallTarget,
        input: Value,
        config: Value,
        run: &RunContext,
        deadline: Option<Instant>,
    ) -> Result<NodeOutput, PluginCallError> {
        let full_name = &target.full_name;
        let limit = self.config.plugins.max_call_depth;
        if run.call_depth() >= limit {
            return Err(PluginCallError::TooDeep {
                target: full_name.clone(),
                limit,
            });
        }
        let prepared = self.prepared(full_name, &config)?;
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
        self.prepared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl PluginCaller for WorkflowPluginCaller {
    fn resolve(&self, target: &str) -> Result<CallTarget, PluginCallError> {
        let resolved = self.catalog.resolve(target)?;
        Ok(CallTarget {
            full_name: resolved.full_name(),
            built_in: resolved.is_built_in(),
        })
    }

    fn call<'a>(
        &'a self,
        target: &'a CallTarget,
        input: Value,
        config: Value,
        run: &'a RunContext,
        deadline: Option<Instant>,
    ) -> BoxFuture<'a, Result<NodeOutput, PluginCallError>> {
        Box::pin(self.make_call(target, input, config, run, deadline))
    }
}

#[cfg(test)]
mod tests {
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::error::TypeLookupError;
    use crate::registry::Registry;
    use crate::testing::{StaticPlugin, config, fn_type};
    use crate::workflow::StoreSpec;

    /// A caller over a registry with `t/depth`, which answers the call depth it ran at.
    fn caller(toml: &str) -> WorkflowPluginCaller {
        let registry = Registry::new();
        let depth = fn_type("depth", |call| {
            Ok(NodeOutput::new(Value::from(i64::from(call.run.call_depth()))))
        });
        registry
            .register(Arc::new(StaticPlugin::new("t", vec![depth])))
            .unwrap();
        WorkflowPluginCaller::new(registry.catalog(), config(toml), BTreeMap::new(), None)
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
