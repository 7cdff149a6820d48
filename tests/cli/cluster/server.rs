//! `pocket serve --cluster`: served runs execute on workers, and a server
//! killed mid-run resumes the run when it starts again.

use crate::server::{Site, call, finished, start_run};

use super::{Nats, Process, said};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_run_resumes_it_on_restart_without_running_nodes_again() {
    let site = Site::new("");
    std::fs::write(
        site.path().join("flows/steps.yaml"),
        super::failures::SLOW.replace("name: slow", "name: steps"),
    )
    .unwrap();
    let nats = Nats::start();
    let worker = Process::worker(site.path(), &nats.url, &[]);
    let args = ["--cluster", nats.url.as_str()];
    let server = site.start_with(&args);
    let answer = call(
        "POST",
        &server.url("/v1/runs"),
        None,
        Some(serde_json::json!({ "workflow": "steps", "input": { "n": 1 } })),
    )
    .await;
    assert_eq!(answer.status, 202, "{}", answer.json);
    let id = answer.json["id"].as_str().unwrap().to_string();
    let log = || [worker.log()];
    while said(&log(), "started", "wait") == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.kill_9();
    let server = site.start_with(&args);
    let run = finished(&server, &id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["output"], serde_json::json!(4), "{run}");
    for node in ["first", "wait", "last"] {
        assert_eq!(said(&log(), "started", node), 1, "{node} ran once:\n{}", log()[0]);
    }
    // A new run on the restarted server goes to the workers too.
    let again = start_run(&server, "hello").await;
    assert_eq!(finished(&server, &again).await["status"], "succeeded");
    assert_eq!(said(&log(), "started", "greet"), 1);
}
