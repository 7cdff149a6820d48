//! A deployment's side of a cluster: a run's executor (its workflow
//! published with the plugins it needs), and a worker's plugins loaded
//! through the deployment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use pocket_cluster::{Cluster, ClusterExecutor, PluginInstaller};
use pocket_core::{Catalog, Format, Graph, PocketConfig};

use crate::{Deployment, Error};

/// Publishes `graph` (parsed from `source` in `format`) to `cluster` and
/// starts, or resumes, run `run` of it there.
pub async fn cluster_executor(
    cluster: Arc<Cluster>,
    deployment: &Deployment,
    (source, format): (&str, Format),
    graph: &Graph,
    run: &str,
) -> Result<Arc<ClusterExecutor>, Error> {
    let catalog = deployment.registry().catalog();
    let record = cluster.record((source, format), graph, &catalog)?;
    let key = cluster.publish_workflow(&record, &catalog).await?;
    Ok(ClusterExecutor::start(cluster, run, &key, Arc::new(record)).await?)
}

/// A new run id: a UUIDv7 (time-ordered).
pub fn new_run_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A worker's plugins: the deployment's registry, and plugin files fetched
/// from the cluster loaded through the deployment (its pocket.toml's rules).
pub struct DeploymentInstaller {
    deployment: Deployment,
    /// File digests computed so far, by path.
    digests: Mutex<HashMap<PathBuf, String>>,
}

impl DeploymentInstaller {
    /// The installer over `deployment`. The digests of the plugins loaded
    /// are taken now, so they describe the files as they were loaded, not as
    /// they may be edited later.
    pub fn new(deployment: Deployment) -> DeploymentInstaller {
        let digests = deployment
            .registry()
            .catalog()
            .plugins()
            .filter_map(|plugin| plugin.description().source.clone())
            .filter_map(|path| Some((path.clone(), pocket_cluster::file_digest(&path).ok()?)))
            .collect();
        DeploymentInstaller {
            deployment,
            digests: Mutex::new(digests),
        }
    }
}

impl PluginInstaller for DeploymentInstaller {
    fn catalog(&self) -> Arc<Catalog> {
        self.deployment.registry().catalog()
    }

    fn config(&self) -> &PocketConfig {
        self.deployment.config()
    }

    fn loaded_digest(&self, plugin: &str) -> Option<String> {
        let source = self.catalog().plugin(plugin)?.description().source.clone()?;
        let mut digests = self.digests.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(digest) = digests.get(&source) {
            return Some(digest.clone());
        }
        let digest = pocket_cluster::file_digest(&source).ok()?;
        digests.insert(source, digest.clone());
        Some(digest)
    }

    fn install(&self, plugin: &str, path: &Path) -> Result<(), String> {
        self.deployment.install_as(plugin, path).map_err(|e| e.to_string())
    }
}
