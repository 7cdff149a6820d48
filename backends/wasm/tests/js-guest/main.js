// js-guest: the JavaScript SDK's test guest, built by
// scripts/build-js-plugins.sh for the WASM backend's tests: every host
// call, results, errors and limits.
pocket.register({
  name: "js-guest",
  permissions: ["log", "kv", "http:127.0.0.1", "http:denied.invalid", "plugin_call:js-guest/*"],
  nodes: [
    { type: "ok", run: () => ({ output: "ok" }) },
    { type: "config", run: () => ({ output: [pocket.config("greeting"), pocket.config("absent") === undefined] }) },
    {
      type: "kv",
      run({ input }) {
        pocket.kvSet("text", "as it is");
        pocket.kvSet("value", input);
        return { output: [pocket.kvGet("text"), JSON.parse(pocket.kvGet("value")), pocket.kvGet("absent")] };
      },
    },
    { type: "route", run: ({ input }) => ({ output: input, action: "side" }) },
    { type: "call", run: ({ input }) => pocket.callNode(input.type, input.input) },
    { type: "fail", run() { throw new Error("it failed"); } },
    {
      type: "try",
      run({ input }) {
        try {
          if (input === "http_denied") pocket.http({ url: "http://denied.invalid/" });
          if (input === "call_failing") pocket.callNode("js-guest/fail");
          if (input === "call_denied") pocket.callNode("js-text/echo");
          return { output: "no error" };
        } catch (e) {
          return { output: { error: e.message } };
        }
      },
    },
    { type: "async", async run({ input }) { await null; return { output: input }; } },
    { type: "bare", run: ({ input }) => input },
    { type: "surrogate", run: () => ({ output: "a\ud800b" }) },
    { type: "recurse", run() { const f = (n) => 1 + f(n + 1); return { output: f(0) }; } },
    { type: "loop", run() { for (;;) {} } },
    { type: "alloc", run() { const keep = []; for (;;) keep.push("x".repeat(1 << 20) + keep.length); } },
    {
      type: "numbers",
      run: () => ({ output: [(0.5).toFixed(0), (2.5).toFixed(0), (1.125).toFixed(2), (1.005).toFixed(2), (2.5).toPrecision(1), (-2.5).toExponential(0), (2n ** 64n).toString()] }),
    },
  ],
});
