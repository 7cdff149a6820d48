//! `pocket nodes`.

use std::process::ExitCode;

use pocket_runtime::{Deployment, present};

pub fn nodes(deployment: &Deployment) -> anyhow::Result<ExitCode> {
    crate::report::table(&["TYPE", "PLUGIN", "DESCRIPTION"], &present::node_rows(deployment));
    Ok(ExitCode::SUCCESS)
}
