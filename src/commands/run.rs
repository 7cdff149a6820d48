//! `pocket run`.

use std::process::ExitCode;

use anyhow::Context;
use pocket_core::{RunOptions, TraceEntry};
use tokio_util::sync::CancellationToken;

use crate::cli::RunArgs;
use crate::host::Host;

pub fn run(host: &Host, args: RunArgs) -> anyhow::Result<ExitCode> {
    for name in &args.disable_plugin {
        host.registry.unregister(name)?;
    }
    let input = crate::input::build(args.input.as_deref(), &args.set)?;
    let validated = super::validate::load(host, &args.workflow)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let cancel = CancellationToken::new();
    let options = RunOptions {
        cancel: cancel.clone(),
        trace: args.trace,
        observer: None,
    };
    let outcome = runtime.block_on(async {
        let on_ctrl_c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                tracing::warn!("interrupted: stopping the run");
                on_ctrl_c.cancel();
            }
        });
        pocket_core::run(validated.graph, input, options).await
    });
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
