//! Workers get the plugins a workflow needs from the cluster, and only the
//! scheduler's exact files.

use sha2::Digest;

use super::{Nats, Process};

/// A Lua plugin `greet` whose node type `hello` says `word`.
fn greet(word: &str) -> String {
    format!(
        "return {{ name = 'greet', version = '1.0.0', nodes = {{ hello = {{ \
         exec = function(input) return {{ said = '{word}' }} end }} }} }}\n"
    )
}

const FLOW: &str = "name: flow\nstart: only\nnodes:\n  - { name: only, type: greet/hello }\n";

/// A scheduler's site with the `greet` plugin saying "hello", and a
/// worker's site with `worker_copy` as its `greet`, if any.
fn sites(worker_copy: Option<&str>) -> (tempfile::TempDir, tempfile::TempDir) {
    let scheduler = super::site("");
    std::fs::write(scheduler.path().join("plugins/greet.lua"), greet("hello")).unwrap();
    std::fs::write(scheduler.path().join("flow.yaml"), FLOW).unwrap();
    let worker = super::site("");
    if let Some(copy) = worker_copy {
        std::fs::write(worker.path().join("plugins/greet.lua"), copy).unwrap();
    }
    (scheduler, worker)
}

/// Waits for `run` to fail, its scheduler's log saying `reason`; its output.
fn refused(run: &mut Process, reason: &str) -> String {
    let (code, out) = run.finish();
    assert_ne!(code, 0, "the run must fail: {out}");
    assert!(
        run.log().contains(reason),
        "the scheduler says why ({reason}):\n{}",
        run.log()
    );
    out
}

#[test]
fn a_worker_missing_a_plugin_fetches_it() {
    let (scheduler, worker_site) = sites(None);
    let nats = Nats::start();
    let worker = Process::worker(worker_site.path(), &nats.url, &[]);
    let mut run = Process::start(scheduler.path(), &["run", "flow.yaml", "--cluster", &nats.url]);
    assert_eq!(run.output(), serde_json::json!({ "said": "hello" }));
    assert!(
        worker.log().contains("fetching a plugin this worker lacks"),
        "{}",
        worker.log()
    );
}

#[test]
fn a_worker_refuses_its_own_copy_when_it_differs_from_the_schedulers() {
    let (scheduler, worker_site) = sites(Some(&greet("something else")));
    let nats = Nats::start();
    let worker = Process::worker(worker_site.path(), &nats.url, &[]);
    let mut run = Process::start(scheduler.path(), &["run", "flow.yaml", "--cluster", &nats.url]);
    assert_eq!(run.output(), serde_json::json!({ "said": "hello" }));
    assert!(
        worker.log().contains("differs from the scheduler's"),
        "{}",
        worker.log()
    );
}

#[test]
fn a_tampered_copy_in_the_cluster_is_refused() {
    let (scheduler, worker_site) = sites(None);
    let nats = Nats::start();
    let worker = Process::worker(worker_site.path(), &nats.url, &[]);
    // An attacker with write access to the object store replaces the file
    // the scheduler will name by its digest.
    let digest = hex::encode(sha2::Sha256::digest(greet("hello").as_bytes()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(&nats.url).await.unwrap());
        let store = js.get_object_store("pocket-plugins").await.unwrap();
        let evil = greet("pwned");
        store.put(digest.as_str(), &mut evil.as_bytes()).await.unwrap();
    });
    let mut run = Process::start(scheduler.path(), &["run", "flow.yaml", "--cluster", &nats.url]);
    let out = refused(&mut run, "does not match its checksum");
    assert!(!worker.log().contains("pwned") && !out.contains("pwned"));
    // The worker goes on: a plugin-free run on it still works.
    std::fs::write(
        scheduler.path().join("plain.yaml"),
        "name: plain\nstart: only\nnodes:\n  - { name: only, type: transform, config: { jq: '.n + 1' } }\n",
    )
    .unwrap();
    let mut plain = Process::run(scheduler.path(), "plain.yaml", r#"{"n": 1}"#, &nats.url, &[]);
    assert_eq!(plain.output(), serde_json::json!(2));
}

#[test]
fn a_worker_that_requires_signatures_refuses_an_unsigned_plugin_from_the_cluster() {
    let (scheduler, _) = sites(None);
    let strict = super::site("require_signatures = true\n");
    let nats = Nats::start();
    let worker = Process::worker(strict.path(), &nats.url, &[]);
    let mut run = Process::run(scheduler.path(), "flow.yaml", "{}", &nats.url, &[]);
    refused(&mut run, "not signed");
    assert!(!worker.log().contains("ok=true"), "{}", worker.log());
}
