//! zig-guest: a test guest exercising every host call of the Zig SDK, built
//! by scripts/build-zig-plugins.sh for the WASM backend's tests.
const std = @import("std");
const pocket = @import("pocket");

pub const std_options: std.Options = .{ .logFn = pocket.logFn };

pub const plugin: pocket.Plugin = .{
    .description =
    \\{"name": "zig-guest", "version": "1.0.0",
    \\ "permissions": ["log", "kv", "http:127.0.0.1", "plugin_call:zig-guest/*"],
    \\ "nodes": [
    \\  {"type": "config", "description": "The plugin config's `greeting` (null when absent)"},
    \\  {"type": "kv", "description": "Stores its input (JSON) under `k` and reads it back"},
    \\  {"type": "http", "description": "GETs the input URL: status, body and content type"},
    \\  {"type": "call", "description": "Calls {type, input, config}: its output and action"},
    \\  {"type": "route", "description": "Gives its input, choosing action `side`"},
    \\  {"type": "log", "description": "Logs at every level"},
    \\  {"type": "try", "description": "Runs the input's `op` and reports the error and message"},
    \\  {"type": "fail", "description": "Fails"},
    \\  {"type": "bigkv", "description": "Stores and reads back 1 MiB", "examples": [{"input": null, "output": 1000000}]}
    \\ ]}
    ,
    .nodes = &.{
        .{ .type = "config", .run = config },
        .{ .type = "kv", .run = kv },
        .{ .type = "http", .run = get },
        .{ .type = "call", .run = call },
        .{ .type = "route", .run = route },
        .{ .type = "log", .run = logAll },
        .{ .type = "try", .run = tryOp },
        .{ .type = "fail", .run = fail },
        .{ .type = "bigkv", .run = bigkv },
    },
};

fn config(_: pocket.Call) !pocket.Result {
    const greeting = try pocket.config("greeting");
    pocket.log(.info, "read the greeting");
    return .{ .output = greeting orelse "null" };
}

fn kv(c: pocket.Call) !pocket.Result {
    try pocket.kvSet("k", c.input);
    return .{ .output = (try pocket.kvGet("k")) orelse "null" };
}

fn get(c: pocket.Call) !pocket.Result {
    const url = try pocket.parse([]const u8, c.input);
    const response = try pocket.http(.{ .url = url, .headers = &.{.{ .name = "x-test", .value = "zig" }} });
    return .{ .output = try pocket.json(.{
        .status = response.status,
        .body = response.body,
        .content_type = response.header("content-type"),
    }) };
}

fn call(c: pocket.Call) !pocket.Result {
    const Request = struct { type: []const u8, input: std.json.Value = .null, config: std.json.Value = .null };
    const request = try std.json.parseFromSliceLeaky(Request, pocket.allocator(), c.input, .{});
    const config_text = if (request.config == .null) "{}" else try pocket.json(request.config);
    const called = try pocket.callNode(request.type, try pocket.json(request.input), config_text);
    const action = if (called.action) |name| try pocket.json(name) else "null";
    return .{ .output = try std.mem.concat(pocket.allocator(), u8, &.{ "{\"output\":", called.output, ",\"action\":", action, "}" }) };
}

fn route(c: pocket.Call) !pocket.Result {
    return .{ .output = c.input, .action = "side" };
}

fn logAll(_: pocket.Call) !pocket.Result {
    pocket.log(.debug, "a debug line");
    pocket.log(.info, "an info line");
    pocket.log(.warn, "a warn line");
    pocket.logf(.err, "an error line, {d}", .{42});
    std.log.info("through std.log", .{});
    std.log.scoped(.zig_guest).warn("scoped", .{});
    return .{ .output = "null" };
}

fn tryOp(c: pocket.Call) !pocket.Result {
    const op = try pocket.parse([]const u8, c.input);
    const outcome: anyerror!void = blk: {
        if (std.mem.eql(u8, op, "kv_set")) break :blk pocket.kvSet("k", "1");
        if (std.mem.eql(u8, op, "kv_get")) break :blk if (pocket.kvGet("k")) |_| {} else |e| e;
        if (std.mem.eql(u8, op, "http_denied")) break :blk if (pocket.http(.{ .url = "http://denied.invalid/" })) |_| {} else |e| e;
        if (std.mem.eql(u8, op, "call_failing")) break :blk if (pocket.callNode("zig-guest/fail", "null", "{}")) |_| {} else |e| e;
        if (std.mem.eql(u8, op, "call_bad_input")) break :blk if (pocket.callNode("zig-guest/route", "{nope", "{}")) |_| {} else |e| e;
        if (std.mem.eql(u8, op, "call_denied")) break :blk if (pocket.callNode("zig-text/echo", "1", "{}")) |_| {} else |e| e;
        break :blk error.UnknownOp;
    };
    outcome catch |err| {
        const text = pocket.message;
        pocket.message = null;
        return .{ .output = try pocket.json(.{ .@"error" = @errorName(err), .message = text }) };
    };
    return .{ .output = "\"ok\"" };
}

fn bigkv(_: pocket.Call) !pocket.Result {
    const value = try pocket.allocator().alloc(u8, 1000000);
    @memset(value, 'x');
    try pocket.kvSet("big", value);
    const back = (try pocket.kvGet("big")).?;
    return .{ .output = try pocket.json(back.len) };
}

fn fail(_: pocket.Call) !pocket.Result {
    pocket.message = "it failed";
    return error.Failed;
}

comptime {
    _ = pocket;
}
