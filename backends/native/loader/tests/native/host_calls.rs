//! Native plugins' host calls (log, kv, config, env, http) through the
//! interface: the same permission checks as Lua's and WASM's, each refusal
//! followed by a call that works.

use std::io::{Read, Write};

use crate::common::*;

const HOST_CALLS: &str = "pocket-native-fixture-host-calls";

/// Runs node type `node_type` of the fixture on `input` under pocket.toml `toml`.
async fn call(node_type: &str, toml: &str, input: &str) -> Result<String, String> {
    run_yaml(&one_node(node_type, ""), &[HOST_CALLS], &config(toml), input)
        .await
        .map(|v| v.to_json())
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn kv_needs_the_kv_grant_and_works_with_it() {
    let input = r#"{"key": "k", "value": {"n": 1}}"#;
    let denied = call("remember", "", input).await.unwrap_err();
    assert!(
        denied.contains("permission denied") && denied.contains("kv"),
        "{denied}"
    );
    let granted = "[plugins.permissions]\nhost-calls = [\"kv\"]\n";
    assert_eq!(call("remember", granted, input).await.unwrap(), r#"{"n":1}"#);
}

#[tokio::test]
async fn config_reaches_the_plugin_and_env_needs_a_matching_grant() {
    let toml =
        "[plugins.config.host-calls]\ngreeting = \"hej\"\n[plugins.permissions]\nhost-calls = [\"env:CARGO_PKG_*\"]\n";
    assert_eq!(call("setting", toml, "{}").await.unwrap(), r#""hej""#);
    // Cargo sets CARGO_PKG_NAME for the tests it runs.
    assert_eq!(
        call("env", toml, r#"{"name": "CARGO_PKG_NAME"}"#).await.unwrap(),
        format!("{:?}", env!("CARGO_PKG_NAME"))
    );
    let denied = call("env", toml, r#"{"name": "HOME"}"#).await.unwrap_err();
    assert!(
        denied.contains("permission denied") && denied.contains("env:HOME"),
        "{denied}"
    );
}

#[tokio::test]
async fn a_nested_secret_or_one_granted_but_not_declared_never_reaches_the_plugin() {
    let nested = "[plugins.config.host-calls.greeting]\ntext = \"hej\"\ndb_password = \"p\"\n";
    assert_eq!(call("setting", nested, "{}").await.unwrap(), r#"{"text":"hej"}"#);
    let granted = format!("{nested}[plugins.permissions]\nhost-calls = [\"config:*\"]\n");
    assert_eq!(
        call("setting", &granted, "{}").await.unwrap(),
        r#"{"text":"hej"}"#,
        "the plugin declares no `config:`"
    );
}

/// An HTTP server on 127.0.0.1 answering every request with `hello`.
fn server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/x", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = stream.read(&mut [0u8; 4096]);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello");
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_needs_a_grant_for_the_host_inline_and_on_the_blocking_pool() {
    let url = server();
    let input = format!(r#"{{"url": "{url}"}}"#);
    let denied = call("fetch", "", &input).await.unwrap_err();
    assert!(
        denied.contains("permission denied") && denied.contains("http:127.0.0.1"),
        "{denied}"
    );
    let other = "[plugins.permissions]\nhost-calls = [\"http:api.example.com\"]\n";
    assert!(
        call("fetch", other, &input)
            .await
            .unwrap_err()
            .contains("permission denied")
    );
    let granted = "[plugins.permissions]\nhost-calls = [\"http:127.0.0.1\"]\n";
    for node_type in ["fetch", "fetch-blocking"] {
        assert_eq!(
            call(node_type, granted, &input).await.unwrap(),
            r#"{"status":200,"body":"hello"}"#,
            "{node_type}"
        );
    }
}

#[tokio::test]
async fn an_inline_node_on_a_single_threaded_runtime_is_told_to_be_blocking() {
    let url = server();
    let granted = "[plugins.permissions]\nhost-calls = [\"http:127.0.0.1\"]\n";
    let input = format!(r#"{{"url": "{url}"}}"#);
    let err = call("fetch", granted, &input).await.unwrap_err();
    assert!(err.contains("mark it `.blocking()`"), "{err}");
    assert_eq!(
        call("fetch-blocking", granted, &input).await.unwrap(),
        r#"{"status":200,"body":"hello"}"#
    );
}

#[tokio::test]
async fn log_works_with_the_default_grant_and_a_refusal_is_no_error() {
    assert_eq!(call("say", "", r#"{"text": "hi"}"#).await.unwrap(), "true");
    let none = "[plugins.permissions]\ndefault = []\n";
    assert_eq!(call("say", none, r#"{"text": "hi"}"#).await.unwrap(), "true");
}
