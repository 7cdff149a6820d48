//! [`App`]: what the server's handlers and background tasks share.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use arc_swap::ArcSwap;
use tokio_util::sync::CancellationToken;

use super::auth::Tokens;
use super::metrics::Metrics;
use super::runs::RunManager;
use super::workflows::WorkflowSet;
use pocket_runtime::Deployment;

/// Everything the handlers share.
pub struct App {
    /// pocket.toml and the plugin registry.
    pub host: Arc<Deployment>,
    /// The runs.
    pub runs: Arc<RunManager>,
    /// The workflows served by name.
    pub workflows: ArcSwap<WorkflowSet>,
    /// Where they come from.
    pub workflows_dir: Option<PathBuf>,
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// Who may call.
    pub tokens: Tokens,
    /// Set once runs left by a previous process were recovered.
    pub ready: AtomicBool,
    /// Cancelled when the server begins to stop.
    pub stopping: CancellationToken,
}

impl App {
    /// Validates every workflow file again (after plugins changed, or the
    /// files did), keeping the last good version of a file edited into a
    /// broken one.
    pub fn refresh_workflows(&self) {
        match WorkflowSet::reload(&self.workflows.load(), self.workflows_dir.as_deref(), &self.host) {
            Ok(set) => {
                tracing::info!(
                    workflows = set.loaded().count(),
                    failed = set.failed().len(),
                    "workflows reloaded"
                );
                self.workflows.store(Arc::new(set));
            }
            Err(error) => tracing::warn!("workflows not reloaded: {error}"),
        }
    }
}
