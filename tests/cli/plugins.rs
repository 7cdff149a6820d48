//! Plugins of every kind through the CLI: list, info, check, load, unload.

use serde_json::{Value, json};

use crate::workflows::json_server;
use crate::{Outcome, example_plugins, exec, list_row, listed_row, pocket, root, run_json, wasm_test_guest};

use pocket_test_support::redis_server;

#[test]
fn plugin_list_shows_native_plugins_with_type_native() {
    example_plugins();
    assert_listed("native", &["native-text", "redis-cache"]);
}

#[test]
fn plugin_list_shows_wasm_plugins_with_type_wasm() {
    example_plugins();
    assert_listed("wasm", &["text-stats", "json-tools", "hello-wat"]);
}

/// Runs `pocket plugin list` and checks that each of `names` is listed,
/// loaded, with TYPE `kind`.
pub fn assert_listed(kind: &str, names: &[&str]) -> Outcome {
    let out = exec(pocket().args(["plugin", "list"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    for name in names {
        let line = listed_row(&out.stdout, name);
        assert!(line.contains(&format!(" {kind} ")) && line.contains("loaded"), "{line}");
    }
    out
}

#[test]
fn the_showcase_runs_native_lua_and_wasm_nodes_in_one_graph() {
    // WASM in Rust (bare, and on wasm32-wasip1: `keywords`), Go
    // (`exclaim`), Zig (`mirror`), AssemblyScript (`loud`) and JavaScript
    // (`tagline`), and Extism plugins from two PDKs (`vowels`, `invite`).
    example_plugins();
    let long = run_json(
        "examples/workflows/showcase.yaml",
        &["--input", "@examples/inputs/article.json"],
    );
    assert_eq!(
        long["headline"], "POCKET: NATIVE, LUA & WASM NODES IN ONE GRAPH!",
        "{long}"
    );
    assert_eq!(long["slug"], "pocket-native-lua-wasm-nodes-in-one-graph", "{long}");
    assert_eq!(long["words"], 66, "{long}");
    assert_eq!(long["truncated"], true, "{long}");
    assert_eq!(long["vowels"], 112, "{long}");
    assert_eq!(
        long["invite"], "Now reading, POCKET: NATIVE, LUA & WASM NODES IN ONE GRAPH!",
        "{long}"
    );
    assert_eq!(long["code"], "hparg-eno-ni-sedon-msaw-aul-evitan-tekcop", "{long}");
    assert_eq!(long["tagline"], "Pocket Native Lua Wasm Nodes In One Graph", "{long}");
    assert_eq!(long["keywords"][0], json!({"word": "graph", "count": 3}), "{long}");

    let short = run_json(
        "examples/workflows/showcase.yaml",
        &[
            "--input",
            r#"{"title": " Short one ", "text": "Just a few words here."}"#,
        ],
    );
    assert_eq!(short["headline"], "SHORT ONE!", "{short}");
    assert_eq!(short["words"], 5, "{short}");
    assert_eq!(short["text"], "Just a few words here.", "{short}");
    assert!(
        short.get("truncated").is_none(),
        "the short route skips the teaser: {short}"
    );
}

#[test]
fn python_go_and_node_process_plugins_run_beside_lua_native_and_wasm_nodes() {
    example_plugins();
    let out = run_json(
        "examples/workflows/polyglot.yaml",
        &["--input", "@examples/inputs/orders.json"],
    );
    // sha256("Oslo") begins 43152cc97f45.
    assert_eq!(
        out,
        json!({"city": "OSLO", "total": 55, "cities": 3, "mean": 36.667, "id": "43152cc97f45"})
    );
    for (plugin, examples) in [("py-sql", 3), ("node-hash", 3), ("go-stats", 2)] {
        let tested = exec(pocket().args(["plugin", "test", plugin]));
        assert_eq!(tested.code, 0, "{}{}", tested.stdout, tested.stderr);
        assert!(
            tested.stdout.contains(&format!("{examples} passed, 0 failed")),
            "{}",
            tested.stdout
        );
    }
    let checked = exec(pocket().args(["plugin", "check", "examples/plugins/process/py-sql"]));
    assert!(
        checked.stdout.contains("would load as process plugin `py-sql`"),
        "{}",
        checked.stdout
    );
}

#[test]
fn user_cache_fetches_on_a_miss_then_serves_from_redis() {
    example_plugins();
    let redis = redis_server::RedisServer::start(None);
    let api = json_server(r#"{"id": 42, "name": "Ada"}"#);
    let wf = "examples/workflows/user-cache.yaml";
    let run = |db_api: &str| {
        let input = json!({"user_id": 42, "db_api": db_api}).to_string();
        let out = exec(
            pocket()
                .env("REDIS_PORT", redis.port.to_string())
                .args(["run", wf, "--input", &input]),
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        serde_json::from_str::<Value>(&out.stdout).unwrap()
    };
    // Miss: fetched over HTTP, stored, returned.
    assert_eq!(run(&api), json!({"id": 42, "name": "Ada"}));
    // Hit: served from Redis; the API (now a closed port) is not asked.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    assert_eq!(run(&closed), json!({"id": 42, "name": "Ada"}));
}

#[test]
fn plugin_check_explains_why_a_file_would_not_load() {
    example_plugins();
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.so");
    std::fs::write(&garbage, "not a library").unwrap();
    let out = exec(pocket().args(["plugin", "check"]).arg(&garbage));
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.starts_with("refused: ") && out.stdout.contains("garbage.so: not a loadable dynamic library"),
        "{}",
        out.stdout
    );
    let ok = exec(pocket().args(["plugin", "check", "examples/plugins/native/native-text.so"]));
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.stdout.contains("native plugin `native-text`"), "{}", ok.stdout);
}

#[test]
fn plugin_check_says_which_wasi_functions_a_module_imports_and_what_grants_they_heed() {
    let out = exec(pocket().args(["plugin", "check", "backends/wasm/tests/fixtures/wasi-guest.wat"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("note: imports WASI preview 1: fd_write, path_open, sock_accept, environ_sizes_get, proc_exit"),
        "{}",
        out.stdout
    );
    for said in [
        "need the `log` grant",
        "`env:` grants",
        "its `file:` (read) and `file_write:` (read and write) grants name",
        "ENOTCAPABLE",
    ] {
        assert!(out.stdout.contains(said), "{said}: {}", out.stdout);
    }
}

#[test]
fn a_plugin_file_named_after_another_plugin_is_refused_in_a_plugin_directory() {
    // `aaa.so` holds plugin `native-text`: it must not load as native-text
    // (with native-text's config), whatever kind of plugin it is.
    example_plugins();
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    std::fs::copy(
        root().join("examples/plugins/native/native-text.so"),
        plugins.join("aaa.so"),
    )
    .unwrap();
    std::fs::copy(
        root().join("examples/plugins/lua/text-tools.lua"),
        plugins.join("json-tools.lua"),
    )
    .unwrap();
    let config = dir.path().join("pocket.toml");
    std::fs::write(&config, "[plugins]\ndirectories = [\"plugins\"]\n").unwrap();
    let out = exec(pocket().arg("--config").arg(&config).args(["plugin", "list"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Neither loads under the name it claims; both are listed as failed, under their files' names.
    let row = |name: &str| list_row(&out.stdout, name);
    assert!(
        row("native-text").is_none() && row("text-tools").is_none(),
        "{}",
        out.stdout
    );
    assert!(row("aaa").is_some_and(|r| r.contains("failed")), "{}", out.stdout);
    assert!(
        row("json-tools").is_some_and(|r| r.contains("failed")),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("aaa.so") && out.stderr.contains("calls itself `native-text`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("calls itself `text-tools`"), "{}", out.stderr);
}

#[test]
fn plugin_load_copies_into_the_first_directory_and_unload_removes_it() {
    example_plugins();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pocket.toml");
    std::fs::write(&config, "[plugins]\ndirectories = [\"plugins\", \"more\"]\n").unwrap();
    let with_config = || {
        let mut cmd = pocket();
        cmd.arg("--config").arg(&config);
        cmd
    };
    let source = root().join("examples/plugins/native/native-text.so");
    let out = exec(with_config().args(["plugin", "load"]).arg(&source));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(dir.path().join("plugins/native-text.so").is_file());
    let list = exec(with_config().args(["plugin", "list"]));
    assert!(
        list.stdout.lines().any(|l| l.starts_with("native-text ")),
        "{}",
        list.stdout
    );
    let again = exec(with_config().args(["plugin", "load"]).arg(&source));
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("already"), "{}", again.stderr);
    let out = exec(with_config().args(["plugin", "unload", "native-text"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!dir.path().join("plugins/native-text.so").exists());
    let list = exec(with_config().args(["plugin", "list"]));
    assert!(!list.stdout.contains("native-text"), "{}", list.stdout);
}

#[test]
fn a_plugin_that_fails_to_load_is_listed_as_failed_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    std::fs::write(plugins.join("broken.lua"), "return { name = 'broken', nodes = {\n").unwrap();
    std::fs::write(
        plugins.join("fine.lua"),
        "return { name = 'fine', nodes = { hi = { exec = function(input) return input end } } }\n",
    )
    .unwrap();
    let config = dir.path().join("pocket.toml");
    std::fs::write(&config, "[plugins]\ndirectories = [\"plugins\"]\n").unwrap();
    let list = |extra: &[&str]| {
        exec(
            pocket()
                .arg("--config")
                .arg(&config)
                .args(["plugin", "list"])
                .args(extra),
        )
    };

    let out = list(&[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let row = |name: &str| listed_row(&out.stdout, name);
    assert!(row("fine").contains("loaded"), "{}", out.stdout);
    assert!(
        row("broken").contains(" lua ") && row("broken").contains("failed"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("broken failed to load") && out.stdout.contains("broken.lua"),
        "{}",
        out.stdout
    );

    let out = list(&["--json"]);
    let plugins: Value = serde_json::from_str(&out.stdout).unwrap();
    let broken = plugins
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "broken")
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert_eq!(broken["status"], "failed");
    assert_eq!(broken["type"], "lua");
    assert!(broken["error"].as_str().unwrap().contains("broken.lua"), "{broken}");

    assert_eq!(list(&["--strict"]).code, 1, "--strict fails when a plugin failed");

    let out = exec(pocket().arg("--config").arg(&config).args(["plugin", "info", "broken"]));
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("broken failed to load from") && out.stdout.contains("broken.lua"),
        "{}",
        out.stdout
    );
}

/// Builds the C example WASM plugin (clang, wasm-ld), once per test process.
fn c_plugin() -> std::path::PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| crate::run_script("build-c-plugin.sh"));
    root().join("examples/plugins/wasm/c-wrap.wasm")
}

#[test]
fn a_guest_written_in_c_from_the_abi_document_passes_its_examples_and_runs() {
    let plugin = c_plugin();
    let out = exec(pocket().args(["plugin", "test"]).arg(&plugin));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("3 passed, 0 failed"), "{}", out.stdout);
    let input = r#"{"text": "quote \" and brace }", "list": [1, {"x": null}]}"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.json");
    std::fs::write(&file, input).unwrap();
    let out = exec(
        pocket()
            .args(["plugin", "test"])
            .arg(&plugin)
            .args(["--node", "wrap", "--input"])
            .arg(&file),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let expected = json!({"wrapped": serde_json::from_str::<Value>(input).unwrap(), "label": "c"});
    assert_eq!(serde_json::from_str::<Value>(&out.stdout).unwrap(), expected);
}

#[test]
fn a_panicking_wasm_node_reports_the_panic_message_through_the_cli() {
    let module = wasm_test_guest("panicky");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.json");
    std::fs::write(&input, "3").unwrap();
    let out = exec(
        pocket()
            .args(["plugin", "test"])
            .arg(&module)
            .args(["--node", "attack", "--input"])
            .arg(&input),
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("panicked: index out of bounds: the len is 0 but the index is 3 at panicky/src/lib.rs:9:"),
        "{}",
        out.stderr
    );
}
