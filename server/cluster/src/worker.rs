//! The worker's side: pull node attempts of the kinds it serves, run them
//! with local plugins (fetching the ones it lacks), store each result, then
//! ack.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_nats::jetstream::consumer::{PullConsumer, pull};
use async_nats::jetstream::{AckKind, Message};
use futures_util::StreamExt;
use pocket_core::{Catalog, Graph, NodeError, NodeOutput, PocketConfig};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::artifacts::WorkflowRecord;
use crate::connection::Cluster;
use crate::error::ClusterError;
use crate::results::Stored;
use crate::wire;

/// What a worker needs from the process around it: its registry and
/// pocket.toml, and a way to load a plugin file it fetched.
pub trait PluginInstaller: Send + Sync {
    /// The registry's current plugins.
    fn catalog(&self) -> Arc<Catalog>;
    /// The worker's pocket.toml (grants, limits, plugin config, signature rules).
    fn config(&self) -> &PocketConfig;
    /// The SHA-256 (hex) of the file the plugin registered as `plugin` was
    /// loaded from; `None` when there is no such plugin or file.
    fn loaded_digest(&self, plugin: &str) -> Option<String>;
    /// Loads the plugin file at `path` and registers it as `plugin`,
    /// replacing any plugin of that name; why not, if it cannot.
    fn install(&self, plugin: &str, path: &Path) -> Result<(), String>;
}

/// How a worker works.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The plugin kinds whose nodes it runs (see [`crate::KINDS`]).
    pub kinds: Vec<String>,
    /// How many node attempts it runs at once, at most (at least one per
    /// kind: each kind keeps one pull waiting; a lower number is raised).
    pub max_in_flight: usize,
    /// Where fetched plugin files are kept.
    pub cache_dir: PathBuf,
}

/// Pulls node attempts from the cluster and runs them.
pub struct Worker {
    cluster: Arc<Cluster>,
    installer: Arc<dyn PluginInstaller>,
    options: WorkerOptions,
    /// Workflows built so far, by record key.
    graphs: Mutex<HashMap<String, Arc<Graph>>>,
    /// One workflow is prepared (its plugins fetched and loaded) at a time.
    preparing: tokio::sync::Mutex<()>,
}

impl Worker {
    /// A worker on `cluster`.
    pub fn new(cluster: Arc<Cluster>, installer: Arc<dyn PluginInstaller>, options: WorkerOptions) -> Arc<Worker> {
        Arc::new(Worker {
            cluster,
            installer,
            options,
            graphs: Mutex::new(HashMap::new()),
            preparing: tokio::sync::Mutex::new(()),
        })
    }

    /// Works until `stop` fires, then waits for the attempts it runs and
    /// returns. Attempts cut short by `stop` go back to the queue.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) -> Result<(), ClusterError> {
        // A semaphore counts at most u32::MAX permits at once; more is no limit anyway.
        let wanted = self.options.max_in_flight.max(self.options.kinds.len()).max(1);
        let capacity = u32::try_from(wanted).unwrap_or(u32::MAX);
        let slots = Arc::new(Semaphore::new(capacity as usize));
        let mut loops = tokio::task::JoinSet::new();
        for kind in &self.options.kinds {
            let consumer = self.consumer(kind).await?;
            let (worker, slots, pull_stop) = (self.clone(), slots.clone(), stop.clone());
            loops.spawn(async move { worker.pull(consumer, slots, pull_stop).await });
            let (cluster, kind, watch_stop) = (self.cluster.clone(), kind.clone(), stop.clone());
            loops.spawn(async move { cluster.fail_abandoned(&kind, watch_stop).await });
        }
        tracing::info!(kinds = ?self.options.kinds, max_in_flight = self.options.max_in_flight, "worker ready");
        let mut outcome = Ok(());
        while let Some(ended) = loops.join_next().await {
            if let Ok(Err(error)) = ended {
                stop.cancel();
                outcome = Err(error);
            }
        }
        // Every slot back: every attempt finished.
        let _all = slots.acquire_many(capacity).await;
        outcome
    }

    async fn consumer(&self, kind: &str) -> Result<PullConsumer, ClusterError> {
        let settings = &self.cluster.settings;
        let name = settings.consumer(kind);
        self.cluster
            .jobs
            .get_or_create_consumer(
                &name,
                pull::Config {
                    durable_name: Some(name.clone()),
                    filter_subject: settings.subject(kind),
                    ack_wait: settings.ack_wait,
                    max_deliver: settings.max_deliver,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| ClusterError::jetstream(format!("create the consumer {name}"), e))
    }

    /// Pulls attempts of one kind. While none comes, the kind holds one
    /// slot (its waiting pull request); when one does, it takes at once as
    /// many more as are waiting and there are free slots for.
    async fn pull(
        self: Arc<Self>,
        consumer: PullConsumer,
        slots: Arc<Semaphore>,
        stop: CancellationToken,
    ) -> Result<(), ClusterError> {
        loop {
            let waiting = tokio::select! {
                permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
                () = stop.cancelled() => return Ok(()),
            };
            let next = consumer.batch().max_messages(1).expires(Duration::from_secs(5));
            let Some(messages) = self.take(next.messages().await, vec![waiting], &stop).await else {
                return Ok(());
            };
            if messages == 0 {
                continue;
            }
            let mut more = Vec::new();
            while let Ok(permit) = slots.clone().try_acquire_owned() {
                more.push(permit);
            }
            if !more.is_empty() {
                let waiting_now = consumer.fetch().max_messages(more.len()).messages().await;
                if self.take(waiting_now, more, &stop).await.is_none() {
                    return Ok(());
                }
            }
        }
    }

    /// Starts an execution for each message `pulled` brings, each with one
    /// of `permits` (the rest are given back): how many, or `None` when
    /// `stop` fired.
    async fn take<S, E>(
        self: &Arc<Self>,
        pulled: Result<S, E>,
        mut permits: Vec<OwnedSemaphorePermit>,
        stop: &CancellationToken,
    ) -> Option<usize>
    where
        S: futures_util::Stream<Item = Result<Message, async_nats::Error>> + Unpin,
        E: std::fmt::Display,
    {
        let mut pulled = match pulled {
            Ok(pulled) => pulled,
            Err(error) => {
                tracing::warn!(%error, "cannot pull work; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                return Some(0);
            }
        };
        let mut taken = 0;
        loop {
            let next = tokio::select! {
                next = pulled.next() => next,
                () = stop.cancelled() => return None,
            };
            match next {
                Some(Ok(message)) => {
                    let Some(permit) = permits.pop() else {
                        // More than asked for: back to the queue at once.
                        let _ = message.ack_with(AckKind::Nak(None)).await;
                        break;
                    };
                    let (worker, stop) = (self.clone(), stop.clone());
                    tokio::spawn(async move { worker.handle(message, permit, stop).await });
                    taken += 1;
                }
                Some(Err(error)) => tracing::debug!(%error, "pull request ended"),
                None => break,
            }
        }
        Some(taken)
    }

    /// Runs one attempt, stores its result, acks.
    async fn handle(&self, message: Message, _permit: OwnedSemaphorePermit, stop: CancellationToken) {
        let Some(job) = JobHeaders::read(&message) else {
            tracing::warn!(subject = %message.subject, "dropping a message that is not a Pocket job");
            let _ = message.ack_with(AckKind::Term).await;
            return;
        };
        tracing::info!(run = job.run, node = job.node, attempt = job.attempt, "started");
        let progress = keep_alive(&message, self.cluster.settings.ack_wait);
        let result = self.execute(&job, &message, &stop).await;
        progress.cancel();
        let result = match result {
            Err(NodeError::Cancelled) if stop.is_cancelled() => {
                // The worker is stopping: another one takes the attempt.
                let _ = message.ack_with(AckKind::Nak(None)).await;
                return;
            }
            result => result,
        };
        match self.cluster.store_result(&job.key, &result).await {
            Ok(Stored::First) => {
                tracing::info!(
                    run = job.run,
                    node = job.node,
                    attempt = job.attempt,
                    ok = result.is_ok(),
                    "executed"
                );
            }
            Ok(Stored::Duplicate) => {
                tracing::info!(
                    run = job.run,
                    node = job.node,
                    attempt = job.attempt,
                    "executed again (redelivered): result dropped"
                );
            }
            Err(error) => {
                // Not acked: the attempt is redelivered after the ack wait.
                tracing::warn!(key = job.key, %error, "cannot store a result");
                return;
            }
        }
        if let Err(error) = message.double_ack().await {
            tracing::warn!(key = job.key, %error, "cannot ack an attempt (it may run again; its result stays the first one)");
        }
    }

    async fn execute(
        &self,
        job: &JobHeaders,
        message: &Message,
        stop: &CancellationToken,
    ) -> Result<NodeOutput, NodeError> {
        let cluster_error = |error: ClusterError| NodeError::Failed(format!("worker: {error}"));
        let graph = self.graph(&job.workflow).await.map_err(cluster_error)?;
        let body = match &job.blob {
            Some(blob) => self.cluster.blob(blob).await.map_err(cluster_error)?,
            None => String::from_utf8_lossy(&message.payload).into_owned(),
        };
        let (input, config) = wire::read_job_body(&body).map_err(cluster_error)?;
        let node = graph
            .node(&job.node)
            .ok_or_else(|| NodeError::Failed(format!("worker: the workflow has no node `{}`", job.node)))?;
        let context = graph.run_context(stop.child_token());
        node.prepared().attempt(input, config, job.attempt, &context).await
    }

    /// The workflow stored under `key`, built against this worker's
    /// registry once its plugins are here.
    async fn graph(&self, key: &str) -> Result<Arc<Graph>, ClusterError> {
        if let Some(graph) = self.cached(key) {
            return Ok(graph);
        }
        let _one_at_a_time = self.preparing.lock().await;
        if let Some(graph) = self.cached(key) {
            return Ok(graph);
        }
        let record = self.cluster.workflow(key).await?;
        self.install_plugins(&record).await?;
        let file = pocket_core::parse_str(&record.source, record.format)
            .map_err(|e| ClusterError::malformed("workflow", e))?;
        let validated = pocket_core::validate(&file, &self.installer.catalog(), self.installer.config())
            .map_err(|e| ClusterError::malformed("workflow", e))?;
        let graph = validated.graph;
        self.graphs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_string(), graph.clone());
        Ok(graph)
    }

    fn cached(&self, key: &str) -> Option<Arc<Graph>> {
        self.graphs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// Fetches and loads each plugin the workflow needs that this worker
    /// lacks, or has in another version (its own copy is not used then).
    async fn install_plugins(&self, record: &WorkflowRecord) -> Result<(), ClusterError> {
        for (name, artifact) in &record.plugins {
            let Some(expected) = &artifact.sha256 else { continue };
            match self.installer.loaded_digest(name) {
                Some(local) if &local == expected => continue,
                Some(local) => tracing::warn!(
                    plugin = name,
                    local,
                    expected,
                    "this worker's copy differs from the scheduler's: refusing it, fetching the scheduler's"
                ),
                None => tracing::info!(plugin = name, "fetching a plugin this worker lacks"),
            }
            let path = self
                .cluster
                .fetch_plugin(name, artifact, &self.options.cache_dir)
                .await?;
            self.installer
                .install(name, &path)
                .map_err(|message| ClusterError::Artifact {
                    plugin: name.clone(),
                    message,
                })?;
        }
        Ok(())
    }
}

/// What a job's headers say.
struct JobHeaders {
    run: String,
    key: String,
    attempt: u32,
    workflow: String,
    node: String,
    blob: Option<String>,
}

impl JobHeaders {
    fn read(message: &Message) -> Option<JobHeaders> {
        let headers = message.headers.as_ref()?;
        let text = |name: &str| headers.get(name).map(|v| v.as_str().to_string());
        Some(JobHeaders {
            run: text(wire::RUN)?,
            key: text(wire::KEY)?,
            attempt: text(wire::ATTEMPT)?.parse().ok()?,
            workflow: text(wire::WORKFLOW)?,
            node: text(wire::NODE)?,
            blob: text(wire::BLOB),
        })
    }
}

/// Tells JetStream the attempt is still being worked on, every third of the
/// ack wait, until the returned token is cancelled: a long node is not
/// redelivered while its worker lives, and is soon after its worker dies.
fn keep_alive(message: &Message, ack_wait: Duration) -> CancellationToken {
    let done = CancellationToken::new();
    let (context, reply, stop) = (message.context.clone(), message.reply.clone(), done.clone());
    tokio::spawn(async move {
        let Some(reply) = reply else { return };
        let every = (ack_wait / 3).max(Duration::from_millis(100));
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = stop.cancelled() => return,
            }
            if let Err(error) = context.client().publish(reply.clone(), "+WPI".into()).await {
                tracing::debug!(%error, "cannot signal progress");
            }
        }
    });
    done
}
