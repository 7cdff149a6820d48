//! Every limit, hit by a script that tries to break it; the next call works.

use std::time::{Duration, Instant};

use pocket_core::testing::run_cancelled_after;
use pocket_core::{PocketConfig, RunError};

use crate::common::{TIGHT, config, graph_with, inline_graph, json, run_graph};

/// Runs `attack` (when the input says so) through one `lua` node, checks the
/// failure names `limit` and the script, then checks the next call works.
async fn hits_limit_then_recovers(attack: &str, limit: &str, toml: &str) -> String {
    let source = format!("if input.attack then\n{attack}\nend\nreturn {{ ok = true }}");
    let graph = inline_graph(&source, &config(toml));
    let err = run_graph(&graph, r#"{"attack": true}"#).await.unwrap_err().to_string();
    assert!(
        err.contains(&format!("{limit} limit exceeded")),
        "expected the {limit} limit: {err}"
    );
    assert!(err.contains("lua node `s`"), "the error should name the script: {err}");
    assert_eq!(
        run_graph(&graph, "{}").await.unwrap(),
        json(r#"{"ok": true}"#),
        "the next call works"
    );
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_is_stopped_by_the_instruction_limit() {
    hits_limit_then_recovers("while true do end", "instructions", TIGHT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loop_inside_pcall_cannot_swallow_the_instruction_limit() {
    hits_limit_then_recovers(
        "while true do pcall(function() while true do end end) end",
        "instructions",
        TIGHT,
    )
    .await;
    hits_limit_then_recovers(
        "local ok = xpcall(function() while true do end end, function(e) return e end)\nreturn { swallowed = not ok }",
        "instructions",
        TIGHT,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loop_inside_a_coroutine_is_stopped() {
    hits_limit_then_recovers(
        "coroutine.wrap(function() while true do end end)()",
        "instructions",
        TIGHT,
    )
    .await;
    hits_limit_then_recovers(
        "local co = coroutine.create(function() while true do end end)\nlocal ok = coroutine.resume(co)\nreturn { resumed = ok }",
        "instructions",
        TIGHT,
    )
    .await;
}

#[tokio::test]
async fn a_memory_bomb_is_stopped_by_the_memory_limit() {
    let err = hits_limit_then_recovers(
        "local t = {}\nfor i = 1, 1e9 do t[i] = { i, i, i } end",
        "memory",
        TIGHT,
    )
    .await;
    assert!(err.contains("8388608 bytes"), "{err}");
}

#[tokio::test]
async fn a_huge_string_rep_is_stopped_by_the_memory_limit() {
    hits_limit_then_recovers("local s = string.rep('x', 1e9)", "memory", TIGHT).await;
}

#[tokio::test]
async fn a_memory_error_caught_by_pcall_still_fails_the_call() {
    hits_limit_then_recovers(
        "local ok = pcall(string.rep, 'x', 1e9)\nreturn { survived = not ok }",
        "memory",
        TIGHT,
    )
    .await;
}

#[tokio::test]
async fn the_wall_clock_limit_stops_a_slow_script() {
    let toml = "[plugins.limits]\ninstructions = 100000000000\ntimeout = \"300ms\"\n";
    let started = Instant::now();
    let err = hits_limit_then_recovers("while true do end", "timeout", toml).await;
    assert!(err.contains("ran longer than 300ms"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_lua_node_timeout_lowers_the_wall_clock_limit() {
    let yaml = "name: t\nstart: s\nnodes:\n- name: s\n  type: lua\n  config:\n    timeout: 200ms\n    source: 'while true do end'\n";
    let graph = graph_with(yaml, &config("[plugins.limits]\ninstructions = 100000000000\n"), &[]).unwrap();
    let err = run_graph(&graph, "{}").await.unwrap_err().to_string();
    assert!(err.contains("timeout limit exceeded") && err.contains("200ms"), "{err}");
}

#[tokio::test]
async fn deep_recursion_fails_with_a_clear_error_and_the_host_survives() {
    let graph = inline_graph(
        "local function f(n) return f(n + 1) + 1 end\nif input.attack then return f(1) end\nreturn { ok = true }",
        &config(TIGHT),
    );
    let err = run_graph(&graph, r#"{"attack": true}"#).await.unwrap_err().to_string();
    assert!(
        err.contains("stack overflow") || err.contains("memory limit exceeded"),
        "{err}"
    );
    assert_eq!(run_graph(&graph, "{}").await.unwrap(), json(r#"{"ok": true}"#));
}

/// Cancels a run of `source` after 200 ms: the run must end cancelled, soon.
async fn cancelling_stops(source: &str, toml: &str) {
    let graph = inline_graph(source, &config(toml));
    let (result, took) = run_cancelled_after(&graph, "{}", Duration::from_millis(200)).await;
    assert!(
        matches!(result, Err(RunError::Cancelled))
            || result.as_ref().is_err_and(|e| e.to_string().contains("cancelled")),
        "{result:?}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_run_stops_a_running_script() {
    cancelling_stops("while true do end", "[plugins.limits]\ninstructions = 100000000000\n").await;
}

#[tokio::test]
async fn a_runner_timeout_on_a_current_thread_runtime_stops_the_script() {
    let yaml = "name: t\nstart: s\nnodes:\n- name: s\n  type: lua\n  timeout: 200ms\n  config:\n    source: |\n      if input.spin then while true do end end\n      return { ok = true }\n";
    let graph = graph_with(yaml, &config("[plugins.limits]\ninstructions = 100000000000\n"), &[]).unwrap();
    let err = run_graph(&graph, r#"{"spin": true}"#).await.unwrap_err().to_string();
    assert!(err.contains("timed out after 200ms"), "{err}");
    assert_eq!(run_graph(&graph, "{}").await.unwrap(), json(r#"{"ok": true}"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_limits_come_from_pocket_toml_by_plugin_name() {
    let toml = "[plugins.limits.spinner]\ninstructions = 100000\n";
    let graph = graph_with(
        "name: t\nstart: s\nnodes:\n- {name: s, type: spin}\n",
        &config(toml),
        &["spinner.lua"],
    )
    .unwrap();
    let err = run_graph(&graph, r#"{"spin": true}"#).await.unwrap_err().to_string();
    assert!(
        err.contains("instructions limit exceeded: spinner.lua ran more than 100000 VM instructions"),
        "{err}"
    );
    assert_eq!(run_graph(&graph, "{}").await.unwrap(), json(r#"{"ok": true}"#));
}

#[test]
fn the_default_limits_are_the_contracts() {
    let limits = PocketConfig::default().limits("lua");
    assert_eq!(
        (limits.memory, limits.instructions, limits.timeout),
        (64 << 20, 100_000_000, Duration::from_secs(30))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_sharing_one_subtable_a_billion_times_hits_the_memory_limit() {
    // A few KB of Lua whose JSON form would take about 100 GB.
    hits_limit_then_recovers(
        "local t = {string.rep('x', 100)}\nfor i = 1, 30 do t = {t, t} end\nreturn t",
        "memory",
        "",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_encode_of_a_shared_table_is_held_to_the_memory_limit() {
    // The variant: the expansion happens inside a host function.
    let source = "local t = {string.rep('x', 100)}\nfor i = 1, 30 do t = {t, t} end\nlocal text, err = json.encode(t)\nreturn { text = text, err = err }";
    let graph = inline_graph(source, &config(""));
    let out = run_graph(&graph, "{}").await.unwrap();
    assert_eq!(out.get("text"), None);
    let err = out.get("err").and_then(|e| e.as_str()).unwrap_or_default().to_string();
    assert!(err.contains("larger than the memory limit"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nodes_own_timeout_stops_a_script_running_in_place() {
    // The plugin's limits would let it spin for a minute; the workflow node's
    // `timeout: 300ms` is what stops it, though the call runs in place.
    let toml = "[plugins.limits]\ninstructions = 1000000000000\ntimeout = \"60s\"\n";
    let yaml = "name: t\nstart: s\nnodes:\n- name: s\n  type: lua\n  timeout: 300ms\n  config: {source: 'if input.spin then while true do end end return 1'}\n";
    let graph = graph_with(yaml, &config(toml), &[]).unwrap();
    let started = Instant::now();
    let err = run_graph(&graph, r#"{"spin": true}"#).await.unwrap_err().to_string();
    assert!(err.contains("timed out after 300ms"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(run_graph(&graph, "{}").await.unwrap(), json("1"), "the next call works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_inside_one_library_call_is_charged_to_the_instruction_limit() {
    for attack in [
        // An empty string repeated 10^15 times allocates nothing and never
        // ends; so does moving 10^15 nils. Both are charged before the loop.
        "string.rep('', 1e15)",
        "local s = (''):rep(1e15, '')",
        "table.move({}, 1, 1e15, 2)",
        // Backtracking matches: each would run for hours inside one C call.
        "string.find(('a'):rep(20000), '.-.-.-b')",
        "local s = ('a'):rep(20000)\nreturn s:match('(a*)a*a*b')",
        "string.gsub(('a'):rep(5000), 'a-a-a-b', '')",
        "for _ in string.gmatch(('x'):rep(5000), '.-.-y') do end",
        // A sort compares inside C.
        "local t = {}\nfor i = 1, 200000 do t[i] = -i end\ntable.sort(t)",
    ] {
        hits_limit_then_recovers(attack, "instructions", TIGHT).await;
    }
}

/// A budget of instructions no script reaches, so the clock must stop it.
const ENDLESS: &str = "[plugins.limits]\ninstructions = 100000000000000\ntimeout = \"300ms\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_stops_a_pattern_match_that_backtracks_for_hours() {
    let started = Instant::now();
    hits_limit_then_recovers("string.find(('a'):rep(100000), '.-.-.-.-b')", "timeout", ENDLESS).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_run_stops_a_pattern_match() {
    cancelling_stops(
        "return string.find(('a'):rep(100000), '.-.-.-.-b')",
        "[plugins.limits]\ninstructions = 100000000000000\ntimeout = \"60s\"\n",
    )
    .await;
}

#[tokio::test]
async fn text_gsub_builds_is_held_to_the_memory_limit() {
    hits_limit_then_recovers(
        "local big = ('b'):rep(1000)\nlocal out = (('a'):rep(100000)):gsub('a', big)",
        "memory",
        TIGHT,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_state_is_dropped_after_idle_timeout_and_the_next_call_builds_one() {
    let config = config("[plugins.limits]\nidle_timeout = \"1m\"\n");
    let registry = crate::common::registry(&config, &["greeter.lua"]);
    let plugin = registry.catalog().plugin("greeter").unwrap().plugin.clone();
    let graph = pocket_core::testing::graph(
        "name: t\nstart: g\nnodes:\n  - {name: g, type: greeter}\n",
        &registry,
        &config,
    )
    .unwrap();
    run_graph(&graph, r#"{"name": "a"}"#).await.unwrap();
    let now = Instant::now();
    assert_eq!(plugin.drop_idle(now), 0, "a state just used is kept");
    let later = now + Duration::from_secs(61);
    assert_eq!(plugin.drop_idle(later), 1, "the idle state is dropped");
    assert_eq!(plugin.drop_idle(later), 0);
    run_graph(&graph, r#"{"name": "b"}"#).await.unwrap();
}
