//! Runs the embedding example as a user would, from its own directory.

use std::path::Path;
use std::process::{Command, Output};

fn embed(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pocket-embed"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .env_remove("POCKET_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn the_example_runs_a_workflow_with_a_lua_plugin_and_an_inline_lua_node() {
    let out = embed(&["greeting.yaml", r#"{"name": "Ada"}"#]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let output: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(output["text"], "Hello, Ada, from a program that embeds Pocket");
    assert_eq!(output["words"], 8);
}

#[test]
fn an_invalid_workflow_is_an_error_that_names_the_node_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let workflow = dir.path().join("broken.yaml");
    std::fs::write(
        &workflow,
        "name: broken\nstart: a\nnodes:\n  - name: a\n    type: no-such-type\n",
    )
    .unwrap();
    let out = embed(&[workflow.to_str().unwrap(), "{}"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no-such-type"), "{stderr}");
    assert!(stderr.contains("broken.yaml:5"), "{stderr}");
}
