//! Pocket WASM plugins in Zig: the root file declares `pub const plugin` (a
//! `pocket.Plugin`: its description as JSON and its node types) and
//! `comptime { _ = pocket; }` (so Zig compiles this module's exports), and
//! this module exports Pocket's WASM ABI version 1 (docs/wasm-abi.md) for it.
//! Build for WASI preview 1 as a reactor:
//!
//!     zig build-exe -target wasm32-wasi -fno-entry -rdynamic -O ReleaseSmall \
//!         --dep pocket -Mroot=main.zig -Mpocket=pocket.zig --name NAME
//!
//! Only the standard library is used.
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
