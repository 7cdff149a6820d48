//! Runs spread over workers give what a single process gives.

use super::{Nats, Process, executions, said};

/// Six 300 ms branches between a fan-out and a fan-in.
pub const FAN: &str = "name: fan
start: split
nodes:
  - { name: split, type: router }
  - { name: a, type: delay, config: { duration: 300ms } }
  - { name: b, type: delay, config: { duration: 300ms } }
  - { name: c, type: delay, config: { duration: 300ms } }
  - { name: d, type: delay, config: { duration: 300ms } }
  - { name: e, type: delay, config: { duration: 300ms } }
  - { name: f, type: delay, config: { duration: 300ms } }
  - { name: join, type: transform, config: { jq: '[keys[], (.a.n + .f.n)]' } }
connections:
  - { from: split, to: a }
  - { from: split, to: b }
  - { from: split, to: c }
  - { from: split, to: d }
  - { from: split, to: e }
  - { from: split, to: f }
  - { from: a, to: join }
  - { from: b, to: join }
  - { from: c, to: join }
  - { from: d, to: join }
  - { from: e, to: join }
  - { from: f, to: join }
";

#[test]
fn the_showcase_over_three_workers_gives_the_single_process_output() {
    super::super::example_plugins();
    let root = super::super::root();
    let (showcase, article) = ("examples/workflows/showcase.yaml", "@examples/inputs/article.json");
    let alone = super::super::run_json(showcase, &["--input", article]);
    let nats = Nats::start();
    let workers: Vec<Process> = (0..3).map(|_| Process::worker(&root, &nats.url, &[])).collect();
    let mut run = Process::run(&root, showcase, article, &nats.url, &[]);
    assert_eq!(run.output(), alone);
    let logs: Vec<String> = workers.iter().map(Process::log).collect();
    for node in [
        "tidy", "slug", "split", "stats", "headline", "exclaim", "digest", "size", "teaser",
    ] {
        assert_eq!(executions(&logs, node), 1, "{node}:\n{}", logs.join("\n"));
    }
}

#[test]
fn a_fan_out_spreads_over_the_workers_and_joins_once() {
    let site = super::site("");
    std::fs::write(site.path().join("fan.yaml"), FAN).unwrap();
    let nats = Nats::start();
    // Two executions at a time each: six branches need all three workers.
    let workers: Vec<Process> = (0..3)
        .map(|_| Process::worker(site.path(), &nats.url, &["--kinds", "builtin", "--max-in-flight", "2"]))
        .collect();
    let mut run = Process::run(site.path(), "fan.yaml", r#"{"n": 21}"#, &nats.url, &[]);
    let output = run.output();
    assert_eq!(output, serde_json::json!(["a", "b", "c", "d", "e", "f", 42]));
    let logs: Vec<String> = workers.iter().map(Process::log).collect();
    for node in ["split", "a", "b", "c", "d", "e", "f", "join"] {
        assert_eq!(executions(&logs, node), 1, "{node}:\n{}", logs.join("\n"));
    }
    for (i, log) in logs.iter().enumerate() {
        let branches = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .filter(|n| said(std::slice::from_ref(log), "executed", n) > 0)
            .count();
        assert!(branches >= 1, "worker {i} ran no branch:\n{log}");
    }
}

#[test]
fn large_values_travel_through_the_object_store() {
    let site = super::site("");
    std::fs::write(
        site.path().join("big.yaml"),
        "name: big\nstart: grow\nnodes:\n  - { name: grow, type: transform, config: { jq: '{text: (.text + .text + .text + .text)}' } }\n  - { name: size, type: transform, config: { jq: '.text | length' } }\nconnections:\n  - { from: grow, to: size }\n",
    )
    .unwrap();
    let input = serde_json::json!({ "text": "x".repeat(300 * 1024) }).to_string();
    std::fs::write(site.path().join("input.json"), input).unwrap();
    let nats = Nats::start();
    let _worker = Process::worker(site.path(), &nats.url, &[]);
    let mut run = Process::run(site.path(), "big.yaml", "@input.json", &nats.url, &[]);
    assert_eq!(run.output(), serde_json::json!(4 * 300 * 1024));
}
