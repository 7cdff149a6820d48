//! A plugin written in JavaScript with the JavaScript SDK
//! (`backends/wasm/sdks/javascript`): the example in
//! `examples/plugins/wasm/javascript`, QuickJS, the SDK's shim and the script
//! built into one WASI reactor by `scripts/build-js-plugins.sh` (which
//! installs Zig and fetches QuickJS when they are missing), and a test guest
//! (`backends/wasm/tests/js-guest/main.js`) for host calls and limits.

use std::path::PathBuf;

use pocket_core::{PluginLoader, PocketConfig, Registry, testing};

use crate::common::{
    config, counts_in_kv_under_its_grant, example, json, loader, one_node, registry_of, run_graph, run_node, test_guest,
};

/// `examples/plugins/wasm/js-text.wasm`, built once per test process.
fn js_text() -> PathBuf {
    example("build-js-plugins.sh", "js-text.wasm")
}

/// The test guest, built once per test process (0.1 s once QuickJS is cached).
fn js_guest() -> PathBuf {
    test_guest(
        "build-js-plugins.sh",
        "backends/wasm/tests/js-guest/main.js",
        "target/js-guests/js-guest.wasm",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_plugin_runs_its_node_types_and_reports_their_errors() {
    let config = PocketConfig::default();
    let plugin = loader().load(&js_text(), &config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plugin.description().name, "js-text");
    assert_eq!(plugin.description().nodes[0].examples.len(), 2, "its examples are read");
    let registry = Registry::new();
    registry.register(plugin).unwrap();
    let build = |node_type: &str| testing::graph(&one_node(node_type), &registry, &config).unwrap();
    assert_eq!(
        run_graph(&build("title"), r#""hello wIDE world""#).await.unwrap(),
        json(r#""Hello Wide World""#)
    );
    let tricky = r#"{"s": "a \"}] ,\"input\":", "n": [1, {"x": "]"}], "u": "héllo 𝒳"}"#;
    assert_eq!(run_graph(&build("echo"), tricky).await.unwrap(), json(tricky));
    let err = run_graph(&build("title"), "7").await.unwrap_err().to_string();
    assert!(
        err.contains("expected a string (main.js:"),
        "the message and the line: {err}"
    );
    // `words` takes the action `none` on blank text: the run goes to `n`
    // (an echo) instead of `t` (a title, which fails on a number).
    let yaml = "name: t\nstart: w\nnodes:\n  - {name: w, type: words}\n  - {name: n, type: echo}\n  \
                - {name: t, type: title}\nconnections:\n  - {from: w, to: n, action: none}\n  - {from: w, to: t}\n";
    let routed = testing::graph(yaml, &registry, &config).unwrap();
    assert_eq!(run_graph(&routed, r#""   ""#).await.unwrap(), json("0"));
    let err = run_graph(&routed, r#""a b""#).await.unwrap_err().to_string();
    assert!(err.contains("expected a string"), "{err}");
    // The engine frees what each call allocated: a thousand calls of 100 KB
    // in and out stay within the default memory limit.
    let big = format!("\"{}\"", "x".repeat(100_000));
    for _ in 0..1000 {
        run_graph(&build("title"), &big).await.unwrap();
    }
    assert_eq!(run_graph(&build("title"), r#""ab""#).await.unwrap(), json(r#""Ab""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_example_counts_in_the_runs_kv_store_under_its_grant_and_is_refused_without() {
    counts_in_kv_under_its_grant(&js_text(), "js-text").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_sdk_reaches_config_kv_and_plugin_calls_and_turns_refusals_into_exceptions() {
    let config = config(
        "[plugins.permissions]\njs-guest = [\"log\", \"kv\", \"plugin_call:js-guest/*\"]\n\
         [plugins.config.js-guest]\ngreeting = \"hello\"\n",
    );
    let registry = registry_of(&config, &[&js_guest()]);
    let run = async |node_type: &str, input: &str| run_node(&registry, &config, node_type, input).await;
    assert_eq!(run("config", "null").await.unwrap(), json(r#"["hello", true]"#));
    assert_eq!(
        run("kv", r#"{"a": [1, 2]}"#).await.unwrap(),
        json(r#"["as it is", {"a": [1, 2]}, null]"#)
    );
    // callNode gives the callee's output and action, which `call` returns as its own.
    let called = testing::graph(
        "name: t\nstart: c\nnodes:\n  - {name: c, type: call}\n  - {name: s, type: ok}\n\
         connections:\n  - {from: c, to: s, action: side}\n",
        &registry,
        &config,
    )
    .unwrap();
    assert_eq!(
        run_graph(&called, r#"{"type": "js-guest/route", "input": [1]}"#)
            .await
            .unwrap(),
        json(r#""ok""#),
        "the callee's action `side` was taken"
    );
    let tried = async |op: &str| run("try", &format!("\"{op}\"")).await.unwrap().to_string();
    assert!(tried("http_denied").await.contains("denied.invalid"));
    assert!(tried("call_failing").await.contains("it failed"));
    assert!(tried("call_denied").await.contains("js-text/echo"));
    assert_eq!(run("async", "5").await.unwrap(), json("5"));
    let bare = run("bare", "5").await.unwrap_err();
    assert!(bare.contains("must return {output}"), "{bare}");
    assert_eq!(run("surrogate", "null").await.unwrap(), json(r#""a\ufffdb""#));
    // Deep recursion ends cleanly: QuickJS's own check (`InternalError: stack
    // overflow`), or first the host's stack guard on a thread with a smaller
    // native stack (`stack limit exceeded`).
    let deep = run("recurse", "null").await.unwrap_err();
    assert!(
        deep.contains("stack overflow") || deep.contains("stack limit exceeded"),
        "{deep}"
    );
    assert_eq!(
        run("numbers", "null").await.unwrap(),
        json(r#"["1", "3", "1.13", "1.00", "3", "-3e+0", "18446744073709551616"]"#),
        "ties round away from zero, as JavaScript specifies; BigInt"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_loop_or_allocation_past_the_limits_fails_its_node_and_the_next_call_works() {
    for (node, toml, expected) in [
        ("loop", "", "fuel limit exceeded"),
        (
            "loop",
            "fuel = 1000000000000000\ntimeout = \"300ms\"\n",
            "timeout limit exceeded",
        ),
        ("alloc", "memory = \"16MiB\"\n", "out of memory"),
    ] {
        let config = config(&format!("[plugins.limits.js-guest]\n{toml}"));
        let registry = registry_of(&config, &[&js_guest()]);
        let build = |t: &str| testing::graph(&one_node(t), &registry, &config).unwrap();
        let err = run_graph(&build(node), "null").await.unwrap_err().to_string();
        assert!(err.contains(expected), "{node}: expected `{expected}` in: {err}");
        assert_eq!(
            run_graph(&build("ok"), "null").await.unwrap(),
            json(r#""ok""#),
            "the next call works"
        );
    }
}
