//! Host calls from a plugin's process, answered by pocket-host under the
//! plugin's grants, rate limits and quotas, as for every other kind. The
//! arguments are a JSON object per function (see
//! `docs/process-protocol.md`); the answer is a value, or why not.

use std::time::Instant;

use pocket_core::{RunContext, Value};
use pocket_host::{HostError, HttpRequest, LogLevel, PluginCall, PluginHost};
use serde::Deserialize;

/// What a call's host calls run in.
pub(crate) struct CallScope {
    /// The run (its store, its plugin calls).
    pub run: Option<RunContext>,
    /// The plugin's config.
    pub plugin_config: Value,
    /// When the call must end.
    pub deadline: Option<Instant>,
    /// The async runtime the call runs on: host calls that run other
    /// nodes or send HTTP requests enter it.
    pub runtime: Option<tokio::runtime::Handle>,
}

#[derive(Deserialize)]
struct Log {
    #[serde(default)]
    level: String,
    message: String,
}

#[derive(Deserialize)]
struct Key {
    key: String,
}

#[derive(Deserialize)]
struct KvSet {
    key: String,
    value: Value,
}

#[derive(Deserialize)]
struct Env {
    name: String,
}

#[derive(Deserialize)]
struct Http {
    #[serde(default = "get")]
    method: String,
    url: String,
    #[serde(default)]
    headers: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    body: Option<String>,
}

fn get() -> String {
    "GET".into()
}

#[derive(Deserialize)]
struct Call {
    #[serde(rename = "type")]
    target: String,
    #[serde(default)]
    input: Value,
    #[serde(default = "Value::empty_object")]
    config: Value,
}

fn args<T: serde::de::DeserializeOwned>(function: &str, args: serde_json::Value) -> Result<T, String> {
    serde_json::from_value(args).map_err(|e| format!("`{function}`: bad arguments: {e}"))
}

fn failed(error: HostError) -> String {
    error.to_string()
}

/// Runs host function `function` with `raw` arguments for a call in `scope`.
pub(crate) fn answer(
    host: &PluginHost,
    scope: &CallScope,
    function: &str,
    raw: serde_json::Value,
) -> Result<Value, String> {
    let store = scope.run.as_ref().map(|run| &**run.store());
    match function {
        "log" => {
            let Log { level, message } = args(function, raw)?;
            let level = match level.as_str() {
                "debug" | "trace" => LogLevel::Debug,
                "warn" | "warning" => LogLevel::Warn,
                "error" => LogLevel::Error,
                _ => LogLevel::Info,
            };
            host.log(level, &message).map_err(failed)?;
            Ok(Value::Null)
        }
        "kv_get" => {
            let Key { key } = args(function, raw)?;
            Ok(host.kv_get(store, &key).map_err(failed)?.unwrap_or(Value::Null))
        }
        "kv_set" => {
            let KvSet { key, value } = args(function, raw)?;
            host.kv_set(store, &key, value).map_err(failed)?;
            Ok(Value::Null)
        }
        "config_get" => {
            let Key { key } = args(function, raw)?;
            Ok(scope.plugin_config.get(&key).cloned().unwrap_or(Value::Null))
        }
        "env_get" => {
            let Env { name } = args(function, raw)?;
            Ok(host.env_get(&name).map_err(failed)?.map_or(Value::Null, Value::from))
        }
        "http" => {
            let Http {
                method,
                url,
                headers,
                body,
            } = args(function, raw)?;
            let headers = headers
                .into_iter()
                .map(|(name, value)| (name, value.as_str().map_or_else(|| value.to_string(), str::to_string)))
                .collect();
            let request = HttpRequest {
                method,
                url,
                headers,
                body: body.map(String::into_bytes),
                timeout: scope.deadline.map(|d| d.saturating_duration_since(Instant::now())),
            };
            let response = host.http_request_blocking(request).map_err(failed)?;
            let headers: Vec<(String, Value)> = response
                .headers
                .into_iter()
                .map(|(name, value)| (name, Value::from(value)))
                .collect();
            Ok(Value::object([
                ("status", Value::from(u64::from(response.status))),
                ("headers", Value::object(headers)),
                ("body", Value::from(response.body)),
            ]))
        }
        "plugin_call" => {
            let Call { target, input, config } = args(function, raw)?;
            let call = PluginCall { target, input, config };
            let out = host
                .plugin_call(scope.run.as_ref(), call, scope.deadline)
                .map_err(failed)?;
            let action = out.action.map_or(Value::Null, |a| Value::from(a.to_string()));
            Ok(Value::object([("output", out.output), ("action", action)]))
        }
        other => Err(format!(
            "unknown host function `{other}` (there are log, kv_get, kv_set, config_get, env_get, http, plugin_call)"
        )),
    }
}
