//! zig-text: a Pocket WASM plugin written in Zig with the Zig SDK.
const std = @import("std");
const pocket = @import("pocket");

pub const plugin: pocket.Plugin = .{
    .description =
    \\{"name": "zig-text", "version": "1.0.0", "description": "Text tools written in Zig",
    \\ "permissions": ["log", "kv"],
    \\ "nodes": [
    \\  {"type": "reverse", "description": "Reverses the input text (by bytes); logs its length at debug level",
    \\   "examples": [{"input": "abc", "output": "cba"}, {"input": 7, "error": "expected a string"}]},
    \\  {"type": "echo", "description": "Gives its input back",
    \\   "examples": [{"input": {"a": [1, "]"]}, "output": {"a": [1, "]"]}}]},
    \\  {"type": "count", "description": "Adds 1 to a counter in the run's key-value store and gives the new count (its input is ignored). Needs the `kv` grant: zig-text = [\"log\", \"kv\"] in pocket.toml's [plugins.permissions]",
    \\   "config_schema": {"type": "object", "properties": {"key": {"type": "string", "default": "count", "description": "The kv key the counter is kept under"}}},
    \\   "examples": [{"name": "an empty key (checked before the store is reached)", "config": {"key": ""}, "error": "`key` must not be empty"}]}
    \\ ]}
    ,
    .nodes = &.{
        .{ .type = "reverse", .run = reverse },
        .{ .type = "echo", .run = echo },
        .{ .type = "count", .run = count },
    },
};

fn reverse(call: pocket.Call) !pocket.Result {
    const text = pocket.parse([]u8, call.input) catch {
        pocket.message = "expected a string";
        return error.BadInput;
    };
    pocket.logf(.debug, "reversing {d} bytes", .{text.len});
    std.mem.reverse(u8, text);
    return .{ .output = try pocket.json(text) };
}

fn echo(call: pocket.Call) !pocket.Result {
    return .{ .output = call.input };
}

fn count(call: pocket.Call) !pocket.Result {
    const config = try std.json.parseFromSliceLeaky(struct { key: []const u8 = "count" }, pocket.allocator(), call.config, .{ .ignore_unknown_fields = true });
    if (config.key.len == 0) {
        pocket.message = "`key` must not be empty";
        return error.BadConfig;
    }
    // A failed host call fails the node with the host's reason (pocket.message).
    const stored = try pocket.kvGet(config.key);
    const current = if (stored) |text| std.fmt.parseInt(i64, text, 10) catch {
        pocket.message = "the stored count is not an integer";
        return error.BadCount;
    } else 0;
    const next = current +| 1;
    try pocket.kvSet(config.key, try pocket.json(next));
    pocket.logf(.info, "count `{s}` is now {d}", .{ config.key, next });
    return .{ .output = try pocket.json(next) };
}

// Analyses the SDK whole, so its ABI exports are compiled in.
comptime {
    _ = pocket;
}
