//! Nothing is lost when a worker or the scheduler dies mid-run.

use std::time::Duration;

use super::{Nats, Process, executions, said};

/// A quick node, a 3 s node, a quick node.
pub const SLOW: &str = "name: slow
start: first
nodes:
  - { name: first, type: transform, config: { jq: '{n: (.n + 1)}' } }
  - { name: wait, type: delay, config: { duration: 3s } }
  - { name: last, type: transform, config: { jq: '.n * 2' } }
connections:
  - { from: first, to: wait }
  - { from: wait, to: last }
";

#[test]
fn a_worker_killed_mid_node_has_its_node_finished_by_another() {
    let site = super::site("");
    std::fs::write(site.path().join("slow.yaml"), SLOW).unwrap();
    let nats = Nats::start();
    let mut workers = [
        Process::worker(site.path(), &nats.url, &[]),
        Process::worker(site.path(), &nats.url, &[]),
    ];
    let mut run = Process::run(site.path(), "slow.yaml", r#"{"n": 1}"#, &nats.url, &[]);
    let started = std::time::Instant::now();
    let victim = loop {
        if let Some(i) = workers.iter().position(|w| said(&[w.log()], "started", "wait") > 0) {
            break i;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no worker took `wait`");
        std::thread::sleep(Duration::from_millis(20));
    };
    workers[victim].kill_9();
    assert_eq!(run.output(), serde_json::json!(4));
    let logs: Vec<String> = workers.iter().map(Process::log).collect();
    assert_eq!(
        said(&logs, "started", "wait"),
        2,
        "redelivered once:\n{}",
        logs.join("\n")
    );
    for node in ["first", "wait", "last"] {
        assert_eq!(executions(&logs, node), 1, "{node}:\n{}", logs.join("\n"));
    }
    assert_eq!(said(&[logs[victim].clone()], "executed", "wait"), 0);
}

#[test]
fn a_restarted_scheduler_resumes_its_run_without_running_nodes_again() {
    let site = super::site("");
    std::fs::write(site.path().join("slow.yaml"), SLOW).unwrap();
    let nats = Nats::start();
    let worker = Process::worker(site.path(), &nats.url, &[]);
    let run = || {
        Process::run(
            site.path(),
            "slow.yaml",
            r#"{"n": 1}"#,
            &nats.url,
            &["--run-id", "resumed-1"],
        )
    };
    let mut first = run();
    worker.wait_for(|log| said(&[log.to_string()], "started", "wait") > 0, "`wait` to start");
    first.kill_9();
    // The worker finishes the node and stores its result with nobody waiting.
    worker.wait_for(
        |log| said(&[log.to_string()], "executed", "wait") > 0,
        "`wait` to finish",
    );
    let mut second = run();
    assert_eq!(second.output(), serde_json::json!(4));
    let logs = [worker.log()];
    for node in ["first", "wait", "last"] {
        assert_eq!(said(&logs, "started", node), 1, "{node} ran once:\n{}", logs[0]);
    }
}

#[test]
fn an_attempt_every_worker_dies_on_fails_its_run_instead_of_hanging() {
    let site = super::site("");
    std::fs::write(site.path().join("slow.yaml"), SLOW).unwrap();
    let nats = Nats::start();
    let mut workers: Vec<Process> = (0..3)
        .map(|_| Process::worker(site.path(), &nats.url, &["--max-deliver", "2"]))
        .collect();
    let mut run = Process::run(site.path(), "slow.yaml", r#"{"n": 1}"#, &nats.url, &[]);
    // Each worker that takes `wait` is killed in the middle of it.
    let started = std::time::Instant::now();
    let mut killed = Vec::new();
    while killed.len() < 2 {
        for (i, worker) in workers.iter_mut().enumerate() {
            if !killed.contains(&i) && said(&[worker.log()], "started", "wait") > 0 {
                worker.kill_9();
                killed.push(i);
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "`wait` was not delivered twice"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, out) = run.finish();
    assert_ne!(code, 0, "{out}");
    assert!(run.log().contains("no worker finished it"), "{}", run.log());
    let survivor = (0..3).find(|i| !killed.contains(i)).unwrap();
    assert_eq!(
        said(&[workers[survivor].log()], "started", "wait"),
        0,
        "delivered at most twice"
    );
    // The survivor still works.
    let mut again = Process::run(site.path(), "slow.yaml", r#"{"n": 1}"#, &nats.url, &[]);
    assert_eq!(again.output(), serde_json::json!(4));
}
