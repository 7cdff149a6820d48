//! Restarts and shutdowns: no run is lost or run twice.

use std::time::Duration;

use super::{Site, call, finished, running, start_run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_kill_9_queued_runs_run_and_the_interrupted_one_is_failed_not_rerun() {
    let site = Site::new("max_concurrent_runs = 1\n");
    let server = site.start();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(start_run(&server, "slow").await);
    }
    // Wait until the first is running, then kill the server outright.
    running(&server, &ids[0]).await;
    server.kill_9();

    let restarted = site.start();
    let interrupted = finished(&restarted, &ids[0]).await;
    assert_eq!(interrupted["status"], "failed");
    assert!(
        interrupted["error"]
            .as_str()
            .unwrap()
            .contains("interrupted by a server restart"),
        "{interrupted}"
    );
    for id in &ids[1..] {
        let run = finished(&restarted, id).await;
        assert_eq!(run["status"], "succeeded", "a queued run runs after the restart: {run}");
        assert_eq!(run["timeline"].as_array().unwrap().len(), 1, "and runs once: {run}");
    }
    let listed = call("GET", &restarted.url("/v1/runs"), None, None).await.json;
    assert_eq!(
        listed["runs"].as_array().unwrap().len(),
        3,
        "no run lost or added: {listed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_running_run_finish_within_the_drain_timeout() {
    let site = Site::new("drain_timeout = \"20s\"\n");
    let server = site.start();
    let id = start_run(&server, "slow").await;
    running(&server, &id).await;
    let code = tokio::task::spawn_blocking(move || server.terminate(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(code, Some(0), "the server exits cleanly after draining");
    let restarted = site.start();
    let run = finished(&restarted, &id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_drain_timeout_a_run_is_stopped_and_recorded_as_such() {
    let site = Site::new("drain_timeout = \"100ms\"\n");
    let long = "name: long\nstart: a\nnodes:\n  - {name: a, type: delay, config: {duration: 60s}}\n";
    std::fs::write(site.path().join("flows/long.yaml"), long).unwrap();
    let server = site.start();
    let id = start_run(&server, "long").await;
    running(&server, &id).await;
    let code = tokio::task::spawn_blocking(move || server.terminate(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(code, Some(0));
    let restarted = site.start();
    let run = finished(&restarted, &id).await;
    assert_eq!(run["status"], "failed");
    assert!(run["error"].as_str().unwrap().contains("shut down"), "{run}");
}
