//! The graph runner: executes a validated [`Graph`] on tokio.
//!
//! A run is a loop over "tokens" (a node to run with its input), never a
//! recursion, so long chains and loops do not grow the stack. While one token
//! is live, the runner executes it inline on the calling task: a node that
//! completes synchronously costs a config render, a virtual call and routing.
//! When a node fans out, every branch is spawned as its own tokio task, so
//! CPU-bound plugin nodes run in parallel on the runtime's worker threads.
//!
//! Fan-in: a node with several predecessors buffers arriving outputs until
//! every predecessor has delivered, or until no live token can still reach it;
//! then it runs once, with one arrival as is, or several as an object keyed by
//! source node name.

mod attempt;
mod executor;

pub use executor::{NodeExecutor, NodeJob};

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pocket_value::Value;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::context::RunContext;
use crate::graph::{Graph, GraphNode, NodeId};
use crate::location::Position;
use crate::outcome::{Action, ERROR_ACTION, NodeError, NodeOutput};

/// How to run a workflow.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Cancel this token to stop the run (for example on Ctrl-C).
    pub cancel: CancellationToken,
    /// Record a per-node [`TraceEntry`] timeline.
    pub trace: bool,
    /// Told about every node execution as it finishes, failed runs included.
    pub observer: Option<Arc<dyn RunObserver>>,
    /// Carries out node attempts elsewhere (a cluster's workers); `None`
    /// runs them in this process.
    pub executor: Option<Arc<dyn NodeExecutor>>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("cancel", &self.cancel)
            .field("trace", &self.trace)
            .field("observer", &self.observer.is_some())
            .field("executor", &self.executor.is_some())
            .finish()
    }
}

/// Watches a run's node executions as they finish: what a server needs for
/// live timelines, the history of failed runs and per-node metrics.
pub trait RunObserver: Send + Sync {
    /// One node execution finished (after its retries): its timeline entry,
    /// and its error if it failed.
    fn node_finished(&self, entry: &TraceEntry, error: Option<&NodeError>);
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The workflow's result: the last output, or, when the run ended in
    /// several branches, an object keyed by the nodes that ended them.
    pub output: Value,
    /// How many node executions the run took.
    pub steps: u64,
    /// Per-node timeline, when [`RunOptions::trace`] was set.
    pub timeline: Vec<TraceEntry>,
}

/// One node execution in a run's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEntry {
    /// The node.
    pub node: Arc<str>,
    /// Its type's full name, `plugin/type`, as the registry resolved it
    /// (the same however the workflow wrote the type).
    pub node_type: Arc<str>,
    /// The plugin providing the type.
    pub plugin: Arc<str>,
    /// When it started, from the start of the run.
    pub started: Duration,
    /// How long it took, retries included.
    pub duration: Duration,
    /// Attempts made.
    pub attempts: u32,
    /// The action it took, or `None` if it failed.
    pub action: Option<Action>,
    /// Its failure, if it failed.
    pub error: Option<String>,
}

/// A run failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A node failed (after its retries) and has no `error` edge.
    #[error("{0}")]
    NodeFailed(Box<NodeFailure>),
    /// The run took more node executions than `max_steps` allows.
    #[error(
        "the run exceeded max_steps ({limit}) at node `{node}`: a loop does not terminate? (raise `max_steps` in the workflow if it should)"
    )]
    MaxSteps {
        /// The limit.
        limit: u64,
        /// The node that would have run next.
        node: String,
    },
    /// The run was cancelled.
    #[error("the run was cancelled")]
    Cancelled,
}

/// Which node failed, where it is defined, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}node `{node}` (type `{node_type}`, plugin `{plugin}`) failed{}: {error}", place(.file, .position), attempts_note(*.attempts))]
pub struct NodeFailure {
    /// The node.
    pub node: String,
    /// Its type.
    pub node_type: String,
    /// The plugin providing the type.
    pub plugin: String,
    /// Attempts made.
    pub attempts: u32,
    /// Why the last attempt failed.
    pub error: NodeError,
    /// The workflow file.
    pub file: Option<PathBuf>,
    /// Where the node is defined.
    pub position: Option<Position>,
}

fn place(file: &Option<PathBuf>, position: &Option<Position>) -> String {
    crate::location::location_prefix(file.as_deref(), *position)
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

/// Runs `graph` with `input` to completion.
pub async fn run(graph: Arc<Graph>, input: Value, options: RunOptions) -> Result<RunOutcome, RunError> {
    let context = graph.run_context(options.cancel.child_token());
    let mut run = Run::new(graph, context, options);
    let result = run.drive(input).await;
    // Stop branches still running after a failure or cancellation.
    run.context.cancel().cancel();
    result
}

/// What one node execution produced, before routing.
struct Step {
    node: NodeId,
    input: Value,
    result: Result<NodeOutput, NodeError>,
    attempts: u32,
    started: Instant,
}

struct PendingJoin {
    /// (source node, output), in arrival order.
    arrivals: Vec<(NodeId, Value)>,
    /// The distinct sources that delivered.
    delivered: HashSet<NodeId>,
    /// Arrival order across all joins, to break deadlocks oldest-first.
    since: u64,
}

struct Run {
    graph: Arc<Graph>,
    context: RunContext,
    /// When the run started, for timeline entries.
    started: Instant,
    trace: Option<Vec<TraceEntry>>,
    observer: Option<Arc<dyn RunObserver>>,
    executor: Option<Arc<dyn NodeExecutor>>,
    steps: u64,
    ready: VecDeque<(NodeId, Value)>,
    in_flight: JoinSet<Step>,
    /// Tokens in flight per node, for the fan-in reachability test.
    running: Vec<u32>,
    joins: HashMap<NodeId, PendingJoin>,
    arrivals: u64,
    endings: Vec<(NodeId, Value)>,
}

impl Run {
    fn new(graph: Arc<Graph>, context: RunContext, options: RunOptions) -> Run {
        Run {
            running: vec![0; graph.nodes.len()],
            graph,
            context,
            started: Instant::now(),
            trace: options.trace.then(Vec::new),
            observer: options.observer,
            executor: options.executor,
            steps: 0,
            ready: VecDeque::new(),
            in_flight: JoinSet::new(),
            joins: HashMap::new(),
            arrivals: 0,
            endings: Vec::new(),
        }
    }

    async fn drive(&mut self, input: Value) -> Result<RunOutcome, RunError> {
        self.ready.push_back((self.graph.start, input));
        loop {
            if self.context.cancel().is_cancelled() {
                return Err(RunError::Cancelled);
            }
            if self.in_flight.is_empty() && self.ready.len() == 1 {
                // One live token: run it inline, no task, no allocation.
                let (node, input) = self.ready.pop_front().expect("one token is ready");
                let execution = self.count_step(node)?;
                let step = execute(
                    &self.graph,
                    (node, execution),
                    input,
                    &self.context,
                    self.executor.as_deref(),
                )
                .await;
                self.complete(step)?;
                continue;
            }
            while let Some((node, input)) = self.ready.pop_front() {
                let execution = self.count_step(node)?;
                self.running[node] += 1;
                let graph = self.graph.clone();
                let context = self.context.clone();
                let executor = self.executor.clone();
                self.in_flight.spawn(async move {
                    execute(&graph, (node, execution), input, &context, executor.as_deref()).await
                });
            }
            if self.in_flight.is_empty() {
                if self.fire_oldest_join() {
                    continue;
                }
                return Ok(self.finish());
            }
            let joined = tokio::select! {
                joined = self.in_flight.join_next() => joined,
                () = self.context.cancel().cancelled() => return Err(RunError::Cancelled),
            };
            match joined {
                Some(Ok(step)) => {
                    self.running[step.node] -= 1;
                    self.complete(step)?;
                }
                Some(Err(join_error)) if join_error.is_cancelled() => return Err(RunError::Cancelled),
                Some(Err(join_error)) => std::panic::resume_unwind(join_error.into_panic()),
                None => {}
            }
        }
    }

    /// Counts one more node execution; its number in the run.
    fn count_step(&mut self, node: NodeId) -> Result<u64, RunError> {
        self.steps += 1;
        if self.steps > self.graph.max_steps {
            return Err(RunError::MaxSteps {
                limit: self.graph.max_steps,
                node: self.graph.nodes[node].name().to_string(),
            });
        }
        Ok(self.steps)
    }

    /// Routes a finished step's output to the next nodes.
    fn complete(&mut self, step: Step) -> Result<(), RunError> {
        let graph = self.graph.clone();
        let node = &graph.nodes[step.node];
        self.record(node, &step);
        let (output, targets) = match step.result {
            Ok(out) => {
                let targets = graph.next(step.node, out.action());
                (out.output, targets)
            }
            Err(NodeError::Cancelled) => return Err(RunError::Cancelled),
            Err(error) => match node.edge(ERROR_ACTION) {
                Some(edge) => {
                    tracing::debug!(node = %node.name(), %error, "routing failure to the error edge");
                    let payload = Value::object([("error", Value::from(error.to_string())), ("input", step.input)]);
                    (payload, edge.targets.as_slice())
                }
                None => return Err(node_failed(&graph, node, step.attempts, error)),
            },
        };
        match targets {
            [] => self.endings.push((step.node, output)),
            [only] => self.deliver(step.node, *only, output),
            many => {
                for &target in many {
                    self.deliver(step.node, target, output.clone());
                }
            }
        }
        if !self.joins.is_empty() {
            self.fire_ready_joins();
        }
        Ok(())
    }

    fn deliver(&mut self, from: NodeId, to: NodeId, output: Value) {
        if self.graph.nodes[to].join.is_none() {
            self.ready.push_back((to, output));
            return;
        }
        self.arrivals += 1;
        let since = self.arrivals;
        let pending = self.joins.entry(to).or_insert_with(|| PendingJoin {
            arrivals: Vec::new(),
            delivered: HashSet::new(),
            since,
        });
        pending.arrivals.push((from, output));
        pending.delivered.insert(from);
    }

    fn fire_ready_joins(&mut self) {
        let ready: Vec<NodeId> = self.joins.keys().copied().filter(|&j| self.join_is_ready(j)).collect();
        for join in ready {
            self.fire(join);
        }
    }

    /// A join runs when all its sources delivered, or when no live token
    /// (ready, running, or waiting at another join) can still reach it.
    fn join_is_ready(&self, join: NodeId) -> bool {
        let spec = self.graph.nodes[join]
            .join
            .as_ref()
            .expect("joins are marked at validation");
        let pending = &self.joins[&join];
        if pending.delivered.len() == spec.sources.len() {
            return true;
        }
        let live_can_reach = self.ready.iter().any(|&(n, _)| spec.can_reach[n])
            || self
                .running
                .iter()
                .enumerate()
                .any(|(n, &count)| count > 0 && spec.can_reach[n])
            || self.joins.keys().any(|&other| other != join && spec.can_reach[other]);
        !live_can_reach
    }

    /// Breaks a standoff between joins waiting on each other.
    fn fire_oldest_join(&mut self) -> bool {
        let oldest = self.joins.iter().min_by_key(|(_, p)| p.since).map(|(&j, _)| j);
        oldest.map(|join| self.fire(join)).is_some()
    }

    fn fire(&mut self, join: NodeId) {
        let Some(mut pending) = self.joins.remove(&join) else {
            return;
        };
        let input = if pending.arrivals.len() == 1 {
            pending.arrivals.pop().map(|(_, v)| v).unwrap_or_default()
        } else {
            Value::object(
                pending
                    .arrivals
                    .into_iter()
                    .map(|(from, v)| (self.graph.nodes[from].name().to_string(), v)),
            )
        };
        self.ready.push_back((join, input));
    }

    fn record(&mut self, node: &GraphNode, step: &Step) {
        if self.trace.is_none() && self.observer.is_none() {
            return;
        }
        let (action, error) = match &step.result {
            Ok(out) => (Some(Action::from(out.action())), None),
            Err(e) => (None, Some(e)),
        };
        let entry = TraceEntry {
            node: node.prepared.name.clone(),
            node_type: node.prepared.full_type.clone(),
            plugin: node.prepared.plugin.clone(),
            started: step.started.duration_since(self.started),
            duration: step.started.elapsed(),
            attempts: step.attempts,
            action,
            error: error.map(ToString::to_string),
        };
        if let Some(observer) = &self.observer {
            observer.node_finished(&entry, error);
        }
        if let Some(timeline) = &mut self.trace {
            timeline.push(entry);
        }
    }

    fn finish(&mut self) -> RunOutcome {
        let output = match self.endings.len() {
            0 => Value::Null,
            1 => self.endings.pop().map(|(_, v)| v).unwrap_or_default(),
            _ => Value::object(
                self.endings
                    .drain(..)
                    .map(|(n, v)| (self.graph.nodes[n].name().to_string(), v)),
            ),
        };
        RunOutcome {
            output,
            steps: self.steps,
            timeline: self.trace.take().unwrap_or_default(),
        }
    }
}

fn node_failed(graph: &Graph, node: &GraphNode, attempts: u32, error: NodeError) -> RunError {
    RunError::NodeFailed(Box::new(NodeFailure {
        node: node.name().to_string(),
        node_type: node.type_name().to_string(),
        plugin: node.plugin().to_string(),
        attempts,
        error,
        file: graph.source.clone(),
        position: node.position,
    }))
}

/// Runs one node: render its config, then call it, with timeout and retries.
async fn execute(
    graph: &Graph,
    (id, execution): (NodeId, u64),
    input: Value,
    context: &RunContext,
    executor: Option<&dyn NodeExecutor>,
) -> Step {
    let node = &graph.nodes[id];
    let started = Instant::now();
    let span = tracing::debug_span!(
        "node",
        workflow = %graph.name,
        node = %node.prepared.name,
        node_type = %node.prepared.type_name,
        plugin = %node.prepared.plugin,
        attempt = tracing::field::Empty,
        action = tracing::field::Empty,
        duration_us = tracing::field::Empty,
    );
    let (result, attempts) = match node.prepared.render_config(&input) {
        Ok(config) => {
            attempt_with_retries(graph, (node, execution), &input, config, context, executor)
                .instrument(span.clone())
                .await
        }
        Err(error) => (Err(error), 1),
    };
    if !span.is_disabled() {
        span.record("attempt", attempts);
        span.record(
            "duration_us",
            u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        );
        match &result {
            Ok(out) => {
                span.record("action", out.action());
            }
            Err(error) => {
                let _entered = span.enter();
                tracing::debug!(%error, "node failed");
            }
        }
    }
    Step {
        node: id,
        input,
        result,
        attempts,
        started,
    }
}

async fn attempt_with_retries(
    graph: &Graph,
    (node, execution): (&GraphNode, u64),
    input: &Value,
    config: Value,
    context: &RunContext,
    executor: Option<&dyn NodeExecutor>,
) -> (Result<NodeOutput, NodeError>, u32) {
    let max_attempts = node.retry.as_ref().map_or(1, |r| r.max_attempts.max(1));
    let mut attempt = 1;
    loop {
        let result = match executor {
            None => {
                node.prepared
                    .attempt(input.clone(), config.clone(), attempt, context)
                    .await
            }
            Some(executor) => {
                let job = NodeJob {
                    graph,
                    node,
                    input: input.clone(),
                    config: config.clone(),
                    execution,
                    attempt,
                    run: context,
                };
                tokio::select! {
                    result = executor.attempt(job) => result,
                    () = context.cancel().cancelled() => Err(NodeError::Cancelled),
                }
            }
        };
        match (&result, &node.retry) {
            (Err(error), Some(retry)) if attempt < max_attempts && error.is_retryable() => {
                let delay = retry.delay_after(attempt);
                tracing::debug!(node = %node.name(), attempt, %error, ?delay, "retrying");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = context.cancel().cancelled() => return (Err(NodeError::Cancelled), attempt),
                }
                attempt += 1;
            }
            _ => return (result, attempt),
        }
    }
}

#[cfg(test)]
mod tests;
