//! Every runtime limit, hit by a module that tries to break it; the next call works.

use std::time::{Duration, Instant};

use crate::common::attack_then_recover;

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
    let started = Instant::now();
    attack_then_recover(
        "infinite-loop.wat",
        "[plugins.limits]\nfuel = 1000000000000000\ntimeout = \"300ms\"\n",
        &["timeout limit exceeded", "wasm plugin `infinite-loop`", "300ms"],
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchdog_wakes_for_a_call_after_it_went_idle() {
    // Load the plugin, then stay idle past the watchdog's 1 s parking delay.
    let config = crate::common::config("[plugins.limits]\nfuel = 1000000000000000\ntimeout = \"300ms\"\n");
    crate::common::registry(&config, &["infinite-loop.wat"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let started = Instant::now();
    attack_then_recover(
        "infinite-loop.wat",
        "[plugins.limits]\nfuel = 1000000000000000\ntimeout = \"300ms\"\n",
        &["timeout limit exceeded", "300ms"],
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}
