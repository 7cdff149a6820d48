//! Validation: a parsed [`WorkflowFile`] becomes an executable [`Graph`], or
//! a list of every problem found, each with its file, line and a hint.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::PocketConfig;
use crate::diagnostic::{Diagnostic, Severity, ValidationError};
use crate::graph::{Edge, Graph, GraphNode, Join, NodeId};
use crate::location::{Located, Position};
use crate::outcome::DEFAULT_ACTION;
use crate::plugin_call::WorkflowPluginCaller;
use crate::prepare::Preparer;
use crate::prepared::{NodeFactory, NodeRequest};
use crate::registry::Catalog;
use crate::suggest::did_you_mean;
use crate::workflow::WorkflowFile;

/// The loop guard when a workflow sets no `max_steps`.
pub const DEFAULT_MAX_STEPS: u64 = 10_000;

/// A workflow that passed validation, and the warnings it produced.
pub struct Validated {
    /// The executable graph.
    pub graph: Arc<Graph>,
    /// Findings that do not stop the workflow from running.
    pub warnings: Vec<Diagnostic>,
}

/// Validates `file` against the node types in `catalog`, with plugin config,
/// and disabled built-ins, from `config`. Plugin calls made while the graph
/// runs resolve in the same `catalog`.
pub fn validate(
    file: &WorkflowFile,
    catalog: &Arc<Catalog>,
    config: &PocketConfig,
) -> Result<Validated, ValidationError> {
    let mut check = Checker {
        file: file.source.clone(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let names = check.node_names(file);
    let start = check.start(file, &names);
    let routes = check.routes(file, &names);
    let nodes = check.nodes(file, &incoming(file, &routes), catalog, config);
    check.plugin_overrides(file, catalog);
    if let Some(0) = file.max_steps {
        check.error(None, None, "`max_steps` must be at least 1", None);
    }
    let triggers = crate::triggers::check(&file.triggers).unwrap_or_else(|problems| {
        for (position, message, help) in problems {
            check.error(position, None, message, help);
        }
        Vec::new()
    });
    let (Some(start), Some(nodes)) = (start, nodes) else {
        return Err(check.finish());
    };
    if !check.errors.is_empty() {
        return Err(check.finish());
    }
    let mut graph = Graph {
        name: file.name.value.as_str().into(),
        description: file.description.clone(),
        source: file.source.clone(),
        by_name: nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.prepared.name.clone(), i))
            .collect(),
        nodes,
        start,
        store: file.store.clone().unwrap_or_default(),
        max_steps: file.max_steps.unwrap_or(DEFAULT_MAX_STEPS),
        triggers,
        plugin_caller: Arc::new(WorkflowPluginCaller::new(
            catalog.clone(),
            config.clone(),
            file.plugins.clone(),
            file.source
                .as_deref()
                .map(crate::paths::directory_of)
                .map(Path::to_path_buf),
        )),
    };
    for (id, edges) in routes.into_iter().enumerate() {
        graph.nodes[id].edges = edges;
    }
    let successors = flow_successors(&graph);
    check.unreachable(&graph, &successors);
    attach_joins(&mut graph, &successors);
    Ok(Validated {
        graph: Arc::new(graph),
        warnings: check.warnings,
    })
}

/// For each node, the names of the distinct nodes with an edge to it.
fn incoming(file: &WorkflowFile, routes: &[Vec<Edge>]) -> Vec<Vec<String>> {
    let mut incoming: Vec<Vec<String>> = vec![Vec::new(); file.nodes.len()];
    for (from, edges) in routes.iter().enumerate() {
        let name = &file.nodes[from].name.value;
        for &to in edges.iter().flat_map(|edge| &edge.targets) {
            if !incoming[to].contains(name) {
                incoming[to].push(name.clone());
            }
        }
    }
    incoming
}

struct Checker {
    file: Option<PathBuf>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Checker {
    fn push(
        &mut self,
        severity: Severity,
        position: Option<Position>,
        node: Option<&str>,
        message: String,
        help: Option<String>,
    ) {
        let diagnostic = Diagnostic {
            severity,
            file: self.file.clone(),
            position,
            node: node.map(str::to_string),
            message,
            help,
        };
        match severity {
            Severity::Error => self.errors.push(diagnostic),
            Severity::Warning => self.warnings.push(diagnostic),
        }
    }

    fn error(
        &mut self,
        position: Option<Position>,
        node: Option<&str>,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        self.push(Severity::Error, position, node, message.into(), help);
    }

    fn finish(mut self) -> ValidationError {
        self.errors.sort_by_key(|d| d.position);
        ValidationError {
            errors: self.errors,
            warnings: self.warnings,
        }
    }

    /// Maps names to node ids; reports empty workflows and duplicate names.
    fn node_names<'f>(&mut self, file: &'f WorkflowFile) -> HashMap<&'f str, NodeId> {
        if file.name.trim().is_empty() {
            self.error(file.name.position, None, "the workflow's `name` is empty", None);
        }
        if file.nodes.is_empty() {
            self.error(
                None,
                None,
                "the workflow has no nodes",
                Some("add a `nodes:` list".into()),
            );
        }
        let mut names: HashMap<&str, NodeId> = HashMap::new();
        for (id, node) in file.nodes.iter().enumerate() {
            if node.name.trim().is_empty() {
                self.error(node.name.position, None, "a node has an empty `name`", None);
                continue;
            }
            if let Some(&first) = names.get(node.name.as_str()) {
                let first_at = file.nodes[first]
                    .name
                    .position
                    .map(|p| format!(" (first defined at line {})", p.line));
                self.error(
                    node.name.position,
                    Some(&node.name),
                    format!("duplicate node name{}", first_at.unwrap_or_default()),
                    Some("node names must be unique within a workflow; rename one".into()),
                );
            } else {
                names.insert(node.name.as_str(), id);
            }
        }
        names
    }

    fn start(&mut self, file: &WorkflowFile, names: &HashMap<&str, NodeId>) -> Option<NodeId> {
        match &file.start {
            None => {
                let help = file
                    .nodes
                    .first()
                    .map(|n| format!("add `start: {}` (the first node to run)", n.name.value));
                self.error(
                    None,
                    None,
                    "missing `start`: the workflow does not say which node runs first",
                    help,
                );
                None
            }
            Some(start) => self.lookup(names, start, "start node"),
        }
    }

    fn lookup(&mut self, names: &HashMap<&str, NodeId>, wanted: &Located<String>, what: &str) -> Option<NodeId> {
        if let Some(&id) = names.get(wanted.as_str()) {
            return Some(id);
        }
        let help = did_you_mean(wanted, names.keys().copied()).map(|s| format!("did you mean `{s}`?"));
        self.error(
            wanted.position,
            None,
            format!("{what} `{}` does not exist", wanted.value),
            help,
        );
        None
    }

    /// Edges per node, from `connections` and node `successors`.
    fn routes(&mut self, file: &WorkflowFile, names: &HashMap<&str, NodeId>) -> Vec<Vec<Edge>> {
        let mut routes: Vec<Vec<Edge>> = vec![Vec::new(); file.nodes.len()];
        for connection in &file.connections {
            let action = match (&connection.action, &connection.when) {
                (Some(a), Some(w)) if a != w => {
                    self.error(
                        connection.from.position,
                        None,
                        format!(
                            "connection from `{}` has both `action: {a}` and `when: {w}`",
                            connection.from.value
                        ),
                        Some("`when` is a synonym of `action`; keep one".into()),
                    );
                    continue;
                }
                (Some(a), _) | (None, Some(a)) => a.as_str(),
                (None, None) => DEFAULT_ACTION,
            };
            let from = self.lookup(names, &connection.from, "connection source");
            let to = self.lookup(names, &connection.to, "connection target");
            if let (Some(from), Some(to)) = (from, to) {
                add_edge(&mut routes[from], action, to);
            }
        }
        for (id, node) in file.nodes.iter().enumerate() {
            for successor in &node.successors {
                let action = successor.action.as_deref().unwrap_or(DEFAULT_ACTION);
                if let Some(to) = self.lookup(names, &successor.target, "successor") {
                    add_edge(&mut routes[id], action, to);
                }
            }
        }
        routes
    }

    /// Resolves, checks and prepares every node; `None` if any failed.
    fn nodes(
        &mut self,
        file: &WorkflowFile,
        incoming: &[Vec<String>],
        catalog: &Catalog,
        config: &PocketConfig,
    ) -> Option<Vec<GraphNode>> {
        let preparer = Preparer::new(catalog, config, file);
        let mut nodes = Vec::with_capacity(file.nodes.len());
        for (index, (spec, sources)) in file.nodes.iter().zip(incoming).enumerate() {
            let request = NodeRequest {
                name: &spec.name,
                node_type: &spec.node_type,
                config: spec.config.as_ref(),
                timeout: spec.timeout,
                sources,
            };
            let prepared = match preparer.prepare(&request) {
                Ok(prepared) => prepared,
                Err(problems) => {
                    for problem in problems {
                        let at = if problem.is_about_type() {
                            spec.node_type.position
                        } else {
                            problem
                                .config_pointer()
                                .and_then(|pointer| file.config_places.find(index, pointer))
                                .or(spec.name.position)
                        };
                        let help = problem.help();
                        self.error(at, Some(&spec.name), problem.to_string(), help);
                    }
                    continue;
                }
            };
            if let Some(retry) = &spec.retry
                && retry.max_attempts == 0
            {
                self.error(
                    spec.name.position,
                    Some(&spec.name),
                    "`retry.max_attempts` must be at least 1",
                    None,
                );
                continue;
            }
            nodes.push(GraphNode {
                jumps_by_name: prepared.node.jumps_to_named_nodes(),
                prepared,
                retry: spec.retry.clone(),
                edges: Vec::new(),
                join: None,
                position: spec.name.position,
            });
        }
        (nodes.len() == file.nodes.len()).then_some(nodes)
    }

    fn plugin_overrides(&mut self, file: &WorkflowFile, catalog: &Catalog) {
        for name in file.plugins.keys() {
            if catalog.plugin(name).is_none() {
                let help =
                    did_you_mean(name, catalog.plugins().map(|p| &*p.name)).map(|s| format!("did you mean `{s}`?"));
                self.push(
                    Severity::Warning,
                    None,
                    None,
                    format!("`plugins:` configures `{name}`, which is not loaded"),
                    help,
                );
            }
        }
    }

    fn unreachable(&mut self, graph: &Graph, successors: &[Vec<NodeId>]) {
        let mut seen = vec![false; graph.nodes.len()];
        let mut queue = VecDeque::from([graph.start]);
        seen[graph.start] = true;
        while let Some(id) = queue.pop_front() {
            for &next in &successors[id] {
                if !std::mem::replace(&mut seen[next], true) {
                    queue.push_back(next);
                }
            }
        }
        for (node, seen) in graph.nodes.iter().zip(seen) {
            if !seen {
                self.push(
                    Severity::Warning,
                    node.position,
                    Some(node.name()),
                    "unreachable from the start node".into(),
                    Some("connect it, or remove it".into()),
                );
            }
        }
    }
}

fn add_edge(edges: &mut Vec<Edge>, action: &str, to: NodeId) {
    match edges.iter_mut().find(|e| &*e.action == action) {
        Some(edge) if !edge.targets.contains(&to) => edge.targets.push(to),
        Some(_) => {}
        None => edges.push(Edge {
            action: action.into(),
            targets: vec![to],
        }),
    }
}

/// Every node a node can hand over to: its edges, plus, for a node that
/// jumps by name (`conditional`), nodes named by the actions it declares.
fn flow_successors(graph: &Graph) -> Vec<Vec<NodeId>> {
    graph
        .nodes
        .iter()
        .map(|node| {
            let mut next: Vec<NodeId> = node.edges.iter().flat_map(|e| e.targets.iter().copied()).collect();
            let jumps = if node.jumps_by_name {
                node.prepared.node.known_actions()
            } else {
                Vec::new()
            };
            for action in jumps {
                if node.edge(&action).is_none()
                    && let Some(&id) = graph.by_name.get(action.as_str())
                {
                    next.push(id);
                }
            }
            next.sort_unstable();
            next.dedup();
            next
        })
        .collect()
}

/// Marks nodes with several predecessors as joins, with who can reach them.
fn attach_joins(graph: &mut Graph, successors: &[Vec<NodeId>]) {
    let count = graph.nodes.len();
    let mut predecessors: Vec<Vec<NodeId>> = vec![Vec::new(); count];
    for (from, targets) in successors.iter().enumerate() {
        for &to in targets {
            predecessors[to].push(from);
        }
    }
    for (id, sources) in predecessors.iter().enumerate() {
        if sources.len() < 2 {
            continue;
        }
        let mut can_reach = vec![false; count];
        let mut queue: VecDeque<NodeId> = sources.iter().copied().collect();
        for &s in sources {
            can_reach[s] = true;
        }
        while let Some(n) = queue.pop_front() {
            for &p in &predecessors[n] {
                if !std::mem::replace(&mut can_reach[p], true) {
                    queue.push_back(p);
                }
            }
        }
        graph.nodes[id].join = Some(Join {
            sources: sources.clone(),
            can_reach,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::BUILTIN_PLUGIN;
    use crate::node::Node;
    use crate::parse::{Format, parse_str};
    use crate::plugin::{NodeDescription, NodeSetup, NodeType, Plugin, PluginDescription, PluginKind};
    use crate::registry::Registry;
    use crate::testing::{StaticPlugin, constant_type};
    use pocket_value::Value;

    /// A node type with a schema: `{count: integer >= 1 (required), mode: "a"|"b" (default "a")}`.
    struct Strict(NodeDescription);

    impl NodeType for Strict {
        fn description(&self) -> &NodeDescription {
            &self.0
        }
        fn prepare(&self, setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, crate::ConfigError> {
            assert_eq!(
                setup.config.get("mode").and_then(Value::as_str),
                Some("a"),
                "defaults are applied before prepare"
            );
            constant_type("strict", "ok").prepare(setup)
        }
    }

    fn catalog() -> Arc<Catalog> {
        let registry = Registry::new();
        let strict: Arc<dyn NodeType> = Arc::new(Strict(NodeDescription {
            config_schema: Some(serde_json::json!({
                "type": "object",
                "properties": {"count": {"type": "integer", "minimum": 1}, "mode": {"enum": ["a", "b"], "default": "a"}},
                "required": ["count"],
                "additionalProperties": false
            })),
            ..NodeDescription::new("strict", "has a schema")
        }));
        registry
            .register(Arc::new(StaticPlugin::new(
                "test",
                vec![constant_type("echo", "x"), constant_type("router", "y"), strict],
            )))
            .unwrap();
        registry.catalog()
    }

    fn errors(yaml: &str) -> Vec<String> {
        let file = parse_str(yaml, Format::Yaml).unwrap();
        match validate(&file, &catalog(), &PocketConfig::default()) {
            Ok(_) => panic!("expected validation to fail"),
            Err(e) => e.errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn an_unknown_type_is_reported_at_its_line_with_a_suggestion() {
        let errs = errors("name: t\nstart: a\nnodes:\n  - name: a\n    type: ecko\n");
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("line 5:11: error: node `a`: unknown node type `ecko`"),
            "{}",
            errs[0]
        );
        assert!(errs[0].contains("did you mean `echo`?"), "{}", errs[0]);
    }

    #[test]
    fn a_dangling_connection_names_the_missing_node() {
        let errs = errors(
            "name: t\nstart: a\nnodes:\n  - {name: a, type: echo}\n  - {name: b, type: echo}\nconnections:\n  - from: a\n    to: bb\n",
        );
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].contains("line 8") && errs[0].contains("connection target `bb` does not exist"),
            "{}",
            errs[0]
        );
        assert!(errs[0].contains("did you mean `b`?"), "{}", errs[0]);
    }

    #[test]
    fn a_missing_start_suggests_the_first_node() {
        let errs = errors("name: t\nnodes:\n  - {name: first, type: echo}\n");
        assert!(
            errs[0].contains("missing `start`") && errs[0].contains("add `start: first`"),
            "{}",
            errs[0]
        );
    }

    #[test]
    fn a_duplicate_node_points_at_both_definitions() {
        let errs = errors("name: t\nstart: a\nnodes:\n  - {name: a, type: echo}\n  - {name: a, type: echo}\n");
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("line 5:") && errs[0].contains("duplicate node name (first defined at line 4)"),
            "{}",
            errs[0]
        );
    }

    #[test]
    fn schema_violations_give_the_json_path() {
        let errs =
            errors("name: t\nstart: a\nnodes:\n  - name: a\n    type: strict\n    config: {count: 0, extra: 1}\n");
        assert!(errs.iter().any(|e| e.contains("config at /count")), "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("extra")), "{errs:?}");
    }

    #[test]
    fn a_config_error_points_at_the_line_of_its_key() {
        let yaml = "name: t\nstart: b\nnodes:\n  - name: a\n    type: strict\n    config:\n      count: 1\n  - name: b\n    type: strict\n    config:\n      count:\n        0\n";
        let errs = errors(yaml);
        assert!(
            errs.iter().any(|e| e.starts_with("line 12:") && e.contains("/count")),
            "{errs:?}"
        );
    }

    #[test]
    fn a_missing_required_key_is_a_schema_error() {
        let errs = errors("name: t\nstart: a\nnodes:\n  - {name: a, type: strict}\n");
        assert!(errs[0].contains("count") && errs[0].contains("required"), "{errs:?}");
    }

    #[test]
    fn templated_values_pass_the_schema_check_before_the_run() {
        let file = parse_str(
            "name: t\nstart: a\nnodes:\n  - {name: a, type: strict, config: {count: '{{.n}}'}}\n",
            Format::Yaml,
        )
        .unwrap();
        assert!(validate(&file, &catalog(), &PocketConfig::default()).is_ok());
    }

    #[test]
    fn a_broken_template_is_an_error_with_its_path() {
        let errs = errors("name: t\nstart: a\nnodes:\n  - {name: a, type: echo, config: {message: '{{if}}'}}\n");
        assert!(errs[0].contains("config at /message: invalid template"), "{errs:?}");
    }

    #[test]
    fn every_error_is_reported_not_just_the_first() {
        let errs = errors("name: t\nstart: zz\nnodes:\n  - {name: a, type: nope}\n  - {name: a, type: echo}\n");
        assert_eq!(errs.len(), 3, "{errs:?}");
    }

    #[test]
    fn unreachable_nodes_are_warnings() {
        let file = parse_str(
            "name: t\nstart: a\nnodes:\n  - {name: a, type: echo}\n  - {name: island, type: echo}\n",
            Format::Yaml,
        )
        .unwrap();
        let validated = validate(&file, &catalog(), &PocketConfig::default()).unwrap();
        assert_eq!(validated.warnings.len(), 1);
        assert!(validated.warnings[0].to_string().contains("node `island`: unreachable"));
    }

    /// A node type that outputs the plugin config it was prepared with.
    struct ShowsPluginConfig(NodeDescription);

    struct PluginConfigNode(Value);

    impl Node for PluginConfigNode {
        fn exec<'a>(&'a self, _: crate::Invocation<'a>) -> crate::Execution<'a> {
            crate::Execution::Ready(Ok(crate::NodeOutput::new(self.0.clone())))
        }
    }

    impl NodeType for ShowsPluginConfig {
        fn description(&self) -> &NodeDescription {
            &self.0
        }
        fn prepare(&self, setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, crate::ConfigError> {
            Ok(Arc::new(PluginConfigNode(setup.plugin_config.clone())))
        }
    }

    #[tokio::test]
    async fn workflow_plugin_config_overrides_pocket_toml() {
        let registry = Registry::new();
        registry
            .register(Arc::new(StaticPlugin::new(
                "cache",
                vec![Arc::new(ShowsPluginConfig(NodeDescription::new(
                    "show",
                    "outputs its plugin config",
                )))],
            )))
            .unwrap();
        let config = PocketConfig::parse(
            "[plugins.config.cache]\nhost = \"localhost\"\ndatabase = 0\n",
            std::path::Path::new("/p/pocket.toml"),
        )
        .unwrap();
        let file = parse_str(
            "name: t\nstart: a\nplugins:\n  cache: {database: 1}\nnodes:\n  - {name: a, type: show}\n",
            Format::Yaml,
        )
        .unwrap();
        let graph = validate(&file, &registry.catalog(), &config).unwrap().graph;
        let out = crate::run(graph, Value::Null, Default::default()).await.unwrap();
        assert_eq!(
            out.output,
            Value::from_json(r#"{"host": "localhost", "database": 1}"#).unwrap()
        );
    }

    #[test]
    fn plugin_config_for_an_unloaded_plugin_is_a_warning() {
        let file = parse_str(
            "name: t\nstart: a\nplugins:\n  redis-cach: {}\nnodes:\n  - {name: a, type: echo}\n",
            Format::Yaml,
        )
        .unwrap();
        let validated = validate(&file, &catalog(), &PocketConfig::default()).unwrap();
        assert!(
            validated.warnings[0]
                .to_string()
                .contains("`redis-cach`, which is not loaded"),
            "{:?}",
            validated.warnings
        );
    }

    #[test]
    fn disabled_builtins_fail_validation() {
        struct Builtin(Vec<Arc<dyn NodeType>>, PluginDescription);
        impl Plugin for Builtin {
            fn description(&self) -> &PluginDescription {
                &self.1
            }
            fn node_types(&self) -> Vec<Arc<dyn NodeType>> {
                self.0.clone()
            }
        }
        let registry = Registry::new();
        let types = vec![constant_type("exec", "x")];
        let description = PluginDescription::new(BUILTIN_PLUGIN, PluginKind::Builtin, &types);
        registry
            .register_built_in(Arc::new(Builtin(types, description)))
            .unwrap();
        let config = PocketConfig::parse("[builtins]\nexec = false\n", std::path::Path::new("/p/pocket.toml")).unwrap();
        let file = parse_str("name: t\nstart: a\nnodes:\n  - {name: a, type: exec}\n", Format::Yaml).unwrap();
        let err = validate(&file, &registry.catalog(), &config).err().unwrap();
        assert!(err.to_string().contains("node type `exec` is disabled"), "{err}");
    }
}
