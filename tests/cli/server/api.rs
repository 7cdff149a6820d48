//! The API's round trips.

use serde_json::json;

use super::{Site, call, finished};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_round_trips_through_the_api_and_is_listed_and_counted() {
    let site = Site::new("");
    let server = site.start();
    let created = call(
        "POST",
        &server.url("/v1/runs?wait=true"),
        None,
        Some(json!({"workflow": "hello", "input": {"who": "pat"}})),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let run = created.json;
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["output"], json!({"greeting": "hello pat"}));
    assert_eq!(run["timeline"][0]["node"], "greet");
    assert_eq!(run["timeline"][0]["plugin"], "builtin");
    let id = run["id"].as_str().unwrap();
    let fetched = call("GET", &server.url(&format!("/v1/runs/{id}")), None, None).await;
    assert_eq!(fetched.json, run);

    // Without waiting: accepted, then finished.
    let accepted = call(
        "POST",
        &server.url("/v1/runs"),
        None,
        Some(json!({"workflow": "hello", "input": {"who": "sam"}})),
    )
    .await;
    assert_eq!(accepted.status, 202, "{}", accepted.json);
    let second = accepted.json["id"].as_str().unwrap().to_string();
    assert_eq!(
        accepted.headers["location"].to_str().unwrap(),
        format!("/v1/runs/{second}")
    );
    assert_eq!(finished(&server, &second).await["output"]["greeting"], "hello sam");

    let listed = call(
        "GET",
        &server.url("/v1/runs?workflow=hello&status=succeeded"),
        None,
        None,
    )
    .await;
    let ids: Vec<&str> = listed.json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![second.as_str(), id], "newest first");
    let page = call("GET", &server.url("/v1/runs?limit=1"), None, None).await.json;
    assert_eq!(page["runs"].as_array().unwrap().len(), 1);
    let next = page["next"].as_str().unwrap();
    let rest = call(
        "GET",
        &server.url(&format!("/v1/runs?limit=1&before={next}")),
        None,
        None,
    )
    .await;
    assert_eq!(rest.json["runs"][0]["id"], id);

    let metrics = super::metrics(&server).await;
    assert!(
        metrics.contains(r#"pocket_runs_total{workflow="hello",status="succeeded"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics
            .contains(r#"pocket_node_executions_total{plugin="builtin",node_type="builtin/transform",outcome="ok"} 2"#)
    );
    for (path, expected) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let body = reqwest::get(server.url(path)).await.unwrap().text().await.unwrap();
        assert_eq!(body.trim(), expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_type_is_counted_and_shown_by_its_full_name_however_it_is_written() {
    let site = Site::new("");
    let full = super::HELLO
        .replace("name: hello", "name: full")
        .replace("type: transform", "type: builtin/transform");
    std::fs::write(site.path().join("flows/full.yaml"), full).unwrap();
    let server = site.start();
    for workflow in ["hello", "full"] {
        let run = call(
            "POST",
            &server.url("/v1/runs?wait=true"),
            None,
            Some(json!({"workflow": workflow, "input": {"who": "x"}})),
        )
        .await
        .json;
        assert_eq!(run["timeline"][0]["type"], "builtin/transform", "{run}");
        assert_eq!(run["timeline"][0]["plugin"], "builtin", "{run}");
    }
    let metrics = super::metrics(&server).await;
    assert!(
        metrics
            .contains(r#"pocket_node_executions_total{plugin="builtin",node_type="builtin/transform",outcome="ok"} 2"#),
        "one series for both spellings:\n{metrics}"
    );
    assert!(!metrics.contains(r#"node_type="transform""#), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflows_plugins_and_node_types_are_listed() {
    let site = Site::new("");
    std::fs::write(
        site.path().join("flows/broken.yaml"),
        "name: broken\nstart: nowhere\nnodes: []\n",
    )
    .unwrap();
    let server = site.start();
    let workflows = call("GET", &server.url("/v1/workflows"), None, None).await.json;
    let names: Vec<&str> = workflows["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["hello", "slow"]);
    let failed = &workflows["failed"][0];
    assert!(failed["file"].as_str().unwrap().ends_with("broken.yaml"), "{workflows}");
    assert!(failed["error"].as_str().unwrap().contains("nowhere"), "{workflows}");
    let hello = call("GET", &server.url("/v1/workflows/hello"), None, None).await.json;
    assert!(hello["mermaid"].as_str().unwrap().starts_with("flowchart"), "{hello}");
    assert!(hello["source"].as_str().unwrap().contains("greeting"));
    assert_eq!(
        call("GET", &server.url("/v1/workflows/nope"), None, None).await.status,
        404
    );
    let plugins = call("GET", &server.url("/v1/plugins"), None, None).await.json;
    assert!(
        plugins["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "builtin")
    );
    let nodes = call("GET", &server.url("/v1/nodes"), None, None).await.json;
    assert!(nodes["nodes"].as_array().unwrap().iter().any(|n| n["type"] == "delay"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_workflows_run_and_bad_requests_get_clear_errors() {
    let site = Site::new("max_body = \"4KiB\"\n");
    let server = site.start();
    let inline = "name: adhoc\nstart: a\nnodes:\n  - {name: a, type: transform, config: {n: \"{{.n}}\"}}\n";
    let ran = call(
        "POST",
        &server.url("/v1/runs?wait=true"),
        None,
        Some(json!({"definition": inline, "input": {"n": 7}})),
    )
    .await;
    assert_eq!(ran.status, 200, "{}", ran.json);
    assert_eq!(ran.json["workflow"], "adhoc");
    assert_eq!(ran.json["output"], json!({"n": 7}));

    let cases = [
        (
            json!({"definition": "name: x\nstart: a\nnodes:\n  - {name: a, type: no-such-type}\n"}),
            400,
            "no-such-type",
        ),
        (json!({"workflow": "missing"}), 404, "workflow `missing` not found"),
        (
            json!({"workflow": "hello", "definition": inline}),
            400,
            "either `workflow`",
        ),
        (
            json!({"workflow": "hello", "surprise": 1}),
            400,
            "unknown field `surprise`",
        ),
    ];
    for (body, status, message) in cases {
        let answer = call("POST", &server.url("/v1/runs"), None, Some(body.clone())).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.json);
        assert!(
            answer.json["error"].as_str().unwrap().contains(message),
            "{body}: {}",
            answer.json
        );
    }
    let client = reqwest::Client::new();
    let not_json = client.post(server.url("/v1/runs")).body("{").send().await.unwrap();
    assert_eq!(not_json.status(), 400);
    let huge = json!({"workflow": "hello", "input": {"pad": "x".repeat(10_000)}});
    let too_big = call("POST", &server.url("/v1/runs"), None, Some(huge)).await;
    assert_eq!(too_big.status, 413, "{}", too_big.json);
    let deep = format!(
        "{{\"workflow\":\"hello\",\"input\":{}{}}}",
        "[".repeat(1000),
        "]".repeat(1000)
    );
    let refused = call(
        "POST",
        &server.url("/v1/runs"),
        None,
        Some(serde_json::from_str::<serde_json::Value>("null").unwrap()),
    )
    .await;
    assert_eq!(refused.status, 400, "null is not a request");
    let deep = client.post(server.url("/v1/runs")).body(deep).send().await.unwrap();
    assert_eq!(
        deep.status(),
        400,
        "input nested 1000 deep is refused, not followed down the stack"
    );
    assert_eq!(call("GET", &server.url("/v1/runs/nope"), None, None).await.status, 404);
    assert_eq!(
        call("GET", &server.url("/v1/runs?status=done"), None, None)
            .await
            .status,
        400
    );
    assert_eq!(call("GET", &server.url("/v1/nowhere"), None, None).await.status, 404);
    // The server is still serving.
    let again = call(
        "POST",
        &server.url("/v1/runs?wait=true"),
        None,
        Some(json!({"workflow": "hello"})),
    )
    .await;
    assert_eq!(again.json["status"], "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_returns_the_first_run_instead_of_starting_another() {
    let site = Site::new("");
    let server = site.start();
    let body = json!({"workflow": "hello", "input": {"who": "kim"}, "idempotency_key": "order-17"});
    let first = call("POST", &server.url("/v1/runs?wait=true"), None, Some(body.clone())).await;
    let again = call("POST", &server.url("/v1/runs"), None, Some(body)).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json["id"], first.json["id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let client = reqwest::Client::new();
    let by_header = client
        .post(server.url("/v1/runs"))
        .header("idempotency-key", "order-17")
        .body(json!({"workflow": "hello"}).to_string())
        .send()
        .await
        .unwrap();
    let by_header: serde_json::Value = serde_json::from_str(&by_header.text().await.unwrap()).unwrap();
    assert_eq!(by_header["id"], first.json["id"]);
    let runs = call("GET", &server.url("/v1/runs"), None, None).await.json;
    assert_eq!(
        runs["runs"].as_array().unwrap().len(),
        1,
        "one run, however often it was sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_run_shows_its_progress_and_can_be_cancelled() {
    let site = Site::new("");
    let server = site.start();
    let two_steps = "name: two\nstart: a\nnodes:\n  - {name: a, type: transform, config: {x: 1}}\n  - {name: b, type: delay, config: {duration: 30s}}\nconnections:\n  - {from: a, to: b}\n";
    let started = call(
        "POST",
        &server.url("/v1/runs"),
        None,
        Some(json!({"definition": two_steps})),
    )
    .await;
    let id = started.json["id"].as_str().unwrap().to_string();
    let url = server.url(&format!("/v1/runs/{id}"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let run = call("GET", &url, None, None).await.json;
        if run["status"] == "running" && run["timeline"].as_array().is_some_and(|t| t.len() == 1) {
            assert_eq!(
                run["timeline"][0]["node"], "a",
                "the finished node shows while the run goes on"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never saw it running: {run}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let cancel = call("POST", &server.url(&format!("/v1/runs/{id}/cancel")), None, None).await;
    assert_eq!(cancel.status, 202, "{}", cancel.json);
    let run = finished(&server, &id).await;
    assert_eq!(run["status"], "cancelled");
    let again = call("POST", &server.url(&format!("/v1/runs/{id}/cancel")), None, None).await;
    assert_eq!(again.status, 409);
    assert!(
        again.json["error"].as_str().unwrap().contains("cancelled"),
        "{}",
        again.json
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_body_query_or_path_gets_the_json_error_form_naming_the_cause() {
    let site = Site::new("max_body = \"4KiB\"\n");
    let server = site.start();
    let cases = [
        ("GET", "/v1/runs?limit=many", None, 400, "invalid query string: limit: "),
        (
            "POST",
            "/v1/runs?wait=maybe",
            Some(json!({"workflow": "hello"})),
            400,
            "invalid query string: wait: ",
        ),
        (
            "POST",
            "/v1/runs",
            Some(json!({"workflow": 5})),
            400,
            "invalid request body: workflow: invalid type: integer `5`",
        ),
        (
            "POST",
            "/v1/plugins/load",
            Some(json!({"path": ["a"]})),
            400,
            "invalid request body: path: invalid type: sequence",
        ),
        (
            "POST",
            "/v1/runs",
            Some(json!({"workflow": "hello", "input": {"pad": "x".repeat(10_000)}})),
            413,
            "length limit exceeded",
        ),
    ];
    for (method, path, body, status, message) in cases {
        let answer = call(method, &server.url(path), None, body).await;
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.json);
        let error = answer.json["error"].as_str();
        assert!(
            error.is_some_and(|e| e.contains(message)),
            "{method} {path}: `{message}` in {}",
            answer.json
        );
    }
    let client = reqwest::Client::new();
    let cut = client
        .post(server.url("/v1/runs"))
        .body("{\"workflow\": \"hello\", \"input\": [1,")
        .send()
        .await
        .unwrap();
    assert_eq!(cut.status(), 400);
    let cut: serde_json::Value = serde_json::from_str(&cut.text().await.unwrap()).unwrap();
    assert!(cut["error"].as_str().unwrap().contains("line 1 column"), "{cut}");
    // The server is still serving.
    let again = call(
        "POST",
        &server.url("/v1/runs?wait=true"),
        None,
        Some(json!({"workflow": "hello"})),
    )
    .await;
    assert_eq!(again.json["status"], "succeeded");
}
