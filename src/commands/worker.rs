//! `pocket worker`: executes node attempts for a cluster until SIGTERM or Ctrl-C.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use pocket_cluster::{Cluster, ClusterSettings, KINDS, Worker, WorkerOptions};
use tokio_util::sync::CancellationToken;

use crate::cli::WorkerArgs;
use pocket_runtime::DeploymentInstaller;

pub fn worker(explicit_config: Option<&std::path::Path>, args: WorkerArgs) -> anyhow::Result<ExitCode> {
    if let Some(unknown) = args.kinds.iter().find(|kind| !KINDS.contains(&kind.as_str())) {
        anyhow::bail!("unknown plugin kind `{unknown}` in --kinds (use {})", KINDS.join(", "));
    }
    if args.max_in_flight < args.kinds.len() {
        anyhow::bail!(
            "--max-in-flight {} is less than the {} kinds this worker serves: each kind keeps one pull waiting \
             (raise it, or serve fewer kinds with --kinds)",
            args.max_in_flight,
            args.kinds.len()
        );
    }
    let deployment = crate::deployment::open(explicit_config, pocket_runtime::Loading::Eager)?;
    for failed in deployment.failed_plugins() {
        tracing::warn!("plugin `{}` failed to load: {}", failed.name, failed.error);
    }
    let (cache_dir, _temporary) = match &args.plugin_cache {
        Some(dir) => (dir.clone(), None),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("pocket-worker-plugins-")
                .tempdir()
                .context("cannot create a directory for fetched plugins")?;
            (dir.path().to_path_buf(), Some(dir))
        }
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let settings = ClusterSettings {
            ack_wait: args.ack_wait,
            max_deliver: args.max_deliver,
            ..ClusterSettings::default()
        };
        let cluster = Cluster::connect(&args.cluster, settings).await?;
        let options = WorkerOptions {
            kinds: args.kinds.clone(),
            max_in_flight: args.max_in_flight,
            cache_dir,
        };
        let worker = Worker::new(cluster, Arc::new(DeploymentInstaller::new(deployment)), options);
        let stop = CancellationToken::new();
        let on_signal = stop.clone();
        let signalled = pocket_runtime::shutdown_signal();
        tokio::spawn(async move {
            signalled.await;
            tracing::info!("stopping: finishing the attempts in hand");
            on_signal.cancel();
        });
        worker.run(stop).await?;
        anyhow::Ok(ExitCode::SUCCESS)
    })
}
