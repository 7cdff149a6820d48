//! Malformed responses fail the node with an error naming the plugin; the host stays healthy.

use crate::common::attack_then_recover;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_outside_linear_memory_fails_the_node() {
    attack_then_recover(
        "bad-pointer.wat",
        "",
        &["wasm plugin `bad-pointer`", "outside linear memory"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_that_is_not_json_fails_the_node() {
    attack_then_recover("invalid-json.wat", "", &["wasm plugin `invalid-json`", "invalid JSON"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_that_is_not_utf8_fails_the_node() {
    attack_then_recover(
        "invalid-utf8.wat",
        "",
        &["wasm plugin `invalid-utf8`", "not valid UTF-8"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_nesting_four_million_deep_is_refused_before_parsing() {
    attack_then_recover(
        "huge-response.wat",
        "",
        &[
            "memory limit exceeded",
            "wasm plugin `huge-response`",
            "nests 4000000 levels deep",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_of_a_million_small_objects_is_held_to_the_memory_limit() {
    use crate::common::{config, graph, json, one_node, run_graph};
    let config = config("");
    let wide = graph(&one_node("wide"), &config, &["huge-response.wat"]);
    let err = run_graph(&wide, "{}").await.unwrap_err().to_string();
    assert!(
        err.contains("memory limit exceeded") && err.contains("more than the limit of 67108864"),
        "{err}"
    );
    let ok = graph(&one_node("ok"), &config, &["huge-response.wat"]);
    assert_eq!(run_graph(&ok, "{}").await.unwrap(), json(r#""ok""#));
}
