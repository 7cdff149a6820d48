// What a plugin says about itself, its node types, and what one node call
// gets and gives (as JSON text).

import { field, parseString, quote } from "./json";

/** One node call: the node's input and its config, both JSON text. */
export class Call {
  constructor(
    /** The node's input, as JSON. */
    public input: string,
    /** The node's config, as JSON: an object, the schema's defaults filled in. */
    public config: string,
  ) {}

  /** The input as a string, or `null` when it is not a JSON string. */
  inputString(): string | null {
    return parseString(this.input);
  }

  /** The JSON text of the config's `key`, or `null` when it is absent. */
  configField(key: string): string | null {
    return field(this.config, key);
  }
}

/**
 * What a node gives back: its output (JSON text) and the action it takes
 * (`null`: `default`), or the error that fails it. Build one with `output`,
 * `outputString` or `fail`; `callNode` answers one too.
 */
export class Result {
  /** The output, as JSON text. */
  output: string = "null";
  /** The action the node takes; `null` for the default one. */
  action: string | null = null;
  /** When set, the node fails with this message (and `output` is ignored). */
  error: string | null = null;

  get ok(): bool {
    return this.error === null;
  }
}

/** The node's output (JSON text) and, optionally, the action it takes. */
export function output(json: string, action: string | null = null): Result {
  const result = new Result();
  result.output = json;
  result.action = action;
  return result;
}

/** A string output (quoted for you) and, optionally, the action. */
export function outputString(text: string, action: string | null = null): Result {
  return output(quote(text), action);
}

/** Fails the node with `message`. */
export function fail(message: string): Result {
  const result = new Result();
  result.error = message;
  return result;
}

/** Runs one call of a node type. */
export type Run = (call: Call) => Result;

/** One node type: what `pocket_describe` says of it, and what runs it. */
export class NodeType {
  /** Its name: non-empty, no `/` or whitespace. */
  type: string = "";
  description: string = "";
  /** A JSON Schema object for its config (JSON text), or `null`. */
  configSchema: string | null = null;
  /**
   * Examples `pocket plugin test` checks, each a JSON object:
   * `{"input": ..., "config": {...}, "output": ...}` or `{"input": ..., "error": "text"}`.
   */
  examples: string[] = [];
  /** The function that runs it. */
  run!: Run;
}

/** What a plugin says about itself (its manifest) and the node types it runs. */
export class Plugin {
  /** The plugin file's name without `.wasm`. */
  name: string = "";
  version: string = "0.0.0";
  description: string = "";
  author: string = "";
  /** The capabilities its host calls need: `log`, `kv`, `http:<host>`, `plugin_call:<pattern>`. */
  permissions: string[] = [];
  nodes: NodeType[] = [];
}

let registered: Plugin | null = null;

/**
 * Makes `plugin` the plugin this module provides. Call it once, from the
 * entry file's top level (which runs in `_initialize`, before any call).
 */
export function register(plugin: Plugin): void {
  registered = plugin;
}

/** The registered plugin, or `null` (for the ABI exports in abi.ts). */
export function registeredPlugin(): Plugin | null {
  return registered;
}

function quoteAll(list: string[]): string[] {
  const quoted = new Array<string>(list.length);
  for (let i = 0; i < list.length; i++) quoted[i] = quote(list[i]);
  return quoted;
}

/** The description `pocket_describe` returns (docs/wasm-abi.md, "The description"). */
export function describe(plugin: Plugin): string {
  const nodes = new Array<string>(plugin.nodes.length);
  for (let i = 0; i < plugin.nodes.length; i++) {
    const node = plugin.nodes[i];
    let text = "{\"type\":" + quote(node.type) + ",\"description\":" + quote(node.description);
    const schema = node.configSchema;
    if (schema !== null) text += ",\"config_schema\":" + schema;
    if (node.examples.length > 0) text += ",\"examples\":[" + node.examples.join(",") + "]";
    nodes[i] = text + "}";
  }
  let text = "{\"name\":" + quote(plugin.name) + ",\"version\":" + quote(plugin.version) +
    ",\"description\":" + quote(plugin.description) + ",\"author\":" + quote(plugin.author);
  if (plugin.permissions.length > 0) text += ",\"permissions\":[" + quoteAll(plugin.permissions).join(",") + "]";
  return text + ",\"nodes\":[" + nodes.join(",") + "]}";
}
