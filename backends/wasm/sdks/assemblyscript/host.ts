// The host calls (docs/host-api.md, "WASM"): the `pocket` imports, wrapped
// for AssemblyScript's strings, and the hooks the build routes
// AssemblyScript's own `env` imports to (`abort`, `trace`, `seed`,
// `console`: the host refuses a module that imports anything from `env`).

import { Result } from "./plugin";
import { field, parseNumber, parseString, quote } from "./json";

// @ts-ignore: decorator
@external("pocket", "log")
declare function host_log(level: i32, ptr: usize, len: i32): void;

// @ts-ignore: decorator
@external("pocket", "now_ms")
declare function host_now_ms(): i64;

// @ts-ignore: decorator
@external("pocket", "config_get")
declare function host_config_get(ptr: usize, len: i32): i64;

// @ts-ignore: decorator
@external("pocket", "kv_get")
declare function host_kv_get(ptr: usize, len: i32): i64;

// @ts-ignore: decorator
@external("pocket", "kv_set")
declare function host_kv_set(keyPtr: usize, keyLen: i32, valuePtr: usize, valueLen: i32): i32;

// @ts-ignore: decorator
@external("pocket", "http_request")
declare function host_http_request(ptr: usize, len: i32): i64;

// @ts-ignore: decorator
@external("pocket", "plugin_call")
declare function host_plugin_call(ptr: usize, len: i32): i64;

// @ts-ignore: decorator
@external("pocket", "panic")
declare function host_panic(ptr: usize, len: i32): void;

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "random_get")
declare function wasi_random_get(ptr: usize, len: usize): i32;

/** Log levels. */
export const DEBUG: i32 = 1;
export const INFO: i32 = 2;
export const WARN: i32 = 3;
export const ERROR: i32 = 4;

/** `text` as UTF-8 (a lone surrogate becomes U+FFFD: the host takes only UTF-8). */
export function utf8(text: string): ArrayBuffer {
  return String.UTF8.encode(text, false, String.UTF8.ErrorMode.REPLACE);
}

/** Writes `message` to Pocket's log at `level` (needs the `log` grant). */
export function log(level: i32, message: string): void {
  const bytes = utf8(message);
  host_log(level, changetype<usize>(bytes), bytes.byteLength);
}

/** Milliseconds since the Unix epoch (AssemblyScript's `Date.now()` needs an import the host does not give). */
export function nowMs(): i64 {
  return host_now_ms();
}

const REFUSED = "the host refused the call (see its log)";
let refusal: string | null = null;

/**
 * Why the last `config` or `kvGet` gave `null`: `null` when the value was
 * absent, else `the host refused the call (see its log)` (no `kv` grant, a
 * buffer the host could not read; Pocket's log says which).
 */
export function hostError(): string | null {
  return refusal;
}

/** The packed buffer the host handed over, as text, released; `null` for "nothing" (0) or "failed" (-1). */
function take(packed: i64): string | null {
  refusal = packed == -1 ? REFUSED : null;
  if (packed == 0 || packed == -1) return null;
  const at = <usize>(<u64>packed >>> 32);
  const len = <usize>(<u32>packed);
  const text = String.UTF8.decodeUnsafe(at, len);
  heap.free(at);
  return text;
}

/**
 * The plugin's config value under `key` (pocket.toml and the workflow's
 * `plugins:`), as JSON; `null` when absent (a key that looks secret is
 * absent without a `config:` grant: docs/host-api.md) or refused
 * (`hostError()` tells which).
 */
export function config(key: string): string | null {
  const bytes = utf8(key);
  return take(host_config_get(changetype<usize>(bytes), bytes.byteLength));
}

/**
 * The text stored under `key` in the run's store (needs `kv`), as `kvSet`
 * stored it; `null` when absent or refused (`hostError()` tells which).
 */
export function kvGet(key: string): string | null {
  const bytes = utf8(key);
  return take(host_kv_get(changetype<usize>(bytes), bytes.byteLength));
}

/**
 * Stores `value` (any text; JSON, for a value to read back as JSON) under
 * `key` in the run's store (needs `kv`); `null` when stored, else why not.
 */
export function kvSet(key: string, value: string): string | null {
  const k = utf8(key);
  const v = utf8(value);
  const code = host_kv_set(changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength);
  if (code == 0) return null;
  if (code == 1) return "kv_set: denied (the plugin needs the `kv` grant)";
  if (code == 3) return "kv_set: no store outside a run";
  if (code == 4) return "kv_set: over the plugin's kv limits";
  if (code == 5) return "kv_set: over the plugin's kv_per_second rate limit";
  return "kv_set: invalid argument";
}

/** An HTTP request for `http` (needs an `http:<host>` grant). */
export class HttpRequest {
  method: string = "GET";
  url: string = "";
  headers: Map<string, string> = new Map<string, string>();
  /** The body, as text; `null` for none. */
  body: string | null = null;
}

/** What came back from `http`: `error` is set when there is no response. */
export class HttpResponse {
  status: i32 = 0;
  /** The response headers, as a JSON object. */
  headers: string = "{}";
  body: string = "";
  error: string | null = null;

  get ok(): bool {
    return this.error === null;
  }

  /** A header's value (names as the host gives them: lower case), or `null`. */
  header(name: string): string | null {
    const value = field(this.headers, name);
    return value === null ? null : parseString(value);
  }
}

/** Sends `request` through the host, under the plugin's grants and limits. */
export function http(request: HttpRequest): HttpResponse {
  let body = "{\"method\":" + quote(request.method) + ",\"url\":" + quote(request.url);
  if (request.headers.size > 0) {
    const names = request.headers.keys();
    const headers = new Array<string>(names.length);
    for (let i = 0; i < names.length; i++) {
      headers[i] = quote(names[i]) + ":" + quote(request.headers.get(names[i]));
    }
    body += ",\"headers\":{" + headers.join(",") + "}";
  }
  const requestBody = request.body;
  if (requestBody !== null) body += ",\"body\":" + quote(requestBody);
  body += "}";
  const bytes = utf8(body);
  const answer = take(host_http_request(changetype<usize>(bytes), bytes.byteLength));
  const response = new HttpResponse();
  if (answer === null) {
    response.error = REFUSED;
    return response;
  }
  const error = errorIn(answer);
  if (error !== null) {
    response.error = error;
    return response;
  }
  const status = field(answer, "status");
  if (status !== null) response.status = <i32>parseNumber(status);
  const headers = field(answer, "headers");
  if (headers !== null) response.headers = headers;
  const text = field(answer, "body");
  if (text !== null) {
    const decoded = parseString(text);
    response.body = decoded === null ? text : decoded;
  }
  return response;
}

/** The message of the host's `{"error"}` answer, if `answer` is one. */
function errorIn(answer: string): string | null {
  const error = field(answer, "error");
  if (error === null) return null;
  const message = parseString(error);
  return message === null ? error : message;
}

/**
 * Runs the node type `target` (`plugin/type`, or a bare type name; needs a
 * matching `plugin_call:` grant) on `input` with `config` (both JSON text):
 * its output and action, or the error it failed with. A node may return the
 * answer as its own result.
 */
export function callNode(target: string, input: string = "null", config: string = "{}"): Result {
  const body = "{\"type\":" + quote(target) + ",\"input\":" + input + ",\"config\":" + config + "}";
  const bytes = utf8(body);
  const answer = take(host_plugin_call(changetype<usize>(bytes), bytes.byteLength));
  const result = new Result();
  if (answer === null) {
    result.error = REFUSED;
    return result;
  }
  const error = errorIn(answer);
  if (error !== null) {
    result.error = error;
    return result;
  }
  const output = field(answer, "output");
  if (output !== null) result.output = output;
  const action = field(answer, "action");
  if (action !== null) result.action = parseString(action);
  return result;
}

// The hooks. The build passes `--use abort=pocket_abort --use trace=pocket_trace
// --use seed=pocket_seed --use console=pocket_console`, so that
// AssemblyScript's `abort` (what `throw`, `assert` and the runtime's own
// checks end in), `trace`, `Math.random`'s seed and `console` come here
// instead of to `env` imports the host would refuse.

// The message is put together in a static buffer, without allocating:
// abort may be called from inside the allocator or the collector, and this
// way it cannot call itself.
const PANIC_CAPACITY: i32 = 4096;
const panicBuffer: usize = memory.data(PANIC_CAPACITY);
let panicLength: i32 = 0;

function panicByte(b: u32): void {
  if (panicLength < PANIC_CAPACITY) {
    store<u8>(panicBuffer + <usize>panicLength, <u8>b);
    panicLength++;
  }
}

function panicText(text: string | null): void {
  if (text === null) return;
  const s = text;
  const n = s.length;
  for (let i = 0; i < n && panicLength < PANIC_CAPACITY - 4; i++) {
    let c = <u32>s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      const d = <u32>s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c < 0xe000) c = 0xfffd; // a lone surrogate
    if (c < 0x80) {
      panicByte(c);
    } else if (c < 0x800) {
      panicByte(0xc0 | (c >> 6));
      panicByte(0x80 | (c & 63));
    } else if (c < 0x10000) {
      panicByte(0xe0 | (c >> 12));
      panicByte(0x80 | ((c >> 6) & 63));
      panicByte(0x80 | (c & 63));
    } else {
      panicByte(0xf0 | (c >> 18));
      panicByte(0x80 | ((c >> 12) & 63));
      panicByte(0x80 | ((c >> 6) & 63));
      panicByte(0x80 | (c & 63));
    }
  }
}

function panicNumber(n: u32): void {
  let divisor: u32 = 1;
  while (n / divisor >= 10) divisor *= 10;
  for (; divisor > 0; divisor /= 10) panicByte(0x30 + (n / divisor) % 10);
}

/**
 * AssemblyScript's `abort`, routed here by `--use abort=pocket_abort`: ends
 * the call through the host's `panic`, failing the node with
 * `panicked: MESSAGE at FILE:LINE:COLUMN`.
 */
// @ts-ignore: decorator
@global export function pocket_abort(
  message: string | null = null,
  fileName: string | null = null,
  line: u32 = 0,
  column: u32 = 0,
): void {
  panicLength = 0;
  panicText(message !== null && message.length > 0 ? message : "abort");
  if (fileName !== null) {
    panicText(" at ");
    panicText(fileName);
    panicByte(0x3a);
    panicNumber(line);
    panicByte(0x3a);
    panicNumber(column);
  }
  // Never returns: the host ends the call here.
  host_panic(panicBuffer, panicLength);
  unreachable();
}

/** AssemblyScript's `trace`, routed here by `--use trace=pocket_trace`: a debug line in the plugin's log. */
// @ts-ignore: decorator
@global export function pocket_trace(
  message: string,
  n: i32 = 0,
  a0: f64 = 0,
  a1: f64 = 0,
  a2: f64 = 0,
  a3: f64 = 0,
  a4: f64 = 0,
): void {
  let line = message;
  if (n > 0) line += " " + a0.toString();
  if (n > 1) line += " " + a1.toString();
  if (n > 2) line += " " + a2.toString();
  if (n > 3) line += " " + a3.toString();
  if (n > 4) line += " " + a4.toString();
  log(DEBUG, line);
}

/**
 * `Math.random`'s seed, routed here by `--use seed=pocket_seed`: random
 * bytes from WASI's `random_get` (so a module that uses `Math.random` imports
 * that one WASI function, which the host serves).
 */
// @ts-ignore: decorator
@global export function pocket_seed(): f64 {
  const bits = memory.data(8);
  wasi_random_get(bits, 8);
  return reinterpret<f64>((load<u64>(bits) >> 12) | 0x3ff0000000000000); // in [1, 2)
}

function writeLog(level: i32, message: string): void {
  log(level, message);
}

// @ts-ignore: decorator
@lazy const timers = new Map<string, i64>();

/**
 * AssemblyScript's `console`, routed here by `--use console=pocket_console`:
 * each line goes to the plugin's log (`log` is info, as a WASI stdout line
 * is; `debug`, `info`, `warn`, `error` at their levels).
 */
// @ts-ignore: decorator
@global export namespace pocket_console {
  export function assert<T>(condition: T, message: string = ""): void {
    if (!condition) writeLog(ERROR, "Assertion failed: " + message);
  }

  export function log(message: string = ""): void {
    writeLog(INFO, message);
  }

  export function debug(message: string = ""): void {
    writeLog(DEBUG, message);
  }

  export function info(message: string = ""): void {
    writeLog(INFO, message);
  }

  export function warn(message: string = ""): void {
    writeLog(WARN, message);
  }

  export function error(message: string = ""): void {
    writeLog(ERROR, message);
  }

  export function time(label: string = "default"): void {
    timers.set(label, host_now_ms());
  }

  export function timeLog(label: string = "default"): void {
    if (!timers.has(label)) {
      writeLog(WARN, "Label '" + label + "' does not exist.");
      return;
    }
    writeLog(INFO, label + ": " + (host_now_ms() - timers.get(label)).toString() + "ms");
  }

  export function timeEnd(label: string = "default"): void {
    timeLog(label);
    timers.delete(label);
  }
}
