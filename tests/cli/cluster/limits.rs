//! Backpressure: a worker holds no more executions than it may, and a
//! scheduler starts no run while the work queue is over its depth.

use std::time::{Duration, Instant};

use super::{Nats, Process};

#[test]
fn a_worker_runs_no_more_executions_at_once_than_its_max_in_flight() {
    let site = super::site("");
    std::fs::write(site.path().join("fan.yaml"), super::runs::FAN).unwrap();
    let nats = Nats::start();
    let worker = Process::worker(site.path(), &nats.url, &["--kinds", "builtin", "--max-in-flight", "2"]);
    let mut run = Process::run(site.path(), "fan.yaml", r#"{"n": 1}"#, &nats.url, &[]);
    run.output();
    // The log is in order: count executions begun and not yet ended.
    let (mut now, mut most) = (0i32, 0i32);
    for line in worker.log().lines() {
        if line.contains(" started ") {
            now += 1;
        } else if line.contains(" executed ") {
            now -= 1;
        }
        most = most.max(now);
    }
    assert_eq!(most, 2, "{}", worker.log());
}

#[test]
fn a_scheduler_starts_no_run_while_the_work_queue_is_over_its_depth() {
    let site = super::site("");
    std::fs::write(site.path().join("slow.yaml"), super::failures::SLOW).unwrap();
    let nats = Nats::start();
    let run = |depth| {
        Process::run(
            site.path(),
            "slow.yaml",
            r#"{"n": 1}"#,
            &nats.url,
            &["--max-queue-depth", depth],
        )
    };
    // No worker yet: the first run's first attempt stays queued.
    let mut first = run("10");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let depth = || {
        runtime.block_on(async {
            let js = async_nats::jetstream::new(async_nats::connect(&nats.url).await.unwrap());
            match js.get_stream("POCKET_JOBS").await {
                Ok(mut stream) => stream.info().await.map_or(0, |info| info.state.messages),
                Err(_) => 0,
            }
        })
    };
    let started = Instant::now();
    while depth() < 1 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first run queued nothing:\n{}",
            first.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut second = run("0");
    second.wait_for(|log| log.contains("the work queue is full"), "the second run to wait");
    assert!(second.is_running(), "{}", second.log());
    assert_eq!(depth(), 1, "the second run queued nothing");
    // A worker drains the queue: both runs finish.
    let _worker = Process::worker(site.path(), &nats.url, &[]);
    assert_eq!(first.output(), serde_json::json!(4));
    assert_eq!(second.output(), serde_json::json!(4));
}
