//! Extism's kernel functions (`extism:host/env`) as wasmer host functions,
//! each a thin wrapper over [`Kernel`] or `pocket-host`. A kernel error (an
//! offset outside Extism's memory, a full var store, a refused HTTP
//! request) stops the call with its message, as Extism's own kernel does.
//! A function that copies a block (input, output, config, vars, HTTP)
//! charges the call's fuel for its bytes ([`charge`]): a guest looping on
//! `output_set` of a large block pays for the copying it makes the host do.

use std::time::Instant;

use pocket_core::Request;
use pocket_host::{HttpRequest, LogLevel};
use wasmer::{Function, FunctionEnv, FunctionEnvMut, Imports, Module, RuntimeError, Store};

use super::{EXTISM_MODULE, function};
use crate::extism_kernel::{Kernel, KernelError};
use crate::host_functions::{HostEnv, charge};

/// `get_log_level`'s "off": the guest formats no log line at all.
const LOG_OFF: i32 = i32::MAX;
/// `get_log_level`'s "debug" (Extism: trace 0, debug 1, info 2, warn 3, error 4).
const LOG_DEBUG: i32 = 1;

type Env<'a> = FunctionEnvMut<'a, HostEnv>;

fn kernel<'a>(env: &'a mut Env<'_>) -> &'a mut Kernel {
    &mut env.data_mut().extism
}

fn stop(error: KernelError) -> RuntimeError {
    RuntimeError::user(Box::new(error))
}

/// The guest's offset or length (an `i64` in wasm) as the unsigned number it is.
fn offset(value: i64) -> u64 {
    value.cast_unsigned()
}

fn signed(value: u64) -> i64 {
    value.cast_signed()
}

/// Adds the kernel functions `module` imports to `imports`, bound to `env`.
pub(crate) fn add_imports(store: &mut Store, env: &FunctionEnv<HostEnv>, module: &Module, imports: &mut Imports) {
    for import in module.imports() {
        if import.module() != EXTISM_MODULE || function(import.name()).is_none() {
            continue;
        }
        if let Some(bound) = bind(store, env, import.name()) {
            imports.define(EXTISM_MODULE, import.name(), bound);
        }
    }
}

/// The host function for kernel function `name`.
fn bind(store: &mut Store, env: &FunctionEnv<HostEnv>, name: &str) -> Option<Function> {
    macro_rules! typed {
        ($f:expr) => {
            Some(Function::new_typed_with_env(store, env, $f))
        };
    }
    match name {
        "alloc" => typed!(|mut env: Env<'_>, len: i64| signed(kernel(&mut env).alloc(offset(len)))),
        "free" => typed!(|mut env: Env<'_>, at: i64| kernel(&mut env).free(offset(at))),
        "length" | "length_unsafe" => typed!(|mut env: Env<'_>, at: i64| signed(kernel(&mut env).length(offset(at)))),
        "load_u8" => typed!(|mut env: Env<'_>, at: i64| -> Result<i32, RuntimeError> {
            kernel(&mut env).load_u8(offset(at)).map(i32::from).map_err(stop)
        }),
        "load_u64" => typed!(|mut env: Env<'_>, at: i64| -> Result<i64, RuntimeError> {
            kernel(&mut env).load_u64(offset(at)).map(signed).map_err(stop)
        }),
        "store_u8" => typed!(|mut env: Env<'_>, at: i64, value: i32| -> Result<(), RuntimeError> {
            // The guest passes a byte in an i32: its low 8 bits are the byte.
            let byte = value.to_le_bytes()[0];
            kernel(&mut env).store_u8(offset(at), byte).map_err(stop)
        }),
        "store_u64" => typed!(|mut env: Env<'_>, at: i64, value: i64| -> Result<(), RuntimeError> {
            kernel(&mut env)
                .store_u64(offset(at), value.cast_unsigned())
                .map_err(stop)
        }),
        "reset" => typed!(|mut env: Env<'_>| kernel(&mut env).reset()),
        "memory_bytes" => typed!(|mut env: Env<'_>| signed(kernel(&mut env).memory_bytes())),
        "input_length" => typed!(|mut env: Env<'_>| signed(kernel(&mut env).input_length())),
        "input_offset" => typed!(|mut env: Env<'_>| {
            let bytes = kernel(&mut env).input_length();
            charge_bytes(&mut env, bytes);
            signed(kernel(&mut env).input_offset())
        }),
        "input_load_u8" => typed!(|mut env: Env<'_>, at: i64| -> Result<i32, RuntimeError> {
            kernel(&mut env).input_load_u8(offset(at)).map(i32::from).map_err(stop)
        }),
        "input_load_u64" => typed!(|mut env: Env<'_>, at: i64| -> Result<i64, RuntimeError> {
            kernel(&mut env).input_load_u64(offset(at)).map(signed).map_err(stop)
        }),
        "output_set" => typed!(|mut env: Env<'_>, at: i64, len: i64| -> Result<(), RuntimeError> {
            kernel(&mut env).output_set(offset(at), offset(len)).map_err(stop)?;
            charge_bytes(&mut env, offset(len));
            Ok(())
        }),
        "error_set" => typed!(|mut env: Env<'_>, at: i64| kernel(&mut env).error_set(offset(at))),
        "error_get" => typed!(|mut env: Env<'_>| signed(kernel(&mut env).error_get())),
        "config_get" => typed!(|mut env: Env<'_>, key: i64| {
            let at = kernel(&mut env).config_get(offset(key));
            charged_block(&mut env, at)
        }),
        "var_get" => typed!(|mut env: Env<'_>, key: i64| {
            let at = kernel(&mut env).var_get(offset(key));
            charged_block(&mut env, at)
        }),
        "var_set" => typed!(|mut env: Env<'_>, key: i64, value: i64| -> Result<(), RuntimeError> {
            let bytes = kernel(&mut env).length(offset(value));
            charge_bytes(&mut env, bytes);
            kernel(&mut env).var_set(offset(key), offset(value)).map_err(stop)
        }),
        "http_request" => typed!(http_request),
        "http_status_code" => typed!(|mut env: Env<'_>| kernel(&mut env).http_status),
        "http_headers" => typed!(|mut env: Env<'_>| {
            let kernel = kernel(&mut env);
            let at = match kernel.http_headers.take() {
                Some(json) => kernel.give(json.as_bytes()),
                None => 0,
            };
            charged_block(&mut env, at)
        }),
        "log_trace" | "log_debug" => typed!(|env: Env<'_>, at: i64| log(&env, LogLevel::Debug, at)),
        "log_info" => typed!(|env: Env<'_>, at: i64| log(&env, LogLevel::Info, at)),
        "log_warn" => typed!(|env: Env<'_>, at: i64| log(&env, LogLevel::Warn, at)),
        "log_error" => typed!(|env: Env<'_>, at: i64| log(&env, LogLevel::Error, at)),
        "get_log_level" => typed!(|env: Env<'_>| {
            let host = env.data().host();
            if host.permissions().refusal(Request::Log).is_none() {
                LOG_DEBUG
            } else {
                LOG_OFF
            }
        }),
        _ => None,
    }
}

/// Charges the call for `bytes` copied (see [`charge`]).
fn charge_bytes(env: &mut Env<'_>, bytes: u64) {
    charge(env, usize::try_from(bytes).unwrap_or(usize::MAX));
}

/// The new block at `at`, its copy charged to the call; as the guest takes it.
fn charged_block(env: &mut Env<'_>, at: u64) -> i64 {
    let bytes = kernel(env).length(at);
    charge_bytes(env, bytes);
    signed(at)
}

/// `log_*`: the block at `at` goes to the plugin's log (a refusal is logged
/// by the permission check; `log` has no result to carry it).
fn log(env: &Env<'_>, level: LogLevel, at: i64) {
    let data = env.data();
    let _ = data.host().log(level, &data.extism.text(offset(at)));
}

/// `http_request(request, body)`: sends the request whose JSON
/// (`{"url", "method", "headers"}`, Extism's `HttpRequest`) is the block at
/// `request`, with the block at `body` (0: none), through `pocket-host`;
/// the response body in a new block, its status and headers kept for
/// `http_status_code` and `http_headers`.
fn http_request(mut env: Env<'_>, request: i64, body: i64) -> Result<i64, RuntimeError> {
    let data = env.data();
    let json = data.extism.bytes(offset(request));
    let wanted: ExtismRequest = crate::host_functions::parse_request(data, &json)
        .map_err(|e| stop(KernelError(format!("http_request: invalid request: {e}"))))?;
    let body = (body != 0).then(|| data.extism.bytes(offset(body)));
    let sent = json.len() + body.as_ref().map_or(0, Vec::len);
    let request = HttpRequest {
        method: wanted.method.unwrap_or_else(|| "GET".into()),
        url: wanted.url,
        headers: wanted.headers.into_iter().collect(),
        body,
        timeout: data.deadline().map(|d| d.saturating_duration_since(Instant::now())),
    };
    let response = data
        .host()
        .http_request_blocking(request)
        .map_err(|e| stop(KernelError(format!("http_request: {e}"))))?;
    let headers: serde_json::Map<String, serde_json::Value> = response
        .headers
        .into_iter()
        .map(|(name, value)| (name, serde_json::Value::String(value)))
        .collect();
    charge(&mut env, sent + response.body.len());
    let kernel = kernel(&mut env);
    kernel.http_status = i32::from(response.status);
    kernel.http_headers = Some(serde_json::Value::Object(headers).to_string());
    if response.body.is_empty() {
        return Ok(0);
    }
    match kernel.give(response.body.as_bytes()) {
        0 => Err(stop(KernelError(format!(
            "http_request: the response body of {} bytes does not fit in Extism's memory",
            response.body.len()
        )))),
        at => Ok(signed(at)),
    }
}

/// Extism's `HttpRequest` as a PDK sends it.
#[derive(serde::Deserialize)]
struct ExtismRequest {
    url: String,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
}
