// Types for Pocket's JavaScript SDK (docs/javascript-plugins.md): the
// globals `pocket` and `console` a plugin's script sees. Reference this file
// from a TypeScript plugin (/// <reference path=".../pocket.d.ts" />, or
// "files"/"include" in tsconfig.json); scripts/build-js-plugins.sh strips the
// types with esbuild, which does not check them (run `tsc --noEmit` for that).

declare namespace pocket {
  /** Any value JSON can hold: what crosses between a node and Pocket. */
  type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

  /** What one node call gets. */
  interface Call<Input = Json, Config = { [key: string]: Json }> {
    /** The node type being run (one of the plugin's `type`s). */
    node: string;
    /** The node's input. */
    input: Input;
    /** The node's config: an object, with the schema's defaults filled in. */
    config: Config;
  }

  /** What a node gives back: its output and, optionally, the action it takes. */
  interface Result {
    /** Any JSON value (`undefined` is `null`). */
    output: unknown;
    /** The action to take; without one (or with `""`), `default`. */
    action?: string;
  }

  /** One example `pocket plugin test` checks and `pocket plugin bench` times. */
  interface Example {
    /** Labels the example in reports. */
    name?: string;
    /** Default `null`. */
    input?: Json;
    config?: { [key: string]: Json };
    /** The exact output the node must give... */
    output?: Json;
    /** ...and, optionally, the action it must take. */
    action?: string;
    /** Or text the node's error must contain. */
    error?: string;
  }

  /** One node type: what `pocket_describe` says of it, and its code. */
  interface NodeType<Input = any, Config = any> {
    /** Its name, unique in the plugin (no `/` or whitespace). */
    type: string;
    description?: string;
    /** A JSON Schema object for the node's config. */
    config_schema?: { [key: string]: Json };
    /** At most 100. */
    examples?: Example[];
    /** Runs one call. A thrown error fails the node with its message. */
    run(call: Call<Input, Config>): Result | Promise<Result>;
  }

  /** The plugin: `pocket_describe`'s description, and its node types. */
  interface Plugin {
    /** The plugin file's name without `.wasm`. */
    name: string;
    /** Default `0.0.0`. */
    version?: string;
    description?: string;
    author?: string;
    /** The capabilities its host calls need: `["log", "kv", "http:api.example.com"]`. */
    permissions?: string[];
    /** 1 to 1,000 node types. */
    nodes: NodeType[];
  }

  /** Log levels: by name, or 1 (debug) to 4 (error). */
  type Level = "debug" | "info" | "warn" | "error" | 1 | 2 | 3 | 4;

  interface HttpRequest {
    /** Default `GET`. */
    method?: string;
    /** `http` or `https`, to a host the plugin's `http:` grant allows. */
    url: string;
    headers?: { [name: string]: string };
    /** Text as it is; any other value is sent as JSON. */
    body?: unknown;
  }

  interface HttpResponse {
    /** Any status is a response (404 too). */
    status: number;
    headers: { [name: string]: string };
    body: string;
  }

  /** Makes this script's node types the plugin's; call it once, at the top level. */
  function register(plugin: Plugin): void;

  /** A line in Pocket's log (needs the `log` grant; without it, dropped). */
  function log(level: Level, message: unknown): void;

  /**
   * The plugin's config value under `key` (pocket.toml's
   * `[plugins.config.<name>]`, the workflow's `plugins:`), or `undefined`.
   * Keys that look secret need a `config:<path>` grant.
   */
  function config(key: string): Json | undefined;

  /** The text `kvSet` stored under `key` in the run's store, or `null` (needs `kv`). Throws when refused. */
  function kvGet(key: string): string | null;

  /** Stores `value` under `key`: a string as it is, anything else as JSON (needs `kv`). Throws when refused. */
  function kvSet(key: string, value: unknown): void;

  /** An HTTP request through the host (needs `http:<host>`). Throws when refused or unreachable. */
  function http(request: HttpRequest): HttpResponse;

  /**
   * Runs another node type, `plugin/type` (needs `plugin_call:<pattern>`):
   * its output and action, which a node may return as its own result.
   * Throws when refused or when that node fails.
   */
  function callNode(type: string, input?: unknown, config?: { [key: string]: unknown }): Result;
}

/**
 * Lines in Pocket's log (needs the `log` grant): values joined with spaces,
 * non-strings as JSON. An interface, so that it merges with the DOM's or
 * Node's `Console` when a project's `lib` has one.
 */
interface Console {
  log(...values: unknown[]): void;
  info(...values: unknown[]): void;
  debug(...values: unknown[]): void;
  warn(...values: unknown[]): void;
  error(...values: unknown[]): void;
}
declare var console: Console;
