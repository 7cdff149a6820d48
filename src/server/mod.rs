//! `pocket serve`: a long-running host with an HTTP API, run history and
//! metrics, on one tokio runtime.

mod access;
mod api;
mod app;
mod auth;
mod cluster;
pub(crate) mod idempotency;
mod live;
mod metrics;
mod runs;
mod schedule;
mod workflows;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwap;
use pocket_core::{HistoryLocation, Scope, ServerConfig};
use pocket_history::{PostgresStore, RunStore, SqliteStore};
use tokio_util::sync::CancellationToken;

use crate::host::Host;
use app::App;
use auth::Tokens;
use metrics::Metrics;
use runs::RunManager;
use workflows::WorkflowSet;

/// Command-line overrides of pocket.toml's `[server]`.
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--workflows`.
    pub workflows: Option<PathBuf>,
    /// `--history`.
    pub history: Option<String>,
    /// `--cluster` and `--max-queue-depth`.
    pub cluster: Option<(String, u64)>,
}

/// How often finished runs past their retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// How often plugin instances idle past their `idle_timeout` are dropped.
const SWEEP_EVERY: Duration = Duration::from_secs(15);

/// The server's settings: pocket.toml's `[server]` (or its defaults) with the overrides applied.
fn settings(host: &Host, overrides: Overrides) -> anyhow::Result<ServerConfig> {
    let base = match &host.config.path {
        Some(path) => pocket_core::directory_of(path).to_path_buf(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let mut config = host
        .config
        .server
        .clone()
        .unwrap_or_else(|| ServerConfig::defaults(&base));
    if let Some(listen) = overrides.listen {
        config.listen = listen;
    }
    if let Some(dir) = overrides.workflows {
        config.workflows = Some(dir);
    }
    if let Some(history) = overrides.history {
        config.history = if history.starts_with("postgres://") || history.starts_with("postgresql://") {
            HistoryLocation::Postgres(history)
        } else {
            HistoryLocation::Sqlite(PathBuf::from(history))
        };
    }
    if !config.listen.ip().is_loopback() && config.tokens.is_empty() {
        anyhow::bail!(
            "refusing to listen on {} without API tokens: anyone who can reach it could run workflows. \
             Add a [[server.tokens]] entry to pocket.toml (`pocket serve --new-token NAME` prints one), \
             or listen on 127.0.0.1",
            config.listen
        );
    }
    Ok(config)
}

fn open_store(location: &HistoryLocation) -> anyhow::Result<Arc<dyn RunStore>> {
    match location {
        HistoryLocation::Sqlite(path) => Ok(Arc::new(SqliteStore::open(path)?)),
        HistoryLocation::Postgres(url) => Ok(Arc::new(PostgresStore::open(url)?)),
    }
}

/// Runs the server until SIGTERM or Ctrl-C.
pub fn serve(explicit_config: Option<&std::path::Path>, overrides: Overrides) -> anyhow::Result<ExitCode> {
    let host = Host::load_for_serving(explicit_config)?;
    for failed in host.failed_plugins() {
        tracing::warn!(plugin = %failed.name, "plugin not loaded: {}", failed.error);
    }
    let cluster = overrides.cluster.clone();
    let config = settings(&host, overrides)?;
    let workflows = WorkflowSet::load(config.workflows.as_deref(), &host)?;
    let store = open_store(&config.history)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(run(host, config, workflows, store, cluster))?;
    Ok(ExitCode::SUCCESS)
}

async fn run(
    host: Host,
    config: ServerConfig,
    workflows: WorkflowSet,
    store: Arc<dyn RunStore>,
    cluster: Option<(String, u64)>,
) -> anyhow::Result<()> {
    let host = Arc::new(host);
    let cluster = match cluster {
        Some((url, max_queue_depth)) => {
            let settings = pocket_cluster::ClusterSettings {
                max_queue_depth,
                ..Default::default()
            };
            let cluster = pocket_cluster::Cluster::connect(&url, settings).await?;
            tracing::info!(%url, "node executions go to the cluster's workers");
            Some(Arc::new(cluster::ClusterRuns::new(cluster, host.clone())))
        }
        None => None,
    };
    let metrics = Arc::new(Metrics::new());
    let runs = Arc::new(RunManager::new(
        store,
        metrics.clone(),
        (config.max_concurrent_runs, config.queue_depth),
        cluster,
    ));
    let app = Arc::new(App {
        host,
        runs: runs.clone(),
        workflows: ArcSwap::from_pointee(workflows),
        workflows_dir: config.workflows.clone(),
        metrics,
        tokens: Tokens::new(config.tokens.clone()),
        ready: Default::default(),
        stopping: CancellationToken::new(),
    });
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr().context("cannot read the listening address")?;
    let (requeued, failed) = runs.recover(|run| resolve(&app, run)).await?;
    if requeued + failed > 0 {
        tracing::warn!(
            requeued,
            failed,
            "recovered runs left unfinished by the previous server"
        );
    }
    // Plugin directories are live only where pocket.toml loads them at all.
    let plugin_dirs = match app.host.config.plugins.autoload {
        true => app.host.config.plugins.directories.clone(),
        false => Vec::new(),
    };
    let _live = live::LiveDirectories::start(app.clone(), plugin_dirs, config.workflows.clone())?;
    app.ready.store(true, Ordering::SeqCst);
    // Said once everything is in place: tests and scripts wait for this line.
    eprintln!("pocket serve: listening on http://{address}");
    tokio::spawn(prune(runs.clone(), config.retention, app.stopping.clone()));
    tokio::spawn(schedule::run(app.clone(), app.stopping.clone()));
    tokio::spawn(sweep_idle(app.clone()));
    let router = api::router(app.clone(), usize::try_from(config.max_body).unwrap_or(usize::MAX));
    let stopping = app.stopping.clone();
    let signal = async move {
        shutdown_signal().await;
        eprintln!(
            "pocket serve: stopping (draining runs for up to {:?})",
            config.drain_timeout
        );
        stopping.cancel();
    };
    let drained = {
        let (runs, stopping, deadline) = (runs.clone(), app.stopping.clone(), config.drain_timeout);
        tokio::spawn(async move {
            stopping.cancelled().await;
            runs.drain(deadline).await;
        })
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(signal)
        .await
        .context("the HTTP server failed")?;
    drained.await.context("the drain stopped")?;
    eprintln!("pocket serve: stopped");
    Ok(())
}

/// What a run recorded by an earlier process executes: its inline source,
/// or its workflow by name.
fn resolve(app: &App, run: &pocket_history::RunRecord) -> Result<workflows::Definition, String> {
    match &run.definition {
        Some(source) => workflows::inline(source, &app.host),
        None => app
            .workflows
            .load()
            .get(&run.workflow)
            .map(|w| w.definition())
            .ok_or_else(|| format!("workflow `{}` is no longer served", run.workflow)),
    }
}

async fn prune(runs: Arc<RunManager>, retention: Duration, stopping: CancellationToken) {
    loop {
        let cutoff = runs::now_ms() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        match runs.prune(cutoff).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "deleted runs past their retention"),
            Err(error) => tracing::warn!("cannot prune the run history: {error}"),
        }
        tokio::select! {
            () = tokio::time::sleep(PRUNE_EVERY) => {}
            () = stopping.cancelled() => return,
        }
    }
}

/// Drops plugin instances (Lua states, WASM stores) left idle past their
/// plugin's `idle_timeout`, so a quiet server gives their memory back.
async fn sweep_idle(app: Arc<App>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(SWEEP_EVERY) => {}
            () = app.stopping.cancelled() => return,
        }
        let catalog = app.host.registry.catalog();
        let dropped: usize = catalog.plugins().map(|p| p.plugin.drop_idle()).sum();
        if dropped > 0 {
            tracing::debug!(dropped, "dropped idle plugin instances");
        }
    }
}

/// SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(error) => {
                tracing::warn!("cannot watch for SIGTERM: {error}");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A new random API token, and the pocket.toml entry that accepts it.
pub fn new_token(name: &str, scopes: &[Scope]) -> anyhow::Result<ExitCode> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("cannot get random bytes: {e}"))?;
    let token = format!("pk_{}", hex::encode(bytes));
    let scopes: Vec<String> = scopes
        .iter()
        .map(|s| {
            match s {
                Scope::Run => "\"run\"",
                Scope::Read => "\"read\"",
                Scope::Admin => "\"admin\"",
            }
            .to_string()
        })
        .collect();
    println!("token: {token}");
    println!("(shown once: give it to the client; pocket.toml keeps only its hash)\n");
    println!("[[server.tokens]]");
    println!("name = {}", toml::Value::from(name));
    println!("sha256 = \"{}\"", auth::hash(&token));
    println!("scopes = [{}]", scopes.join(", "));
    println!("workflows = [\"*\"]");
    Ok(ExitCode::SUCCESS)
}
