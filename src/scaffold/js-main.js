// {{name}}: a Pocket WASM plugin written in JavaScript with the JavaScript
// SDK (QuickJS; `pocket` is the host API).

pocket.register({
  name: "{{name}}",
  version: "0.1.0",
  description: "Greets someone by name",
  permissions: ["log"],
  nodes: [
    {
      type: "greet",
      description: 'Answers {"greeting": "<salutation>, <input.name>!"}',
      config_schema: {
        type: "object",
        properties: {
          salutation: { type: "string", default: "Hello", description: "The word to greet with" },
        },
      },
      examples: [
        { input: { name: "Ada" }, output: { greeting: "Hello, Ada!" } },
        { input: { name: "Ada" }, config: { salutation: "Hi" }, output: { greeting: "Hi, Ada!" } },
        { name: "no name", input: {}, error: "missing field `name`" },
      ],
      run({ input, config }) {
        if (input === null || typeof input !== "object" || input.name === undefined) {
          throw new Error("missing field `name`");
        }
        return { output: { greeting: `${config.salutation ?? "Hello"}, ${input.name}!` } };
      },
    },
  ],
});
