//! zig-text: a Pocket WASM plugin written in Zig with the Zig SDK.
const std = @import("std");
const pocket = @import("pocket");

pub const plugin: pocket.Plugin = .{
    .description =
    \\{"name": "zig-text", "version": "1.0.0", "description": "Text tools written in Zig",
    \\ "nodes": [
    \\  {"type": "reverse", "description": "Reverses the input text (by bytes)",
    \\   "examples": [{"input": "abc", "output": "cba"}, {"input": 7, "error": "expected a string"}]},
    \\  {"type": "echo", "description": "Gives its input back",
    \\   "examples": [{"input": {"a": [1, "]"]}, "output": {"a": [1, "]"]}}]}
    \\ ]}
    ,
    .nodes = &.{
        .{ .type = "reverse", .run = reverse },
        .{ .type = "echo", .run = echo },
    },
};

fn reverse(call: pocket.Call) !pocket.Result {
    const text = pocket.parse([]u8, call.input) catch {
        pocket.message = "expected a string";
        return error.BadInput;
    };
    std.mem.reverse(u8, text);
    return .{ .output = try pocket.json(text) };
}

fn echo(call: pocket.Call) !pocket.Result {
    return .{ .output = call.input };
}


// Analyses the SDK whole, so its ABI exports are compiled in.
comptime {
    _ = pocket;
}
