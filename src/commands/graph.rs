//! `pocket graph`: Mermaid or Graphviz output.

use std::path::Path;
use std::process::ExitCode;

use pocket_runtime::{Deployment, present};

use crate::cli::GraphFormat;

pub fn graph(deployment: &Deployment, workflow: &Path, format: GraphFormat) -> anyhow::Result<ExitCode> {
    let validated = super::validate::load(deployment, workflow)?;
    let text = match format {
        GraphFormat::Mermaid => present::mermaid(&validated.graph),
        GraphFormat::Dot => present::dot(&validated.graph),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
