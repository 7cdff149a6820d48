//! [`RunManager`]: accepts runs, records them in the history store, runs
//! them on the server's runtime within its concurrency and queue limits,
//! and answers for them while they run (live timeline, cancel, wait).
//!
//! Crash semantics: a run is in the store before its submission is answered.
//! When the server starts, runs the previous process left `queued` are run
//! (they never started, so nothing ran twice); runs it left `running` are
//! marked failed, not re-run: their nodes may already have had effects, and
//! only the caller knows whether running them again is safe (they submit
//! again, under a new idempotency key).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pocket_core::{Graph, NodeError, RunError, RunObserver, RunOptions, TraceEntry, Value};
use pocket_history::{Created, Finish, NewRun, RunRecord, RunStatus, RunStore, StoreError};
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::metrics::Metrics;

/// Why a run was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Queue full: come back later.
    #[error("the server is at capacity ({0} runs running or queued); retry later")]
    Busy(usize),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A run to start.
pub struct Submission {
    /// The workflow's name.
    pub workflow: String,
    /// Its graph.
    pub graph: Arc<Graph>,
    /// The input.
    pub input: Value,
    /// The inline source, if the workflow was sent with the run.
    pub definition: Option<String>,
    /// The caller's idempotency key.
    pub idempotency_key: Option<String>,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A timeline entry as the API and the store show it.
pub fn entry_json(entry: &TraceEntry) -> serde_json::Value {
    serde_json::json!({
        "node": &*entry.node,
        "type": entry.node_type,
        "plugin": &*entry.plugin,
        "started_ms": entry.started.as_secs_f64() * 1000.0,
        "duration_ms": entry.duration.as_secs_f64() * 1000.0,
        "attempts": entry.attempts,
        "action": entry.action.as_ref().map(ToString::to_string),
        "error": entry.error,
    })
}

/// A run this process is executing or holding in its queue.
struct LiveRun {
    workflow: String,
    cancel: CancellationToken,
    /// Set when the server's shutdown, not a caller, stopped the run.
    stopped_by_shutdown: std::sync::atomic::AtomicBool,
    timeline: Mutex<Vec<serde_json::Value>>,
    done: watch::Sender<bool>,
    metrics: Arc<Metrics>,
}

impl RunObserver for LiveRun {
    fn node_finished(&self, entry: &TraceEntry, error: Option<&NodeError>) {
        self.metrics.node(entry, error);
        self.timeline
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry_json(entry));
    }
}

impl LiveRun {
    fn timeline(&self) -> Vec<serde_json::Value> {
        self.timeline.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Runs the server's workflows.
pub struct RunManager {
    store: Arc<dyn RunStore>,
    metrics: Arc<Metrics>,
    slots: Arc<Semaphore>,
    capacity: usize,
    pending: AtomicUsize,
    live: Mutex<HashMap<String, Arc<LiveRun>>>,
    tasks: TaskTracker,
    /// Cancelled when the server stops: queued runs then stay queued for the next start.
    shutdown: CancellationToken,
}

/// Runs a blocking store call off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|join| {
        Err(StoreError::Database {
            location: "history".into(),
            message: format!("the store call stopped: {join}"),
        })
    })
}

impl RunManager {
    /// A manager running at most `concurrency` runs at once, with at most
    /// `queue_depth` more waiting.
    pub fn new(store: Arc<dyn RunStore>, metrics: Arc<Metrics>, concurrency: usize, queue_depth: usize) -> RunManager {
        RunManager {
            store,
            metrics,
            slots: Arc::new(Semaphore::new(concurrency)),
            capacity: concurrency + queue_depth,
            pending: AtomicUsize::new(0),
            live: Mutex::new(HashMap::new()),
            tasks: TaskTracker::new(),
            shutdown: CancellationToken::new(),
        }
    }

    /// The history store.
    pub fn store(&self) -> &Arc<dyn RunStore> {
        &self.store
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<LiveRun>>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records and starts a run: `Created::Existing` (nothing started) when
    /// its idempotency key was used before.
    pub async fn submit(self: &Arc<Self>, submission: Submission) -> Result<Created, SubmitError> {
        let taken = self.pending.fetch_add(1, Ordering::SeqCst);
        if taken >= self.capacity {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            return Err(SubmitError::Busy(self.capacity));
        }
        let new_run = NewRun {
            workflow: submission.workflow.clone(),
            input: submission.input.to_json(),
            definition: submission.definition,
            idempotency_key: submission.idempotency_key,
        };
        let store = self.store.clone();
        let created = match blocking(move || store.create(new_run, now_ms())).await {
            Ok(created) => created,
            Err(error) => {
                self.pending.fetch_sub(1, Ordering::SeqCst);
                return Err(error.into());
            }
        };
        match &created {
            Created::New(record) => self.enqueue(
                record.id.clone(),
                submission.workflow,
                submission.graph,
                submission.input,
            ),
            Created::Existing(_) => {
                self.pending.fetch_sub(1, Ordering::SeqCst);
            }
        }
        Ok(created)
    }

    /// Starts the task that waits for a slot and runs `id`. The caller has
    /// counted it in `pending`.
    fn enqueue(self: &Arc<Self>, id: String, workflow: String, graph: Arc<Graph>, input: Value) {
        let (done, _) = watch::channel(false);
        let live = Arc::new(LiveRun {
            workflow,
            cancel: CancellationToken::new(),
            stopped_by_shutdown: std::sync::atomic::AtomicBool::new(false),
            timeline: Mutex::new(Vec::new()),
            done,
            metrics: self.metrics.clone(),
        });
        self.live().insert(id.clone(), live.clone());
        self.metrics.queued();
        let manager = self.clone();
        self.tasks
            .spawn(async move { manager.execute(id, graph, input, live).await });
    }

    async fn execute(self: Arc<Self>, id: String, graph: Arc<Graph>, input: Value, live: Arc<LiveRun>) {
        let permit = tokio::select! {
            permit = self.slots.clone().acquire_owned() => permit.ok(),
            () = live.cancel.cancelled() => None,
            () = self.shutdown.cancelled() => None,
        };
        let Some(_permit) = permit else {
            if live.cancel.is_cancelled() {
                self.record(&id, &live, Err(RunError::Cancelled), false).await;
            } else {
                // Shutting down: the run stays queued in the store for the next start.
                self.metrics.finished(&live.workflow, "requeued", false);
                self.forget(&id, &live);
            }
            return;
        };
        let store = self.store.clone();
        let started_id = id.clone();
        if let Err(error) = blocking(move || store.start(&started_id, now_ms())).await {
            tracing::error!(run = %id, "cannot record the run's start: {error}");
        }
        self.metrics.started();
        let options = RunOptions {
            cancel: live.cancel.clone(),
            trace: false,
            observer: Some(live.clone()),
        };
        let result = pocket_core::run(graph, input, options)
            .await
            .map(|outcome| outcome.output);
        self.record(&id, &live, result, true).await;
    }

    /// Stores how a run ended and tells whoever waits for it.
    async fn record(&self, id: &str, live: &Arc<LiveRun>, result: Result<Value, RunError>, was_running: bool) {
        let (status, output, error) = match result {
            Ok(output) => (RunStatus::Succeeded, Some(output.to_json()), None),
            Err(RunError::Cancelled) if live.stopped_by_shutdown.load(Ordering::SeqCst) => (
                RunStatus::Failed,
                None,
                Some("stopped: the server shut down before the run finished (drain_timeout)".to_string()),
            ),
            Err(RunError::Cancelled) => (RunStatus::Cancelled, None, Some("the run was cancelled".to_string())),
            Err(error) => (RunStatus::Failed, None, Some(error.to_string())),
        };
        let finish = Finish {
            status,
            output,
            error,
            timeline: serde_json::Value::Array(live.timeline()).to_string(),
            at_ms: now_ms(),
        };
        let store = self.store.clone();
        let finished_id = id.to_string();
        if let Err(error) = blocking(move || store.finish(&finished_id, &finish)).await {
            tracing::error!(run = %id, "cannot record how the run ended: {error}");
        }
        self.metrics.finished(&live.workflow, status.as_str(), was_running);
        self.forget(id, live);
    }

    fn forget(&self, id: &str, live: &LiveRun) {
        self.live().remove(id);
        self.pending.fetch_sub(1, Ordering::SeqCst);
        live.done.send_replace(true);
    }

    /// The live timeline of a run this process is executing.
    pub fn live_timeline(&self, id: &str) -> Option<Vec<serde_json::Value>> {
        self.live().get(id).map(|live| live.timeline())
    }

    /// Asks a queued or running run to stop; whether it was live here.
    pub fn cancel(&self, id: &str) -> bool {
        match self.live().get(id) {
            Some(live) => {
                live.cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// Waits until run `id` is no longer live here, at most `timeout`.
    pub async fn wait(&self, id: &str, timeout: Duration) {
        let receiver = self.live().get(id).map(|live| live.done.subscribe());
        if let Some(mut receiver) = receiver {
            let _ = tokio::time::timeout(timeout, receiver.wait_for(|done| *done)).await;
        }
    }

    /// After a restart: runs the previous process left queued (resolving
    /// each one's graph with `resolve`), and fails those it left running.
    pub async fn recover(
        self: &Arc<Self>,
        resolve: impl Fn(&RunRecord) -> Result<Arc<Graph>, String>,
    ) -> Result<(usize, usize), StoreError> {
        let store = self.store.clone();
        let unfinished = blocking(move || store.unfinished()).await?;
        let (mut requeued, mut failed) = (0, 0);
        for run in unfinished {
            let graph = match run.status {
                RunStatus::Queued => resolve(&run).and_then(|graph| {
                    Value::from_json(&run.input)
                        .map(|input| (graph, input))
                        .map_err(|e| format!("its stored input is not JSON: {e}"))
                }),
                _ => Err(
                    "interrupted by a server restart: the run had started, so it is not run again \
                          (its nodes may have had effects); submit it again to retry"
                        .to_string(),
                ),
            };
            match graph {
                Ok((graph, input)) => {
                    self.pending.fetch_add(1, Ordering::SeqCst);
                    self.enqueue(run.id.clone(), run.workflow.clone(), graph, input);
                    requeued += 1;
                }
                Err(reason) => {
                    let finish = Finish {
                        status: RunStatus::Failed,
                        output: None,
                        error: Some(reason),
                        timeline: "[]".into(),
                        at_ms: now_ms(),
                    };
                    let store = self.store.clone();
                    blocking(move || store.finish(&run.id, &finish)).await?;
                    failed += 1;
                }
            }
        }
        Ok((requeued, failed))
    }

    /// Stops taking new work and waits up to `deadline` for live runs; then
    /// stops the rest (recorded as failed by the shutdown). Queued runs stay
    /// queued in the store for the next start.
    pub async fn drain(&self, deadline: Duration) {
        self.tasks.close();
        let running = self.live().len();
        if running > 0 {
            tracing::info!(runs = running, "waiting for runs to finish");
        }
        // Queued runs give up their place at once; running ones get the deadline.
        self.shutdown.cancel();
        if tokio::time::timeout(deadline, self.tasks.wait()).await.is_err() {
            tracing::warn!("drain_timeout passed: stopping the runs still going");
            for live in self.live().values() {
                live.stopped_by_shutdown.store(true, Ordering::SeqCst);
                live.cancel.cancel();
            }
            self.tasks.wait().await;
        }
    }
}
