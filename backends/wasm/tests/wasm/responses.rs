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
