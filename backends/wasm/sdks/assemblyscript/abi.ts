// Pocket's WASM ABI version 1 (docs/wasm-abi.md), exported for the plugin
// `register` names. The plugin's entry file re-exports these, so that they
// are the module's exports:
//
//     export * from "pocket-sdk/abi";
//
// Buffers the host sees are raw heap blocks (`heap.alloc`), which the
// garbage collector neither tracks nor moves; everything else is ordinary
// managed AssemblyScript objects.

import { describe, registeredPlugin, Call, Result } from "./plugin";
import { parseString, quote, skipValue } from "./json";

/** The ABI version this module speaks. */
export function pocket_abi_version(): i32 {
  return 1;
}

/**
 * 1: the host may keep the request buffer between calls (a request is read
 * into a string of its own first, and the buffer is never freed here);
 * 2: this module frees its own responses (the previous one, when the next
 * call starts).
 */
export function pocket_abi_features(): i32 {
  return 3;
}

/** A buffer of `len` bytes the host writes into. */
export function pocket_alloc(len: i32): usize {
  return heap.alloc(<usize>max(len, 1));
}

/** Releases a buffer the host got from this module. */
export function pocket_free(ptr: usize, len: i32): void {
  if (ptr != 0) heap.free(ptr);
}

function pack(ptr: usize, len: i32): i64 {
  return <i64>((<u64>ptr << 32) | <u64><u32>len);
}

/** `text` as UTF-8 in a heap block of its own, packed; 0 for empty text. */
function give(text: string): i64 {
  const len = String.UTF8.byteLength(text);
  if (len == 0) return 0;
  const ptr = heap.alloc(<usize>len);
  String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, ptr, false, String.UTF8.ErrorMode.REPLACE);
  return pack(ptr, len);
}

export function pocket_describe(): i64 {
  const plugin = registeredPlugin();
  if (plugin === null) return 0;
  return give(describe(plugin));
}

/** The response `pocket_exec` gave last, freed when the next call starts. */
let lastResponse: usize = 0;

export function pocket_exec(ptr: usize, len: i32): i64 {
  if (lastResponse != 0) {
    heap.free(lastResponse);
    lastResponse = 0;
  }
  const response = give(respond(String.UTF8.decodeUnsafe(ptr, <usize>max(len, 0))));
  lastResponse = <usize>(<u64>response >>> 32);
  return response;
}

function failure(message: string): string {
  return "{\"error\":" + quote(message) + "}";
}

/**
 * Runs the node the request names. The host writes the request compact,
 * `{"node":"<type>","config":{...},"input":<json>}`, with its keys in this
 * order and `input` last (docs/wasm-abi.md), so its parts are found by
 * skipping one JSON value at a time.
 */
function respond(request: string): string {
  const head = "{\"node\":";
  const middle = ",\"config\":";
  const tail = ",\"input\":";
  if (!request.startsWith(head) || !request.endsWith("}")) return failure("bad request");
  const nodeEnd = skipValue(request, head.length);
  if (nodeEnd < 0 || !request.startsWith(middle, nodeEnd)) return failure("bad request");
  const configStart = nodeEnd + middle.length;
  const configEnd = skipValue(request, configStart);
  if (configEnd < 0 || !request.startsWith(tail, configEnd)) return failure("bad request");
  const node = parseString(request.substring(head.length, nodeEnd));
  if (node === null) return failure("bad request");
  const plugin = registeredPlugin();
  if (plugin === null) return failure("no plugin is registered (call register at the entry file's top level)");
  const nodes = plugin.nodes;
  for (let i = 0; i < nodes.length; i++) {
    const nodeType = nodes[i];
    if (nodeType.type != node) continue;
    const call = new Call(
      request.substring(configEnd + tail.length, request.length - 1),
      request.substring(configStart, configEnd),
    );
    const run = nodeType.run;
    const result: Result = run(call);
    const error = result.error;
    if (error !== null) return failure(error);
    const output = result.output.length > 0 ? result.output : "null";
    const action = result.action;
    if (action !== null) return "{\"output\":" + output + ",\"action\":" + quote(action) + "}";
    return "{\"output\":" + output + "}";
  }
  return failure("no node type " + quote(node));
}
