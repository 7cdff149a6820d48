//! Every sandbox rule, with a script that tries to break it.

use pocket_core::PocketConfig;

use crate::common::{eval, graph_with, inline_graph, json, run_graph};

#[tokio::test]
async fn dangerous_libraries_and_functions_are_absent() {
    let out = eval(
        r#"
local names = { "io", "debug", "package", "require", "dofile", "loadfile" }
local found = {}
for _, n in ipairs(names) do found[n] = type(_G[n]) end
found["os.execute"] = type(os.execute)
found["os.getenv"] = type(os.getenv)
found["os.remove"] = type(os.remove)
found["os.exit"] = type(os.exit)
found["string.dump"] = type(string.dump)
return found
"#,
        "{}",
    )
    .await;
    for (name, kind) in out.as_object().unwrap().iter() {
        assert_eq!(kind.as_str(), Some("nil"), "{name} is reachable");
    }
}

#[tokio::test]
async fn the_allowed_libraries_are_all_there() {
    let out = eval(
        "return { os.time() > 0, type(os.clock()), os.date('%Y', 0), utf8.char(72), math.floor(2.5), table.concat({'a','b'}), coroutine.running() ~= nil }",
        "{}",
    )
    .await;
    assert_eq!(out, json(r#"[true, "number", "1970", "H", 2, "ab", true]"#));
}

#[tokio::test]
async fn escape_attempts_through_load_env_and_metatables_find_nothing() {
    let out = eval(
        r#"
return {
  via_load = load("return io or debug or require")(),
  via_env = _ENV.io,
  via_rawget = rawget(_G, "debug"),
  via_g = _G._G.package,
  env_meta = getmetatable(_ENV),
  string_meta = getmetatable(""),
}
"#,
        "{}",
    )
    .await;
    assert_eq!(
        out,
        json(r#"{"env_meta": false, "string_meta": false}"#),
        "every `via_*` is nil"
    );
}

#[tokio::test]
async fn binary_chunks_are_refused_even_when_asked_for() {
    let out = eval(
        r#"
local f, err = load("\27LuaT\0\25\147\13\10\26\10", "bin", "b")
local g, err2 = load(function() return nil end, "x", "bt")
return { loaded = f ~= nil, err = err }
"#,
        "{}",
    )
    .await;
    assert_eq!(out.get("loaded"), Some(&json("false")));
    assert!(
        out.get("err").unwrap().as_str().unwrap().contains("binary chunk"),
        "{out}"
    );
}

#[tokio::test]
async fn collectgarbage_answers_count_and_nothing_else() {
    let out = eval(
        "local ok, err = pcall(collectgarbage, 'stop') return { kb = collectgarbage('count') > 0, ok = ok, err = err }",
        "{}",
    )
    .await;
    assert_eq!(out.get("kb"), Some(&json("true")));
    assert_eq!(out.get("ok"), Some(&json("false")));
    assert!(
        out.get("err").unwrap().as_str().unwrap().contains("only \"count\""),
        "{out}"
    );
}

#[tokio::test]
async fn gc_finalizers_are_refused_because_they_run_without_limits() {
    let graph = inline_graph(
        "setmetatable({}, { __gc = function() while true do end end })\nreturn {}",
        &PocketConfig::default(),
    );
    let err = run_graph(&graph, "{}").await.unwrap_err().to_string();
    assert!(
        err.contains("s:1: setmetatable: __gc metamethods are not available"),
        "{err}"
    );
}

#[tokio::test]
async fn the_string_metatable_cannot_be_tampered_with() {
    let graph = inline_graph(
        "if input.tamper then getmetatable('').__index = { upper = function() return 'pwned' end } end\nreturn { up = ('x'):upper() }",
        &PocketConfig::default(),
    );
    let err = run_graph(&graph, r#"{"tamper": true}"#).await.unwrap_err().to_string();
    assert!(err.contains("attempt to index a boolean value"), "{err}");
    assert_eq!(run_graph(&graph, "{}").await.unwrap(), json(r#"{"up": "X"}"#));
}

#[tokio::test]
async fn globals_do_not_leak_between_inline_scripts_or_calls() {
    let yaml = r#"
name: t
start: a
nodes:
  - name: a
    type: lua
    config:
      source: |
        local seen = secret
        secret = "from a"
        string.leak = "from a"
        return { seen = seen }
  - name: b
    type: lua
    config:
      source: "return { secret = secret, leak = string.leak, seen = input.seen }"
connections:
  - { from: a, to: b }
"#;
    let graph = graph_with(yaml, &PocketConfig::default(), &[]).unwrap();
    for _ in 0..2 {
        // Twice: the second run reuses the pooled states, and `a` still sees fresh globals.
        assert_eq!(run_graph(&graph, "{}").await.unwrap(), json("{}"));
    }
}

#[tokio::test]
async fn plugins_cannot_see_each_others_globals_or_library_changes() {
    let yaml = "name: t\nstart: a\nnodes:\n- {name: a, type: leak}\n- {name: b, type: snoop}\nconnections:\n- {from: a, to: b}\n";
    let graph = graph_with(yaml, &PocketConfig::default(), &["leaky.lua", "snoop.lua"]).unwrap();
    let out = run_graph(&graph, "{}").await.unwrap();
    assert_eq!(out, json(r#"{"leak": "nil", "upper": "X"}"#));
}
