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
