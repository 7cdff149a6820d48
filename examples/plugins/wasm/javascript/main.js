// js-text: a Pocket WASM plugin written in JavaScript with the JavaScript
// SDK (backends/wasm/sdks/javascript), built into js-text.wasm by
// scripts/build-js-plugins.sh. See docs/javascript-plugins.md.

pocket.register({
  name: "js-text", // the file is js-text.wasm
  version: "1.0.0",
  description: "Text tools written in JavaScript",
  permissions: ["log", "kv"],
  nodes: [
    {
      type: "title",
      description: "Title-cases the input text: each word's first letter upper case, the rest lower case",
      examples: [
        { input: "hello wIDE world", output: "Hello Wide World" },
        { name: "not a string", input: 7, error: "expected a string" },
      ],
      run({ input }) {
        if (typeof input !== "string") throw new Error("expected a string");
        return { output: input.toLowerCase().replace(/(^|\s)(\S)/g, (_, space, letter) => space + letter.toUpperCase()) };
      },
    },
    {
      type: "echo",
      description: "Gives its input back",
      examples: [{ input: { a: [1, "]"], b: null }, output: { a: [1, "]"], b: null } }],
      run: (call) => ({ output: call.input }),
    },
    {
      type: "words",
      description: "Counts the words of the input text; takes the action `none` when there are none",
      examples: [
        { input: "one two  three", output: 3 },
        { name: "no words", input: "   ", output: 0, action: "none" },
      ],
      run({ input }) {
        if (typeof input !== "string") throw new Error("expected a string");
        const words = input.split(/\s+/).filter((word) => word !== "").length;
        return words === 0 ? { output: 0, action: "none" } : { output: words };
      },
    },
    {
      type: "count",
      description:
        "Adds 1 to a counter in the run's key-value store and gives the new count (its input is ignored); " +
        'logs it. Needs the `kv` grant: js-text = ["log", "kv"] in pocket.toml\'s [plugins.permissions]',
      config_schema: {
        type: "object",
        properties: { key: { type: "string", default: "count", description: "The kv key the counter is kept under" } },
      },
      examples: [
        { name: "an empty key (checked before the store is reached)", config: { key: "" }, error: "`key` must not be empty" },
      ],
      run({ config }) {
        if (config.key === "") throw new Error("`key` must not be empty");
        // A refused host call throws, failing the node with the host's reason.
        const stored = pocket.kvGet(config.key); // the text kvSet stored, or null
        const next = (stored === null ? 0 : Number(stored)) + 1;
        if (!Number.isSafeInteger(next)) throw new Error("the stored count is not an integer");
        pocket.kvSet(config.key, next);
        pocket.log("info", `count \`${config.key}\` is now ${next}`);
        return { output: next };
      },
    },
  ],
});
