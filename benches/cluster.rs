//! Scale-out on NATS JetStream: node executions per second for a 1,000-node
//! fan-out of small WASM nodes (json-tools' `echo-json`) with 1, 2 and 4
//! `pocket worker` processes, and the latency one hop through the cluster
//! adds to a node compared with running it in-process.
//!
//! Run with `cargo bench --bench cluster` (unset RUST_BACKTRACE; needs
//! `nats-server`: scripts/test.sh installs it into target/tools). The
//! bench is the scheduler (the runner with a `ClusterExecutor`, as `pocket
//! run --cluster` uses it); workers are the release `pocket` binary. On a
//! 2-core machine the scheduler, NATS and the workers share the cores.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pocket_cluster::{Cluster, ClusterExecutor, ClusterSettings};
use pocket_core::{Format, Graph, PluginLoader, PocketConfig, Registry, RunOptions, Value};
use pocket_test_support::nats_server::Nats;

const FAN: usize = 1_000;
const CHAIN: usize = 50;
const RUNS: usize = 5;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let built = Command::new("bash").arg(root.join("scripts/build-plugins.sh")).status();
    assert!(built.is_ok_and(|s| s.success()), "scripts/build-plugins.sh failed");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let wasm = root.join("examples/plugins/wasm");
    let toml = format!("[plugins]\ndirectories = [{:?}]\n", wasm.display().to_string());
    std::fs::write(dir.path().join("pocket.toml"), &toml).expect("written");
    let config = PocketConfig::parse(&toml, &dir.path().join("pocket.toml")).expect("pocket.toml");
    let registry = Registry::new();
    registry
        .register_built_in(Arc::new(pocket_nodes::BuiltinPlugin::new()))
        .expect("built-ins");
    let json_tools = pocket_wasm::WasmLoader::new()
        .load(&wasm.join("json-tools.wasm"), &config)
        .expect("json-tools loads");
    registry.register(json_tools).expect("registered");
    let fan = fan_out(FAN);
    let chain = pocket_core::testing::chain("json-tools/echo-json", CHAIN);
    let nats = Nats::start();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");

    let local = median(
        (0..RUNS)
            .map(|_| time(&runtime, &registry, &config, &chain, None))
            .collect(),
    );
    println!("one hop of a {CHAIN}-node chain of echo-json nodes (median of {RUNS} runs):");
    println!("  in-process                      {:>9.1} us", per(local, CHAIN));
    let cluster = runtime
        .block_on(Cluster::connect(&nats.url, ClusterSettings::default()))
        .expect("connected");
    let mut curve = Vec::new();
    for workers in [1, 2, 4] {
        let running: Vec<Worker> = (0..workers).map(|_| Worker::start(dir.path(), &nats.url)).collect();
        let on_cluster = Some(&cluster);
        // Warm-up: the workers build the graph once.
        time(&runtime, &registry, &config, &fan, on_cluster);
        let fanned = median(
            (0..RUNS)
                .map(|_| time(&runtime, &registry, &config, &fan, on_cluster))
                .collect(),
        );
        if workers == 1 {
            time(&runtime, &registry, &config, &chain, on_cluster);
            let hop = median(
                (0..RUNS)
                    .map(|_| time(&runtime, &registry, &config, &chain, on_cluster))
                    .collect(),
            );
            println!(
                "  through the cluster, 1 worker   {:>9.1} us  (+{:.1} us per hop)",
                per(hop, CHAIN),
                per(hop, CHAIN) - per(local, CHAIN)
            );
        }
        curve.push((workers, fanned));
        drop(running);
    }
    println!("a {FAN}-node fan-out of echo-json nodes (+ split and join), median of {RUNS} runs:");
    for (workers, took) in curve {
        println!(
            "  {workers} worker(s)  {:>8.1} ms  {:>8.0} node executions/s",
            took.as_secs_f64() * 1000.0,
            (FAN + 2) as f64 / took.as_secs_f64()
        );
    }
}

/// A router fanning out to `n` echo-json nodes, joined by a transform.
fn fan_out(n: usize) -> String {
    let mut yaml = String::from("name: fan\nstart: split\nnodes:\n  - { name: split, type: router }\n");
    for i in 0..n {
        yaml.push_str(&format!("  - {{ name: e{i}, type: json-tools/echo-json }}\n"));
    }
    yaml.push_str("  - { name: join, type: transform, config: { jq: 'length' } }\nconnections:\n");
    for i in 0..n {
        yaml.push_str(&format!(
            "  - {{ from: split, to: e{i} }}\n  - {{ from: e{i}, to: join }}\n"
        ));
    }
    yaml
}

/// One run of `yaml`, on `cluster` or in-process: how long it took.
fn time(
    runtime: &tokio::runtime::Runtime,
    registry: &Registry,
    config: &PocketConfig,
    yaml: &str,
    cluster: Option<&Arc<Cluster>>,
) -> Duration {
    let file = pocket_core::parse_str(yaml, Format::Yaml).expect("parses");
    let graph: Arc<Graph> = pocket_core::validate(&file, &registry.catalog(), config)
        .expect("valid")
        .graph;
    runtime.block_on(async {
        let executor = match cluster {
            Some(cluster) => {
                let catalog = registry.catalog();
                let record = cluster.record((yaml, Format::Yaml), &graph, &catalog).expect("record");
                let key = cluster.publish_workflow(&record, &catalog).await.expect("published");
                let run = uuid::Uuid::now_v7().to_string();
                let executor = ClusterExecutor::start(cluster.clone(), &run, &key, Arc::new(record))
                    .await
                    .expect("started");
                Some(executor as Arc<dyn pocket_core::NodeExecutor>)
            }
            None => None,
        };
        let started = Instant::now();
        let options = RunOptions {
            executor,
            ..RunOptions::default()
        };
        let input = Value::from_json(r#"{"text":"hello world","n":41}"#).expect("JSON");
        pocket_core::run(graph, input, options).await.expect("the run succeeds");
        started.elapsed()
    })
}

fn per(took: Duration, n: usize) -> f64 {
    took.as_secs_f64() * 1e6 / n as f64
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// A `pocket worker` process; killed when dropped.
struct Worker(Child);

impl Worker {
    fn start(dir: &Path, url: &str) -> Worker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pocket"))
            .current_dir(dir)
            .args(["worker", "--cluster", url])
            .env("POCKET_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pocket worker");
        let stderr = child.stderr.take().expect("piped");
        let (ready, is_ready) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("worker ready") {
                    let _ = ready.send(());
                }
            }
        });
        is_ready
            .recv_timeout(Duration::from_secs(60))
            .expect("the worker is ready");
        Worker(child)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
