//! Request and response buffers: kept from call to call, or freed by the
//! module, only in modules that say so.

use crate::common::{config, graph, json, one_node, run_graph};

/// Runs the `echo` node of `fixture` `calls` times in a row, checking each
/// call got its own input.
async fn echo_many_times(fixture: &str, calls: usize) {
    let graph = graph(&one_node("echo"), &config(""), &[fixture]);
    for call in 0..calls {
        let input = format!(r#"{{"call": {call}}}"#);
        let out = run_graph(&graph, &input)
            .await
            .unwrap_or_else(|e| panic!("call {call}: {e}"));
        assert_eq!(out.get("input"), Some(&json(&input)), "call {call}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_without_the_feature_has_every_buffer_freed_after_each_call() {
    // echo.wat's allocator reclaims its heap only once every buffer is
    // freed, and never checks its bound: a request buffer the host kept
    // would walk it past its 128 KiB of linear memory within a few thousand
    // calls.
    echo_many_times("echo.wat", 3_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_with_the_feature_gets_one_request_buffer_for_all_its_calls() {
    // keeps-request.wat answers with an error once it has been asked for
    // more buffers than one per call plus the kept one.
    echo_many_times("keeps-request.wat", 1_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_that_frees_its_own_responses_never_has_them_freed_by_the_host() {
    // frees-response.wat traps when the host frees its (static) response.
    let graph = graph(&one_node("echo"), &config(""), &["frees-response.wat"]);
    for call in 0..1_000 {
        let out = run_graph(&graph, "{}")
            .await
            .unwrap_or_else(|e| panic!("call {call}: {e}"));
        assert_eq!(out, json(r#""ok""#), "call {call}");
    }
}
