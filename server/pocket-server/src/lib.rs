//! `pocket serve`: a long-running host with an HTTP API, run history and
//! metrics, on one tokio runtime, over a [`Deployment`] (crate
//! `pocket-runtime`).
//!
//! [`serve`] runs it until SIGTERM or Ctrl-C, telling its caller what it
//! does through [`Event`]s; [`new_token`] makes an API token.

#![forbid(unsafe_code)]

mod api;
mod app;
mod auth;
mod cluster;
mod error;
pub mod idempotency;
mod live;
mod metrics;
mod runs;
mod schedule;
mod workflows;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use arc_swap::ArcSwap;
use pocket_core::{HistoryLocation, Scope, ServerConfig};
use pocket_history::{PostgresStore, RunStore, SqliteStore};
use tokio_util::sync::CancellationToken;

use app::App;
use auth::Tokens;
use metrics::Metrics;
use pocket_runtime::Deployment;
use runs::RunManager;
use workflows::WorkflowSet;

pub use error::ServeError;

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

/// What the server tells its caller as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Everything is in place and requests are answered at this address.
    Listening(SocketAddr),
    /// SIGTERM or Ctrl-C came: running runs get up to this long to finish.
    Stopping(Duration),
    /// The server stopped.
    Stopped,
}

/// How often finished runs past their retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// How often plugin instances idle past their `idle_timeout` are dropped.
const SWEEP_EVERY: Duration = Duration::from_secs(15);

/// The server's settings: pocket.toml's `[server]` (or its defaults) with the overrides applied.
fn settings(host: &Deployment, overrides: Overrides) -> Result<ServerConfig, ServeError> {
    let base = match &host.config().path {
        Some(path) => pocket_core::directory_of(path).to_path_buf(),
        None => std::env::current_dir().map_err(|e| ServeError::io("cannot read the current directory", e))?,
    };
    let mut config = host
        .config()
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
        return Err(ServeError::Insecure(format!(
            "refusing to listen on {} without API tokens: anyone who can reach it could run workflows. \
             Add a [[server.tokens]] entry to pocket.toml (`pocket serve --new-token NAME` prints one), \
             or listen on 127.0.0.1",
            config.listen
        )));
    }
    Ok(config)
}

fn open_store(location: &HistoryLocation) -> Result<Arc<dyn RunStore>, ServeError> {
    match location {
        HistoryLocation::Sqlite(path) => Ok(Arc::new(SqliteStore::open(path)?)),
        HistoryLocation::Postgres(url) => Ok(Arc::new(PostgresStore::open(url)?)),
    }
}

/// Runs the server over `host` until SIGTERM or Ctrl-C, on a tokio runtime
/// of its own, telling `events` when it listens and when it stops.
pub fn serve(
    host: Deployment,
    overrides: Overrides,
    events: impl Fn(Event) + Send + Sync + 'static,
) -> Result<(), ServeError> {
    for failed in host.failed_plugins() {
        tracing::warn!(plugin = %failed.name, "plugin not loaded: {}", failed.error);
    }
    let cluster = overrides.cluster.clone();
    let config = settings(&host, overrides)?;
    let workflows = WorkflowSet::load(config.workflows.as_deref(), &host)?;
    let store = open_store(&config.history)?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| ServeError::io("cannot start the async runtime", e))?;
    runtime.block_on(run(host, config, workflows, store, cluster, events))
}

async fn run(
    host: Deployment,
    config: ServerConfig,
    workflows: WorkflowSet,
    store: Arc<dyn RunStore>,
    cluster: Option<(String, u64)>,
    events: impl Fn(Event) + Send + Sync + 'static,
) -> Result<(), ServeError> {
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
        .map_err(|e| ServeError::io(format!("cannot listen on {}", config.listen), e))?;
    let address = listener
        .local_addr()
        .map_err(|e| ServeError::io("cannot read the listening address", e))?;
    let (requeued, failed) = runs.recover(|run| resolve(&app, run)).await?;
    if requeued + failed > 0 {
        tracing::warn!(
            requeued,
            failed,
            "recovered runs left unfinished by the previous server"
        );
    }
    // Plugin directories are live only where pocket.toml loads them at all.
    let plugin_dirs = match app.host.config().plugins.autoload {
        true => app.host.config().plugins.directories.clone(),
        false => Vec::new(),
    };
    let _live = live::LiveDirectories::start(app.clone(), plugin_dirs, config.workflows.clone())?;
    app.ready.store(true, Ordering::SeqCst);
    // Listened for before it is said that the server is up, so a SIGTERM
    // sent right after that is not missed.
    let signalled = pocket_runtime::shutdown_signal();
    // Said once everything is in place: tests and scripts wait for it.
    events(Event::Listening(address));
    let events = Arc::new(events);
    tokio::spawn(prune(runs.clone(), config.retention, app.stopping.clone()));
    tokio::spawn(schedule::run(app.clone(), app.stopping.clone()));
    tokio::spawn(sweep_idle(app.clone()));
    let router = api::router(app.clone(), usize::try_from(config.max_body).unwrap_or(usize::MAX));
    let stopping = app.stopping.clone();
    let signal = {
        let events = events.clone();
        async move {
            signalled.await;
            events(Event::Stopping(config.drain_timeout));
            stopping.cancel();
        }
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
        .map_err(|e| ServeError::io("the HTTP server failed", e))?;
    if let Err(error) = drained.await {
        tracing::error!("the drain stopped: {error}");
    }
    events(Event::Stopped);
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
        let catalog = app.host.registry().catalog();
        let now = std::time::Instant::now();
        let dropped: usize = catalog.plugins().map(|p| p.plugin.drop_idle(now)).sum();
        if dropped > 0 {
            tracing::debug!(dropped, "dropped idle plugin instances");
        }
    }
}

/// A new API token: the secret to give a client, and the pocket.toml
/// entry (its hash, never the token) that accepts it.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The token itself (`pk_` and 48 hex digits), shown once.
    pub token: String,
    /// The `[[server.tokens]]` entry to add to pocket.toml.
    pub entry: String,
}

/// A new random API token named `name` with `scopes`, for every workflow.
pub fn new_token(name: &str, scopes: &[Scope]) -> Result<NewToken, ServeError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| ServeError::Random(e.to_string()))?;
    let token = format!("pk_{}", hex::encode(bytes));
    let scopes: Vec<&str> = scopes
        .iter()
        .map(|s| match s {
            Scope::Run => "\"run\"",
            Scope::Read => "\"read\"",
            Scope::Admin => "\"admin\"",
        })
        .collect();
    let entry = format!(
        "[[server.tokens]]\nname = {}\nsha256 = \"{}\"\nscopes = [{}]\nworkflows = [\"*\"]\n",
        toml::Value::from(name),
        auth::hash(&token),
        scopes.join(", ")
    );
    Ok(NewToken { token, entry })
}
