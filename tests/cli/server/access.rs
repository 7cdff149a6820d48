//! A token limited to some workflows sees only those and their runs, by
//! every way in: idempotency replays, page cursors, metrics, plugin
//! statistics, webhooks and admin routes.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::{Answer, Server, Site, call};

/// A workflow the limited tokens must never see, with a webhook.
const PAYROLL: &str = "name: payroll\nstart: pay\ntriggers:\n  - webhook: {path: /hooks/pay}\nnodes:\n  - {name: pay, type: transform, config: {paid: \"{{.salary}}\"}}\n";

/// pocket.toml tokens: `clerk` (run and read, `hel*` only), `ops` (admin,
/// `hel*` only) and `root` (admin, every workflow), and their secrets.
fn site() -> (Site, [&'static str; 3]) {
    let hash = |secret: &str| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(secret.as_bytes()))
    };
    let toml = format!(
        "[[server.tokens]]\nname = \"clerk\"\nsha256 = \"{}\"\nscopes = [\"run\", \"read\"]\nworkflows = [\"hel*\"]\n\n\
         [[server.tokens]]\nname = \"ops\"\nsha256 = \"{}\"\nscopes = [\"admin\"]\nworkflows = [\"hel*\"]\n\n\
         [[server.tokens]]\nname = \"root\"\nsha256 = \"{}\"\nscopes = [\"admin\"]\n",
        hash("clerk-secret"),
        hash("ops-secret"),
        hash("root-secret")
    );
    let site = Site::new(&toml);
    std::fs::write(site.path().join("flows/payroll.yaml"), PAYROLL).unwrap();
    (site, ["clerk-secret", "ops-secret", "root-secret"])
}

/// `POST /v1/runs?wait=true` with `body` and an optional `Idempotency-Key` header.
async fn submit(server: &Server, token: &str, body: Value, key_header: Option<&str>) -> Answer {
    let mut request = reqwest::Client::new()
        .post(server.url("/v1/runs?wait=true"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(key) = key_header {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers: HeaderMap = response.headers().clone();
    let json = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    Answer { status, headers, json }
}

fn id(answer: &Answer) -> String {
    answer.json["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_of_a_hidden_workflow_starts_a_new_run_and_reveals_nothing() {
    let (site, [clerk, _, root]) = site();
    let server = site.start();
    let salary = json!({"workflow": "payroll", "input": {"salary": "secret-9000"}});
    let by_header = submit(&server, root, salary.clone(), Some("k-pay")).await;
    assert_eq!(by_header.json["output"], json!({"paid": "secret-9000"}));
    // A cron-style key, guessable by anyone who knows the schedule, sent in the body.
    let cron_key = "cron:payroll:0 0 1 * *:1767225600";
    let mut with_key = salary.clone();
    with_key["idempotency_key"] = json!(cron_key);
    let by_body = submit(&server, root, with_key, None).await;
    assert_eq!(by_body.status, 200, "{}", by_body.json);

    for (body, header) in [
        (json!({"workflow": "hello", "input": {"who": "x"}}), Some("k-pay")),
        (
            json!({"workflow": "hello", "input": {"who": "y"}, "idempotency_key": cron_key}),
            None,
        ),
    ] {
        let answer = submit(&server, clerk, body.clone(), header).await;
        let text = answer.json.to_string();
        assert_eq!(answer.status, 200, "a new run, finished: {text}");
        assert!(answer.headers.get("idempotent-replayed").is_none(), "{text}");
        assert_eq!(answer.json["workflow"], "hello", "{text}");
        assert!(!text.contains("secret-9000"), "nothing of the payroll run: {text}");
        assert_ne!(id(&answer), id(&by_header));
        assert_ne!(id(&answer), id(&by_body));
        // The clerk's own key now replays the clerk's own run.
        let again = submit(&server, clerk, body, header).await;
        assert_eq!(again.headers["idempotent-replayed"], "true");
        assert_eq!(id(&again), id(&answer));
    }

    // The payroll runs are still there, for those who may see them, under their keys.
    let replayed = submit(&server, root, salary, Some("k-pay")).await;
    assert_eq!(replayed.headers["idempotent-replayed"], "true");
    assert_eq!(id(&replayed), id(&by_header));
    assert_eq!(replayed.json["idempotency_key"], "k-pay", "shown as sent");
    let hidden = call(
        "GET",
        &server.url(&format!("/v1/runs/{}", id(&by_header))),
        Some(clerk),
        None,
    )
    .await;
    assert_eq!(hidden.status, 404, "{}", hidden.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_used_for_one_visible_workflow_is_a_different_key_for_another() {
    let (site, [_, _, root]) = site();
    let server = site.start();
    let hello = submit(
        &server,
        root,
        json!({"workflow": "hello", "input": {"who": "a"}}),
        Some("shared"),
    )
    .await;
    let payroll = submit(
        &server,
        root,
        json!({"workflow": "payroll", "input": {"salary": 1}}),
        Some("shared"),
    )
    .await;
    assert_eq!(payroll.status, 200, "{}", payroll.json);
    assert!(payroll.headers.get("idempotent-replayed").is_none(), "{}", payroll.json);
    assert_eq!(payroll.json["output"], json!({"paid": 1}));
    assert_ne!(id(&payroll), id(&hello));
    let again = submit(
        &server,
        root,
        json!({"workflow": "hello", "input": {"who": "b"}}),
        Some("shared"),
    )
    .await;
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(
        again.json["output"],
        json!({"greeting": "hello a"}),
        "the first hello run"
    );
}

/// The ids of every page of `GET /v1/runs?limit=1` for `token`, checking
/// that each page's cursor is the last run it listed.
async fn pages(server: &Server, token: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut url = server.url("/v1/runs?limit=1");
    loop {
        let page = call("GET", &url, Some(token), None).await;
        assert_eq!(page.status, 200, "{}", page.json);
        let ids: Vec<String> = page.json["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        match page.json["next"].as_str() {
            Some(next) => {
                assert_eq!(
                    ids.last().map(String::as_str),
                    Some(next),
                    "a cursor names a listed run: {}",
                    page.json
                );
                url = server.url(&format!("/v1/runs?limit=1&before={next}"));
            }
            None => {
                seen.extend(ids);
                return seen;
            }
        }
        seen.extend(ids);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_metrics_and_plugin_statistics_show_a_limited_token_only_its_workflows() {
    let (site, [clerk, ops, root]) = site();
    let server = site.start();
    let mut mine = Vec::new();
    let mut theirs = Vec::new();
    for round in 0..2 {
        mine.push(id(&submit(
            &server,
            clerk,
            json!({"workflow": "hello", "input": {"who": round}}),
            None,
        )
        .await));
        for _ in 0..2 {
            theirs.push(id(&submit(
                &server,
                root,
                json!({"workflow": "payroll", "input": {"salary": round}}),
                None,
            )
            .await));
        }
    }
    mine.reverse();
    assert_eq!(
        pages(&server, clerk).await,
        mine,
        "every hello run, newest first, and nothing else"
    );
    let all = pages(&server, root).await;
    assert_eq!(all.len(), 6, "an unrestricted token pages through every run");
    assert!(theirs.iter().all(|id| all.contains(id)));
    let filtered = call("GET", &server.url("/v1/runs?workflow=payroll"), Some(clerk), None).await;
    assert_eq!(filtered.json, json!({"runs": [], "next": null}));

    for token in [clerk, ops] {
        let metrics = call("GET", &server.url("/metrics"), Some(token), None).await;
        assert_eq!(metrics.status, 403, "{}", metrics.json);
        assert!(!metrics.json.to_string().contains("payroll"), "{}", metrics.json);
    }
    let metrics = call("GET", &server.url("/metrics"), Some(root), None).await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .json
            .as_str()
            .unwrap()
            .contains(r#"pocket_runs_total{workflow="payroll",status="succeeded"} 4"#),
        "{}",
        metrics.json
    );

    let plugins = call("GET", &server.url("/v1/plugins"), Some(clerk), None).await.json;
    let builtin = |plugins: &Value| {
        plugins["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "builtin")
            .cloned()
            .unwrap()
    };
    assert!(builtin(&plugins).get("stats").is_none(), "{plugins}");
    let plugins = call("GET", &server.url("/v1/plugins"), Some(root), None).await.json;
    assert_eq!(builtin(&plugins)["stats"]["calls"], 6, "{plugins}");

    // A limited admin token cannot change what every workflow uses.
    for (method, path) in [
        ("POST", "/v1/plugins/builtin/reload"),
        ("POST", "/v1/plugins/anything/unload"),
    ] {
        let refused = call(method, &server.url(path), Some(ops), None).await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.json);
    }
    let load = call(
        "POST",
        &server.url("/v1/plugins/load"),
        Some(ops),
        Some(json!({"path": "/dev/null"})),
    )
    .await;
    assert_eq!(load.status, 403, "{}", load.json);

    // And everything still works for everyone.
    let hello = submit(
        &server,
        ops,
        json!({"workflow": "hello", "input": {"who": "ops"}}),
        None,
    )
    .await;
    assert_eq!(hello.json["output"], json!({"greeting": "hello ops"}));
    assert_eq!(pages(&server, clerk).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_workflows_webhook_does_not_exist_for_a_limited_token() {
    let (site, [clerk, _, root]) = site();
    let server = site.start();
    for method in ["GET", "POST", "PUT"] {
        let answer = call(
            method,
            &server.url("/hooks/pay"),
            Some(clerk),
            Some(json!({"salary": 1})),
        )
        .await;
        assert_eq!(answer.status, 404, "{method}: {}", answer.json);
        assert!(answer.headers.get("allow").is_none(), "{method}");
    }
    let wrong_method = call("GET", &server.url("/hooks/pay"), Some(root), None).await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.headers["allow"], "POST");
    let paid = call(
        "POST",
        &server.url("/hooks/pay?wait=true"),
        Some(root),
        Some(json!({"salary": 5})),
    )
    .await;
    assert_eq!(paid.json["output"], json!({"paid": 5}), "{}", paid.json);
}
