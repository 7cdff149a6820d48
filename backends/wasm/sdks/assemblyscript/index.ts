// Pocket WASM plugins in AssemblyScript (docs/assemblyscript-plugins.md).
//
//     import * as pocket from "pocket-sdk";
//     export * from "pocket-sdk/abi"; // the ABI exports
//
//     pocket.register({ name: "NAME", nodes: [{ type: "echo", run: echo }] });
//     function echo(call: pocket.Call): pocket.Result { return pocket.output(call.input); }
//
// Build for Pocket with scripts/build-as-plugins.sh, or with asc and the
// options it passes (`--exportStart _initialize`, the `--use` hooks). Only
// AssemblyScript's standard library is used.

export * from "./plugin";
export * from "./json";
export * from "./host";
