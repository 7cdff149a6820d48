//! Pocket WASM plugins in Zig: the root file declares `pub const plugin` (a
//! `pocket.Plugin`: its description as JSON and its node types) and
//! `comptime { _ = pocket; }` (so Zig compiles this module's exports), and
//! this module exports Pocket's WASM ABI version 1 (docs/wasm-abi.md) for it.
//! Build for WASI preview 1 as a reactor:
//!
//!     zig build-exe -target wasm32-wasi -fno-entry -rdynamic -O ReleaseSmall \
//!         --dep pocket -Mroot=main.zig -Mpocket=pocket.zig --name NAME
//!
//! A node reaches the host (log, config, kv, HTTP, plugin calls) through the
//! functions at the end of this file, under the plugin's grants. Only the
//! standard library is used.
const std = @import("std");

/// Buffers the host sees: exactly sized, freed by the host.
const heap = std.heap.wasm_allocator;

/// What a node call allocates lives until the next call starts.
var call_arena = std.heap.ArenaAllocator.init(heap);

/// The allocator for a node call's work: everything is freed when the next
/// call starts.
pub fn allocator() std.mem.Allocator {
    return call_arena.allocator();
}

/// One node call: its input and config, as JSON text.
pub const Call = struct {
    input: []const u8,
    config: []const u8,
};

/// A node's output (JSON text) and the action it takes (`null`: `default`).
pub const Result = struct {
    output: []const u8,
    action: ?[]const u8 = null,
};

/// A node type: its name (as the description lists it) and what runs it.
/// An error fails the node with the error's name, or with `Plugin.message`
/// when the node set one.
pub const Node = struct {
    type: []const u8,
    run: *const fn (Call) anyerror!Result,
};

/// What a plugin says about itself (`description`, the JSON `pocket_describe`
/// returns: name, version, nodes with their schemas and examples) and the
/// node types it runs.
pub const Plugin = struct {
    description: []const u8,
    nodes: []const Node,
};

/// A node's error message for its next failure (else the error's name).
/// A host call that fails sets it to the host's reason; each call starts
/// with none.
pub var message: ?[]const u8 = null;

const plugin: Plugin = @import("root").plugin;

/// Encodes `value` as JSON text (allocated).
pub fn json(value: anytype) ![]u8 {
    return std.json.Stringify.valueAlloc(allocator(), value, .{});
}

/// Decodes JSON text into a `T` (allocated; strings copied).
pub fn parse(comptime T: type, text: []const u8) !T {
    return std.json.parseFromSliceLeaky(T, allocator(), text, .{ .allocate = .alloc_always });
}

fn pack(bytes: []const u8) i64 {
    return @bitCast((@as(u64, @intFromPtr(bytes.ptr)) << 32) | @as(u64, bytes.len));
}

/// Hands `bytes` to the host in a buffer of its own (exactly `bytes.len`
/// long, as `pocket_free` will be told).
fn give(bytes: []const u8) i64 {
    if (bytes.len == 0) return 0;
    const copy = heap.dupe(u8, bytes) catch return 0;
    return pack(copy);
}

export fn pocket_abi_version() i32 {
    return 1;
}

export fn pocket_alloc(len: i32) i32 {
    const size: usize = @intCast(@max(len, 1));
    const buffer = heap.alloc(u8, size) catch return 0;
    return @bitCast(@as(u32, @intCast(@intFromPtr(buffer.ptr))));
}

export fn pocket_free(ptr: i32, len: i32) void {
    if (ptr == 0) return;
    const address: usize = @as(u32, @bitCast(ptr));
    const many: [*]u8 = @ptrFromInt(address);
    heap.free(many[0..@intCast(@max(len, 1))]);
}

export fn pocket_describe() i64 {
    return give(plugin.description);
}

export fn pocket_exec(ptr: i32, len: i32) i64 {
    const address: usize = @as(u32, @bitCast(ptr));
    const many: [*]const u8 = @ptrFromInt(address);
    const request = many[0..@intCast(@max(len, 0))];
    _ = call_arena.reset(.retain_capacity);
    const parts = split(request) orelse return failure("bad request");
    for (plugin.nodes) |node| {
        if (std.mem.eql(u8, node.type, parts.node)) {
            message = null;
            const result = node.run(.{ .input = parts.input, .config = parts.config }) catch |err| {
                return failure(message orelse @errorName(err));
            };
            return respond(result);
        }
    }
    return failure("no such node type");
}

fn respond(result: Result) i64 {
    const action = if (result.action) |name| json(name) catch return 0 else null;
    const parts: []const []const u8 = if (action) |name|
        &.{ "{\"output\":", result.output, ",\"action\":", name, "}" }
    else
        &.{ "{\"output\":", result.output, "}" };
    const response = std.mem.concat(allocator(), u8, parts) catch return 0;
    return give(response);
}

fn failure(text: []const u8) i64 {
    const quoted = json(text) catch return 0;
    const response = std.mem.concat(allocator(), u8, &.{ "{\"error\":", quoted, "}" }) catch return 0;
    return give(response);
}

const Parts = struct { node: []const u8, config: []const u8, input: []const u8 };

/// Splits the request the host writes, `{"node":"<type>","config":{...},"input":<json>}`
/// (compact, keys in this order, `input` last: docs/wasm-abi.md), by skipping
/// one JSON value at a time, without decoding.
fn split(request: []const u8) ?Parts {
    const head = "{\"node\":";
    const middle = ",\"config\":";
    const tail = ",\"input\":";
    if (!std.mem.startsWith(u8, request, head) or request.len < head.len + 2) return null;
    var rest = request[head.len..];
    const node_end = skip(rest) orelse return null;
    if (node_end < 2 or !std.mem.startsWith(u8, rest[node_end..], middle)) return null;
    const node = rest[1 .. node_end - 1];
    rest = rest[node_end + middle.len ..];
    const config_end = skip(rest) orelse return null;
    if (!std.mem.startsWith(u8, rest[config_end..], tail) or rest[rest.len - 1] != '}') return null;
    return .{ .node = node, .config = rest[0..config_end], .input = rest[config_end + tail.len .. rest.len - 1] };
}

/// The length of the JSON value at the start of `bytes` (compact JSON).
fn skip(bytes: []const u8) ?usize {
    var depth: usize = 0;
    var in_string = false;
    var i: usize = 0;
    while (i < bytes.len) : (i += 1) {
        const c = bytes[i];
        if (in_string) {
            if (c == '\\') {
                i += 1;
            } else if (c == '"') {
                in_string = false;
                if (depth == 0) return i + 1;
            }
        } else switch (c) {
            '"' => in_string = true,
            '{', '[' => depth += 1,
            '}', ']' => {
                if (depth == 0) return i;
                depth -= 1;
                if (depth == 0) return i + 1;
            },
            ',' => if (depth == 0) return i,
            else => {},
        }
    }
    return if (depth == 0 and !in_string) bytes.len else null;
}

// Host calls: the `pocket` imports (docs/wasm-abi.md, "Imports the host
// provides"), as the Go SDK's host.go makes them. Each is checked by the host
// against the plugin's grants, which must be declared in its description's
// `permissions` too (docs/host-api.md). A call that fails returns an error
// and sets `message` to why, in the host's words: `try` passes it on as the
// node's error; a node that handles the error itself may clear `message`.

const host = struct {
    extern "pocket" fn log(level: i32, ptr: i32, len: i32) void;
    extern "pocket" fn config_get(key_ptr: i32, key_len: i32) i64;
    extern "pocket" fn kv_get(key_ptr: i32, key_len: i32) i64;
    extern "pocket" fn kv_set(key_ptr: i32, key_len: i32, value_ptr: i32, value_len: i32) i32;
    extern "pocket" fn http_request(ptr: i32, len: i32) i64;
    extern "pocket" fn plugin_call(ptr: i32, len: i32) i64;
};

/// How a host call fails; `message` says why.
pub const HostError = error{
    /// The host answered "failed" (`-1`): a capability denied, a bad buffer;
    /// Pocket's log says which.
    Refused,
    /// `kvSet`: the plugin lacks the `kv` grant (or does not declare it).
    Denied,
    /// `kvSet`: the host refused the key or value; `callNode`: the input or
    /// config is not JSON.
    InvalidArgument,
    /// `kvSet`: there is no store outside a run.
    NoStore,
    /// `kvSet`: over the plugin's `kv_bytes`, `kv_keys` or `kv_value_bytes` limit.
    OverLimit,
    /// `kvSet`: over the plugin's `kv_per_second` rate limit.
    RateLimited,
    /// `http` and `callNode`: the host answered `{"error": ...}` (refused,
    /// unreachable, timed out; for a call, the node failed).
    Failed,
    /// The host's answer is not the JSON it should be.
    BadAnswer,
    /// The call's arena could not hold the request or the answer.
    OutOfMemory,
};

/// Fails with `err`, `text` being why.
fn fail(err: HostError, text: []const u8) HostError {
    message = text;
    return err;
}

/// The pointer the host is given for `bytes` (`0` for none, as Go's SDK).
fn at(bytes: []const u8) i32 {
    if (bytes.len == 0) return 0;
    return @bitCast(@as(u32, @intCast(@intFromPtr(bytes.ptr))));
}

fn length(bytes: []const u8) i32 {
    return @bitCast(@as(u32, @intCast(bytes.len)));
}

/// Copies into the call's arena, and releases, a buffer the host handed over
/// (packed); `null` for "nothing", `error.Refused` for "failed".
fn take(handed: i64) HostError!?[]u8 {
    if (handed == -1) return fail(error.Refused, "the host refused the call (see its log)");
    if (handed == 0) return null;
    const bits: u64 = @bitCast(handed);
    const address: u32 = @truncate(bits >> 32);
    const len: u32 = @truncate(bits);
    const many: [*]const u8 = @ptrFromInt(address);
    defer pocket_free(@bitCast(address), @bitCast(len));
    return try allocator().dupe(u8, many[0..len]);
}

/// Decodes a host's answer (unknown keys ignored; strings may point into it).
fn answer(comptime T: type, what: []const u8, text: []const u8) HostError!T {
    return std.json.parseFromSliceLeaky(T, allocator(), text, .{
        .ignore_unknown_fields = true,
        .allocate = .alloc_if_needed,
        .parse_numbers = false,
    }) catch |err| switch (err) {
        error.OutOfMemory => error.OutOfMemory,
        else => fail(error.BadAnswer, std.fmt.allocPrint(allocator(), "{s}: the host's answer is not valid: {s}", .{ what, @errorName(err) }) catch what),
    };
}

/// Log levels (the ABI's numbers).
pub const Level = enum(i32) {
    debug = 1,
    info = 2,
    warn = 3,
    err = 4,
};

/// Writes `text` to Pocket's log at `level` (needs the `log` grant; without
/// it the line is dropped and Pocket's log says why). Returns nothing, as the
/// host's `log` answers nothing.
pub fn log(level: Level, text: []const u8) void {
    host.log(@backingInt(level), at(text), length(text));
}

/// `log` with `std.fmt` formatting (into the call's arena).
pub fn logf(level: Level, comptime format: []const u8, args: anytype) void {
    const text = std.fmt.allocPrint(allocator(), format, args) catch return;
    log(level, text);
}

/// A `std.Options.logFn` sending `std.log` to Pocket's log: declare
/// `pub const std_options: std.Options = .{ .logFn = pocket.logFn };` in the
/// root file (`std.log.debug` needs `.log_level = .debug` there outside Debug
/// builds).
pub fn logFn(
    comptime level: std.log.Level,
    comptime scope: @EnumLiteral(),
    comptime format: []const u8,
    args: anytype,
) void {
    const prefix = if (scope == .default) "" else @tagName(scope) ++ ": ";
    logf(switch (level) {
        .debug => .debug,
        .info => .info,
        .warn => .warn,
        .err => .err,
    }, prefix ++ format, args);
}

/// The plugin's config value under `key` (pocket.toml's
/// `[plugins.config.<name>]` and the workflow's `plugins:`), as JSON text;
/// `null` when absent. Needs no grant, but keys that look secret are withheld
/// unless a `config:<path>` grant lets them through (docs/host-api.md).
pub fn config(key: []const u8) HostError!?[]u8 {
    return take(host.config_get(at(key), length(key)));
}

/// The value stored under `key` in the run's store (needs `kv`): what
/// `kvSet` stored, as it was given; `null` when absent.
pub fn kvGet(key: []const u8) HostError!?[]u8 {
    return take(host.kv_get(at(key), length(key)));
}

/// Stores `value` (JSON text) under `key` in the run's store (needs `kv`).
/// The store and its keys are the plugin's own, for the run.
pub fn kvSet(key: []const u8, value: []const u8) HostError!void {
    return switch (host.kv_set(at(key), length(key), at(value), length(value))) {
        0 => {},
        1 => fail(error.Denied, "kv_set: denied (the plugin needs the `kv` grant)"),
        3 => fail(error.NoStore, "kv_set: no store outside a run"),
        4 => fail(error.OverLimit, "kv_set: over the plugin's kv limits"),
        5 => fail(error.RateLimited, "kv_set: over the plugin's kv_per_second rate limit"),
        else => fail(error.InvalidArgument, "kv_set: invalid argument"),
    };
}

/// One HTTP header.
pub const Header = struct {
    name: []const u8,
    value: []const u8,
};

/// A request for HTTP (needs an `http:<host>` grant).
pub const HttpRequest = struct {
    method: []const u8 = "GET",
    url: []const u8,
    /// Sent only when there are some.
    headers: []const Header = &.{},
    /// Sent only when not empty.
    body: []const u8 = "",

    /// `{"method", "url", "headers": {name: value}, "body"}`, without empty
    /// headers or body (as Go's `omitempty`).
    pub fn jsonStringify(self: HttpRequest, jw: anytype) !void {
        try jw.beginObject();
        try jw.objectField("method");
        try jw.write(self.method);
        try jw.objectField("url");
        try jw.write(self.url);
        if (self.headers.len > 0) {
            try jw.objectField("headers");
            try jw.beginObject();
            for (self.headers) |header| {
                try jw.objectField(header.name);
                try jw.write(header.value);
            }
            try jw.endObject();
        }
        if (self.body.len > 0) {
            try jw.objectField("body");
            try jw.write(self.body);
        }
        try jw.endObject();
    }
};

/// What came back (any status: a 404 is a response, not an error).
pub const HttpResponse = struct {
    status: u16 = 0,
    /// Names in lower case.
    headers: std.json.ArrayHashMap([]const u8) = .{},
    body: []const u8 = "",

    /// The value of header `name` (lower case), if it came.
    pub fn header(self: HttpResponse, name: []const u8) ?[]const u8 {
        return self.headers.map.get(name);
    }
};

/// Sends `request` through the host, under the plugin's grants and limits
/// (`http_body`, `http_per_minute`, what is left of the call's time).
pub fn http(request: HttpRequest) HostError!HttpResponse {
    const body = try json(request);
    const text = try take(host.http_request(at(body), length(body))) orelse
        return fail(error.BadAnswer, "http_request: the host answered nothing");
    const parsed = try answer(struct {
        status: u16 = 0,
        headers: std.json.ArrayHashMap([]const u8) = .{},
        body: []const u8 = "",
        @"error": []const u8 = "",
    }, "http_request", text);
    if (parsed.@"error".len > 0) return fail(error.Failed, parsed.@"error");
    return .{ .status = parsed.status, .headers = parsed.headers, .body = parsed.body };
}

/// What `callNode` gives: the node's output (JSON text) and the action it
/// chose (`null`: `default`).
pub const Called = struct {
    output: []const u8,
    action: ?[]const u8 = null,
};

/// Runs the node type `target` (`plugin/type`, or a bare type name resolved
/// as a workflow resolves it; needs a matching `plugin_call:` grant) on
/// `input` with `node_config` (both JSON text; `"{}"`: no config). The callee
/// runs as its own plugin, with what is left of this call's time. A failure
/// of the node is `error.Failed`, with `message` its error.
pub fn callNode(target: []const u8, input: []const u8, node_config: []const u8) HostError!Called {
    if (!(std.json.validate(allocator(), input) catch return error.OutOfMemory))
        return fail(error.InvalidArgument, "plugin_call: the input is not JSON");
    if (!(std.json.validate(allocator(), node_config) catch return error.OutOfMemory))
        return fail(error.InvalidArgument, "plugin_call: the config is not JSON");
    const target_json = try json(target);
    const body = try std.mem.concat(allocator(), u8, &.{
        "{\"type\":", target_json, ",\"input\":", input, ",\"config\":", node_config, "}",
    });
    const text = try take(host.plugin_call(at(body), length(body))) orelse
        return fail(error.BadAnswer, "plugin_call: the host answered nothing");
    const parsed = try answer(struct {
        output: std.json.Value = .null,
        action: ?[]const u8 = null,
        @"error": []const u8 = "",
    }, "plugin_call", text);
    if (parsed.@"error".len > 0) return fail(error.Failed, parsed.@"error");
    return .{ .output = try json(parsed.output), .action = parsed.action };
}
