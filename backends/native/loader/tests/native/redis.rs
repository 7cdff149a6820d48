//! The redis-cache example plugin against a real redis-server.

use pocket_core::{NodeError, PocketConfig, RunError};

use crate::common::*;
use crate::redis_server::RedisServer;

/// pocket.toml for the plugin: the server's address, `extra` config keys,
/// and the grant that lets its `password` key through.
fn redis_config(server: &RedisServer, extra: &str) -> PocketConfig {
    config(&format!(
        "[plugins.permissions]\nredis-cache = [\"config:password\"]\n\
         [plugins.config.redis-cache]\nhost = \"127.0.0.1\"\nport = {}\n{extra}",
        server.port
    ))
}

const SET_GET_DEL: &str = "name: t\nstart: set\nnodes:\n  - name: set\n    type: redis-set\n    config: {key: \"user:{{.id}}\", ttl: 60}\n  - name: get\n    type: redis-get\n    config: {key: \"user:{{.id}}\"}\n  - name: del\n    type: redis-del\n    config: {key: \"user:{{.id}}\"}\n  - name: missing\n    type: redis-get\n    config: {key: \"user:{{.id}}\"}\nconnections:\n  - {from: set, to: get}\n  - {from: get, to: del, action: found}\n  - {from: del, to: missing}\n";

#[tokio::test]
async fn values_set_are_found_and_deleted_keys_are_not() {
    let server = RedisServer::start(None);
    let config = redis_config(&server, "");
    // set -> get (found: the stored object) -> del -> get (not_found: passes the input through).
    let out = run_yaml(SET_GET_DEL, &[REDIS_CACHE], &config, r#"{"id":7,"name":"Ada"}"#)
        .await
        .unwrap();
    assert_eq!(out.to_json(), r#"{"key":"user:7","deleted":true}"#);
}

#[tokio::test]
async fn redis_get_routes_found_and_not_found() {
    let server = RedisServer::start(None);
    let config = redis_config(&server, "");
    let yaml = "name: t\nstart: get\nnodes:\n  - name: get\n    type: redis-get\n    config: {key: \"k:{{.id}}\"}\n  - name: miss\n    type: text-upper\n    config: {field: id}\n  - name: store\n    type: redis-set\n    config: {key: \"k:{{.id}}\", value: {cached: true}}\nconnections:\n  - {from: get, to: miss, action: not_found}\n  - {from: miss, to: store}\n";
    let first = run_yaml(yaml, &[REDIS_CACHE, TEXT_TOOLS], &config, r#"{"id":"a"}"#)
        .await
        .unwrap();
    // Miss: upper-cased id, then stored under k:A.
    assert_eq!(first.to_json(), r#"{"cached":true}"#);
    let second = run_yaml(yaml, &[REDIS_CACHE, TEXT_TOOLS], &config, r#"{"id":"A"}"#)
        .await
        .unwrap();
    assert_eq!(
        second.to_json(),
        r#"{"cached":true}"#,
        "found: the cached value, no further nodes"
    );
}

#[tokio::test]
async fn password_and_database_come_from_the_plugin_config() {
    let server = RedisServer::start(Some("s3cret"));
    let yaml = one_node("redis-set", "{key: k, value: 1}");
    // Without the `config:password` grant the password never reaches the plugin.
    let ungranted = config(&format!(
        "[plugins.config.redis-cache]\nhost = \"127.0.0.1\"\nport = {}\npassword = \"s3cret\"\n",
        server.port
    ));
    let error = run_yaml(&yaml, &[REDIS_CACHE], &ungranted, "{}").await.unwrap_err();
    assert!(error.to_string().contains("NOAUTH"), "{error}");
    let wrong = redis_config(&server, "password = \"wrong\"\n");
    let error = run_yaml(&yaml, &[REDIS_CACHE], &wrong, "{}").await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains(&format!("redis at 127.0.0.1:{}", server.port)),
        "{error}"
    );
    let right = redis_config(&server, "password = \"s3cret\"\ndatabase = 3\n");
    assert_eq!(
        run_yaml(&yaml, &[REDIS_CACHE], &right, "{}").await.unwrap().to_json(),
        "1"
    );
    let get = one_node("redis-get", "{key: k}");
    let other_db = redis_config(&server, "password = \"s3cret\"\ndatabase = 4\n");
    assert_eq!(
        run_yaml(&get, &[REDIS_CACHE], &other_db, r#"{"in":1}"#)
            .await
            .unwrap()
            .to_json(),
        r#"{"in":1}"#
    );
    assert_eq!(
        run_yaml(&get, &[REDIS_CACHE], &right, "{}").await.unwrap().to_json(),
        "1"
    );
}

#[tokio::test]
async fn an_unreachable_server_fails_the_node_with_where_it_tried() {
    let port = {
        let server = RedisServer::start(None);
        server.port
    };
    let config = config(&format!(
        "[plugins.config.redis-cache]\nport = {port}\ntimeout_ms = 500\n"
    ));
    let error = run_yaml(&one_node("redis-get", "{key: k}"), &[REDIS_CACHE], &config, "{}")
        .await
        .unwrap_err();
    match &error {
        RunError::NodeFailed(failure) => match &failure.error {
            NodeError::Failed(message) => assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}"),
            other => panic!("{other:?}"),
        },
        other => panic!("{other}"),
    }
}
