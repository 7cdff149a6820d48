//! [`RunManager`]: accepts runs, records them in the history store, runs
//! them on the server's runtime within its concurrency and queue limits,
//! and answers for them while they run (live timeline, cancel, wait).
//!
//! Crash semantics: a run is in the store before its submission is answered.
//! When the server starts, runs the previous process left `queued` are run
//! (they never started, so nothing ran twice). Runs it left `running` are
//! resumed with `--cluster`: the cluster keeps every node result, and the
//! run replays with them, executing only what had not finished. Without a
//! cluster they are marked failed, not re-run: their nodes may already have
//! had effects, and only the caller knows whether running them again is
//! safe (they submit again, under a new idempotency key).
//!
//! The store decides what a run is: a run executes only once the store
//! recorded it running, so one it still holds as queued never ran, and one
//! it holds as running is never run again. When the store fails, nobody is
//! told a run is what the store does not say: a submission it cannot
//! record is refused, a run whose start it cannot record is not executed,
//! and a waiter for a run whose end it cannot record hears that (an
//! [`Unrecorded`]), not the result.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pocket_core::{NodeError, RunError, RunObserver, RunOptions, TraceEntry, Value};
use pocket_history::{Created, Finish, NewRun, RunRecord, RunStatus, RunStore, StoreError};
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::cluster::ClusterRuns;
use super::idempotency;
use super::metrics::Metrics;
use super::workflows::Definition;

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

/// A run ended, or was not started, and the history could not record it:
/// what happened, and what the history holds instead (in the message).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Unrecorded(Arc<str>);

/// What a waiter hears when a run stops being live here: its record as
/// stored, or why it could not be stored.
type Ended = Result<Arc<RunRecord>, Unrecorded>;

/// A run to start.
pub struct Submission {
    /// The workflow's name.
    pub workflow: String,
    /// What the run executes.
    pub definition: Definition,
    /// The input.
    pub input: Value,
    /// The inline source, if the workflow was sent with the run.
    pub inline: Option<String>,
    /// The caller's idempotency key (kept scoped to the workflow).
    pub idempotency_key: Option<String>,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A timeline entry as the API and the store show it.
pub fn entry_json(entry: &TraceEntry) -> serde_json::Value {
    serde_json::json!({
        "node": &*entry.node,
        "type": &*entry.node_type,
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
    /// The run as recorded so far (kept here so a waiter needs no store read).
    record: Mutex<RunRecord>,
    /// How the run ended, once it did.
    done: watch::Sender<Option<Ended>>,
    metrics: Arc<Metrics>,
}

impl RunObserver for LiveRun {
    fn node_finished(&self, entry: &TraceEntry, error: Option<&NodeError>) {
        self.metrics.node(entry, error);
        self.timeline
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(entry_json(entry));
    }
}

impl LiveRun {
    fn timeline(&self) -> Vec<serde_json::Value> {
        self.timeline
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn record(&self) -> std::sync::MutexGuard<'_, RunRecord> {
        self.record.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A store call whose blocking thread panicked or was cancelled.
fn stopped(join: tokio::task::JoinError) -> StoreError {
    StoreError::Database {
        location: "history".into(),
        message: format!("the store call stopped: {join}"),
    }
}

/// What a waiter hears when the end of run `id` (`status`) could not be stored.
fn unrecorded(id: &str, status: RunStatus, was_running: bool, error: &StoreError) -> Unrecorded {
    let message = if was_running {
        format!(
            "run {id} ended ({status}) but the run history could not record it ({error}): the history \
             still shows it running, and it is not run again (a restart marks it failed)"
        )
    } else {
        format!(
            "run {id} did not start ({status}) and the run history could not record it ({error}): the \
             history still shows it queued, and it runs when the server next starts"
        )
    };
    Unrecorded(message.into())
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
    /// Where nodes execute, with `pocket serve --cluster`.
    cluster: Option<Arc<ClusterRuns>>,
}

impl RunManager {
    /// A manager running at most `concurrency` runs at once, with at most
    /// `queue_depth` more waiting.
    pub fn new(
        store: Arc<dyn RunStore>,
        metrics: Arc<Metrics>,
        (concurrency, queue_depth): (usize, usize),
        cluster: Option<Arc<ClusterRuns>>,
    ) -> RunManager {
        RunManager {
            store,
            cluster,
            metrics,
            slots: Arc::new(Semaphore::new(concurrency)),
            capacity: concurrency + queue_depth,
            pending: AtomicUsize::new(0),
            live: Mutex::new(HashMap::new()),
            tasks: TaskTracker::new(),
            shutdown: CancellationToken::new(),
        }
    }

    /// Deletes runs finished before `cutoff_ms`, on a blocking thread
    /// whatever the store (a large delete takes a while); how many.
    pub async fn prune(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.prune(cutoff_ms))
            .await
            .unwrap_or_else(|join| Err(stopped(join)))
    }

    /// Makes a store call: on this thread for a local store (an embedded
    /// database answers in microseconds, less than handing the call to
    /// another thread costs), else on tokio's blocking pool.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn RunStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        if self.store.is_local() {
            return f(&*self.store);
        }
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&*store))
            .await
            .unwrap_or_else(|join| Err(stopped(join)))
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<LiveRun>>> {
        self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records and starts a run: `Created::Existing` (nothing started) when
    /// its idempotency key was used before for the same workflow.
    pub async fn submit(self: &Arc<Self>, submission: Submission) -> Result<Created, SubmitError> {
        let taken = self.pending.fetch_add(1, Ordering::SeqCst);
        if taken >= self.capacity {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            return Err(SubmitError::Busy(self.capacity));
        }
        let new_run = NewRun {
            workflow: submission.workflow.clone(),
            input: submission.input.to_json(),
            definition: submission.inline,
            idempotency_key: submission
                .idempotency_key
                .map(|key| idempotency::scoped(&submission.workflow, &key)),
        };
        let created = match self.call(move |store| store.create(new_run, now_ms())).await {
            Ok(created) => created,
            Err(error) => {
                self.pending.fetch_sub(1, Ordering::SeqCst);
                return Err(error.into());
            }
        };
        match &created {
            Created::New(record) => self.enqueue(record.clone(), submission.definition, submission.input),
            Created::Existing(_) => {
                self.pending.fetch_sub(1, Ordering::SeqCst);
            }
        }
        Ok(created)
    }

    /// Starts the task that waits for a slot and runs `record`. The caller
    /// has counted it in `pending`.
    fn enqueue(self: &Arc<Self>, record: RunRecord, definition: Definition, input: Value) {
        let (done, _) = watch::channel(None);
        let id = record.id.clone();
        let live = Arc::new(LiveRun {
            workflow: record.workflow.clone(),
            cancel: CancellationToken::new(),
            stopped_by_shutdown: std::sync::atomic::AtomicBool::new(false),
            timeline: Mutex::new(Vec::new()),
            record: Mutex::new(record),
            done,
            metrics: self.metrics.clone(),
        });
        self.live().insert(id.clone(), live.clone());
        self.metrics.queued();
        let manager = self.clone();
        self.tasks
            .spawn(async move { manager.execute(id, definition, input, live).await });
    }

    async fn execute(self: Arc<Self>, id: String, definition: Definition, input: Value, live: Arc<LiveRun>) {
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
                self.forget(&id, &live, None);
            }
            return;
        };
        let started_ms = now_ms();
        if !self.record_start(&id, &live, started_ms).await {
            return;
        }
        {
            let mut record = live.record();
            record.status = RunStatus::Running;
            record.started_ms = Some(started_ms);
        }
        self.metrics.started();
        let executor = match &self.cluster {
            Some(cluster) => match cluster.executor(&id, &definition, &live.cancel).await {
                Ok(executor) => Some(executor),
                Err(error) => {
                    let error = format!("cannot start the run on the cluster: {error:#}");
                    self.finish(&id, &live, (RunStatus::Failed, None, Some(error)), true)
                        .await;
                    return;
                }
            },
            None => None,
        };
        let options = RunOptions {
            cancel: live.cancel.clone(),
            trace: false,
            observer: Some(live.clone()),
            executor,
        };
        let result = pocket_core::run(definition.graph, input, options)
            .await
            .map(|outcome| outcome.output);
        self.record(&id, &live, result, true).await;
    }

    /// Records run `id` as running before it executes; `false` (the run was
    /// ended, its waiters told) when the store cannot, so that a run the
    /// store holds as queued never ran. A run it cannot start is recorded
    /// as failed if the store takes that, and is otherwise left queued (it
    /// runs when the server next starts).
    async fn record_start(&self, id: &str, live: &Arc<LiveRun>, at_ms: i64) -> bool {
        let started_id = id.to_string();
        let error = match self.call(move |store| store.start(&started_id, at_ms)).await {
            Ok(true) => return true,
            Ok(false) => {
                // Finished (or deleted) meanwhile: what the store holds stands.
                self.metrics.finished(&live.workflow, "not-started", false);
                self.forget(id, live, None);
                return false;
            }
            Err(error) => error,
        };
        tracing::error!(run = %id, "not starting the run: cannot record its start: {error}");
        let reason = format!("not started: the run history could not record its start ({error})");
        self.finish(id, live, (RunStatus::Failed, None, Some(reason)), false)
            .await;
        false
    }

    /// Stores how a run ended and tells whoever waits for it.
    async fn record(&self, id: &str, live: &Arc<LiveRun>, result: Result<Value, RunError>, was_running: bool) {
        let ended = match result {
            Ok(output) => (RunStatus::Succeeded, Some(output.to_json()), None),
            Err(RunError::Cancelled) if live.stopped_by_shutdown.load(Ordering::SeqCst) => (
                RunStatus::Failed,
                None,
                Some("stopped: the server shut down before the run finished (drain_timeout)".to_string()),
            ),
            Err(RunError::Cancelled) => (RunStatus::Cancelled, None, Some("the run was cancelled".to_string())),
            Err(error) => (RunStatus::Failed, None, Some(error.to_string())),
        };
        self.finish(id, live, ended, was_running).await;
    }

    /// Stores a run's end (status, output, error) and tells whoever waits for it.
    async fn finish(
        &self,
        id: &str,
        live: &Arc<LiveRun>,
        (status, output, error): (RunStatus, Option<String>, Option<String>),
        was_running: bool,
    ) {
        let finish = Finish {
            status,
            output,
            error,
            timeline: serde_json::Value::Array(live.timeline()).to_string(),
            at_ms: now_ms(),
        };
        let finished = {
            let mut record = live.record();
            record.status = finish.status;
            record.output.clone_from(&finish.output);
            record.error.clone_from(&finish.error);
            record.timeline = Some(finish.timeline.clone());
            record.finished_ms = Some(finish.at_ms);
            Arc::new(record.clone())
        };
        let finished_id = id.to_string();
        let ended = match self.call(move |store| store.finish(&finished_id, &finish)).await {
            Ok(_) => Ok(finished),
            Err(error) => {
                tracing::error!(run = %id, "cannot record how the run ended: {error}");
                Err(unrecorded(id, status, was_running, &error))
            }
        };
        self.metrics.finished(&live.workflow, status.as_str(), was_running);
        self.forget(id, live, Some(ended));
    }

    fn forget(&self, id: &str, live: &LiveRun, finished: Option<Ended>) {
        self.live().remove(id);
        self.pending.fetch_sub(1, Ordering::SeqCst);
        live.done.send_replace(finished);
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

    /// Waits until run `id` is no longer live here, at most `timeout`: its
    /// finished record as stored, or why it could not be stored, if it
    /// ended meanwhile (else read the store).
    pub async fn wait(&self, id: &str, timeout: Duration) -> Option<Ended> {
        let mut receiver = self.live().get(id).map(|live| live.done.subscribe())?;
        match tokio::time::timeout(timeout, receiver.wait_for(Option::is_some)).await {
            Ok(Ok(finished)) => finished.clone(),
            _ => None,
        }
    }

    /// After a restart: runs the previous process left queued (resolving
    /// what each executes with `resolve`). Runs it left running are resumed
    /// on a cluster (its stored results are not run again), and failed
    /// without one.
    pub async fn recover(
        self: &Arc<Self>,
        resolve: impl Fn(&RunRecord) -> Result<Definition, String>,
    ) -> Result<(usize, usize), StoreError> {
        let unfinished = self.call(|store| store.unfinished()).await?;
        let (mut requeued, mut failed) = (0, 0);
        for run in unfinished {
            let definition = match (run.status, &self.cluster) {
                (RunStatus::Queued, _) => resolve(&run),
                (_, Some(cluster)) => cluster.resumed(&run, &resolve).await,
                (_, None) => Err(
                    "interrupted by a server restart (or its end could not be recorded): the run had \
                     started, so it is not run again (its nodes may have had effects); submit it again \
                     to retry"
                        .to_string(),
                ),
            };
            let ready = definition.and_then(|definition| {
                Value::from_json(&run.input)
                    .map(|input| (definition, input))
                    .map_err(|e| format!("its stored input is not JSON: {e}"))
            });
            match ready {
                Ok((definition, input)) => {
                    self.pending.fetch_add(1, Ordering::SeqCst);
                    self.enqueue(run, definition, input);
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
                    self.call(move |store| store.finish(&run.id, &finish)).await?;
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
