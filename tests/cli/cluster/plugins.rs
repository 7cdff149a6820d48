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

/// `pocket plugin ARGS`, which must succeed.
fn plugin_command(args: &[&std::ffi::OsStr]) {
    let out = crate::exec(crate::pocket().arg("plugin").args(args));
    assert_eq!(out.code, 0, "pocket plugin {args:?}: {}", out.stderr);
}

/// A new key pair `DIR/NAME.key`, `DIR/NAME.pub`: the public key.
fn keygen(dir: &std::path::Path, name: &str) -> String {
    let out = dir.join(name);
    plugin_command(&["keygen".as_ref(), "--out".as_ref(), out.as_os_str()]);
    std::fs::read_to_string(dir.join(format!("{name}.pub")))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn a_plugin_signed_after_it_was_published_brings_its_signature_to_the_workers() {
    let (scheduler, _) = sites(None);
    let alice = keygen(scheduler.path(), "alice");
    let mallory = keygen(scheduler.path(), "mallory");
    // The scheduler trusts both keys; workers only alice's.
    std::fs::write(
        scheduler.path().join("pocket.toml"),
        format!("[plugins]\ndirectories = [\"plugins\"]\n[plugins.trusted_keys]\nalice = \"{alice}\"\nmallory = \"{mallory}\"\n"),
    )
    .unwrap();
    let strict = super::site(&format!(
        "require_signatures = true\n[plugins.trusted_keys]\nalice = \"{alice}\"\n"
    ));
    let nats = Nats::start();
    let worker = Process::worker(strict.path(), &nats.url, &[]);
    let mut run = Process::run(scheduler.path(), "flow.yaml", "{}", &nats.url, &[]);
    refused(&mut run, "not signed");

    // The same bytes, now signed: the store has the file, not the signature.
    let file = scheduler.path().join("plugins/greet.lua");
    let sign = |key: &str| {
        let key = scheduler.path().join(key);
        plugin_command(&["sign".as_ref(), file.as_os_str(), "--key".as_ref(), key.as_os_str()]);
    };
    sign("alice.key");
    let mut run = Process::run(scheduler.path(), "flow.yaml", "{}", &nats.url, &[]);
    assert_eq!(run.output(), serde_json::json!({ "said": "hello" }));

    // Signed again, by a key workers do not trust: a new worker gets that
    // signature, not the one the store already has for these bytes.
    drop(worker);
    sign("mallory.key");
    let fresh = Process::worker(strict.path(), &nats.url, &[]);
    let mut run = Process::run(scheduler.path(), "flow.yaml", "{}", &nats.url, &[]);
    refused(&mut run, "not a trusted key");
    sign("alice.key");
    let mut run = Process::run(scheduler.path(), "flow.yaml", "{}", &nats.url, &[]);
    assert_eq!(run.output(), serde_json::json!({ "said": "hello" }));
    assert!(
        fresh.log().contains("fetching a plugin this worker lacks"),
        "{}",
        fresh.log()
    );
}
