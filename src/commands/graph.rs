//! `pocket graph`: Mermaid or Graphviz output.

use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;

use pocket_core::{DEFAULT_ACTION, Graph};

use crate::cli::GraphFormat;
use crate::host::Host;

pub fn graph(host: &Host, workflow: &Path, format: GraphFormat) -> anyhow::Result<ExitCode> {
    let validated = super::validate::load(host, workflow)?;
    let text = match format {
        GraphFormat::Mermaid => mermaid(&validated.graph),
        GraphFormat::Dot => dot(&validated.graph),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

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
