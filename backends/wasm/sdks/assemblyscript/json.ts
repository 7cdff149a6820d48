// Small JSON helpers over JSON text, with AssemblyScript's standard library
// only: a node's input, config and output stay JSON strings, and these read
// the parts a node needs and write what it answers. They accept any JSON
// (whitespace included); they check only as much as they read, and the host
// checks every output a node gives.

// @ts-ignore: decorator
@inline const QUOTE = 0x22; // "
// @ts-ignore: decorator
@inline const BACKSLASH = 0x5c;

function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

/** The index of the first non-whitespace character of `s` from `i`. */
export function skipSpace(s: string, i: i32): i32 {
  const n = s.length;
  while (i < n && isSpace(s.charCodeAt(i))) i++;
  return i;
}

/** The index just past the string literal starting at `s[i]` (a `"`), or -1. */
function skipString(s: string, i: i32): i32 {
  const n = s.length;
  for (i++; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c == BACKSLASH) i++;
    else if (c == QUOTE) return i + 1;
  }
  return -1;
}

/**
 * The index just past the JSON value that starts at `s[i]` (no whitespace
 * before it), or -1 when there is none or it does not end.
 */
export function skipValue(s: string, i: i32): i32 {
  const n = s.length;
  if (i >= n) return -1;
  let c = s.charCodeAt(i);
  if (c == QUOTE) return skipString(s, i);
  if (c == 0x7b || c == 0x5b) { // { [
    let depth = 0;
    for (; i < n; i++) {
      c = s.charCodeAt(i);
      if (c == QUOTE) {
        i = skipString(s, i);
        if (i < 0) return -1;
        i--;
      } else if (c == 0x7b || c == 0x5b) {
        depth++;
      } else if (c == 0x7d || c == 0x5d) { // } ]
        if (--depth == 0) return i + 1;
      }
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  let j = i;
  while (j < n) {
    c = s.charCodeAt(j);
    if (c == 0x2c || c == 0x7d || c == 0x5d || c == 0x3a || isSpace(c)) break;
    j++;
  }
  return j > i ? j : -1;
}

/**
 * What kind of JSON value `json` is: "string", "number", "object", "array",
 * "boolean", "null", or "" when it is none of them.
 */
export function kind(json: string): string {
  const i = skipSpace(json, 0);
  if (i >= json.length) return "";
  const c = json.charCodeAt(i);
  if (c == QUOTE) return "string";
  if (c == 0x7b) return "object";
  if (c == 0x5b) return "array";
  if (json.startsWith("true", i) || json.startsWith("false", i)) return "boolean";
  if (json.startsWith("null", i)) return "null";
  if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return "number";
  return "";
}

/** `text` as a JSON string literal, quoted and escaped. */
export function quote(text: string): string {
  const parts = new Array<string>();
  parts.push("\"");
  let from = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c != QUOTE && c != BACKSLASH) continue;
    if (i > from) parts.push(text.substring(from, i));
    from = i + 1;
    if (c == QUOTE) parts.push("\\\"");
    else if (c == BACKSLASH) parts.push("\\\\");
    else if (c == 0x0a) parts.push("\\n");
    else if (c == 0x0d) parts.push("\\r");
    else if (c == 0x09) parts.push("\\t");
    else if (c == 0x08) parts.push("\\b");
    else if (c == 0x0c) parts.push("\\f");
    else parts.push("\\u00" + (c < 0x10 ? "0" : "1") + "0123456789abcdef".charAt(c & 15));
  }
  if (n > from) parts.push(from == 0 ? text : text.substring(from, n));
  parts.push("\"");
  return parts.join("");
}

function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** The text of a JSON string literal (`"a\nb"`), or `null` if `json` is not one. */
export function parseString(json: string): string | null {
  const start = skipSpace(json, 0);
  if (start >= json.length || json.charCodeAt(start) != QUOTE) return null;
  const end = skipString(json, start);
  if (end < 0 || skipSpace(json, end) != json.length) return null;
  const parts = new Array<string>();
  let from = start + 1;
  const last = end - 1; // the closing quote
  for (let i = from; i < last; i++) {
    if (json.charCodeAt(i) != BACKSLASH) continue;
    if (i > from) parts.push(json.substring(from, i));
    const e = json.charCodeAt(++i);
    if (e == QUOTE || e == BACKSLASH || e == 0x2f) parts.push(String.fromCharCode(e));
    else if (e == 0x6e) parts.push("\n");
    else if (e == 0x72) parts.push("\r");
    else if (e == 0x74) parts.push("\t");
    else if (e == 0x62) parts.push("\b");
    else if (e == 0x66) parts.push("\f");
    else if (e == 0x75) { // \uXXXX: a UTF-16 code unit, as AssemblyScript's strings hold them
      if (i + 4 >= last) return null;
      let unit = 0;
      for (let k = 1; k <= 4; k++) {
        const d = hexDigit(json.charCodeAt(i + k));
        if (d < 0) return null;
        unit = (unit << 4) | d;
      }
      parts.push(String.fromCharCode(unit));
      i += 4;
    } else {
      return null;
    }
    from = i + 1;
  }
  if (parts.length == 0) return json.substring(start + 1, last);
  if (last > from) parts.push(json.substring(from, last));
  return parts.join("");
}

/** The number `json` holds, or NaN if it is not a JSON number. */
export function parseNumber(json: string): f64 {
  const text = json.trim();
  if (kind(text) != "number") return NaN;
  return parseFloat(text);
}

/** `true` or `false` as `json` holds it, or `fallback` if it is neither. */
export function parseBool(json: string, fallback: bool = false): bool {
  const text = json.trim();
  if (text == "true") return true;
  if (text == "false") return false;
  return fallback;
}

/**
 * Reads a JSON object's members one at a time: `next()` moves to the next
 * one (`false` at the end, or where the text is not a well-formed object),
 * then `key` is its name and `value` the JSON text of its value.
 */
class Members {
  key: string = "";
  value: string = "";
  private at: i32 = -1;

  constructor(private json: string) {
    const i = skipSpace(json, 0);
    if (i < json.length && json.charCodeAt(i) == 0x7b) this.at = skipSpace(json, i + 1);
  }

  /** Whether `json` is an object (before `next()` fails on its text). */
  get isObject(): bool {
    return this.at >= 0;
  }

  next(): bool {
    const json = this.json;
    const n = json.length;
    let i = this.at;
    if (i < 0 || i >= n || json.charCodeAt(i) == 0x7d) return false;
    if (json.charCodeAt(i) == 0x2c) i = skipSpace(json, i + 1);
    const keyEnd = i < n && json.charCodeAt(i) == QUOTE ? skipString(json, i) : -1;
    if (keyEnd < 0) return this.stop();
    const name = parseString(json.substring(i, keyEnd));
    i = skipSpace(json, keyEnd);
    if (name === null || i >= n || json.charCodeAt(i) != 0x3a) return this.stop();
    const valueStart = skipSpace(json, i + 1);
    const valueEnd = skipValue(json, valueStart);
    if (valueEnd < 0) return this.stop();
    i = skipSpace(json, valueEnd);
    if (i >= n || (json.charCodeAt(i) != 0x2c && json.charCodeAt(i) != 0x7d)) return this.stop();
    this.key = name;
    this.value = json.substring(valueStart, valueEnd);
    this.at = i;
    return true;
  }

  private stop(): bool {
    this.at = -1;
    return false;
  }
}

/**
 * The JSON text of `key`'s value in the JSON object `json`, or `null` when
 * `json` is not an object or has no such key.
 */
export function field(json: string, key: string): string | null {
  const members = new Members(json);
  while (members.next()) {
    if (members.key == key) return members.value;
  }
  return null;
}

/**
 * The members of the JSON object `json`, in order, each value as JSON text;
 * `null` if `json` is not an object.
 */
export function fields(json: string): Map<string, string> | null {
  const members = new Members(json);
  if (!members.isObject) return null;
  const map = new Map<string, string>();
  while (members.next()) map.set(members.key, members.value);
  return map;
}

/** The elements of the JSON array `json`, each as JSON text; `null` if it is not an array. */
export function elements(json: string): string[] | null {
  const n = json.length;
  let i = skipSpace(json, 0);
  if (i >= n || json.charCodeAt(i) != 0x5b) return null;
  const list = new Array<string>();
  i = skipSpace(json, i + 1);
  if (i < n && json.charCodeAt(i) == 0x5d) return list;
  while (i < n) {
    const end = skipValue(json, i);
    if (end < 0) return null;
    list.push(json.substring(i, end));
    i = skipSpace(json, end);
    if (i < n && json.charCodeAt(i) == 0x5d) return list;
    if (i >= n || json.charCodeAt(i) != 0x2c) return null;
    i = skipSpace(json, i + 1);
  }
  return null;
}

/** A JSON number for `value`: integers without a fraction, `null` for NaN and infinities. */
export function number(value: f64): string {
  if (!isFinite(value)) return "null";
  if (value == Math.trunc(value) && Math.abs(value) < 9007199254740992.0) return (<i64>value).toString();
  return value.toString();
}

/** A JSON array of the given elements (each JSON text). */
export function array(elements: string[]): string {
  return "[" + elements.join(",") + "]";
}

/**
 * Builds a JSON object, member by member:
 * `new JsonObject().set("n", "1").setString("name", name).toString()`.
 */
export class JsonObject {
  private members: string[] = [];

  /** Adds `key` with a value given as JSON text. */
  set(key: string, json: string): JsonObject {
    this.members.push(quote(key) + ":" + json);
    return this;
  }

  /** Adds `key` with a string value. */
  setString(key: string, value: string): JsonObject {
    return this.set(key, quote(value));
  }

  /** Adds `key` with a number value. */
  setNumber(key: string, value: f64): JsonObject {
    return this.set(key, number(value));
  }

  /** Adds `key` with a boolean value. */
  setBool(key: string, value: bool): JsonObject {
    return this.set(key, value ? "true" : "false");
  }

  toString(): string {
    return "{" + this.members.join(",") + "}";
  }
}
