//! The real `pocket` binary: examples, malformed workflows, Go-engine files,
//! and the inspection commands.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `pocket` run from the repository root, with no config from the environment.
fn pocket() -> Command {
    let mut cmd = Command::cargo_bin("pocket").unwrap();
    cmd.current_dir(root())
        .env_remove("POCKET_CONFIG")
        .env_remove("RUST_LOG")
        .env("POCKET_LOG", "warn");
    cmd
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn exec(cmd: &mut Command) -> Outcome {
    let out = cmd.output().unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run_json(workflow: &str, args: &[&str]) -> Value {
    let out = exec(pocket().arg("run").arg(workflow).args(args));
    assert_eq!(out.code, 0, "pocket run {workflow} failed:\n{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", out.stdout))
}

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
}

#[test]
fn validate_accepts_every_example() {
    for entry in std::fs::read_dir(root().join("examples/workflows")).unwrap() {
        let path = entry.unwrap().path();
        let out = exec(pocket().arg("validate").arg(&path));
        assert_eq!(out.code, 0, "{}: {}", path.display(), out.stderr);
        assert!(out.stdout.starts_with("ok: workflow"), "{}", out.stdout);
    }
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
