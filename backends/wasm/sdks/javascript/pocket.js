// The JavaScript half of Pocket's JavaScript SDK: the `pocket` object and
// `console` a plugin sees, and the dispatcher pocket_js.c calls. pocket_js.c
// embeds this file and evaluates it once per instance, before the plugin's
// own code, as one function expression: it is called with `host`, the C
// functions that make the `pocket` imports (docs/wasm-abi.md), and returns
// the four functions the ABI exports need (describe, exec, settle, and
// errorText for exceptions that reach C). Nothing here is global but
// `pocket` and `console`.
//
// The API is the Go SDK's (backends/wasm/sdks/go), in JavaScript's terms:
// values instead of JSON text, exceptions instead of error results.
(function (host) {
  "use strict";

  // The plugin's source file, as its stack frames name it: an error's
  // location is the innermost frame in it.
  const PLUGIN_FILE = String(host.file);

  const LEVELS = { debug: 1, info: 2, warn: 3, error: 4 };
  const PLUGIN_KEYS = ["name", "version", "description", "author", "permissions", "nodes"];
  const NODE_KEYS = ["type", "description", "config_schema", "examples", "run"];
  // kv_set's codes (docs/wasm-abi.md), worded as the Go SDK words them.
  const KV_SET_ERRORS = {
    1: "kv_set: denied (the plugin needs the `kv` grant)",
    2: "kv_set: invalid argument",
    3: "kv_set: no store outside a run",
    4: "kv_set: over the plugin's kv limits",
    5: "kv_set: over the plugin's kv_per_second rate limit",
  };

  let plugin = null; // what pocket.register was given, checked
  const runs = new Map(); // node type -> its run function
  let calls = 0; // numbers the calls, so a late promise cannot answer a later call
  let settled = null; // the response an async run settled into

  // -- text helpers ---------------------------------------------------------

  // A value for a log line: strings as they are, anything else as JSON when
  // it has a JSON form, else as String() gives it.
  function show(value) {
    if (typeof value === "string") return value;
    if (value instanceof Error) return errorText(value);
    try {
      const json = JSON.stringify(value);
      if (json !== undefined) return json;
    } catch (e) {
      // a cycle, a getter that throws: fall through
    }
    return safeString(value);
  }

  function safeString(value) {
    try {
      return String(value);
    } catch (e) {
      return "(a value that cannot be shown)";
    }
  }

  // "file:line" (or "file", for a function QuickJS knows no line of) of the
  // first stack frame in the plugin's file, or "". QuickJS writes frames as
  // "    at name (file:line)" or "    at file:line".
  function location(stack) {
    if (typeof stack !== "string") return "";
    for (const line of stack.split("\n")) {
      const frame = /^\s*at (?:.* \()?([^()]*?)\)?$/.exec(line);
      if (frame && (frame[1] === PLUGIN_FILE || frame[1].startsWith(PLUGIN_FILE + ":"))) return frame[1];
    }
    return "";
  }

  // A thrown value as a node's error: an Error's message (its name first,
  // unless it is a plain Error) and where it was thrown, as Lua adds the
  // script's line; anything else as String() gives it.
  function errorText(e) {
    if (!(e instanceof Error)) return safeString(e);
    let name = "";
    let message = "";
    let stack;
    try {
      name = e.name === undefined || e.name === "Error" ? "" : String(e.name);
      message = e.message === undefined ? "" : String(e.message);
      stack = e.stack;
    } catch (inner) {
      return safeString(e);
    }
    let text = name && message ? name + ": " + message : name || message || "Error";
    const at = location(stack);
    return at ? text + " (" + at + ")" : text;
  }

  // JSON.stringify, with every lone surrogate (which it writes as an
  // escape, "\ud800") replaced by U+FFFD: a lone surrogate has no UTF-8
  // form, and the host refuses JSON that has one. The rare text that has
  // such an escape is rewritten one escape at a time (a backslash inside a
  // JSON string always starts an escape, so each match is one).
  function json(value) {
    const text = JSON.stringify(value);
    if (text === undefined || !/\\u[dD][89a-fA-F]/.test(text)) return text;
    return text.replace(/\\(?:u([0-9a-fA-F]{4})|[^u])/g, (escape, code) =>
      code !== undefined && /^[dD][89a-fA-F]/.test(code) ? "\\ufffd" : escape,
    );
  }

  function errorResponse(message) {
    return json({ error: message });
  }

  function describeValue(value) {
    if (value === undefined) return "undefined";
    if (typeof value === "function") return "a function";
    const text = show(value);
    return text.length > 80 ? text.slice(0, 77) + "..." : text;
  }

  // -- registration ---------------------------------------------------------

  function checkKeys(object, allowed, where) {
    for (const key of Object.keys(object)) {
      if (!allowed.includes(key)) {
        throw new TypeError(`pocket.register: unknown key \`${key}\` in ${where} (known: ${allowed.join(", ")})`);
      }
    }
  }

  function register(description) {
    if (plugin !== null) throw new Error("pocket.register was called twice");
    if (description === null || typeof description !== "object") {
      throw new TypeError("pocket.register takes the plugin's description, an object");
    }
    checkKeys(description, PLUGIN_KEYS, "the plugin");
    if (typeof description.name !== "string" || description.name === "") {
      throw new TypeError("pocket.register: `name` must be a non-empty string (the file's name without .wasm)");
    }
    if (!Array.isArray(description.nodes) || description.nodes.length === 0) {
      throw new TypeError("pocket.register: `nodes` must be a non-empty array");
    }
    const nodes = [];
    for (const node of description.nodes) {
      if (node === null || typeof node !== "object") throw new TypeError("pocket.register: each node must be an object");
      const type = node.type;
      if (typeof type !== "string" || type === "") throw new TypeError("pocket.register: each node needs a `type`, a non-empty string");
      checkKeys(node, NODE_KEYS, `node \`${type}\``);
      if (typeof node.run !== "function") throw new TypeError(`pocket.register: node \`${type}\` needs a \`run\` function`);
      if (runs.has(type)) throw new TypeError(`pocket.register: node type \`${type}\` is listed twice`);
      runs.set(type, node.run);
      // What pocket_describe says of it: the description's own keys only.
      nodes.push({
        type,
        description: node.description === undefined ? "" : node.description,
        config_schema: node.config_schema,
        examples: node.examples,
      });
    }
    plugin = {
      name: description.name,
      version: description.version === undefined ? "0.0.0" : description.version,
      description: description.description === undefined ? "" : description.description,
      author: description.author === undefined ? "" : description.author,
      permissions: description.permissions,
      nodes,
    };
    // Checked now, so that a description that is not JSON fails the load
    // with the reason rather than later.
    json(plugin);
  }

  // -- host calls -----------------------------------------------------------

  // What a host function answered: its text, or null for "nothing"; false
  // means the host refused (Pocket's log says why, naming the plugin).
  function answered(value) {
    if (value === false) throw new Error("the host refused the call (see its log)");
    return value;
  }

  function log(level, message) {
    const code = typeof level === "number" ? level : LEVELS[level];
    if (code === undefined) {
      throw new TypeError(`pocket.log: unknown level ${describeValue(level)} (debug, info, warn, error, or 1 to 4)`);
    }
    host.log(code, show(message));
  }

  // The plugin's config value under `key`, or undefined when it has none.
  function config(key) {
    const text = answered(host.config(String(key)));
    return text === null ? undefined : JSON.parse(text);
  }

  // What kvSet stored under `key` (its text), or null when nothing is.
  function kvGet(key) {
    return answered(host.kvGet(String(key)));
  }

  // Stores `value` under `key`: a string as it is, anything else as JSON.
  function kvSet(key, value) {
    const text = typeof value === "string" ? value : json(value);
    if (text === undefined) throw new TypeError(`pocket.kvSet: ${describeValue(value)} has no JSON form`);
    const code = host.kvSet(String(key), text);
    if (code !== 0) throw new Error(KV_SET_ERRORS[code] || `kv_set: failed with code ${code}`);
  }

  // Sends an HTTP request through the host; {status, headers, body}.
  function http(request) {
    if (request === null || typeof request !== "object" || typeof request.url !== "string") {
      throw new TypeError("pocket.http takes {method, url, headers, body} with `url` a string");
    }
    const body = request.body;
    const sent = json({
      method: request.method === undefined ? "GET" : String(request.method),
      url: request.url,
      headers: request.headers === undefined ? {} : request.headers,
      body: body === undefined || body === null ? undefined : body,
    });
    const answer = JSON.parse(answered(host.http(sent)));
    if (typeof answer.error === "string") throw new Error(answer.error);
    return { status: answer.status, headers: answer.headers || {}, body: answer.body === undefined ? "" : answer.body };
  }

  // Runs another node type ("plugin/type"); {output, action}, action only
  // when the node chose one, so that a run may return it as its own result.
  function callNode(type, input, config) {
    if (typeof type !== "string") throw new TypeError("pocket.callNode: the node type must be a string (\"plugin/type\")");
    const request = json({
      type,
      input: input === undefined ? null : input,
      config: config === undefined || config === null ? {} : config,
    });
    const answer = JSON.parse(answered(host.pluginCall(request)));
    if (typeof answer.error === "string") throw new Error(answer.error);
    const result = { output: answer.output === undefined ? null : answer.output };
    if (typeof answer.action === "string") result.action = answer.action;
    return result;
  }

  function consoleMethod(level) {
    return function (...values) {
      host.log(level, values.map(show).join(" "));
    };
  }

  // -- the ABI's exports ----------------------------------------------------

  // pocket_describe: the description as JSON.
  function describe() {
    if (plugin === null) throw new Error("the plugin never called pocket.register");
    return json(plugin);
  }

  // A node's result as the response: {output, action?}.
  function respond(type, result) {
    if (result === null || typeof result !== "object" || !("output" in result)) {
      return errorResponse(`node \`${type}\` must return {output} or {output, action}, not ${describeValue(result)}`);
    }
    const action = result.action;
    if (action !== undefined && action !== null && typeof action !== "string") {
      return errorResponse(`node \`${type}\`: \`action\` must be a string, not ${describeValue(action)}`);
    }
    let output;
    try {
      output = json(result.output === undefined ? null : result.output);
    } catch (e) {
      return errorResponse(`node \`${type}\`: cannot encode the output: ${errorText(e)}`);
    }
    // A function or a symbol has no JSON form: null, as JSON.stringify gives it inside an array.
    if (output === undefined) output = "null";
    return action ? `{"output":${output},"action":${json(action)}}` : `{"output":${output}}`;
  }

  // pocket_exec: the request's text in, the response's text out; or null
  // when the run returned a promise, which pocket_js.c then settles by
  // running the job queue dry before it calls settle().
  function exec(text) {
    const call = ++calls;
    settled = null;
    let request;
    try {
      request = JSON.parse(text);
    } catch (e) {
      return errorResponse("bad request: " + errorText(e));
    }
    const type = request.node;
    const run = runs.get(type);
    if (run === undefined) return errorResponse(`no node type ${JSON.stringify(type)}`);
    let result;
    try {
      result = run({ node: type, input: request.input, config: request.config });
    } catch (e) {
      return errorResponse(errorText(e));
    }
    if (result === null || typeof result !== "object" || typeof result.then !== "function") {
      return respond(type, result);
    }
    Promise.resolve(result).then(
      (value) => {
        if (call === calls) settled = respond(type, value);
      },
      (e) => {
        if (call === calls) settled = errorResponse(errorText(e));
      },
    );
    return null;
  }

  // The response an async run settled into, once the job queue is dry.
  function settle() {
    const response = settled;
    settled = null;
    return response !== null
      ? response
      : errorResponse("the node's promise never settled (a plugin has no timers or I/O to wait for)");
  }

  const pocket = Object.freeze({ register, log, config, kvGet, kvSet, http, callNode });
  const console = Object.freeze({
    log: consoleMethod(2),
    info: consoleMethod(2),
    debug: consoleMethod(1),
    warn: consoleMethod(3),
    error: consoleMethod(4),
  });
  Object.defineProperty(globalThis, "pocket", { value: pocket, enumerable: false });
  Object.defineProperty(globalThis, "console", { value: console, enumerable: false, writable: true });

  return { describe, exec, settle, errorText };
});
