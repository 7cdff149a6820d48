//! The capability-checked host API: kv, env, http, log.

use pocket_core::{PocketConfig, Value};

use crate::common::{config, graph_with, inline_graph, json, run_graph};

#[tokio::test]
async fn kv_without_the_capability_returns_nil_and_permission_denied() {
    let out = run_graph(
        &inline_graph("return { kv.set('a', 1) }", &PocketConfig::default()),
        "{}",
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        json(r#"{"2": "permission denied: kv (pocket.toml does not grant it to this plugin)"}"#)
    );
}

#[tokio::test]
async fn kv_values_travel_along_a_run_in_the_plugins_own_namespace() {
    let toml = "[plugins.permissions]\nkv-user = [\"kv\"]\nlua = [\"kv\"]\n";
    let yaml = r#"
name: t
start: put
nodes:
  - {name: put, type: put}
  - {name: take, type: take}
  - {name: other, type: lua, config: {source: "return { mine = kv.get('last'), theirs = input.value }"}}
connections:
  - {from: put, to: take}
  - {from: take, to: other}
"#;
    let graph = graph_with(yaml, &config(toml), &["kv-user.lua"]).unwrap();
    let out = run_graph(&graph, r#"{"n": [1, 2]}"#).await.unwrap();
    assert_eq!(out, json(r#"{"theirs": {"n": [1, 2]}}"#));
}

#[tokio::test]
async fn env_get_reads_only_names_matching_the_grant() {
    // SAFETY: these variables are unique to this test; nothing else reads them concurrently.
    unsafe {
        std::env::set_var("POCKET_LUA_TEST_ALLOWED", "yes");
        std::env::set_var("POCKET_LUA_SECRET", "no");
    }
    let graph = inline_graph(
        "local a = env.get('POCKET_LUA_TEST_ALLOWED')\nlocal b, err = env.get('POCKET_LUA_SECRET')\nreturn { a = a, b = b, err = err }",
        &config("[plugins.permissions]\nlua = [\"env:POCKET_LUA_TEST_*\"]\n"),
    );
    let out = run_graph(&graph, "{}").await.unwrap();
    assert_eq!(
        out,
        json(
            r#"{"a": "yes", "err": "permission denied: env:POCKET_LUA_SECRET (pocket.toml does not grant it to this plugin)"}"#
        )
    );
}

#[tokio::test]
async fn http_to_an_ungranted_host_returns_nil_and_permission_denied() {
    let graph = inline_graph(
        "local r, err = http.request('http://127.0.0.1:9/')\nreturn { r = r, err = err }",
        &config("[plugins.permissions]\nlua = [\"http:api.example.com\"]\n"),
    );
    assert_eq!(
        run_graph(&graph, "{}").await.unwrap(),
        json(r#"{"err": "permission denied: http:127.0.0.1 (pocket.toml does not grant it to this plugin)"}"#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_request_reaches_a_granted_local_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = socket.read(&mut buf).await.unwrap();
        let request = String::from_utf8_lossy(&buf[..n]).to_string();
        let reply = "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 8\r\nconnection: close\r\n\r\n{\"id\":7}";
        socket.write_all(reply.as_bytes()).await.unwrap();
        request
    });
    let source = format!(
        "local r, err = http.request({{ url = 'http://127.0.0.1:{port}/items', method = 'post', body = {{ name = input.name }} }})\nreturn {{ status = r.status, id = r.json.id, err = err }}"
    );
    let graph = inline_graph(&source, &config("[plugins.permissions]\nlua = [\"http:127.0.0.1\"]\n"));
    let out = run_graph(&graph, r#"{"name": "x"}"#).await.unwrap();
    assert_eq!(out, json(r#"{"id": 7, "status": 201}"#));
    let request = server.await.unwrap();
    assert!(
        request.starts_with("POST /items") && request.contains("{\"name\":\"x\"}"),
        "{request}"
    );
}

#[tokio::test]
async fn log_and_print_need_the_log_capability() {
    let granted = run_graph(
        &inline_graph(
            "return { log.info('hello', { a = 1 }) , print('x') }",
            &PocketConfig::default(),
        ),
        "{}",
    )
    .await
    .unwrap();
    assert_eq!(granted, json("{}"));
    let denied = inline_graph(
        "return { log.warn('hello') }",
        &config("[plugins.permissions]\nlua = []\n"),
    );
    assert_eq!(
        run_graph(&denied, "{}").await.unwrap().get("2"),
        Some(&Value::from(
            "permission denied: log (pocket.toml does not grant it to this plugin)"
        ))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_kv_calls_stops_at_the_rate_limit_and_recovers_when_the_window_slides() {
    let toml = "[plugins.permissions]\nlua = [\"kv\"]\n[plugins.limits.lua]\nkv_per_second = 50\n";
    let flood = inline_graph(
        "local refused, message = 0, nil\nfor i = 1, 200 do local ok, err = kv.set('k' .. i, i) if not ok then refused = refused + 1 message = err end end\nreturn { refused = refused, message = message }",
        &config(toml),
    );
    let refused = |out: &Value| out.get("refused").and_then(Value::as_i64);
    let out = run_graph(&flood, "{}").await.unwrap();
    assert_eq!(refused(&out), Some(150), "{out}");
    let message = out.get("message").and_then(Value::as_str).unwrap_or_default();
    assert!(
        message.contains("rate limit exceeded") && message.contains("kv_per_second"),
        "{message}"
    );
    let again = run_graph(&flood, "{}").await.unwrap();
    assert_eq!(refused(&again), Some(200), "the window holds across runs: {again}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let later = run_graph(&flood, "{}").await.unwrap();
    assert_eq!(refused(&later), Some(150), "the window slid: {later}");
}

#[tokio::test]
async fn a_plugins_kv_key_count_and_value_size_are_capped() {
    let toml = "[plugins.permissions]\nlua = [\"kv\"]\n[plugins.limits.lua]\nkv_keys = 3\nkv_value_bytes = 100\n";
    let graph = inline_graph(
        "local a = { kv.set('a', 1) } local b = { kv.set('b', 1) } local c = { kv.set('c', 1) }\nlocal _, too_many = kv.set('d', 1)\nlocal _, too_big = kv.set('a', string.rep('x', 200))\nlocal replaced = kv.set('a', 2)\nreturn { too_many = too_many, too_big = too_big, replaced = replaced }",
        &config(toml),
    );
    let out = run_graph(&graph, "{}").await.unwrap();
    assert!(
        out.get("too_many")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .contains("kv_keys limit exceeded"),
        "{out}"
    );
    assert!(
        out.get("too_big")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .contains("kv_value_bytes limit exceeded"),
        "{out}"
    );
    assert_eq!(out.get("replaced"), Some(&Value::from(true)));
}
