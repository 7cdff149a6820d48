//! Every built-in that reads a file the workflow names (`template`'s
//! `file`, `validate`'s `schema_file`, `file`'s sandbox) reads it beneath
//! the workflow's directory, and none reads any with `[builtins] file =
//! false` or for a workflow sent inline.

use std::path::Path;

use pocket_core::testing::config;
use pocket_core::{PocketConfig, RunOptions, Value, parse_file, run, validate};

use super::{json, registry, validation_errors};

/// Validates the one-node workflow `wf.yaml` in `dir`, then runs it on `{}`.
async fn node_in(dir: &Path, node: &str, pocket: &PocketConfig) -> Result<Value, String> {
    let workflow = dir.join("wf.yaml");
    std::fs::write(&workflow, format!("name: t\nstart: n\nnodes:\n- {{name: n, {node}}}\n")).unwrap();
    let file = parse_file(&workflow).unwrap();
    let graph = validate(&file, &registry().catalog(), pocket)
        .map_err(|e| e.to_string())?
        .graph;
    run(graph, json(r#"{"id": 1}"#), RunOptions::default())
        .await
        .map(|o| o.output)
        .map_err(|e| e.to_string())
}

/// A workflow directory `flows/` holding `t.tmpl` and `s.json`, beside
/// `secret.txt` and `secret.json`, with `flows/link.json` pointing at the latter.
fn layout() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let flows = root.path().join("flows");
    std::fs::create_dir(&flows).unwrap();
    std::fs::write(flows.join("t.tmpl"), "id={{.id}}").unwrap();
    std::fs::write(flows.join("s.json"), r#"{"type": "object", "required": ["id"]}"#).unwrap();
    std::fs::write(root.path().join("secret.txt"), "root:x:0:0").unwrap();
    std::fs::write(root.path().join("secret.json"), r#"{"type": "object"}"#).unwrap();
    std::os::unix::fs::symlink(root.path().join("secret.json"), flows.join("link.json")).unwrap();
    root
}

#[tokio::test]
async fn template_and_schema_files_outside_the_workflow_directory_are_refused() {
    let root = layout();
    let flows = root.path().join("flows");
    let secret = root.path().join("secret.txt").display().to_string();
    let defaults = PocketConfig::default();
    for (node, expected) in [
        (
            "type: template, config: {file: ../secret.txt}".to_string(),
            "leads outside",
        ),
        (
            format!("type: template, config: {{file: '{secret}'}}"),
            "is an absolute path",
        ),
        (
            "type: template, config: {file: link.json}".to_string(),
            "through a symlink",
        ),
        (
            "type: validate, config: {schema_file: ../secret.json}".to_string(),
            "leads outside",
        ),
        (
            "type: validate, config: {schema_file: link.json}".to_string(),
            "through a symlink",
        ),
        ("type: template, config: {file: .}".to_string(), "not a regular file"),
    ] {
        let err = node_in(&flows, &node, &defaults).await.unwrap_err();
        assert!(err.contains(expected), "{node}: {err}");
    }
    assert_eq!(
        node_in(&flows, "type: template, config: {file: ./t.tmpl}", &defaults)
            .await
            .unwrap(),
        json(r#""id=1""#)
    );
    let checked = node_in(&flows, "type: validate, config: {schema_file: s.json}", &defaults).await;
    assert_eq!(checked.unwrap().get("valid"), Some(&Value::Bool(true)));
}

#[tokio::test]
async fn with_files_switched_off_no_built_in_reads_a_file() {
    let root = layout();
    let flows = root.path().join("flows");
    let off = config("[builtins]\nfile = false\n");
    for node in [
        "type: template, config: {file: t.tmpl}",
        "type: validate, config: {schema_file: s.json}",
        "type: file, config: {path: t.tmpl}",
    ] {
        let err = node_in(&flows, node, &off).await.unwrap_err();
        assert!(
            err.contains("file = false") || err.contains("[builtins]"),
            "{node}: {err}"
        );
    }
    let out = node_in(&flows, "type: template, config: {template: 'still {{.id}}'}", &off).await;
    assert_eq!(out.unwrap(), json(r#""still 1""#), "other nodes still run");
}

#[test]
fn a_workflow_sent_inline_has_no_directory_to_read_files_from() {
    for node in [
        "type: template, config: {file: /etc/hostname}",
        "type: template, config: {file: ../../etc/hostname}",
        "type: validate, config: {schema_file: /etc/hostname}",
        "type: file, config: {path: Cargo.toml}",
    ] {
        let err = validation_errors(&format!("name: t\nstart: n\nnodes:\n- {{name: n, {node}}}\n"));
        assert!(err.contains("sent inline"), "{node}: {err}");
    }
}
