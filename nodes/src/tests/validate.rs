//! `validate`.

use pocket_core::{PocketConfig, RunOptions, parse_file, run, validate};

use super::{at, json, registry, run_error, run_yaml, validation_errors};

const USER_SCHEMA: &str = r#"{type: object, required: [name, email], properties: {name: {type: string}, email: {type: string, format: email}, age: {type: integer, minimum: 0}}}"#;

fn routed(extra: &str) -> String {
    format!(
        "name: t\nstart: v\nnodes:\n- {{name: v, type: validate, config: {{schema: {USER_SCHEMA}{extra}}}}}\n- {{name: ok, type: echo, config: {{message: accepted}}}}\n- {{name: ko, type: echo, config: {{message: rejected}}}}\nconnections:\n- {{from: v, to: ok, action: valid}}\n- {{from: v, to: ko, action: invalid}}\n"
    )
}

#[tokio::test]
async fn valid_input_takes_the_valid_action() {
    let out = run_yaml(&routed(""), r#"{"name": "Ada", "email": "ada@example.com"}"#).await;
    assert_eq!(out.get("message"), Some(&json(r#""accepted""#)));
    assert_eq!(at(&out, "input").get("valid"), Some(&json("true")));
    assert_eq!(at(&out, "input").get("errors"), Some(&json("[]")));
}

#[tokio::test]
async fn invalid_input_lists_field_type_and_description_and_takes_the_invalid_action() {
    let out = run_yaml(
        &routed(", fail_on_error: false"),
        r#"{"name": "Ada", "email": "not-an-email", "age": -1}"#,
    )
    .await;
    assert_eq!(out.get("message"), Some(&json(r#""rejected""#)));
    let result = &at(&out, "input");
    assert_eq!(result.get("valid"), Some(&json("false")));
    assert_eq!(result.get("data").and_then(|d| d.get("age")), Some(&json("-1")));
    let errors = result.get("errors").and_then(|e| e.as_array()).unwrap();
    let fields: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| {
            (
                e.get("field").unwrap().as_str().unwrap(),
                e.get("type").unwrap().as_str().unwrap(),
            )
        })
        .collect();
    assert!(fields.contains(&("email", "format")), "formats are checked: {fields:?}");
    assert!(fields.contains(&("age", "minimum")), "{fields:?}");
    assert!(
        errors
            .iter()
            .all(|e| !e.get("description").unwrap().as_str().unwrap().is_empty())
    );
}

#[tokio::test]
async fn by_default_invalid_input_fails_the_node() {
    let err = run_error(&routed(""), r#"{"name": 1}"#).await;
    assert!(
        err.contains("validation failed (2 errors)") && err.contains("email"),
        "{err}"
    );
}

#[test]
fn a_broken_schema_or_none_is_a_config_error() {
    let err = validation_errors(
        "name: t\nstart: v\nnodes:\n- {name: v, type: validate, config: {schema: {type: nonsense}}}\n",
    );
    assert!(err.contains("config at /schema: invalid JSON Schema"), "{err}");
    let err =
        validation_errors("name: t\nstart: v\nnodes:\n- {name: v, type: validate, config: {fail_on_error: false}}\n");
    assert!(err.contains("config at"), "{err}");
}

#[tokio::test]
async fn schema_file_is_read_beside_the_workflow() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("user.schema.yaml"), "type: object\nrequired: [id]\n").unwrap();
    let workflow = dir.path().join("wf.yaml");
    std::fs::write(
        &workflow,
        "name: t\nstart: v\nnodes:\n- {name: v, type: validate, config: {schema_file: user.schema.yaml, fail_on_error: false}}\n",
    )
    .unwrap();
    let file = parse_file(&workflow).unwrap();
    let graph = validate(&file, &registry().catalog(), &PocketConfig::default())
        .unwrap()
        .graph;
    let out = run(graph, json("{}"), RunOptions::default()).await.unwrap().output;
    assert_eq!(out.get("valid"), Some(&json("false")));
    std::fs::write(
        &workflow,
        "name: t\nstart: v\nnodes:\n- {name: v, type: validate, config: {schema_file: nope.json}}\n",
    )
    .unwrap();
    let missing = validate(
        &parse_file(&workflow).unwrap(),
        &registry().catalog(),
        &PocketConfig::default(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(missing.contains("config at /schema_file: cannot read"), "{missing}");
}
