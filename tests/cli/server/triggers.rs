//! Webhook and cron triggers declared in workflow files.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{Site, call};

const ORDERS: &str = "name: orders\nstart: a\ntriggers:\n  - webhook: {path: /hooks/orders}\n  - webhook: {path: /hooks/orders/put, method: put}\nnodes:\n  - {name: a, type: transform, config: {got: \"{{.id}}\"}}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_runs_its_workflow_with_the_body_as_input() {
    let site = Site::new("");
    std::fs::write(site.path().join("flows/orders.yaml"), ORDERS).unwrap();
    let copy = ORDERS.replace("name: orders", "name: copycat");
    std::fs::write(site.path().join("flows/zz-copycat.yaml"), copy).unwrap();
    let server = site.start();

    let ran = call(
        "POST",
        &server.url("/hooks/orders?wait=true"),
        None,
        Some(json!({"id": "o-7"})),
    )
    .await;
    assert_eq!(ran.status, 200, "{}", ran.json);
    assert_eq!(ran.json["workflow"], "orders");
    assert_eq!(ran.json["input"], json!({"id": "o-7"}));
    assert_eq!(ran.json["output"], json!({"got": "o-7"}));
    let put = call(
        "PUT",
        &server.url("/hooks/orders/put?wait=true"),
        None,
        Some(json!({"id": 1})),
    )
    .await;
    assert_eq!(put.json["status"], "succeeded", "{}", put.json);

    let client = reqwest::Client::new();
    let text = client
        .post(server.url("/hooks/orders?wait=true"))
        .body("plain words")
        .send()
        .await
        .unwrap();
    let text: serde_json::Value = serde_json::from_str(&text.text().await.unwrap()).unwrap();
    assert_eq!(text["input"], "plain words", "a body that is not JSON arrives as text");

    let wrong_method = call("GET", &server.url("/hooks/orders"), None, None).await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.headers["allow"], "POST");
    assert_eq!(
        call("POST", &server.url("/hooks/nothing"), None, None).await.status,
        404
    );

    let listed = call("GET", &server.url("/v1/workflows"), None, None).await.json;
    let failed = listed["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{listed}");
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("already used by workflow `orders`"),
        "{listed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_schedule_starts_runs_at_its_times() {
    let site = Site::new("");
    let ticking = "name: ticking\nstart: a\ntriggers:\n  - cron: \"* * * * * *\"\nnodes:\n  - {name: a, type: transform, config: {at: \"{{.scheduled_at}}\"}}\n";
    std::fs::write(site.path().join("flows/ticking.yaml"), ticking).unwrap();
    let server = site.start();
    let started = Instant::now();
    let runs = loop {
        let listed = call(
            "GET",
            &server.url("/v1/runs?workflow=ticking&status=succeeded"),
            None,
            None,
        )
        .await
        .json;
        let runs = listed["runs"].as_array().unwrap().clone();
        if runs.len() >= 2 {
            break runs;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the schedule never fired twice: {listed}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut times = Vec::new();
    for summary in &runs[..2] {
        let run = call(
            "GET",
            &server.url(&format!("/v1/runs/{}", summary["id"].as_str().unwrap())),
            None,
            None,
        )
        .await
        .json;
        assert_eq!(run["input"]["trigger"], "cron", "{run}");
        assert_eq!(run["input"]["schedule"], "* * * * * *");
        assert!(
            run["idempotency_key"].as_str().unwrap().starts_with("cron:ticking:"),
            "{run}"
        );
        times.push(run["input"]["scheduled_at"].as_i64().unwrap());
    }
    assert_ne!(times[0], times[1], "each time fires once");
}
