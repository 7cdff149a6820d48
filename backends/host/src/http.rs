//! `http_request`: an HTTP request to a host the plugin may reach.

use std::sync::OnceLock;
use std::time::Duration;

use pocket_core::Request;

use crate::{HostError, PluginHost};

/// An HTTP request a plugin asks the host to send. Serialisable, for
/// backends that carry it over a pipe (the timeout stays on the host's side).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    #[serde(skip)]
    pub timeout: Option<Duration>,
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Response headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
}

/// The most redirects one request follows.
pub const MAX_REDIRECTS: usize = 10;

/// A URL a request may be sent to, the first or a redirect's target: `http`
/// or `https`, no user name or password in it (`http://api.example.com@evil.com`
/// goes to evil.com), and a host that `allow` accepts.
pub fn check_url(url: &reqwest::Url, allow: &dyn Fn(&str) -> Result<(), HostError>) -> Result<(), HostError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(HostError::InvalidRequest(format!(
            "unsupported url scheme `{}`: only http and https are supported",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(HostError::InvalidRequest(format!(
            "url `{}` carries a user name or password; send credentials in a header",
            url.host_str().unwrap_or_default()
        )));
    }
    allow(url.host_str().unwrap_or_default())
}

/// A redirect policy that follows at most [`MAX_REDIRECTS`] hops, each
/// checked with [`check_url`] against `allow`: a redirect can never take a
/// request where the first URL could not have gone.
fn redirect_policy(allow: impl Fn(&str) -> Result<(), HostError> + Send + Sync + 'static) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            let error = format!("more than {MAX_REDIRECTS} redirects");
            return attempt.error(error);
        }
        match check_url(attempt.url(), &allow) {
            Ok(()) => attempt.follow(),
            Err(e) => {
                let error = format!(
                    "redirect to {} refused: {e}",
                    attempt.url().host_str().unwrap_or_default()
                );
                attempt.error(error)
            }
        }
    })
}

/// Reads a response body of at most `max` bytes, chunk by chunk: a larger
/// one (whatever its `content-length` claims) fails as soon as it passes
/// `max`, never buffering more.
pub async fn read_body(mut response: reqwest::Response, max: u64) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|length| length > max) {
        return Err(format!("the response body is larger than {max} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| error_chain(&e))? {
        if (body.len() + chunk.len()) as u64 > max {
            return Err(format!("the response body is larger than {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The HTTP client settings every request Pocket sends on someone's behalf
/// shares: its user agent, and [`redirect_policy`] checking each hop with
/// `allow`.
pub fn client_builder(allow: impl Fn(&str) -> Result<(), HostError> + Send + Sync + 'static) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(concat!("pocket/", env!("CARGO_PKG_VERSION")))
        .redirect(redirect_policy(allow))
}

impl PluginHost {
    /// Sends `request` once the plugin's `http` capability allows the URL's
    /// host; every redirect is checked the same way.
    pub async fn http_request(&self, request: HttpRequest) -> Result<HttpResponse, HostError> {
        let url = reqwest::Url::parse(&request.url)
            .map_err(|e| HostError::InvalidRequest(format!("invalid url `{}`: {e}", request.url)))?;
        check_url(&url, &|host| self.check(Request::Http { host }))?;
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
        let bytes = read_body(response, self.http_body_limit)
            .await
            .map_err(|e| HostError::Http(format!("{e} (the plugin's `http_body` limit)")))?;
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
                let host = PluginHost {
                    client: ClientCell::default(),
                    ..self.clone()
                };
                runtime.block_on(host.http_request(request))
            }
        }
    }

    fn client(&self) -> Result<&reqwest::Client, HostError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let (plugin, permissions) = (self.plugin.clone(), self.permissions.clone());
        let client = client_builder(move |host| Ok(permissions.check(&plugin, Request::Http { host })?))
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
        assert_eq!(
            err.to_string(),
            "permission denied: http:127.0.0.1 (pocket.toml does not grant it to this plugin)"
        );
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

    /// A server on 127.0.0.1 that redirects `/` to `location` and answers
    /// anything else with `final`. Returns its port.
    async fn redirecting_server(location: impl Fn(u16) -> String + Send + 'static) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 2048];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]);
                let reply = if request.starts_with("GET / ") {
                    format!(
                        "HTTP/1.1 302 Found\r\nlocation: {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        location(port)
                    )
                } else {
                    "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nfinal".to_string()
                };
                let _ = socket.write_all(reply.as_bytes()).await;
            }
        });
        port
    }

    fn only_127() -> PluginHost {
        PluginHost::new("p", Permissions::new(vec![Capability::Http(Some("127.0.0.1".into()))]))
    }

    /// The error of a GET of `/` on the local server at `port`, for a plugin
    /// that may reach 127.0.0.1 only.
    async fn refusal(port: u16) -> String {
        only_127()
            .http_request(get(&format!("http://127.0.0.1:{port}/")))
            .await
            .unwrap_err()
            .to_string()
    }

    #[tokio::test]
    async fn a_redirect_to_a_host_outside_the_grant_is_refused() {
        let port = redirecting_server(|port| format!("http://localhost:{port}/final")).await;
        let err = refusal(port).await;
        assert!(
            err.contains("redirect to localhost refused") && err.contains("permission denied: http:localhost"),
            "{err}"
        );
        // A redirect inside the grant is followed.
        let port = redirecting_server(|port| format!("http://127.0.0.1:{port}/final")).await;
        let response = only_127()
            .http_request(get(&format!("http://127.0.0.1:{port}/")))
            .await
            .unwrap();
        assert_eq!(response.body, "final");
    }

    #[tokio::test]
    async fn redirects_to_other_schemes_or_with_user_info_are_refused_and_loops_end() {
        // A redirect to another scheme is not followed: the plugin gets the 302.
        let port = redirecting_server(|_| "file:///etc/passwd".into()).await;
        let response = only_127()
            .http_request(get(&format!("http://127.0.0.1:{port}/")))
            .await
            .unwrap();
        assert_eq!((response.status, response.body.as_str()), (302, ""));
        let port = redirecting_server(|port| format!("http://127.0.0.1@localhost:{port}/final")).await;
        let err = refusal(port).await;
        assert!(err.contains("user name or password"), "{err}");
        let port = redirecting_server(|port| format!("http://127.0.0.1:{port}/")).await;
        let err = refusal(port).await;
        assert!(err.contains("more than 10 redirects"), "{err}");
    }

    #[tokio::test]
    async fn user_info_in_the_first_url_is_refused_before_any_connection() {
        let err = only_127()
            .http_request(get("http://127.0.0.1@evil.example/x"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("user name or password"), "{err}");
    }

    #[tokio::test]
    async fn a_body_over_the_http_body_limit_fails_without_being_buffered() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                // No content-length: the body ends when the connection does.
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n").await;
                let chunk = vec![b'x'; 64 * 1024];
                for _ in 0..64 {
                    if socket.write_all(&chunk).await.is_err() {
                        break;
                    }
                }
            }
        });
        let host = crate::configured_host(
            "[plugins.permissions]\np = [\"http:127.0.0.1\"]\n[plugins.limits.p]\nhttp_body = \"1MiB\"\n",
        );
        let err = host
            .http_request(get(&format!("http://127.0.0.1:{port}/")))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("larger than 1048576 bytes") && err.contains("http_body"),
            "{err}"
        );
        // Within the limit, the same server's body is read whole.
        let roomy = PluginHost::new("p", Permissions::new(vec![Capability::Http(None)]));
        let response = roomy
            .http_request(get(&format!("http://127.0.0.1:{port}/")))
            .await
            .unwrap();
        assert_eq!(response.body.len(), 64 * 64 * 1024);
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
