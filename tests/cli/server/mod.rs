//! `pocket serve`, started as the real binary on a free port: its API,
//! history, limits, tokens, restart recovery and drain.

mod access;
mod api;
mod cli;
mod lifecycle;
mod limits;
mod live;
mod native;
mod openapi;
mod page;
mod postgres;
mod store_failures;
mod triggers;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A workflow that greets `input.who`.
pub const HELLO: &str = "name: hello\nstart: greet\nnodes:\n  - name: greet\n    type: transform\n    config: { greeting: \"hello {{.who}}\" }\n";

/// A workflow that waits `input`-independent 1.5 s, then passes its input on.
pub const SLOW: &str =
    "name: slow\nstart: wait\nnodes:\n  - name: wait\n    type: delay\n    config: { duration: 1500ms }\n";

/// A directory with pocket.toml (`[server]` plus `server_toml`), an empty
/// plugin directory `plugins` and a `flows` directory.
pub struct Site {
    pub dir: tempfile::TempDir,
}

impl Site {
    pub fn new(server_toml: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("flows")).unwrap();
        std::fs::create_dir(dir.path().join("plugins")).unwrap();
        std::fs::write(dir.path().join("flows/hello.yaml"), HELLO).unwrap();
        std::fs::write(dir.path().join("flows/slow.yaml"), SLOW).unwrap();
        let toml = format!(
            "[plugins]\ndirectories = [\"plugins\"]\n\n[server]\nlisten = \"127.0.0.1:0\"\nworkflows = \"flows\"\n{server_toml}"
        );
        std::fs::write(dir.path().join("pocket.toml"), toml).unwrap();
        Site { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Starts `pocket serve` here.
    pub fn start(&self) -> Server {
        self.start_with(&[])
    }

    /// Starts `pocket serve ARGS` here.
    pub fn start_with(&self, args: &[&str]) -> Server {
        Server::start(&self.path().join("pocket.toml"), args)
    }
}

/// A running server; killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    fn start(config: &Path, args: &[&str]) -> Server {
        let mut child = super::pocket()
            .arg("--config")
            .arg(config)
            .arg("serve")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let log = Arc::new(Mutex::new(String::new()));
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("pocket serve: listening on ") {
                    let _ = address_tx.send(address.to_string());
                }
                let mut log = kept.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let base = match address_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start:\n{}", log.lock().unwrap());
            }
        };
        Server { child, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGKILL and waits for the process.
    pub fn kill_9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits (at most `limit`) for the exit code.
    pub fn terminate(mut self, limit: Duration) -> Option<i32> {
        // SAFETY: kill(2) with a pid this process spawned and has not reaped.
        unsafe { libc::kill(self.child.id().cast_signed(), libc::SIGTERM) };
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

/// A request with an optional token and JSON body.
pub async fn call(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> Answer {
    let client = reqwest::Client::new();
    let mut request = client.request(method.parse().unwrap(), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer { status, headers, json }
}

/// Starts a run of `workflow` (no input); its id.
pub async fn start_run(server: &Server, workflow: &str) -> String {
    let answer = call(
        "POST",
        &server.url("/v1/runs"),
        None,
        Some(serde_json::json!({ "workflow": workflow })),
    )
    .await;
    assert_eq!(answer.status, 202, "{}", answer.json);
    answer.json["id"].as_str().unwrap().to_string()
}

/// Polls run `id` until it is running.
pub async fn running(server: &Server, id: &str) {
    let url = server.url(&format!("/v1/runs/{id}"));
    let started = Instant::now();
    while call("GET", &url, None, None).await.json["status"] != "running" {
        assert!(started.elapsed() < Duration::from_secs(60), "run {id} never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The server's metrics text.
pub async fn metrics(server: &Server) -> String {
    reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Polls run `id` until it has finished.
pub async fn finished(server: &Server, id: &str) -> Value {
    let started = Instant::now();
    loop {
        let run = call("GET", &server.url(&format!("/v1/runs/{id}")), None, None)
            .await
            .json;
        if matches!(run["status"].as_str(), Some("succeeded" | "failed" | "cancelled")) {
            return run;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "run {id} never finished: {run}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
