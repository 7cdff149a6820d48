//! Start-up: `pocket run` of a one-node workflow (`echo`) in a deployment
//! whose pocket.toml autoloads every example plugin (Lua, WASM, native),
//! against one that loads none. Plugins load lazily, on the first use of
//! one of their node types, from cached descriptions; the first run of a
//! deployment loads them all and fills the cache.
//!
//! Run with `cargo bench --bench startup` (unset RUST_BACKTRACE). Runs the
//! variants interleaved, `RUNS` times each, and prints each one's median
//! with its ratio to the no-plugin floor.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 41;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("bash")
        .arg(root.join("scripts/build-plugins.sh"))
        .status()
        .expect("run scripts/build-plugins.sh");
    assert!(status.success(), "scripts/build-plugins.sh failed");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let workflow = dir.path().join("one.yaml");
    std::fs::write(
        &workflow,
        "name: one\nstart: only\nnodes:\n  - name: only\n    type: echo\n",
    )
    .expect("written");
    let none = dir.path().join("none.toml");
    std::fs::write(&none, "[plugins]\ndirectories = []\n").expect("written");
    let every = root.join("pocket.toml");
    let cache = dir.path().join("cache");
    let run = |config: &Path| {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_pocket"))
            .arg("--config")
            .arg(config)
            .arg("run")
            .arg(&workflow)
            .env("POCKET_CACHE_DIR", &cache)
            .env("POCKET_LOG", "error")
            .output()
            .expect("run pocket");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        started.elapsed()
    };
    // The first run fills the description and module caches.
    run(&every);
    let (mut floor, mut lazy) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        floor.push(run(&none));
        lazy.push(run(&every));
    }
    let floor = median(floor);
    let lazy = median(lazy);
    println!("pocket run, one echo node (median of {RUNS}):");
    println!("  no plugins configured            {:>8.2} ms  (floor)", ms(floor));
    println!(
        "  every example plugin configured  {:>8.2} ms  {:.2}x (target <= 1.3x)",
        ms(lazy),
        lazy.as_secs_f64() / floor.as_secs_f64()
    );
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1000.0
}
