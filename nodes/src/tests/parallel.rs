//! `parallel`: real node types, run concurrently.

use std::time::Duration;

use pocket_core::{Format, PocketConfig, parse_str, validate};

use super::{at, json, registry, run_error, run_yaml, validation_errors};

fn parallel(config: &str) -> String {
    format!("name: t\nstart: p\nnodes:\n- name: p\n  type: parallel\n  config:\n{config}")
}

#[tokio::test]
async fn tasks_run_as_real_node_types_on_the_input() {
    let yaml = parallel(
        "    tasks:\n    - {name: greet, type: echo, config: {message: 'hi {{.who}}'}}\n    - {name: shape, operation: transform, config: {jq: '.who | ascii_upcase'}}\n    - {name: pick, type: jsonpath, config: {path: '$.n'}}\n",
    );
    let out = run_yaml(&yaml, r#"{"who": "ada", "n": 3}"#).await;
    assert_eq!(at(&out, "results.0.task"), json(r#""greet""#));
    assert_eq!(at(&out, "results.0.result.message"), json(r#""hi ada""#));
    assert_eq!(at(&out, "results.1.result"), json(r#""ADA""#));
    assert_eq!(at(&out, "results.2.result"), json("3"));
    assert_eq!(
        at(&out, "summary"),
        json(r#"{"total": 3, "successful": 3, "failed": 0}"#)
    );
    assert_eq!(at(&out, "errors"), json("[]"));
}

#[tokio::test(start_paused = true)]
async fn tasks_run_concurrently_up_to_max_concurrency() {
    let tasks = "    tasks:\n    - {name: a, type: delay, config: {duration: 1s}}\n    - {name: b, type: delay, config: {duration: 1s}}\n    - {name: c, type: delay, config: {duration: 1s}}\n";
    let started = tokio::time::Instant::now();
    run_yaml(&parallel(tasks), "{}").await;
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    let started = tokio::time::Instant::now();
    run_yaml(&parallel(&format!("{tasks}    max_concurrency: 2\n")), "{}").await;
    assert_eq!(started.elapsed(), Duration::from_secs(2));
}

const MIXED: &str = "    tasks:\n    - {name: good, type: echo}\n    - {name: bad, type: validate, config: {schema: {required: [id]}}}\n";

#[tokio::test]
async fn a_failing_task_is_reported_in_errors() {
    let out = run_yaml(&parallel(MIXED), "{}").await;
    assert_eq!(
        at(&out, "summary"),
        json(r#"{"total": 2, "successful": 1, "failed": 1}"#)
    );
    assert_eq!(at(&out, "errors.0.task"), json(r#""bad""#));
    assert!(
        at(&out, "errors.0.error")
            .as_str()
            .unwrap()
            .contains("validation failed")
    );
}

#[tokio::test]
async fn fail_fast_fails_the_node() {
    let err = run_error(&parallel(&format!("{MIXED}    fail_fast: true\n")), "{}").await;
    assert!(err.contains("task `bad` failed"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn tasks_unfinished_at_the_timeout_are_errors() {
    let yaml = parallel(
        "    timeout: 100ms\n    tasks:\n    - {name: quick, type: echo}\n    - {name: slow, type: delay, config: {duration: 1h}}\n",
    );
    let out = run_yaml(&yaml, "{}").await;
    assert_eq!(
        at(&out, "errors.0"),
        json(r#"{"task": "slow", "error": "timed out after 100ms"}"#)
    );
    assert_eq!(at(&out, "summary.successful"), json("1"));
}

#[test]
fn task_types_and_configs_are_checked_before_the_run() {
    let err = validation_errors(&parallel("    tasks:\n    - {name: a, type: ecko}\n"));
    assert!(
        err.contains("config at /tasks/0") && err.contains("did you mean `echo`"),
        "{err}"
    );
    let err = validation_errors(&parallel(
        "    tasks:\n    - {name: a, type: delay, config: {duration: soon}}\n",
    ));
    assert!(err.contains("task `a`") && err.contains("invalid duration"), "{err}");
    let err = validation_errors(&parallel(
        "    tasks:\n    - {name: a, type: echo}\n    - {name: a, type: echo}\n",
    ));
    assert!(err.contains("duplicate task name `a`"), "{err}");
    let err = validation_errors(&parallel("    tasks: []\n"));
    assert!(err.contains("config at /tasks"), "{err}");
}

#[test]
fn disabled_builtins_are_refused_inside_parallel_too() {
    let config = PocketConfig::parse("[builtins]\nexec = false\n", std::path::Path::new("/p/pocket.toml")).unwrap();
    let file = parse_str(
        &parallel("    tasks:\n    - {name: a, type: exec, config: {command: ls}}\n"),
        Format::Yaml,
    )
    .unwrap();
    let err = validate(&file, &registry().catalog(), &config)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("node type `exec` is disabled"), "{err}");
}
