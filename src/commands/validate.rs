//! `pocket validate`.

use std::path::Path;
use std::process::ExitCode;

use pocket_core::Validated;

use crate::host::Host;
use crate::report;

/// Parses and validates `workflow`, printing warnings.
pub fn load(host: &Host, workflow: &Path) -> anyhow::Result<Validated> {
    load_source(host, workflow, &pocket_core::read_workflow(workflow)?)
}

/// [`load`] of `text`, already read from the workflow file at `workflow`.
pub fn load_source(host: &Host, workflow: &Path, text: &str) -> anyhow::Result<Validated> {
    let file = pocket_core::parse_source(workflow, text)?;
    let validated = pocket_core::validate(&file, &host.registry.catalog(), &host.config)?;
    for warning in &validated.warnings {
        report::diagnostic(warning);
    }
    Ok(validated)
}

pub fn validate(host: &Host, workflow: &Path) -> anyhow::Result<ExitCode> {
    let validated = load(host, workflow)?;
    let graph = &validated.graph;
    println!(
        "ok: workflow `{}` is valid ({} nodes, starts at `{}`)",
        graph.name(),
        graph.nodes().len(),
        graph.start().name()
    );
    Ok(ExitCode::SUCCESS)
}
