//! Host functions: each denied capability returns an error value (never a
//! trap), granted ones work, and the plugin keeps working after a refusal.

use pocket_core::PocketConfig;

use crate::common::{config, graph, json, one_node, run_graph};

const KV: &str = "[plugins.permissions]\ncapabilities = [\"log\", \"kv\"]\n";

async fn call(node_type: &str, config: &PocketConfig) -> pocket_core::Value {
    let graph = graph(&one_node(node_type), config, &["capabilities.wat", "echo.wat"]);
    run_graph(&graph, "{}").await.unwrap_or_else(|e| panic!("{e}"))
}

async fn echo_still_works(config: &PocketConfig) {
    let graph = graph(&one_node("echo"), config, &["capabilities.wat", "echo.wat"]);
    let out = run_graph(&graph, r#"{"x": 1}"#).await.unwrap();
    assert_eq!(out.get("input"), Some(&json(r#"{"x": 1}"#)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv_without_the_capability_is_denied_with_an_error_value() {
    let config = config("");
    assert_eq!(
        call("kv-set", &config).await,
        json("1"),
        "kv_set returns code 1 (denied)"
    );
    assert_eq!(call("kv-get", &config).await, json(r#""denied""#), "kv_get returns -1");
    assert_eq!(call("log", &config).await, json(r#""ok""#), "the plugin still works");
    echo_still_works(&config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv_with_the_capability_round_trips_within_a_run() {
    let config = config(KV);
    let yaml = "name: t\nstart: set\nnodes:\n  - name: set\n    type: kv-set\n  - name: get\n    type: kv-get\nconnections:\n  - from: set\n    to: get\n";
    let graph = graph(yaml, &config, &["capabilities.wat"]);
    assert_eq!(run_graph(&graph, "{}").await.unwrap(), json("1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_to_a_host_not_granted_is_denied_with_an_error_value() {
    let config = config(KV);
    let out = call("http", &config).await;
    assert_eq!(
        out.get("error"),
        Some(&json(
            r#""permission denied: http:127.0.0.1 (pocket.toml does not grant it to this plugin)""#
        )),
        "{out}"
    );
    echo_still_works(&config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_without_the_capability_is_dropped_and_the_call_succeeds() {
    let config = config("[plugins.permissions]\ndefault = []\n");
    assert_eq!(call("log", &config).await, json(r#""ok""#));
    echo_still_works(&config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_call_with_a_pointer_outside_memory_gets_an_error_value() {
    let config = config(KV);
    assert_eq!(call("kv-bad", &config).await, json(r#""denied""#));
    echo_still_works(&config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_get_reads_the_plugin_config() {
    let config = config("[plugins.config.capabilities]\ngreeting = \"hi\"\n");
    assert_eq!(call("config", &config).await, json(r#""hi""#));
    assert_eq!(call("config", &super::common::config("")).await, json("null"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_get_never_returns_a_nested_secret_the_plugin_does_not_declare() {
    let nested = "[plugins.config.capabilities.greeting]\ntext = \"hi\"\napi_token = \"t0k\"\n";
    assert_eq!(call("config", &config(nested)).await, json(r#"{"text": "hi"}"#));
    // Granting every secret key changes nothing: the plugin declares no `config:`.
    let granted = format!("{nested}[plugins.permissions]\ncapabilities = [\"log\", \"kv\", \"config:*\"]\n");
    assert_eq!(call("config", &config(&granted)).await, json(r#"{"text": "hi"}"#));
    echo_still_works(&config(&granted)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_kv_calls_stops_at_the_rate_limit_and_recovers_when_the_window_slides() {
    let config = config("[plugins.permissions]\nkv-flood = [\"kv\"]\n[plugins.limits.kv-flood]\nkv_per_second = 50\n");
    let registry = crate::common::registry(&config, &["kv-flood.wat"]);
    let build = |node_type: &str| pocket_core::testing::graph(&one_node(node_type), &registry, &config).unwrap();
    assert_eq!(run_graph(&build("flood"), "{}").await.unwrap(), json(r#""limited""#));
    assert_eq!(
        run_graph(&build("ok"), "{}").await.unwrap(),
        json(r#""limited""#),
        "still inside the window"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        run_graph(&build("ok"), "{}").await.unwrap(),
        json(r#""ok""#),
        "the window slid"
    );
}
