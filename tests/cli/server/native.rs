//! Native plugins under `isolation = "process"` in `pocket serve`: a
//! segfault, an `abort()` or a `panic = "abort"` library fails one node of
//! one run, and the server goes on serving, that plugin included.

use serde_json::{Value, json};

use super::super::libraries;
use super::{Server, Site, call};

/// A one-node workflow `name` of type `node_type`.
fn one_node(name: &str, node_type: &str) -> String {
    format!("name: {name}\nstart: only\nnodes:\n  - {{name: only, type: {node_type}}}\n")
}

/// A site serving crashy and aborting, both isolated, with a workflow per
/// attack and one that calls crashy's `echo`.
fn site() -> Site {
    let site = Site::new("\n[plugins.isolation]\ndefault = \"process\"\n");
    let crashy = libraries::library("pocket-native-fixture-crashy");
    std::fs::copy(crashy, site.path().join("plugins/crashy.so")).unwrap();
    std::fs::copy(libraries::aborting_library(), site.path().join("plugins/aborting.so")).unwrap();
    for (name, node_type) in [
        ("segv", "crashy/segfault"),
        ("abort", "crashy/abort"),
        ("panic-abort", "aborting/crash"),
        ("echo", "crashy/echo"),
    ] {
        std::fs::write(
            site.path().join(format!("flows/{name}.yaml")),
            one_node(name, node_type),
        )
        .unwrap();
    }
    site
}

async fn run(server: &Server, workflow: &str) -> Value {
    let answer = call(
        "POST",
        &server.url("/v1/runs?wait=true"),
        None,
        Some(json!({"workflow": workflow, "input": {"n": 1}})),
    )
    .await;
    assert_eq!(answer.status, 200, "{workflow}: {}", answer.json);
    answer.json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_isolated_plugin_fails_one_run_and_the_server_goes_on() {
    let site = site();
    let server = site.start();
    let served = call("GET", &server.url("/v1/workflows"), None, None).await.json;
    assert_eq!(served["workflows"].as_array().unwrap().len(), 6, "{served}");
    for (workflow, says) in [
        (
            "segv",
            "native plugin `crashy`'s process was killed by signal 11 (SIGSEGV)",
        ),
        ("abort", "native plugin `crashy`'s process aborted (signal 6, SIGABRT)"),
        (
            "panic-abort",
            "native plugin `aborting`'s process aborted (signal 6, SIGABRT)",
        ),
    ] {
        let crashed = run(&server, workflow).await;
        assert_eq!(crashed["status"], "failed", "{crashed}");
        let error = crashed["error"].as_str().unwrap();
        assert!(error.contains(says), "{workflow}: {error}");
        // The server, the crashed plugin (in a new process) and the rest serve on.
        let echoed = run(&server, "echo").await;
        assert_eq!(echoed["status"], "succeeded", "{echoed}");
        assert_eq!(echoed["output"], json!({"n": 1}), "{echoed}");
        let hello = run(&server, "hello").await;
        assert_eq!(hello["status"], "succeeded", "{hello}");
    }
    let health = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let metrics = super::metrics(&server).await;
    assert!(
        metrics.contains(r#"pocket_runs_total{workflow="segv",status="failed"} 1"#)
            && metrics.contains(r#"pocket_runs_total{workflow="echo",status="succeeded"} 3"#),
        "{metrics}"
    );
}
