// Pocket process plugins in Node.js (18 or newer), with the standard
// library only.
//
// A plugin is a program Pocket starts and talks to over its stdin and
// stdout (docs/process-protocol.md). This module speaks that protocol, so a
// plugin is its node functions:
//
//   const { Plugin, Action, InvalidInput } = require("./pocket-plugin");
//
//   const plugin = new Plugin({ name: "js-text", version: "1.0.0", permissions: ["log"] });
//   plugin.node("upper", { description: "Upper-cases a string",
//                          examples: [{ input: "a", output: "A" }] },
//     async (input, config, ctx) => {
//       if (typeof input !== "string") throw new InvalidInput("expected a string");
//       await ctx.log("info", "upper-casing");
//       return input.toUpperCase();
//     });
//   plugin.run();
//
// A node function gets the node's input, its config (templates rendered) and
// a context for host calls (log, kv, config, env, http, plugin calls, each
// checked by the host against the plugin's grants), and returns (or resolves
// to) the output, or `new Action(output, "name")` to choose the next edge.
// A thrown error fails the node with its message (`InvalidInput` and
// `InvalidConfig` say which kind). Calls run concurrently; `console.log`
// goes to the plugin's log, never to the protocol.

"use strict";

const fs = require("fs");

const PROTOCOL = 1;
const MAX_FRAME = 64 << 20;

class InvalidInput extends Error {}
class InvalidConfig extends Error {}
class HostError extends Error {}

class Action {
  constructor(output, action) {
    this.output = output;
    this.action = action;
  }
}

class Context {
  constructor(plugin, callId, attempt, timeoutMs) {
    this._plugin = plugin;
    this._call = callId;
    this.attempt = attempt;
    this.timeoutMs = timeoutMs;
    this.cancelled = false;
  }
  _host(fn, args) {
    return this._plugin._hostCall(this._call, fn, args);
  }
  log(level, message) { return this._host("log", { level, message: String(message) }); }
  kvGet(key) { return this._host("kv_get", { key }); }
  kvSet(key, value) { return this._host("kv_set", { key, value }); }
  config(key) { return this._host("config_get", { key }); }
  env(name) { return this._host("env_get", { name }); }
  http(url, { method = "GET", headers = {}, body = null } = {}) {
    return this._host("http", { url, method, headers, body });
  }
  call(type, input = null, config = {}) { return this._host("plugin_call", { type, input, config }); }
}

class Plugin {
  constructor({ name, version = "0.1.0", description = "", author = "", permissions = [] }) {
    Object.assign(this, { name, version, description, author, permissions });
    this._nodes = new Map();
    this._hostWaiting = new Map();
    this._nextHostId = 0;
    this._calls = new Map();
    this._out = null;
  }

  // Registers `fn(input, config, ctx)` as node type `type`. `options.prepare`,
  // if given, is called with a workflow node's config when the workflow is
  // validated, and throws `InvalidConfig` to refuse it.
  node(type, options, fn) {
    const { description = "", config_schema = null, examples = [], prepare = null } = options || {};
    this._nodes.set(type, { fn, prepare, description: { type, description, config_schema, examples } });
  }

  _send(message) {
    const body = Buffer.from(JSON.stringify(message), "utf8");
    if (body.length > MAX_FRAME) throw new Error(`a message of ${body.length} bytes is over the protocol's ${MAX_FRAME}`);
    const header = Buffer.alloc(4);
    header.writeUInt32LE(body.length, 0);
    const frame = Buffer.concat([header, body]);
    for (let written = 0; written < frame.length; ) {
      written += fs.writeSync(this._out, frame, written, frame.length - written);
    }
  }

  _hostCall(call, fn, args) {
    const id = ++this._nextHostId;
    return new Promise((resolve, reject) => {
      this._hostWaiting.set(id, { resolve, reject });
      this._send({ type: "host", id, call, function: fn, args });
    });
  }

  _error(id, message, kind) {
    this._send({ type: "error", id, message, kind });
  }

  async _exec(message) {
    const node = this._nodes.get(message.node_type);
    if (!node) return this._error(message.id, `unknown node type \`${message.node_type}\``, "invalid_config");
    const ctx = new Context(this, message.id, message.attempt || 1, message.timeout_ms);
    this._calls.set(message.id, ctx);
    try {
      const result = await node.fn(message.input, message.config, ctx);
      if (result instanceof Action) {
        this._send({ type: "result", id: message.id, output: result.output ?? null, action: result.action });
      } else {
        this._send({ type: "result", id: message.id, output: result ?? null });
      }
    } catch (error) {
      const kind = error instanceof InvalidInput ? "invalid_input" : error instanceof InvalidConfig ? "invalid_config" : "failed";
      const text = kind === "failed" ? `${error && error.name}: ${error && error.message}` : error.message;
      if (kind === "failed") console.error(error && error.stack);
      this._error(message.id, text, kind);
    } finally {
      this._calls.delete(message.id);
    }
  }

  _handle(message) {
    switch (message.type) {
      case "describe":
        return this._send({
          type: "described", id: message.id, protocol: PROTOCOL,
          plugin: {
            name: this.name, version: this.version, description: this.description, author: this.author,
            permissions: this.permissions, nodes: [...this._nodes.values()].map((n) => n.description),
          },
        });
      case "prepare": {
        const node = this._nodes.get(message.node_type);
        if (!node) return this._error(message.id, `unknown node type \`${message.node_type}\``, "invalid_config");
        try {
          if (node.prepare) node.prepare(message.config);
          return this._send({ type: "prepared", id: message.id });
        } catch (error) {
          return this._error(message.id, error.message, "invalid_config");
        }
      }
      case "exec":
        return void this._exec(message);
      case "cancel": {
        const ctx = this._calls.get(message.id);
        if (ctx) ctx.cancelled = true;
        return undefined;
      }
      case "host_result": {
        const waiting = this._hostWaiting.get(message.id);
        if (!waiting) return undefined;
        this._hostWaiting.delete(message.id);
        if (message.error !== undefined) waiting.reject(new HostError(message.error));
        else waiting.resolve(message.value ?? null);
        return undefined;
      }
      case "shutdown":
        return process.exit(0);
      default:
        return undefined;
    }
  }

  // Serves the host until it says `shutdown` or closes stdin.
  run() {
    // The protocol keeps the real stdout; console.log goes to stderr (the log).
    this._out = fs.openSync("/proc/self/fd/1", "w");
    console.log = console.error;
    console.info = console.error;
    let pending = Buffer.alloc(0);
    process.stdin.on("data", (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const length = pending.readUInt32LE(0);
        if (length > MAX_FRAME) {
          console.error(`a frame of ${length} bytes from the host`);
          process.exit(1);
        }
        if (pending.length < 4 + length) break;
        const message = JSON.parse(pending.subarray(4, 4 + length).toString("utf8"));
        pending = pending.subarray(4 + length);
        this._handle(message);
      }
    });
    process.stdin.on("end", () => process.exit(0));
  }
}

module.exports = { Plugin, Action, InvalidInput, InvalidConfig, HostError, PROTOCOL };
