// {{name}}: a Pocket WASM plugin written in AssemblyScript with the
// AssemblyScript SDK.

import * as pocket from "pocket-sdk";

// The ABI exports (pocket_exec and the others) are the SDK's.
export * from "pocket-sdk/abi";

// Runs once per instance, before the host's first call.
pocket.register({
  name: "{{name}}",
  version: "0.1.0",
  description: "Greets someone by name",
  permissions: ["log"],
  nodes: [
    {
      type: "greet",
      description: 'Answers {"greeting": "<salutation>, <input.name>!"}',
      configSchema: `{"type": "object", "properties": {
        "salutation": {"type": "string", "default": "Hello", "description": "The word to greet with"}}}`,
      examples: [
        `{"input": {"name": "Ada"}, "output": {"greeting": "Hello, Ada!"}}`,
        `{"input": {"name": "Ada"}, "config": {"salutation": "Hi"}, "output": {"greeting": "Hi, Ada!"}}`,
        '{"name": "no name", "input": {}, "error": "missing field `name`"}',
      ],
      run: greet,
    },
  ],
});

// greet: {"greeting": "<salutation>, <name>!"}.
function greet(call: pocket.Call): pocket.Result {
  const name = pocket.field(call.input, "name");
  if (name === null) return pocket.fail("missing field `name`");
  const text = pocket.parseString(name);
  if (text === null) return pocket.fail("`name` must be a string");
  const salutation = call.configField("salutation");
  let word = "Hello";
  if (salutation !== null) word = pocket.parseString(salutation) || "Hello";
  return pocket.output(new pocket.JsonObject().setString("greeting", word + ", " + text + "!").toString());
}
