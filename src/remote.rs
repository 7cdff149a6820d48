//! A client of a `pocket serve` API, for `pocket run --remote` and `pocket runs`.

use anyhow::{Context, bail};
use serde_json::Value;

/// The server at a base URL, with an optional API token.
pub struct Remote {
    base: String,
    token: Option<String>,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Remote {
    /// A client of the server at `base` (`http://127.0.0.1:8080`).
    pub fn new(base: &str, token: Option<String>) -> anyhow::Result<Remote> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(Remote {
            base: base.trim_end_matches('/').to_string(),
            token: token.filter(|t| !t.is_empty()),
            client: reqwest::Client::new(),
            runtime,
        })
    }

    /// `GET path`: the answer's JSON, or the server's error.
    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(self.client.get(self.url(path)))
    }

    /// `POST path` with a JSON body: the answer's JSON, or the server's error.
    pub fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let request = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string());
        self.send(request)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn send(&self, mut request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let base = &self.base;
        self.runtime.block_on(async move {
            let response = request
                .send()
                .await
                .with_context(|| format!("cannot reach the server at {base} (is `pocket serve` running there?)"))?;
            let status = response.status();
            let text = response.text().await.context("the server's answer was cut off")?;
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            if !status.is_success() {
                let message = body["error"].as_str().map_or_else(|| body.to_string(), String::from);
                let hint = match status.as_u16() {
                    401 => " (give a token with --token or POCKET_TOKEN)",
                    429 => " (the server is at capacity; try again shortly)",
                    _ => "",
                };
                bail!("the server answered {status}: {message}{hint}");
            }
            Ok(body)
        })
    }
}
