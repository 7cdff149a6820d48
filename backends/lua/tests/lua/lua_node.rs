//! The `lua` node type's contract: sources, globals, actions, errors, values.

use std::path::Path;
use std::sync::Arc;

use pocket_core::{Graph, PocketConfig, Value, parse_file, validate};

use crate::common::{config, eval, graph_file, graph_with, inline, json, registry, run_graph};

#[tokio::test]
async fn inline_source_sees_input_and_returns_the_output() {
    assert_eq!(
        eval("return { doubled = input.value * 2 }", r#"{"value": 21}"#).await,
        json(r#"{"doubled": 42}"#)
    );
}

#[tokio::test]
async fn a_script_path_is_relative_to_the_workflow_and_its_action_routes() {
    let graph = graph_file("transform.yaml", &PocketConfig::default());
    assert_eq!(
        run_graph(&graph, r#"{"value": 8}"#).await.unwrap(),
        json(r#"{"size": "big", "doubled": 16}"#)
    );
    assert_eq!(
        run_graph(&graph, r#"{"value": 2}"#).await.unwrap(),
        json(r#"{"size": "small", "doubled": 4}"#)
    );
}

#[tokio::test]
async fn a_multi_line_script_value_is_inline_code() {
    let yaml = "name: t\nstart: s\nnodes:\n- name: s\n  type: lua\n  config:\n    script: |\n      local x = input.n\n      return { n = x + 1 }\n";
    let graph = graph_with(yaml, &PocketConfig::default(), &[]).unwrap();
    assert_eq!(run_graph(&graph, r#"{"n": 1}"#).await.unwrap(), json(r#"{"n": 2}"#));
}

#[tokio::test]
async fn a_one_line_script_value_is_code_unless_it_names_a_file() {
    let yaml = "name: t\nstart: s\nnodes:\n- name: s\n  type: lua\n  config:\n    script: return {x = input.n + 1}\n";
    let graph = graph_with(yaml, &PocketConfig::default(), &[]).unwrap();
    assert_eq!(run_graph(&graph, r#"{"n": 1}"#).await.unwrap(), json(r#"{"x": 2}"#));
}

#[tokio::test]
async fn a_script_that_returns_nothing_passes_its_input_on() {
    assert_eq!(
        eval("local unused = input.n * 2", r#"{"n": 3}"#).await,
        json(r#"{"n": 3}"#)
    );
    assert_eq!(
        eval("return nil", r#"{"n": 3}"#).await,
        json("null"),
        "an explicit nil is null"
    );
}

#[tokio::test]
async fn the_config_global_holds_the_nodes_config_and_code_is_not_rendered_as_a_template() {
    let yaml = "name: t\nstart: s\nnodes:\n- name: s\n  type: lua\n  config:\n    greeting: 'hi {{.who}}'\n    source: \"return { text = config.greeting, raw = '{{.who}}' }\"\n";
    let graph = graph_with(yaml, &PocketConfig::default(), &[]).unwrap();
    assert_eq!(
        run_graph(&graph, r#"{"who": "ada"}"#).await.unwrap(),
        json(r#"{"raw": "{{.who}}", "text": "hi ada"}"#)
    );
}

#[tokio::test]
async fn a_runtime_error_fails_the_node_with_file_and_line() {
    let graph = graph_file("failing.yaml", &PocketConfig::default());
    let err = run_graph(&graph, "{}").await.unwrap_err().to_string();
    assert!(err.contains("./scripts/failing.lua:3: boom"), "{err}");
}

#[test]
fn a_syntax_error_is_a_validation_error_with_its_line() {
    let err = graph_with(&inline("local x = 1\nreturn {"), &PocketConfig::default(), &[])
        .err()
        .unwrap();
    assert!(err.contains("config at /source: s:3: unexpected symbol"), "{err}");
}

/// Validates a one-node workflow `wf.yaml` in `dir` whose `lua` node has `config`.
fn script_node_in(dir: &Path, config: &str, pocket: &PocketConfig) -> Result<Arc<Graph>, String> {
    let workflow = dir.join("wf.yaml");
    std::fs::write(
        &workflow,
        format!("name: t\nstart: s\nnodes:\n- {{name: s, type: lua, config: {config}}}\n"),
    )
    .unwrap();
    let file = parse_file(&workflow).unwrap();
    validate(&file, &registry(pocket, &[]).catalog(), pocket)
        .map(|v| v.graph)
        .map_err(|e| e.to_string())
}

#[test]
fn a_missing_script_file_is_a_validation_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = script_node_in(dir.path(), "{file: nowhere.lua}", &PocketConfig::default())
        .err()
        .unwrap();
    assert!(err.contains("cannot read") && err.contains("nowhere.lua"), "{err}");
}

#[tokio::test]
async fn a_script_file_is_read_only_beneath_the_workflow_directory_and_only_with_files_on() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("flows");
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::write(dir.join("lib/ok.lua"), "return {inside = true}").unwrap();
    std::fs::write(root.path().join("outside.lua"), "return {leaked = true}").unwrap();
    std::os::unix::fs::symlink(root.path().join("outside.lua"), dir.join("lib/link.lua")).unwrap();
    let outside = root.path().join("outside.lua").display().to_string();
    let defaults = PocketConfig::default();
    for (config, expected) in [
        ("{file: ../outside.lua}".to_string(), "leads outside"),
        ("{script: lib/../../outside.lua}".to_string(), "leads outside"),
        (format!("{{file: '{outside}'}}"), "is an absolute path"),
        (format!("{{script: '{outside}'}}"), "is an absolute path"),
        ("{file: lib/link.lua}".to_string(), "through a symlink"),
    ] {
        let err = script_node_in(&dir, &config, &defaults).err().unwrap();
        assert!(err.contains(expected), "{config}: {err}");
    }
    let off = config("[builtins]\nfile = false\n");
    let err = script_node_in(&dir, "{file: lib/ok.lua}", &off).err().unwrap();
    assert!(err.contains("[builtins] file = false"), "{err}");
    let graph = script_node_in(&dir, "{script: lib/ok.lua}", &defaults).unwrap();
    assert_eq!(run_graph(&graph, "{}").await.unwrap(), json(r#"{"inside": true}"#));
}

#[test]
fn an_inline_workflow_has_no_directory_to_read_scripts_from() {
    let yaml = "name: t\nstart: s\nnodes:\n- {name: s, type: lua, config: {file: /etc/hostname}}\n";
    let err = graph_with(yaml, &PocketConfig::default(), &[]).err().unwrap();
    assert!(err.contains("sent inline"), "{err}");
}

#[test]
fn a_node_without_code_is_a_validation_error() {
    let err = graph_with(
        "name: t\nstart: s\nnodes:\n- {name: s, type: lua}\n",
        &PocketConfig::default(),
        &[],
    )
    .err()
    .unwrap();
    assert!(err.contains("set one of `source`, `script` or `file`"), "{err}");
}

#[tokio::test]
async fn a_non_string_action_is_an_error() {
    let graph = graph_with(&inline("return {}, 42"), &PocketConfig::default(), &[]).unwrap();
    let err = run_graph(&graph, "{}").await.unwrap_err().to_string();
    assert!(err.contains("the action) must be a string"), "{err}");
}

#[tokio::test]
async fn json_encode_decode_and_null_follow_the_documented_rules() {
    let out = eval(
        r#"
local decoded = json.decode('{"a":[],"b":{},"c":null,"d":[1,null,3]}')
return {
  text = json.encode({ n = 1, f = 1.5, list = { 1, 2 }, empty = {}, arr = json.array() }),
  back = decoded,
  c_is_null = decoded.c == json.null,
  bad = { json.decode("{nope") },
  go = json_encode({ x = 1 }),
}
"#,
        "{}",
    )
    .await;
    assert_eq!(
        out.get("text"),
        Some(&Value::from(r#"{"arr":[],"empty":{},"f":1.5,"list":[1,2],"n":1}"#))
    );
    assert_eq!(
        out.get("back"),
        Some(&json(r#"{"a": [], "b": {}, "c": null, "d": [1, null, 3]}"#))
    );
    assert_eq!(out.get("c_is_null"), Some(&json("true")));
    assert!(out.get("bad").unwrap().to_json().contains("json.decode:"), "{out}");
    assert_eq!(out.get("go"), Some(&Value::from(r#"{"x":1}"#)));
}

#[tokio::test]
async fn input_values_keep_integers_floats_and_empty_arrays() {
    let out = eval(
        "return input",
        r#"{"i": 3, "f": 2.5, "z": 1.0, "a": [], "o": {}, "n": null}"#,
    )
    .await;
    assert_eq!(out.to_json(), r#"{"a":[],"f":2.5,"i":3,"n":null,"o":{},"z":1.0}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_thousand_deep_input_passes_through_a_script() {
    let mut input = Value::from(1);
    for _ in 0..10_000 {
        input = Value::object([("x", input)]);
    }
    let graph = graph_with(&inline("return input"), &PocketConfig::default(), &[]).unwrap();
    let out = pocket_core::run(graph, input.clone(), Default::default())
        .await
        .unwrap()
        .output;
    assert_eq!(out, input);
}

#[tokio::test]
async fn os_time_and_date_work() {
    let out = eval(
        "return { t = os.time() , d = os.date('!%Y-%m-%d', 86400), c = os.clock() >= 0 }",
        "{}",
    )
    .await;
    assert!(
        out.get("t").and_then(Value::as_i64).is_some_and(|t| t > 1_600_000_000),
        "{out}"
    );
    assert_eq!(out.get("d"), Some(&Value::from("1970-01-02")));
}

#[tokio::test]
async fn the_go_engine_helpers_behave_like_go() {
    let out = eval(
        r#"
return {
  split = str_split("a,b,,c", ","),
  chars = str_split("hé", ""),
  trim = str_trim("  x y \n"),
  contains = { str_contains("hello", "ell"), str_contains("a.b", ".") , str_contains("ab", "%w") },
  replace = { str_replace("a-a-a", "-", "+"), str_replace("a-a-a", "-", "+", 1), str_replace("x%y", "%", "%%") },
  types = { type_of(json.null), type_of({}), type_of(1), type_of("s") },
}
"#,
        "{}",
    )
    .await;
    let expected = r#"{"chars":["h","é"],"contains":[true,true,false],"replace":["a+a+a","a+a-a","x%%y"],"split":["a","b","","c"],"trim":"x y","types":["null","table","number","string"]}"#;
    assert_eq!(out.to_json(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_branches_run_the_same_script_concurrently() {
    let mut yaml =
        String::from("name: t\nstart: split\nnodes:\n- {name: split, type: lua, config: {source: 'return input'}}\n");
    for i in 0..8 {
        yaml.push_str(&format!("- {{name: b{i}, type: lua, config: {{source: 'local s = 0 for k = 1, 100000 do s = s + k end return {{ s = s, i = {i} }}'}}}}\n"));
    }
    yaml.push_str("connections:\n");
    for i in 0..8 {
        yaml.push_str(&format!("- {{from: split, to: b{i}}}\n"));
    }
    let graph = graph_with(&yaml, &PocketConfig::default(), &[]).unwrap();
    let out = run_graph(&graph, "{}").await.unwrap();
    for i in 0..8 {
        assert_eq!(
            out.get(&format!("b{i}")).and_then(|b| b.get("s")),
            Some(&Value::from(5_000_050_000i64))
        );
    }
}
