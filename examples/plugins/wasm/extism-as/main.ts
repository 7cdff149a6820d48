// An Extism plugin written in AssemblyScript with Extism's own PDK
// (npm's @extism/as-pdk), nothing of Pocket's: any Extism host runs it, and
// Pocket loads it unchanged (see extism-as.extism.toml beside the built
// module). Built by scripts/build-extism-as-plugin.sh.
import { Config, Host, Var } from "@extism/as-pdk";
import { error_set } from "@extism/as-pdk/lib/env";
import { Memory } from "@extism/as-pdk";

// Extism's AssemblyScript build routes `abort` here (`--use abort=...`):
// the message becomes the call's error, and the call stops.
function extismAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const text = (message == null ? "abort" : message!) + " at " + (fileName == null ? "?" : fileName!) + ":" + line.toString();
  error_set(Memory.allocateString(text).offset);
  unreachable();
}

// Counts the vowels of its input text, and the calls this instance has had.
export function count_vowels(): i32 {
  const text = Host.inputString();
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i).toLowerCase();
    if (c == "a" || c == "e" || c == "i" || c == "o" || c == "u") count++;
  }
  const before = Var.getString("calls");
  const calls = (before == null ? 0 : I32.parseInt(before!)) + 1;
  Var.set("calls", Uint8Array.wrap(String.UTF8.encode(calls.toString())));
  Host.outputString('{"count":' + count.toString() + ',"calls":' + calls.toString() + "}");
  return 0;
}

// Greets its input text with the configured greeting.
export function greet(): i32 {
  const name = Host.inputString();
  if (name.length == 0) {
    error_set(Memory.allocateString("nobody to greet").offset);
    return 1;
  }
  const greeting = Config.get("greeting");
  Host.outputString((greeting == null ? "Hello" : greeting!) + ", " + name + "!");
  return 0;
}

// Asserts its input is not empty (an abort otherwise).
export function check(): i32 {
  assert(Host.input().length > 0, "input must not be empty");
  Host.outputString('"ok"');
  return 0;
}
