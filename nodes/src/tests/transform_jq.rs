//! `transform` with a `jq` program.

use pocket_core::testing::run_cancelled_after;

use super::{graph, json, run_error, run_yaml, validation_errors};

fn jq(program: &str) -> String {
    format!("name: t\nstart: t\nnodes:\n- name: t\n  type: transform\n  config:\n    jq: '{program}'\n")
}

#[tokio::test]
async fn a_jq_program_reshapes_the_input() {
    let out = run_yaml(
        &jq("{names: [.users[].name], adults: [.users[] | select(.age >= 18) | .name], count: (.users | length)}"),
        r#"{"users": [{"name": "ada", "age": 36}, {"name": "tim", "age": 12}]}"#,
    )
    .await;
    assert_eq!(out, json(r#"{"names": ["ada", "tim"], "adults": ["ada"], "count": 2}"#));
}

#[tokio::test]
async fn several_outputs_become_an_array_and_none_is_null() {
    assert_eq!(
        run_yaml(&jq(".items[] * 2"), r#"{"items": [1, 2.5]}"#).await,
        json("[2, 5.0]")
    );
    assert_eq!(run_yaml(&jq("empty"), "{}").await, json("null"));
}

#[tokio::test]
async fn the_jq_key_is_not_rendered_as_a_template() {
    assert_eq!(run_yaml(&jq("\"{{.x}}\""), r#"{"x": 1}"#).await, json(r#""{{.x}}""#));
}

#[test]
fn a_jq_syntax_error_is_reported_before_the_run_with_its_position() {
    let err = validation_errors(&jq(".a |\n  | .b"));
    assert!(err.contains("config at /jq") && err.contains("line 1 column"), "{err}");
}

#[test]
fn an_undefined_jq_function_is_a_config_error() {
    let err = validation_errors(&jq(".a | frobnicate"));
    assert!(err.contains("undefined filter `frobnicate`"), "{err}");
}

#[test]
fn jq_with_other_keys_is_refused() {
    let err =
        validation_errors("name: t\nstart: t\nnodes:\n- {name: t, type: transform, config: {jq: '.', extra: 1}}\n");
    assert!(err.contains("`jq` computes the whole output"), "{err}");
}

#[tokio::test]
async fn a_jq_runtime_error_fails_the_node() {
    let err = run_error(&jq(".a + 1"), r#"{"a": "text"}"#).await;
    assert!(err.contains("node `t`") && err.contains("jq:"), "{err}");
}

#[tokio::test]
async fn an_endless_jq_generator_stops_at_the_nodes_timeout_or_output_cap() {
    // `range(1e18)` yields without end: the run stops between two outputs.
    let yaml =
        "name: t\nstart: t\nnodes:\n- name: t\n  type: transform\n  timeout: 300ms\n  config:\n    jq: 'range(1e18)'\n";
    let started = std::time::Instant::now();
    let err = run_error(yaml, "{}").await;
    assert!(
        err.contains("timed out after 300ms") || err.contains("more than 1000000 outputs"),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

/// A workflow of one jq node with `timeout` (none when empty).
fn jq_with_timeout(program: &str, timeout: &str) -> String {
    let timeout = if timeout.is_empty() {
        String::new()
    } else {
        format!("  timeout: {timeout}\n")
    };
    format!("name: t\nstart: t\nnodes:\n- name: t\n  type: transform\n{timeout}  config:\n    jq: '{program}'\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_inside_one_jq_output_stops_at_the_timeout() {
    // None of these yields a single output: the run is stopped from inside jaq.
    for program in [
        "def f: f; f",
        "last(range(1e15))",
        "reduce range(1e15) as $x (0; . + $x)",
        "until(false; .)",
        "[recurse(. + 1)] | length",
    ] {
        let started = std::time::Instant::now();
        let err = run_error(&jq_with_timeout(program, "300ms"), "1").await;
        assert!(err.contains("timed out after 300ms"), "{program}: {err}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{program} took {:?}",
            started.elapsed()
        );
    }
    let out = run_yaml(&jq_with_timeout("[range(0; 10; 3)] + [range(5; 0; -2)]", "300ms"), "1").await;
    assert_eq!(out, json("[0, 3, 6, 9, 5, 3, 1]"), "range still counts as jq's does");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jq_program_collecting_without_end_stops_at_the_memory_limit() {
    // Without a memory limit these grow until the deadline (an hour here).
    for program in ["[range(1e9)] | length", "[range(1e9) | {a: .}] | length"] {
        let err = run_error(&jq_with_timeout(program, "1h"), "1").await;
        assert!(err.contains("allocated more than 268435456 bytes"), "{program}: {err}");
    }
    assert_eq!(
        run_yaml(&jq_with_timeout("[range(1e5)] | length", ""), "1").await,
        json("100000"),
        "the host goes on, and smaller collections are fine"
    );
}

#[tokio::test]
async fn endless_jq_recursion_fails_cleanly_instead_of_overflowing_the_stack() {
    let err = run_error(&jq_with_timeout("def f: 1 + f; f", ""), "1").await;
    assert!(err.contains("recursed too deeply"), "{err}");
    assert_eq!(
        run_yaml(&jq_with_timeout(". + 1", ""), "1").await,
        json("2"),
        "the host goes on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_run_stops_a_jq_program_mid_output() {
    let graph = graph(&jq_with_timeout("last(range(1e15))", ""));
    let (result, took) = run_cancelled_after(&graph, "1", std::time::Duration::from_millis(200)).await;
    let err = result.expect_err("the run was cancelled").to_string();
    assert!(err.contains("cancelled"), "{err}");
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
}

/// `[[[ ... 1 ... ]]]`, `depth` arrays deep, as JSON text.
fn nested_arrays(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_inputs_run_on_a_stack_with_room_or_are_refused() {
    // 9,000 levels: jq, jsonpath and validate walk them recursively.
    let deep = nested_arrays(9_000);
    let out = run_yaml(&jq("[.. | numbers] | length"), &deep).await;
    assert_eq!(out, json("1"));
    let jsonpath = "name: t\nstart: p\nnodes:\n- {name: p, type: jsonpath, config: {path: '$[0][0]'}}\n";
    assert!(run_yaml(jsonpath, &deep).await.as_array().is_some());
    let validate = "name: t\nstart: v\nnodes:\n- {name: v, type: validate, config: {schema: {type: array}}}\n";
    assert_eq!(run_yaml(validate, &deep).await.get("valid"), Some(&json("true")));
    // 200,000 levels: refused with a clear error, the host unharmed.
    let deeper = nested_arrays(200_000);
    for workflow in [jq("length"), jsonpath.to_string(), validate.to_string()] {
        let err = run_error(&workflow, &deeper).await;
        assert!(err.contains("nests more than 10000 levels deep"), "{err}");
    }
    assert_eq!(run_yaml(&jq(". + 1"), "1").await, json("2"), "the next run works");
}

#[test]
fn a_schema_nested_too_deeply_is_a_config_error() {
    // (YAML workflows are held to 64 levels by their parser; a JSON schema file is not.)
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deep.json");
    let schema = format!(
        "{}{{}}{}",
        r#"{"type": "array", "items": "#.repeat(200),
        "}".repeat(200)
    );
    std::fs::write(&file, schema).unwrap();
    let workflow = dir.path().join("wf.yaml");
    std::fs::write(
        &workflow,
        "name: t\nstart: v\nnodes:\n- {name: v, type: validate, config: {schema_file: deep.json}}\n",
    )
    .unwrap();
    let parsed = pocket_core::parse_file(&workflow).unwrap();
    let err = pocket_core::validate(
        &parsed,
        &super::registry().catalog(),
        &pocket_core::PocketConfig::default(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("nests more than 128 levels deep"), "{err}");
}
