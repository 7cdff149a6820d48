//! When the run history fails to write, no run is reported as what the
//! history does not hold, and no run that started is run again. The
//! failures are real SQLite errors from the server's own database file: a
//! trigger that aborts the writes of one kind, as a full disk would.

use std::path::Path;

use serde_json::json;

use super::{Site, call, finished, metrics};

/// Makes every write to the history that `event` (`BEFORE ... ON runs
/// [WHEN ...]`) names fail, until `heal`.
fn break_writes(site: &Site, name: &str, event: &str) {
    let sql = format!("CREATE TRIGGER {name} {event} BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;");
    database(site.path()).execute_batch(&sql).unwrap();
}

fn heal(site: &Site, name: &str) {
    database(site.path())
        .execute_batch(&format!("DROP TRIGGER {name};"))
        .unwrap();
}

fn database(site: &Path) -> rusqlite::Connection {
    let connection = rusqlite::Connection::open(site.join("pocket-history.db")).unwrap();
    connection.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    connection
}

async fn run_and_wait(server: &super::Server) -> super::Answer {
    call(
        "POST",
        &server.url("/v1/runs?wait=true"),
        None,
        Some(json!({"workflow": "hello", "input": {"who": "disk"}})),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_end_cannot_be_recorded_is_not_reported_done_nor_run_again() {
    let site = Site::new("");
    let server = site.start();
    break_writes(
        &site,
        "full",
        "BEFORE UPDATE OF status ON runs WHEN NEW.status IN ('succeeded', 'failed', 'cancelled')",
    );
    let answer = run_and_wait(&server).await;
    assert_eq!(answer.status, 500, "not answered as done: {}", answer.json);
    let error = answer.json["error"].as_str().unwrap();
    assert!(
        error.contains("ended (succeeded) but the run history could not record it")
            && error.contains("disk is full")
            && error.contains("still shows it running"),
        "{error}"
    );
    let id = error.split_whitespace().nth(1).unwrap().to_string();
    let shown = call("GET", &server.url(&format!("/v1/runs/{id}")), None, None).await;
    assert_eq!(
        shown.json["status"], "running",
        "as the history holds it: {}",
        shown.json
    );
    // The server goes on serving what it can record.
    assert_eq!(call("GET", &server.url("/v1/runs"), None, None).await.status, 200);
    server.kill_9();

    heal(&site, "full");
    let restarted = site.start();
    let after = finished(&restarted, &id).await;
    assert_eq!(
        after["status"], "failed",
        "it had started, so it is not run again: {after}"
    );
    assert!(after["error"].as_str().unwrap().contains("not run again"), "{after}");
    assert!(
        !metrics(&restarted).await.contains("node_type=\"transform\""),
        "no node of it executed again"
    );
    let again = run_and_wait(&restarted).await;
    assert_eq!(again.json["status"], "succeeded", "{}", again.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_start_cannot_be_recorded_never_executes_until_it_can() {
    let site = Site::new("");
    let server = site.start();
    break_writes(&site, "full", "BEFORE INSERT ON runs");
    let refused = run_and_wait(&server).await;
    assert_eq!(refused.status, 503, "nothing recorded, nothing runs: {}", refused.json);
    assert!(refused.headers.contains_key("retry-after"));
    assert!(
        refused.json["error"].as_str().unwrap().contains("not accepted"),
        "{}",
        refused.json
    );
    heal(&site, "full");

    break_writes(&site, "full", "BEFORE UPDATE ON runs");
    let answer = run_and_wait(&server).await;
    assert_eq!(answer.status, 500, "{}", answer.json);
    let error = answer.json["error"].as_str().unwrap();
    assert!(
        error.contains("did not start") && error.contains("still shows it queued"),
        "{error}"
    );
    let id = error.split_whitespace().nth(1).unwrap().to_string();
    let shown = call("GET", &server.url(&format!("/v1/runs/{id}")), None, None).await;
    assert_eq!(shown.json["status"], "queued", "{}", shown.json);
    assert!(
        !metrics(&server).await.contains("node_type=\"transform\""),
        "no node executed"
    );
    server.kill_9();

    heal(&site, "full");
    let restarted = site.start();
    let after = finished(&restarted, &id).await;
    assert_eq!(after["status"], "succeeded", "it never ran, so it runs now: {after}");
    assert_eq!(after["output"]["greeting"], "hello disk");
    assert_eq!(after["timeline"].as_array().unwrap().len(), 1, "once: {after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_the_history_records_only_as_a_failure_is_answered_as_one() {
    let site = Site::new("");
    let server = site.start();
    break_writes(
        &site,
        "full",
        "BEFORE UPDATE OF status ON runs WHEN NEW.status = 'running'",
    );
    let answer = run_and_wait(&server).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["status"], "failed");
    assert!(
        answer.json["error"]
            .as_str()
            .unwrap()
            .contains("not started: the run history could not record its start"),
        "{}",
        answer.json
    );
    let id = answer.json["id"].as_str().unwrap();
    let shown = call("GET", &server.url(&format!("/v1/runs/{id}")), None, None).await;
    assert_eq!(shown.json["status"], "failed", "the same as stored: {}", shown.json);
    assert!(!metrics(&server).await.contains("node_type=\"transform\""));
}
