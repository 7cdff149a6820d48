//! How a deployment's workflows, plugins and node types are shown, the same
//! in the CLI and the server: graphs as Mermaid, Graphviz or data; plugins
//! and node types as rows or JSON.

use std::fmt::Write;

use pocket_core::{Capability, DEFAULT_ACTION, Graph, NodeType, Permissions, RegisteredPlugin};

use crate::Deployment;

/// A Mermaid flowchart; edges other than `default` are labelled with their action.
pub fn mermaid(graph: &Graph) -> String {
    let mut out = String::from("flowchart TD\n");
    for (id, node) in graph.nodes().iter().enumerate() {
        let label = format!("{}<br/><i>{}</i>", node.name(), node.type_name()).replace('"', "#quot;");
        let shape = if node.name() == graph.start().name() {
            ("([", "])")
        } else {
            ("[", "]")
        };
        let _ = writeln!(out, "    n{id}{}\"{label}\"{}", shape.0, shape.1);
    }
    for (id, node) in graph.nodes().iter().enumerate() {
        for edge in node.edges() {
            for target in &edge.targets {
                match &*edge.action {
                    DEFAULT_ACTION => {
                        let _ = writeln!(out, "    n{id} --> n{target}");
                    }
                    action => {
                        let _ = writeln!(out, "    n{id} -->|{}| n{target}", action.replace('|', "#124;"));
                    }
                }
            }
        }
    }
    out
}

/// The graph as data, for drawing: the start node, every node with its
/// type and plugin, every edge with its action.
pub fn graph_json(graph: &Graph) -> serde_json::Value {
    let nodes: Vec<serde_json::Value> = graph
        .nodes()
        .iter()
        .map(|node| serde_json::json!({ "name": node.name(), "type": node.type_name(), "plugin": node.plugin() }))
        .collect();
    let mut edges = Vec::new();
    for node in graph.nodes() {
        for edge in node.edges() {
            for &target in &edge.targets {
                edges.push(serde_json::json!({
                    "from": node.name(),
                    "to": graph.nodes()[target].name(),
                    "action": &*edge.action,
                }));
            }
        }
    }
    serde_json::json!({ "start": graph.start().name(), "nodes": nodes, "edges": edges })
}

/// A Graphviz digraph; edges other than `default` are labelled with their action.
pub fn dot(graph: &Graph) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = format!(
        "digraph {} {{\n    rankdir=TB;\n    node [shape=box];\n",
        quote(graph.name())
    );
    for node in graph.nodes() {
        let style = if node.name() == graph.start().name() {
            ", style=bold"
        } else {
            ""
        };
        let label = quote(&format!("{}\n({})", node.name(), node.type_name()));
        let _ = writeln!(out, "    {} [label={label}{style}];", quote(node.name()));
    }
    for node in graph.nodes() {
        for edge in node.edges() {
            for &target in &edge.targets {
                let to = quote(graph.nodes()[target].name());
                match &*edge.action {
                    DEFAULT_ACTION => {
                        let _ = writeln!(out, "    {} -> {to};", quote(node.name()));
                    }
                    action => {
                        let _ = writeln!(out, "    {} -> {to} [label={}];", quote(node.name()), quote(action));
                    }
                }
            }
        }
    }
    out.push_str("}\n");
    out
}

/// Every plugin as data: each one registered (name, kind, version, status
/// `loaded`, description, author, source file, node types, and the error of
/// a failed reload while an earlier version serves), then each plugin file
/// that failed to load with nothing registered (status `failed`, the error).
pub fn plugins_json(deployment: &Deployment) -> Vec<serde_json::Value> {
    let catalog = deployment.registry().catalog();
    let failed = deployment.failed_plugins();
    // A file that failed to load again while an earlier version serves.
    let reload_error = |name: &str| failed.iter().find(|f| f.name == name).map(|f| f.error.reason());
    let loaded = catalog.plugins().map(|p| {
        let m = p.description();
        let mut entry = serde_json::json!({
            "name": &*p.name,
            "type": m.kind,
            "version": m.version,
            "status": "loaded",
            "description": m.description,
            "author": m.author,
            "source": m.source,
            "nodes": p.node_types.iter().map(|t| t.name()).collect::<Vec<_>>(),
        });
        if let Some(error) = reload_error(&p.name) {
            entry["reload_error"] = error.into();
        }
        entry
    });
    let failures = failed.iter().filter(|f| catalog.plugin(&f.name).is_none()).map(|f| {
        serde_json::json!({
            "name": f.name,
            "type": f.kind,
            "version": null,
            "status": "failed",
            "error": f.error.reason(),
            "source": f.error.path,
            "nodes": [],
        })
    });
    loaded.chain(failures).collect()
}

/// Every node type: the name that means it, its plugin and its description.
pub fn node_rows(deployment: &Deployment) -> Vec<[String; 3]> {
    let catalog = deployment.registry().catalog();
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
                    t.description().description.clone(),
                ]
            })
        })
        .collect()
}

/// What a plugin declares, what pocket.toml grants it, and, when the grants
/// fall short, the pocket.toml line that would grant the rest.
pub fn permission_report(name: &str, permissions: &Permissions) -> Vec<String> {
    let list = |caps: &[Capability]| {
        if caps.is_empty() {
            "none".to_string()
        } else {
            caps.iter().map(Capability::to_string).collect::<Vec<_>>().join(", ")
        }
    };
    let mut lines = Vec::new();
    match permissions.declared() {
        Some(declared) => lines.push(format!("permissions declared: {}", list(declared))),
        None => lines.push("permissions declared: (built into Pocket: its grants apply)".to_string()),
    }
    lines.push(format!("permissions granted: {}", list(permissions.granted())));
    let missing = permissions.missing();
    if !missing.is_empty() {
        let wanted: Vec<String> = permissions
            .granted()
            .iter()
            .chain(missing.iter().copied())
            .map(|c| format!("{:?}", c.to_string()))
            .collect();
        lines.push(format!(
            "not granted: {}; to grant them, in pocket.toml under [plugins.permissions]:\n  {name} = [{}]",
            missing
                .iter()
                .map(std::string::ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            wanted.join(", ")
        ));
    }
    lines
}
