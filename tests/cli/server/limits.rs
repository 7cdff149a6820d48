//! Capacity limits and API tokens.

use serde_json::json;

use super::{Site, call};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_past_the_queue_gets_429_with_retry_after_and_the_accepted_runs_finish() {
    let site = Site::new("max_concurrent_runs = 1\nqueue_depth = 2\n");
    let server = site.start();
    let mut accepted = Vec::new();
    let mut refused = 0;
    for _ in 0..8 {
        let answer = call("POST", &server.url("/v1/runs"), None, Some(json!({"workflow": "slow"}))).await;
        match answer.status {
            202 => accepted.push(answer.json["id"].as_str().unwrap().to_string()),
            429 => {
                refused += 1;
                assert_eq!(answer.headers["retry-after"], "1");
                assert!(
                    answer.json["error"].as_str().unwrap().contains("capacity"),
                    "{}",
                    answer.json
                );
            }
            other => panic!("unexpected {other}: {}", answer.json),
        }
    }
    assert_eq!(accepted.len(), 3, "one running and two queued");
    assert_eq!(refused, 5);
    let metrics = super::metrics(&server).await;
    assert!(
        metrics.contains("pocket_runs_running 1") && metrics.contains("pocket_runs_queued 2"),
        "{metrics}"
    );
    for id in &accepted {
        assert_eq!(super::finished(&server, id).await["status"], "succeeded");
    }
    let after = call(
        "POST",
        &server.url("/v1/runs"),
        None,
        Some(json!({"workflow": "hello"})),
    )
    .await;
    assert_eq!(after.status, 202, "capacity is given back");
}

/// pocket.toml entries for tokens `runner` (run, hello only), `reader`
/// (read) and `admin`, and their secrets.
fn tokens() -> (String, [&'static str; 3]) {
    let hash = |secret: &str| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(secret.as_bytes()))
    };
    let toml = format!(
        "[[server.tokens]]\nname = \"runner\"\nsha256 = \"{}\"\nscopes = [\"run\"]\nworkflows = [\"hel*\"]\n\n\
         [[server.tokens]]\nname = \"reader\"\nsha256 = \"{}\"\nscopes = [\"read\"]\n\n\
         [[server.tokens]]\nname = \"admin\"\nsha256 = \"{}\"\nscopes = [\"admin\"]\n",
        hash("run-secret"),
        hash("read-secret"),
        hash("admin-secret")
    );
    (toml, ["run-secret", "read-secret", "admin-secret"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_their_scopes_are_enforced() {
    let (toml, [runner, reader, admin]) = tokens();
    let site = Site::new(&toml);
    let server = site.start();
    let runs = server.url("/v1/runs");
    let hello = json!({"workflow": "hello", "input": {"who": "x"}});

    let anonymous = call("POST", &runs, None, Some(hello.clone())).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.headers["www-authenticate"], "Bearer");
    assert_eq!(
        call("POST", &runs, Some("guess"), Some(hello.clone())).await.status,
        401
    );
    assert_eq!(call("GET", &server.url("/metrics"), None, None).await.status, 401);
    assert_eq!(
        reqwest::get(server.url("/healthz")).await.unwrap().status(),
        200,
        "health needs no token"
    );

    let created = call("POST", &format!("{runs}?wait=true"), Some(runner), Some(hello.clone())).await;
    assert_eq!(created.status, 200, "{}", created.json);
    let id = created.json["id"].as_str().unwrap();
    let slow = call("POST", &runs, Some(runner), Some(json!({"workflow": "slow"}))).await;
    assert_eq!(
        slow.status, 404,
        "a workflow outside the token's patterns does not exist for it"
    );
    let inline =
        json!({"definition": "name: hello\nstart: a\nnodes:\n  - {name: a, type: exec, config: {command: [id]}}\n"});
    let refused = call("POST", &runs, Some(runner), Some(inline.clone())).await;
    assert_eq!(refused.status, 403, "{}", refused.json);
    assert!(refused.json["error"].as_str().unwrap().contains("inline"));
    let cannot_read = call("GET", &server.url(&format!("/v1/runs/{id}")), Some(runner), None).await;
    assert_eq!(cannot_read.status, 403);
    assert!(cannot_read.json["error"].as_str().unwrap().contains("`read` scope"));

    let read = call("GET", &server.url(&format!("/v1/runs/{id}")), Some(reader), None).await;
    assert_eq!(read.json["output"]["greeting"], "hello x");
    assert_eq!(call("POST", &runs, Some(reader), Some(hello)).await.status, 403);
    assert_eq!(
        call("GET", &server.url("/metrics"), Some(reader), None).await.status,
        200
    );

    let by_admin = call(
        "POST",
        &format!("{runs}?wait=true"),
        Some(admin),
        Some(json!({"workflow": "slow"})),
    )
    .await;
    assert_eq!(by_admin.json["status"], "succeeded");
}

#[test]
fn listening_beyond_loopback_without_tokens_is_refused() {
    let site = Site::new("");
    let out = super::super::exec(
        super::super::pocket()
            .arg("--config")
            .arg(site.path().join("pocket.toml"))
            .args(["serve", "--listen", "0.0.0.0:0"]),
    );
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("without API tokens"), "{}", out.stderr);
}

#[test]
fn new_token_prints_a_token_and_the_entry_that_accepts_it() {
    let out = super::super::exec(super::super::pocket().args(["serve", "--new-token", "ci", "--scopes", "run,read"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let token = out
        .stdout
        .lines()
        .next()
        .unwrap()
        .strip_prefix("token: ")
        .unwrap()
        .to_string();
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(token.as_bytes()))
    };
    assert!(out.stdout.contains(&format!("sha256 = \"{hash}\"")), "{}", out.stdout);
    assert!(out.stdout.contains("scopes = [\"run\", \"read\"]"), "{}", out.stdout);
}
