//! The built-in node types, run through the real parser, validator and runner.

use std::sync::Arc;

use pocket_core::testing::run_graph;
use pocket_core::{Format, Graph, PocketConfig, Registry, RunOptions, Value, parse_str, run, testing, validate};

pub(crate) use pocket_core::testing::json;

use crate::BuiltinPlugin;

mod aggregate;
mod exec;
mod file;
mod http;
mod jsonpath;
mod parallel;
mod store;
mod transform_jq;
mod validate;
mod workflow_files;

/// The value at a dotted path (`a.b.0`), or null.
pub(crate) fn at(value: &Value, path: &str) -> Value {
    path.split('.')
        .try_fold(value, |v, key| match key.parse::<usize>() {
            Ok(i) if v.as_array().is_some() => v.get_index(i),
            _ => v.get(key),
        })
        .cloned()
        .unwrap_or_default()
}

/// The run's error for a workflow that passes validation but fails.
pub(crate) async fn run_error(yaml: &str, input: &str) -> String {
    run_graph(&graph(yaml), input)
        .await
        .expect_err("the run should fail")
        .to_string()
}

pub(crate) fn registry() -> Registry {
    let registry = Registry::new();
    registry.register_built_in(Arc::new(BuiltinPlugin::new())).unwrap();
    registry
}

pub(crate) fn graph(yaml: &str) -> Arc<Graph> {
    testing::graph(yaml, &registry(), &PocketConfig::default()).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn validation_errors(yaml: &str) -> String {
    testing::graph(yaml, &registry(), &PocketConfig::default())
        .err()
        .expect("should be invalid")
        .to_string()
}

pub(crate) async fn run_yaml(yaml: &str, input: &str) -> Value {
    run_graph(&graph(yaml), input).await.unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn echo_without_a_message_says_hello_as_the_go_engine_does() {
    let out = run_yaml("name: t\nstart: e\nnodes:\n- {name: e, type: echo}\n", "{}").await;
    assert_eq!(out.get("message"), Some(&json(r#""Hello from echo node""#)));
}

#[tokio::test]
async fn echo_wraps_input_with_message_and_node_name() {
    let out = run_yaml(
        "name: t\nstart: e\nnodes:\n- {name: e, type: echo, config: {message: 'hi {{.who}}'}}\n",
        r#"{"who": "bob"}"#,
    )
    .await;
    assert_eq!(
        out,
        json(r#"{"message": "hi bob", "input": {"who": "bob"}, "node": "e"}"#)
    );
}

#[tokio::test]
async fn router_takes_the_route_action() {
    let yaml = "name: t\nstart: r\nnodes:\n- {name: r, type: router, config: {route: '{{.kind}}'}}\n- {name: a, type: echo, config: {message: a}}\n- {name: b, type: echo, config: {message: b}}\nconnections:\n- {from: r, to: a, action: alpha}\n- {from: r, to: b, action: beta}\n";
    assert_eq!(
        run_yaml(yaml, r#"{"kind": "beta"}"#).await.get("message"),
        Some(&Value::from("b"))
    );
}

const SCORING: &str = r#"
name: score
start: check-score
nodes:
  - name: check-score
    type: conditional
    config:
      conditions:
        - if: "{{gt .score 0.8}}"
          then: high
        - if: "{{gt .score 0.5}}"
          then: medium
      else: low
  - name: high
    type: echo
    config: {message: high}
  - name: medium
    type: echo
    config: {message: medium}
  - name: low-handler
    type: echo
    config: {message: low}
connections:
  - {from: check-score, to: low-handler, action: low}
"#;

#[tokio::test]
async fn conditional_takes_the_first_holding_condition_or_else() {
    // `high` and `medium` have no edges: the action names the node to jump to.
    assert_eq!(
        run_yaml(SCORING, r#"{"score": 0.9}"#).await.get("message"),
        Some(&Value::from("high"))
    );
    assert_eq!(
        run_yaml(SCORING, r#"{"score": 0.6}"#).await.get("message"),
        Some(&Value::from("medium"))
    );
    assert_eq!(
        run_yaml(SCORING, r#"{"score": 0.1}"#).await.get("message"),
        Some(&Value::from("low"))
    );
}

#[test]
fn conditional_targets_named_by_actions_are_not_reported_unreachable() {
    let file = parse_str(SCORING, Format::Yaml).unwrap();
    let validated = validate(&file, &registry().catalog(), &PocketConfig::default()).unwrap();
    assert!(validated.warnings.is_empty(), "{:?}", validated.warnings);
}

#[tokio::test]
async fn conditional_accepts_else_as_a_list_entry() {
    let yaml = "name: t\nstart: c\nnodes:\n- name: c\n  type: conditional\n  config:\n    conditions:\n    - {if: '{{.flag}}', then: yes}\n    - {else: no}\n- {name: yes, type: echo, config: {message: y}}\n- {name: no, type: echo, config: {message: n}}\n";
    assert_eq!(
        run_yaml(yaml, r#"{"flag": false}"#).await.get("message"),
        Some(&Value::from("n"))
    );
    assert_eq!(
        run_yaml(yaml, r#"{"flag": "yes"}"#).await.get("message"),
        Some(&Value::from("y"))
    );
}

#[test]
fn conditional_without_conditions_is_a_schema_error() {
    let err = validation_errors("name: t\nstart: c\nnodes:\n- {name: c, type: conditional, config: {else: x}}\n");
    assert!(err.contains("conditions"), "{err}");
}

#[tokio::test]
async fn transform_maps_templates_to_values() {
    let yaml = "name: t\nstart: t\nnodes:\n- name: t\n  type: transform\n  config:\n    full: '{{.first}} {{.last}}'\n    tags: '{{.tags}}'\n    count: '{{len .tags}}'\n";
    let out = run_yaml(yaml, r#"{"first": "Ada", "last": "Lovelace", "tags": ["a", "b"]}"#).await;
    assert_eq!(out, json(r#"{"full": "Ada Lovelace", "tags": ["a", "b"], "count": 2}"#));
}

#[tokio::test]
async fn transform_without_a_mapping_returns_the_go_engine_shape() {
    let out = run_yaml(
        "name: t\nstart: t\nnodes:\n- {name: t, type: transform}\n",
        r#"{"a": 1}"#,
    )
    .await;
    assert_eq!(out.get("transformed"), Some(&Value::Bool(true)));
    assert_eq!(out.get("original"), Some(&json(r#"{"a": 1}"#)));
    assert_eq!(out.get("node"), Some(&Value::from("t")));
    assert!(
        out.get("timestamp")
            .and_then(Value::as_i64)
            .is_some_and(|t| t > 1_600_000_000)
    );
}

#[tokio::test]
async fn template_renders_text_json_and_yaml() {
    let text = "name: t\nstart: t\nnodes:\n- name: t\n  type: template\n  config:\n    template: |-\n      {{range $i, $x := .items}}{{if $i}}, {{end}}{{$x}}{{end}}\n";
    assert_eq!(run_yaml(text, r#"{"items": [1, 2, 3]}"#).await, Value::from("1, 2, 3"));
    let as_json = "name: t\nstart: t\nnodes:\n- name: t\n  type: template\n  config:\n    output_format: json\n    template: '{\"total\": {{len .items}}}'\n";
    assert_eq!(run_yaml(as_json, r#"{"items": [1, 2]}"#).await, json(r#"{"total": 2}"#));
    let as_yaml = "name: t\nstart: t\nnodes:\n- name: t\n  type: template\n  config:\n    output_format: yaml\n    template: \"name: {{.n}}\\nok: true\"\n";
    assert_eq!(
        run_yaml(as_yaml, r#"{"n": "x"}"#).await,
        json(r#"{"name": "x", "ok": true}"#)
    );
}

#[test]
fn template_needs_template_or_file() {
    let err =
        validation_errors("name: t\nstart: t\nnodes:\n- {name: t, type: template, config: {output_format: json}}\n");
    assert!(err.contains("node `t`"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn delay_waits_then_passes_its_input_on() {
    let started = tokio::time::Instant::now();
    let out = run_yaml(
        "name: t\nstart: d\nnodes:\n- {name: d, type: delay, config: {duration: 2s}}\n",
        r#"{"a": 1}"#,
    )
    .await;
    assert_eq!(out, json(r#"{"a": 1}"#));
    assert_eq!(started.elapsed(), std::time::Duration::from_secs(2));
}

#[test]
fn a_bad_delay_duration_is_a_config_error() {
    let err = validation_errors("name: t\nstart: d\nnodes:\n- {name: d, type: delay, config: {duration: soon}}\n");
    assert!(
        err.contains("config at /duration") && err.contains("invalid duration"),
        "{err}"
    );
}

#[test]
fn a_ten_thousand_deep_echo_chain_builds_prints_templates_and_drops_on_a_small_stack() {
    let depth = 10_000;
    let g = graph(&pocket_core::testing::chain("echo", depth));
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let out = rt
                .block_on(run(g, json(r#"{"seed": 1}"#), RunOptions::default()))
                .unwrap()
                .output;
            let mut level = &out;
            let mut measured = 0;
            while let Some(inner) = level.get("input") {
                level = inner;
                measured += 1;
            }
            assert_eq!(measured, depth);
            let text = out.to_json();
            assert!(text.len() > depth * 20);
            let template = pocket_template::Template::parse("{{.node}} {{len .input}} {{.}}").unwrap();
            assert!(template.render(&out).unwrap().starts_with("n9999 3 {"));
            drop(out);
        })
        .unwrap()
        .join()
        .unwrap();
}
