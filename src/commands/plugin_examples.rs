//! `pocket plugin test | bench`: a plugin's declared examples, run through
//! the real validator and runner ([`pocket_runtime::examples`]), and
//! checked or timed.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use pocket_core::Value;
use pocket_runtime::Deployment;
use pocket_runtime::examples::{ExampleRunner, call, percentile};

/// The plugin a command is about: `spec` is a path to a plugin file when
/// one exists there, else the name of a loaded plugin.
fn resolve(deployment: &Deployment, spec: &str) -> anyhow::Result<ExampleRunner> {
    let path = Path::new(spec);
    let (name, plugin) = if path.is_file() {
        let plugin = pocket_package::open_unregistered(deployment, &deployment.admit(path)?)?;
        (plugin.description().name.clone(), plugin)
    } else if let Some(loaded) = deployment.registry().catalog().plugin(spec) {
        (loaded.name.to_string(), loaded.plugin.clone())
    } else if let Some(failed) = deployment.failed_plugins().into_iter().find(|f| f.name == spec) {
        bail!("plugin `{spec}` failed to load: {}", failed.error);
    } else {
        bail!("`{spec}` is neither a plugin file nor a loaded plugin; `pocket plugin list` shows what is loaded");
    };
    Ok(ExampleRunner::new(deployment, &name, plugin)?)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("cannot start the async runtime")
}

/// `pocket plugin test PATH|NAME`: runs every declared example and prints
/// pass/fail per example; exit 1 when any fails.
pub fn test(deployment: &Deployment, spec: &str) -> anyhow::Result<ExitCode> {
    let runner = resolve(deployment, spec)?;
    let runtime = runtime()?;
    let (mut passed, mut failed) = (0, 0);
    for node_type in runner.node_types() {
        let full_name = format!("{}/{}", runner.name(), node_type.name());
        if node_type.examples().is_empty() {
            println!("{full_name}: no examples declared");
            continue;
        }
        println!("{full_name}:");
        for (i, example) in node_type.examples().iter().enumerate() {
            match runtime.block_on(runner.check(node_type.name(), example)) {
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
    deployment: &Deployment,
    spec: &str,
    input: &Path,
    config: Option<&Path>,
    node: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let runner = resolve(deployment, spec)?;
    let types = runner.node_types();
    let node_type = match node {
        Some(node) => types
            .iter()
            .find(|t| t.name() == node)
            .with_context(|| format!("plugin `{}` has no node type `{node}`", runner.name()))?,
        None => match types.as_slice() {
            [only] => only,
            _ => bail!(
                "plugin `{}` has several node types ({}); choose one with --node",
                runner.name(),
                types.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
            ),
        },
    };
    let input: Value = pocket_package::data_file::read(input)?;
    let config = config.map(pocket_package::data_file::read).transpose()?;
    let config = config.map(|c| serde_json::Value::from(&c));
    let graph = runner.workflow(node_type.name(), config.as_ref())?;
    match runtime()?.block_on(call(graph, input)) {
        Ok((output, action)) => {
            println!("{output:#}");
            if action != pocket_core::DEFAULT_ACTION {
                eprintln!("action: {action}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => bail!("{}/{}: {error}", runner.name(), node_type.name()),
    }
}

/// `pocket plugin bench PATH|NAME [--calls N]`: per node type with
/// examples, calls/s, p50 and p99 over `calls` calls cycling through its
/// examples (after a warm-up of one call per example).
pub fn bench(deployment: &Deployment, spec: &str, calls: u32) -> anyhow::Result<ExitCode> {
    let runner = resolve(deployment, spec)?;
    let runtime = runtime()?;
    let mut rows = Vec::new();
    for node_type in runner.node_types() {
        let full_name = format!("{}/{}", runner.name(), node_type.name());
        let Some(samples) = runtime.block_on(runner.bench(node_type.as_ref(), calls))? else {
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
    crate::report::table(&["NODE TYPE", "CALLS", "CALLS/S", "P50", "P99"], &rows);
    Ok(ExitCode::SUCCESS)
}
