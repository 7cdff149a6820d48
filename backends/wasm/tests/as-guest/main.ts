// as-guest: a test guest exercising the AssemblyScript SDK's host calls,
// built by scripts/build-as-plugins.sh for the WASM backend's tests.
import * as pocket from "pocket-sdk";
export * from "pocket-sdk/abi";

pocket.register({
  name: "as-guest",
  version: "1.0.0",
  permissions: ["log", "kv", "http:127.0.0.1", "plugin_call:as-text/*"],
  nodes: [
    { type: "config", description: "The plugin config's `greeting`", run: config },
    { type: "kv", description: "Stores its input under `k` and reads it back", run: kv },
    { type: "http", description: "GETs the input URL: its status", run: get },
    { type: "call", description: "Runs as-text/upper on its input", run: call },
    { type: "throw", description: "Throws", run: thrower },
    { type: "fail", description: "Fails", run: failer },
    { type: "random", description: "Math.random and trace", run: random },
    { type: "now", description: "now_ms", run: now },
    { type: "big", description: "Builds a big string by concatenation", run: big },
    { type: "oob", description: "An out-of-bounds array read", run: oob },
    { type: "kvread", description: "Reads `k`", run: kvRead },
    { type: "console", description: "console.log", run: consoleNode },
  ],
});

function config(c: pocket.Call): pocket.Result {
  const greeting = pocket.config("greeting");
  pocket.log(pocket.INFO, "read the greeting");
  return greeting === null ? pocket.fail("no greeting") : pocket.output(greeting);
}

function kvRead(c: pocket.Call): pocket.Result {
  const stored = pocket.kvGet("k");
  if (stored === null) return pocket.fail(pocket.hostError() || "nothing stored");
  return pocket.output(stored);
}

function kv(c: pocket.Call): pocket.Result {
  const err = pocket.kvSet("k", c.input);
  if (err !== null) return pocket.fail(err);
  const stored = pocket.kvGet("k");
  if (stored === null) return pocket.fail(pocket.hostError() || "nothing stored");
  return pocket.output(stored);
}

function get(c: pocket.Call): pocket.Result {
  const url = c.inputString();
  if (url === null) return pocket.fail("expected a URL");
  const response = pocket.http({ url: url, method: "GET" } as pocket.HttpRequest);
  const error = response.error;
  if (error !== null) return pocket.fail(error);
  return pocket.output(new pocket.JsonObject().setNumber("status", response.status)
    .setString("body", response.body).setString("type", response.header("content-type") || "").toString());
}

function call(c: pocket.Call): pocket.Result {
  return pocket.callNode("as-text/upper", c.input);
}

function thrower(c: pocket.Call): pocket.Result {
  if (c.input != "0") throw new Error("boom");
  return pocket.output("0");
}

function failer(c: pocket.Call): pocket.Result {
  return pocket.fail("it failed");
}

function random(c: pocket.Call): pocket.Result {
  const r = Math.random();
  trace("random", 1, r);
  return pocket.output(pocket.number(r >= 0 && r < 1 ? 1 : 0));
}

function now(c: pocket.Call): pocket.Result {
  return pocket.output(pocket.nowMs().toString());
}

function big(c: pocket.Call): pocket.Result {
  let s = "";
  for (let i = 0; i < 5000; i++) s += "xxxxxxxxxx";
  return pocket.output(pocket.number(s.length));
}

function oob(c: pocket.Call): pocket.Result {
  const list = [1, 2, 3];
  return pocket.output(list[<i32>pocket.parseNumber(c.input)].toString());
}

function consoleNode(c: pocket.Call): pocket.Result {
  console.log("console says hi");
  console.warn("console warns");
  console.time("t");
  console.timeEnd("t");
  return pocket.output("null");
}
