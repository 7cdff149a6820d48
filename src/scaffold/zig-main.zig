//! {{name}}: a Pocket WASM plugin written in Zig with the Zig SDK.
const std = @import("std");
const pocket = @import("pocket");

pub const plugin: pocket.Plugin = .{
    .description =
    \\{"name": "{{name}}", "version": "0.1.0", "description": "Greets someone by name",
    \\ "permissions": ["log"],
    \\ "nodes": [{"type": "greet", "description": "Answers {\"greeting\": \"<salutation>, <input.name>!\"}",
    \\  "config_schema": {"type": "object", "properties": {
    \\    "salutation": {"type": "string", "default": "Hello", "description": "The word to greet with"}}},
    \\  "examples": [
    \\    {"input": {"name": "Ada"}, "output": {"greeting": "Hello, Ada!"}},
    \\    {"input": {"name": "Ada"}, "config": {"salutation": "Hi"}, "output": {"greeting": "Hi, Ada!"}},
    \\    {"name": "no name", "input": {}, "error": "missing field `name`"}]}]}
    ,
    .nodes = &.{.{ .type = "greet", .run = greet }},
};

/// greet: {"greeting": "<salutation>, <name>!"}.
fn greet(call: pocket.Call) !pocket.Result {
    const options = std.json.ParseOptions{ .ignore_unknown_fields = true };
    const input = try std.json.parseFromSliceLeaky(struct { name: ?[]const u8 = null }, pocket.allocator(), call.input, options);
    const config = try std.json.parseFromSliceLeaky(struct { salutation: []const u8 = "Hello" }, pocket.allocator(), call.config, options);
    const name = input.name orelse {
        pocket.message = "missing field `name`";
        return error.BadInput;
    };
    const greeting = try std.fmt.allocPrint(pocket.allocator(), "{s}, {s}!", .{ config.salutation, name });
    return .{ .output = try pocket.json(.{ .greeting = greeting }) };
}

// Analyses the SDK whole, so its ABI exports are compiled in.
comptime {
    _ = pocket;
}
