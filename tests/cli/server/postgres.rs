//! The server with its history in PostgreSQL (a server of the test's own).

use serde_json::json;

use super::{Site, call, finished, running, start_run};

use pocket_test_support::postgres_server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_are_kept_in_postgres_across_a_kill_9() {
    let database = tokio::task::spawn_blocking(|| {
        let server = postgres_server::Server::start();
        let url = server.database("served");
        (server, url)
    })
    .await
    .unwrap();
    let (_postgres, url) = database;
    let site = Site::new(&format!("max_concurrent_runs = 1\nhistory = \"{url}\"\n"));
    let server = site.start();
    let done = call(
        "POST",
        &server.url("/v1/runs?wait=true"),
        None,
        Some(json!({"workflow": "hello", "input": {"who": "pg"}})),
    )
    .await;
    assert_eq!(done.json["output"]["greeting"], "hello pg", "{}", done.json);
    let mut queued = Vec::new();
    for _ in 0..2 {
        queued.push(start_run(&server, "slow").await);
    }
    running(&server, &queued[0]).await;
    server.kill_9();
    assert!(
        !site.path().join("pocket-history.db").exists(),
        "nothing was written to SQLite"
    );

    let restarted = site.start();
    assert_eq!(finished(&restarted, &queued[0]).await["status"], "failed");
    assert_eq!(finished(&restarted, &queued[1]).await["status"], "succeeded");
    let kept = call(
        "GET",
        &restarted.url(&format!("/v1/runs/{}", done.json["id"].as_str().unwrap())),
        None,
        None,
    )
    .await;
    assert_eq!(kept.json["output"]["greeting"], "hello pg");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_serves_again_once_postgres_restarts() {
    let (mut postgres, url) = tokio::task::spawn_blocking(|| {
        let server = postgres_server::Server::start();
        let url = server.database("restarted");
        (server, url)
    })
    .await
    .unwrap();
    let site = Site::new(&format!("history = \"{url}\"\n"));
    let server = site.start();
    let url = server.url("/v1/runs?wait=true");
    let run = || {
        call(
            "POST",
            &url,
            None,
            Some(json!({"workflow": "hello", "input": {"who": "pg"}})),
        )
    };
    let before = run().await;
    assert_eq!(before.json["status"], "succeeded", "{}", before.json);
    let postgres = tokio::task::spawn_blocking(move || {
        postgres.restart();
        postgres
    })
    .await
    .unwrap();
    // Without restarting `pocket serve`: every request works again.
    let after = run().await;
    assert_eq!(after.status, 200, "{}", after.json);
    assert_eq!(after.json["output"]["greeting"], "hello pg");
    let id = before.json["id"].as_str().unwrap();
    let kept = call("GET", &server.url(&format!("/v1/runs/{id}")), None, None).await;
    assert_eq!(kept.json["status"], "succeeded", "{}", kept.json);
    drop(postgres);
}
