//! What every node of one run shares ([`RunContext`]), and what plugin calls
//! made during the run go through ([`PluginCaller`]).
//!
//! Plugin calls (plugin code running another node type with an input and
//! getting its output back) are a trait here, as [`crate::NodeExecutor`] is
//! for execution: the run contract names what a call needs, not how a
//! workflow's caller resolves and prepares node types (`plugin_call.rs`, over
//! the prepare pipeline), so a backend can test its plugin calls with a fake.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use pocket_value::Value;
use tokio_util::sync::CancellationToken;

use crate::error::TypeLookupError;
use crate::kv::KvStore;
use crate::outcome::{BoxFuture, NodeError, NodeOutput};
use crate::workflow::StoreSpec;

/// Runs node types by name for plugin code during a run.
///
/// The host checks that the calling plugin may call the node type (its
/// `plugin_call:<plugin/type>` grant, against [`CallTarget::full_name`]) and
/// counts the call against its rate before [`PluginCaller::call`]; the
/// caller refuses calls past the run's depth limit. The depth of the chain is
/// kept in the [`RunContext`], set by the host and never by guest code.
pub trait PluginCaller: Send + Sync + fmt::Debug {
    /// The node type `target` (`plugin/type`, or a bare name resolved as in
    /// workflows) names.
    fn resolve(&self, target: &str) -> Result<CallTarget, PluginCallError>;

    /// Runs `target` once with `input` and `config`, as a call one level
    /// deeper than `run`'s, ending by `deadline`.
    fn call<'a>(
        &'a self,
        target: &'a CallTarget,
        input: Value,
        config: Value,
        run: &'a RunContext,
        deadline: Option<Instant>,
    ) -> BoxFuture<'a, Result<NodeOutput, PluginCallError>>;
}

/// The node type a plugin call resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTarget {
    /// `plugin/type`: what `plugin_call:` grants match.
    pub full_name: String,
    /// Whether the providing plugin is built into Pocket.
    pub built_in: bool,
}

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

/// The state of one workflow run, shared by its nodes. Cloning it is one
/// reference count: backends keep one per call.
#[derive(Debug, Clone)]
pub struct RunContext {
    shared: Arc<Shared>,
    /// How many plugin calls deep the current call is: 0 for a workflow's
    /// own nodes. Only the host sets it.
    call_depth: u32,
}

#[derive(Debug)]
struct Shared {
    workflow: Arc<str>,
    store: Arc<KvStore>,
    cancel: CancellationToken,
    plugin_caller: Option<Arc<dyn PluginCaller>>,
}

impl RunContext {
    /// The context of a new run of `workflow`, with an empty store set up by
    /// `store`, stopped through `cancel`.
    pub fn new(workflow: impl Into<Arc<str>>, store: &StoreSpec, cancel: CancellationToken) -> RunContext {
        RunContext {
            shared: Arc::new(Shared {
                workflow: workflow.into(),
                store: Arc::new(KvStore::new(store)),
                cancel,
                plugin_caller: None,
            }),
            call_depth: 0,
        }
    }

    /// The same context, making plugin calls through `plugin_caller`.
    pub fn with_plugin_caller(self, plugin_caller: Arc<dyn PluginCaller>) -> RunContext {
        self.rebuilt(|shared| Shared {
            plugin_caller: Some(plugin_caller),
            ..shared
        })
    }

    /// The same run, stopped through `cancel` instead (a node type running
    /// nodes of its own that it may stop without stopping the run).
    pub fn with_cancel(&self, cancel: CancellationToken) -> RunContext {
        self.rebuilt(|shared| Shared { cancel, ..shared })
    }

    fn rebuilt(&self, change: impl FnOnce(Shared) -> Shared) -> RunContext {
        let shared = Shared {
            workflow: self.shared.workflow.clone(),
            store: self.shared.store.clone(),
            cancel: self.shared.cancel.clone(),
            plugin_caller: self.shared.plugin_caller.clone(),
        };
        RunContext {
            shared: Arc::new(change(shared)),
            call_depth: self.call_depth,
        }
    }

    /// The workflow's name.
    pub fn workflow(&self) -> &str {
        &self.shared.workflow
    }

    /// The run's key-value store.
    pub fn store(&self) -> &Arc<KvStore> {
        &self.shared.store
    }

    /// Cancelled when the run is stopped (Ctrl-C, or a failure elsewhere);
    /// long-running nodes should watch it.
    pub fn cancel(&self) -> &CancellationToken {
        &self.shared.cancel
    }

    /// What plugin calls in this run go through, if anything.
    pub fn plugin_caller(&self) -> Option<&Arc<dyn PluginCaller>> {
        self.shared.plugin_caller.as_ref()
    }

    /// How many plugin calls deep the current call is (0 for a workflow's own nodes).
    pub fn call_depth(&self) -> u32 {
        self.call_depth
    }

    /// The context of a plugin call made from this one: one level deeper.
    /// A [`PluginCaller`] runs its callee in it.
    pub fn nested(&self) -> RunContext {
        RunContext {
            shared: self.shared.clone(),
            call_depth: self.call_depth.saturating_add(1),
        }
    }
}
