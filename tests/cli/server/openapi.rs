//! The API's OpenAPI document (`GET /v1/openapi.json`), held against the
//! router (every operation it lists answers, with the security it states)
//! and against docs/server.md's API table (the same routes, both ways).

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Answer, Site, call};

/// A workflow whose webhook `/hooks/x` answers every method a trigger may name.
const HOOKED: &str = "name: hooked\nstart: a\ntriggers:\n  - webhook: {path: /hooks/x, method: get}\n  - webhook: {path: /hooks/x, method: post}\n  - webhook: {path: /hooks/x, method: put}\n  - webhook: {path: /hooks/x, method: patch}\n  - webhook: {path: /hooks/x, method: delete}\nnodes:\n  - {name: a, type: transform, config: {x: 1}}\n";

/// pocket.toml entries for tokens `runner`, `reader` and `admin` (every
/// workflow each), and their secrets by scope name.
fn tokens() -> (String, [(&'static str, &'static str); 3]) {
    let hash = |secret: &str| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(secret.as_bytes()))
    };
    let secrets = [
        ("run", "run-secret"),
        ("read", "read-secret"),
        ("admin", "admin-secret"),
    ];
    let toml = secrets
        .iter()
        .map(|(scope, secret)| {
            format!(
                "[[server.tokens]]\nname = \"{scope}-token\"\nsha256 = \"{}\"\nscopes = [\"{scope}\"]\n\n",
                hash(secret)
            )
        })
        .collect::<Vec<_>>()
        .concat();
    (toml, secrets)
}

/// An operation of the document: method, path template, and the scope its
/// security requirement names (none for an operation without one).
#[derive(Debug)]
struct Operation {
    method: String,
    path: String,
    scope: Option<String>,
}

fn operations(document: &Value) -> Vec<Operation> {
    let mut operations = Vec::new();
    let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    for (path, item) in document["paths"].as_object().unwrap() {
        let item = item.as_object().unwrap();
        for (method, operation) in item.iter().filter(|(key, _)| methods.contains(&key.as_str())) {
            let scope = operation.get("security").map(|security| {
                assert_eq!(security.as_array().unwrap().len(), 1, "{method} {path}: {security}");
                let scopes = security[0]["bearer"].as_array().unwrap();
                assert_eq!(scopes.len(), 1, "{method} {path}: one scope: {security}");
                scopes[0].as_str().unwrap().to_string()
            });
            operations.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                scope,
            });
        }
    }
    operations
}

/// `(METHOD, path)` of every row of docs/server.md's API table
/// (`` `GET /v1/runs?...` ``, `` `GET, POST /hooks/{path}` ``).
fn documented_routes() -> BTreeSet<(String, String)> {
    let docs = std::fs::read_to_string(super::super::root().join("docs/server.md")).unwrap();
    let api = docs.split("\n## API\n").nth(1).unwrap().split("\n## ").next().unwrap();
    let mut routes = BTreeSet::new();
    for row in api.lines().filter_map(|line| line.strip_prefix("| `")) {
        let request = row.split('`').next().unwrap();
        let (methods, path) = request.split_at(request.find('/').unwrap());
        let path = path.split('?').next().unwrap();
        for method in methods.split(',') {
            routes.insert((method.trim().to_string(), path.to_string()));
        }
    }
    routes
}

/// `template` with every `{placeholder}` filled with `x`.
fn filled(template: &str) -> String {
    let mut path = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        path.push('x');
        rest = &rest[open + rest[open..].find('}').unwrap() + 1..];
    }
    path.push_str(rest);
    path
}

/// Whether `answer` is the router's own: no route for the path (the
/// fallback's 404) or none for the method (405; every webhook method is
/// answered here, so the webhook handler's own 405 does not occur).
fn unrouted(answer: &Answer) -> bool {
    let fallback = answer.status == 404
        && answer.json["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("no such endpoint"));
    fallback || answer.status == 405
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_route_and_each_answers_with_the_security_it_states() {
    let (toml, secrets) = tokens();
    let site = Site::new(&toml);
    std::fs::write(site.path().join("flows/hooked.yaml"), HOOKED).unwrap();
    let server = site.start();

    let served = call("GET", &server.url("/v1/openapi.json"), None, None).await;
    assert_eq!(served.status, 200, "the document needs no token: {}", served.json);
    assert!(
        served.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{:?}",
        served.headers
    );
    let document = served.json;
    assert!(document.is_object(), "the document is JSON: {document}");
    assert_eq!(document["openapi"], "3.1.0");
    let bearer = &document["components"]["securitySchemes"]["bearer"];
    assert_eq!(
        (bearer["type"].as_str(), bearer["scheme"].as_str()),
        (Some("http"), Some("bearer")),
        "{bearer}"
    );

    let operations = operations(&document);
    let listed: BTreeSet<(String, String)> = operations.iter().map(|o| (o.method.clone(), o.path.clone())).collect();
    assert_eq!(
        listed,
        documented_routes(),
        "the document and docs/server.md's API table"
    );

    let token_of = |scope: &str| secrets.iter().find(|(s, _)| *s == scope).unwrap().1;
    for operation in &operations {
        let url = server.url(&filled(&operation.path));
        let what = format!("{} {}", operation.method, operation.path);
        let anonymous = call(&operation.method, &url, None, None).await;
        assert!(!unrouted(&anonymous), "{what} is not routed: {}", anonymous.json);
        let Some(scope) = &operation.scope else {
            assert_ne!(anonymous.status, 401, "{what} states no security but wants a token");
            continue;
        };
        assert_eq!(
            anonymous.status, 401,
            "{what} states security but answers without a token"
        );
        let allowed = call(&operation.method, &url, Some(token_of(scope)), None).await;
        assert!(!unrouted(&allowed), "{what}: {}", allowed.json);
        assert!(
            ![401, 403].contains(&allowed.status),
            "{what} with a `{scope}` token: {} {}",
            allowed.status,
            allowed.json
        );
        let other = if scope == "read" { "run" } else { "read" };
        let refused = call(&operation.method, &url, Some(token_of(other)), None).await;
        assert_eq!(
            refused.status, 403,
            "{what} states scope `{scope}`, but a `{other}` token got {}",
            refused.json
        );
    }
    // Everything answered; the server serves on.
    let health = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
}
