//! `pocket validate`.

use std::path::Path;
use std::process::ExitCode;

use pocket_runtime::{Deployment, Validated};

use crate::report;

/// Parses and validates `workflow`, printing warnings.
pub fn load(deployment: &Deployment, workflow: &Path) -> anyhow::Result<Validated> {
    load_source(deployment, workflow, &pocket_core::read_workflow(workflow)?)
}

/// [`load`] of `text`, already read from the workflow file at `workflow`.
pub fn load_source(deployment: &Deployment, workflow: &Path, text: &str) -> anyhow::Result<Validated> {
    let validated = deployment.validate_text(workflow, text)?;
    for warning in &validated.warnings {
        report::diagnostic(warning);
    }
    Ok(validated)
}

pub fn validate(deployment: &Deployment, workflow: &Path) -> anyhow::Result<ExitCode> {
    let validated = load(deployment, workflow)?;
    let graph = &validated.graph;
    println!(
        "ok: workflow `{}` is valid ({} nodes, starts at `{}`)",
        graph.name(),
        graph.nodes().len(),
        graph.start().name()
    );
    Ok(ExitCode::SUCCESS)
}
