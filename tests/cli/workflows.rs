//! Running, validating and drawing workflows.

use serde_json::{Value, json};

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use pocket_test_support::{wait_for_exit, wait_until};

use crate::plugins::assert_listed;
use crate::{example_plugins, exec, pocket, root, run_json};
#[test]
fn order_routing_picks_the_tier_by_total() {
    let wf = "examples/workflows/order-routing.yaml";
    let big = run_json(wf, &["--input", r#"{"id": "o-1", "total": 2500}"#]);
    assert_eq!(
        big,
        json!({"order": "o-1", "tier": "priority", "message": "Your order ships by express courier."})
    );
    let small = run_json(wf, &["--input", r#"{"id": "o-2", "total": 20}"#]);
    assert_eq!(small["tier"], "economy");
    let mid = run_json(wf, &["--set", "id=o-3", "--set", "total=150"]);
    assert_eq!(mid["tier"], "standard");
}

#[test]
fn profile_report_fans_out_and_joins() {
    let out = run_json(
        "examples/workflows/profile-report.yaml",
        &["--input", "@examples/inputs/customer.json"],
    );
    assert_eq!(
        out,
        json!({"greeting": "Hello, Ada Lovelace!", "email": "ada@example.com", "orders": 3, "first_order": "A-1001"})
    );
}

#[test]
fn resilient_fetch_falls_back_through_the_error_edge() {
    let out = run_json("examples/workflows/resilient-fetch.yaml", &["--set", "user=ada"]);
    assert_eq!(out["message"], "served ada from cache");
    assert_eq!(out["input"]["reason"], "timed out after 50ms");
}

#[test]
fn paginate_loops_until_no_pages_are_left() {
    let out = run_json(
        "examples/workflows/paginate.yaml",
        &["--input", r#"{"pages": ["p1", "p2", "p3"], "fetched": ""}"#],
    );
    assert_eq!(out, json!({"fetched": "p1;p2;p3;", "remaining": 0}));
}

#[test]
fn trace_prints_a_timeline_on_stderr() {
    let out = exec(pocket().args([
        "run",
        "examples/workflows/paginate.yaml",
        "--trace",
        "--input",
        r#"{"pages": ["a"], "fetched": ""}"#,
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("NODE") && out.stderr.contains("next-page") && out.stderr.contains("finished"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_failing_run_exits_1_naming_the_node() {
    let out = exec(pocket().args([
        "run",
        "examples/workflows/paginate.yaml",
        "--input",
        r#"{"pages": [], "fetched": ""}"#,
    ]));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("node `next-page`") && out.stderr.contains("index out of range"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_jq_program_that_collects_without_end_stops_at_its_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let workflow = dir.path().join("collect.yaml");
    std::fs::write(
        &workflow,
        "name: collect\nstart: t\nnodes:\n- name: t\n  type: transform\n  timeout: 1h\n  config:\n    jq: '[range(1e9)] | length'\n",
    )
    .unwrap();
    let out = exec(pocket().arg("run").arg(&workflow));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("node `t`") && out.stderr.contains("allocated more than 268435456 bytes"),
        "{}",
        out.stderr
    );
}

fn invalid(fixture: &str) -> String {
    let out = exec(pocket().args(["validate", &format!("tests/fixtures/invalid/{fixture}")]));
    assert_ne!(out.code, 0, "{fixture} should not validate");
    out.stderr
}

#[test]
fn malformed_yaml_is_reported_with_file_line_and_column() {
    let err = invalid("bad-yaml.yaml");
    assert!(err.contains("tests/fixtures/invalid/bad-yaml.yaml:6:"), "{err}");
}

#[test]
fn an_unknown_type_is_reported_with_a_suggestion() {
    let err = invalid("unknown-type.yaml");
    assert!(
        err.contains("unknown-type.yaml:5:11: error: node `greet`: unknown node type `ecko`"),
        "{err}"
    );
    assert!(err.contains("did you mean `echo`?"), "{err}");
}

#[test]
fn a_dangling_connection_is_reported() {
    let err = invalid("dangling-connection.yaml");
    assert!(
        err.contains("dangling-connection.yaml:10:") && err.contains("connection target `c` does not exist"),
        "{err}"
    );
}

#[test]
fn a_missing_start_is_reported() {
    let err = invalid("missing-start.yaml");
    assert!(
        err.contains("missing `start`") && err.contains("add `start: a`"),
        "{err}"
    );
}

#[test]
fn a_duplicate_node_is_reported() {
    let err = invalid("duplicate-node.yaml");
    assert!(
        err.contains("duplicate-node.yaml:6:") && err.contains("duplicate node name (first defined at line 4)"),
        "{err}"
    );
}

#[test]
fn a_schema_violation_is_reported_with_the_json_path() {
    let err = invalid("schema-violation.yaml");
    assert!(err.contains("node `a`: config at /duration"), "{err}");
    // The line of the offending key's value, not the node's.
    assert!(err.contains("schema-violation.yaml:7:"), "{err}");
}

#[test]
fn validate_accepts_every_example() {
    example_plugins();
    for entry in std::fs::read_dir(root().join("examples/workflows")).unwrap() {
        let path = entry.unwrap().path();
        let out = exec(pocket().arg("validate").arg(&path));
        assert_eq!(out.code, 0, "{}: {}", path.display(), out.stderr);
        assert!(out.stdout.starts_with("ok: workflow"), "{}", out.stdout);
    }
}

#[test]
fn validate_checks_triggers_and_points_at_the_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(
        &good,
        "name: t\nstart: a\ntriggers:\n  - webhook: {path: /hooks/t}\n  - cron: \"*/5 * * * *\"\nnodes:\n  - {name: a, type: echo}\n",
    )
    .unwrap();
    let out = exec(pocket().arg("validate").arg(&good));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "name: t\nstart: a\ntriggers:\n  - webhook: {path: /v1/runs}\n  - cron: \"61 * * * *\"\nnodes:\n  - {name: a, type: echo}\n",
    )
    .unwrap();
    let out = exec(pocket().arg("validate").arg(&bad));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("bad.yaml:4:") && out.stderr.contains("not a path under /hooks/"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("bad.yaml:5:") && out.stderr.contains("invalid cron schedule"),
        "{}",
        out.stderr
    );
}

#[test]
fn go_engine_workflows_run_unchanged() {
    let wf = "tests/fixtures/go-engine/sentiment-router.yaml";
    let out = exec(pocket().args(["run", wf, "--input", r#"{"score": 0.93, "user": "sam"}"#]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        serde_json::from_str::<Value>(&out.stdout).unwrap(),
        json!("Thanks, sam! (score 0.93)")
    );
    let neutral = run_json(wf, &["--input", r#"{"score": 0.5, "user": "sam"}"#]);
    assert_eq!(neutral, json!("Noted, sam. (score 0.50)"));
}

#[test]
fn json_and_toml_workflows_run_too() {
    for wf in [
        "tests/fixtures/go-engine/data-pipeline.json",
        "tests/fixtures/go-engine/data-pipeline.toml",
    ] {
        let out = run_json(wf, &["--input", r#"{"kind": "user", "id": 7}"#]);
        assert_eq!(out, json!({"kind": "user", "id": 7}), "{wf}");
    }
}

#[test]
fn graph_draws_mermaid_and_dot() {
    let out = exec(pocket().args(["graph", "examples/workflows/order-routing.yaml"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("flowchart TD") && out.stdout.contains("-->|priority|"),
        "{}",
        out.stdout
    );
    let out = exec(pocket().args(["graph", "examples/workflows/order-routing.yaml", "--format", "dot"]));
    assert!(
        out.stdout
            .contains("\"classify\" -> \"priority\" [label=\"priority\"];"),
        "{}",
        out.stdout
    );
}

#[test]
fn nodes_lists_builtin_types() {
    let out = exec(pocket().arg("nodes"));
    for node_type in ["echo", "delay", "router", "conditional", "transform", "template"] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.starts_with(node_type) && l.contains("builtin")),
            "{node_type}: {}",
            out.stdout
        );
    }
}

#[test]
fn plugin_list_shows_name_type_version_status_nodes() {
    let out = exec(pocket().args(["plugin", "list"]));
    assert!(out.stdout.starts_with("NAME"), "{}", out.stdout);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("builtin"))
        .expect("builtin listed");
    assert!(
        line.contains(" builtin ") && line.contains("loaded") && line.contains("echo"),
        "{line}"
    );
    let out = exec(pocket().args(["plugin", "list", "--json"]));
    let list: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(list[0]["name"], "builtin");
    assert_eq!(list[0]["type"], "builtin");
}

#[test]
fn plugin_info_shows_config_keys_and_defaults() {
    let out = exec(pocket().args(["plugin", "info", "builtin"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("delay - ") && out.stdout.contains("duration: [string,number] (default: \"1s\")"),
        "{}",
        out.stdout
    );
    let out = exec(pocket().args(["plugin", "info", "bultin"]));
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("did you mean `builtin`?"), "{}", out.stderr);
}

#[test]
fn a_missing_workflow_file_is_a_clear_error() {
    let out = exec(pocket().args(["run", "nope.yaml"]));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("nope.yaml: cannot read workflow file"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_broken_pocket_toml_is_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pocket.toml");
    std::fs::write(&config, "[plugins]\ndirectories = 5\n").unwrap();
    let out = exec(pocket().arg("--config").arg(&config).arg("nodes"));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(&format!("{}:2", Path::new(&config).display())),
        "{}",
        out.stderr
    );
}

#[test]
fn a_workflow_named_without_a_directory_resolves_paths_against_the_current_one() {
    // `pocket run wf.yaml`: the workflow's directory is `.`, not an empty path.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("note.txt"), "hello").unwrap();
    std::fs::write(
        dir.path().join("wf.yaml"),
        "name: t\nstart: read\nnodes:\n  - {name: read, type: file, config: {operation: read, path: note.txt}}\n",
    )
    .unwrap();
    let out = exec(pocket().current_dir(dir.path()).args(["run", "wf.yaml"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("\"content\": \"hello\""), "{}", out.stdout);
}

#[test]
fn ctrl_c_stops_a_run_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let workflow = dir.path().join("slow.yaml");
    // The run says it has begun (a file) before it waits: by then the Ctrl-C
    // handler is in place.
    std::fs::write(
        &workflow,
        "name: slow\nstart: begun\nnodes:\n  - {name: begun, type: file, config: {operation: write, path: begun.txt, content: yes}}\n  - {name: wait, type: delay, config: {duration: 60s}}\nconnections:\n  - {from: begun, to: wait}\n",
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_pocket"))
        .arg("run")
        .arg(&workflow)
        .env("POCKET_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let begun = dir.path().join("begun.txt");
    wait_until(Duration::from_secs(60), "the run to begin", || {
        begun.exists().then_some(())
    });
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // The delay has 60 s left: an exit well before then is the cancellation.
    let out = wait_for_exit(child, Duration::from_secs(50));
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the run was cancelled"));
}

#[test]
fn killing_pocket_ends_the_processes_its_exec_nodes_started() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("daemon.pid");
    let file = pid_file.display();
    // The program starts a daemon (a new session, detached) and waits.
    let script = format!(
        "setsid sh -c 'echo $$ > {file}.tmp; mv {file}.tmp {file}; exec sleep 300' </dev/null >/dev/null 2>&1 & sleep 300"
    );
    let workflow = dir.path().join("daemon.yaml");
    std::fs::write(
        &workflow,
        format!(
            "name: daemon\nstart: run\nnodes:\n  - {{name: run, type: exec, config: {{command: sh, args: [-c, {script:?}], timeout: 60s}}}}\n"
        ),
    )
    .unwrap();
    let mut child = pocket()
        .arg("run")
        .arg(&workflow)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = wait_until(Duration::from_secs(30), "the daemon to start", || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .map(|text| text.trim().to_string())
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let stat = format!("/proc/{pid}/stat");
    wait_until(
        Duration::from_secs(30),
        &format!("the daemon {pid} to end with pocket"),
        || {
            let state = std::fs::read_to_string(&stat).unwrap_or_default();
            (state.is_empty() || state.contains(") Z")).then_some(())
        },
    );
}

#[test]
fn plugin_list_shows_lua_plugins_from_the_plugin_directory() {
    let out = assert_listed("lua", &["text-tools", "json-reshaper"]);
    let lua_node = out
        .stdout
        .lines()
        .find(|l| l.starts_with("lua "))
        .expect("the built-in lua node's plugin");
    assert!(lua_node.contains(" lua "), "{lua_node}");
}

#[test]
fn the_lua_example_workflow_runs_plugins_and_inline_scripts() {
    let input = r#"{"article": {"title": "Hello, Lua World!", "body": "Pocket runs sandboxed Lua scripts as workflow nodes.", "author": {"name": "Ada"}}}"#;
    let out = run_json("examples/workflows/lua-text-report.yaml", &["--input", input]);
    assert_eq!(out["report"]["size"], "long", "{out}");
    assert!(out["checked_at"].as_i64().is_some_and(|t| t > 1_600_000_000), "{out}");
}

#[test]
fn customer_check_validates_then_summarizes_with_jq() {
    let wf = "examples/workflows/customer-check.yaml";
    let out = run_json(wf, &["--input", "@examples/inputs/customer.json"]);
    assert_eq!(
        out,
        json!({"customer": "Ada Lovelace", "orders": 3, "first_order": "A-1001"})
    );
    let bad = run_json(
        wf,
        &["--input", r#"{"name": "Bob", "email": "not-mail", "orders": []}"#],
    );
    assert_eq!(bad, json!({"rejected": true, "problems": ["email: format"]}));
}

#[test]
fn cache_aside_stores_then_finds_the_value() {
    let out = run_json(
        "examples/workflows/cache-aside.yaml",
        &["--set", "id=7", "--set", "name=ada"],
    );
    assert_eq!(out["message"], "served ada from the cache");
    assert_eq!(out["input"]["computed"], true);
}

#[test]
fn parallel_enrich_runs_real_tasks_concurrently() {
    let out = run_json(
        "examples/workflows/parallel-enrich.yaml",
        &["--input", "@examples/inputs/customer.json"],
    );
    assert_eq!(
        out,
        json!({"failed": 0, "greeting": "Hello, Ada Lovelace!", "email": "ada@example.com", "orders": 3})
    );
}

#[test]
fn profile_merge_aggregates_a_fan_in() {
    let out = run_json(
        "examples/workflows/profile-merge.yaml",
        &["--input", "@examples/inputs/customer.json"],
    );
    assert_eq!(
        out,
        json!({"data": {"profile": {"email": "ada@example.com", "orders": 3}, "name": "Ada Lovelace"}, "count": 2, "complete": true})
    );
}

#[test]
fn read_and_run_reads_inside_its_sandbox_and_runs_an_allowed_program() {
    let wf = "examples/workflows/read-and-run.yaml";
    let out = run_json(wf, &["--set", "file=customer.json"]);
    assert_eq!(out, json!("Ada Lovelace has 3 orders\n"));
    let escape = exec(pocket().args(["run", wf, "--set", "file=../../Cargo.toml"]));
    assert_eq!(escape.code, 1);
    assert!(
        escape.stderr.contains("node `read`") && escape.stderr.contains("outside base_dir"),
        "{}",
        escape.stderr
    );
}

/// Answers every connection on 127.0.0.1 with `body` as JSON, in a thread.
pub fn json_server(body: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    address
}

#[test]
fn fetch_json_gets_a_local_service_and_falls_back_when_it_is_down() {
    let wf = "examples/workflows/fetch-json.yaml";
    let base = json_server(r#"{"items": [{"name": "a"}, {"name": "b"}]}"#);
    let out = run_json(wf, &["--set", &format!("url={base}/items")]);
    assert_eq!(out, json!(["a", "b"]));
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let out = run_json(wf, &["--set", &format!("url=http://127.0.0.1:{closed}/items")]);
    assert_eq!(out["fallback"], true);
    assert!(
        out["reason"].as_str().unwrap().contains("failed after 2 attempts"),
        "{out}"
    );
}

#[test]
fn builtins_disabled_in_pocket_toml_fail_validation() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pocket.toml");
    std::fs::write(&config, "[builtins]\nexec = false\nfile = false\n").unwrap();
    let out = exec(pocket().arg("--config").arg(&config).args([
        "run",
        "examples/workflows/read-and-run.yaml",
        "--set",
        "file=customer.json",
    ]));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("node type `file` is disabled in this deployment")
            && out.stderr.contains("node type `exec` is disabled in this deployment")
            && out.stderr.contains("[builtins]"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    // Other built-ins still run under that config.
    let ok = exec(pocket().arg("--config").arg(&config).args([
        "run",
        "examples/workflows/cache-aside.yaml",
        "--set",
        "id=1",
    ]));
    assert_eq!(ok.code, 0, "{}", ok.stderr);
}
