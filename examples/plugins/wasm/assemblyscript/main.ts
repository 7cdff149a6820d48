// as-text: a Pocket WASM plugin written in AssemblyScript with the
// AssemblyScript SDK (backends/wasm/sdks/assemblyscript), built by
// scripts/build-as-plugins.sh into examples/plugins/wasm/as-text.wasm.

import * as pocket from "pocket-sdk";

// The ABI exports (pocket_exec and the others) are the SDK's.
export * from "pocket-sdk/abi";

// Runs once per instance, in `_initialize`, before the host's first call.
pocket.register({
  name: "as-text", // the file is as-text.wasm
  version: "1.0.0",
  description: "Text tools written in AssemblyScript",
  permissions: ["log"],
  nodes: [
    {
      type: "upper",
      description: "Upper-cases the input text (or the input object's `field`); logs the length when `log` is true",
      configSchema: `{"type": "object", "properties": {
        "field": {"type": "string", "description": "The field of an object input to upper-case"},
        "log": {"type": "boolean", "default": false, "description": "Log how many characters it upper-cased"}}}`,
      examples: [
        `{"input": "hello", "output": "HELLO"}`,
        `{"name": "beyond ASCII", "input": "straße ñ", "output": "STRASSE Ñ"}`,
        `{"input": {"title": "hi", "n": 1}, "config": {"field": "title"}, "output": {"title": "HI", "n": 1}}`,
        `{"input": 7, "error": "expected a string"}`,
      ],
      run: upper,
    },
    {
      type: "echo",
      description: "Gives its input back",
      examples: [
        `{"input": {"a": [1, 2]}, "output": {"a": [1, 2]}}`,
        `{"name": "brackets and quotes in strings", "input": {"s": "a \\"}] ,\\"input\\":", "n": [1, {"x": "]"}]}, "output": {"s": "a \\"}] ,\\"input\\":", "n": [1, {"x": "]"}]}}`,
        `{"input": "just a string", "output": "just a string"}`,
      ],
      run: echo,
    },
    {
      type: "count-words",
      description: "Counts the words of the input text; takes the action `long` past `limit` words",
      configSchema: `{"type": "object", "properties": {"limit": {"type": "integer", "default": 3}}}`,
      examples: [
        `{"input": "a b", "output": {"words": 2}}`,
        `{"input": "a  b c\\td", "output": {"words": 4}, "action": "long"}`,
        `{"input": null, "error": "expected a string"}`,
      ],
      run: countWords,
    },
    {
      type: "positive",
      description: "Fails through AssemblyScript's abort (an assert) when the input is not a positive number",
      examples: [
        `{"input": 2, "output": 2}`,
        `{"input": -1, "error": "panicked: expected a positive number"}`,
      ],
      run: positive,
    },
  ],
});

function upper(call: pocket.Call): pocket.Result {
  const fieldName = call.configField("field");
  const logIt = pocket.parseBool(call.configField("log") || "false");
  if (fieldName === null) {
    const text = call.inputString();
    if (text === null) return pocket.fail("expected a string");
    if (logIt) pocket.log(pocket.INFO, "upper-casing " + text.length.toString() + " characters");
    return pocket.outputString(text.toUpperCase());
  }
  const name = pocket.parseString(fieldName) || "";
  const members = pocket.fields(call.input);
  if (members === null || !members.has(name)) {
    return pocket.fail("expected an object with a `" + name + "` field");
  }
  const text = pocket.parseString(members.get(name));
  if (text === null) return pocket.fail("expected a string");
  if (logIt) pocket.log(pocket.INFO, "upper-casing " + text.length.toString() + " characters");
  const object = new pocket.JsonObject();
  const keys = members.keys();
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    object.set(key, key == name ? pocket.quote(text.toUpperCase()) : members.get(key));
  }
  return pocket.output(object.toString());
}

function echo(call: pocket.Call): pocket.Result {
  return pocket.output(call.input);
}

function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

function countWords(call: pocket.Call): pocket.Result {
  const text = call.inputString();
  if (text === null) return pocket.fail("expected a string");
  const limit = pocket.parseNumber(call.configField("limit") || "3");
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text.charCodeAt(i));
    if (!space && !inWord) count++;
    inWord = !space;
  }
  const output = new pocket.JsonObject().setNumber("words", count).toString();
  return pocket.output(output, <f64>count > limit ? "long" : null);
}

function positive(call: pocket.Call): pocket.Result {
  const n = pocket.parseNumber(call.input);
  assert(n > 0, "expected a positive number");
  return pocket.output(call.input);
}
