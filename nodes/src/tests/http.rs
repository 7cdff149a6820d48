//! `http`, against a tiny HTTP/1.1 server on 127.0.0.1.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{at, json, run_error, run_yaml, validation_errors};

/// Serves on an ephemeral port: `/json`, `/echo` (the request as JSON),
/// `/slow` (answers after 2s), `/flaky` (500 twice, then 200), `/missing` (404),
/// `/away` (a redirect to `/json` on `localhost` instead of 127.0.0.1).
async fn server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let flaky = Arc::new(AtomicU32::new(0));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream, flaky.clone()));
        }
    });
    address
}

async fn answer(mut stream: TcpStream, flaky: Arc<AtomicU32>) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    let (head, body) = loop {
        let Ok(n) = stream.read(&mut buffer).await else { return };
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&request).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if body.len() >= length {
                break (head.to_string(), body.to_string());
            }
        }
    };
    let mut words = head.split_whitespace();
    let (method, path) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    if path == "/away" {
        let port = stream.local_addr().map(|a| a.port()).unwrap_or_default();
        let response = format!(
            "HTTP/1.1 302 Found\r\nlocation: http://localhost:{port}/json\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
        let _ = stream.write_all(response.as_bytes()).await;
        return;
    }
    let (status, content_type, reply) = match path {
        "/json" => ("200 OK", "application/json", r#"{"ok": true, "items": [1, 2]}"#.to_string()),
        "/echo" => (
            "200 OK",
            "application/json; charset=utf-8",
            serde_json::json!({"method": method, "body": body, "token": header("x-token"), "type": header("content-type")}).to_string(),
        ),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            ("200 OK", "text/plain", "late".to_string())
        }
        "/flaky" if flaky.fetch_add(1, Ordering::SeqCst) < 2 => ("500 Internal Server Error", "text/plain", "down".to_string()),
        "/flaky" => ("200 OK", "text/plain", "up".to_string()),
        "/big" => ("200 OK", "text/plain", "x".repeat(100_000)),
        "/deep" => ("200 OK", "application/json", format!("{}{}", "[".repeat(150_000), "]".repeat(150_000))),
        _ => ("404 Not Found", "text/plain", "no such page".to_string()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nx-multi: a\r\nx-multi: b\r\nconnection: close\r\n\r\n{reply}",
        reply.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
}

fn http(config: &str) -> String {
    format!("name: t\nstart: h\nnodes:\n- {{name: h, type: http, config: {config}}}\n")
}

#[tokio::test]
async fn a_json_response_is_parsed() {
    let base = server().await;
    let out = run_yaml(&http("{url: '{{.base}}/json'}"), &format!(r#"{{"base": "{base}"}}"#)).await;
    assert_eq!(at(&out, "status"), json("200"));
    assert_eq!(at(&out, "body"), json(r#"{"ok": true, "items": [1, 2]}"#));
    assert_eq!(at(&out, "headers.content-type"), json(r#""application/json""#));
    assert_eq!(at(&out, "headers.x-multi"), json(r#""a, b""#));
}

#[tokio::test]
async fn templated_headers_and_a_json_body_are_sent() {
    let base = server().await;
    let config =
        "{url: '{{.base}}/echo', method: POST, headers: {X-Token: '{{.token}}'}, body: {user: '{{.user}}', n: 2}}";
    let out = run_yaml(
        &http(config),
        &format!(r#"{{"base": "{base}", "token": "t-1", "user": "ada"}}"#),
    )
    .await;
    let echoed = at(&out, "body");
    assert_eq!(at(&echoed, "method"), json(r#""POST""#));
    assert_eq!(at(&echoed, "token"), json(r#""t-1""#));
    assert_eq!(at(&echoed, "type"), json(r#""application/json""#));
    assert_eq!(
        json(at(&echoed, "body").as_str().unwrap()),
        json(r#"{"user": "ada", "n": 2}"#)
    );
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let base = server().await;
    let config = format!("{{url: '{base}/flaky', retry: {{max_attempts: 3, delay: 10ms}}}}");
    let out = run_yaml(&http(&config), "{}").await;
    assert_eq!(at(&out, "status"), json("200"));
    assert_eq!(at(&out, "body"), json(r#""up""#));
}

#[tokio::test]
async fn an_error_status_takes_the_error_action() {
    let base = server().await;
    let yaml = format!(
        "name: t\nstart: h\nnodes:\n- {{name: h, type: http, config: {{url: '{base}/missing'}}}}\n- {{name: handle, type: echo, config: {{message: '{{{{.error}}}}'}}}}\nconnections:\n- {{from: h, to: handle, action: error}}\n"
    );
    let out = run_yaml(&yaml, "{}").await;
    assert_eq!(at(&out, "message"), json(r#""HTTP 404 Not Found""#));
    assert_eq!(at(&out, "input.body"), json(r#""no such page""#));
}

#[tokio::test]
async fn a_json_response_too_deep_to_parse_fails_the_attempt_and_the_next_call_parses() {
    let base = server().await;
    let err = run_error(&http(&format!("{{url: '{base}/deep'}}")), "{}").await;
    assert!(
        err.contains("the JSON response cannot be read") && err.contains("150000 levels"),
        "{err}"
    );
    let out = run_yaml(&http(&format!("{{url: '{base}/json'}}")), "{}").await;
    assert_eq!(at(&out, "body"), json(r#"{"ok": true, "items": [1, 2]}"#));
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let base = server().await;
    let config = format!("{{url: '{base}/slow', timeout: 100ms, retry: {{max_attempts: 2, delay: 10ms}}}}");
    let started = std::time::Instant::now();
    let err = run_error(&http(&config), "{}").await;
    assert!(err.contains("failed after 2 attempts: timed out"), "{err}");
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[tokio::test]
async fn a_closed_port_fails_and_the_error_edge_receives_it() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = format!("{{url: 'http://127.0.0.1:{port}/', retry: {{max_attempts: 1}}}}");
    let err = run_error(&http(&config), "{}").await;
    assert!(
        err.contains("node `h`") && err.contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    let yaml = format!(
        "name: t\nstart: h\nnodes:\n- {{name: h, type: http, config: {config}}}\n- {{name: fallback, type: transform, config: {{cached: true}}}}\nconnections:\n- {{from: h, to: fallback, action: error}}\n"
    );
    assert_eq!(run_yaml(&yaml, "{}").await, json(r#"{"cached": true}"#));
}

#[tokio::test]
async fn a_body_over_max_body_fails_the_attempt() {
    let base = server().await;
    let config = format!("{{url: '{base}/big', max_body: 64KiB, retry: {{max_attempts: 1}}}}");
    let err = run_error(&http(&config), "{}").await;
    assert!(err.contains("larger than 65536 bytes (`max_body`)"), "{err}");
    let out = run_yaml(&http(&format!("{{url: '{base}/big'}}")), "{}").await;
    assert_eq!(at(&out, "body").as_str().map(str::len), Some(100_000));
}

#[tokio::test]
async fn redirects_are_checked_against_allowed_hosts() {
    let base = server().await;
    // Without `allowed_hosts`, the redirect to localhost is followed.
    let out = run_yaml(&http(&format!("{{url: '{base}/away'}}")), "{}").await;
    assert_eq!(at(&out, "status"), json("200"));
    // With it, the first URL passes and the redirect is refused.
    let config = format!("{{url: '{base}/away', allowed_hosts: ['127.0.0.1'], retry: {{max_attempts: 1}}}}");
    let err = run_error(&http(&config), "{}").await;
    assert!(
        err.contains("redirect to localhost refused") && err.contains("not in `allowed_hosts`"),
        "{err}"
    );
    // A first URL outside the list is refused before any connection.
    let config = "{url: 'http://localhost:9/x', allowed_hosts: ['127.0.0.1']}";
    let err = run_error(&http(config), "{}").await;
    assert!(err.contains("permission denied") && err.contains("localhost"), "{err}");
    // The list is fixed before the run.
    let err = validation_errors(&http("{url: 'http://x/', allowed_hosts: ['{{.host}}']}"));
    assert!(err.contains("cannot hold templates"), "{err}");
}

#[tokio::test]
async fn a_templated_path_cannot_move_the_request_to_another_host() {
    let base = server().await;
    // `{{.path}}` = `@localhost:PORT/json` would make the host localhost.
    let port = base.rsplit(':').next().unwrap();
    let err = run_error(
        &http("{url: 'http://127.0.0.1{{.path}}'}"),
        &format!(r#"{{"path": ":{port}@localhost:{port}/json"}}"#),
    )
    .await;
    assert!(err.contains("user name or password"), "{err}");
}

#[tokio::test]
async fn a_bad_url_or_method_is_refused() {
    let err = run_error(&http("{url: '{{.u}}'}"), r#"{"u": "not a url"}"#).await;
    assert!(err.contains("invalid url"), "{err}");
    let err = run_error(&http("{url: 'ftp://127.0.0.1/x'}"), "{}").await;
    assert!(err.contains("only http and https"), "{err}");
    let err = validation_errors(&http("{url: 'http://127.0.0.1/', method: FETCH}"));
    assert!(err.contains("config at /method"), "{err}");
    let err = validation_errors(&http("{method: GET}"));
    assert!(err.contains("url"), "{err}");
}
