//! `aggregate`.

use super::{at, json, run_error, run_yaml, validation_errors};

fn aggregate(config: &str) -> String {
    format!("name: t\nstart: a\nnodes:\n- {{name: a, type: aggregate, config: {config}}}\n")
}

#[tokio::test]
async fn an_array_input_is_collected_counted_and_complete() {
    let out = run_yaml(&aggregate("{}"), "[1, 2, 3]").await;
    assert_eq!(out, json(r#"{"data": [1, 2, 3], "count": 3, "complete": true}"#));
}

#[tokio::test]
async fn object_mode_keys_items_by_the_key_template() {
    let out = run_yaml(
        &aggregate("{mode: object, key: '{{.type}}'}"),
        r#"[{"type": "user", "n": 1}, {"type": "product", "n": 2}]"#,
    )
    .await;
    assert_eq!(
        at(&out, "data"),
        json(r#"{"user": {"type": "user", "n": 1}, "product": {"type": "product", "n": 2}}"#)
    );
}

#[tokio::test]
async fn merge_deep_merges_and_concat_flattens() {
    let out = run_yaml(
        &aggregate("{mode: merge}"),
        r#"{"data": [{"user": "ada", "settings": {"theme": "dark"}}, {"role": "admin", "settings": {"lang": "en"}}]}"#,
    )
    .await;
    assert_eq!(
        at(&out, "data"),
        json(r#"{"user": "ada", "settings": {"theme": "dark", "lang": "en"}, "role": "admin"}"#)
    );
    let out = run_yaml(&aggregate("{mode: concat}"), "[[1, 2], 3, [4]]").await;
    assert_eq!(at(&out, "data"), json("[1, 2, 3, 4]"));
}

const FAN_IN: &str = "name: t\nstart: split\nnodes:\n- {name: split, type: router}\n- {name: left, type: transform, config: {side: left, n: '{{.n}}'}}\n- {name: right, type: transform, config: {side: right, extra: true}}\n- {name: join, type: aggregate, config: {mode: MODE}}\nconnections:\n- {from: split, to: left}\n- {from: split, to: right}\n- {from: left, to: join}\n- {from: right, to: join}\n";

#[tokio::test]
async fn a_fan_in_is_aggregated_by_source_name() {
    let out = run_yaml(&FAN_IN.replace("MODE", "object"), r#"{"n": 1}"#).await;
    assert_eq!(
        out,
        json(
            r#"{"data": {"left": {"side": "left", "n": 1}, "right": {"side": "right", "extra": true}}, "count": 2, "complete": true}"#
        )
    );
    let merged = run_yaml(&FAN_IN.replace("MODE", "merge"), r#"{"n": 1}"#).await;
    assert_eq!(at(&merged, "count"), json("2"));
    assert_eq!(at(&merged, "data.extra"), json("true"));
}

#[tokio::test]
async fn a_count_not_reached_fails_unless_partial() {
    let err = run_error(&aggregate("{count: 3}"), "[1]").await;
    assert!(err.contains("expected 3 items, got 1"), "{err}");
    let out = run_yaml(&aggregate("{count: 3, partial: true}"), "[1]").await;
    assert_eq!(at(&out, "complete"), json("false"));
}

#[test]
fn an_unknown_mode_is_a_config_error() {
    let err = validation_errors(&aggregate("{mode: sum}"));
    assert!(err.contains("config at /mode"), "{err}");
}
