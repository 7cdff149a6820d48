//! `http_request`: an HTTP request to a host the plugin may reach.

use std::sync::OnceLock;
use std::time::Duration;

use pocket_core::{Permissions, Request};

use crate::{HostError, PluginHost};

/// An HTTP request a plugin asks the host to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, ... (any case).
    pub method: String,
    /// An absolute `http` or `https` URL.
    pub url: String,
    /// Request headers, in order.
    pub headers: Vec<(String, String)>,
    /// The request body, if any.
    pub body: Option<Vec<u8>>,
    /// Give up after this long (the caller passes what is left of its own time limit).
    pub timeout: Option<Duration>,
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Response headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
}

impl PluginHost {
    /// Sends `request` once the plugin's `http` capability allows the URL's host.
    pub async fn http_request(&self, request: HttpRequest) -> Result<HttpResponse, HostError> {
        let url = reqwest::Url::parse(&request.url)
            .map_err(|e| HostError::InvalidRequest(format!("invalid url `{}`: {e}", request.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(HostError::InvalidRequest(format!(
                "unsupported url scheme `{}` (use http or https)",
                url.scheme()
            )));
        }
        let host = url.host_str().unwrap_or_default().to_string();
        self.check(Request::Http { host: &host })?;
        let method = reqwest::Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| HostError::InvalidRequest(format!("invalid http method `{}`", request.method)))?;
        let client = self.client()?;
        let mut builder = client.request(method, url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        if let Some(timeout) = request.timeout {
            builder = builder.timeout(timeout);
        }
        let response = builder.send().await.map_err(|e| HostError::Http(error_chain(&e)))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let bytes = response.bytes().await.map_err(|e| HostError::Http(error_chain(&e)))?;
        Ok(HttpResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    /// [`PluginHost::http_request`] for synchronous callers (a script engine
    /// running on a blocking thread): runs it on the current tokio runtime, or
    /// on a small private one outside any runtime. Must not be called from
    /// inside an async task (use `spawn_blocking` or `block_in_place` first).
    pub fn http_request_blocking(&self, request: HttpRequest) -> Result<HttpResponse, HostError> {
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle.block_on(self.http_request(request)),
            Err(_) => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| HostError::Http(format!("cannot start an I/O runtime: {e}")))?;
                // A client's pooled connections belong to the runtime that opened them.
                let host = PluginHost::new(self.plugin.clone(), Permissions::clone(&self.permissions));
                runtime.block_on(host.http_request(request))
            }
        }
    }

    fn client(&self) -> Result<&reqwest::Client, HostError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("pocket/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HostError::Http(format!("cannot build an http client: {}", error_chain(&e))))?;
        Ok(self.client.get_or_init(|| client))
    }
}

/// The shared, lazily built HTTP client of one [`PluginHost`].
pub(crate) type ClientCell = std::sync::Arc<OnceLock<reqwest::Client>>;

/// An error and its causes, joined: reqwest's own text alone is often just "error sending request".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use pocket_core::{Capability, Permissions};

    use super::*;

    fn get(url: &str) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout: Some(Duration::from_secs(2)),
        }
    }

    #[tokio::test]
    async fn hosts_outside_the_grant_are_denied_before_any_connection() {
        let host = PluginHost::new(
            "p",
            Permissions::new(vec![Capability::Http(Some("api.example.com".into()))]),
        );
        let err = host.http_request(get("http://127.0.0.1:9/x")).await.unwrap_err();
        assert_eq!(err.to_string(), "permission denied: http:127.0.0.1");
    }

    #[tokio::test]
    async fn malformed_urls_and_schemes_are_invalid_requests() {
        let host = PluginHost::new("p", Permissions::new(vec![Capability::Http(None)]));
        assert!(matches!(
            host.http_request(get("not a url")).await,
            Err(HostError::InvalidRequest(_))
        ));
        assert!(matches!(
            host.http_request(get("file:///etc/passwd")).await,
            Err(HostError::InvalidRequest(_))
        ));
    }

    #[tokio::test]
    async fn a_local_server_answers_through_the_host() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await.unwrap();
            let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}";
            socket.write_all(reply.as_bytes()).await.unwrap();
        });
        let host = PluginHost::new("p", Permissions::new(vec![Capability::Http(Some("127.0.0.1".into()))]));
        let response = host
            .http_request(get(&format!("http://127.0.0.1:{port}/")))
            .await
            .unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, "{\"ok\":true}");
        assert!(
            response
                .headers
                .iter()
                .any(|(k, v)| k == "content-type" && v == "application/json")
        );
        server.await.unwrap();
    }
}
