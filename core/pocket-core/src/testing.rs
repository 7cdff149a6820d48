//! Helpers for tests of Pocket, its backends and plugins (feature
//! `testing`): pocket.toml and JSON from text, one-node workflows, graphs
//! validated against a registry, runs; and small in-memory plugins.

use std::path::Path;
use std::sync::Arc;

use pocket_value::Value;

use crate::config::PocketConfig;
use crate::diagnostic::ValidationError;
use crate::error::ConfigError;
use crate::graph::Graph;
use crate::node::{Execution, Invocation, Node};
use crate::outcome::NodeOutput;
use crate::parse::{Format, parse_str};
use crate::plugin::{NodeDescription, NodeSetup, NodeType, Plugin, PluginDescription, PluginKind};
use crate::registry::Registry;
use crate::runner::{RunError, RunOptions, run};
use crate::validate::validate;

/// pocket.toml from `toml` (as if read from `/tmp/pocket.toml`).
///
/// # Panics
/// If the text is not a valid pocket.toml.
pub fn config(toml: &str) -> PocketConfig {
    PocketConfig::parse(toml, Path::new("/tmp/pocket.toml")).unwrap_or_else(|e| panic!("{e}"))
}

/// A value from JSON text.
///
/// # Panics
/// If the text is not JSON.
pub fn json(text: &str) -> Value {
    Value::from_json(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A workflow of one node `n` of `node_type`, with `config` (YAML flow
/// style, such as `{field: text}`) unless it is empty.
pub fn one_node(node_type: &str, config: &str) -> String {
    let config = if config.is_empty() {
        String::new()
    } else {
        format!("    config: {config}\n")
    };
    format!("name: t\nstart: n\nnodes:\n  - name: n\n    type: {node_type}\n{config}")
}

/// A YAML workflow of `length` nodes of type `node_type` in a row
/// (`n0` -> `n1` -> ...), allowed as many steps as it has nodes.
pub fn chain(node_type: &str, length: usize) -> String {
    let mut yaml = format!("name: chain\nstart: n0\nmax_steps: {}\nnodes:\n", length.max(1));
    for i in 0..length {
        yaml.push_str(&format!("  - {{ name: n{i}, type: {node_type} }}\n"));
    }
    yaml.push_str("connections:\n");
    for i in 1..length {
        yaml.push_str(&format!("  - {{ from: n{}, to: n{i} }}\n", i - 1));
    }
    yaml
}

/// The graph of YAML workflow `yaml`, validated against `registry`'s node
/// types with `config`.
///
/// # Panics
/// If the YAML does not parse.
pub fn graph(yaml: &str, registry: &Registry, config: &PocketConfig) -> Result<Arc<Graph>, ValidationError> {
    let file = parse_str(yaml, Format::Yaml).unwrap_or_else(|e| panic!("{e}"));
    validate(&file, &registry.catalog(), config).map(|validated| validated.graph)
}

/// Runs `graph` on the JSON `input`, cancelling the run (as Ctrl-C does)
/// after `delay`; how the run ended, and when.
pub async fn run_cancelled_after(
    graph: &Arc<Graph>,
    input: &str,
    delay: std::time::Duration,
) -> (Result<Value, RunError>, std::time::Duration) {
    let options = RunOptions::default();
    let cancel = options.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        cancel.cancel();
    });
    let started = std::time::Instant::now();
    let result = run(graph.clone(), json(input), options).await;
    (result.map(|outcome| outcome.output), started.elapsed())
}

/// Runs `graph` on the JSON `input`; its output.
pub async fn run_graph(graph: &Arc<Graph>, input: &str) -> Result<Value, RunError> {
    run(graph.clone(), json(input), RunOptions::default())
        .await
        .map(|outcome| outcome.output)
}

/// A plugin with a fixed list of node types.
pub struct StaticPlugin {
    description: PluginDescription,
    types: Vec<Arc<dyn NodeType>>,
}

impl StaticPlugin {
    /// A plugin `name` providing `types`.
    pub fn new(name: &str, types: Vec<Arc<dyn NodeType>>) -> Self {
        StaticPlugin {
            description: PluginDescription::new(name, PluginKind::Builtin, &types),
            types,
        }
    }
}

impl Plugin for StaticPlugin {
    fn description(&self) -> &PluginDescription {
        &self.description
    }

    fn node_types(&self) -> Vec<Arc<dyn NodeType>> {
        self.types.clone()
    }
}

/// The body of a test node: a closure over the call.
type NodeFn = Arc<dyn Fn(&Invocation<'_>) -> Result<NodeOutput, crate::NodeError> + Send + Sync>;

/// A node type implemented by a closure over (input, config).
pub struct FnType {
    description: NodeDescription,
    f: NodeFn,
}

/// A node type `name` running `f` on each call.
pub fn fn_type(
    name: &str,
    f: impl Fn(&Invocation<'_>) -> Result<NodeOutput, crate::NodeError> + Send + Sync + 'static,
) -> Arc<dyn NodeType> {
    Arc::new(FnType {
        description: NodeDescription::new(name, "test node"),
        f: Arc::new(f),
    })
}

/// A node type that outputs the constant string `value`.
pub fn constant_type(name: &str, value: &str) -> Arc<dyn NodeType> {
    let value = Value::from(value);
    fn_type(name, move |_| Ok(NodeOutput::new(value.clone())))
}

struct FnNode(NodeFn);

impl NodeType for FnType {
    fn description(&self) -> &NodeDescription {
        &self.description
    }

    fn prepare(&self, _setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        Ok(Arc::new(FnNode(self.f.clone())))
    }
}

impl Node for FnNode {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        Execution::Ready((self.0)(&call))
    }
}

/// How a benchmark reports a figure whose target is a ratio to a floor (a
/// raw engine call, a direct function call): runs `measured` and `floor`
/// (each one round of `calls` calls) in alternating rounds, so both see the
/// same machine load, and prints their median time per call, the ratio and
/// `target` (such as `<= 2x`). The medians per call, in nanoseconds.
pub fn print_ratio(
    figure: &str,
    target: &str,
    calls: usize,
    measured: &mut dyn FnMut(),
    floor: &mut dyn FnMut(),
) -> (f64, f64) {
    const ROUNDS: usize = 31;
    let per_call = |round: &mut dyn FnMut()| {
        let started = std::time::Instant::now();
        round();
        started.elapsed().as_nanos() as f64 / calls as f64
    };
    let (mut a, mut b) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    for _ in 0..ROUNDS {
        b.push(per_call(floor));
        a.push(per_call(measured));
    }
    let median = |mut times: Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let (a, b) = (median(a), median(b));
    println!(
        "{figure}: {:.2} us vs {:.2} us floor = {:.2}x (target {target}; median of {ROUNDS} rounds of {calls} calls)",
        a / 1000.0,
        b / 1000.0,
        a / b
    );
    (a, b)
}
