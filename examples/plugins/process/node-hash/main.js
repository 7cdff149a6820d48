// node-hash: Node's own crypto and zlib, through Pocket's Node SDK.
// pocket-plugin.js is copied beside this file by scripts/build-plugins.sh
// (from backends/process/sdks/node): a plugin directory holds all it runs.
"use strict";

const crypto = require("crypto");
const zlib = require("zlib");
const { Plugin, InvalidInput, InvalidConfig } = require("./pocket-plugin");

const plugin = new Plugin({
  name: "node-hash",
  version: "1.0.0",
  description: "Hashes and compresses text with Node's crypto and zlib",
  author: "Pocket examples",
  permissions: ["log"],
});

const text = (input) => {
  if (typeof input === "string") return input;
  if (input && typeof input.text === "string") return input.text;
  throw new InvalidInput("expected a string, or an object with `text`");
};

const checkAlgorithm = (config) => {
  const algorithm = (config && config.algorithm) || "sha256";
  if (!crypto.getHashes().includes(algorithm)) throw new InvalidConfig(`unknown hash \`${algorithm}\``);
  return algorithm;
};

plugin.node(
  "hash",
  {
    description: "The hex digest of a text (sha256 unless `algorithm` says)",
    config_schema: { type: "object", properties: { algorithm: { type: "string", default: "sha256" } } },
    examples: [
      { input: "abc", output: { algorithm: "sha256", hex: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" } },
      { input: { text: "abc" }, config: { algorithm: "md5" }, output: { algorithm: "md5", hex: "900150983cd24fb0d6963f7d28e17f72" } },
      { input: 7, error: "expected a string" },
    ],
    prepare: checkAlgorithm,
  },
  async (input, config, ctx) => {
    const algorithm = checkAlgorithm(config);
    return { algorithm, hex: crypto.createHash(algorithm).update(text(input)).digest("hex") };
  },
);

plugin.node(
  "gzip",
  { description: "Gzip-compresses a text: its base64 and both sizes" },
  async (input, config, ctx) => {
    const raw = Buffer.from(text(input), "utf8");
    const packed = zlib.gzipSync(raw);
    await ctx.log("info", `gzip: ${raw.length} -> ${packed.length} bytes`);
    return { bytes: raw.length, gzipped: packed.length, base64: packed.toString("base64") };
  },
);

plugin.node("echo", { description: "Returns its input" }, async (input) => input);

plugin.run();
