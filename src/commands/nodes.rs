//! `pocket nodes`.

use std::process::ExitCode;

use crate::host::Host;

pub fn nodes(host: &Host) -> anyhow::Result<ExitCode> {
    let catalog = host.registry.catalog();
    let rows: Vec<[String; 3]> = catalog
        .plugins()
        .flat_map(|p| {
            p.node_types
                .iter()
                .map(|t| [t.name().to_string(), p.name.to_string(), t.description().to_string()])
        })
        .collect();
    crate::commands::plugin::print_table(&["TYPE", "PLUGIN", "DESCRIPTION"], &rows);
    Ok(ExitCode::SUCCESS)
}
