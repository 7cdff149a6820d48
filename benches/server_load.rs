//! Load on `pocket serve`: runs per second and latency (p50, p99) of a
//! 5-node workflow with one Lua and one WASM node, history on (SQLite), at
//! concurrency 1, 16 and 64, submitted with `?wait=true` so each request is
//! one whole run; then the server's resident memory after many runs.
//!
//! Run with `cargo bench --bench server_load` (unset RUST_BACKTRACE). The
//! client runs on the same machine and shares its cores with the server.
//! `POCKET_LOAD_RUNS` (default 5,000) sets the runs per concurrency level and
//! `POCKET_LOAD_SOAK` (default 100,000) the runs before the memory reading.
//! Every loop is bounded by those counts; traffic goes to 127.0.0.1 only.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const WORKFLOW: &str = "name: load
start: shape
nodes:
  - name: shape
    type: transform
    config: { title: \"{{.title}}\", n: \"{{.n}}\" }
  - name: slug
    type: slugify
    config: { field: title }
  - name: echo
    type: json-tools/echo-json
  - name: count
    type: transform
    config: { slug: \"{{.slug}}\", n: \"{{.n}}\" }
  - name: done
    type: echo
connections:
  - { from: shape, to: slug }
  - { from: slug, to: echo }
  - { from: echo, to: count }
  - { from: count, to: done }
";

fn count(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let built = Command::new("bash").arg(root.join("scripts/build-plugins.sh")).status();
    assert!(built.is_ok_and(|s| s.success()), "scripts/build-plugins.sh failed");
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(dir.path().join("flows")).expect("created");
    std::fs::write(dir.path().join("flows/load.yaml"), WORKFLOW).expect("written");
    let plugins = |kind: &str| root.join("examples/plugins").join(kind).display().to_string();
    let config = format!(
        "[plugins]\ndirectories = [{:?}, {:?}]\n\n[server]\nlisten = \"127.0.0.1:0\"\nworkflows = \"flows\"\n\
         max_concurrent_runs = 64\nqueue_depth = 4096\nretention = \"7d\"\n",
        plugins("lua"),
        plugins("wasm")
    );
    std::fs::write(dir.path().join("pocket.toml"), config).expect("written");
    let mut server = Command::new(env!("CARGO_BIN_EXE_pocket"))
        .arg("--config")
        .arg(dir.path().join("pocket.toml"))
        .arg("serve")
        .env("POCKET_LOG", "error")
        .env("POCKET_CACHE_DIR", dir.path().join("cache"))
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pocket serve");
    let stderr = BufReader::new(server.stderr.take().expect("stderr"));
    let mut lines = stderr.lines();
    let base = loop {
        let line = lines.next().expect("pocket serve exited").expect("stderr");
        if let Some(address) = line.strip_prefix("pocket serve: listening on ") {
            break address.to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let per_level = count("POCKET_LOAD_RUNS", 5_000);
    println!("pocket serve: 5-node workflow (transform, Lua slugify, WASM echo-json, transform, echo), SQLite history");
    println!(
        "{:>11}  {:>8}  {:>10}  {:>10}  {:>10}",
        "concurrency", "runs", "runs/s", "p50", "p99"
    );
    runtime.block_on(load(&base, 1, 200)); // warm-up: plugin instances, module cache
    for concurrency in [1, 16, 64] {
        let runs = if concurrency == 1 { per_level / 5 } else { per_level };
        let report = runtime.block_on(load(&base, concurrency, runs));
        println!(
            "{concurrency:>11}  {runs:>8}  {:>10.0}  {:>10}  {:>10}",
            report.per_second,
            format!("{:.2?}", report.p50),
            format!("{:.2?}", report.p99)
        );
    }
    let soak = count("POCKET_LOAD_SOAK", 100_000);
    let before = rss_kib(server.id());
    let report = runtime.block_on(load(&base, 64, soak));
    let after = rss_kib(server.id());
    println!(
        "after {soak} more runs at concurrency 64 ({:.0} runs/s): server RSS {:.1} MiB (was {:.1} MiB before them)",
        report.per_second,
        after as f64 / 1024.0,
        before as f64 / 1024.0
    );
    let _ = server.kill();
    let _ = server.wait();
}

struct Report {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// `runs` runs, `concurrency` at a time; every one must succeed.
async fn load(base: &str, concurrency: usize, runs: usize) -> Report {
    let client = reqwest::Client::new();
    let url = format!("{base}/v1/runs?wait=true");
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, url, next) = (client.clone(), url.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < runs {
                let body = r#"{"workflow":"load","input":{"title":"Hello Load Test","n":7}}"#;
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("the server answers");
                let status = response.status();
                let text = response.text().await.expect("an answer");
                assert!(status == 200 && text.contains("\"succeeded\""), "{status}: {text}");
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::with_capacity(runs);
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[quantile_index(latencies.len(), q)];
    Report {
        per_second: runs as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

/// The resident memory of process `pid`, in KiB.
/// The index of quantile `q` (0 to 1) among `len` sorted samples.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "q is in 0..=1, so the product is in 0..=len"
)]
fn quantile_index(len: usize, q: f64) -> usize {
    ((len as f64 * q) as usize).min(len - 1)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
