//! `parallel`: runs several node types concurrently on the same input.
//!
//! Each task is a real node type from the registry (`type`, or the Go
//! engine's `operation`), prepared before the run exactly like a workflow
//! node (schema, templates, disabled built-ins), and run as its own tokio
//! task, at most `max_concurrency` at a time. The output is `{results:
//! [{task, result}], errors: [{task, error}], summary: {total, successful,
//! failed}, duration}`, in task order. With `fail_fast`, the first failure
//! cancels the other tasks and fails the node. Tasks unfinished after
//! `timeout` are cancelled and reported as errors.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pocket_core::{
    ConfigError, Execution, Invocation, Node, NodeError, NodeOutput, NodeRequest, NodeSetup, PreparedNode, RunContext,
    Value,
};
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::builtin::{Builtin, check_static_duration, config_duration, format_elapsed};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

pub(crate) struct Parallel;

impl Builtin for Parallel {
    const NAME: &'static str = "parallel";
    const DESCRIPTION: &'static str =
        "Runs tasks (real node types) concurrently on the input: {results, errors, summary, duration}";
    const RAW_KEYS: &'static [&'static str] = &["tasks"];

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "properties": {
                "tasks": {
                    "type": "array",
                    "minItems": 1,
                    "description": "The tasks; each task's config is rendered against the input when it runs",
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "minLength": 1, "description": "The task's name, unique in the list"},
                            "type": {"type": "string", "description": "A node type, as in a workflow node"},
                            "operation": {"type": "string", "description": "The Go engine's name for `type`"},
                            "config": {"type": "object", "description": "The task's config, checked against its type's schema"}
                        },
                        "required": ["name"],
                        "oneOf": [{"required": ["type"]}, {"required": ["operation"]}],
                        "additionalProperties": false
                    }
                },
                "max_concurrency": {"type": "integer", "minimum": 1, "default": 10, "description": "Most tasks running at once"},
                "fail_fast": {"type": "boolean", "default": false, "description": "On the first failure, cancel the other tasks and fail the node"},
                "timeout": {"type": ["string", "number"], "default": "5m", "description": "Time limit for all tasks together"}
            },
            "required": ["tasks"],
            "additionalProperties": false
        })
    }

    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        check_static_duration(setup, "timeout")?;
        let written = setup
            .config_value("tasks")
            .and_then(Value::as_array)
            .ok_or_else(|| ConfigError::at("/tasks", "`tasks` must be a list"))?;
        let mut tasks: Vec<PreparedNode> = Vec::with_capacity(written.len());
        for (i, task) in written.iter().enumerate() {
            let at = format!("/tasks/{i}");
            let name = task.get("name").and_then(Value::as_str).unwrap_or_default();
            if tasks.iter().any(|t| t.name() == name) {
                return Err(ConfigError::at(at, format!("duplicate task name `{name}`")));
            }
            let node_type = task
                .get("type")
                .or_else(|| task.get("operation"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let request = NodeRequest {
                name,
                node_type,
                config: task.get("config"),
                timeout: None,
                sources: &[],
            };
            let prepared = setup.factory.prepare(&request).map_err(|problems| {
                let described: Vec<String> = problems
                    .iter()
                    .map(|p| match p.help() {
                        Some(help) => format!("{p} ({help})"),
                        None => p.to_string(),
                    })
                    .collect();
                ConfigError::at(at.clone(), format!("task `{name}`: {}", described.join("; ")))
            })?;
            tasks.push(prepared);
        }
        Ok(Arc::new(ParallelRun { tasks: Arc::new(tasks) }))
    }
}

struct ParallelRun {
    tasks: Arc<Vec<PreparedNode>>,
}

impl Node for ParallelRun {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        let timeout = match config_duration(&call.config, "timeout", DEFAULT_TIMEOUT) {
            Ok(t) => t,
            Err(e) => return Execution::Ready(Err(e)),
        };
        let limit = call
            .config
            .get("max_concurrency")
            .and_then(Value::as_i64)
            .map_or(10, |n| {
                usize::try_from(n.max(1)).map_or(Semaphore::MAX_PERMITS, |n| n.min(Semaphore::MAX_PERMITS))
            });
        let fail_fast = call.config.get("fail_fast").and_then(Value::as_bool).unwrap_or(false);
        Execution::pending(self.run_all(call.input, call.run, timeout, limit, fail_fast))
    }
}

impl ParallelRun {
    async fn run_all(
        &self,
        input: Value,
        run: &RunContext,
        timeout: Duration,
        limit: usize,
        fail_fast: bool,
    ) -> Result<NodeOutput, NodeError> {
        let started = Instant::now();
        // The tasks' own run context: cancelling it stops them, not the run.
        let context = run.with_cancel(run.cancel().child_token());
        let permits = Arc::new(Semaphore::new(limit));
        let mut running = JoinSet::new();
        for index in 0..self.tasks.len() {
            let (tasks, context, permits, input) =
                (self.tasks.clone(), context.clone(), permits.clone(), input.clone());
            running.spawn(async move {
                let result = match permits.acquire_owned().await {
                    Ok(_permit) => tasks[index].call(input, &context).await,
                    Err(_) => Err(NodeError::Cancelled),
                };
                (index, result)
            });
        }
        let mut outcomes: Vec<Option<Result<Value, NodeError>>> = vec![None; self.tasks.len()];
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        loop {
            let joined = tokio::select! {
                joined = running.join_next() => joined,
                () = &mut deadline => break,
                () = run.cancel().cancelled() => return Err(NodeError::Cancelled),
            };
            let Some(joined) = joined else { break };
            let (index, result) = joined.map_err(|e| NodeError::Crashed(format!("a task of `parallel`: {e}")))?;
            if fail_fast && let Err(error) = &result {
                context.cancel().cancel();
                return Err(NodeError::failed(format!(
                    "task `{}` failed: {error}",
                    self.tasks[index].name()
                )));
            }
            outcomes[index] = Some(result.map(|out| out.output));
        }
        context.cancel().cancel();
        running.abort_all();
        let mut results = Vec::new();
        let mut errors = Vec::new();
        for (task, outcome) in self.tasks.iter().zip(outcomes) {
            let name = Value::from(task.name());
            match outcome {
                Some(Ok(result)) => results.push(Value::object([("task", name), ("result", result)])),
                Some(Err(error)) => errors.push(Value::object([
                    ("task", name),
                    ("error", Value::from(error.to_string())),
                ])),
                None if fail_fast => {
                    return Err(NodeError::failed(format!(
                        "task `{}` did not finish within {}",
                        task.name(),
                        format_elapsed(timeout)
                    )));
                }
                None => errors.push(Value::object([
                    ("task", name),
                    ("error", Value::from(NodeError::Timeout(timeout).to_string())),
                ])),
            }
        }
        let summary = Value::object([
            ("total", Value::from(self.tasks.len())),
            ("successful", Value::from(results.len())),
            ("failed", Value::from(errors.len())),
        ]);
        Ok(NodeOutput::new(Value::object([
            ("results", Value::from(results)),
            ("errors", Value::from(errors)),
            ("summary", summary),
            ("duration", Value::from(format_elapsed(started.elapsed()))),
        ])))
    }
}
