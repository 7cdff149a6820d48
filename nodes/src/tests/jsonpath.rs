//! `jsonpath`.

use super::{json, run_error, run_yaml, validation_errors};

fn jsonpath(config: &str) -> String {
    format!("name: t\nstart: p\nnodes:\n- {{name: p, type: jsonpath, config: {config}}}\n")
}

const ORDER: &str =
    r#"{"user": {"name": "Ada"}, "items": [{"sku": "a", "price": 10.5}, {"sku": "b", "price": 2}], "tags": ["x"]}"#;

#[tokio::test]
async fn the_first_match_is_the_output() {
    assert_eq!(
        run_yaml(&jsonpath("{path: '$.user.name'}"), ORDER).await,
        json(r#""Ada""#)
    );
    assert_eq!(
        run_yaml(&jsonpath("{path: '$.items[*].sku'}"), ORDER).await,
        json(r#""a""#)
    );
}

#[tokio::test]
async fn multiple_returns_every_match_and_filters_work() {
    let out = run_yaml(&jsonpath("{path: '$.items[*].price', multiple: true}"), ORDER).await;
    assert_eq!(out, json("[10.5, 2]"));
    let out = run_yaml(&jsonpath("{path: '$.items[?@.price > 5].sku', multiple: true}"), ORDER).await;
    assert_eq!(out, json(r#"["a"]"#));
}

#[tokio::test]
async fn one_element_arrays_are_unwrapped_unless_told_not_to() {
    assert_eq!(run_yaml(&jsonpath("{path: '$.tags'}"), ORDER).await, json(r#""x""#));
    assert_eq!(
        run_yaml(&jsonpath("{path: '$.tags', unwrap: false}"), ORDER).await,
        json(r#"["x"]"#)
    );
}

#[tokio::test]
async fn no_match_gives_the_default_or_null_or_an_empty_list() {
    assert_eq!(
        run_yaml(&jsonpath("{path: '$.missing', default: none}"), ORDER).await,
        json(r#""none""#)
    );
    assert_eq!(run_yaml(&jsonpath("{path: '$.missing'}"), ORDER).await, json("null"));
    assert_eq!(
        run_yaml(&jsonpath("{path: '$.missing', multiple: true}"), ORDER).await,
        json("[]")
    );
}

#[tokio::test]
async fn a_templated_path_is_parsed_per_call() {
    let out = run_yaml(&jsonpath("{path: '$.{{.field}}'}"), r#"{"field": "n", "n": 7}"#).await;
    assert_eq!(out, json("7"));
    let err = run_error(&jsonpath("{path: '$.{{.field}}'}"), r#"{"field": "["}"#).await;
    assert!(err.contains("invalid JSONPath"), "{err}");
}

#[test]
fn an_invalid_path_is_a_config_error() {
    let err = validation_errors(&jsonpath("{path: '$.items[?'}"));
    assert!(
        err.contains("config at /path") && err.contains("invalid JSONPath"),
        "{err}"
    );
    let err = validation_errors(&jsonpath("{multiple: true}"));
    assert!(err.contains("path"), "{err}");
}
