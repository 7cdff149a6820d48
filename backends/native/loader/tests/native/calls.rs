//! Native nodes running in workflows: outputs, actions, errors and panics.

use pocket_core::{NodeError, PocketConfig, RunError, Value};

use crate::common::*;

#[tokio::test]
async fn native_nodes_chain_in_a_workflow() {
    let yaml = "name: t\nstart: trim\nnodes:\n  - name: trim\n    type: text-trim\n  - name: upper\n    type: text-upper\n  - name: len\n    type: text-length\nconnections:\n  - {from: trim, to: upper}\n  - {from: upper, to: len}\n";
    let out = run_yaml(
        yaml,
        &[TEXT_TOOLS],
        &PocketConfig::default(),
        r#"{"text":"  héllo  ","id":3}"#,
    )
    .await
    .unwrap();
    assert_eq!(out.to_json(), r#"{"text":"HÉLLO","id":3,"length":5}"#);
}

#[tokio::test]
async fn a_native_node_routes_by_its_action() {
    let yaml = "name: t\nstart: c\nnodes:\n  - name: c\n    type: text-contains\n    config: {pattern: cache}\n  - name: yes\n    type: text-upper\n  - name: no\n    type: text-reverse\nconnections:\n  - {from: c, to: yes, action: match}\n  - {from: c, to: no, action: no_match}\n";
    let config = PocketConfig::default();
    let hit = run_yaml(yaml, &[TEXT_TOOLS], &config, r#"{"text":"a cache"}"#)
        .await
        .unwrap();
    assert_eq!(hit.to_json(), r#"{"text":"A CACHE"}"#);
    let miss = run_yaml(yaml, &[TEXT_TOOLS], &config, r#"{"text":"abc"}"#)
        .await
        .unwrap();
    assert_eq!(miss.to_json(), r#"{"text":"cba"}"#);
}

#[tokio::test]
async fn rendered_config_reaches_the_plugin() {
    let yaml = one_node("text-replace", "{from: \"{{.old}}\", to: \"{{.new}}\"}");
    let out = run_yaml(
        &yaml,
        &[TEXT_TOOLS],
        &PocketConfig::default(),
        r#"{"text":"a-b","old":"-","new":"+"}"#,
    )
    .await
    .unwrap();
    assert_eq!(out.get("text").unwrap().as_str(), Some("a+b"));
}

#[tokio::test]
async fn a_plugin_error_fails_the_node_with_its_message() {
    let error = run_yaml(
        &one_node("text-upper", "{}"),
        &[TEXT_TOOLS],
        &PocketConfig::default(),
        r#"{"n":1}"#,
    )
    .await
    .unwrap_err();
    assert_eq!(
        failure(&error),
        &NodeError::InvalidInput("input.text must be a string".into())
    );
    let error = run_yaml(&one_node("fail", "{}"), &[CRASHY], &PocketConfig::default(), "{}")
        .await
        .unwrap_err();
    assert_eq!(failure(&error), &NodeError::Failed("this node always fails".into()));
}

#[tokio::test]
async fn a_panic_in_a_node_becomes_a_node_error_and_the_host_goes_on() {
    let config = PocketConfig::default();
    let error = run_yaml(&one_node("crash", "{}"), &[CRASHY, TEXT_TOOLS], &config, "{}")
        .await
        .unwrap_err();
    match failure(&error) {
        NodeError::Crashed(message) => {
            assert!(
                message.contains("native plugin `crashy` panicked: boom from a native node"),
                "{message}"
            );
        }
        other => panic!("expected a crash, got {other:?}"),
    }
    // The same library, and another one, still work.
    let error = run_yaml(&one_node("fail", "{}"), &[CRASHY], &config, "{}")
        .await
        .unwrap_err();
    assert!(matches!(failure(&error), NodeError::Failed(_)));
    let out = run_yaml(
        &one_node("text-upper", "{}"),
        &[TEXT_TOOLS],
        &config,
        r#"{"text":"ok"}"#,
    )
    .await
    .unwrap();
    assert_eq!(out.to_json(), r#"{"text":"OK"}"#);
}

#[tokio::test]
async fn a_panic_while_preparing_a_node_is_a_config_error() {
    let config = PocketConfig::default();
    let file = pocket_core::parse_str(&one_node("crash-at-setup", "{}"), pocket_core::Format::Yaml).unwrap();
    let error = pocket_core::validate(&file, &registry(&[CRASHY], &config).catalog(), &config)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("native plugin `crashy` panicked: boom while preparing"),
        "{error}"
    );
}

/// The node error inside a failed run.
fn failure(error: &RunError) -> &NodeError {
    match error {
        RunError::NodeFailed(failure) => &failure.error,
        other => panic!("expected a node failure, got {other}"),
    }
}

#[tokio::test]
async fn a_deep_input_crosses_into_a_plugin_and_back_without_overflowing_a_stack() {
    // The plugin drops the input it gets; 100,000 levels (the deepest value
    // Pocket accepts) dropped recursively would overflow its thread's stack.
    let depth = 100_000;
    let input = format!(
        r#"{{"text": "abc", "deep": {}1{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let out = run_yaml(
        &one_node("text-upper", "{}"),
        &[TEXT_TOOLS],
        &PocketConfig::default(),
        &input,
    )
    .await
    .unwrap();
    assert_eq!(out.get("text").unwrap().as_str(), Some("ABC"));
    assert_eq!(out.depth(usize::MAX), depth + 1);
    // Without a `text` field the plugin fails, dropping the whole input.
    let input = input.replace(r#""text""#, r#""other""#);
    let error = run_yaml(
        &one_node("text-upper", "{}"),
        &[TEXT_TOOLS],
        &PocketConfig::default(),
        &input,
    )
    .await
    .unwrap_err();
    assert!(failure(&error).to_string().contains("text"), "{error}");
}

#[tokio::test]
async fn values_a_plugin_built_outlive_it_and_the_host_can_change_them() {
    // `run_yaml` drops the registry, and with it the plugin and its nodes,
    // before returning: the output's strings and object were allocated by
    // the library and are now owned, read, changed and freed by the host.
    let input = r#"{"text":"straße","keep":[1,{"a":"b"}]}"#;
    let out = run_yaml(
        &one_node("text-upper", "{}"),
        &[TEXT_TOOLS],
        &PocketConfig::default(),
        input,
    )
    .await
    .unwrap();
    let mut object = out.as_object().unwrap().clone();
    object.make_mut().insert("host", Value::from("added"));
    assert_eq!(
        Value::Object(object).to_json(),
        r#"{"text":"STRASSE","keep":[1,{"a":"b"}],"host":"added"}"#
    );
    assert_eq!(out.to_json(), r#"{"text":"STRASSE","keep":[1,{"a":"b"}]}"#);
}
