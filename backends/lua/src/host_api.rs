//! The host API scripts see: `json`, `log` (and `print`/`warn`), and the
//! capability-checked `http`, `env`, `kv` and `nodes`, backed by [`PluginHost`].
//!
//! Host calls never raise: a failure, including a refused capability, returns
//! `nil, message` (`nil, "permission denied: kv"`), as the contract says.

use std::time::{Duration, Instant};

use mlua::{Lua, MultiValue, Table, Value as LuaValue};
use pocket_core::{RunContext, Value};
use pocket_host::{HttpRequest, LogLevel, PluginCall, PluginHost};
use pocket_value::UntrustedJsonError;

use crate::convert::{ConvertError, from_lua, to_lua};
use crate::limits::Meter;

/// How the host API converts values: JSON arrays carry `array_marker`, and a
/// value read out of Lua may weigh at most `max_bytes` (the memory limit).
#[derive(Clone)]
struct Codec {
    array_marker: Table,
    max_bytes: u64,
}

impl Codec {
    /// `value` as a Lua value.
    fn write(&self, lua: &Lua, value: &Value) -> mlua::Result<LuaValue> {
        to_lua(lua, value, &self.array_marker)
    }

    /// A Lua value as a Pocket value, within the budget.
    fn read(&self, value: &LuaValue) -> Result<Value, ConvertError> {
        from_lua(value, &self.array_marker, self.max_bytes)
    }

    /// JSON text from the script or the network as a Lua value: parsed
    /// within the budget, then built in Lua (where the memory limit counts it).
    fn decode(&self, lua: &Lua, text: &str) -> mlua::Result<Result<LuaValue, UntrustedJsonError>> {
        match Value::from_json_within(text, self.max_bytes) {
            Ok(value) => Ok(Ok(self.write(lua, &value)?)),
            Err(e) => Ok(Err(e)),
        }
    }
}

/// What a host call answers: a value, or `nil, message`.
type Answer = Result<LuaValue, String>;

/// The run the current call belongs to, as host calls need it.
#[derive(Default)]
pub(crate) struct RunScope {
    run: Option<RunContext>,
}

/// Makes the run (its store, its plugin calls) visible to `kv` and `nodes`
/// for the call about to start (`None` outside a run).
pub(crate) fn enter(lua: &Lua, run: Option<RunContext>) {
    if let Some(mut scope) = lua.app_data_mut::<RunScope>() {
        scope.run = run;
    }
}

/// The run of the call in progress.
fn current_run(lua: &Lua) -> Option<RunContext> {
    lua.app_data_ref::<RunScope>().and_then(|scope| scope.run.clone())
}

/// Installs the host API's globals in a fresh state.
/// Values read out of Lua (`json.encode`, `kv.set`, log lines, request
/// bodies) are held to `max_bytes`, the state's memory limit.
pub(crate) fn install(lua: &Lua, host: &PluginHost, array_marker: &Table, max_bytes: u64) -> mlua::Result<()> {
    lua.set_app_data(RunScope::default());
    let codec = Codec {
        array_marker: array_marker.clone(),
        max_bytes,
    };
    let globals = lua.globals();
    globals.set("json", json_table(lua, &codec)?)?;
    let log = lua.create_table()?;
    for (name, level) in [
        ("debug", LogLevel::Debug),
        ("info", LogLevel::Info),
        ("warn", LogLevel::Warn),
        ("error", LogLevel::Error),
    ] {
        log.set(name, log_function(lua, host, &codec, level)?)?;
    }
    globals.set("log", log)?;
    globals.set("print", log_function(lua, host, &codec, LogLevel::Info)?)?;
    globals.set("warn", log_function(lua, host, &codec, LogLevel::Warn)?)?;
    globals.set("http", http_table(lua, host, &codec)?)?;
    globals.set("env", env_table(lua, host)?)?;
    globals.set("kv", kv_table(lua, host, &codec)?)?;
    globals.set("nodes", nodes_table(lua, host, &codec)?)?;
    Ok(())
}

fn json_table(lua: &Lua, codec: &Codec) -> mlua::Result<Table> {
    let json = lua.create_table()?;
    json.set("null", LuaValue::NULL)?;
    let encoder = codec.clone();
    json.set(
        "encode",
        lua.create_function(move |_, value: LuaValue| {
            Ok::<Result<String, String>, mlua::Error>(
                encoder
                    .read(&value)
                    .map(|v| v.to_json())
                    .map_err(|e| format!("json.encode: {e}")),
            )
        })?,
    )?;
    let decoder = codec.clone();
    json.set(
        "decode",
        lua.create_function(move |lua, text: mlua::LuaString| {
            let decoded = decoder.decode(lua, &text.to_str()?)?;
            Ok::<Answer, mlua::Error>(decoded.map_err(|e| format!("json.decode: {e}")))
        })?,
    )?;
    let marker = codec.array_marker.clone();
    json.set(
        "array",
        lua.create_function(move |lua, table: Option<Table>| {
            let table = match table {
                Some(t) => t,
                None => lua.create_table()?,
            };
            table.set_metatable(Some(marker.clone()))?;
            Ok(table)
        })?,
    )?;
    Ok(json)
}

/// Text for a log line: strings as they are, other values as JSON, joined by spaces.
fn log_text(args: &MultiValue, codec: &Codec) -> String {
    let parts: Vec<String> = args
        .iter()
        .map(|arg| match arg {
            LuaValue::String(s) => s.to_string_lossy(),
            LuaValue::Nil => "nil".to_string(),
            other => match codec.read(other) {
                Ok(value) => value.to_json(),
                Err(_) => format!("<{}>", other.type_name()),
            },
        })
        .collect();
    parts.join(" ")
}

fn log_function(lua: &Lua, host: &PluginHost, codec: &Codec, level: LogLevel) -> mlua::Result<mlua::Function> {
    let host = host.clone();
    let codec = codec.clone();
    lua.create_function(move |_, args: MultiValue| {
        Ok::<Result<(), String>, mlua::Error>(host.log(level, &log_text(&args, &codec)).map_err(|e| e.to_string()))
    })
}

fn env_table(lua: &Lua, host: &PluginHost) -> mlua::Result<Table> {
    let env = lua.create_table()?;
    let host = host.clone();
    env.set(
        "get",
        lua.create_function(move |lua, name: String| {
            Ok::<Answer, mlua::Error>(match host.env_get(&name) {
                Ok(Some(value)) => Ok(LuaValue::String(lua.create_string(value)?)),
                Ok(None) => Ok(LuaValue::Nil),
                Err(e) => Err(e.to_string()),
            })
        })?,
    )?;
    Ok(env)
}

fn kv_table(lua: &Lua, host: &PluginHost, codec: &Codec) -> mlua::Result<Table> {
    let kv = lua.create_table()?;
    let (get_host, get_codec) = (host.clone(), codec.clone());
    kv.set(
        "get",
        lua.create_function(move |lua, key: String| {
            let run = current_run(lua);
            Ok::<Answer, mlua::Error>(match get_host.kv_get(run.as_ref().map(|r| &**r.store()), &key) {
                Ok(Some(value)) => Ok(get_codec.write(lua, &value)?),
                Ok(None) => Ok(LuaValue::Nil),
                Err(e) => Err(e.to_string()),
            })
        })?,
    )?;
    let (set_host, set_codec) = (host.clone(), codec.clone());
    kv.set(
        "set",
        lua.create_function(move |lua, (key, value): (String, LuaValue)| {
            let value = match set_codec.read(&value) {
                Ok(v) => v,
                Err(e) => return Ok(Err(format!("kv.set: {e}"))),
            };
            let run = current_run(lua);
            Ok::<Answer, mlua::Error>(
                set_host
                    .kv_set(run.as_ref().map(|r| &**r.store()), &key, value)
                    .map(|()| LuaValue::Boolean(true))
                    .map_err(|e| e.to_string()),
            )
        })?,
    )?;
    Ok(kv)
}

/// `nodes.call(type, input, config)`, Lua's plugin-call API: runs another
/// node type; `output, nil, action` on success, `nil, message` on failure,
/// so the second value is always the error. The callee has what is left of this call's time.
fn nodes_table(lua: &Lua, host: &PluginHost, codec: &Codec) -> mlua::Result<Table> {
    let nodes = lua.create_table()?;
    let host = host.clone();
    let codec = codec.clone();
    nodes.set(
        "call",
        lua.create_function(move |lua, (target, input, config): (String, LuaValue, LuaValue)| {
            let (input, config) = match (codec.read(&input), codec.read(&config)) {
                (Ok(input), Ok(config)) => (input, config),
                (Err(e), _) | (_, Err(e)) => {
                    return Ok((LuaValue::Nil, Some(format!("nodes.call: {e}")), None));
                }
            };
            let deadline = lua
                .app_data_ref::<Meter>()
                .and_then(|m| m.remaining())
                .and_then(|left| Instant::now().checked_add(left));
            let call = PluginCall { target, input, config };
            Ok::<_, mlua::Error>(match host.plugin_call(current_run(lua).as_ref(), call, deadline) {
                Ok(out) => (codec.write(lua, &out.output)?, None, out.action.map(|a| a.to_string())),
                Err(e) => (LuaValue::Nil, Some(e.to_string()), None),
            })
        })?,
    )?;
    Ok(nodes)
}

fn http_table(lua: &Lua, host: &PluginHost, codec: &Codec) -> mlua::Result<Table> {
    let http = lua.create_table()?;
    let host = host.clone();
    let codec = codec.clone();
    http.set(
        "request",
        lua.create_function(move |lua, options: LuaValue| {
            let request = match http_request(lua, &options, &codec) {
                Ok(r) => r,
                Err(message) => return Ok(Err(format!("http.request: {message}"))),
            };
            Ok::<Answer, mlua::Error>(match host.http_request_blocking(request) {
                Ok(response) => {
                    let table = lua.create_table()?;
                    table.set("status", response.status)?;
                    let headers = lua.create_table()?;
                    for (name, value) in &response.headers {
                        headers.set(name.as_str(), value.as_str())?;
                    }
                    table.set("headers", headers)?;
                    let is_json = response
                        .headers
                        .iter()
                        .any(|(k, v)| k == "content-type" && v.contains("json"));
                    if is_json && let Ok(value) = codec.decode(lua, &response.body)? {
                        table.set("json", value)?;
                    }
                    table.set("body", response.body)?;
                    Ok(LuaValue::Table(table))
                }
                Err(e) => Err(e.to_string()),
            })
        })?,
    )?;
    Ok(http)
}

/// Reads `http.request`'s argument: a URL, or `{url, method, headers, body, timeout}`.
/// A table `body` is sent as JSON. The timeout never exceeds what is left of the call.
fn http_request(lua: &Lua, options: &LuaValue, codec: &Codec) -> Result<HttpRequest, String> {
    let remaining = lua.app_data_ref::<Meter>().and_then(|m| m.remaining());
    let mut request = HttpRequest {
        method: "GET".to_string(),
        url: String::new(),
        headers: Vec::new(),
        body: None,
        timeout: remaining,
    };
    let table = match options {
        LuaValue::String(url) => {
            request.url = url.to_string_lossy();
            return Ok(request);
        }
        LuaValue::Table(t) => t,
        other => return Err(format!("expected a URL or an options table, got {}", other.type_name())),
    };
    let field = |name: &str| table.get::<LuaValue>(name).map_err(|e| e.to_string());
    match field("url")? {
        LuaValue::String(url) => request.url = url.to_string_lossy(),
        _ => return Err("`url` is required".to_string()),
    }
    if let LuaValue::String(method) = field("method")? {
        request.method = method.to_string_lossy();
    }
    if let LuaValue::Table(headers) = field("headers")? {
        for pair in headers.pairs::<String, String>() {
            request.headers.push(pair.map_err(|e| format!("headers: {e}"))?);
        }
    }
    match field("body")? {
        LuaValue::Nil => {}
        LuaValue::String(body) => request.body = Some(body.as_bytes().to_vec()),
        other => {
            let value = codec.read(&other).map_err(|e| format!("body: {e}"))?;
            request.body = Some(value.to_json().into_bytes());
            if !request
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                request
                    .headers
                    .push(("content-type".to_string(), "application/json".to_string()));
            }
        }
    }
    if let LuaValue::Integer(_) | LuaValue::Number(_) = field("timeout")? {
        let seconds: f64 = table.get("timeout").map_err(|e| e.to_string())?;
        let asked = Duration::try_from_secs_f64(seconds).map_err(|_| format!("invalid timeout {seconds}"))?;
        request.timeout = Some(remaining.map_or(asked, |r| r.min(asked)));
    }
    Ok(request)
}
