//! `set` and `get` over the run's store.

use super::{at, json, run_error, run_yaml, validation_errors};

const CACHE: &str = "name: t\nstart: remember\nSTORE\nnodes:\n- {name: remember, type: set, config: {key: 'user:{{.id}}', value: '{{.name}}'}}\nPAUSE\n- {name: lookup, type: get, config: {key: 'user:{{.id}}'}}\n- {name: hit, type: echo, config: {message: hit}}\n- {name: miss, type: echo, config: {message: miss}}\nconnections:\n- {from: remember, to: NEXT}\nPAUSE_EDGE\n- {from: lookup, to: hit, action: found}\n- {from: lookup, to: miss, action: not_found}\n";

fn cache(store: &str, pause: bool) -> String {
    CACHE
        .replace("STORE", store)
        .replace("PAUSE_EDGE", if pause { "- {from: wait, to: lookup}" } else { "" })
        .replace(
            "PAUSE",
            if pause {
                "- {name: wait, type: delay, config: {duration: 30ms}}"
            } else {
                ""
            },
        )
        .replace("NEXT", if pause { "wait" } else { "lookup" })
}

#[tokio::test]
async fn a_value_set_is_found_by_get() {
    let out = run_yaml(&cache("", false), r#"{"id": 7, "name": "ada"}"#).await;
    assert_eq!(out, json(r#"{"message": "hit", "input": "ada", "node": "hit"}"#));
}

#[tokio::test]
async fn an_expired_value_is_not_found_and_the_input_passes_on() {
    let out = run_yaml(&cache("store: {ttl: 5ms}", true), r#"{"id": 7, "name": "ada"}"#).await;
    assert_eq!(at(&out, "message"), json(r#""miss""#));
    assert_eq!(at(&out, "input"), json(r#"{"id": 7, "name": "ada"}"#));
}

#[tokio::test]
async fn set_passes_its_input_on_and_defaults_to_storing_it() {
    let yaml = "name: t\nstart: s\nstore: {max_entries: 1}\nnodes:\n- {name: s, type: set, config: {key: a}}\n- {name: s2, type: set, config: {key: b, value: 2}}\n- {name: g, type: get, config: {key: a}}\nconnections:\n- {from: s, to: s2}\n- {from: s2, to: g}\n";
    // max_entries 1: setting `b` evicted `a`.
    let out = run_yaml(yaml, r#"{"x": 1}"#).await;
    assert_eq!(out, json(r#"{"x": 1}"#));
    let yaml = "name: t\nstart: s\nnodes:\n- {name: s, type: set, config: {key: a}}\n- {name: g, type: get, config: {key: a}}\nconnections:\n- {from: s, to: g}\n";
    assert_eq!(run_yaml(yaml, r#"{"x": 1}"#).await, json(r#"{"x": 1}"#));
}

#[tokio::test]
async fn a_key_must_render_to_a_non_empty_string() {
    let yaml = "name: t\nstart: g\nnodes:\n- {name: g, type: get, config: {key: 'user:{{.id}}'}}\n";
    assert_eq!(run_yaml(yaml, r#"{"id": 1}"#).await, json(r#"{"id": 1}"#));
    let yaml = "name: t\nstart: g\nnodes:\n- {name: g, type: get, config: {key: '{{.id}}'}}\n";
    let err = run_error(yaml, r#"{"id": ""}"#).await;
    assert!(err.contains("`key` must render to a non-empty string"), "{err}");
    let err = run_error(yaml, "{}").await;
    assert!(err.contains("invalid config: at /key"), "{err}");
    let err = validation_errors("name: t\nstart: s\nnodes:\n- {name: s, type: set, config: {value: 1}}\n");
    assert!(err.contains("key"), "{err}");
}
