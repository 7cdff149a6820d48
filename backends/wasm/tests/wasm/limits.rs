//! Every runtime limit, hit by a module that tries to break it; the next call works.

use std::time::{Duration, Instant};

use crate::common::{attack_then_recover, config, graph, json, one_node, run_graph};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_is_stopped_by_the_fuel_limit() {
    attack_then_recover(
        "infinite-loop.wat",
        "[plugins.limits]\nfuel = 5000000\n",
        &[
            "fuel limit exceeded",
            "wasm plugin `infinite-loop`",
            "node `n`",
            "5000000 fuel",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_with_ample_fuel_is_stopped_on_time_by_the_watchdog() {
    // With this much fuel the loop would run for hours: ending within
    // seconds (a generous bound, for a loaded 2-core machine) is the watchdog.
    let started = Instant::now();
    attack_then_recover(
        "infinite-loop.wat",
        "[plugins.limits]\nfuel = 1000000000000000\ntimeout = \"300ms\"\n",
        &["timeout limit exceeded", "wasm plugin `infinite-loop`", "300ms"],
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn growing_memory_past_the_cap_fails_with_the_memory_limit() {
    attack_then_recover(
        "memory-growth.wat",
        "[plugins.limits]\nmemory = \"1MiB\"\n",
        &["memory limit exceeded", "wasm plugin `memory-growth`", "1048576 bytes"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_recursion_is_caught_as_a_stack_overflow() {
    attack_then_recover(
        "recursion.wat",
        "",
        &[
            "stack limit exceeded",
            "wasm plugin `recursion`",
            "overflowed the call stack",
        ],
    )
    .await;
}

#[tokio::test(flavor = "current_thread")]
async fn limits_hold_on_a_current_thread_runtime_too() {
    attack_then_recover(
        "infinite-loop.wat",
        "[plugins.limits]\nfuel = 5000000\n",
        &["fuel limit exceeded"],
    )
    .await;
}

/// The plugin's config, so that `config_get` hands the guest a buffer (and
/// so calls its `pocket_alloc`).
const GREETING: &str = "[plugins.config.reentrant-alloc]\ngreeting = \"hello\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_call_from_inside_pocket_alloc_traps_instead_of_recursing() {
    // pocket_alloc calls config_get, whose answer calls pocket_alloc...:
    // without the guard the host's own stack overflows and the process dies.
    attack_then_recover(
        "reentrant-alloc.wat",
        GREETING,
        &[
            "wasm plugin `reentrant-alloc`",
            "node `n`",
            "re-entrant host call: `config_get`",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_host_function_called_from_pocket_alloc_is_refused() {
    // The variant: pocket_alloc calls `log`, which would not recurse but
    // still runs host code in the middle of another host call.
    let config = config(GREETING);
    let bounce = graph(&one_node("bounce"), &config, &["reentrant-alloc.wat"]);
    let err = run_graph(&bounce, "{}").await.unwrap_err().to_string();
    assert!(err.contains("re-entrant host call: `log`"), "{err}");
    let ok = graph(&one_node("ok"), &config, &["reentrant-alloc.wat"]);
    assert_eq!(run_graph(&ok, "{}").await.unwrap(), json(r#""ok""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_grow_past_the_table_limit_fails_and_the_plugin_goes_on() {
    // 10 million elements would take 160 MB of host memory.
    let config = config("");
    let attack = graph(&one_node("attack"), &config, &["table-growth.wat"]);
    assert_eq!(run_graph(&attack, "{}").await.unwrap(), json(r#""refused""#));
    let ok = graph(&one_node("ok"), &config, &["table-growth.wat"]);
    assert_eq!(run_graph(&ok, "{}").await.unwrap(), json(r#""ok""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nodes_own_timeout_stops_a_guest_running_in_place() {
    // Fuel and the plugin's timeout would let it run for a minute; the
    // workflow node's `timeout: 300ms` stops it.
    let config = config("[plugins.limits]\nfuel = 1000000000000000\ntimeout = \"60s\"\n");
    let yaml = "name: t\nstart: n\nnodes:\n  - name: n\n    type: attack\n    timeout: 300ms\n";
    let attack = graph(yaml, &config, &["infinite-loop.wat"]);
    let started = Instant::now();
    let err = run_graph(&attack, "{}").await.unwrap_err().to_string();
    assert!(err.contains("timed out after 300ms"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let ok = graph(&one_node("ok"), &config, &["infinite-loop.wat"]);
    assert_eq!(run_graph(&ok, "{}").await.unwrap(), json(r#""ok""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_memory_and_table_operations_pay_fuel_for_their_length() {
    // Each loop iteration is a handful of operators moving 256 KiB (or
    // writing 100,000 table slots). Charged one unit each, 50,000,000 fuel
    // lasted millions of iterations and the 5 s clock stopped the loop; paid
    // by length, the fuel runs out within a few thousand.
    for fixture in ["bulk-memory-loop.wat", "bulk-table-loop.wat"] {
        let plugin = fixture.trim_end_matches(".wat");
        attack_then_recover(
            fixture,
            "[plugins.limits]\nfuel = 50000000\ntimeout = \"5s\"\n",
            &["fuel limit exceeded", &format!("wasm plugin `{plugin}`")],
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchdog_stops_a_loop_of_bulk_operations() {
    // Fuel enough for hours: the watchdog drains it at the deadline, and the
    // next bulk operation cannot pay for its length.
    let started = Instant::now();
    attack_then_recover(
        "bulk-memory-loop.wat",
        "[plugins.limits]\nfuel = 1000000000000000\ntimeout = \"300ms\"\n",
        &["timeout limit exceeded", "wasm plugin `bulk-memory-loop`"],
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}
