//! A plugin's declared examples ([`Example`]), run through the real
//! validator and runner as one-node workflows of `plugin/type`, and
//! checked or timed: what `pocket plugin test` and `bench` do.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pocket_core::{Example, Format, Graph, NodeType, Plugin, PocketConfig, Registry, RunError, RunOptions, Value};

use crate::{Deployment, Error};

/// What one call gave: its output and action, or its error.
pub type Answer = Result<(Value, String), String>;

/// One plugin, in a registry of its own, whose node types are called as
/// one-node workflows.
pub struct ExampleRunner {
    /// The name its types are reached by (`name/type`).
    name: String,
    /// A registry holding only the plugin, under `name`.
    registry: Registry,
    plugin: Arc<dyn Plugin>,
    config: Arc<PocketConfig>,
}

impl ExampleRunner {
    /// A runner for `plugin`, named `name`, under `deployment`'s pocket.toml
    /// (its limits and permissions).
    pub fn new(deployment: &Deployment, name: &str, plugin: Arc<dyn Plugin>) -> Result<ExampleRunner, Error> {
        let registry = Registry::new();
        registry.register_as(name, plugin.clone())?;
        Ok(ExampleRunner {
            name: name.to_string(),
            registry,
            plugin,
            config: deployment.config().clone(),
        })
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The plugin's node types.
    pub fn node_types(&self) -> Vec<Arc<dyn NodeType>> {
        self.plugin.node_types()
    }

    /// A one-node workflow of `node_type` with `config`, validated against
    /// the plugin (schema, defaults) as a workflow's node would be.
    pub fn workflow(&self, node_type: &str, config: Option<&serde_json::Value>) -> Result<Arc<Graph>, Error> {
        let text = serde_json::json!({
            "name": format!("{}/{node_type}", self.name),
            "start": "example",
            "nodes": [{"name": "example", "type": format!("{}/{node_type}", self.name), "config": config}],
        });
        let file = pocket_core::parse_str(&text.to_string(), Format::Json)?;
        Ok(pocket_core::validate(&file, &self.registry.catalog(), &self.config)?.graph)
    }

    /// Runs `example` of `node_type`: `None` when it gives what the example
    /// says, else why not.
    pub async fn check(&self, node_type: &str, example: &Example) -> Option<String> {
        let answer = match self.workflow(node_type, example.config.as_ref()) {
            Ok(graph) => call(graph, Value::from(example.input.clone())).await,
            Err(invalid) => Err(format!("invalid config: {invalid}")),
        };
        mismatch(example, &answer)
    }

    /// The sorted durations of `calls` calls cycling through `node_type`'s
    /// examples (after a warm-up of one call per example); `None` when it
    /// declares none.
    pub async fn bench(&self, node_type: &dyn NodeType, calls: u32) -> Result<Option<Vec<Duration>>, Error> {
        let runs = node_type
            .examples()
            .iter()
            .map(|e| {
                Ok((
                    self.workflow(node_type.name(), e.config.as_ref())?,
                    Value::from(e.input.clone()),
                ))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        if runs.is_empty() {
            return Ok(None);
        }
        for (graph, input) in &runs {
            let _ = call(graph.clone(), input.clone()).await;
        }
        let mut samples = Vec::with_capacity(calls as usize);
        for (graph, input) in runs.iter().cycle().take(calls as usize) {
            let started = Instant::now();
            let _ = call(graph.clone(), input.clone()).await;
            samples.push(started.elapsed());
        }
        samples.sort();
        Ok(Some(samples))
    }
}

/// Runs the one-node workflow `graph` on `input`: its output and action, or
/// the node's error.
pub async fn call(graph: Arc<Graph>, input: Value) -> Answer {
    let options = RunOptions {
        trace: true,
        ..RunOptions::default()
    };
    match pocket_core::run(graph, input, options).await {
        Ok(outcome) => {
            let action = outcome
                .timeline
                .first()
                .and_then(|t| t.action.as_deref())
                .unwrap_or(pocket_core::DEFAULT_ACTION)
                .to_string();
            Ok((outcome.output, action))
        }
        Err(RunError::NodeFailed(failure)) => Err(failure.error.to_string()),
        Err(other) => Err(other.to_string()),
    }
}

/// Why `answer` does not match `example`, if it does not.
fn mismatch(example: &Example, answer: &Answer) -> Option<String> {
    match (answer, &example.error) {
        (Err(error), Some(expected)) if error.contains(expected.as_str()) => None,
        (Err(error), Some(expected)) => Some(format!("expected an error containing {expected:?}, got: {error}")),
        (Err(error), None) => Some(format!("failed: {error}")),
        (Ok((output, _)), Some(expected)) => Some(format!(
            "expected an error containing {expected:?}, got output {output}"
        )),
        (Ok((output, action)), None) => {
            let expected = example.output.clone().map(Value::from).unwrap_or(Value::Null);
            if *output != expected {
                return Some(format!("expected output {expected}, got {output}"));
            }
            example
                .action
                .as_deref()
                .filter(|want| want != action)
                .map(|want| format!("expected action `{want}`, got `{action}`"))
        }
    }
}

/// The `p`th percentile of sorted `samples`.
pub fn percentile(samples: &[Duration], p: usize) -> Duration {
    let index = (samples.len() * p / 100).min(samples.len().saturating_sub(1));
    samples.get(index).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn example(value: serde_json::Value) -> Example {
        Example::parse_list("t", json!([value])).unwrap().remove(0)
    }

    #[test]
    fn an_answer_matches_its_example_exactly() {
        let ok: Answer = Ok((Value::from(json!({"a": 1})), "default".into()));
        assert_eq!(mismatch(&example(json!({"output": {"a": 1}})), &ok), None);
        assert!(mismatch(&example(json!({"output": {"a": 2}})), &ok).is_some());
        assert!(mismatch(&example(json!({"output": {"a": 1}, "action": "x"})), &ok).is_some());
        assert!(mismatch(&example(json!({"error": "boom"})), &ok).is_some());
        let failed: Answer = Err("it went boom".into());
        assert_eq!(mismatch(&example(json!({"error": "boom"})), &failed), None);
        assert!(
            mismatch(&example(json!({"output": 1})), &failed)
                .unwrap()
                .contains("went boom")
        );
    }

    #[test]
    fn percentiles_pick_from_sorted_samples() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 50), Duration::from_millis(51));
        assert_eq!(percentile(&samples, 99), Duration::from_millis(100));
        assert_eq!(percentile(&[], 99), Duration::ZERO);
    }
}
