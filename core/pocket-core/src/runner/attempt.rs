//! Calling a prepared node once: render its config against the input, check
//! it, execute within the time limit, catching panics. The runner's retry
//! loop and node types that run other node types call nodes this way.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::FutureExt;
use pocket_value::Value;

use crate::context::RunContext;
use crate::node::{Execution, Invocation};
use crate::outcome::{NodeError, NodeOutput};
use crate::prepared::PreparedNode;

impl PreparedNode {
    /// Calls the node once with `input`: renders its config, then runs it.
    pub async fn call(&self, input: Value, run: &RunContext) -> Result<NodeOutput, NodeError> {
        let config = self.render_config(&input)?;
        self.attempt(input, config, 1, run).await
    }

    /// The config for one call: templates rendered against `input`, then
    /// checked against the schema when templates could change its shape.
    pub fn render_config(&self, input: &Value) -> Result<Value, NodeError> {
        let config = self.config.render(input).map_err(NodeError::InvalidConfig)?;
        if let Some(schema) = &self.config_check
            && let Some(problem) = schema.check(&config, &[]).into_iter().next()
        {
            return Err(NodeError::InvalidConfig(format!(
                "at {}: {}",
                problem.path, problem.message
            )));
        }
        Ok(config)
    }

    /// Runs the node once with a rendered config: within its time limit,
    /// stopped by the run's cancellation, a panic reported as [`NodeError::Crashed`].
    pub async fn attempt(
        &self,
        input: Value,
        config: Value,
        attempt: u32,
        run: &RunContext,
    ) -> Result<NodeOutput, NodeError> {
        let deadline = self.timeout.and_then(|limit| Instant::now().checked_add(limit));
        let call = Invocation {
            input,
            config,
            node: &self.name,
            attempt,
            deadline,
            run,
        };
        let execution = match std::panic::catch_unwind(AssertUnwindSafe(|| self.node.exec(call))) {
            Ok(execution) => execution,
            Err(panic) => return Err(crashed(panic)),
        };
        // Ending after the deadline is a timeout, whatever the node returned:
        // a body that ran in place, or stopped itself at the deadline (a
        // script engine), reads the same as one the runner stopped.
        let late = |result: Result<NodeOutput, NodeError>| match (self.timeout, deadline) {
            (Some(limit), Some(deadline)) if Instant::now() >= deadline => Err(NodeError::Timeout(limit)),
            _ => result,
        };
        let future = match execution {
            Execution::Ready(result) => return late(result),
            Execution::Pending(future) => AssertUnwindSafe(future).catch_unwind(),
        };
        let guarded = async {
            match self.timeout {
                Some(limit) => tokio::time::timeout(limit, future)
                    .await
                    .unwrap_or(Ok(Err(NodeError::Timeout(limit)))),
                None => future.await,
            }
        };
        tokio::select! {
            result = guarded => late(result.unwrap_or_else(|panic| Err(crashed(panic)))),
            () = run.cancel().cancelled() => Err(NodeError::Cancelled),
        }
    }
}

fn crashed(panic: Box<dyn std::any::Any + Send>) -> NodeError {
    let message = panic
        .downcast_ref::<&str>()
        .map(std::string::ToString::to_string)
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string());
    NodeError::Crashed(format!("panicked: {message}"))
}
