//! `pocket plugin test | bench`: a plugin's declared examples, run through
//! the real validator and runner (one-node workflows of `plugin/type`), and
//! checked or timed.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use pocket_core::{Example, Format, Graph, NodeType, Plugin, Registry, RunError, RunOptions, Value};

use crate::commands::plugin_gate::HostGate;
use crate::host::Host;

/// The plugin a command is about: a plugin file, or a loaded plugin's name.
struct Target {
    /// The name its types are reached by (`name/type`).
    name: String,
    /// A registry holding only it, under `name`.
    registry: Registry,
    plugin: Arc<dyn Plugin>,
}

impl Target {
    /// `spec` is a path to a plugin file when one exists there, else the
    /// name of a loaded plugin.
    fn resolve(host: &Host, spec: &str) -> anyhow::Result<Target> {
        let path = Path::new(spec);
        let (name, plugin) = if path.is_file() {
            let plugin = pocket_package::open_unregistered(&HostGate(host), &host.admit(path)?)?;
            (plugin.description().name.clone(), plugin)
        } else if let Some(loaded) = host.registry.catalog().plugin(spec) {
            (loaded.name.to_string(), loaded.plugin.clone())
        } else if let Some(failed) = host.failed_plugins().into_iter().find(|f| f.name == spec) {
            bail!("plugin `{spec}` failed to load: {}", failed.error);
        } else {
            bail!("`{spec}` is neither a plugin file nor a loaded plugin; `pocket plugin list` shows what is loaded");
        };
        let registry = Registry::new();
        registry.register_as(&name, plugin.clone())?;
        Ok(Target { name, registry, plugin })
    }

    /// A one-node workflow of `node_type` with `config`, validated against
    /// the plugin (schema, defaults) as a workflow's node would be.
    fn workflow(&self, host: &Host, node_type: &str, config: Option<&serde_json::Value>) -> anyhow::Result<Arc<Graph>> {
        let text = serde_json::json!({
            "name": format!("{}/{node_type}", self.name),
            "start": "example",
            "nodes": [{"name": "example", "type": format!("{}/{node_type}", self.name), "config": config}],
        });
        let file = pocket_core::parse_str(&text.to_string(), Format::Json)?;
        Ok(pocket_core::validate(&file, &self.registry.catalog(), &host.config)?.graph)
    }
}

/// What one call gave: its output and action, or its error.
type Answer = Result<(Value, String), String>;

async fn call(graph: Arc<Graph>, input: Value) -> Answer {
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

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("cannot start the async runtime")
}

/// `pocket plugin test PATH|NAME`: runs every declared example and prints
/// pass/fail per example; exit 1 when any fails.
pub fn test(host: &Host, spec: &str) -> anyhow::Result<ExitCode> {
    let target = Target::resolve(host, spec)?;
    let runtime = runtime()?;
    let (mut passed, mut failed) = (0, 0);
    for node_type in target.plugin.node_types() {
        let full_name = format!("{}/{}", target.name, node_type.name());
        if node_type.examples().is_empty() {
            println!("{full_name}: no examples declared");
            continue;
        }
        println!("{full_name}:");
        for (i, example) in node_type.examples().iter().enumerate() {
            let answer = match target.workflow(host, node_type.name(), example.config.as_ref()) {
                Ok(graph) => runtime.block_on(call(graph, Value::from(example.input.clone()))),
                Err(invalid) => Err(format!("invalid config: {invalid:#}")),
            };
            match mismatch(example, &answer) {
                None => {
                    passed += 1;
                    println!("  ok    {}", example.label(i));
                }
                Some(why) => {
                    failed += 1;
                    println!("  FAIL  {}: {why}", example.label(i));
                }
            }
        }
    }
    println!("\n{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `pocket plugin test PATH|NAME --input FILE [--config FILE] [--node TYPE]`:
/// one call, its output printed as JSON.
pub fn call_once(
    host: &Host,
    spec: &str,
    input: &Path,
    config: Option<&Path>,
    node: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let target = Target::resolve(host, spec)?;
    let types = target.plugin.node_types();
    let node_type = match node {
        Some(node) => types
            .iter()
            .find(|t| t.name() == node)
            .with_context(|| format!("plugin `{}` has no node type `{node}`", target.name))?,
        None => match types.as_slice() {
            [only] => only,
            _ => bail!(
                "plugin `{}` has several node types ({}); choose one with --node",
                target.name,
                types.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
            ),
        },
    };
    let input = pocket_package::data_file::read(input)?;
    let config = config.map(pocket_package::data_file::read).transpose()?;
    let config = config.map(|c| serde_json::Value::from(&c));
    let graph = target.workflow(host, node_type.name(), config.as_ref())?;
    match runtime()?.block_on(call(graph, input)) {
        Ok((output, action)) => {
            println!("{output:#}");
            if action != pocket_core::DEFAULT_ACTION {
                eprintln!("action: {action}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => bail!("{}/{}: {error}", target.name, node_type.name()),
    }
}

/// `pocket plugin bench PATH|NAME [--calls N]`: per node type with
/// examples, calls/s, p50 and p99 over `calls` calls cycling through its
/// examples (after a warm-up of one call per example).
pub fn bench(host: &Host, spec: &str, calls: u32) -> anyhow::Result<ExitCode> {
    let target = Target::resolve(host, spec)?;
    let runtime = runtime()?;
    let mut rows = Vec::new();
    for node_type in target.plugin.node_types() {
        let full_name = format!("{}/{}", target.name, node_type.name());
        let Some(samples) = bench_type(host, &target, node_type.as_ref(), calls, &runtime)? else {
            rows.push([full_name, "-".into(), "no examples".into(), "-".into(), "-".into()]);
            continue;
        };
        let total: Duration = samples.iter().sum();
        let per_second = samples.len() as f64 / total.as_secs_f64().max(f64::MIN_POSITIVE);
        rows.push([
            full_name,
            samples.len().to_string(),
            format!("{per_second:.0}"),
            format!("{:.1?}", percentile(&samples, 50)),
            format!("{:.1?}", percentile(&samples, 99)),
        ]);
    }
    crate::commands::plugin::print_table(&["NODE TYPE", "CALLS", "CALLS/S", "P50", "P99"], &rows);
    Ok(ExitCode::SUCCESS)
}

/// The sorted durations of `calls` calls of `node_type`'s examples; `None`
/// when it declares none.
fn bench_type(
    host: &Host,
    target: &Target,
    node_type: &dyn NodeType,
    calls: u32,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<Option<Vec<Duration>>> {
    let runs = node_type
        .examples()
        .iter()
        .map(|e| {
            Ok((
                target.workflow(host, node_type.name(), e.config.as_ref())?,
                Value::from(e.input.clone()),
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if runs.is_empty() {
        return Ok(None);
    }
    let samples = runtime.block_on(async {
        for (graph, input) in &runs {
            let _ = call(graph.clone(), input.clone()).await;
        }
        let mut samples = Vec::with_capacity(calls as usize);
        for (graph, input) in runs.iter().cycle().take(calls as usize) {
            let started = Instant::now();
            let _ = call(graph.clone(), input.clone()).await;
            samples.push(started.elapsed());
        }
        samples
    });
    let mut samples = samples;
    samples.sort();
    Ok(Some(samples))
}

/// The `p`th percentile of sorted `samples`.
fn percentile(samples: &[Duration], p: usize) -> Duration {
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
