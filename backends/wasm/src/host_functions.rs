//! The host functions in module `pocket`, backed by [`PluginHost`] so that
//! they refuse exactly what the Lua backend refuses.
//!
//! No host function traps on bad input: a pointer/length outside linear
//! memory, invalid UTF-8 or a denied capability returns an error value
//! (`-1` for packed results, a non-zero code for `kv_set`, an `{"error"}`
//! object for `http_request`) and is logged with the plugin's name. Only a
//! trap inside the guest's own `pocket_alloc` (called to hand a buffer back)
//! propagates, since the guest cannot continue after it.
//!
//! Host functions are never re-entered: a guest whose `pocket_alloc` calls a
//! host function while the host is handing it a buffer would otherwise make
//! the host recurse (alloc -> host function -> alloc ...) until its own stack
//! overflowed. Such a call traps instead, at any depth.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use pocket_core::{RunContext, Value};
use pocket_host::{HttpRequest, LogLevel, PluginCall, PluginHost};
use wasmer::{
    Function, FunctionEnv, FunctionEnvMut, Global, Imports, Memory, RuntimeError, Store, TypedFunction, imports,
};

use pocket_wasm_abi::{
    HttpAnswer, HttpResponse, LogLevel as GuestLevel, PluginCall as GuestCall, PluginCallAnswer, kv_set_code as kv_code,
};

use crate::abi::{IMPORT_MODULE, PACKED_ERROR, pack, read_guest, unsigned};
use crate::extism_kernel::Kernel;
use crate::wasi_state::WasiState;

/// What the host functions of one instance can reach.
pub(crate) struct HostEnv {
    host: PluginHost,
    /// The plugin's memory limit: what parsing a guest's request may take.
    max_bytes: u64,
    memory: Option<Memory>,
    alloc: Option<TypedFunction<i32, i32>>,
    call: CallScope,
    /// A host function is running the guest's `pocket_alloc`: any host call
    /// now is a re-entrant one.
    in_alloc: bool,
    /// What the WASI functions give and keep (for a module importing them).
    pub(crate) wasi: WasiState,
    /// Extism's kernel state (for an Extism module).
    pub(crate) extism: Kernel,
    /// The fuel meter's count of what the call has used, if the module is
    /// metered: host functions that move many bytes add their cost to it.
    fuel_used: Option<Global>,
}

/// The parts of a call that host functions need.
#[derive(Default)]
pub(crate) struct CallScope {
    /// The run the call belongs to (its store, its plugin calls).
    pub run: Option<RunContext>,
    /// The plugin's config (pocket.toml and the workflow's `plugins:`).
    pub plugin_config: Value,
    /// When the call must end.
    pub deadline: Option<Instant>,
}

impl HostEnv {
    pub(crate) fn new(host: PluginHost, max_bytes: u64) -> Self {
        HostEnv {
            wasi: WasiState::new(&host),
            extism: Kernel::new(max_bytes),
            fuel_used: None,
            host,
            max_bytes,
            memory: None,
            alloc: None,
            call: CallScope::default(),
            in_alloc: false,
        }
    }

    /// Connects the instance's memory, (for a Pocket-ABI module) its
    /// allocator and (for a metered module) its fuel count, once instantiated.
    pub(crate) fn connect(
        &mut self,
        memory: Memory,
        alloc: Option<TypedFunction<i32, i32>>,
        fuel_used: Option<Global>,
    ) {
        self.memory = Some(memory);
        self.alloc = alloc;
        self.fuel_used = fuel_used;
    }

    /// Sets the scope of the call about to start (and clears it with the
    /// default, when the call is over: its unfinished output lines are
    /// logged then).
    pub(crate) fn enter(&mut self, call: CallScope) {
        self.wasi.flush(&self.host);
        self.call = call;
    }

    /// The plugin's host.
    pub(crate) fn host(&self) -> &PluginHost {
        &self.host
    }

    /// The environment its WASI functions give the guest.
    pub(crate) fn wasi_environ(&mut self) -> &[Vec<u8>] {
        self.wasi.environ(&self.host)
    }

    /// The plugin's host and the guest's WASI descriptors (files and
    /// directories).
    pub(crate) fn wasi_descriptors(&mut self) -> (&PluginHost, &mut crate::wasi_descriptors::Descriptors) {
        (&self.host, self.wasi.descriptors(&self.host))
    }

    /// The instance's memory, once connected.
    pub(crate) fn memory(&self) -> Option<&Memory> {
        self.memory.as_ref()
    }

    /// When the call in progress must end, if it has a deadline.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.call.deadline
    }
}

/// The `pocket` host functions, bound to `env`.
pub(crate) fn imports(store: &mut Store, env: &FunctionEnv<HostEnv>) -> Imports {
    imports! {
        IMPORT_MODULE => {
            "log" => Function::new_typed_with_env(store, env, log),
            "now_ms" => Function::new_typed_with_env(store, env, now_ms),
            "config_get" => Function::new_typed_with_env(store, env, config_get),
            "kv_get" => Function::new_typed_with_env(store, env, kv_get),
            "kv_set" => Function::new_typed_with_env(store, env, kv_set),
            "http_request" => Function::new_typed_with_env(store, env, http_request),
            "panic" => Function::new_typed_with_env(store, env, panic),
            "plugin_call" => Function::new_typed_with_env(store, env, plugin_call),
        }
    }
}

/// Charges the call in progress for a host function that moved `bytes`
/// bytes, at the rate of `memory.copy` (one unit per 8 bytes), so that work
/// done inside one host call is paid for like the guest's own: the guest
/// stops at its next fuel check if that takes it past its limit.
pub(crate) fn charge(env: &mut FunctionEnvMut<'_, HostEnv>, bytes: usize) {
    let (data, mut store) = env.data_and_store_mut();
    let Some(used) = &data.fuel_used else { return };
    let units = (bytes as u64) >> crate::fuel_meter::MEMORY_BYTES_SHIFT;
    let now = used.get(&mut store).i64().unwrap_or_default().cast_unsigned();
    let _ = used.set(&mut store, wasmer::Value::I64(now.saturating_add(units).cast_signed()));
}

/// Refuses a host call made from inside the guest's `pocket_alloc` while a
/// host function is waiting for it.
fn not_reentrant(env: &FunctionEnvMut<'_, HostEnv>, function: &str) -> Result<(), RuntimeError> {
    if env.data().in_alloc {
        tracing::warn!(
            plugin = env.data().host.plugin(),
            function,
            "re-entrant host call refused"
        );
        return Err(RuntimeError::new(format!(
            "re-entrant host call: `{function}` was called from inside `pocket_alloc` while the host was handing the guest a buffer"
        )));
    }
    Ok(())
}

/// Copies `len` bytes at `ptr` out of the guest's memory; `None` if out of bounds.
fn read(env: &mut FunctionEnvMut<'_, HostEnv>, ptr: i32, len: i32) -> Option<Vec<u8>> {
    let (data, store) = env.data_and_store_mut();
    let memory = data.memory.as_ref()?;
    let bytes = read_guest(&memory.view(&store), unsigned(ptr), unsigned(len));
    if bytes.is_none() {
        tracing::warn!(
            plugin = data.host.plugin(),
            ptr = unsigned(ptr),
            len = unsigned(len),
            "host call with a buffer outside linear memory"
        );
    }
    bytes
}

fn read_text(env: &mut FunctionEnvMut<'_, HostEnv>, ptr: i32, len: i32) -> Option<String> {
    let bytes = read(env, ptr, len)?;
    match String::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(_) => {
            tracing::warn!(plugin = env.data().host.plugin(), "host call with invalid UTF-8 text");
            None
        }
    }
}

/// Hands `bytes` to the guest in a buffer from its `pocket_alloc`; packed.
fn give(env: &mut FunctionEnvMut<'_, HostEnv>, bytes: &[u8]) -> Result<i64, RuntimeError> {
    charge(env, bytes.len());
    let Ok(len) = u32::try_from(bytes.len()) else {
        return Ok(PACKED_ERROR);
    };
    let (data, mut store) = env.data_and_store_mut();
    let (Some(alloc), Some(memory)) = (data.alloc.clone(), data.memory.clone()) else {
        return Ok(PACKED_ERROR);
    };
    data.in_alloc = true;
    let ptr = alloc.call(&mut store, len.cast_signed());
    data.in_alloc = false;
    let ptr = ptr?;
    if ptr == 0 {
        tracing::warn!(plugin = data.host.plugin(), len, "pocket_alloc returned 0");
        return Ok(PACKED_ERROR);
    }
    match memory.view(&store).write(u64::from(unsigned(ptr)), bytes) {
        Ok(()) => Ok(pack(unsigned(ptr), len)),
        Err(_) => {
            tracing::warn!(
                plugin = data.host.plugin(),
                ptr = unsigned(ptr),
                len,
                "pocket_alloc returned a buffer outside linear memory"
            );
            Ok(PACKED_ERROR)
        }
    }
}

/// A guest's panic, reported by its panic hook through `panic`: the trap
/// that ends the call carries it, so the node error can say what panicked
/// and where.
#[derive(Debug, thiserror::Error)]
#[error("panicked: {0}")]
pub(crate) struct GuestPanic(pub String);

/// `panic(ptr, len)`: the guest is panicking with the message at `ptr`; the
/// call traps here with it. Needs no capability (it reports only on the
/// guest itself) and is allowed even from inside `pocket_alloc`: it never
/// returns to the guest, so it cannot recurse. At most
/// [`MAX_PANIC_MESSAGE`](pocket_wasm_abi::MAX_PANIC_MESSAGE) bytes are read,
/// as one line.
fn panic(mut env: FunctionEnvMut<'_, HostEnv>, ptr: i32, len: i32) -> Result<(), RuntimeError> {
    let len = unsigned(len).min(pocket_wasm_abi::MAX_PANIC_MESSAGE).cast_signed();
    let message = match read(&mut env, ptr, len) {
        Some(bytes) => pocket_host::one_line(&String::from_utf8_lossy(&bytes)),
        None => "(its message was outside linear memory)".to_string(),
    };
    Err(RuntimeError::user(Box::new(GuestPanic(message))))
}

fn log(mut env: FunctionEnvMut<'_, HostEnv>, level: i32, ptr: i32, len: i32) -> Result<(), RuntimeError> {
    not_reentrant(&env, "log")?;
    let Some(bytes) = read(&mut env, ptr, len) else {
        return Ok(());
    };
    let message = String::from_utf8_lossy(&bytes);
    let level = match GuestLevel::from_code(level) {
        GuestLevel::Trace | GuestLevel::Debug => LogLevel::Debug,
        GuestLevel::Info => LogLevel::Info,
        GuestLevel::Warn => LogLevel::Warn,
        GuestLevel::Error => LogLevel::Error,
    };
    // A refusal is logged by the permission check; `log` has no result to carry it.
    let _ = env.data().host.log(level, &message);
    Ok(())
}

fn now_ms(env: FunctionEnvMut<'_, HostEnv>) -> Result<i64, RuntimeError> {
    not_reentrant(&env, "now_ms")?;
    Ok(SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
}

fn config_get(mut env: FunctionEnvMut<'_, HostEnv>, key_ptr: i32, key_len: i32) -> Result<i64, RuntimeError> {
    not_reentrant(&env, "config_get")?;
    let Some(key) = read_text(&mut env, key_ptr, key_len) else {
        return Ok(PACKED_ERROR);
    };
    let json = match env.data().call.plugin_config.get(&key) {
        Some(value) => value.to_json(),
        None => return Ok(0),
    };
    give(&mut env, json.as_bytes())
}

fn kv_get(mut env: FunctionEnvMut<'_, HostEnv>, key_ptr: i32, key_len: i32) -> Result<i64, RuntimeError> {
    not_reentrant(&env, "kv_get")?;
    let Some(key) = read_text(&mut env, key_ptr, key_len) else {
        return Ok(PACKED_ERROR);
    };
    let data = env.data();
    let found = match data.host.kv_get(data.call.run.as_ref().map(|r| &**r.store()), &key) {
        Ok(found) => found,
        Err(e) => {
            tracing::debug!(plugin = data.host.plugin(), error = %e, "kv_get failed");
            return Ok(PACKED_ERROR);
        }
    };
    let bytes = match found {
        None => return Ok(0),
        Some(Value::String(text)) => text.as_bytes().to_vec(),
        Some(other) => other.to_json().into_bytes(),
    };
    give(&mut env, &bytes)
}

fn kv_set(
    mut env: FunctionEnvMut<'_, HostEnv>,
    key_ptr: i32,
    key_len: i32,
    val_ptr: i32,
    val_len: i32,
) -> Result<i32, RuntimeError> {
    not_reentrant(&env, "kv_set")?;
    let (Some(key), Some(value)) = (
        read_text(&mut env, key_ptr, key_len),
        read_text(&mut env, val_ptr, val_len),
    ) else {
        return Ok(kv_code::INVALID);
    };
    let data = env.data();
    Ok(
        match data
            .host
            .kv_set(data.call.run.as_ref().map(|r| &**r.store()), &key, Value::from(value))
        {
            Ok(()) => kv_code::OK,
            Err(pocket_host::HostError::Denied(_)) => kv_code::DENIED,
            Err(pocket_host::HostError::NoStore) => kv_code::NO_STORE,
            Err(pocket_host::HostError::KvFull(_)) => kv_code::FULL,
            Err(pocket_host::HostError::RateLimited(_)) => kv_code::RATE_LIMITED,
            Err(_) => kv_code::INVALID,
        },
    )
}

fn http_request(mut env: FunctionEnvMut<'_, HostEnv>, req_ptr: i32, req_len: i32) -> Result<i64, RuntimeError> {
    not_reentrant(&env, "http_request")?;
    let answer = match read(&mut env, req_ptr, req_len) {
        Some(bytes) => http_answer(env.data(), &bytes),
        None => error_json("request buffer is outside linear memory"),
    };
    give(&mut env, answer.as_bytes())
}

/// Sends the request described by `json`; the response or `{"error"}` as JSON text.
fn http_answer(data: &HostEnv, json: &[u8]) -> String {
    let request: serde_json::Value = match parse_request(data, json) {
        Ok(value) => value,
        Err(e) => return error_json(&format!("invalid request JSON: {e}")),
    };
    let text = |key: &str| request.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let Some(url) = text("url") else {
        return error_json("request has no `url`");
    };
    let headers = match request.get("headers") {
        Some(serde_json::Value::Object(map)) => map
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
            .collect(),
        _ => Vec::new(),
    };
    let body = match request.get("body") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone().into_bytes()),
        Some(other) => Some(other.to_string().into_bytes()),
    };
    let timeout = data.call.deadline.map(|d| d.saturating_duration_since(Instant::now()));
    let request = HttpRequest {
        method: text("method").unwrap_or_else(|| "GET".into()),
        url,
        headers,
        body,
        timeout,
    };
    match data.host.http_request_blocking(request) {
        Ok(response) => answer_json(HttpAnswer::Response(HttpResponse {
            status: response.status,
            headers: response.headers.into_iter().collect(),
            body: response.body,
        })),
        Err(e) => error_json(&e.to_string()),
    }
}

/// `plugin_call(ptr, len)`: runs the node type the JSON call at `ptr`
/// names; answers `{"output", "action"}` or `{"error"}` as JSON.
fn plugin_call(mut env: FunctionEnvMut<'_, HostEnv>, req_ptr: i32, req_len: i32) -> Result<i64, RuntimeError> {
    not_reentrant(&env, "plugin_call")?;
    let answer = match read(&mut env, req_ptr, req_len) {
        Some(bytes) => call_answer(env.data(), &bytes),
        None => PluginCallAnswer::Error {
            error: "call buffer is outside linear memory".into(),
        },
    };
    let json = serde_json::to_string(&answer).unwrap_or_else(|e| error_json(&e.to_string()));
    give(&mut env, json.as_bytes())
}

/// Makes the call `json` describes for the guest.
fn call_answer(data: &HostEnv, json: &[u8]) -> PluginCallAnswer {
    let call: GuestCall = match parse_request(data, json) {
        Ok(call) => call,
        Err(e) => {
            return PluginCallAnswer::Error {
                error: format!("invalid plugin_call JSON: {e}"),
            };
        }
    };
    let call = PluginCall {
        target: call.node_type,
        input: Value::from(call.input),
        config: Value::from(call.config),
    };
    match data.host.plugin_call(data.call.run.as_ref(), call, data.call.deadline) {
        Ok(out) => PluginCallAnswer::Output {
            output: serde_json::Value::from(&out.output),
            action: out.action.map(|a| a.to_string()),
        },
        Err(e) => PluginCallAnswer::Error { error: e.to_string() },
    }
}

/// A guest's JSON request, parsed only if parsing it takes no more than the
/// plugin's memory limit ([`pocket_value::check_footprint`]): a request of a
/// few MB must not become gigabytes of host memory.
pub(crate) fn parse_request<T: serde::de::DeserializeOwned>(data: &HostEnv, json: &[u8]) -> Result<T, String> {
    let text = std::str::from_utf8(json).map_err(|e| format!("not UTF-8 ({e})"))?;
    pocket_value::check_footprint(text, data.max_bytes).map_err(|e| format!("refused: {e}"))?;
    serde_json::from_str(text).map_err(|e| e.to_string())
}

fn error_json(message: &str) -> String {
    answer_json(HttpAnswer::Error {
        error: message.to_string(),
    })
}

/// `http_request`'s answer as JSON text.
fn answer_json(answer: HttpAnswer) -> String {
    serde_json::to_string(&answer).unwrap_or_else(|e| format!(r#"{{"error":"unanswerable: {e}"}}"#))
}

#[cfg(test)]
mod tests {
    use pocket_core::Permissions;

    use super::*;

    #[test]
    fn a_request_that_would_parse_past_the_memory_limit_is_refused_unparsed() {
        let env = HostEnv::new(PluginHost::new("p", Permissions::default()), 1 << 20);
        // 1 MB of text that would parse into about 16 MB of values.
        let wide = format!("[{}0]", "0,".repeat(500_000));
        let refused = parse_request::<serde_json::Value>(&env, wide.as_bytes()).unwrap_err();
        assert!(
            refused.contains("refused") && refused.contains("more than the limit"),
            "{refused}"
        );
        let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
        let refused = parse_request::<serde_json::Value>(&env, deep.as_bytes()).unwrap_err();
        assert!(refused.contains("levels deep"), "{refused}");
        let call: serde_json::Value = parse_request(&env, br#"{"url":"http://x"}"#).unwrap();
        assert_eq!(call["url"], "http://x");
    }
}
