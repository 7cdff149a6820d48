//! `pocket run`.

use std::process::ExitCode;

use anyhow::Context;
use std::sync::Arc;

use pocket_cluster::{Cluster, ClusterSettings};
use pocket_core::{Format, NodeExecutor, RunOptions, TraceEntry};
use tokio_util::sync::CancellationToken;

use crate::cli::RunArgs;
use pocket_runtime::Deployment;

pub fn run(deployment: &Deployment, args: RunArgs) -> anyhow::Result<ExitCode> {
    for name in &args.disable_plugin {
        deployment.registry().unregister(name)?;
    }
    let input = crate::input::build(args.input.as_deref(), &args.set)?;
    // Read once: on a cluster, the workers get this very text.
    let source = pocket_core::read_workflow(&args.workflow)?;
    let validated = super::validate::load_source(deployment, &args.workflow, &source)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let cancel = CancellationToken::new();
    let outcome = runtime.block_on(async {
        let on_ctrl_c = cancel.clone();
        let interrupted = pocket_runtime::interrupt_signal();
        tokio::spawn(async move {
            interrupted.await;
            tracing::warn!("interrupted: stopping the run");
            on_ctrl_c.cancel();
        });
        let executor = match &args.cluster.cluster {
            Some(url) => Some(cluster_executor(deployment, &args, url, &validated.graph, &source, &cancel).await?),
            None => None,
        };
        let options = RunOptions {
            cancel: cancel.clone(),
            trace: args.trace,
            observer: None,
            executor,
        };
        anyhow::Ok(pocket_core::run(validated.graph, input, options).await)
    })?;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(pocket_core::RunError::Cancelled) => {
            eprintln!("error: the run was cancelled");
            return Ok(ExitCode::from(130));
        }
        Err(e) => return Err(e.into()),
    };
    if args.trace {
        print_timeline(&outcome.timeline);
    }
    println!("{:#}", outcome.output);
    Ok(ExitCode::SUCCESS)
}

/// The executor that runs this run's nodes (of `graph`, from the workflow
/// text `source`) on the cluster at `url`, once the work queue has room.
async fn cluster_executor(
    deployment: &Deployment,
    args: &RunArgs,
    url: &str,
    graph: &pocket_core::Graph,
    source: &str,
    cancel: &CancellationToken,
) -> anyhow::Result<Arc<dyn NodeExecutor>> {
    let settings = ClusterSettings {
        max_queue_depth: args.cluster.max_queue_depth,
        ..ClusterSettings::default()
    };
    let cluster = Cluster::connect(url, settings).await?;
    cluster.wait_for_room(cancel).await?;
    let run = args.run_id.clone().unwrap_or_else(pocket_runtime::new_run_id);
    tracing::info!(run, "running on the cluster");
    let format = Format::of_path(&args.workflow);
    Ok(pocket_runtime::cluster_executor(cluster, deployment, (source, format), graph, &run).await?)
}

fn print_timeline(timeline: &[TraceEntry]) {
    let width = timeline.iter().map(|t| t.node.len()).max().unwrap_or(4).max(4);
    let type_width = timeline.iter().map(|t| t.node_type.len()).max().unwrap_or(4).max(4);
    eprintln!(
        "{:<width$}  {:<type_width$}  {:>10}  {:>10}  ACTION",
        "NODE", "TYPE", "START", "DURATION"
    );
    for entry in timeline {
        let outcome = match (&entry.action, &entry.error) {
            (Some(action), _) => action.to_string(),
            (None, Some(error)) => format!("failed: {error}"),
            (None, None) => String::new(),
        };
        let retries = if entry.attempts > 1 {
            format!(" ({} attempts)", entry.attempts)
        } else {
            String::new()
        };
        eprintln!(
            "{:<width$}  {:<type_width$}  {:>10}  {:>10}  {outcome}{retries}",
            entry.node,
            entry.node_type,
            format!("{:.3?}", entry.started),
            format!("{:.3?}", entry.duration),
        );
    }
}
