//! `http`: sends an HTTP request: `{status, headers, body}`.
//!
//! `url`, `headers` and `body` are templates. A body that is not a string is
//! sent as JSON. A JSON response body (`application/json`, `...+json`) is
//! parsed; any other is text. Network errors and 5xx responses are retried
//! (`retry`: attempts, delay, backoff multiplier, cap); when they persist, a
//! network error fails the node and a response is returned with the action
//! `error`, as is any 4xx response, with `error` describing the status.
//! Header names in the output are lower-case; repeated headers are joined
//! with `, `.
//!
//! Every URL the request reaches, the first and each redirect's target, must
//! be http or https without a user name or password in it (so
//! `https://api.example.com{{.path}}` cannot be turned into a request to
//! another host by a path of `@evil.com`), and, with `allowed_hosts`, have a
//! host that one of its patterns matches. At most 10 redirects are followed.

use std::sync::Arc;
use std::time::Duration;

use pocket_core::{
    ConfigError, Execution, Invocation, Map, Node, NodeError, NodeOutput, NodeSetup, RetrySpec, Value, glob_match,
};
use pocket_host::HostError;
use pocket_value::UntrustedJsonError;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::json;

use crate::builtin::{Builtin, check_static_duration, config_duration, config_size, static_string_list};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest response body read when `max_body` is not set.
const DEFAULT_MAX_BODY: u64 = 16 * 1024 * 1024;

/// What a JSON response may take once parsed, per byte of `max_body`: any
/// flat JSON that fits `max_body` parses, while a body that nests or
/// expands past it is refused before anything is built.
const PARSED_PER_BODY_BYTE: u64 = 16;

pub(crate) struct Http;

impl Builtin for Http {
    const NAME: &'static str = "http";
    const DESCRIPTION: &'static str =
        "Sends an HTTP request with timeout and retries: {status, headers, body}; action `error` on failure";

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "properties": {
                "url": {"type": "string", "minLength": 1, "description": "The URL, http or https (templates allowed)"},
                "method": {"enum": ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"], "default": "GET", "description": "The HTTP method"},
                "headers": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}, "description": "Request headers (templates allowed)"},
                "body": {"description": "The request body (not sent with GET or HEAD): a string as is, anything else as JSON (templates allowed)"},
                "timeout": {"type": ["string", "number"], "default": "30s", "description": "Time limit per attempt"},
                "max_body": {"type": ["string", "integer"], "default": "16MiB", "description": "The largest response body read (`16MiB`, or bytes); a larger one fails the attempt"},
                "allowed_hosts": {"type": "array", "items": {"type": "string"}, "description": "When set, the only hosts the request and its redirects may reach (`*` matches any run of characters); fixed before the run"},
                "retry": {
                    "type": "object",
                    "description": "Retries on network errors and 5xx responses",
                    "properties": {
                        "max_attempts": {"type": "integer", "minimum": 1, "default": 3, "description": "Attempts in all, the first included"},
                        "delay": {"type": ["string", "number"], "default": "1s", "description": "Wait before the second attempt"},
                        "multiplier": {"type": "number", "minimum": 1, "default": 2, "description": "Factor applied to the wait after each attempt"},
                        "max_delay": {"type": ["string", "number"], "default": "30s", "description": "Upper bound on the wait"}
                    },
                    "additionalProperties": false
                }
            },
            "required": ["url"],
            "additionalProperties": false
        })
    }

    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        check_static_duration(setup, "timeout")?;
        let allowed_hosts = allowed_hosts(setup)?;
        let policy_hosts = allowed_hosts.clone();
        let client = pocket_host::client_builder(move |host| policy_hosts.allow(host))
            .build()
            .map_err(|e| ConfigError::new(format!("cannot create the HTTP client: {e}")))?;
        Ok(Arc::new(HttpRun { client, allowed_hosts }))
    }
}

/// The node's `allowed_hosts` patterns; `None` allows any host.
#[derive(Clone)]
struct AllowedHosts(Option<Arc<[String]>>);

impl AllowedHosts {
    fn allow(&self, host: &str) -> Result<(), HostError> {
        let host = host.to_ascii_lowercase();
        match &self.0 {
            Some(patterns) if !patterns.iter().any(|p| glob_match(p, &host)) => Err(HostError::InvalidRequest(
                format!("host `{host}` is not in `allowed_hosts`"),
            )),
            _ => Ok(()),
        }
    }
}

fn allowed_hosts(setup: &NodeSetup<'_>) -> Result<AllowedHosts, ConfigError> {
    let patterns = static_string_list(setup, "allowed_hosts")?;
    Ok(AllowedHosts(
        patterns.map(|list| list.iter().map(|p| p.to_ascii_lowercase()).collect()),
    ))
}

struct HttpRun {
    /// Shared by every call of the node (connection pooling).
    client: reqwest::Client,
    allowed_hosts: AllowedHosts,
}

impl Node for HttpRun {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        let request = match Request::from_config(&call.config) {
            Ok(request) => request,
            Err(e) => return Execution::Ready(Err(e)),
        };
        if let Err(e) = pocket_host::check_url(&request.url, &|host| self.allowed_hosts.allow(host)) {
            return Execution::Ready(Err(NodeError::PermissionDenied(format!("{}: {e}", request.url))));
        }
        Execution::pending(async move {
            tokio::select! {
                result = request.send_with_retries(&self.client) => result,
                () = call.run.cancel().cancelled() => Err(NodeError::Cancelled),
            }
        })
    }
}

/// One request as the rendered config describes it.
struct Request {
    method: reqwest::Method,
    url: reqwest::Url,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
    timeout: Duration,
    max_body: u64,
    retry: RetrySpec,
}

impl Request {
    fn from_config(config: &Value) -> Result<Request, NodeError> {
        let invalid = NodeError::InvalidConfig;
        let url = match config.get("url") {
            Some(Value::String(s)) => s,
            _ => return Err(invalid("`url` must render to a string".into())),
        };
        let url = reqwest::Url::parse(url).map_err(|e| invalid(format!("invalid url `{url}`: {e}")))?;
        let method = config.get("method").and_then(Value::as_str).unwrap_or("GET");
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| invalid(format!("invalid method `{method}`")))?;
        let mut headers = HeaderMap::new();
        if let Some(Value::Object(written)) = config.get("headers") {
            for (name, value) in written.iter() {
                let header = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| invalid(format!("invalid header name `{name}`")))?;
                let value = HeaderValue::from_str(&value.to_display_string())
                    .map_err(|_| invalid(format!("invalid value for header `{name}`")))?;
                headers.insert(header, value);
            }
        }
        let body = match config.get("body") {
            None | Some(Value::Null) => None,
            Some(_) if matches!(method, reqwest::Method::GET | reqwest::Method::HEAD) => None,
            Some(Value::String(text)) => Some(text.as_bytes().to_vec()),
            Some(other) => {
                headers
                    .entry(CONTENT_TYPE)
                    .or_insert(HeaderValue::from_static("application/json"));
                Some(other.to_json().into_bytes())
            }
        };
        let retry = config.get("retry").cloned().unwrap_or_default();
        let retry = RetrySpec {
            max_attempts: retry
                .get("max_attempts")
                .and_then(Value::as_i64)
                .map_or(3, |n| u32::try_from(n.max(1)).unwrap_or(u32::MAX)),
            delay: config_duration(&retry, "delay", Duration::from_secs(1))?,
            multiplier: retry.get("multiplier").and_then(Value::as_f64).unwrap_or(2.0),
            max_delay: config_duration(&retry, "max_delay", Duration::from_secs(30))?,
        };
        Ok(Request {
            method,
            url,
            headers,
            body,
            timeout: config_duration(config, "timeout", DEFAULT_TIMEOUT)?,
            max_body: config_size(config, "max_body", DEFAULT_MAX_BODY)?,
            retry,
        })
    }

    async fn send_with_retries(&self, client: &reqwest::Client) -> Result<NodeOutput, NodeError> {
        let mut attempt = 1;
        loop {
            let outcome = self.send(client).await;
            let retryable = match &outcome {
                Ok(response) => response.status >= 500,
                Err(_) => true,
            };
            if !retryable || attempt >= self.retry.max_attempts {
                return match outcome {
                    Ok(response) => Ok(response.into_output()),
                    Err(e) => Err(NodeError::failed(format!(
                        "{} {} failed{}: {e}",
                        self.method,
                        self.url,
                        if attempt > 1 {
                            format!(" after {attempt} attempts")
                        } else {
                            String::new()
                        }
                    ))),
                };
            }
            let delay = self.retry.delay_after(attempt);
            match &outcome {
                Ok(response) => tracing::debug!(url = %self.url, attempt, status = response.status, ?delay, "retrying"),
                Err(e) => tracing::debug!(url = %self.url, attempt, error = %e, ?delay, "retrying"),
            }
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn send(&self, client: &reqwest::Client) -> Result<Response, String> {
        let mut request = client
            .request(self.method.clone(), self.url.clone())
            .headers(self.headers.clone())
            .timeout(self.timeout);
        if let Some(body) = &self.body {
            request = request.body(body.clone());
        }
        let response = request.send().await.map_err(describe)?;
        let status = response.status();
        let mut headers = Map::new();
        for (name, value) in response.headers() {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            match headers.get_mut(name.as_str()) {
                Some(Value::String(existing)) => *existing = format!("{existing}, {value}").into(),
                _ => {
                    headers.insert(name.as_str().to_string(), Value::from(value));
                }
            }
        }
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        let bytes = pocket_host::read_body(response, self.max_body)
            .await
            .map_err(|e| format!("{e} (`max_body`)"))?;
        let text = String::from_utf8_lossy(&bytes);
        let body = if is_json {
            match Value::from_json_within(&text, self.max_body.saturating_mul(PARSED_PER_BODY_BYTE)) {
                Ok(value) => value,
                Err(UntrustedJsonError::TooBig(too_big)) => {
                    return Err(format!("the JSON response cannot be read: {too_big}"));
                }
                // Labelled JSON but not JSON: the text, as for other types.
                Err(_) => Value::from(text.into_owned()),
            }
        } else {
            Value::from(text.into_owned())
        };
        Ok(Response {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or_default(),
            headers,
            body,
        })
    }
}

/// A reqwest error with its causes (reqwest's own message is terse).
fn describe(error: reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_string()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

struct Response {
    status: u16,
    reason: &'static str,
    headers: Map,
    body: Value,
}

impl Response {
    fn into_output(self) -> NodeOutput {
        let failed = self.status >= 400;
        let mut output = Map::new();
        output.insert("status", Value::from(i64::from(self.status)));
        output.insert("headers", Value::from(self.headers));
        output.insert("body", self.body);
        if failed {
            output.insert(
                "error",
                Value::from(format!("HTTP {} {}", self.status, self.reason).trim_end().to_string()),
            );
            NodeOutput::new(Value::from(output)).with_action("error")
        } else {
            NodeOutput::new(Value::from(output))
        }
    }
}
