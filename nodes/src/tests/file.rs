//! `file`: operations inside the sandbox, and every way out refused.

use std::path::Path;

use pocket_core::{PocketConfig, RunOptions, Value, parse_file, run, validate};

use super::{at, json, registry, validation_errors};

/// Runs a one-node `file` workflow stored in `dir` (the sandbox by default).
async fn file_node(dir: &Path, config: &str) -> Result<Value, String> {
    let workflow = dir.join("wf.yaml");
    std::fs::write(
        &workflow,
        format!("name: t\nstart: f\nnodes:\n- {{name: f, type: file, config: {config}}}\n"),
    )
    .unwrap();
    let file = parse_file(&workflow).unwrap();
    let graph = validate(&file, &registry().catalog(), &PocketConfig::default())
        .map_err(|e| e.to_string())?
        .graph;
    run(
        graph,
        json(r#"{"name": "notes", "text": "hello"}"#),
        RunOptions::default(),
    )
    .await
    .map(|o| o.output)
    .map_err(|e| e.to_string())
}

#[tokio::test]
async fn write_append_read_exists_and_list_inside_the_workflow_directory() {
    let dir = tempfile::tempdir().unwrap();
    let written = file_node(
        dir.path(),
        "{operation: write, path: 'out/{{.name}}.txt', content: '{{.text}}', create_dirs: true}",
    )
    .await
    .unwrap();
    assert_eq!(at(&written, "size"), json("5"));
    assert!(at(&written, "path").as_str().unwrap().ends_with("out/notes.txt"));
    file_node(
        dir.path(),
        "{operation: append, path: out/notes.txt, content: ' world'}",
    )
    .await
    .unwrap();
    let read = file_node(dir.path(), "{operation: read, path: ./out/notes.txt}")
        .await
        .unwrap();
    assert_eq!(at(&read, "content"), json(r#""hello world""#));
    assert_eq!(at(&read, "exists"), json("true"));
    assert!(at(&read, "modified").as_str().unwrap().ends_with('Z'));
    let exists = file_node(dir.path(), "{operation: exists, path: out}").await.unwrap();
    assert_eq!(at(&exists, "isDir"), json("true"));
    let listed = file_node(dir.path(), "{operation: list, path: out}").await.unwrap();
    assert_eq!(at(&listed, "files.0.name"), json(r#""notes.txt""#));
    assert_eq!(at(&listed, "files.0.isDir"), json("false"));
}

#[tokio::test]
async fn a_missing_file_is_reported_not_failed() {
    let dir = tempfile::tempdir().unwrap();
    let out = file_node(dir.path(), "{path: nothing.txt}").await.unwrap();
    assert_eq!(at(&out, "exists"), json("false"));
}

#[tokio::test]
async fn writing_without_create_dirs_into_a_missing_directory_fails() {
    let dir = tempfile::tempdir().unwrap();
    let err = file_node(dir.path(), "{operation: write, path: a/b.txt, content: x}")
        .await
        .unwrap_err();
    assert!(err.contains("cannot open"), "{err}");
}

#[tokio::test]
async fn dot_dot_cannot_leave_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    for path in ["../escape.txt", "sub/../../escape.txt", "'../{{.name}}.txt'"] {
        let config = format!("{{operation: write, path: {path}, content: x, create_dirs: true}}");
        let err = file_node(dir.path(), &config).await.unwrap_err();
        assert!(
            err.contains("permission denied") && err.contains("outside base_dir"),
            "{path}: {err}"
        );
    }
    assert!(!dir.path().parent().unwrap().join("escape.txt").exists());
    // The host still works afterwards.
    assert!(file_node(dir.path(), "{path: wf.yaml}").await.is_ok());
}

#[tokio::test]
async fn absolute_paths_need_allow_absolute() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("abs.txt");
    std::fs::write(&target, "outside").unwrap();
    let config = format!("{{path: '{}'}}", target.display());
    let err = file_node(dir.path(), &config).await.unwrap_err();
    assert!(err.contains("absolute path"), "{err}");
    let config = format!("{{path: '{}', allow_absolute: true}}", target.display());
    let out = file_node(dir.path(), &config).await.unwrap();
    assert_eq!(at(&out, "content"), json(r#""outside""#));
}

#[tokio::test]
async fn symlinks_cannot_lead_out_of_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("door")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("new.txt"), dir.path().join("dangling")).unwrap();
    let err = file_node(dir.path(), "{path: door/secret.txt}").await.unwrap_err();
    assert!(err.contains("through a symlink"), "{err}");
    let err = file_node(dir.path(), "{operation: write, path: door/new.txt, content: x}")
        .await
        .unwrap_err();
    assert!(err.contains("through a symlink"), "{err}");
    let err = file_node(dir.path(), "{operation: write, path: dangling, content: x}")
        .await
        .unwrap_err();
    assert!(err.contains("through a symlink"), "{err}");
    assert!(!outside.path().join("new.txt").exists());
}

#[tokio::test]
async fn base_dir_confines_to_a_subdirectory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/in.txt"), "data").unwrap();
    let out = file_node(dir.path(), "{base_dir: data, path: in.txt}").await.unwrap();
    assert_eq!(at(&out, "content"), json(r#""data""#));
    let err = file_node(dir.path(), "{base_dir: data, path: ../wf.yaml}")
        .await
        .unwrap_err();
    assert!(err.contains("outside base_dir"), "{err}");
}

#[test]
fn the_sandbox_cannot_be_a_template_and_operations_are_checked() {
    let err = validation_errors(
        "name: t\nstart: f\nnodes:\n- {name: f, type: file, config: {path: x, base_dir: '{{.dir}}'}}\n",
    );
    assert!(err.contains("`base_dir` cannot be a template"), "{err}");
    let err =
        validation_errors("name: t\nstart: f\nnodes:\n- {name: f, type: file, config: {path: x, operation: delete}}\n");
    assert!(err.contains("config at /operation"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_swapped_in_while_files_are_read_never_leads_out() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
    std::fs::create_dir(dir.path().join("real")).unwrap();
    std::fs::write(dir.path().join("real/secret.txt"), "public").unwrap();
    // A thread keeps swapping `door` (in one rename, so it always exists)
    // between a link to a directory inside the sandbox and a link out of it.
    std::os::unix::fs::symlink("real", dir.path().join("door")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, base, out) = (stop.clone(), dir.path().to_path_buf(), outside.path().to_path_buf());
        std::thread::spawn(move || {
            let mut inside = false;
            while !stop.load(Ordering::Relaxed) {
                let fresh = base.join("door.new");
                let _ = std::fs::remove_file(&fresh);
                let target = if inside {
                    Path::new("real").to_path_buf()
                } else {
                    out.clone()
                };
                std::os::unix::fs::symlink(&target, &fresh).unwrap();
                std::fs::rename(&fresh, base.join("door")).unwrap();
                inside = !inside;
            }
        })
    };
    for _ in 0..300 {
        match file_node(dir.path(), "{path: door/secret.txt}").await {
            Ok(out) => assert_eq!(at(&out, "content"), json(r#""public""#)),
            Err(e) => assert!(e.contains("through a symlink") || e.contains("No such file"), "{e}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
}
