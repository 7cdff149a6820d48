//! `pocket serve --cluster`: runs whose nodes execute on a cluster's workers.

use std::sync::Arc;

use pocket_cluster::Cluster;
use pocket_core::NodeExecutor;
use pocket_history::RunRecord;
use tokio_util::sync::CancellationToken;

use super::workflows::Definition;
use pocket_runtime::Deployment;

/// The cluster the server's runs execute on.
pub struct ClusterRuns {
    cluster: Arc<Cluster>,
    host: Arc<Deployment>,
}

impl ClusterRuns {
    /// Runs on `cluster`, their plugins published from `host`.
    pub fn new(cluster: Arc<Cluster>, host: Arc<Deployment>) -> ClusterRuns {
        ClusterRuns { cluster, host }
    }

    /// The executor of run `id`, once the cluster's work queue has room.
    pub async fn executor(
        &self,
        id: &str,
        definition: &Definition,
        cancel: &CancellationToken,
    ) -> Result<Arc<dyn NodeExecutor>, pocket_runtime::Error> {
        self.cluster.wait_for_room(cancel).await?;
        let text = (&*definition.source, definition.format);
        Ok(pocket_runtime::cluster_executor(self.cluster.clone(), &self.host, text, &definition.graph, id).await?)
    }

    /// What an interrupted run executes to resume: the very workflow it
    /// started with on the cluster; `resolve`'s when none of its nodes
    /// reached the cluster.
    pub async fn resumed(
        &self,
        run: &RunRecord,
        resolve: &impl Fn(&RunRecord) -> Result<Definition, String>,
    ) -> Result<Definition, String> {
        let key = self.cluster.workflow_of_run(&run.id).await.map_err(|e| e.to_string())?;
        let Some(key) = key else { return resolve(run) };
        let record = self.cluster.workflow(&key).await.map_err(|e| e.to_string())?;
        tracing::info!(run = %run.id, "resuming a run interrupted by a restart");
        Definition::build(&record.source, record.format, &self.host)
    }
}
