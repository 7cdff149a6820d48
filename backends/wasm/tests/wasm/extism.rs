//! Extism plugins, unchanged: the example built from source with Extism's
//! own Rust PDK (`examples/plugins/wasm/rust/extism-text`) and one built with
//! its AssemblyScript PDK (`examples/plugins/wasm/extism-as`), described by the
//! manifest beside it, and a hand-written module that attacks Extism's
//! kernel; each attack fails its node and the next call works.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;

use pocket_core::{PluginLoader, PocketConfig, Registry, testing};

use crate::common::{config, example, fixture, json, loader, registry_of, run_graph, run_node};

/// `examples/plugins/wasm/extism-text.wasm`, built once per test process.
fn extism_text() -> PathBuf {
    example("build-plugins.sh", "extism-text.wasm")
}

/// Serves one HTTP request on 127.0.0.1 with `body`; the URL to ask.
fn serve_once(body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hello", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0; 4096];
        let _ = stream.read(&mut request);
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Test: yes\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extism_pdk_plugin_runs_unchanged_with_its_manifest_config_errors_and_http() {
    let config = config(
        "[plugins.permissions]\nextism-text = [\"log\", \"http:127.0.0.1\"]\n\
         [plugins.config.extism-text]\ngreeting = \"Hello\"\n",
    );
    let plugin = loader().load(&extism_text(), &config).unwrap_or_else(|e| panic!("{e}"));
    let description = plugin.description();
    assert_eq!(
        (description.name.as_str(), description.version.as_str()),
        ("extism-text", "1.0.0")
    );
    let types: Vec<&str> = description.nodes.iter().map(|n| n.node_type.as_str()).collect();
    assert_eq!(types, ["count_vowels", "echo", "fetch", "greet"]);
    assert_eq!(
        description.nodes[3].examples.len(),
        3,
        "the manifest's examples are read"
    );
    let registry = Registry::new();
    registry.register(plugin).unwrap();
    let run = async |node_type: &str, node_config: &str, input: &str| {
        let graph = testing::graph(&testing::one_node(node_type, node_config), &registry, &config).unwrap();
        run_graph(&graph, input).await.map_err(|e| e.to_string())
    };
    // Text input (the manifest says `input = "text"`), JSON output.
    let counted = run("count_vowels", "", r#""extism""#).await.unwrap();
    assert_eq!(counted.get("count"), Some(&json("2")), "{counted}");
    // JSON in, JSON out; text out stays text.
    let tricky = r#"{"s": "a \"quoted\" text", "n": [1, 2.5, null]}"#;
    assert_eq!(run("echo", "", tricky).await.unwrap(), json(tricky));
    // The plugin's config, then the node's, as Extism's string map.
    assert_eq!(
        run("greet", "", r#"{"name": "Ann"}"#).await.unwrap(),
        json(r#""Hello, Ann!""#)
    );
    assert_eq!(
        run("greet", "{greeting: Hi}", r#"{"name": "Bo"}"#).await.unwrap(),
        json(r#""Hi, Bo!""#)
    );
    // An error the function returns fails the node with its message; the instance goes on.
    let failed = run("greet", "", r#"{"name": ""}"#).await.unwrap_err();
    assert!(failed.contains("name is empty"), "{failed}");
    // HTTP through Pocket's host, under its `http:` grant.
    let fetched = run("fetch", "", &format!(r#"{{"url": "{}"}}"#, serve_once("hi there")))
        .await
        .unwrap();
    assert_eq!(fetched, json(r#"{"status": 200, "body": "hi there"}"#));
    // A host it is not granted: the call is refused before any connection.
    let denied = run("fetch", "", r#"{"url": "http://denied.invalid/"}"#)
        .await
        .unwrap_err();
    assert!(denied.contains("denied.invalid"), "{denied}");
    assert_eq!(
        run("greet", "", r#"{"name": "Cy"}"#).await.unwrap(),
        json(r#""Hello, Cy!""#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vars_persist_across_calls_of_one_instance() {
    let config = PocketConfig::default();
    let registry = registry_of(&config, &[&extism_text()]);
    // A chain of nodes runs one after another, each taking an idle instance:
    // one instance serves them all, and its var counts on.
    let graph = testing::graph(&testing::chain("count_vowels", 3), &registry, &config).unwrap();
    let out = run_graph(&graph, r#""aaa""#).await;
    // The first node's output (an object) is the second's input: as JSON
    // text it has vowels of its own, so only the growth is checked.
    let total = out.unwrap().get("total").and_then(|t| t.as_i64()).unwrap();
    assert!(total > 3, "vars kept from call to call: total {total}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attacks_on_extisms_kernel_fail_their_node_and_the_plugin_recovers() {
    let config = config("[plugins.limits]\nmemory = \"16MiB\"\nfuel = 50000000\n");
    let registry = registry_of(&config, &[&fixture("extism-attacks.wat")]);
    let run = async |node_type: &str| run_node(&registry, &config, node_type, "null").await;
    let ok = async || assert_eq!(run("ok").await.unwrap(), json(r#""ok""#), "the next call works");
    ok().await;
    let failed = run("fail").await.unwrap_err();
    assert!(failed.contains("it broke"), "{failed}");
    ok().await;
    for (attack, expected) in [
        ("out_of_bounds", "outside Extism's memory"),
        ("negative_offset", "outside Extism's memory"),
        ("output_past_memory", "outside Extism's memory"),
        ("vars", "past 1048576 bytes"),
        ("spin", "fuel"),
        // Host work is charged: 8 MiB copied per call costs 1 Mi units.
        ("copy_loop", "fuel"),
    ] {
        let err = run(attack).await.unwrap_err();
        assert!(err.contains(expected), "{attack}: expected `{expected}` in: {err}");
        ok().await;
    }
    // Allocating until Extism's memory is full: alloc answers 0 at the cap
    // (the plugin's memory limit), and the guest goes on.
    assert_eq!(run("hog").await.unwrap(), json(r#""ok""#));
    ok().await;
}

#[test]
fn an_extism_plugin_needing_its_applications_host_functions_is_refused_naming_them() {
    let err = loader()
        .load(&fixture("extism-user-import.wat"), &PocketConfig::default())
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("extism:host/user.lookup") && err.contains("Extism's kernel"),
        "{err}"
    );
}

/// `examples/plugins/wasm/extism-as.wasm` (Extism's AssemblyScript PDK),
/// built once per test process.
fn extism_as() -> PathBuf {
    example("build-extism-as-plugin.sh", "extism-as.wasm")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extism_plugin_from_a_second_pdk_language_runs_unchanged_start_function_and_all() {
    // asc puts the module's start-up in a start function, which Pocket runs
    // after instantiation within the plugin's fuel.
    let config = config("[plugins.config.extism-as]\ngreeting = \"Hey\"\n");
    let registry = registry_of(&config, &[&extism_as()]);
    let run = async |node_type: &str, input: &str| run_node(&registry, &config, node_type, input).await;
    let counted = run("count_vowels", r#""Pocket runs Extism""#).await.unwrap();
    assert_eq!(counted.get("count"), Some(&json("5")), "{counted}");
    assert_eq!(run("greet", r#""Ann""#).await.unwrap(), json(r#""Hey, Ann!""#));
    let failed = run("greet", r#""""#).await.unwrap_err();
    assert!(failed.contains("nobody to greet"), "{failed}");
    // An abort: the message the guest set is the node's error.
    let aborted = run("check", r#""""#).await.unwrap_err();
    assert!(aborted.contains("input must not be empty"), "{aborted}");
    assert_eq!(
        run("check", r#""x""#).await.unwrap(),
        json(r#""ok""#),
        "a fresh instance"
    );
}
