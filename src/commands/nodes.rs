//! `pocket nodes`.

use std::process::ExitCode;

use pocket_core::{NodeType, RegisteredPlugin};

use crate::host::Host;

pub fn nodes(host: &Host) -> anyhow::Result<ExitCode> {
    crate::commands::plugin::print_table(&["TYPE", "PLUGIN", "DESCRIPTION"], &node_rows(host));
    Ok(ExitCode::SUCCESS)
}

/// Every node type: the name that means it, its plugin and its description.
pub fn node_rows(host: &Host) -> Vec<[String; 3]> {
    let catalog = host.registry.catalog();
    // A type is listed by its bare name where that name means it, else by
    // its full name `plugin/type` (several plugins provide the bare name).
    let usable_name = |plugin: &RegisteredPlugin, node_type: &dyn NodeType| match catalog.resolve(node_type.name()) {
        Ok(found) if found.plugin == plugin.name => node_type.name().to_string(),
        _ => plugin.full_name(node_type),
    };
    catalog
        .plugins()
        .flat_map(|p| {
            p.node_types.iter().map(move |t| {
                [
                    usable_name(p, t.as_ref()),
                    p.name.to_string(),
                    t.description().to_string(),
                ]
            })
        })
        .collect()
}
